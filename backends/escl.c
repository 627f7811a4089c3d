/* eSCL (AirScan) backend: talks HTTP(S) to the scanner with libcurl.
 *
 * A job is POST ScanJobs → Location, then GET {job}/NextDocument until 404.
 * Pages stream from curl's write callback straight into the page sink; a job
 * is never held in memory. The protocol itself (documents, Location) lives in
 * escl-xml.c, the device quirks in escl-quirks.c, HTTPS pinning in escl-tls.c.
 *
 * Retry policy for 503 answers, from ScandScanSettings.extra_options (the
 * `--option` of `scand scan`, or the scanner's sane-options key):
 *   escl-retries=N          503 answers per request before giving up (20)
 *   escl-backoff-ms=MS      first wait without Retry-After, doubling (500)
 *   escl-backoff-max-ms=MS  longest such wait (8000)
 * A Retry-After from the device is honoured (up to 60 s) instead. */
#include "backends/backend-private.h"
#include "backends/escl.h"
#include "backends/escl-private.h"
#include "backends/escl-xml.h"
#include "scand/base/error.h"

#include <curl/curl.h>
#include <string.h>

#define ESCL_MAX_DOC (4 * 1024 * 1024) /* XML documents and error bodies */
#define ESCL_DEFAULT_RETRIES 20        /* 503 answers per request before giving up */
#define ESCL_DEFAULT_BACKOFF_MS 500
#define ESCL_DEFAULT_BACKOFF_MAX_MS 8000
#define ESCL_RETRY_AFTER_MAX_S 60
#define ESCL_DROP_RETRIES 2     /* re-asks for a page after the connection dropped */
#define ESCL_NOT_YET_RETRIES 10 /* quirk "404/410 = not ready yet" re-asks per page */

typedef struct {
  ScandScanner base;
  char *url;    /* "http://host:port/eSCL", no trailing slash */
  char *device; /* "escl:http://…" for messages */
  char *host;   /* as in the URL, IPv6 bracketed */
  int port;     /* 0 = scheme default */
  gboolean https;
  CURL *curl;
  EsclTls tls;
  EsclQuirks quirks;
  char *server; /* Server header */
  EsclCaps *caps;

  /* retry policy (extra options escl-retries, escl-backoff-ms, escl-backoff-max-ms) */
  guint retries;
  guint backoff_ms;
  guint backoff_max_ms;

  /* the current job */
  EsclScanRequest req;
  char *job_url;
  gboolean job_open; /* created on the device and not finished there */
  gboolean job_done; /* no more pages will be read */
  guint pages;
  guint max_pages;
  gint64 job_created_us;
  int cancelled; /* atomic */
} EsclScanner;

/* One HTTP exchange. */
typedef struct {
  EsclScanner *s;
  long status;
  GByteArray *body; /* non-page bodies, capped */
  char *location;
  char *content_type;
  char *server;
  int retry_after; /* seconds, -1 = none */
  /* page streaming */
  ScandPageSink *sink;
  gboolean sink_begun;
  gboolean not_page; /* 200 but not an image we can use */
  GError *sink_error;
  gsize streamed;
} EsclReply;

static void reply_clear(EsclReply *r) {
  if (r->body)
    g_byte_array_unref(r->body);
  g_free(r->location);
  g_free(r->content_type);
  g_free(r->server);
  g_clear_error(&r->sink_error);
  memset(r, 0, sizeof *r);
}

static gboolean is_cancelled(EsclScanner *s) {
  return g_atomic_int_get(&s->cancelled) != 0;
}

static void header_value(char **slot, const char *value, gsize len) {
  g_free(*slot);
  *slot = g_strstrip(g_strndup(value, len));
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *user) {
  EsclReply *r = user;
  size_t len = size * nmemb;
  if (len >= 5 && g_ascii_strncasecmp(data, "HTTP/", 5) == 0) {
    /* a new response (after 100 Continue): forget the previous headers */
    g_clear_pointer(&r->location, g_free);
    g_clear_pointer(&r->content_type, g_free);
    r->retry_after = -1;
    return len;
  }
  const char *colon = memchr(data, ':', len);
  if (!colon)
    return len;
  gsize name_len = colon - data;
  const char *value = colon + 1;
  gsize value_len = len - name_len - 1;
  if (name_len == 8 && g_ascii_strncasecmp(data, "Location", 8) == 0)
    header_value(&r->location, value, value_len);
  else if (name_len == 12 && g_ascii_strncasecmp(data, "Content-Type", 12) == 0)
    header_value(&r->content_type, value, value_len);
  else if (name_len == 6 && g_ascii_strncasecmp(data, "Server", 6) == 0)
    header_value(&r->server, value, value_len);
  else if (name_len == 11 && g_ascii_strncasecmp(data, "Retry-After", 11) == 0) {
    g_autofree char *v = NULL;
    header_value(&v, value, value_len);
    guint64 secs;
    /* An HTTP-date is rare on scanners; fall back to our own backoff then. */
    if (g_ascii_string_to_unsigned(v, 10, 0, 3600, &secs, NULL))
      r->retry_after = (int) secs;
  }
  return len;
}

static ScandPageFormat page_format(EsclReply *r, gboolean *ok) {
  const char *ct = r->content_type ? r->content_type : "";
  *ok = TRUE;
  if (g_ascii_strncasecmp(ct, "image/jpeg", 10) == 0 || g_ascii_strncasecmp(ct, "image/jpg", 9) == 0)
    return SCAND_PAGE_JPEG;
  if (g_ascii_strncasecmp(ct, "image/png", 9) == 0)
    return SCAND_PAGE_PNG;
  if (g_ascii_strncasecmp(ct, "application/pdf", 15) == 0)
    return SCAND_PAGE_PDF;
  if (!*ct || g_ascii_strncasecmp(ct, "application/octet-stream", 24) == 0)
    return r->s->req.format == ESCL_FORMAT_PNG   ? SCAND_PAGE_PNG
           : r->s->req.format == ESCL_FORMAT_PDF ? SCAND_PAGE_PDF
                                                 : SCAND_PAGE_JPEG;
  *ok = FALSE;
  return SCAND_PAGE_JPEG;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *user) {
  EsclReply *r = user;
  size_t len = size * nmemb;
  long status = 0;
  curl_easy_getinfo(r->s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (r->sink && status == 200) {
    if (!r->sink_begun) {
      gboolean ok;
      ScandPageHeader header = { .xres = r->s->req.resolution, .yres = r->s->req.resolution };
      header.format = page_format(r, &ok);
      if (!ok) {
        r->not_page = TRUE;
        return 0;
      }
      if (!r->sink->begin(r->sink, &header, &r->sink_error))
        return 0;
      r->sink_begun = TRUE;
    }
    if (!r->sink->write(r->sink, data, len, &r->sink_error))
      return 0;
    r->streamed += len;
    return len;
  }
  if (!r->body)
    r->body = g_byte_array_new();
  if (r->body->len + len > ESCL_MAX_DOC)
    return 0;
  g_byte_array_append(r->body, (const guint8 *) data, len);
  return len;
}

static int xferinfo_cb(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  EsclScanner *s = user;
  return is_cancelled(s) ? 1 : 0;
}

/* Performs one request. body (POST) may be NULL. Fills reply; returns FALSE
 * with an error only when no HTTP answer arrived (or it was cut short). */
static gboolean escl_http(EsclScanner *s, const char *method, const char *url, const char *body, EsclReply *reply,
                          GError **error) {
  CURL *c = s->curl;
  curl_easy_reset(c);
  reply->s = s;
  reply->retry_after = -1;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
  /* A page may take a while to start (the device scans it first, slowly at
   * high resolutions), but a device silent for three minutes is gone. */
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 180L);
  curl_easy_setopt(c, CURLOPT_USERAGENT,
                   "scand/"
                   "0.1");
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, reply);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
  if (s->https && !escl_tls_setup(c, &s->tls, error))
    return FALSE;
  escl_tls_reset_seen(&s->tls);

  struct curl_slist *headers = NULL;
  g_autofree char *host = escl_quirks_host_header(&s->quirks, s->host, s->port, s->https);
  g_autofree char *host_line = host ? g_strdup_printf("Host: %s", host) : NULL;
  if (host_line)
    headers = curl_slist_append(headers, host_line);
  headers = curl_slist_append(headers, "Expect:");
  if (body) {
    headers = curl_slist_append(headers, "Content-Type: text/xml");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
  } else if (strcmp(method, "GET") != 0) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
  const char *path = g_str_has_prefix(url, s->url) ? url + strlen(s->url) : url;

  if (rc == CURLE_OK)
    return TRUE;
  if (reply->sink_error) {
    g_propagate_error(error, g_steal_pointer(&reply->sink_error));
    return FALSE;
  }
  if (is_cancelled(s) || rc == CURLE_ABORTED_BY_CALLBACK) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled", s->device);
    return FALSE;
  }
  if (reply->not_page) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s: %s %s: page has type %s, expected %s", s->device,
                method, path, reply->content_type, escl_format_mime(s->req.format));
    return FALSE;
  }
  g_autofree char *tls_msg = s->https ? escl_tls_explain_failure(&s->tls, s->device) : NULL;
  if (tls_msg) {
    g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_DENIED, tls_msg);
    return FALSE;
  }
  int code = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ? SCAND_ERROR_NOT_FOUND : SCAND_ERROR_IO;
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR)
    code = SCAND_ERROR_DENIED;
  g_set_error(error, SCAND_ERROR, code, "%s: %s %s: %s", s->device, method, path, curl_easy_strerror(rc));
  return FALSE;
}

/* A short text of a non-success reply for messages. */
static char *reply_describe(EsclReply *r) {
  g_autofree char *body = NULL;
  if (r->body && r->body->len && r->content_type && g_str_has_prefix(r->content_type, "text/plain")) {
    body = g_utf8_make_valid((const char *) r->body->data, MIN(r->body->len, 80));
    for (char *p = body; *p; p++)
      if ((guchar) *p < 0x20 || *p == 0x7f)
        *p = ' ';
    g_strstrip(body);
  }
  return body && *body ? g_strdup_printf("HTTP %ld (%s)", r->status, body) : g_strdup_printf("HTTP %ld", r->status);
}

/* Sleeps ms, waking early on cancel. Returns FALSE when cancelled. */
static gboolean sleep_ms(EsclScanner *s, guint ms) {
  gint64 until = g_get_monotonic_time() + (gint64) ms * 1000;
  while (!is_cancelled(s)) {
    gint64 now = g_get_monotonic_time();
    if (now >= until)
      return TRUE;
    g_usleep(MIN(until - now, 50000));
  }
  return FALSE;
}

/* The wait before retry number attempt (0-based) of a 503. */
static guint backoff_delay(EsclScanner *s, EsclReply *r, guint attempt) {
  if (r->retry_after >= 0)
    return (guint) MIN(r->retry_after, ESCL_RETRY_AFTER_MAX_S) * 1000;
  guint64 d = (guint64) s->backoff_ms << MIN(attempt, 16u);
  return (guint) MIN(d, (guint64) s->backoff_max_ms);
}

static char *doc_url(EsclScanner *s, const char *name) {
  return g_strdup_printf("%s/%s", s->url, name);
}

/* GETs an XML document into reply (status 200 checked by the caller). The
 * Host quirk of a device is learnt from its Server header: a 400 from a
 * device whose Server header asks for a quirk is retried once with it. */
static gboolean get_document(EsclScanner *s, const char *name, EsclReply *reply, GError **error) {
  g_autofree char *url = doc_url(s, name);
  for (guint attempt = 0;; attempt++) {
    reply_clear(reply);
    if (!escl_http(s, "GET", url, NULL, reply, error))
      return FALSE;
    if (reply->server && !s->server) {
      s->server = g_strdup(reply->server);
      EsclQuirks q;
      escl_quirks_lookup(s->server, s->caps ? s->caps->make_and_model : NULL, &q);
      gboolean changed = q.host_override != s->quirks.host_override || q.host_with_port != s->quirks.host_with_port;
      escl_quirks_clear(&s->quirks);
      s->quirks = q;
      if (reply->status == 400 && changed && attempt == 0)
        continue;
    }
    if (reply->status == 503 && attempt < s->retries) {
      if (!sleep_ms(s, backoff_delay(s, reply, attempt))) {
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled", s->device);
        return FALSE;
      }
      continue;
    }
    if (reply->status != 200) {
      g_autofree char *what = reply_describe(reply);
      g_set_error(error, SCAND_ERROR, reply->status == 404 ? SCAND_ERROR_NOT_FOUND : SCAND_ERROR_IO, "%s: GET %s: %s",
                  s->device, name, what);
      return FALSE;
    }
    return TRUE;
  }
}

static gboolean fetch_status(EsclScanner *s, ScandEsclStatus *st, GError **error) {
  EsclReply reply = { 0 };
  if (!get_document(s, "ScannerStatus", &reply, error)) {
    reply_clear(&reply);
    return FALSE;
  }
  g_autoptr(GError) local = NULL;
  gboolean ok = escl_status_decode(reply.body ? (const char *) reply.body->data : "", reply.body ? reply.body->len : 0,
                                   st, &local);
  reply_clear(&reply);
  if (!ok)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", s->device, local->message);
  return ok;
}

static void escl_free(EsclScanner *s) {
  if (!s)
    return;
  if (s->curl)
    curl_easy_cleanup(s->curl);
  escl_tls_clear(&s->tls);
  escl_quirks_clear(&s->quirks);
  escl_caps_free(s->caps);
  escl_scan_request_clear(&s->req);
  g_free(s->url);
  g_free(s->device);
  g_free(s->host);
  g_free(s->server);
  g_free(s->job_url);
  g_free(s);
}

/* Parses "http[s]://host[:port]/root" and prepares a handle; no request yet. */
static EsclScanner *escl_new(const char *rest, const ScandOpenOptions *options, GError **error) {
  static gsize curl_once = 0;
  if (g_once_init_enter(&curl_once)) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_once_init_leave(&curl_once, 1);
  }
  if (g_str_has_prefix(rest, "escl:"))
    rest += 5;
  g_autofree char *device = g_strdup_printf("escl:%s", rest);
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, rest, 0);
  if (uc == CURLUE_OK)
    uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
  if (uc == CURLUE_OK)
    uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
  if (uc == CURLUE_OK)
    uc = curl_url_get(u, CURLUPART_PATH, &path, 0);
  curl_url_get(u, CURLUPART_PORT, &port, 0);
  gboolean ok = uc == CURLUE_OK && (g_strcmp0(scheme, "http") == 0 || g_strcmp0(scheme, "https") == 0);
  EsclScanner *s = NULL;
  if (!ok) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "device \"%s\": not an eSCL URI (expected escl:http[s]://HOST[:PORT]/eSCL)", device);
    goto out;
  }
  s = g_new0(EsclScanner, 1);
  s->device = g_steal_pointer(&device);
  s->https = strcmp(scheme, "https") == 0;
  s->host = g_strdup(host);
  s->port = port ? atoi(port) : 0;
  /* The URL as the user wrote it (an IPv6 zone id stays intact), without
   * query and trailing slashes. */
  gsize ulen = strcspn(rest, "?#");
  while (ulen > 0 && rest[ulen - 1] == '/')
    ulen--;
  s->url = g_strndup(rest, ulen);
  s->retries = ESCL_DEFAULT_RETRIES;
  s->backoff_ms = ESCL_DEFAULT_BACKOFF_MS;
  s->backoff_max_ms = ESCL_DEFAULT_BACKOFF_MAX_MS;
  s->curl = curl_easy_init();
  if (options && options->tls_pin && *options->tls_pin) {
    g_autoptr(GError) local = NULL;
    if (!escl_tls_pin_parse(options->tls_pin, s->tls.pin, &local)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", s->device, local->message);
      escl_free(s);
      s = NULL;
      goto out;
    }
    s->tls.have_pin = TRUE;
  }
out:
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(path);
  curl_url_cleanup(u);
  return s;
}

static ScandScanner *escl_open(const char *rest, const ScandOpenOptions *options, GError **error) {
  EsclScanner *s = escl_new(rest, options, error);
  if (!s)
    return NULL;
  EsclReply reply = { 0 };
  if (!get_document(s, "ScannerCapabilities", &reply, error)) {
    reply_clear(&reply);
    escl_free(s);
    return NULL;
  }
  g_autoptr(GError) local = NULL;
  if (!escl_caps_decode(reply.body ? (const char *) reply.body->data : "", reply.body ? reply.body->len : 0, &s->caps,
                        &local)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", s->device, local->message);
    reply_clear(&reply);
    escl_free(s);
    return NULL;
  }
  reply_clear(&reply);
  escl_quirks_clear(&s->quirks);
  escl_quirks_lookup(s->server, s->caps->make_and_model, &s->quirks);
  s->base.uri = g_strdup(s->device);
  s->base.name = g_strdup(s->host[0] == '[' ? s->host + 1 : s->host);
  if (s->base.name[0] && s->base.name[strlen(s->base.name) - 1] == ']')
    s->base.name[strlen(s->base.name) - 1] = '\0';
  return &s->base;
}

/* Best-effort DELETE of the job on the device. */
static void job_delete(EsclScanner *s) {
  if (!s->job_url || !s->job_open)
    return;
  s->job_open = FALSE;
  int was_cancelled = g_atomic_int_get(&s->cancelled);
  g_atomic_int_set(&s->cancelled, 0); /* let the DELETE itself through */
  EsclReply reply = { 0 };
  g_autoptr(GError) ignored = NULL;
  escl_http(s, "DELETE", s->job_url, NULL, &reply, &ignored);
  reply_clear(&reply);
  g_atomic_int_set(&s->cancelled, was_cancelled);
}

static void apply_extra_options(EsclScanner *s, GStrv extra) {
  for (guint i = 0; extra && extra[i]; i++) {
    const char *eq = strchr(extra[i], '=');
    guint64 v;
    if (!eq || !g_ascii_string_to_unsigned(eq + 1, 10, 0, 600000, &v, NULL))
      continue;
    gsize n = eq - extra[i];
    if (n == 12 && strncmp(extra[i], "escl-retries", n) == 0)
      s->retries = (guint) v;
    else if (n == 15 && strncmp(extra[i], "escl-backoff-ms", n) == 0)
      s->backoff_ms = MAX(1, (guint) v);
    else if (n == 19 && strncmp(extra[i], "escl-backoff-max-ms", n) == 0)
      s->backoff_max_ms = MAX(1, (guint) v);
  }
}

/* The feeder's state as an error when it forbids a scan; TRUE when the scan
 * may go on (or the device does not say). */
static gboolean check_feeder(EsclScanner *s, gboolean before_first_page, GError **error) {
  ScandEsclStatus st;
  g_autoptr(GError) ignored = NULL;
  if (!fetch_status(s, &st, &ignored))
    return TRUE;
  ScandEsclAdfState adf = st.adf_state;
  if (adf == SCAND_ESCL_ADF_JAM && s->quirks.adf_jam_means_empty && before_first_page)
    adf = SCAND_ESCL_ADF_EMPTY;
  int code = 0;
  const char *problem = scand_escl_adf_state_problem(adf, &code);
  scand_escl_status_clear(&st);
  if (!problem)
    return TRUE;
  g_set_error(error, SCAND_ERROR, code, "%s: cannot scan from the feeder: %s", s->device, problem);
  return FALSE;
}

static gboolean escl_start(ScandScanner *scanner, const ScandScanSettings *settings, ScandScanSettings *effective,
                           GError **error) {
  EsclScanner *s = (EsclScanner *) scanner;
  job_delete(s);
  g_clear_pointer(&s->job_url, g_free);
  escl_scan_request_clear(&s->req);
  g_atomic_int_set(&s->cancelled, 0);
  s->pages = 0;
  s->job_done = FALSE;
  apply_extra_options(s, settings->extra_options);

  g_autoptr(GError) local = NULL;
  if (!escl_scan_request_choose(s->caps, settings, s->quirks.max_resolution, &s->req, effective, &local)) {
    g_set_error(error, SCAND_ERROR, local->code, "%s: %s", s->device, local->message);
    return FALSE;
  }
  gboolean feeder = s->req.input != ESCL_INPUT_PLATEN;
  s->max_pages = feeder ? settings->max_pages : 1;
  if (feeder && !check_feeder(s, TRUE, error))
    return FALSE;

  g_autofree char *xml = escl_scan_settings_build(&s->req);
  g_autofree char *url = doc_url(s, "ScanJobs");
  EsclReply reply = { 0 };
  for (guint attempt = 0;; attempt++) {
    reply_clear(&reply);
    if (!escl_http(s, "POST", url, xml, &reply, error)) {
      reply_clear(&reply);
      return FALSE;
    }
    if (reply.status == 503 && attempt < s->retries) {
      if (!sleep_ms(s, backoff_delay(s, &reply, attempt))) {
        reply_clear(&reply);
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled", s->device);
        return FALSE;
      }
      continue;
    }
    break;
  }
  if (reply.status != 201) {
    g_autofree char *what = reply_describe(&reply);
    long status = reply.status;
    reply_clear(&reply);
    if ((status == 409 || status == 503) && feeder && !check_feeder(s, TRUE, error))
      return FALSE;
    g_set_error(error, SCAND_ERROR, status == 503 ? SCAND_ERROR_BUSY : SCAND_ERROR_IO,
                "%s: POST ScanJobs (%s, %d dpi, %s): %s", s->device, escl_input_name(s->req.input), s->req.resolution,
                escl_color_mode_name(s->req.color_mode), what);
    return FALSE;
  }
  s->job_url = escl_location_resolve(s->url, reply.location, &local);
  reply_clear(&reply);
  if (!s->job_url) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", s->device, local->message);
    return FALSE;
  }
  s->job_open = TRUE;
  s->job_created_us = g_get_monotonic_time();
  return TRUE;
}

/* Ends the job after an error: frees the device for others. */
static gboolean fail_job(EsclScanner *s) {
  job_delete(s);
  s->job_done = TRUE;
  return FALSE;
}

/* Decides what a 409 on NextDocument means by asking the device. */
static gboolean conflict_to_result(EsclScanner *s, gboolean *got_page, GError **error) {
  ScandEsclStatus st;
  g_autoptr(GError) local = NULL;
  s->job_open = FALSE;
  s->job_done = TRUE;
  if (!fetch_status(s, &st, &local)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s: the device stopped the job at page %u (HTTP 409) and its status is unreadable: %s", s->device,
                s->pages + 1, local->message);
    return FALSE;
  }
  int code = SCAND_ERROR_IO;
  const char *problem = scand_escl_adf_state_problem(st.adf_state, &code);
  g_autofree char *word = g_strdup(st.adf_state_word ? st.adf_state_word : "not reported");
  scand_escl_status_clear(&st);
  if (code == SCAND_ERROR_NO_DOCS && s->pages > 0) {
    *got_page = FALSE;
    return TRUE;
  }
  if (problem)
    g_set_error(error, SCAND_ERROR, code, "%s: %s at page %u (%u page%s received and kept)", s->device, problem,
                s->pages + 1, s->pages, s->pages == 1 ? "" : "s");
  else
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s: the device stopped the job at page %u (HTTP 409, feeder state %s)", s->device, s->pages + 1, word);
  return FALSE;
}

/* With the "404/410 = not yet" quirk: TRUE when the device's status says our
 * job is still running, so the page is worth asking for again. */
static gboolean job_still_running(EsclScanner *s) {
  ScandEsclStatus st;
  g_autoptr(GError) ignored = NULL;
  if (!fetch_status(s, &st, &ignored))
    return FALSE;
  const ScandEsclJob *job = escl_status_find_job(&st, s->job_url);
  gboolean running = job && job->state && (strcmp(job->state, "Processing") == 0 || strcmp(job->state, "Pending") == 0);
  scand_escl_status_clear(&st);
  return running;
}

static gboolean escl_read_page(ScandScanner *scanner, ScandPageSink *sink, gboolean *got_page, GError **error) {
  EsclScanner *s = (EsclScanner *) scanner;
  *got_page = FALSE;
  if (!s->job_url) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: no scan job started", s->device);
    return FALSE;
  }
  if (is_cancelled(s)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled", s->device);
    return fail_job(s);
  }
  if (s->job_done)
    return TRUE;
  gboolean feeder = s->req.input != ESCL_INPUT_PLATEN;
  if (s->max_pages > 0 && s->pages >= s->max_pages) {
    /* A flatbed job is complete after its page; a feeder job cut short by
     * max_pages still holds sheets on the device. */
    if (feeder)
      job_delete(s);
    s->job_open = FALSE;
    s->job_done = TRUE;
    return TRUE;
  }

  if (feeder && s->pages == 0 && s->quirks.first_page_delay_ms) {
    gint64 due = s->job_created_us + (gint64) s->quirks.first_page_delay_ms * 1000;
    gint64 now = g_get_monotonic_time();
    if (due > now && !sleep_ms(s, (guint) ((due - now) / 1000))) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled", s->device);
      return fail_job(s);
    }
  }

  g_autofree char *url = g_strdup_printf("%s/NextDocument", s->job_url);
  guint busy = 0, drops = 0, not_yet = 0;
  gboolean lost_page = FALSE; /* a drop happened and the device may have moved on */
  for (;;) {
    EsclReply reply = { .sink = sink };
    g_autoptr(GError) local = NULL;
    gboolean ok = escl_http(s, "GET", url, NULL, &reply, &local);
    if (!ok) {
      gboolean begun = reply.sink_begun;
      gsize streamed = reply.streamed;
      if (begun)
        sink->abort(sink);
      reply_clear(&reply);
      if (local->domain == SCAND_ERROR && local->code == SCAND_ERROR_IO && drops < ESCL_DROP_RETRIES) {
        /* The connection broke: ask for the page again; most devices keep
         * it until it was delivered in full. */
        drops++;
        lost_page = begun;
        if (!sleep_ms(s, 200)) {
          g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled", s->device);
          return fail_job(s);
        }
        continue;
      }
      if (local->domain == SCAND_ERROR && local->code == SCAND_ERROR_IO)
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                    "%s: connection lost while receiving page %u (%" G_GSIZE_FORMAT " bytes in, %u attempts); "
                    "job ended with %u page%s kept: %s",
                    s->device, s->pages + 1, streamed, drops + 1, s->pages, s->pages == 1 ? "" : "s", local->message);
      else
        g_propagate_error(error, g_steal_pointer(&local));
      return fail_job(s);
    }

    long status = reply.status;
    if (status == 200) {
      gboolean begun = reply.sink_begun;
      reply_clear(&reply);
      if (!begun) {
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: page %u arrived empty", s->device, s->pages + 1);
        return fail_job(s);
      }
      if (!sink->end(sink, error))
        return fail_job(s);
      s->pages++;
      *got_page = TRUE;
      if (!feeder) {
        s->job_open = FALSE; /* the platen's one page: the job is complete */
      }
      return TRUE;
    }
    if (status == 503 && busy < s->retries) {
      guint delay = backoff_delay(s, &reply, busy++);
      reply_clear(&reply);
      if (!sleep_ms(s, delay)) {
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled", s->device);
        return fail_job(s);
      }
      continue;
    }
    if ((status == 404 || status == 410) && not_yet < ESCL_NOT_YET_RETRIES) {
      gboolean early = feeder && s->pages == 0 && s->quirks.early_404_window_ms &&
                       g_get_monotonic_time() - s->job_created_us < (gint64) s->quirks.early_404_window_ms * 1000;
      if (early || (s->quirks.retry_404_410 && job_still_running(s))) {
        not_yet++;
        guint delay = backoff_delay(s, &reply, not_yet - 1);
        reply_clear(&reply);
        if (!sleep_ms(s, delay)) {
          g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled", s->device);
          return fail_job(s);
        }
        continue;
      }
    }
    if (status == 404 || status == 410) {
      reply_clear(&reply);
      s->job_open = FALSE;
      s->job_done = TRUE;
      if (lost_page) {
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                    "%s: connection lost while receiving page %u and the device cannot send it again; "
                    "job ended with %u page%s kept",
                    s->device, s->pages + 1, s->pages, s->pages == 1 ? "" : "s");
        return FALSE;
      }
      if (s->pages > 0)
        return TRUE;
      if (feeder && !check_feeder(s, TRUE, error))
        return FALSE;
      g_set_error(error, SCAND_ERROR, feeder ? SCAND_ERROR_NO_DOCS : SCAND_ERROR_IO,
                  feeder ? "%s: the feeder gave no page (is it empty?)" : "%s: the device ended the job without a page",
                  s->device);
      return FALSE;
    }
    if (status == 409) {
      reply_clear(&reply);
      return conflict_to_result(s, got_page, error);
    }
    g_autofree char *what = reply_describe(&reply);
    reply_clear(&reply);
    g_set_error(error, SCAND_ERROR, status == 503 ? SCAND_ERROR_BUSY : SCAND_ERROR_IO,
                "%s: NextDocument for page %u: %s%s; job ended with %u page%s kept", s->device, s->pages + 1, what,
                status == 503 ? " (still busy after all retries)" : "", s->pages, s->pages == 1 ? "" : "s");
    return fail_job(s);
  }
}

static void escl_cancel(ScandScanner *scanner) {
  EsclScanner *s = (EsclScanner *) scanner;
  g_atomic_int_set(&s->cancelled, 1);
}

static void escl_close(ScandScanner *scanner) {
  EsclScanner *s = (EsclScanner *) scanner;
  job_delete(s);
  escl_free(s);
}

const ScandBackendDriver scand_backend_escl = {
  .scheme = "escl",
  .list = NULL,
  .open = escl_open,
  .start = escl_start,
  .read_page = escl_read_page,
  .cancel = escl_cancel,
  .close = escl_close,
  .panel = &scand_panel_hp_walkup,
};

/* ---- public extras ------------------------------------------------------ */

gboolean scand_escl_status_decode(const char *xml, gsize len, ScandEsclStatus *out, GError **error) {
  return escl_status_decode(xml, len, out, error);
}

gboolean scand_escl_get_status(const char *uri, const ScandOpenOptions *options, ScandEsclStatus *out, GError **error) {
  memset(out, 0, sizeof *out);
  EsclScanner *s = escl_new(uri, options, error);
  if (!s)
    return FALSE;
  gboolean ok = fetch_status(s, out, error);
  escl_free(s);
  return ok;
}

void scand_escl_certificate_free(ScandEsclCertificate *cert) {
  if (!cert)
    return;
  g_free(cert->subject);
  g_free(cert->issuer);
  g_free(cert->fingerprint);
  g_free(cert);
}

ScandEsclCertificate *scand_escl_fetch_certificate(const char *uri, GError **error) {
  EsclScanner *s = escl_new(uri, NULL, error);
  if (!s)
    return NULL;
  if (!s->https) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: not an https device; there is no certificate to trust",
                s->device);
    escl_free(s);
    return NULL;
  }
  CURL *c = s->curl;
  /* Handshake only: the certificate is recorded by the verify callback
   * whether or not the CA store vouches for it, and no request is sent. */
  g_autoptr(GError) local = NULL;
  if (!escl_tls_setup(c, &s->tls, &local)) {
    g_propagate_error(error, g_steal_pointer(&local));
    escl_free(s);
    return NULL;
  }
  curl_easy_setopt(c, CURLOPT_URL, s->url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
  CURLcode rc = curl_easy_perform(c);
  ScandEsclCertificate *cert = NULL;
  if (s->tls.seen) {
    cert = g_new0(ScandEsclCertificate, 1);
    cert->subject = g_strdup(s->tls.seen_subject);
    cert->issuer = g_strdup(s->tls.seen_issuer);
    cert->fingerprint = escl_tls_fingerprint_format(s->tls.seen_digest);
    cert->trusted_by_ca = rc == CURLE_OK && !s->tls.ca_failed;
  } else {
    g_set_error(error, SCAND_ERROR, rc == CURLE_COULDNT_CONNECT ? SCAND_ERROR_NOT_FOUND : SCAND_ERROR_IO,
                "%s: TLS handshake failed before a certificate arrived: %s", s->device, curl_easy_strerror(rc));
  }
  escl_free(s);
  return cert;
}
