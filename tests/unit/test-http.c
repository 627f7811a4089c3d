/* The one HTTP client (scand/base/http.h) against a real HTTP peer started
 * here (tests/lib/http-peer.py on 127.0.0.1): keep-alive reuse, bodies,
 * caps, timeouts, stalls, cancellation, redirects and hostile headers. */
#include "scand/base/error.h"
#include "scand/base/http.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

static GPid peer_pid;
static int peer_port;
static char *peer_dir;

static void die_with_parent(gpointer data) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void peer_start(void) {
  g_autoptr(GError) error = NULL;
  peer_dir = g_dir_make_tmp("test-http-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *script = g_build_filename(g_getenv("SCAND_SRCDIR"), "tests", "lib", "http-peer.py", NULL);
  g_autofree char *port_file = g_build_filename(peer_dir, "port", NULL);
  const char *argv[] = { "/usr/bin/python3", script, "--port-file", port_file, "--lifetime", "120", NULL };
  g_assert_true(g_spawn_async(peer_dir, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL,
                              &peer_pid, &error));
  for (int i = 0; i < 400 && !peer_port; i++) {
    g_autofree char *text = NULL;
    if (g_file_get_contents(port_file, &text, NULL, NULL) && *text)
      peer_port = atoi(text);
    else
      g_usleep(50000);
  }
  g_assert_cmpint(peer_port, >, 0);
}

static void peer_stop(void) {
  kill(peer_pid, SIGTERM);
  int status;
  waitpid(peer_pid, &status, 0);
  g_autofree char *port_file = g_build_filename(peer_dir, "port", NULL);
  unlink(port_file);
  rmdir(peer_dir);
  g_free(peer_dir);
}

static char *url(const char *path) {
  return g_strdup_printf("http://127.0.0.1:%d%s", peer_port, path);
}

static ScandHttp *client(guint timeout_ms, guint stall_s, gsize max_reply) {
  ScandHttpOptions o = { .label = "peer", .timeout_ms = timeout_ms, .stall_s = stall_s, .max_reply = max_reply };
  g_autoptr(GError) error = NULL;
  ScandHttp *http = scand_http_new(&o, &error);
  g_assert_no_error(error);
  return http;
}

static ScandHttpReply *get(ScandHttp *http, const char *path, GError **error) {
  g_autofree char *u = url(path);
  ScandHttpRequest r = { .url = u };
  return scand_http_perform(http, &r, error);
}

static double seconds_since(gint64 start) {
  return (g_get_monotonic_time() - start) / 1e6;
}

static void assert_one_line(const GError *e) {
  g_assert_nonnull(e);
  g_assert_null(strchr(e->message, '\n'));
}

/* ---- ordinary exchanges ------------------------------------------------------- */

static void test_get_and_headers(void) {
  g_autoptr(ScandHttp) http = client(5000, 5, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandHttpReply) r = get(http, "/ok", &error);
  g_assert_no_error(error);
  g_assert_cmpint(r->status, ==, 200);
  g_assert_cmpmem(r->body->data, r->body->len, "hello\n", 6);
  g_assert_cmpstr(scand_http_reply_header(r, "content-type"), ==, "text/plain");
  g_assert_null(scand_http_reply_header(r, "Location"));
  g_assert_cmpint(r->retry_after, ==, -1);
  g_assert_cmpint(scand_http_last_outcome(http), ==, SCAND_HTTP_OK);
}

static void test_keep_alive_reuses_the_connection(void) {
  g_autoptr(ScandHttp) http = client(5000, 5, 0);
  g_autoptr(ScandHttpReply) a = get(http, "/conn", NULL);
  g_autoptr(ScandHttpReply) b = get(http, "/conn", NULL);
  g_autoptr(ScandHttpReply) c = get(http, "/conn", NULL);
  g_assert_nonnull(a);
  g_assert_nonnull(c);
  g_assert_cmpmem(a->body->data, a->body->len, b->body->data, b->body->len);
  g_assert_cmpmem(a->body->data, a->body->len, c->body->data, c->body->len);
  /* A second client has its own connection. */
  g_autoptr(ScandHttp) other = client(5000, 5, 0);
  g_autoptr(ScandHttpReply) d = get(other, "/conn", NULL);
  g_assert_false(d->body->len == a->body->len && memcmp(d->body->data, a->body->data, a->body->len) == 0);
}

/* Clients made one after another with shared_connections (status polls)
 * reuse the connection an earlier one left open; a pinned client never does. */
static void test_shared_connections_outlive_their_client(void) {
  ScandHttpOptions o = { .timeout_ms = 5000, .stall_s = 5, .shared_connections = TRUE };
  g_autofree char *u = url("/conn");
  ScandHttpRequest r = { .url = u };
  GByteArray *seen[3] = { NULL };
  for (guint i = 0; i < G_N_ELEMENTS(seen); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandHttp) http = scand_http_new(&o, &error);
    g_assert_no_error(error);
    ScandHttpReply *reply = scand_http_perform(http, &r, &error);
    g_assert_no_error(error);
    seen[i] = g_byte_array_ref(reply->body);
    scand_http_reply_free(reply);
  }
  for (guint i = 1; i < G_N_ELEMENTS(seen); i++)
    g_assert_cmpmem(seen[0]->data, seen[0]->len, seen[i]->data, seen[i]->len);
  /* An ordinary client does not take it. */
  g_autoptr(ScandHttp) plain = client(5000, 5, 0);
  g_autoptr(ScandHttpReply) d = get(plain, "/conn", NULL);
  g_assert_false(d->body->len == seen[0]->len && memcmp(d->body->data, seen[0]->data, seen[0]->len) == 0);
  for (guint i = 0; i < G_N_ELEMENTS(seen); i++)
    g_byte_array_unref(seen[i]);
}

static void test_bodies_and_methods(void) {
  g_autoptr(ScandHttp) http = client(5000, 5, 0);
  g_autofree char *u = url("/echo");
  const char *headers[] = { "Content-Type: text/xml", "X-Test: 1", NULL };
  const char *methods[] = { "POST", "PUT", "PATCH" };
  for (guint i = 0; i < G_N_ELEMENTS(methods); i++) {
    ScandHttpRequest r = { .method = methods[i], .url = u, .headers = headers, .body = "<a>\0b</a>", .body_len = 9 };
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandHttpReply) reply = scand_http_perform(http, &r, &error);
    g_assert_no_error(error);
    g_autofree char *text = g_strndup((const char *) reply->body->data, reply->body->len);
    g_autofree char *m = g_strdup_printf("\"method\": \"%s\"", methods[i]);
    g_assert_nonnull(strstr(text, m));
    g_assert_nonnull(strstr(text, "\"Content-Length\": \"9\""));
    g_assert_nonnull(strstr(text, "\"Content-Type\": \"text/xml\""));
    g_assert_nonnull(strstr(text, "\"X-Test\": \"1\""));
    g_assert_nonnull(strstr(text, "\"body\": \"<a>\\u0000b</a>\""));
    g_assert_null(strstr(text, "Expect"));
    g_assert_nonnull(strstr(text, "scand/"));
  }
  ScandHttpRequest del = { .method = "DELETE", .url = u };
  g_autoptr(ScandHttpReply) reply = scand_http_perform(http, &del, NULL);
  g_assert_nonnull(reply);
  g_assert_nonnull(g_strstr_len((const char *) reply->body->data, reply->body->len, "\"method\": \"DELETE\""));
}

static void test_status_and_retry_after(void) {
  g_autoptr(ScandHttp) http = client(5000, 5, 0);
  g_autoptr(ScandHttpReply) a = get(http, "/status/404", NULL);
  g_assert_cmpint(a->status, ==, 404);
  g_autoptr(ScandHttpReply) b = get(http, "/retry-after/7", NULL);
  g_assert_cmpint(b->status, ==, 503);
  g_assert_cmpint(b->retry_after, ==, 7);
  g_autoptr(ScandHttpReply) c = get(http, "/retry-date", NULL);
  g_assert_cmpint(c->retry_after, >=, 25);
  g_assert_cmpint(c->retry_after, <=, 31);
  g_autoptr(ScandHttpReply) d = get(http, "/retry-after/soon", NULL);
  g_assert_cmpint(d->retry_after, ==, -1);
}

static void test_redirect_is_not_followed(void) {
  g_autoptr(ScandHttp) http = client(5000, 5, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandHttpReply) r = get(http, "/redirect", &error);
  g_assert_no_error(error);
  g_assert_cmpint(r->status, ==, 302);
  g_assert_cmpstr(scand_http_reply_header(r, "Location"), ==, "http://192.0.2.1/elsewhere");
}

static void test_protocol_not_allowed(void) {
  ScandHttpOptions o = { .label = "peer", .protocols = "https" };
  g_autoptr(ScandHttp) http = scand_http_new(&o, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandHttpReply) r = get(http, "/ok", &error);
  g_assert_null(r);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_cmpint(scand_http_last_outcome(http), ==, SCAND_HTTP_BAD_URL);
  assert_one_line(error);
}

/* A port nobody listens on: one bound and closed again. */
static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  g_assert_cmpint(bind(fd, (struct sockaddr *) &a, sizeof a), ==, 0);
  g_assert_cmpint(getsockname(fd, (struct sockaddr *) &a, &len), ==, 0);
  close(fd);
  return ntohs(a.sin_port);
}

static void test_no_connection(void) {
  g_autofree char *u = g_strdup_printf("http://127.0.0.1:%d/x?token=secret", closed_port());
  g_autoptr(ScandHttp) http = client(5000, 5, 0);
  ScandHttpRequest r = { .url = u };
  g_autoptr(GError) error = NULL;
  g_assert_null(scand_http_perform(http, &r, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
  g_assert_cmpint(scand_http_last_outcome(http), ==, SCAND_HTTP_NO_CONNECTION);
  g_assert_nonnull(strstr(error->message, "peer: GET /x"));
  g_assert_null(strstr(error->message, "secret")); /* queries may carry tokens */
}

/* ---- hostile peers ------------------------------------------------------------- */

static void test_reply_over_the_cap_says_so(void) {
  g_autoptr(ScandHttp) http = client(5000, 5, 4096);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandHttpReply) ok = get(http, "/bytes/4096", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(ok->body->len, ==, 4096);
  g_autoptr(ScandHttpReply) r = get(http, "/bytes/4097", &error);
  g_assert_null(r);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_IO);
  g_assert_cmpint(scand_http_last_outcome(http), ==, SCAND_HTTP_TOO_LARGE);
  g_assert_nonnull(strstr(error->message, "larger than 4 KiB"));
  g_assert_null(strstr(error->message, "Failed writing"));
  assert_one_line(error);
}

static void test_endless_body_is_cut_at_the_cap(void) {
  g_autoptr(ScandHttp) http = client(20000, 5, 0);
  gint64 start = g_get_monotonic_time();
  g_autoptr(GError) error = NULL;
  g_assert_null(get(http, "/endless", &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_IO);
  g_assert_nonnull(strstr(error->message, "larger than 4096 KiB"));
  g_assert_cmpfloat(seconds_since(start), <, 10);
}

typedef struct {
  guint begins;
  guint64 bytes;
  guint64 limit;
} CountSink;

static ScandHttpSinkChoice count_begin(const ScandHttpReply *reply, gpointer user, GError **error) {
  CountSink *c = user;
  c->begins++;
  return reply->status == 200 ? SCAND_HTTP_SINK_TAKE : SCAND_HTTP_SINK_MEMORY;
}

static gboolean count_write(const void *data, gsize len, gpointer user, GError **error) {
  CountSink *c = user;
  c->bytes += len;
  if (c->bytes > c->limit) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "sink: more than %" G_GUINT64_FORMAT " bytes", c->limit);
    return FALSE;
  }
  return TRUE;
}

static void test_sink_streams_and_refuses(void) {
  g_autoptr(ScandHttp) http = client(20000, 5, 0);
  CountSink c = { .limit = 10 * 1024 * 1024 };
  ScandHttpSink sink = { count_begin, count_write, &c };
  g_autofree char *u = url("/endless");
  ScandHttpRequest r = { .url = u, .sink = &sink };
  g_autoptr(GError) error = NULL;
  g_assert_null(scand_http_perform(http, &r, &error));
  /* The sink's own error, unchanged. */
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_cmpstr(error->message, ==, "sink: more than 10485760 bytes");
  g_assert_cmpint(scand_http_last_outcome(http), ==, SCAND_HTTP_SINK_FAILED);
  g_assert_cmpuint(c.begins, ==, 1);
  /* An error page goes to memory, not to the sink. */
  CountSink c2 = { .limit = 100 };
  ScandHttpSink sink2 = { count_begin, count_write, &c2 };
  g_autofree char *u2 = url("/status/500");
  ScandHttpRequest r2 = { .url = u2, .sink = &sink2 };
  g_autoptr(ScandHttpReply) reply = scand_http_perform(http, &r2, NULL);
  g_assert_cmpint(reply->status, ==, 500);
  g_assert_cmpuint(c2.bytes, ==, 0);
  g_assert_cmpuint(reply->body->len, >, 0);
  g_assert_cmpuint(reply->streamed, ==, 0);
}

static void test_drip_hits_the_total_timeout(void) {
  g_autoptr(ScandHttp) http = client(2000, 60, 0);
  gint64 start = g_get_monotonic_time();
  g_autoptr(GError) error = NULL;
  g_assert_null(get(http, "/drip", &error));
  double took = seconds_since(start);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_IO);
  g_assert_cmpint(scand_http_last_outcome(http), ==, SCAND_HTTP_TIMED_OUT);
  g_assert_nonnull(strstr(error->message, "timed out"));
  assert_one_line(error);
  g_assert_cmpfloat(took, >=, 1.9);
  g_assert_cmpfloat(took, <, 5);
}

static void test_silence_hits_the_stall_timeout(void) {
  const char *paths[] = { "/silent", "/no-reply" };
  for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
    g_autoptr(ScandHttp) http = client(30000, 2, 0);
    gint64 start = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;
    g_assert_null(get(http, paths[i], &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_IO);
    g_assert_cmpint(scand_http_last_outcome(http), ==, SCAND_HTTP_TIMED_OUT);
    g_assert_nonnull(strstr(error->message, "stalled"));
    g_assert_cmpfloat(seconds_since(start), <, 6);
  }
}

/* A long poll may wait in silence longer than the client's stall limit. */
static void test_request_stall_overrides_the_client(void) {
  g_autoptr(ScandHttp) http = client(30000, 1, 0);
  g_autofree char *u = url("/silent");
  ScandHttpRequest r = { .url = u, .stall_s = 3 };
  gint64 start = g_get_monotonic_time();
  g_autoptr(GError) error = NULL;
  g_assert_null(scand_http_perform(http, &r, &error));
  double took = seconds_since(start);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_IO);
  g_assert_nonnull(strstr(error->message, "for 3 s"));
  g_assert_cmpfloat(took, >=, 2.5);
  g_assert_cmpfloat(took, <, 7);
}

static void test_huge_headers_are_refused(void) {
  const char *paths[] = { "/huge-headers", "/many-headers" };
  for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
    g_autoptr(ScandHttp) http = client(20000, 5, 0);
    gint64 start = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;
    g_assert_null(get(http, paths[i], &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_IO);
    g_assert_cmpint(scand_http_last_outcome(http), ==, SCAND_HTTP_TOO_LARGE);
    g_assert_nonnull(strstr(error->message, "headers are larger"));
    g_assert_cmpfloat(seconds_since(start), <, 5);
  }
}

static void test_cut_connection_is_broken(void) {
  g_autoptr(ScandHttp) http = client(5000, 5, 0);
  g_autoptr(GError) error = NULL;
  g_assert_null(get(http, "/cut", &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_IO);
  g_assert_cmpint(scand_http_last_outcome(http), ==, SCAND_HTTP_BROKEN);
}

/* ---- cancellation ----------------------------------------------------------------- */

static gpointer cancel_later(gpointer data) {
  g_usleep(500000);
  scand_http_cancel(data);
  return NULL;
}

static void test_cancel_ends_a_transfer(void) {
  g_autoptr(ScandHttp) http = client(60000, 60, 0);
  GThread *t = g_thread_new("cancel", cancel_later, http);
  gint64 start = g_get_monotonic_time();
  g_autoptr(GError) error = NULL;
  g_assert_null(get(http, "/drip", &error));
  g_thread_join(t);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED);
  g_assert_cmpfloat(seconds_since(start), <, 2.5);
  /* Sticky until reset, then the client works again. */
  g_autoptr(GError) again = NULL;
  g_assert_null(get(http, "/ok", &again));
  g_assert_error(again, SCAND_ERROR, SCAND_ERROR_CANCELLED);
  g_assert_false(scand_http_sleep(http, 10, NULL));
  scand_http_reset_cancel(http);
  g_autoptr(ScandHttpReply) ok = get(http, "/ok", NULL);
  g_assert_nonnull(ok);
}

static void test_stop_all_ends_every_transfer(void) {
  g_autoptr(ScandHttp) http = client(60000, 60, 0);
  g_autoptr(ScandHttp) idle = client(60000, 60, 0);
  gint64 start = g_get_monotonic_time();
  scand_http_stop_all(800);
  g_assert_false(scand_http_stopping());
  g_autoptr(GError) error = NULL;
  g_assert_null(get(http, "/drip", &error));
  double took = seconds_since(start);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED);
  g_assert_nonnull(strstr(error->message, "scand is stopping"));
  g_assert_cmpfloat(took, >=, 0.7);
  g_assert_cmpfloat(took, <, 3);
  g_assert_true(scand_http_stopping());
  g_autoptr(GError) later = NULL;
  g_assert_null(get(idle, "/ok", &later));
  g_assert_error(later, SCAND_ERROR, SCAND_ERROR_CANCELLED);
  scand_http_stop_reset();
  g_autoptr(ScandHttpReply) ok = get(idle, "/ok", NULL);
  g_assert_nonnull(ok);
}

static void test_many_at_once(void) {
  ScandHttp *clients[4];
  for (guint i = 0; i < 4; i++)
    clients[i] = client(i == 3 ? 1500 : 10000, 10, 0);
  g_autofree char *a = url("/ok"), *b = url("/status/404"), *c = url("/bytes/100000"), *d = url("/drip");
  ScandHttpRequest requests[4] = { { .url = a }, { .url = b }, { .url = c }, { .url = d } };
  ScandHttpReply *replies[4];
  GError *errors[4] = { NULL };
  gint64 start = g_get_monotonic_time();
  scand_http_perform_many(clients, requests, 4, replies, errors);
  g_assert_cmpfloat(seconds_since(start), <, 4);
  g_assert_cmpint(replies[0]->status, ==, 200);
  g_assert_cmpint(replies[1]->status, ==, 404);
  g_assert_cmpuint(replies[2]->body->len, ==, 100000);
  g_assert_null(replies[3]);
  g_assert_error(errors[3], SCAND_ERROR, SCAND_ERROR_IO);
  for (guint i = 0; i < 4; i++) {
    if (i < 3)
      g_assert_no_error(errors[i]);
    g_clear_error(&errors[i]);
    scand_http_reply_free(replies[i]);
    scand_http_free(clients[i]);
  }
}

/* ---- requests on a main loop ---------------------------------------------------- */

typedef struct {
  guint done;
  gboolean inside_perform; /* TRUE while scand_http_loop_perform() runs */
  gboolean done_inside;    /* a done callback ran from within it */
  GThread *thread;         /* where done callbacks ran */
  ScandHttpReply *replies[8];
  GError *errors[8];
  ScandHttp *clients[8];
} LoopRun;

typedef struct {
  LoopRun *run;
  guint i;
} LoopSlot;

static void loop_done(ScandHttp *http, ScandHttpReply *reply, const GError *error, gpointer user) {
  LoopSlot *slot = user;
  LoopRun *run = slot->run;
  g_assert_true(http == run->clients[slot->i]);
  run->done_inside |= run->inside_perform;
  run->thread = g_thread_self();
  run->replies[slot->i] = reply;
  run->errors[slot->i] = error ? g_error_copy(error) : NULL;
  g_assert_true((reply == NULL) != (error == NULL));
  run->done++;
  g_free(slot);
}

static void loop_start(ScandHttpLoop *loop, LoopRun *run, guint i, const char *u, guint timeout_ms) {
  run->clients[i] = client(timeout_ms, 10, 0);
  ScandHttpRequest r = { .url = u };
  LoopSlot *slot = g_new0(LoopSlot, 1);
  *slot = (LoopSlot){ run, i };
  run->inside_perform = TRUE;
  scand_http_loop_perform(loop, run->clients[i], &r, loop_done, slot);
  run->inside_perform = FALSE;
}

static void loop_run_clear(LoopRun *run) {
  for (guint i = 0; i < G_N_ELEMENTS(run->clients); i++) {
    scand_http_reply_free(run->replies[i]);
    g_clear_error(&run->errors[i]);
    scand_http_free(run->clients[i]);
  }
}

/* Requests of every kind at once, on this thread's context, each ending as
 * scand_http_perform() would end it; none ends inside the call that starts it. */
static void test_loop_runs_requests_on_the_context(void) {
  g_autoptr(ScandHttpLoop) loop = scand_http_loop_new(NULL, NULL);
  LoopRun run = { 0 };
  g_autofree char *a = url("/ok"), *b = url("/status/404"), *c = url("/bytes/100000"), *d = url("/drip");
  g_autofree char *e = g_strdup_printf("http://127.0.0.1:%d/x", closed_port());
  loop_start(loop, &run, 0, a, 10000);
  loop_start(loop, &run, 1, b, 10000);
  loop_start(loop, &run, 2, c, 10000);
  loop_start(loop, &run, 3, d, 1500);
  loop_start(loop, &run, 4, e, 10000);
  gint64 start = g_get_monotonic_time();
  while (run.done < 5 && seconds_since(start) < 10)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpuint(run.done, ==, 5);
  g_assert_false(run.done_inside);
  g_assert_true(run.thread == g_thread_self());
  g_assert_cmpfloat(seconds_since(start), <, 4);
  g_assert_cmpint(run.replies[0]->status, ==, 200);
  g_assert_cmpmem(run.replies[0]->body->data, run.replies[0]->body->len, "hello\n", 6);
  g_assert_cmpstr(scand_http_reply_header(run.replies[0], "content-type"), ==, "text/plain");
  g_assert_cmpint(run.replies[1]->status, ==, 404);
  g_assert_cmpuint(run.replies[2]->body->len, ==, 100000);
  g_assert_error(run.errors[3], SCAND_ERROR, SCAND_ERROR_IO);
  g_assert_nonnull(strstr(run.errors[3]->message, "timed out"));
  g_assert_cmpint(scand_http_last_outcome(run.clients[3]), ==, SCAND_HTTP_TIMED_OUT);
  g_assert_error(run.errors[4], SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(run.errors[4]->message, "peer: GET /x"));
  loop_run_clear(&run);
}

/* The loop keeps its connections for the next request to the same peer,
 * whichever client makes it. */
static void test_loop_keeps_connections(void) {
  g_autoptr(ScandHttpLoop) loop = scand_http_loop_new(NULL, NULL);
  LoopRun run = { 0 };
  g_autofree char *u = url("/conn");
  for (guint i = 0; i < 3; i++) {
    loop_start(loop, &run, i, u, 5000);
    while (run.done < i + 1)
      g_main_context_iteration(NULL, TRUE);
    g_assert_no_error(run.errors[i]);
  }
  for (guint i = 1; i < 3; i++)
    g_assert_cmpmem(run.replies[0]->body->data, run.replies[0]->body->len, run.replies[i]->body->data,
                    run.replies[i]->body->len);
  loop_run_clear(&run);
}

/* Freeing the loop ends what is under way (done runs, cancelled); a
 * cancelled client's request ends on the next iteration, not inside the call. */
static void test_loop_free_and_cancel(void) {
  ScandHttpLoop *loop = scand_http_loop_new(NULL, NULL);
  LoopRun run = { 0 };
  g_autofree char *d = url("/drip"), *a = url("/ok");
  loop_start(loop, &run, 0, d, 60000);
  run.clients[1] = client(5000, 5, 0);
  scand_http_cancel(run.clients[1]);
  LoopSlot *slot = g_new0(LoopSlot, 1);
  *slot = (LoopSlot){ &run, 1 };
  ScandHttpRequest r = { .url = a };
  run.inside_perform = TRUE;
  scand_http_loop_perform(loop, run.clients[1], &r, loop_done, slot);
  run.inside_perform = FALSE;
  g_assert_cmpuint(run.done, ==, 0);
  gint64 start = g_get_monotonic_time();
  while (run.done < 1 && seconds_since(start) < 5)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpuint(run.done, ==, 1);
  g_assert_error(run.errors[1], SCAND_ERROR, SCAND_ERROR_CANCELLED);
  for (int i = 0; i < 20; i++)
    g_main_context_iteration(NULL, FALSE);
  g_assert_cmpuint(run.done, ==, 1);
  scand_http_loop_free(loop);
  g_assert_cmpuint(run.done, ==, 2);
  g_assert_error(run.errors[0], SCAND_ERROR, SCAND_ERROR_CANCELLED);
  g_assert_false(run.done_inside);
  loop_run_clear(&run);
}

static void test_url_credentials(void) {
  g_assert_true(scand_http_url_has_userinfo("smtp://u:pw@host:25"));
  g_assert_true(scand_http_url_has_userinfo("smb://u@host/share"));
  g_assert_false(scand_http_url_has_userinfo("https://host/p?mail=a@b"));
  g_assert_false(scand_http_url_has_userinfo("/not/a/url@x"));
  g_autofree char *a = scand_http_url_without_password("smtp://u%40x:pw@host:25/");
  g_assert_cmpstr(a, ==, "smtp://u%40x@host:25/");
  g_assert_null(scand_http_url_without_password("smb://u@host/share"));
  g_assert_null(scand_http_url_without_password("https://host/p?a=b:c@d"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  peer_start();
  g_test_add_func("/http/get-and-headers", test_get_and_headers);
  g_test_add_func("/http/keep-alive-reuses-the-connection", test_keep_alive_reuses_the_connection);
  g_test_add_func("/http/shared-connections-outlive-their-client", test_shared_connections_outlive_their_client);
  g_test_add_func("/http/bodies-and-methods", test_bodies_and_methods);
  g_test_add_func("/http/status-and-retry-after", test_status_and_retry_after);
  g_test_add_func("/http/redirect-is-not-followed", test_redirect_is_not_followed);
  g_test_add_func("/http/protocol-not-allowed", test_protocol_not_allowed);
  g_test_add_func("/http/no-connection", test_no_connection);
  g_test_add_func("/http/reply-over-the-cap-says-so", test_reply_over_the_cap_says_so);
  g_test_add_func("/http/endless-body-is-cut-at-the-cap", test_endless_body_is_cut_at_the_cap);
  g_test_add_func("/http/sink-streams-and-refuses", test_sink_streams_and_refuses);
  g_test_add_func("/http/drip-hits-the-total-timeout", test_drip_hits_the_total_timeout);
  g_test_add_func("/http/silence-hits-the-stall-timeout", test_silence_hits_the_stall_timeout);
  g_test_add_func("/http/request-stall-overrides-the-client", test_request_stall_overrides_the_client);
  g_test_add_func("/http/huge-headers-are-refused", test_huge_headers_are_refused);
  g_test_add_func("/http/cut-connection-is-broken", test_cut_connection_is_broken);
  g_test_add_func("/http/cancel-ends-a-transfer", test_cancel_ends_a_transfer);
  g_test_add_func("/http/stop-all-ends-every-transfer", test_stop_all_ends_every_transfer);
  g_test_add_func("/http/many-at-once", test_many_at_once);
  g_test_add_func("/http/loop/runs-requests-on-the-context", test_loop_runs_requests_on_the_context);
  g_test_add_func("/http/loop/keeps-connections", test_loop_keeps_connections);
  g_test_add_func("/http/loop/free-and-cancel", test_loop_free_and_cancel);
  g_test_add_func("/http/url-credentials", test_url_credentials);
  int rc = g_test_run();
  peer_stop();
  return rc;
}
