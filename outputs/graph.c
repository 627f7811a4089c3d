/* Microsoft Graph outputs: graph-mail (send the PDF from a mailbox) and
 * m365-drive (upload it to OneDrive / SharePoint).
 *
 * Both are restartable at any instant. graph-mail records the draft id, the
 * upload session and its offset, and whether /send was posted; a later attempt
 * asks the server where it stands (nextExpectedRanges, does the draft still
 * exist) instead of starting over, so a mail is never sent twice. The small
 * path (sendMail with the attachment inline) is one request: when an attempt
 * died while that request was in flight, the next attempt cannot know whether
 * it went out and stops with a message instead of risking a second copy.
 * m365-drive keeps the upload session URL and offset the same way and checks
 * for the finished item before uploading again.
 *
 * Throttling (429, 503, 504) with a short Retry-After is waited out in place;
 * a longer one is handed to the queue with scand_delivery_set_retry_after(). */
#include "outputs/graph-private.h"
#include "outputs/m365-auth.h"
#include "outputs/mail.h"
#include "outputs/output-private.h"
#include "scand/base/error.h"
#include "scand/base/fault.h"
#include "scand/base/http.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#define GRAPH_MAX_INLINE_WAIT 10 /* seconds of Retry-After waited in place */
#define GRAPH_MAX_WAITS 3
#define GRAPH_DEFAULT_MAX_SIZE (35 * 1024 * 1024)
#define GRAPH_SIMPLE_UPLOAD_MAX (4 * 1024 * 1024)

#define AUTH_KEYS                                                                                                      \
  { "authority", SCAND_KEY_URL }, { "graph-url", SCAND_KEY_URL }, { "ca-file", SCAND_KEY_FILE },                       \
      { "tenant", SCAND_KEY_STRING }, { "client-id", SCAND_KEY_STRING },                                               \
      { "client-secret-file", SCAND_KEY_SECRET_FILE }, { "client-certificate", SCAND_KEY_FILE }, {                     \
    "client-key", SCAND_KEY_SECRET_FILE                                                                                \
  }

static const ScandConfigKey mail_keys[] = {
  AUTH_KEYS,
  { "sender", SCAND_KEY_STRING },
  { "to", SCAND_KEY_LIST },
  { "envelope-to", SCAND_KEY_BOOL }, /* a job from mail goes to its envelope's recipients */
  { "subject", SCAND_KEY_STRING },
  { "body", SCAND_KEY_STRING },
  { "max-size", SCAND_KEY_SIZE },
  { NULL },
};

static const ScandConfigKey drive_keys[] = {
  AUTH_KEYS,
  { "drive-id", SCAND_KEY_STRING },
  { "site-id", SCAND_KEY_STRING },
  { "user", SCAND_KEY_STRING },
  { "folder", SCAND_KEY_STRING },
  { "conflict", SCAND_KEY_ENUM, "fail|rename" },
  { NULL },
};

/* ---- pure parts ---------------------------------------------------------- */

gsize scand_graph_chunk_length(guint64 offset, guint64 total) {
  return offset >= total ? 0 : (gsize) MIN((guint64) SCAND_GRAPH_CHUNK, total - offset);
}

char *scand_graph_content_range(guint64 offset, gsize length, guint64 total) {
  return g_strdup_printf("bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, offset,
                         offset + length - 1, total);
}

gboolean scand_graph_parse_next_offset(const char *json, gsize len, guint64 *offset, GError **error) {
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, json, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "upload session: reply is not a JSON object");
    return FALSE;
  }
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  JsonNode *n = json_object_get_member(o, "nextExpectedRanges");
  if (!n || !JSON_NODE_HOLDS_ARRAY(n) || json_array_get_length(json_node_get_array(n)) == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "upload session: no nextExpectedRanges");
    return FALSE;
  }
  JsonNode *first = json_array_get_element(json_node_get_array(n), 0);
  const char *range = JSON_NODE_HOLDS_VALUE(first) ? json_node_get_string(first) : NULL;
  char *end = NULL;
  guint64 v = range && g_ascii_isdigit(*range) ? g_ascii_strtoull(range, &end, 10) : 0;
  if (!end || *end != '-') {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "upload session: bad range \"%s\"", range ? range : "");
    return FALSE;
  }
  *offset = v;
  return TRUE;
}

/* A recipient: {emailAddress: {name?, address}}. */
static void add_recipient(JsonBuilder *b, const char *address, const char *name) {
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "emailAddress");
  json_builder_begin_object(b);
  if (name) {
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, name);
  }
  json_builder_set_member_name(b, "address");
  json_builder_add_string_value(b, address);
  json_builder_end_object(b);
  json_builder_end_object(b);
}

char *scand_graph_message_json(const char *subject, const char *body, const char *const *to, const char *reply_to,
                               const char *reply_to_name, const char *attachment_name, const guint8 *data, gsize len,
                               gboolean wrap, gsize *out_len) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  if (wrap) {
    json_builder_set_member_name(b, "message");
    json_builder_begin_object(b);
  }
  json_builder_set_member_name(b, "subject");
  json_builder_add_string_value(b, subject);
  json_builder_set_member_name(b, "body");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "contentType");
  json_builder_add_string_value(b, "Text");
  json_builder_set_member_name(b, "content");
  json_builder_add_string_value(b, body);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "toRecipients");
  json_builder_begin_array(b);
  for (guint i = 0; to && to[i]; i++)
    add_recipient(b, to[i], NULL);
  json_builder_end_array(b);
  if (reply_to) {
    json_builder_set_member_name(b, "replyTo");
    json_builder_begin_array(b);
    add_recipient(b, reply_to, reply_to_name);
    json_builder_end_array(b);
  }
  if (attachment_name) {
    g_autofree char *b64 = g_base64_encode(data, len);
    json_builder_set_member_name(b, "attachments");
    json_builder_begin_array(b);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "@odata.type");
    json_builder_add_string_value(b, "#microsoft.graph.fileAttachment");
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, attachment_name);
    json_builder_set_member_name(b, "contentType");
    json_builder_add_string_value(b, "application/pdf");
    json_builder_set_member_name(b, "contentBytes");
    json_builder_add_string_value(b, b64);
    json_builder_end_object(b);
    json_builder_end_array(b);
  }
  if (wrap) {
    json_builder_end_object(b);
    json_builder_set_member_name(b, "saveToSentItems");
    json_builder_add_boolean_value(b, TRUE);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  return json_generator_to_data(gen, out_len);
}

char *scand_graph_escape_path(const char *path) {
  g_auto(GStrv) parts = g_strsplit(path, "/", -1);
  g_autoptr(GString) s = g_string_new(NULL);
  for (guint i = 0; parts[i]; i++) {
    if (!*parts[i])
      continue;
    g_autofree char *e = g_uri_escape_string(parts[i], NULL, FALSE);
    g_string_append_printf(s, "%s%s", s->len ? "/" : "", e);
  }
  return g_strdup(s->str);
}

/* ---- requests -------------------------------------------------------------- */

typedef struct {
  ScandDelivery *d;
  char *out;   /* output name (copied) */
  char *graph; /* base URL without trailing '/' */
  ScandM365Credentials *creds;
  ScandHttp *http; /* one connection for the requests of this delivery */
  char *token;
} Graph;

static void graph_clear(Graph *g) {
  g_free(g->out);
  g_free(g->graph);
  scand_m365_credentials_free(g->creds);
  scand_http_free(g->http);
  if (g->token)
    memset(g->token, 0, strlen(g->token));
  g_free(g->token);
}

static gboolean graph_init(Graph *g, ScandDelivery *d, GError **error) {
  memset(g, 0, sizeof *g);
  g->d = d;
  g->out = g_strdup(scand_delivery_get_output_name(d));
  g_autofree char *base = g_strdup(scand_delivery_get_config(d, "graph-url"));
  g->graph = g_strdup(base ? base : SCAND_M365_GRAPH);
  gsize n = strlen(g->graph);
  while (n > 0 && g->graph[n - 1] == '/')
    g->graph[--n] = '\0';
  g->creds = scand_m365_credentials_load(d, SCAND_M365_SCOPE_GRAPH, error);
  if (!g->creds)
    return FALSE;
  g->http = scand_m365_client_new(g->creds->ca_file, error);
  return g->http != NULL;
}

/* Worth another attempt: throttling, server trouble, a broken connection,
 * a transfer cut because scand is stopping. */
static gboolean graph_is_temporary(const GError *e) {
  return e->domain == SCAND_ERROR &&
         (e->code == SCAND_ERROR_RETRY || e->code == SCAND_ERROR_IO || e->code == SCAND_ERROR_CANCELLED);
}

/* The delivery result an error of a request calls for. */
static ScandDeliveryResult graph_verdict(GError **error) {
  return graph_is_temporary(*error) ? SCAND_DELIVERY_RETRY : SCAND_DELIVERY_FAILED;
}

/* Maps an error to the delivery result and prefixes the output's name. */
static ScandDeliveryResult graph_fail(Graph *g, GError *local, GError **error) {
  gboolean retry = graph_is_temporary(local);
  g_set_error(error, SCAND_ERROR, local->code, "output %s: %s", g->out, local->message);
  return retry ? SCAND_DELIVERY_RETRY : SCAND_DELIVERY_FAILED;
}

/* One request with throttling and token renewal handled: url is absolute;
 * with_auth FALSE for pre-authenticated upload URLs. Returns the last reply
 * (any status) or NULL on a transport error. */
static ScandHttpReply *graph_send(Graph *g, const char *method, const char *url, gboolean with_auth,
                                  const char *const *headers, const void *body, gsize len, GError **error) {
  gboolean renewed = FALSE;
  for (guint waits = 0;;) {
    if (with_auth && !g->token) {
      gint64 retry_after = 0;
      g->token = scand_m365_token_get(g->creds, &retry_after, error);
      if (!g->token) {
        if (retry_after > 0)
          scand_delivery_set_retry_after(g->d, retry_after);
        return NULL;
      }
    }
    g_autoptr(ScandHttpReply) reply =
        scand_m365_send(g->http, method, url, with_auth ? g->token : NULL, headers, body, len, error);
    if (!reply)
      return NULL;
    if (reply->status == 401 && with_auth && !renewed) {
      /* A cached token may have been revoked: one fresh try. */
      renewed = TRUE;
      scand_m365_token_cache_clear();
      g_clear_pointer(&g->token, g_free);
      continue;
    }
    gboolean throttled = reply->status == 429 || reply->status == 503 || reply->status == 504;
    if (throttled && reply->retry_after > 0 && reply->retry_after <= GRAPH_MAX_INLINE_WAIT && waits < GRAPH_MAX_WAITS) {
      waits++;
      /* Waited out in place, unless scand is stopping. */
      if (!scand_http_sleep(g->http, (guint) reply->retry_after * 1000, error))
        return NULL;
      continue;
    }
    if (throttled && reply->retry_after > 0)
      scand_delivery_set_retry_after(g->d, reply->retry_after);
    return g_steal_pointer(&reply);
  }
}

/* graph_send + "2xx or an error saying what failed". */
static ScandHttpReply *graph_call(Graph *g, const char *method, const char *url, gboolean with_auth,
                                  const char *const *headers, const void *body, gsize len, const char *what,
                                  GError **error) {
  ScandHttpReply *reply = graph_send(g, method, url, with_auth, headers, body, len, error);
  if (reply && (reply->status < 200 || reply->status >= 300)) {
    scand_m365_reply_set_error(reply, what, error);
    scand_http_reply_free(reply);
    return NULL;
  }
  return reply;
}

static const char *const json_headers[] = { "Content-Type: application/json", "Accept: application/json", NULL };

static JsonObject *reply_object(ScandHttpReply *reply, JsonParser *parser) {
  if (!reply->body->len ||
      !json_parser_load_from_data(parser, (const char *) reply->body->data, reply->body->len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    return NULL;
  return json_node_get_object(json_parser_get_root(parser));
}

/* The JSON text of the object built in b. Newly allocated. */
static char *builder_json(JsonBuilder *b, gsize *len) {
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  return json_generator_to_data(gen, len);
}

static gboolean set_state(Graph *g, const char *key, const char *value, GError **error) {
  return scand_delivery_set_state(g->d, key, value, error);
}

static gboolean set_state_u64(Graph *g, const char *key, guint64 value, GError **error) {
  g_autofree char *v = g_strdup_printf("%" G_GUINT64_FORMAT, value);
  return scand_delivery_set_state(g->d, key, v, error);
}

static guint64 state_u64(Graph *g, const char *key) {
  const char *v = scand_delivery_get_state(g->d, key);
  return v ? g_ascii_strtoull(v, NULL, 10) : 0;
}

/* Reads length bytes at offset of fd. */
static guint8 *read_at(int fd, guint64 offset, gsize length, const char *file, GError **error) {
  g_autofree guint8 *buf = g_malloc(MAX(length, 1));
  gsize done = 0;
  while (done < length) {
    ssize_t n = pread(fd, buf + done, length - done, (off_t) (offset + done));
    if (n <= 0) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "cannot read %s: %s", file,
                  n < 0 ? g_strerror(errno) : "short file");
      return NULL;
    }
    done += (gsize) n;
  }
  return g_steal_pointer(&buf);
}

/* The uploadUrl of a createUploadSession reply, recorded (with offset 0) so
 * that a retry after a crash resumes this session. Newly allocated. */
static char *session_start(Graph *g, ScandHttpReply *reply, const char *what, GError **error) {
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *o = reply_object(reply, parser);
  const char *u = o ? json_object_get_string_member_with_default(o, "uploadUrl", NULL) : NULL;
  if (!u) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: reply has no uploadUrl", what);
    return NULL;
  }
  if (!set_state(g, "upload-offset", "0", error) || !set_state(g, "upload-url", u, error))
    return NULL;
  return g_strdup(u);
}

/* Uploads file from the state's upload-offset to its end through the
 * session's upload URL (no Authorization header), recording the offset after
 * each fragment. On success the final reply is returned. */
static ScandHttpReply *upload_fragments(Graph *g, const char *upload_url, const char *file, guint64 total,
                                        GError **error) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "cannot open %s: %s", file, g_strerror(errno));
    return NULL;
  }
  guint64 offset = state_u64(g, "upload-offset");
  ScandHttpReply *last = NULL;
  while (offset < total) {
    gsize n = scand_graph_chunk_length(offset, total);
    g_autofree guint8 *buf = read_at(fd, offset, n, file, error);
    if (!buf)
      break;
    g_autofree char *range = scand_graph_content_range(offset, n, total);
    g_autofree char *h_range = g_strdup_printf("Content-Range: %s", range);
    const char *headers[] = { h_range, "Content-Type: application/octet-stream", NULL };
    g_autoptr(ScandHttpReply) reply = graph_send(g, "PUT", upload_url, FALSE, headers, buf, n, error);
    if (!reply)
      break;
    if (reply->status == 416) {
      /* The server has a different idea of the offset (an earlier fragment
       * landed without our record of it): ask it. */
      g_autoptr(ScandHttpReply) status = graph_call(g, "GET", upload_url, FALSE, NULL, NULL, 0, "upload status", error);
      if (!status ||
          !scand_graph_parse_next_offset((const char *) status->body->data, status->body->len, &offset, error))
        break;
      if (!set_state_u64(g, "upload-offset", offset, error))
        break;
      continue;
    }
    if (reply->status < 200 || reply->status >= 300) {
      scand_m365_reply_set_error(reply, "upload", error);
      break;
    }
    offset += n;
    scand_fault_point("m365-upload-chunk");
    if (!set_state_u64(g, "upload-offset", offset, error))
      break;
    if (offset >= total)
      last = g_steal_pointer(&reply);
  }
  close(fd);
  return last;
}

/* Where an interrupted session stands: TRUE with offset set, or FALSE with
 * *gone TRUE when the session no longer exists (finished or expired). */
static gboolean session_resume(Graph *g, const char *upload_url, guint64 *offset, gboolean *gone, GError **error) {
  *gone = FALSE;
  g_autoptr(ScandHttpReply) reply = graph_send(g, "GET", upload_url, FALSE, NULL, NULL, 0, error);
  if (!reply)
    return FALSE;
  if (reply->status == 404) {
    *gone = TRUE;
    return FALSE;
  }
  if (reply->status != 200) {
    scand_m365_reply_set_error(reply, "upload session status", error);
    return FALSE;
  }
  return scand_graph_parse_next_offset((const char *) reply->body->data, reply->body->len, offset, error) &&
         set_state_u64(g, "upload-offset", *offset, error);
}

/* ---- graph-mail ------------------------------------------------------------ */

static void mail_check(ScandConfig *config, const char *name, GPtrArray *problems) {
  scand_m365_check_credentials(config, name, problems);
  scand_mail_check(config, name, "sender", problems);
}

/* The small path: sendMail with the attachment inline, one request. FALSE
 * when the message would be too large for it (then the draft path goes on). */
static gboolean mail_send_inline(Graph *g, ScandMail *m, const char *user, ScandDeliveryResult *result,
                                 GError **error) {
  if (scand_delivery_get_state(g->d, "sendmail")) {
    /* An earlier attempt died with sendMail in flight. Clearing the mark
     * lets `scand retry` send it after a person has looked. */
    set_state(g, "sendmail", NULL, NULL);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED,
                "an earlier attempt was interrupted while sendMail was in flight: the mail may have been sent; "
                "check %s's Sent Items, and `scand retry` the job to send it (again)",
                m->from);
    *result = SCAND_DELIVERY_FAILED;
    return TRUE;
  }
  g_autofree guint8 *data = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;
  if (!g_file_get_contents(m->file, (char **) &data, &len, &local)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s", local->message);
    *result = SCAND_DELIVERY_RETRY;
    return TRUE;
  }
  gsize json_len = 0;
  g_autofree char *json = scand_graph_message_json(m->subject, m->body, (const char *const *) m->to, m->reply_to,
                                                   m->reply_to_name, m->attachment_name, data, len, TRUE, &json_len);
  if (json_len >= SCAND_GRAPH_REQUEST_MAX)
    return FALSE;
  *result = SCAND_DELIVERY_RETRY;
  if (!set_state(g, "sendmail", "posting", error))
    return TRUE;
  g_autofree char *url = g_strdup_printf("%s/users/%s/sendMail", g->graph, user);
  g_autoptr(ScandHttpReply) reply = graph_send(g, "POST", url, TRUE, json_headers, json, json_len, &local);
  if (!reply) {
    /* No reply: when the request never left (no connection, no token) it is
     * safe to try again; the mark stays otherwise. */
    if (local->code == SCAND_ERROR_RETRY || local->code == SCAND_ERROR_INVAL || local->code == SCAND_ERROR_DENIED)
      set_state(g, "sendmail", NULL, NULL);
    g_propagate_error(error, g_steal_pointer(&local));
    *result = graph_verdict(error);
    return TRUE;
  }
  if (reply->status != 202 && reply->status != 200) {
    set_state(g, "sendmail", NULL, NULL);
    scand_m365_reply_set_error(reply, "sendMail", error);
    *result = graph_verdict(error);
    return TRUE;
  }
  scand_fault_point("graph-mail-sent");
  if (set_state(g, "sent", "sendMail", error)) {
    set_state(g, "sendmail", NULL, NULL);
    *result = SCAND_DELIVERY_DONE;
  }
  return TRUE;
}

/* /send was posted by an earlier attempt: a draft that is gone was sent.
 * TRUE with *result set when that settles the delivery. */
static gboolean mail_draft_was_sent(Graph *g, const char *user, const char *draft_id, ScandDeliveryResult *result,
                                    GError **error) {
  g_autofree char *id = g_uri_escape_string(draft_id, NULL, FALSE);
  g_autofree char *url = g_strdup_printf("%s/users/%s/messages/%s", g->graph, user, id);
  g_autoptr(ScandHttpReply) reply = graph_send(g, "GET", url, TRUE, json_headers, NULL, 0, error);
  if (!reply) {
    *result = graph_verdict(error);
    return TRUE;
  }
  if (reply->status == 404) {
    *result = set_state(g, "sent", "draft", error) ? SCAND_DELIVERY_DONE : SCAND_DELIVERY_RETRY;
    return TRUE;
  }
  if (reply->status != 200) {
    scand_m365_reply_set_error(reply, "draft status", error);
    *result = graph_verdict(error);
    return TRUE;
  }
  return FALSE;
}

/* Creates the draft (without the attachment) and records its id. Newly allocated. */
static char *mail_create_draft(Graph *g, ScandMail *m, const char *user, ScandDeliveryResult *result, GError **error) {
  gsize json_len = 0;
  g_autofree char *json = scand_graph_message_json(m->subject, m->body, (const char *const *) m->to, m->reply_to,
                                                   m->reply_to_name, NULL, NULL, 0, FALSE, &json_len);
  g_autofree char *url = g_strdup_printf("%s/users/%s/messages", g->graph, user);
  g_autoptr(ScandHttpReply) reply =
      graph_call(g, "POST", url, TRUE, json_headers, json, json_len, "create draft", error);
  if (!reply) {
    *result = graph_verdict(error);
    return NULL;
  }
  *result = SCAND_DELIVERY_RETRY;
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *o = reply_object(reply, parser);
  const char *id = o ? json_object_get_string_member_with_default(o, "id", NULL) : NULL;
  if (!id) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "create draft: reply has no id");
    return NULL;
  }
  if (!set_state(g, "draft-id", id, error) || !set_state(g, "upload-url", NULL, error) ||
      !set_state(g, "attached", NULL, error) || !set_state(g, "upload-offset", "0", error))
    return NULL;
  return g_strdup(id);
}

/* The attachment's upload session: the recorded one resumed, or a new one.
 * NULL with *result set otherwise. Newly allocated. */
static char *mail_attach_session(Graph *g, ScandMail *m, const char *user, const char *id, ScandDeliveryResult *result,
                                 GError **error) {
  g_autofree char *upload_url = g_strdup(scand_delivery_get_state(g->d, "upload-url"));
  if (upload_url) {
    guint64 offset = 0;
    gboolean gone = FALSE;
    if (session_resume(g, upload_url, &offset, &gone, error))
      return g_steal_pointer(&upload_url);
    if (!gone) {
      *result = graph_verdict(error);
      return NULL;
    }
    /* Finished or expired: which one cannot be told apart here, so the draft
     * is dropped and the next attempt starts afresh (nothing has been sent). */
    g_clear_error(error);
    g_autofree char *url = g_strdup_printf("%s/users/%s/messages/%s", g->graph, user, id);
    g_autoptr(ScandHttpReply) del = graph_send(g, "DELETE", url, TRUE, NULL, NULL, 0, NULL);
    set_state(g, "draft-id", NULL, NULL);
    set_state(g, "upload-url", NULL, NULL);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_RETRY, "the attachment upload session is gone; starting over");
    *result = SCAND_DELIVERY_RETRY;
    return NULL;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "AttachmentItem");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "attachmentType");
  json_builder_add_string_value(b, "file");
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, m->attachment_name);
  json_builder_set_member_name(b, "size");
  json_builder_add_int_value(b, (gint64) m->size);
  json_builder_set_member_name(b, "contentType");
  json_builder_add_string_value(b, "application/pdf");
  json_builder_end_object(b);
  json_builder_end_object(b);
  gsize json_len = 0;
  g_autofree char *json = builder_json(b, &json_len);
  g_autofree char *url = g_strdup_printf("%s/users/%s/messages/%s/attachments/createUploadSession", g->graph, user, id);
  const char *what = "attachment upload session";
  g_autoptr(ScandHttpReply) reply = graph_call(g, "POST", url, TRUE, json_headers, json, json_len, what, error);
  if (!reply) {
    *result = graph_verdict(error);
    return NULL;
  }
  *result = SCAND_DELIVERY_RETRY;
  return session_start(g, reply, what, error);
}

/* The large path: draft → upload session → fragments → send. */
static ScandDeliveryResult mail_send_draft(Graph *g, ScandMail *m, const char *user, GError **error) {
  ScandDeliveryResult result = SCAND_DELIVERY_RETRY;
  g_autofree char *draft_id = g_strdup(scand_delivery_get_state(g->d, "draft-id"));
  if (draft_id && scand_delivery_get_state(g->d, "send") && mail_draft_was_sent(g, user, draft_id, &result, error))
    return result;
  if (!draft_id && !(draft_id = mail_create_draft(g, m, user, &result, error)))
    return result;
  g_autofree char *id = g_uri_escape_string(draft_id, NULL, FALSE);
  if (!scand_delivery_get_state(g->d, "attached")) {
    g_autofree char *upload_url = mail_attach_session(g, m, user, id, &result, error);
    if (!upload_url)
      return result;
    g_autoptr(ScandHttpReply) done = upload_fragments(g, upload_url, m->file, m->size, error);
    if (!done)
      return graph_verdict(error);
    if (!set_state(g, "attached", "1", error) || !set_state(g, "upload-url", NULL, error))
      return SCAND_DELIVERY_RETRY;
  }
  if (!set_state(g, "send", "posting", error))
    return SCAND_DELIVERY_RETRY;
  g_autofree char *url = g_strdup_printf("%s/users/%s/messages/%s/send", g->graph, user, id);
  const char *send_headers[] = { "Accept: application/json", NULL };
  g_autoptr(ScandHttpReply) reply = graph_call(g, "POST", url, TRUE, send_headers, "", 0, "send", error);
  if (!reply)
    return graph_verdict(error);
  scand_fault_point("graph-mail-sent");
  if (!set_state(g, "sent", "draft", error))
    return SCAND_DELIVERY_RETRY;
  return SCAND_DELIVERY_DONE;
}

static ScandDeliveryResult mail_deliver_inner(Graph *g, GError **error) {
  if (scand_delivery_get_state(g->d, "sent"))
    return SCAND_DELIVERY_DONE;
  g_autoptr(ScandMail) m = scand_mail_load(g->d, "sender", GRAPH_DEFAULT_MAX_SIZE, error);
  if (!m)
    return SCAND_DELIVERY_FAILED;
  if (m->max_size > 0 && (gint64) m->size > m->max_size) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED,
                "the PDF is %" G_GUINT64_FORMAT " bytes, more than the mail limit of %" G_GINT64_FORMAT
                " bytes (max-size); deliver large scans to a share or an m365-drive output instead",
                m->size, m->max_size);
    return SCAND_DELIVERY_FAILED;
  }
  g_autofree char *user = g_uri_escape_string(m->from, "@", FALSE);
  ScandDeliveryResult result;
  if (m->size < SCAND_GRAPH_INLINE_MAX && !scand_delivery_get_state(g->d, "draft-id") &&
      mail_send_inline(g, m, user, &result, error))
    return result;
  return mail_send_draft(g, m, user, error);
}

static ScandDeliveryResult mail_deliver(ScandDelivery *d, GError **error) {
  Graph g;
  g_autoptr(GError) local = NULL;
  ScandDeliveryResult r;
  if (!graph_init(&g, d, &local)) {
    g.out = g.out ? g.out : g_strdup(scand_delivery_get_output_name(d));
    r = SCAND_DELIVERY_FAILED;
    graph_fail(&g, local, error);
  } else {
    r = mail_deliver_inner(&g, &local);
    if (r != SCAND_DELIVERY_DONE)
      graph_fail(&g, local, error); /* the inner code decided retry vs failed; its verdict stands */
  }
  graph_clear(&g);
  return r;
}

/* ---- m365-drive ------------------------------------------------------------ */

static void drive_check(ScandConfig *config, const char *name, GPtrArray *problems) {
  scand_m365_check_credentials(config, name, problems);
  guint n = !!scand_config_get(config, "output", name, "drive-id") +
            !!scand_config_get(config, "output", name, "site-id") + !!scand_config_get(config, "output", name, "user");
  if (n != 1)
    scand_config_add_problem(problems, config, "output", name, NULL, "set exactly one of drive-id, site-id, user");
  const char *folder = scand_config_get(config, "output", name, "folder");
  if (folder && strstr(folder, ".."))
    scand_config_add_problem(problems, config, "output", name, "folder", "must not contain \"..\"");
}

/* "drives/ID" | "sites/ID/drive" | "users/UPN/drive"; newly allocated. */
static char *drive_prefix(ScandDelivery *d) {
  const char *v;
  if ((v = scand_delivery_get_config(d, "drive-id"))) {
    g_autofree char *e = g_uri_escape_string(v, "!", FALSE);
    return g_strdup_printf("drives/%s", e);
  }
  if ((v = scand_delivery_get_config(d, "site-id"))) {
    g_autofree char *e = g_uri_escape_string(v, ",", FALSE);
    return g_strdup_printf("sites/%s/drive", e);
  }
  if ((v = scand_delivery_get_config(d, "user"))) {
    g_autofree char *e = g_uri_escape_string(v, "@", FALSE);
    return g_strdup_printf("users/%s/drive", e);
  }
  return NULL;
}

/* Where the file goes in the drive. */
typedef struct {
  char *prefix;   /* drive_prefix() */
  char *rel;      /* "folder/name.pdf", for messages */
  char *path;     /* rel, percent-encoded */
  char *conflict; /* fail | rename */
  const char *file;
  guint64 size;
} DriveTarget;

static void drive_target_clear(DriveTarget *t) {
  g_free(t->prefix);
  g_free(t->rel);
  g_free(t->path);
  g_free(t->conflict);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DriveTarget, drive_target_clear)

static gboolean drive_target_load(Graph *g, DriveTarget *t, GError **error) {
  ScandDelivery *d = g->d;
  memset(t, 0, sizeof *t);
  t->prefix = drive_prefix(d);
  if (!t->prefix) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "set one of drive-id, site-id, user");
    return FALSE;
  }
  g_autofree char *folder = g_strdup(scand_delivery_get_config(d, "folder"));
  t->conflict = g_strdup(scand_delivery_get_config(d, "conflict"));
  if (!t->conflict)
    t->conflict = g_strdup("rename");
  t->rel = g_strdup_printf("%s/%s", folder ? folder : "", scand_delivery_get_name(d));
  t->path = scand_graph_escape_path(t->rel);
  t->file = scand_delivery_get_file(d);
  struct stat st;
  if (stat(t->file, &st) < 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "cannot read %s: %s", t->file, g_strerror(errno));
    return FALSE;
  }
  t->size = (guint64) st.st_size;
  return TRUE;
}

/* Records the finished item from a driveItem reply. */
static ScandDeliveryResult drive_finish(Graph *g, ScandHttpReply *reply, GError **error) {
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *o = reply_object(reply, parser);
  const char *name = o ? json_object_get_string_member_with_default(o, "name", "?") : "?";
  scand_fault_point("m365-drive-uploaded");
  if (!set_state(g, "item", name, error))
    return SCAND_DELIVERY_RETRY;
  return SCAND_DELIVERY_DONE;
}

/* Whether a drive reply is a success (200/201); if not, *result says retry or
 * failed and error why ("exists already" for a conflict with conflict = fail). */
static gboolean drive_reply_ok(ScandHttpReply *reply, const char *what, const char *rel, ScandDeliveryResult *result,
                               GError **error) {
  if (reply->status == 200 || reply->status == 201)
    return TRUE;
  scand_m365_reply_set_error(reply, what, error);
  if (reply->status == 409) {
    g_prefix_error(error, "%s exists already (conflict = fail): ", rel);
    *result = SCAND_DELIVERY_FAILED;
  } else {
    *result = graph_verdict(error);
  }
  return FALSE;
}

/* The recorded upload session, if it still exists. FALSE with *result set when
 * the delivery cannot go on. *upload_url is NULL when there is none (left). */
static gboolean drive_resume(Graph *g, char **upload_url, ScandDeliveryResult *result, GError **error) {
  *upload_url = g_strdup(scand_delivery_get_state(g->d, "upload-url"));
  if (!*upload_url)
    return TRUE;
  guint64 offset = 0;
  gboolean gone = FALSE;
  g_autoptr(GError) local = NULL;
  if (session_resume(g, *upload_url, &offset, &gone, &local))
    return TRUE;
  if (!gone) {
    g_propagate_error(error, g_steal_pointer(&local));
    *result = graph_verdict(error);
    return FALSE;
  }
  /* Finished (the item check finds it) or expired (start over). */
  g_clear_pointer(upload_url, g_free);
  *result = SCAND_DELIVERY_RETRY;
  return set_state(g, "upload-url", NULL, error);
}

/* An earlier attempt may have finished the upload without recording it: an
 * item of the same size under the target name is ours. TRUE with *result set
 * when that settles it. */
static gboolean drive_found_finished(Graph *g, DriveTarget *t, ScandDeliveryResult *result, GError **error) {
  g_autofree char *url = g_strdup_printf("%s/%s/root:/%s", g->graph, t->prefix, t->path);
  g_autoptr(ScandHttpReply) reply = graph_send(g, "GET", url, TRUE, json_headers, NULL, 0, error);
  if (!reply) {
    *result = graph_verdict(error);
    return TRUE;
  }
  if (reply->status != 200)
    return FALSE;
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *o = reply_object(reply, parser);
  if (!o || (guint64) json_object_get_int_member_with_default(o, "size", -1) != t->size)
    return FALSE;
  *result = drive_finish(g, reply, error);
  return TRUE;
}

/* A small file in one PUT. */
static ScandDeliveryResult drive_put(Graph *g, DriveTarget *t, GError **error) {
  g_autofree guint8 *data = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;
  if (!g_file_get_contents(t->file, (char **) &data, &len, &local)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s", local->message);
    return SCAND_DELIVERY_RETRY;
  }
  g_autofree char *url = g_strdup_printf("%s/%s/root:/%s:/content?@microsoft.graph.conflictBehavior=%s", g->graph,
                                         t->prefix, t->path, t->conflict);
  const char *headers[] = { "Content-Type: application/pdf", "Accept: application/json", NULL };
  g_autoptr(ScandHttpReply) reply = graph_send(g, "PUT", url, TRUE, headers, data, len, error);
  if (!reply)
    return graph_verdict(error);
  ScandDeliveryResult refused;
  if (!drive_reply_ok(reply, "upload", t->rel, &refused, error))
    return refused;
  return drive_finish(g, reply, error);
}

/* A new upload session for the target. NULL with *result set otherwise. Newly allocated. */
static char *drive_session(Graph *g, DriveTarget *t, ScandDeliveryResult *result, GError **error) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "item");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "@microsoft.graph.conflictBehavior");
  json_builder_add_string_value(b, t->conflict);
  json_builder_end_object(b);
  json_builder_end_object(b);
  gsize json_len = 0;
  g_autofree char *json = builder_json(b, &json_len);
  g_autofree char *url = g_strdup_printf("%s/%s/root:/%s:/createUploadSession", g->graph, t->prefix, t->path);
  g_autoptr(ScandHttpReply) reply = graph_send(g, "POST", url, TRUE, json_headers, json, json_len, error);
  if (!reply) {
    *result = graph_verdict(error);
    return NULL;
  }
  if (!drive_reply_ok(reply, "upload session", t->rel, result, error))
    return NULL;
  *result = SCAND_DELIVERY_RETRY;
  return session_start(g, reply, "upload session", error);
}

/* A large file through an upload session (resumed or new). */
static ScandDeliveryResult drive_upload(Graph *g, DriveTarget *t, char *upload_url, GError **error) {
  ScandDeliveryResult result;
  g_autofree char *url = upload_url ? upload_url : drive_session(g, t, &result, error);
  if (!url)
    return result;
  g_autoptr(ScandHttpReply) done = upload_fragments(g, url, t->file, t->size, error);
  if (!done) {
    gboolean retry = graph_is_temporary(*error);
    if ((*error)->code == SCAND_ERROR_FAILED && strstr((*error)->message, "HTTP 409"))
      g_prefix_error(error, "%s exists already (conflict = fail): ", t->rel);
    return retry ? SCAND_DELIVERY_RETRY : SCAND_DELIVERY_FAILED;
  }
  ScandDeliveryResult r = drive_finish(g, done, error);
  if (r == SCAND_DELIVERY_DONE)
    set_state(g, "upload-url", NULL, NULL);
  return r;
}

static ScandDeliveryResult drive_deliver_inner(Graph *g, GError **error) {
  if (scand_delivery_get_state(g->d, "item"))
    return SCAND_DELIVERY_DONE;
  g_auto(DriveTarget) t;
  if (!drive_target_load(g, &t, error))
    return SCAND_DELIVERY_FAILED;
  ScandDeliveryResult result;
  g_autofree char *upload_url = NULL;
  if (!drive_resume(g, &upload_url, &result, error))
    return result;
  if (scand_delivery_get_state(g->d, "started") && !upload_url && drive_found_finished(g, &t, &result, error))
    return result;
  if (!set_state(g, "started", "1", error))
    return SCAND_DELIVERY_RETRY;
  if (t.size <= GRAPH_SIMPLE_UPLOAD_MAX)
    return drive_put(g, &t, error);
  return drive_upload(g, &t, g_steal_pointer(&upload_url), error);
}

static ScandDeliveryResult drive_deliver(ScandDelivery *d, GError **error) {
  Graph g;
  g_autoptr(GError) local = NULL;
  ScandDeliveryResult r;
  if (!graph_init(&g, d, &local)) {
    r = SCAND_DELIVERY_FAILED;
    graph_fail(&g, local, error);
  } else {
    r = drive_deliver_inner(&g, &local);
    if (r != SCAND_DELIVERY_DONE)
      graph_fail(&g, local, error);
  }
  graph_clear(&g);
  return r;
}

const ScandOutputDriver scand_output_graph_mail = {
  .type = "graph-mail",
  .keys = mail_keys,
  .check = mail_check,
  .deliver = mail_deliver,
};

const ScandOutputDriver scand_output_m365_drive = {
  .type = "m365-drive",
  .keys = drive_keys,
  .check = drive_check,
  .deliver = drive_deliver,
};
