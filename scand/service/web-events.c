/* Server-sent events for the web page (GET /api/events): the job events
 * the daemon also sends on D-Bus (JobProgress, JobFinished), and the last
 * documents: where each finished job went. */
#include "scand/service/web-private.h"

#include <string.h>
#include <sys/stat.h>

#define KEEPALIVE_S 20
#define STREAM_BACKLOG_MAX (256 * 1024) /* bytes a stream may have unsent before it is ended */
#define STREAMS_MAX 1024
#define RECENT_MAX 20

typedef struct {
  ScandWeb *web;
  SoupServerMessage *msg;
  char *session; /* token of the session it belongs to */
  gsize unsent;
  gboolean ended;
  GSource *hangup; /* the peer's socket readable */
} Stream;

typedef struct {
  char *id, *result;
  GStrv delivered, errors;
  gint64 finished; /* unix seconds */
  GArray *files;   /* struct stat of each delivered entry that is a local file (st_ino 0: not one) */
} Recent;

struct WebEvents {
  GPtrArray *streams; /* Stream* */
  GQueue recent;      /* Recent*, newest first */
  guint keepalive;
};

static void recent_free(Recent *r) {
  g_free(r->id);
  g_free(r->result);
  g_strfreev(r->delivered);
  g_strfreev(r->errors);
  g_array_unref(r->files);
  g_free(r);
}

static void stream_end(Stream *s) {
  if (s->ended)
    return;
  s->ended = TRUE;
  soup_message_body_complete(soup_server_message_get_response_body(s->msg));
  soup_server_message_unpause(s->msg);
}

static void stream_send(Stream *s, const char *text) {
  if (s->ended)
    return;
  if (s->unsent > STREAM_BACKLOG_MAX) {
    /* A reader that does not read loses its stream, not our memory; the page reconnects. */
    stream_end(s);
    return;
  }
  gsize n = strlen(text);
  s->unsent += n;
  soup_message_body_append(soup_server_message_get_response_body(s->msg), SOUP_MEMORY_COPY, text, n);
  soup_server_message_unpause(s->msg);
}

static void on_wrote_body_data(SoupServerMessage *msg, guint chunk_size, gpointer data) {
  Stream *s = data;
  s->unsent = s->unsent > chunk_size ? s->unsent - chunk_size : 0;
}

/* The page never sends on an event stream: readable means the peer hung
 * up (or misbehaves). The stream ends now, not at the next write, and its
 * connection slot is free again. */
static gboolean on_peer_readable(GSocket *socket, GIOCondition condition, gpointer data) {
  Stream *s = data;
  g_clear_pointer(&s->hangup, g_source_unref);
  stream_end(s);
  return G_SOURCE_REMOVE;
}

static void on_stream_finished(SoupServerMessage *msg, gpointer data) {
  Stream *s = data;
  if (s->hangup) {
    g_source_destroy(s->hangup);
    g_clear_pointer(&s->hangup, g_source_unref);
  }
  g_signal_handlers_disconnect_by_data(msg, s);
  g_ptr_array_remove_fast(s->web->events->streams, s);
  g_object_unref(s->msg);
  g_free(s->session);
  g_free(s);
}

static gboolean on_keepalive(gpointer data) {
  ScandWeb *web = data;
  GPtrArray *streams = web->events->streams;
  for (guint i = 0; i < streams->len; i++)
    stream_send(streams->pdata[i], ": keepalive\n\n");
  return G_SOURCE_CONTINUE;
}

WebEvents *web_events_new(ScandWeb *web) {
  WebEvents *e = g_new0(WebEvents, 1);
  e->streams = g_ptr_array_new();
  g_queue_init(&e->recent);
  e->keepalive = g_timeout_add_seconds(KEEPALIVE_S, on_keepalive, web);
  return e;
}

void web_events_free(WebEvents *e) {
  if (!e)
    return;
  g_clear_handle_id(&e->keepalive, g_source_remove);
  /* Each stream ends; its "finished" comes when the server lets the connection go. */
  while (e->streams->len) {
    Stream *s = e->streams->pdata[e->streams->len - 1];
    stream_end(s);
    on_stream_finished(s->msg, s);
  }
  g_ptr_array_unref(e->streams);
  g_queue_clear_full(&e->recent, (GDestroyNotify) recent_free);
  g_free(e);
}

guint web_events_count(ScandWeb *web) {
  return web->events->streams->len;
}

void web_events_handle(ScandWeb *web, SoupServerMessage *msg, WebSession *session) {
  if (web->events->streams->len >= STREAMS_MAX) {
    web_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too many event streams open");
    return;
  }
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_set_content_type(h, "text/event-stream", NULL);
  soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace(h, "X-Accel-Buffering", "no");
  soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  Stream *s = g_new0(Stream, 1);
  s->web = web;
  s->msg = g_object_ref(msg);
  s->session = g_strdup(session ? session->token : "");
  g_signal_connect(msg, "finished", G_CALLBACK(on_stream_finished), s);
  g_signal_connect(msg, "wrote-body-data", G_CALLBACK(on_wrote_body_data), s);
  g_ptr_array_add(web->events->streams, s);
  GSocket *socket = scand_http_listener_get_socket(web->listener, msg);
  if (socket) {
    s->hangup = g_socket_create_source(socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(s->hangup, G_SOURCE_FUNC(on_peer_readable), s, NULL);
    g_source_attach(s->hangup, NULL);
  }
  /* The page reconnects 2 s after a stream breaks; the first event says it is live. */
  stream_send(s, "retry: 2000\nevent: hello\ndata: {}\n\n");
}

void web_events_broadcast(ScandWeb *web, const char *event, JsonNode *data) {
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, data);
  g_autofree char *json = json_generator_to_data(gen, NULL);
  json_node_unref(data);
  /* JSON from the generator has no raw newline: one data line. */
  g_autofree char *text = g_strdup_printf("event: %s\ndata: %s\n\n", event, json);
  GPtrArray *streams = web->events->streams;
  for (guint i = 0; i < streams->len; i++)
    stream_send(streams->pdata[i], text);
}

void web_events_end_session(ScandWeb *web, const char *token) {
  GPtrArray *streams = web->events->streams;
  for (guint i = 0; i < streams->len; i++) {
    Stream *s = streams->pdata[i];
    if (token && strcmp(s->session, token) == 0)
      stream_end(s);
  }
}

/* --- the job events --- */

void scand_web_emit_progress(ScandWeb *web, const char *id, const char *stage, guint pages) {
  if (!web)
    return;
  web_api_jobs_changed(web);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_string_value(b, id);
  json_builder_set_member_name(b, "stage");
  json_builder_add_string_value(b, stage);
  json_builder_set_member_name(b, "pages");
  json_builder_add_int_value(b, pages);
  json_builder_end_object(b);
  web_events_broadcast(web, "progress", json_builder_get_root(b));
}

static GStrv strv_of(GPtrArray *a) {
  GStrvBuilder *b = g_strv_builder_new();
  for (guint i = 0; a && i < a->len; i++)
    g_strv_builder_add(b, a->pdata[i]);
  GStrv out = g_strv_builder_end(b);
  g_strv_builder_unref(b);
  return out;
}

static void add_strv(JsonBuilder *b, const char *name, GStrv v) {
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  for (guint i = 0; v && v[i]; i++)
    json_builder_add_string_value(b, v[i]);
  json_builder_end_array(b);
}

static void recent_json(JsonBuilder *b, Recent *r, gboolean downloads) {
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_string_value(b, r->id);
  json_builder_set_member_name(b, "result");
  json_builder_add_string_value(b, r->result);
  add_strv(b, "delivered", r->delivered);
  add_strv(b, "errors", r->errors);
  json_builder_set_member_name(b, "finished");
  json_builder_add_int_value(b, r->finished);
  /* Which delivered entries the page may offer to download (their index). */
  json_builder_set_member_name(b, "downloads");
  json_builder_begin_array(b);
  for (guint i = 0; downloads && i < r->files->len; i++)
    if (g_array_index(r->files, struct stat, i).st_ino)
      json_builder_add_int_value(b, i);
  json_builder_end_array(b);
  json_builder_end_object(b);
}

void scand_web_emit_finished(ScandWeb *web, const char *id, const char *result, GPtrArray *delivered,
                             GPtrArray *errors) {
  if (!web)
    return;
  web_api_jobs_changed(web);
  Recent *r = g_new0(Recent, 1);
  r->id = g_strdup(id);
  r->result = g_strdup(result);
  r->delivered = strv_of(delivered);
  r->errors = strv_of(errors);
  r->finished = g_get_real_time() / G_USEC_PER_SEC;
  r->files = g_array_new(FALSE, TRUE, sizeof(struct stat));
  for (guint i = 0; r->delivered[i]; i++) {
    /* The very file delivered, so that a download later serves it and nothing put in its place. */
    struct stat st = { 0 };
    if (!g_path_is_absolute(r->delivered[i]) || lstat(r->delivered[i], &st) < 0 || !S_ISREG(st.st_mode))
      memset(&st, 0, sizeof st);
    g_array_append_val(r->files, st);
  }
  /* A job retried later is shown once, as it ended last. */
  for (GList *l = web->events->recent.head; l;) {
    GList *next = l->next;
    if (strcmp(((Recent *) l->data)->id, id) == 0) {
      recent_free(l->data);
      g_queue_delete_link(&web->events->recent, l);
    }
    l = next;
  }
  g_queue_push_head(&web->events->recent, r);
  while (web->events->recent.length > RECENT_MAX)
    recent_free(g_queue_pop_tail(&web->events->recent));
  g_autoptr(JsonBuilder) b = json_builder_new();
  recent_json(b, r, web->downloads);
  web_events_broadcast(web, "finished", json_builder_get_root(b));
}

JsonNode *web_events_recent(ScandWeb *web) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (GList *l = web->events->recent.head; l; l = l->next)
    recent_json(b, l->data, web->downloads);
  json_builder_end_array(b);
  return json_builder_get_root(b);
}

char *web_events_recent_file(ScandWeb *web, const char *id, guint index, dev_t *dev, ino_t *ino) {
  for (GList *l = web->events->recent.head; l; l = l->next) {
    Recent *r = l->data;
    if (strcmp(r->id, id) != 0 || index >= r->files->len)
      continue;
    struct stat *st = &g_array_index(r->files, struct stat, index);
    if (!st->st_ino)
      return NULL;
    *dev = st->st_dev;
    *ino = st->st_ino;
    return g_strdup(r->delivered[index]);
  }
  return NULL;
}
