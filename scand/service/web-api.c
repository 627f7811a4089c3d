/* The web page's JSON API: /api/scanners, /api/jobs, /api/scan,
 * /api/jobs/ID/retry, /api/jobs/ID/cancel and, with [web] downloads = true,
 * the documents. A request names configured scanners and profiles and jobs
 * by id; a job id is looked up among the spool's jobs, never joined to a
 * path as it was sent. */
#include "scand/service/web-private.h"
#include "scand/base/error.h"
#include "scand/base/log.h"
#include "scand/core/job.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOBS_JSON_MAX_AGE_US (1 * G_USEC_PER_SEC)
#define STRING_MAX 1024
#define DOCUMENT_MAX ((goffset) 2 * 1024 * 1024 * 1024)

gboolean web_json_strings(const char *data, gsize len, const char *const *names, char **values, GError **error) {
  for (guint i = 0; names[i]; i++)
    values[i] = NULL;
  if (len > WEB_BODY_MAX || !g_utf8_validate_len(data, len, NULL)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "the body is not UTF-8 JSON of at most %u bytes", WEB_BODY_MAX);
    return FALSE;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  /* A body of only white space parses, with no root at all. */
  if (!json_parser_load_from_data(parser, data, (gssize) len, NULL) || !json_parser_get_root(parser) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "the body is not a JSON object");
    return FALSE;
  }
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  for (guint i = 0; names[i]; i++) {
    JsonNode *n = json_object_get_member(o, names[i]);
    if (!n || JSON_NODE_HOLDS_NULL(n))
      continue;
    const char *v =
        JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n) : NULL;
    /* json-glib turns an escape such as "\200" into a lone byte: the
     * value is checked again, not trusted because the body was UTF-8. */
    gboolean clean = v && strlen(v) <= STRING_MAX && g_utf8_validate(v, -1, NULL);
    for (const char *c = v; clean && *c; c++)
      clean = (guchar) *c >= 0x20 && *c != 0x7f;
    if (!clean) {
      for (guint k = 0; k < i; k++)
        g_clear_pointer(&values[k], g_free);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                  "\"%s\" is not a string of at most %u characters without control characters", names[i], STRING_MAX);
      return FALSE;
    }
    values[i] = g_strdup(v);
  }
  return TRUE;
}

void web_api_jobs_changed(ScandWeb *web) {
  g_clear_pointer(&web->jobs_json, g_bytes_unref);
}

static void member_string(JsonBuilder *b, const char *name, const char *value) {
  json_builder_set_member_name(b, name);
  if (value)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void member_int(JsonBuilder *b, const char *name, gint64 value) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

/* The configured scanner whose device is uri, else uri itself. */
static const char *scanner_name(ScandConfig *config, GStrv scanners, const char *uri) {
  for (guint i = 0; uri && scanners && scanners[i]; i++)
    if (g_strcmp0(scand_config_get(config, "scanner", scanners[i], "device"), uri) == 0)
      return scanners[i];
  return uri;
}

typedef struct {
  char *name, *error;
  gint64 next;
  guint jobs;
} Down;

static void down_free(Down *d) {
  g_free(d->name);
  g_free(d->error);
  g_free(d);
}

/* One job; destinations waiting to retry are counted in down (name → Down). */
static void job_json(JsonBuilder *b, ScandJob *job, ScandConfig *config, GStrv scanners, GHashTable *down) {
  ScandJobStage stage = scand_job_get_stage(job);
  gboolean retryable = stage == SCAND_JOB_FAILED;
  json_builder_begin_object(b);
  member_string(b, "id", scand_job_get_id(job));
  member_string(b, "stage", scand_job_stage_to_string(stage));
  member_string(b, "scanner", scanner_name(config, scanners, scand_job_get(job, "device")));
  member_string(b, "profile", scand_job_get(job, "profile"));
  member_string(b, "trigger", scand_job_get(job, "trigger"));
  member_string(b, "created", scand_job_get(job, "created"));
  member_string(b, "interrupted", scand_job_get(job, "interrupted"));
  member_int(b, "pages", scand_job_count_pages(job));
  json_builder_set_member_name(b, "destinations");
  json_builder_begin_array(b);
  for (guint d = 0; d < scand_job_get_n_destinations(job); d++) {
    ScandDestState st = scand_job_get_destination_state(job, d);
    const char *name = scand_job_get_destination_name(job, d);
    const char *err = scand_job_get_destination_error(job, d);
    gint64 next = scand_job_get_destination_next_attempt(job, d);
    retryable = retryable || st == SCAND_DEST_RETRY || st == SCAND_DEST_FAILED;
    json_builder_begin_object(b);
    member_string(b, "name", name);
    member_string(b, "state", scand_dest_state_to_string(st));
    member_int(b, "attempts", scand_job_get_destination_attempts(job, d));
    json_builder_set_member_name(b, "next_attempt");
    if (next)
      json_builder_add_int_value(b, next);
    else
      json_builder_add_null_value(b);
    member_string(b, "last_error", err);
    json_builder_end_object(b);
    if (st != SCAND_DEST_RETRY)
      continue;
    Down *dn = g_hash_table_lookup(down, name);
    if (!dn) {
      dn = g_new0(Down, 1);
      dn->name = g_strdup(name);
      g_hash_table_insert(down, dn->name, dn);
    }
    dn->jobs++;
    if (err && !dn->error)
      dn->error = g_strdup(err);
    if (next && (!dn->next || next < dn->next))
      dn->next = next;
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "can_retry");
  json_builder_add_boolean_value(b, retryable);
  json_builder_set_member_name(b, "document");
  json_builder_add_boolean_value(b, stage >= SCAND_JOB_ASSEMBLED &&
                                        g_file_test(scand_job_get_pdf_path(job), G_FILE_TEST_IS_REGULAR));
  json_builder_end_object(b);
}

static void down_json(JsonBuilder *b, GHashTable *down) {
  json_builder_set_member_name(b, "down");
  json_builder_begin_array(b);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, down);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    Down *d = value;
    json_builder_begin_object(b);
    member_string(b, "destination", d->name);
    member_string(b, "last_error", d->error);
    member_int(b, "jobs", d->jobs);
    json_builder_set_member_name(b, "next_attempt");
    if (d->next)
      json_builder_add_int_value(b, d->next);
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static GBytes *jobs_build(ScandWeb *web) {
  g_autoptr(ScandConfig) config = web->host.get_config(web->host.user_data);
  g_auto(GStrv) scanners = scand_config_list_sections(config, "scanner");
  g_autoptr(GHashTable) down = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) down_free);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "jobs");
  json_builder_begin_array(b);
  g_auto(GStrv) ids = scand_spool_list_jobs(web->host.spool, NULL);
  for (guint i = 0; ids && ids[i]; i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandJob) job = scand_job_peek(web->host.spool, ids[i], &error);
    if (job) {
      job_json(b, job, config, scanners, down);
    } else if (!g_error_matches(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND)) {
      json_builder_begin_object(b);
      member_string(b, "id", ids[i]);
      member_string(b, "stage", "unreadable");
      member_string(b, "error", error->message);
      json_builder_end_object(b);
    }
  }
  json_builder_end_array(b);
  down_json(b, down);
  g_auto(GStrv) kept = scand_spool_list_quarantined(web->host.spool);
  json_builder_set_member_name(b, "quarantined");
  json_builder_begin_array(b);
  for (guint i = 0; kept[i]; i++)
    json_builder_add_string_value(b, kept[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "recent");
  json_builder_add_value(b, web_events_recent(web));
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  gsize len = 0;
  char *text = json_generator_to_data(gen, &len);
  return g_bytes_new_take(text, len);
}

static void handle_jobs(ScandWeb *web, SoupServerMessage *msg) {
  gint64 now = g_get_monotonic_time();
  if (!web->jobs_json || now - web->jobs_json_at > JOBS_JSON_MAX_AGE_US) {
    g_clear_pointer(&web->jobs_json, g_bytes_unref);
    web->jobs_json = jobs_build(web);
    web->jobs_json_at = now;
  }
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, NULL, 0);
  soup_message_body_append_bytes(soup_server_message_get_response_body(msg), web->jobs_json);
}

static void handle_scan(ScandWeb *web, SoupServerMessage *msg) {
  g_autoptr(GBytes) bytes = soup_message_body_flatten(soup_server_message_get_request_body(msg));
  const char *const names[] = { "scanner", "profile", NULL };
  char *values[2];
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  if (!web_json_strings(data, len, names, values, &error)) {
    web_reply_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  g_autofree char *scanner = values[0], *profile = values[1];
  g_autoptr(ScandConfig) config = web->host.get_config(web->host.user_data);
  /* Only what is configured: a device URI or a path is never taken from the page. */
  if (!scanner || !scand_config_has_section(config, "scanner", scanner)) {
    web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such scanner");
    return;
  }
  if (profile && *profile && !scand_config_has_section(config, "profile", profile)) {
    web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such profile");
    return;
  }
  g_autofree char *id = web->host.start_scan(web->host.user_data, scanner, profile ? profile : "", &error);
  if (!id) {
    web_reply_error(msg,
                    g_error_matches(error, SCAND_ERROR, SCAND_ERROR_BUSY) ? SOUP_STATUS_CONFLICT
                                                                          : SOUP_STATUS_INTERNAL_SERVER_ERROR,
                    error->message);
    return;
  }
  web_api_jobs_changed(web);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  member_string(b, "id", id);
  json_builder_end_object(b);
  web_reply_json(msg, SOUP_STATUS_ACCEPTED, json_builder_get_root(b));
}

/* Whether id is one of the spool's jobs (compared, never used as a path). */
static gboolean job_listed(ScandWeb *web, const char *id) {
  g_auto(GStrv) ids = scand_spool_list_jobs(web->host.spool, NULL);
  return ids && g_strv_contains((const char *const *) ids, id);
}

/* Serves the regular file at path if it is still the one expected (dev and
 * ino, when given), opened without following a link. */
static void serve_document(SoupServerMessage *msg, const char *path, const char *name, dev_t dev, ino_t ino) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (ino && (st.st_dev != dev || st.st_ino != ino)) ||
      st.st_size > DOCUMENT_MAX) {
    if (fd >= 0)
      close(fd);
    web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "the document is no longer there");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) map = st.st_size ? g_mapped_file_new_from_fd(fd, FALSE, &error) : NULL;
  close(fd);
  if (st.st_size && !map) {
    web_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "the document cannot be read");
    return;
  }
  g_autoptr(GBytes) bytes = map ? g_mapped_file_get_bytes(map) : g_bytes_new(NULL, 0);
  g_autofree char *base = g_path_get_basename(name);
  g_autoptr(GString) safe = g_string_new(NULL);
  for (const char *c = base; *c; c++)
    g_string_append_c(safe, g_ascii_isalnum(*c) || strchr("._-", *c) ? *c : '_');
  g_autofree char *disposition = g_strdup_printf("attachment; filename=\"%s\"", safe->str);
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Content-Disposition", disposition);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response(msg, "application/pdf", SOUP_MEMORY_COPY, NULL, 0);
  soup_message_body_append_bytes(soup_server_message_get_response_body(msg), bytes);
}

static void handle_document(ScandWeb *web, SoupServerMessage *msg, const char *id, const char *index) {
  if (!web->downloads) {
    web_reply_error(msg, SOUP_STATUS_FORBIDDEN, "downloads are off ([web] downloads = true turns them on)");
    return;
  }
  if (index) {
    /* A document delivered to a local folder, by its place in the job's list. */
    char *end = NULL;
    guint64 n = g_ascii_strtoull(index, &end, 10);
    dev_t dev = 0;
    ino_t ino = 0;
    g_autofree char *path =
        *index && end && !*end && n < 64 ? web_events_recent_file(web, id, (guint) n, &dev, &ino) : NULL;
    if (!path) {
      web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such document");
      return;
    }
    serve_document(msg, path, path, dev, ino);
    return;
  }
  g_autoptr(ScandJob) job = job_listed(web, id) ? scand_job_peek(web->host.spool, id, NULL) : NULL;
  if (!job || scand_job_get_stage(job) < SCAND_JOB_ASSEMBLED) {
    web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such document");
    return;
  }
  g_autofree char *name = g_strdup_printf("%s.pdf", id);
  serve_document(msg, scand_job_get_pdf_path(job), name, 0, 0);
}

/* /api/jobs/ID/ACTION[/N] */
static void handle_job(ScandWeb *web, SoupServerMessage *msg, const char *rest, gboolean post) {
  g_auto(GStrv) parts = g_strsplit(rest, "/", 4);
  guint n = g_strv_length(parts);
  if (n < 2 || n > 3 || !*parts[0]) {
    web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
    return;
  }
  const char *id = parts[0], *action = parts[1];
  if (!post && strcmp(action, "document") == 0) {
    handle_document(web, msg, id, n == 3 ? parts[2] : NULL);
    return;
  }
  gboolean retry = strcmp(action, "retry") == 0, cancel = strcmp(action, "cancel") == 0;
  if (n != 2 || !(retry || cancel)) {
    web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
    return;
  }
  if (!post) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "POST");
    web_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    return;
  }
  if (!job_listed(web, id)) {
    web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such job");
    return;
  }
  web_api_jobs_changed(web);
  if (retry) {
    web->host.retry_job(web->host.user_data, id);
    scand_log("web: retry %s", id);
    web_reply_json(msg, SOUP_STATUS_ACCEPTED, web_empty_object());
    return;
  }
  g_autoptr(GError) error = NULL;
  if (!web->host.cancel_job(web->host.user_data, id, &error)) {
    web_reply_error(
        msg, g_error_matches(error, SCAND_ERROR, SCAND_ERROR_BUSY) ? SOUP_STATUS_CONFLICT : SOUP_STATUS_NOT_FOUND,
        error->message);
    return;
  }
  scand_log("web: cancelled %s", id);
  web_reply_json(msg, SOUP_STATUS_OK, web_empty_object());
}

void web_api_handle(ScandWeb *web, SoupServerMessage *msg, const char *path) {
  gboolean post = soup_server_message_get_method(msg) == SOUP_METHOD_POST;
  if (strcmp(path, "/api/scanners") == 0 && !post)
    web_reply_json(msg, SOUP_STATUS_OK, web_scanners_list(web));
  else if (strcmp(path, "/api/jobs") == 0 && !post)
    handle_jobs(web, msg);
  else if (strcmp(path, "/api/scan") == 0 && post)
    handle_scan(web, msg);
  else if (g_str_has_prefix(path, "/api/jobs/"))
    handle_job(web, msg, path + strlen("/api/jobs/"), post);
  else
    web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
}
