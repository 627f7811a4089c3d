/* Requests on a GMainContext (http.h): libcurl's multi interface driven by
 * one GSource. libcurl says which sockets to watch for what
 * (CURLMOPT_SOCKETFUNCTION) and when it next needs a look
 * (CURLMOPT_TIMERFUNCTION). The sockets go into an epoll set whose one
 * descriptor the context polls: a fleet's hundreds of connections cost the
 * context's poll() nothing, and a socket changing its events wakes no one.
 * When the set is ready or the time has come, the source hands each ready
 * socket to curl_multi_socket_action() and finishes the transfers that
 * ended. */
#include "scand/base/http-private.h"
#include "scand/base/error.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct {
  GSource source;
  ScandHttpLoop *loop;
} LoopSource;

typedef struct {
  Transfer t;
  ScandHttpRequest request; /* the caller's, with url and headers copied */
  char *url;
  GStrv headers;
  ScandHttpDone done;
  gpointer user;
  CURLcode refused; /* not started: ended by the next dispatch with this */
} LoopTransfer;

struct ScandHttpLoop {
  CURLM *multi;
  LoopSource *source;
  GHashTable *transfers; /* CURL* → LoopTransfer* under way */
  int epoll_fd;          /* the sockets libcurl asked to watch */
  gint64 curl_due;       /* when libcurl wants a look (the context's clock, µs); -1: never */
  GQueue refused;        /* LoopTransfer* that could not start */
};

/* The source is due at once while a refused transfer waits, else when
 * libcurl is. Setting it wakes the context's poll: only when it changes. */
static void update_ready_time(ScandHttpLoop *loop) {
  GSource *source = (GSource *) loop->source;
  gint64 due = loop->refused.length > 0 ? 0 : loop->curl_due;
  if (due != g_source_get_ready_time(source))
    g_source_set_ready_time(source, due);
}

/* Ends lt with libcurl's result: its done callback runs, then it is freed. */
static void transfer_end(ScandHttpLoop *loop, LoopTransfer *lt, CURLcode rc, const GError *instead) {
  if (g_hash_table_remove(loop->transfers, lt->t.curl))
    curl_multi_remove_handle(loop->multi, lt->t.curl);
  g_autoptr(GError) error = NULL;
  ScandHttpReply *reply = http_transfer_finish(&lt->t, rc, &error);
  if (instead) {
    g_clear_pointer(&reply, scand_http_reply_free);
    g_clear_error(&error);
    error = g_error_copy(instead);
  }
  lt->done(lt->t.http, reply, error, lt->user);
  g_free(lt->url);
  g_strfreev(lt->headers);
  g_free(lt);
}

/* Finishes every transfer libcurl reports done. */
static void read_messages(ScandHttpLoop *loop) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(loop->multi, &left))) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    LoopTransfer *lt = g_hash_table_lookup(loop->transfers, msg->easy_handle);
    if (lt)
      transfer_end(loop, lt, msg->data.result, NULL);
  }
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *user, void *socketp) {
  ScandHttpLoop *loop = user;
  if (what == CURL_POLL_REMOVE) {
    /* Also gone when libcurl closed it first. */
    epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
    curl_multi_assign(loop->multi, fd, NULL);
    return 0;
  }
  struct epoll_event ev = {
    .events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0),
    .data.fd = fd,
  };
  /* socketp marks a socket already in the set. */
  if (epoll_ctl(loop->epoll_fd, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0 &&
      epoll_ctl(loop->epoll_fd, socketp ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0)
    return -1;
  curl_multi_assign(loop->multi, fd, loop);
  return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *user) {
  ScandHttpLoop *loop = user;
  loop->curl_due = timeout_ms < 0 ? -1 : g_source_get_time((GSource *) loop->source) + (gint64) timeout_ms * 1000;
  update_ready_time(loop);
  return 0;
}

static gboolean source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data) {
  ScandHttpLoop *loop = ((LoopSource *) source)->loop;
  int running = 0;
  struct epoll_event events[64];
  int n;
  do {
    n = epoll_wait(loop->epoll_fd, events, G_N_ELEMENTS(events), 0);
    for (int i = 0; i < n; i++) {
      uint32_t got = events[i].events;
      int mask = (got & (EPOLLIN | EPOLLHUP | EPOLLRDHUP) ? CURL_CSELECT_IN : 0) |
                 (got & EPOLLOUT ? CURL_CSELECT_OUT : 0) | (got & EPOLLERR ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(loop->multi, events[i].data.fd, mask, &running);
    }
  } while (n == G_N_ELEMENTS(events));
  if (loop->curl_due >= 0 && g_source_get_time(source) >= loop->curl_due) {
    loop->curl_due = -1;
    curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  }
  read_messages(loop);
  /* Those refused so far: a done callback may refuse another, ended next time. */
  GQueue refused = loop->refused;
  g_queue_init(&loop->refused);
  LoopTransfer *lt;
  while ((lt = g_queue_pop_head(&refused)))
    transfer_end(loop, lt, lt->refused, NULL);
  update_ready_time(loop);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs source_funcs = {
  .dispatch = source_dispatch,
};

ScandHttpLoop *scand_http_loop_new(GMainContext *context, GError **error) {
  http_global_init();
  /* A libcurl that resolves host names in the calling thread would stop the
   * whole main loop for as long as a name takes (seconds, for a .local name
   * nobody answers). */
  if (!(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_ASYNCHDNS)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "this libcurl resolves host names without a thread");
    return NULL;
  }
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "cannot make an epoll set: %s", g_strerror(errno));
    return NULL;
  }
  CURLM *multi = curl_multi_init();
  if (!multi) {
    close(epoll_fd);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "cannot initialise libcurl");
    return NULL;
  }
  ScandHttpLoop *loop = g_new0(ScandHttpLoop, 1);
  loop->multi = multi;
  loop->epoll_fd = epoll_fd;
  loop->transfers = g_hash_table_new(NULL, NULL);
  loop->curl_due = -1;
  loop->source = (LoopSource *) g_source_new(&source_funcs, sizeof(LoopSource));
  loop->source->loop = loop;
  g_source_add_unix_fd((GSource *) loop->source, loop->epoll_fd, G_IO_IN);
  g_source_set_name((GSource *) loop->source, "scand-http-loop");
  g_source_attach((GSource *) loop->source, context);
  curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop);
  curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop);
  curl_multi_setopt(loop->multi, CURLMOPT_MAXCONNECTS, http_shared_connections_max());
  return loop;
}

void scand_http_loop_free(ScandHttpLoop *loop) {
  if (!loop)
    return;
  g_autoptr(GError) cancelled = g_error_new(SCAND_ERROR, SCAND_ERROR_CANCELLED, "cancelled%s",
                                            scand_http_stopping() ? ": scand is stopping" : "");
  GHashTableIter it;
  gpointer lt;
  while (g_hash_table_size(loop->transfers) > 0) {
    g_hash_table_iter_init(&it, loop->transfers);
    g_hash_table_iter_next(&it, NULL, &lt);
    transfer_end(loop, lt, CURLE_ABORTED_BY_CALLBACK, cancelled);
  }
  while ((lt = g_queue_pop_head(&loop->refused)))
    transfer_end(loop, lt, CURLE_ABORTED_BY_CALLBACK, cancelled);
  curl_multi_cleanup(loop->multi);
  g_source_destroy((GSource *) loop->source);
  g_source_unref((GSource *) loop->source);
  close(loop->epoll_fd);
  g_hash_table_unref(loop->transfers);
  g_free(loop);
}

void scand_http_loop_perform(ScandHttpLoop *loop, ScandHttp *http, const ScandHttpRequest *request, ScandHttpDone done,
                             gpointer user) {
  g_return_if_fail(request->sink == NULL);
  LoopTransfer *lt = g_new0(LoopTransfer, 1);
  lt->request = *request;
  lt->url = g_strdup(request->url);
  lt->headers = g_strdupv((char **) request->headers);
  lt->request.url = lt->url;
  lt->request.headers = (const char *const *) lt->headers;
  lt->done = done;
  lt->user = user;
  http_transfer_begin(&lt->t, http, &lt->request);
  /* The loop's pool keeps the connections, not the process-wide one. */
  curl_easy_setopt(lt->t.curl, CURLOPT_SHARE, NULL);
  /* A refusal (a cancelled client, a handle already in use) ends the
   * transfer from the source, as any other end would. */
  lt->refused = scand_http_is_cancelled(http)                                ? CURLE_ABORTED_BY_CALLBACK
                : curl_multi_add_handle(loop->multi, lt->t.curl) != CURLM_OK ? CURLE_FAILED_INIT
                                                                             : CURLE_OK;
  if (lt->refused == CURLE_OK) {
    g_hash_table_insert(loop->transfers, lt->t.curl, lt);
  } else {
    g_queue_push_tail(&loop->refused, lt);
    update_ready_time(loop);
  }
}
