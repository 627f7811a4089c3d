/* The one HTTP client (see http.h): one libcurl easy handle per client, reset
 * and set up with the same policy before every request, so that connections
 * are reused and no request can forget a timeout or the TLS check. */
#include "scand/base/http-private.h"
#include "scand/base/error.h"
#include "scand-build.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define HTTP_MAX_HEADERS 100
#define HTTP_MAX_HEADER_BYTES (64 * 1024)

struct ScandHttp {
  CURL *curl;
  char *label;
  char *protocols;
  char *ca_file;
  char *trust_hint;
  guint connect_timeout_ms;
  guint timeout_ms;
  guint stall_s;
  guint current_stall_s; /* of the request under way */
  gsize max_reply;
  gboolean tls_unverified;
  gboolean shared; /* connections in the process-wide pool */
  HttpTls tls;
  atomic_int cancelled;
  ScandHttpOutcome outcome;
  char errbuf[CURL_ERROR_SIZE];
};

/* ---- process-wide stop (SIGTERM) ------------------------------------------ */

/* Monotonic microseconds after which every transfer stops; INT64_MAX: never.
 * Lock-free, so that a signal handler may set it. */
static atomic_llong stop_deadline = G_MAXINT64;

static gint64 monotonic_us(void) {
  /* clock_gettime() is async-signal-safe, g_get_monotonic_time() says nothing about it. */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

void scand_http_stop_all(guint grace_ms) {
  long long want = monotonic_us() + (gint64) grace_ms * 1000;
  long long cur = atomic_load(&stop_deadline);
  while (want < cur && !atomic_compare_exchange_weak(&stop_deadline, &cur, want))
    ;
}

gboolean scand_http_stopping(void) {
  return monotonic_us() >= atomic_load(&stop_deadline);
}

void scand_http_stop_reset(void) {
  atomic_store(&stop_deadline, G_MAXINT64);
}

/* ---- the client ------------------------------------------------------------- */

void http_global_init(void) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_once_init_leave(&once, 1);
  }
}

/* The process-wide connection pool of shared_connections clients. */
#define SHARED_CONNECTIONS_MAX 1024

/* How many connections the pool keeps open: at most SHARED_CONNECTIONS_MAX
 * and at most half the descriptors the process may open, so that a large
 * fleet's idle connections never starve the spool, the watched folders or
 * the listeners of descriptors. */
long http_shared_connections_max(void) {
  static gsize once = 0;
  static long max;
  if (g_once_init_enter(&once)) {
    struct rlimit rl;
    max = SHARED_CONNECTIONS_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
      max = MAX(1, MIN(max, (long) (rl.rlim_cur / 2)));
    g_once_init_leave(&once, 1);
  }
  return max;
}
static GMutex shared_lock;

static void shared_lock_cb(CURL *handle, curl_lock_data data, curl_lock_access access, void *user) {
  g_mutex_lock(&shared_lock);
}

static void shared_unlock_cb(CURL *handle, curl_lock_data data, void *user) {
  g_mutex_unlock(&shared_lock);
}

static CURLSH *shared_pool(void) {
  static gsize once = 0;
  static CURLSH *pool;
  if (g_once_init_enter(&once)) {
    pool = curl_share_init();
    if (pool) {
      curl_share_setopt(pool, CURLSHOPT_LOCKFUNC, shared_lock_cb);
      curl_share_setopt(pool, CURLSHOPT_UNLOCKFUNC, shared_unlock_cb);
      curl_share_setopt(pool, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    }
    g_once_init_leave(&once, 1);
  }
  return pool;
}

ScandHttp *scand_http_new(const ScandHttpOptions *options, GError **error) {
  static const ScandHttpOptions defaults = { 0 };
  const ScandHttpOptions *o = options ? options : &defaults;
  http_global_init();
  g_autoptr(ScandHttp) http = g_new0(ScandHttp, 1);
  http->label = g_strdup(o->label);
  http->protocols = g_strdup(o->protocols ? o->protocols : "http,https");
  http->ca_file = g_strdup(o->ca_file);
  http->trust_hint = g_strdup(o->trust_hint);
  http->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : SCAND_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
  http->timeout_ms = o->timeout_ms ? o->timeout_ms : SCAND_HTTP_DEFAULT_TIMEOUT_MS;
  http->stall_s = o->stall_s ? o->stall_s : SCAND_HTTP_DEFAULT_STALL_S;
  http->max_reply = o->max_reply ? o->max_reply : SCAND_HTTP_DEFAULT_MAX_REPLY;
  http->tls_unverified = o->tls_unverified;
  http->shared = o->shared_connections && !o->tls_unverified && !(o->tls_pin && *o->tls_pin) && shared_pool();
  if (o->tls_pin && *o->tls_pin) {
    g_autoptr(GError) local = NULL;
    if (!scand_http_pin_parse(o->tls_pin, http->tls.pin, &local)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", http->label ? http->label : "https", local->message);
      return NULL;
    }
    http->tls.have_pin = TRUE;
  }
  http->curl = curl_easy_init();
  if (!http->curl) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "cannot initialise libcurl");
    return NULL;
  }
  /* Checks that pinning can be honoured before any request is made. */
  if (!http->tls_unverified && !http_tls_setup(http->curl, &http->tls, error))
    return NULL;
  return g_steal_pointer(&http);
}

void scand_http_free(ScandHttp *http) {
  if (!http)
    return;
  if (http->curl)
    curl_easy_cleanup(http->curl);
  http_tls_clear(&http->tls);
  g_free(http->label);
  g_free(http->protocols);
  g_free(http->ca_file);
  g_free(http->trust_hint);
  g_free(http);
}

const char *scand_http_get_label(ScandHttp *http) {
  return http->label ? http->label : "";
}

ScandHttpOutcome scand_http_last_outcome(ScandHttp *http) {
  return http->outcome;
}

HttpTls *http_tls_of(ScandHttp *http) {
  return &http->tls;
}

void scand_http_cancel(ScandHttp *http) {
  atomic_store(&http->cancelled, 1);
}

void scand_http_reset_cancel(ScandHttp *http) {
  atomic_store(&http->cancelled, 0);
}

gboolean scand_http_is_cancelled(ScandHttp *http) {
  return (http && atomic_load(&http->cancelled)) || scand_http_stopping();
}

static void set_cancelled(ScandHttp *http, GError **error) {
  const char *who = http && http->label ? http->label : "scand";
  if (scand_http_stopping())
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled: scand is stopping", who);
  else
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled", who);
}

gboolean scand_http_sleep(ScandHttp *http, guint ms, GError **error) {
  gint64 until = g_get_monotonic_time() + (gint64) ms * 1000;
  for (;;) {
    if (scand_http_is_cancelled(http)) {
      set_cancelled(http, error);
      return FALSE;
    }
    gint64 now = g_get_monotonic_time();
    if (now >= until)
      return TRUE;
    g_usleep(MIN(until - now, 50000));
  }
}

/* ---- one transfer ----------------------------------------------------------- */

/* Transfer: http-private.h. */

void scand_http_reply_free(ScandHttpReply *reply) {
  if (!reply)
    return;
  if (reply->body)
    g_byte_array_unref(reply->body);
  if (reply->headers)
    g_ptr_array_unref(reply->headers);
  g_free(reply);
}

const char *scand_http_reply_header(const ScandHttpReply *reply, const char *name) {
  gsize n = strlen(name);
  for (guint i = reply->headers ? reply->headers->len : 0; i > 0; i--) {
    const char *line = reply->headers->pdata[i - 1];
    if (g_ascii_strncasecmp(line, name, n) == 0 && line[n] == ':')
      return line + n + 1 + strspn(line + n + 1, " \t");
  }
  return NULL;
}

/* Retry-After as delay-seconds or an HTTP-date; -1 when absent or unusable. */
static gint64 parse_retry_after(const char *value) {
  if (!value)
    return -1;
  guint64 secs;
  if (g_ascii_string_to_unsigned(value, 10, 0, G_MAXINT32, &secs, NULL))
    return (gint64) secs;
  time_t when = curl_getdate(value, NULL);
  if (when < 0)
    return -1;
  gint64 delta = (gint64) when - g_get_real_time() / G_USEC_PER_SEC;
  return MAX(delta, 0);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user) {
  Transfer *t = user;
  size_t len = size * nmemb;
  GPtrArray *headers = t->reply->headers;
  t->header_bytes += len;
  if (t->header_bytes > HTTP_MAX_HEADER_BYTES) {
    t->headers_too_large = TRUE;
    return 0;
  }
  if (len >= 5 && g_ascii_strncasecmp(data, "HTTP/", 5) == 0) {
    /* A new response (after 100 Continue): only the final one counts. */
    g_ptr_array_set_size(headers, 0);
    return len;
  }
  gsize n = len;
  while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n'))
    n--;
  if (n == 0 || !memchr(data, ':', n))
    return len;
  if (headers->len >= HTTP_MAX_HEADERS) {
    t->headers_too_large = TRUE;
    return 0;
  }
  g_ptr_array_add(headers, g_strndup(data, n));
  return len;
}

static gboolean to_memory(Transfer *t, const char *data, size_t len) {
  GByteArray *body = t->reply->body;
  if (body->len + len > t->http->max_reply) {
    t->too_large = TRUE;
    return FALSE;
  }
  g_byte_array_append(body, (const guint8 *) data, (guint) len);
  return TRUE;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user) {
  Transfer *t = user;
  size_t len = size * nmemb;
  const ScandHttpSink *sink = t->request->sink;
  if (sink && !t->decided) {
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->reply->status);
    t->decided = TRUE;
    t->choice = sink->begin(t->reply, sink->user, &t->sink_error);
    if (t->choice == SCAND_HTTP_SINK_ABORT) {
      if (!t->sink_error)
        g_set_error(&t->sink_error, SCAND_ERROR, SCAND_ERROR_IO, "%s: reply refused", scand_http_get_label(t->http));
      return 0;
    }
  }
  if (!sink || t->choice == SCAND_HTTP_SINK_MEMORY)
    return to_memory(t, data, len) ? len : 0;
  if (!sink->write(data, len, sink->user, &t->sink_error))
    return 0;
  t->reply->streamed += len;
  return len;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *user) {
  Transfer *t = user;
  const ScandHttpRequest *r = t->request;
  size_t k = MIN(size * nmemb, r->body_len - t->up_off);
  memcpy(buf, (const guint8 *) r->body + t->up_off, k);
  t->up_off += k;
  return k;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  ScandHttp *http = user;
  return scand_http_is_cancelled(http) ? 1 : 0;
}

/* The client's policy on its handle: everything every request gets. */
static CURL *apply_policy(ScandHttp *http, const char *url, guint timeout_ms, guint stall_s) {
  CURL *c = http->curl;
  /* Keeps the open connections, the DNS cache and TLS sessions. */
  curl_easy_reset(c);
  http->errbuf[0] = '\0';
  http_tls_reset_seen(&http->tls);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, http->protocols);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, http->errbuf);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "scand/" SCAND_VERSION);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long) http->connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) (timeout_ms ? timeout_ms : http->timeout_ms));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  http->current_stall_s = stall_s ? stall_s : http->stall_s;
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long) http->current_stall_s);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, http);
  if (http->shared) {
    curl_easy_setopt(c, CURLOPT_SHARE, shared_pool());
    curl_easy_setopt(c, CURLOPT_MAXCONNECTS, http_shared_connections_max());
  }
  if (http->tls_unverified) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    /* Checked by scand_http_new() already; cannot fail here. */
    http_tls_setup(c, &http->tls, NULL);
    if (http->ca_file)
      curl_easy_setopt(c, CURLOPT_CAINFO, http->ca_file);
  }
  return c;
}

/* Sets up t for request on the client's handle. */
void http_transfer_begin(Transfer *t, ScandHttp *http, const ScandHttpRequest *r) {
  memset(t, 0, sizeof *t);
  t->http = http;
  t->request = r;
  t->reply = g_new0(ScandHttpReply, 1);
  t->reply->body = g_byte_array_new();
  t->reply->headers = g_ptr_array_new_with_free_func(g_free);
  t->reply->retry_after = -1;
  CURL *c = t->curl = apply_policy(http, r->url, r->timeout_ms, r->stall_s);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  /* No "Expect: 100-continue" round trip before a body. */
  t->header_list = curl_slist_append(NULL, "Expect:");
  for (guint i = 0; r->headers && r->headers[i]; i++)
    t->header_list = curl_slist_append(t->header_list, r->headers[i]);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->header_list);
  const char *method = r->method ? r->method : r->body ? "POST" : "GET";
  if (r->body && strcmp(method, "POST") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) r->body_len);
  } else if (r->body) {
    /* PUT, PATCH: streamed from memory with its exact length. */
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, t);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) r->body_len);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  } else if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (strcmp(method, "GET") != 0) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  }
}

/* "https://host/path?query" → "/path" with a label, the URL without its query
 * (upload URLs carry tokens there) without. Newly allocated. */
static char *shown_target(ScandHttp *http, const char *url) {
  gsize n = strcspn(url, "?#");
  if (!http->label)
    return g_strndup(url, n);
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  p += strcspn(p, "/?#");
  return g_strndup(p, strcspn(p, "?#"));
}

/* Why a transfer failed after rc, as one line into error. */
static void transfer_error(ScandHttp *http, CURLcode rc, const char *method, const char *url, GError **error) {
  g_autofree char *target = shown_target(http, url);
  g_autofree char *who = !*method      ? g_strdup(http->label ? http->label : target)
                         : http->label ? g_strdup_printf("%s: %s %s", http->label, method, target)
                                       : g_strdup_printf("%s %s", method, target);
  const char *why = http->errbuf[0] ? http->errbuf : curl_easy_strerror(rc);
  if (rc == CURLE_ABORTED_BY_CALLBACK || scand_http_is_cancelled(http)) {
    http->outcome = SCAND_HTTP_CANCELLED;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled%s", who,
                scand_http_stopping() ? ": scand is stopping" : "");
    return;
  }
  g_autofree char *tls_msg = http_tls_explain_failure(&http->tls, http->label ? http->label : url, http->trust_hint);
  if (tls_msg) {
    http->outcome = SCAND_HTTP_TLS_REFUSED;
    g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_DENIED, tls_msg);
    return;
  }
  /* libcurl says which clock ran out: connecting (nothing was sent), the
   * whole transfer, or the low-speed check. */
  gboolean connecting = g_str_has_prefix(why, "Connection timed out") || g_str_has_prefix(why, "Resolving timed out");
  curl_off_t got = 0;
  curl_easy_getinfo(http->curl, CURLINFO_SIZE_DOWNLOAD_T, &got);
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      http->outcome = SCAND_HTTP_NO_CONNECTION;
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "%s: cannot connect: %s", who, why);
      return;
    case CURLE_OPERATION_TIMEDOUT:
      http->outcome = connecting ? SCAND_HTTP_NO_CONNECTION : SCAND_HTTP_TIMED_OUT;
      if (connecting)
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "%s: no connection within %u s", who,
                    (http->connect_timeout_ms + 999) / 1000);
      else if (strstr(why, "too slow"))
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                    "%s: stalled: less than a byte a second for %u s (%" CURL_FORMAT_CURL_OFF_T " bytes received)", who,
                    http->current_stall_s, got);
      else
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                    "%s: timed out: no complete reply within the time limit (%" CURL_FORMAT_CURL_OFF_T
                    " bytes received); the peer is too slow or stuck",
                    who, got);
      return;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      http->outcome = SCAND_HTTP_TLS_REFUSED;
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_DENIED, "%s: TLS certificate not trusted: %s", who, why);
      return;
    case CURLE_SSL_CONNECT_ERROR:
      http->outcome = SCAND_HTTP_NO_CONNECTION;
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "%s: TLS handshake failed: %s", who, why);
      return;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      http->outcome = SCAND_HTTP_BAD_URL;
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s (allowed: %s)", who, why, http->protocols);
      return;
    default:
      http->outcome = SCAND_HTTP_BROKEN;
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", who, why);
  }
}

/* Ends t after libcurl's result rc: the reply, or NULL with error. */
ScandHttpReply *http_transfer_finish(Transfer *t, CURLcode rc, GError **error) {
  ScandHttp *http = t->http;
  const ScandHttpRequest *r = t->request;
  g_autoptr(ScandHttpReply) reply = g_steal_pointer(&t->reply);
  g_clear_pointer(&t->header_list, curl_slist_free_all);
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &reply->status);
  const char *method = r->method ? r->method : r->body ? "POST" : "GET";
  http->outcome = SCAND_HTTP_OK;
  if (rc == CURLE_OK) {
    reply->retry_after = parse_retry_after(scand_http_reply_header(reply, "Retry-After"));
    return g_steal_pointer(&reply);
  }
  if (t->sink_error) {
    http->outcome = SCAND_HTTP_SINK_FAILED;
    g_propagate_error(error, g_steal_pointer(&t->sink_error));
  } else if (t->too_large) {
    http->outcome = SCAND_HTTP_TOO_LARGE;
    g_autofree char *target = shown_target(http, r->url);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s%s%s %s: the reply is larger than %" G_GSIZE_FORMAT " KiB, more than any such document should be; "
                "refused",
                http->label ? http->label : "", http->label ? ": " : "", method, target, http->max_reply / 1024);
  } else if (t->headers_too_large) {
    http->outcome = SCAND_HTTP_TOO_LARGE;
    g_autofree char *target = shown_target(http, r->url);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s%s%s %s: the reply headers are larger than %d KiB or %d lines; refused",
                http->label ? http->label : "", http->label ? ": " : "", method, target, HTTP_MAX_HEADER_BYTES / 1024,
                HTTP_MAX_HEADERS);
  } else {
    transfer_error(http, rc, method, r->url, error);
  }
  return NULL;
}

ScandHttpReply *scand_http_perform(ScandHttp *http, const ScandHttpRequest *request, GError **error) {
  if (scand_http_is_cancelled(http)) {
    http->outcome = SCAND_HTTP_CANCELLED;
    set_cancelled(http, error);
    return NULL;
  }
  Transfer t;
  http_transfer_begin(&t, http, request);
  CURLcode rc = curl_easy_perform(t.curl);
  return http_transfer_finish(&t, rc, error);
}

void scand_http_perform_many(ScandHttp *const *clients, const ScandHttpRequest *requests, guint n,
                             ScandHttpReply **replies, GError **errors) {
  http_global_init();
  g_autofree Transfer *t = g_new0(Transfer, MAX(n, 1));
  g_autofree gboolean *finished = g_new0(gboolean, MAX(n, 1));
  g_autofree CURLcode *result = g_new0(CURLcode, MAX(n, 1));
  CURLM *multi = curl_multi_init();
  for (guint i = 0; i < n; i++) {
    replies[i] = NULL;
    if (!clients[i]) {
      finished[i] = TRUE;
      continue;
    }
    http_transfer_begin(&t[i], clients[i], &requests[i]);
    curl_easy_setopt(t[i].curl, CURLOPT_PRIVATE, GUINT_TO_POINTER(i));
    result[i] = CURLE_FAILED_INIT;
    if (curl_multi_add_handle(multi, t[i].curl) != CURLM_OK)
      finished[i] = TRUE;
  }
  for (int running = 1; running > 0;) {
    if (curl_multi_perform(multi, &running) != CURLM_OK)
      break;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
      void *priv = NULL;
      if (msg->msg != CURLMSG_DONE || curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv) != CURLE_OK)
        continue;
      guint i = GPOINTER_TO_UINT(priv);
      if (i < n) {
        result[i] = msg->data.result;
        finished[i] = TRUE;
      }
    }
    if (running > 0 && curl_multi_poll(multi, NULL, 0, 200, NULL) != CURLM_OK)
      break;
  }
  for (guint i = 0; i < n; i++) {
    if (!clients[i]) {
      g_set_error(&errors[i], SCAND_ERROR, SCAND_ERROR_FAILED, "%s: no client", requests[i].url);
      continue;
    }
    curl_multi_remove_handle(multi, t[i].curl);
    replies[i] = http_transfer_finish(&t[i], finished[i] ? result[i] : CURLE_FAILED_INIT, &errors[i]);
  }
  curl_multi_cleanup(multi);
}

/* ---- other protocols -------------------------------------------------------- */

CURL *scand_http_prepare_raw(ScandHttp *http, const char *url) {
  return apply_policy(http, url, 0, 0);
}

CURLcode scand_http_perform_raw(ScandHttp *http, GError **error) {
  if (scand_http_is_cancelled(http)) {
    http->outcome = SCAND_HTTP_CANCELLED;
    set_cancelled(http, error);
    return CURLE_ABORTED_BY_CALLBACK;
  }
  http->outcome = SCAND_HTTP_OK;
  CURLcode rc = curl_easy_perform(http->curl);
  if (rc != CURLE_OK) {
    char *url = NULL;
    curl_easy_getinfo(http->curl, CURLINFO_EFFECTIVE_URL, &url);
    g_autofree char *copy = g_strdup(url ? url : "");
    transfer_error(http, rc, "", copy, error);
  }
  return rc;
}

/* ---- credentials in URLs ------------------------------------------------------ */

/* The user info of a URL's authority: its start and length; FALSE when none. */
static gboolean url_userinfo(const char *text, const char **start, gsize *len) {
  const char *p = text ? strstr(text, "://") : NULL;
  if (!p)
    return FALSE;
  p += 3;
  gsize authority = strcspn(p, "/?#");
  const char *at = g_strrstr_len(p, (gssize) authority, "@");
  if (!at)
    return FALSE;
  *start = p;
  *len = (gsize) (at - p);
  return TRUE;
}

gboolean scand_http_url_has_userinfo(const char *text) {
  const char *start;
  gsize len;
  return url_userinfo(text, &start, &len);
}

char *scand_http_url_without_password(const char *text) {
  const char *start;
  gsize len;
  if (!url_userinfo(text, &start, &len))
    return NULL;
  const char *colon = memchr(start, ':', len);
  if (!colon)
    return NULL;
  return g_strdup_printf("%.*s%s", (int) (colon - text), text, start + len);
}
