/* eSCL (AirScan) backend: talks HTTP(S) to the scanner through scand's one
 * HTTP client (scand/base/http.h), one client per open device, so that its
 * connection is kept alive across the requests of a job.
 *
 * A job is POST ScanJobs → Location, then GET {job}/NextDocument until 404.
 * Pages stream from the client's sink straight into the page sink; a job is
 * never held in memory. The protocol itself (documents, Location) lives in
 * escl-xml.c, the device quirks in escl-quirks.c.
 *
 * Every request is bounded: documents by the scanner's `timeout` (30 s), a
 * page by its `page-timeout` (10 min), and by a stall of 3 minutes without a
 * byte; cancel (or SIGTERM through scand_http_stop_all()) ends a transfer at
 * once.
 *
 * Retry policy for 503 answers, from ScandScanSettings.extra_options (the
 * `--option` of `scand scan`, or the scanner's sane-options key):
 *   escl-retries=N          503 answers per request before giving up (20)
 *   escl-backoff-ms=MS      first wait without Retry-After, doubling (500)
 *   escl-backoff-max-ms=MS  longest such wait (8000)
 * A Retry-After from the device is honoured (up to 60 s) instead. */
#include "backends/backend-private.h"
#include "backends/device-http.h"
#include "backends/escl-private.h"
#include "backends/escl-xml.h"
#include "backends/escl.h"
#include "backends/panel-private.h"
#include "scand/base/error.h"
#include "scand/base/http.h"

#include <string.h>

#define ESCL_DEFAULT_RETRIES 20 /* 503 answers per request before giving up */
#define ESCL_DEFAULT_BACKOFF_MS 500
#define ESCL_DEFAULT_BACKOFF_MAX_MS 8000
#define ESCL_RETRY_AFTER_MAX_S 60
#define ESCL_DROP_RETRIES 2     /* re-asks for a page after the connection dropped */
#define ESCL_NOT_YET_RETRIES 10 /* quirk "404/410 = not ready yet" re-asks per page */
#define ESCL_CONNECT_TIMEOUT_MS 15000
#define ESCL_DEFAULT_TIMEOUT_MS 30000       /* a document, a job created or deleted */
#define ESCL_DEFAULT_PAGE_TIMEOUT_MS 600000 /* one page, from asking to its last byte */
/* A page may take a while to start (the device scans it first, slowly at
 * high resolutions), but a device silent for three minutes is gone. */
#define ESCL_STALL_S 180

typedef struct {
  ScandScanner base;
  char *url;    /* "http://host:port/eSCL", no trailing slash */
  char *device; /* "escl:http://…" for messages */
  char *host;   /* as in the URL, IPv6 bracketed */
  int port;     /* 0 = scheme default */
  gboolean https;
  ScandHttp *http;
  char *kept_key; /* a status client: its http is kept between polls under this key (device-http.h) */
  guint timeout_ms;
  guint page_timeout_ms;
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
} EsclScanner;

static gboolean is_cancelled(EsclScanner *s) {
  return scand_http_is_cancelled(s->http);
}

static void set_cancelled(EsclScanner *s, GError **error) {
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled%s", s->device,
              scand_http_stopping() ? ": scand is stopping" : "");
}

/* Sleeps ms, waking early on cancel. Returns FALSE (error set) when cancelled. */
static gboolean sleep_ms(EsclScanner *s, guint ms, GError **error) {
  if (scand_http_sleep(s->http, ms, NULL))
    return TRUE;
  set_cancelled(s, error);
  return FALSE;
}

/* ---- one exchange ------------------------------------------------------------ */

/* Performs one request with the device's Host quirk; body (POST) may be NULL,
 * sink streams a page. Returns the reply, whatever its status, or NULL with an
 * error when none arrived in full. */
static ScandHttpReply *escl_http(EsclScanner *s, const char *method, const char *url, const char *body,
                                 const ScandHttpSink *sink, guint timeout_ms, GError **error) {
  g_autofree char *host = escl_quirks_host_header(&s->quirks, s->host, s->port, s->https);
  g_autofree char *host_line = host ? g_strdup_printf("Host: %s", host) : NULL;
  const char *headers[3] = { NULL };
  guint n = 0;
  if (host_line)
    headers[n++] = host_line;
  if (body)
    headers[n++] = "Content-Type: text/xml";
  ScandHttpRequest request = {
    .method = method,
    .url = url,
    .headers = headers,
    .body = body,
    .body_len = body ? strlen(body) : 0,
    .timeout_ms = timeout_ms ? timeout_ms : s->timeout_ms,
    .sink = sink,
  };
  ScandHttpReply *reply = scand_http_perform(s->http, &request, error);
  const char *server = reply ? scand_http_reply_header(reply, "Server") : NULL;
  if (server && !s->server)
    s->server = g_strdup(server);
  return reply;
}

/* A non-success reply for messages: its status only. Never the body: an
 * error travels to whoever asked (a D-Bus caller, a web page), and a
 * device's reply is not theirs to read through scand. */
static char *reply_describe(const ScandHttpReply *r) {
  return g_strdup_printf("HTTP %ld", r->status);
}

/* The wait before retry number attempt (0-based) of a 503. */
static guint backoff_delay(EsclScanner *s, const ScandHttpReply *r, guint attempt) {
  if (r->retry_after >= 0)
    return (guint) MIN(r->retry_after, ESCL_RETRY_AFTER_MAX_S) * 1000;
  guint64 d = (guint64) s->backoff_ms << MIN(attempt, 16u);
  return (guint) MIN(d, (guint64) s->backoff_max_ms);
}

static char *doc_url(EsclScanner *s, const char *name) {
  return g_strdup_printf("%s/%s", s->url, name);
}

/* One request, asked again while the device answers 503 (busy), up to the
 * retry policy. Returns the last reply or NULL with an error. */
static ScandHttpReply *request_retrying(EsclScanner *s, const char *method, const char *url, const char *body,
                                        GError **error) {
  for (guint attempt = 0;; attempt++) {
    ScandHttpReply *reply = escl_http(s, method, url, body, NULL, 0, error);
    if (!reply || reply->status != 503 || attempt >= s->retries)
      return reply;
    guint delay = backoff_delay(s, reply, attempt);
    scand_http_reply_free(reply);
    if (!sleep_ms(s, delay, error))
      return NULL;
  }
}

/* Learns the device's quirks from its Server header; TRUE when the Host
 * header we send changes because of them. */
static gboolean learn_quirks(EsclScanner *s) {
  EsclQuirks q;
  escl_quirks_lookup(s->server, s->caps ? s->caps->make_and_model : NULL, &q);
  gboolean changed = q.host_override != s->quirks.host_override || q.host_with_port != s->quirks.host_with_port;
  escl_quirks_clear(&s->quirks);
  s->quirks = q;
  return changed;
}

/* GETs an XML document; the reply has status 200. A 400 from a device whose
 * Server header (first seen on this reply) asks for a Host quirk is asked
 * again once with it. Newly allocated. */
static ScandHttpReply *get_document(EsclScanner *s, const char *name, GError **error) {
  g_autofree char *url = doc_url(s, name);
  gboolean knew_server = s->server != NULL;
  g_autoptr(ScandHttpReply) reply = request_retrying(s, "GET", url, NULL, error);
  if (!reply)
    return NULL;
  if (!knew_server && s->server && learn_quirks(s) && reply->status == 400) {
    scand_http_reply_free(g_steal_pointer(&reply));
    reply = request_retrying(s, "GET", url, NULL, error);
    if (!reply)
      return NULL;
  }
  if (reply->status != 200) {
    g_autofree char *what = reply_describe(reply);
    g_set_error(error, SCAND_ERROR, reply->status == 404 ? SCAND_ERROR_NOT_FOUND : SCAND_ERROR_IO, "%s: GET %s: %s",
                s->device, name, what);
    return NULL;
  }
  return g_steal_pointer(&reply);
}

static gboolean fetch_status(EsclScanner *s, ScandEsclStatus *st, GError **error) {
  g_autoptr(ScandHttpReply) reply = get_document(s, "ScannerStatus", error);
  if (!reply)
    return FALSE;
  g_autoptr(GError) local = NULL;
  if (!escl_status_decode((const char *) reply->body->data, reply->body->len, st, &local)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", s->device, local->message);
    return FALSE;
  }
  return TRUE;
}

/* ---- opening ------------------------------------------------------------------ */

static void escl_free(EsclScanner *s) {
  if (!s)
    return;
  scand_http_free(s->http);
  g_free(s->kept_key);
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
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EsclScanner, escl_free)

/* A part of a parsed URL, or NULL. Newly allocated. */
static char *url_part(CURLU *u, CURLUPart part) {
  char *v = NULL;
  if (curl_url_get(u, part, &v, 0) != CURLUE_OK)
    return NULL;
  char *copy = g_strdup(v);
  curl_free(v);
  return copy;
}

/* Parses "http[s]://host[:port]/root" into s (url, host, port, https). */
static gboolean parse_device_url(EsclScanner *s, const char *rest, GError **error) {
  g_autoptr(CURLU) u = curl_url();
  g_autofree char *scheme = NULL, *host = NULL, *path = NULL, *port = NULL;
  if (curl_url_set(u, CURLUPART_URL, rest, 0) == CURLUE_OK) {
    scheme = url_part(u, CURLUPART_SCHEME);
    host = url_part(u, CURLUPART_HOST);
    path = url_part(u, CURLUPART_PATH);
    port = url_part(u, CURLUPART_PORT);
  }
  if (!host || !path || (g_strcmp0(scheme, "http") != 0 && g_strcmp0(scheme, "https") != 0)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "device \"%s\": not an eSCL URI (expected escl:http[s]://HOST[:PORT]/eSCL)", s->device);
    return FALSE;
  }
  s->https = strcmp(scheme, "https") == 0;
  s->host = g_steal_pointer(&host);
  s->port = port ? atoi(port) : 0;
  /* The URL as the user wrote it (an IPv6 zone id stays intact), without
   * query and trailing slashes. */
  gsize ulen = strcspn(rest, "?#");
  while (ulen > 0 && rest[ulen - 1] == '/')
    ulen--;
  s->url = g_strndup(rest, ulen);
  return TRUE;
}

/* Parses "http[s]://host[:port]/root" and prepares a client; no request yet. */
/* shared: the status polls' client, whose connections stay open in a
 * process-wide pool for the next poll (keep-alive; scand/base/http.h). */
static EsclScanner *escl_new_client(const char *rest, const ScandOpenOptions *options, gboolean shared,
                                    GError **error) {
  if (g_str_has_prefix(rest, "escl:"))
    rest += 5;
  g_autoptr(EsclScanner) s = g_new0(EsclScanner, 1);
  s->device = scand_device_label("escl", rest);
  if (!parse_device_url(s, rest, error))
    return NULL;
  s->retries = ESCL_DEFAULT_RETRIES;
  s->backoff_ms = ESCL_DEFAULT_BACKOFF_MS;
  s->backoff_max_ms = ESCL_DEFAULT_BACKOFF_MAX_MS;
  s->timeout_ms = options && options->timeout_ms ? options->timeout_ms : ESCL_DEFAULT_TIMEOUT_MS;
  s->page_timeout_ms = options && options->page_timeout_ms ? options->page_timeout_ms : ESCL_DEFAULT_PAGE_TIMEOUT_MS;
  const ScandHttpOptions limits = {
    .connect_timeout_ms = ESCL_CONNECT_TIMEOUT_MS,
    .timeout_ms = s->timeout_ms,
    .stall_s = ESCL_STALL_S,
    .shared_connections = shared,
  };
  if (shared) {
    /* Everything the client is made from, the pin above all. */
    s->kept_key = g_strdup_printf("escl\x1f%s\x1f%s\x1f%u", rest, options && options->tls_pin ? options->tls_pin : "",
                                  s->timeout_ms);
    s->http = scand_device_http_reuse(s->kept_key);
  }
  if (!s->http)
    s->http = scand_device_http_new(s->device, options, &limits, error);
  if (!s->http)
    return NULL;
  return g_steal_pointer(&s);
}

static EsclScanner *escl_new(const char *rest, const ScandOpenOptions *options, GError **error) {
  return escl_new_client(rest, options, FALSE, error);
}

static ScandScanner *escl_open(const char *rest, const ScandOpenOptions *options, GError **error) {
  g_autoptr(EsclScanner) s = escl_new(rest, options, error);
  if (!s)
    return NULL;
  g_autoptr(ScandHttpReply) reply = get_document(s, "ScannerCapabilities", error);
  if (!reply)
    return NULL;
  g_autoptr(GError) local = NULL;
  if (!escl_caps_decode((const char *) reply->body->data, reply->body->len, &s->caps, &local)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", s->device, local->message);
    return NULL;
  }
  escl_quirks_clear(&s->quirks);
  escl_quirks_lookup(s->server, s->caps->make_and_model, &s->quirks);
  s->base.uri = g_strdup(s->device);
  s->base.name = g_strdup(s->host[0] == '[' ? s->host + 1 : s->host);
  if (s->base.name[0] && s->base.name[strlen(s->base.name) - 1] == ']')
    s->base.name[strlen(s->base.name) - 1] = '\0';
  return &g_steal_pointer(&s)->base;
}

/* ---- jobs -------------------------------------------------------------------- */

/* Best-effort DELETE of the job on the device. */
static void job_delete(EsclScanner *s) {
  if (!s->job_url || !s->job_open)
    return;
  s->job_open = FALSE;
  gboolean was_cancelled = is_cancelled(s);
  scand_http_reset_cancel(s->http); /* let the DELETE itself through */
  g_autoptr(GError) ignored = NULL;
  scand_http_reply_free(escl_http(s, "DELETE", s->job_url, NULL, NULL, 0, &ignored));
  if (was_cancelled)
    scand_http_cancel(s->http);
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

/* POSTs ScanJobs for s->req and records the job's URL. */
static gboolean create_job(EsclScanner *s, gboolean feeder, GError **error) {
  g_autofree char *xml = escl_scan_settings_build(&s->req);
  g_autofree char *url = doc_url(s, "ScanJobs");
  g_autoptr(ScandHttpReply) reply = request_retrying(s, "POST", url, xml, error);
  if (!reply)
    return FALSE;
  if (reply->status != 201) {
    g_autofree char *what = reply_describe(reply);
    if ((reply->status == 409 || reply->status == 503) && feeder && !check_feeder(s, TRUE, error))
      return FALSE;
    g_set_error(error, SCAND_ERROR, reply->status == 503 ? SCAND_ERROR_BUSY : SCAND_ERROR_IO,
                "%s: POST ScanJobs (%s, %d dpi, %s): %s", s->device, escl_input_name(s->req.input), s->req.resolution,
                escl_color_mode_name(s->req.color_mode), what);
    return FALSE;
  }
  g_autoptr(GError) local = NULL;
  s->job_url = escl_location_resolve(s->url, scand_http_reply_header(reply, "Location"), &local);
  if (!s->job_url) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", s->device, local->message);
    return FALSE;
  }
  s->job_open = TRUE;
  s->job_created_us = g_get_monotonic_time();
  return TRUE;
}

static gboolean escl_start(ScandScanner *scanner, const ScandScanSettings *settings, ScandScanSettings *effective,
                           GError **error) {
  EsclScanner *s = (EsclScanner *) scanner;
  job_delete(s);
  g_clear_pointer(&s->job_url, g_free);
  escl_scan_request_clear(&s->req);
  scand_http_reset_cancel(s->http);
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
  return create_job(s, feeder, error);
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

/* ---- reading a page ------------------------------------------------------------ */

/* Streams a NextDocument reply into the page sink. */
typedef struct {
  EsclScanner *s;
  ScandPageSink *sink;
  gboolean begun; /* sink->begin() succeeded: end() or abort() is owed */
  gsize streamed;
} PageStream;

static ScandPageFormat page_format(EsclScanner *s, const char *content_type, gboolean *ok) {
  const char *ct = content_type ? content_type : "";
  *ok = TRUE;
  if (g_ascii_strncasecmp(ct, "image/jpeg", 10) == 0 || g_ascii_strncasecmp(ct, "image/jpg", 9) == 0)
    return SCAND_PAGE_JPEG;
  if (g_ascii_strncasecmp(ct, "image/png", 9) == 0)
    return SCAND_PAGE_PNG;
  if (g_ascii_strncasecmp(ct, "application/pdf", 15) == 0)
    return SCAND_PAGE_PDF;
  if (!*ct || g_ascii_strncasecmp(ct, "application/octet-stream", 24) == 0)
    return s->req.format == ESCL_FORMAT_PNG   ? SCAND_PAGE_PNG
           : s->req.format == ESCL_FORMAT_PDF ? SCAND_PAGE_PDF
                                              : SCAND_PAGE_JPEG;
  *ok = FALSE;
  return SCAND_PAGE_JPEG;
}

static ScandHttpSinkChoice page_begin(const ScandHttpReply *reply, gpointer user, GError **error) {
  PageStream *p = user;
  EsclScanner *s = p->s;
  if (reply->status != 200)
    return SCAND_HTTP_SINK_MEMORY; /* an error page, for the message */
  const char *ct = scand_http_reply_header(reply, "Content-Type");
  gboolean ok;
  ScandPageHeader header = { .xres = s->req.resolution, .yres = s->req.resolution };
  header.format = page_format(s, ct, &ok);
  if (!ok) {
    g_autofree char *shown = g_utf8_make_valid(ct, MIN(strlen(ct), 60));
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s: GET NextDocument: page has type %s, expected %s",
                s->device, shown, escl_format_mime(s->req.format));
    return SCAND_HTTP_SINK_ABORT;
  }
  if (!p->sink->begin(p->sink, &header, error))
    return SCAND_HTTP_SINK_ABORT;
  p->begun = TRUE;
  return SCAND_HTTP_SINK_TAKE;
}

static gboolean page_write(const void *data, gsize len, gpointer user, GError **error) {
  PageStream *p = user;
  if (!p->sink->write(p->sink, data, len, error))
    return FALSE;
  p->streamed += len;
  return TRUE;
}

/* How one NextDocument exchange ends for escl_read_page(). */
typedef enum {
  STEP_AGAIN, /* ask again (busy, not yet, dropped connection) */
  STEP_OK,    /* return TRUE: a page, or the normal end of the job */
  STEP_FAILED /* return FALSE with the error set */
} Step;

/* Attempts made for the page being read. */
typedef struct {
  guint busy, drops, not_yet;
  gboolean lost_page; /* a drop happened and the device may have moved on */
} PageTries;

static const char *plural(guint n) {
  return n == 1 ? "" : "s";
}

/* No reply arrived: a dropped connection is asked again (most devices keep
 * the page until it was delivered in full); anything else ends the job, the
 * pages before kept. */
static Step page_transfer_failed(EsclScanner *s, PageStream *p, PageTries *tries, GError *local, GError **error) {
  g_autoptr(GError) owned = local;
  ScandHttpOutcome outcome = scand_http_last_outcome(s->http);
  if (outcome == SCAND_HTTP_BROKEN && tries->drops < ESCL_DROP_RETRIES) {
    tries->drops++;
    tries->lost_page = p->begun;
    if (sleep_ms(s, 200, error))
      return STEP_AGAIN;
    fail_job(s);
    return STEP_FAILED;
  }
  if (outcome == SCAND_HTTP_BROKEN)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s: connection lost while receiving page %u (%" G_GSIZE_FORMAT " bytes in, %u attempts); "
                "job ended with %u page%s kept: %s",
                s->device, s->pages + 1, p->streamed, tries->drops + 1, s->pages, plural(s->pages), owned->message);
  else if (outcome == SCAND_HTTP_CANCELLED || outcome == SCAND_HTTP_SINK_FAILED)
    g_propagate_error(error, g_steal_pointer(&owned));
  else
    g_set_error(error, SCAND_ERROR, owned->code, "%s; page %u lost, job ended with %u page%s kept", owned->message,
                s->pages + 1, s->pages, plural(s->pages));
  fail_job(s);
  return STEP_FAILED;
}

/* 404/410 after the quirk's re-asks: the job is over on the device. */
static Step page_gone(EsclScanner *s, PageTries *tries, GError **error) {
  gboolean feeder = s->req.input != ESCL_INPUT_PLATEN;
  s->job_open = FALSE;
  s->job_done = TRUE;
  if (tries->lost_page) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s: connection lost while receiving page %u and the device cannot send it again; "
                "job ended with %u page%s kept",
                s->device, s->pages + 1, s->pages, plural(s->pages));
    return STEP_FAILED;
  }
  if (s->pages > 0)
    return STEP_OK;
  if (feeder && !check_feeder(s, TRUE, error))
    return STEP_FAILED;
  g_set_error(error, SCAND_ERROR, feeder ? SCAND_ERROR_NO_DOCS : SCAND_ERROR_IO,
              feeder ? "%s: the feeder gave no page (is it empty?)" : "%s: the device ended the job without a page",
              s->device);
  return STEP_FAILED;
}

/* 404/410 that a quirk says means "not ready yet": TRUE to ask again. */
static gboolean page_not_yet(EsclScanner *s, PageTries *tries) {
  if (tries->not_yet >= ESCL_NOT_YET_RETRIES)
    return FALSE;
  gboolean feeder = s->req.input != ESCL_INPUT_PLATEN;
  gboolean early = feeder && s->pages == 0 && s->quirks.early_404_window_ms &&
                   g_get_monotonic_time() - s->job_created_us < (gint64) s->quirks.early_404_window_ms * 1000;
  return early || (s->quirks.retry_404_410 && job_still_running(s));
}

/* A complete 200 reply: the page is the sink's. */
static Step page_received(EsclScanner *s, PageStream *p, gboolean *got_page, GError **error) {
  if (!p->begun) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: page %u arrived empty", s->device, s->pages + 1);
    fail_job(s);
    return STEP_FAILED;
  }
  p->begun = FALSE;
  if (!p->sink->end(p->sink, error)) {
    fail_job(s);
    return STEP_FAILED;
  }
  s->pages++;
  *got_page = TRUE;
  if (s->req.input == ESCL_INPUT_PLATEN)
    s->job_open = FALSE; /* the platen's one page: the job is complete */
  return STEP_OK;
}

/* Decides what a NextDocument reply means. */
static Step page_reply(EsclScanner *s, const ScandHttpReply *reply, PageStream *p, PageTries *tries, gboolean *got_page,
                       GError **error) {
  long status = reply->status;
  if (status == 200)
    return page_received(s, p, got_page, error);
  guint delay = 0;
  if (status == 503 && tries->busy < s->retries) {
    delay = backoff_delay(s, reply, tries->busy++);
  } else if ((status == 404 || status == 410) && page_not_yet(s, tries)) {
    delay = backoff_delay(s, reply, tries->not_yet++);
  } else if (status == 404 || status == 410) {
    return page_gone(s, tries, error);
  } else if (status == 409) {
    return conflict_to_result(s, got_page, error) ? STEP_OK : STEP_FAILED;
  } else {
    g_autofree char *what = reply_describe(reply);
    g_set_error(error, SCAND_ERROR, status == 503 ? SCAND_ERROR_BUSY : SCAND_ERROR_IO,
                "%s: NextDocument for page %u: %s%s; job ended with %u page%s kept", s->device, s->pages + 1, what,
                status == 503 ? " (still busy after all retries)" : "", s->pages, plural(s->pages));
    fail_job(s);
    return STEP_FAILED;
  }
  if (!sleep_ms(s, delay, error)) {
    fail_job(s);
    return STEP_FAILED;
  }
  return STEP_AGAIN;
}

/* One GET NextDocument streamed into sink. */
static Step next_document(EsclScanner *s, ScandPageSink *sink, const char *url, PageTries *tries, gboolean *got_page,
                          GError **error) {
  PageStream p = { .s = s, .sink = sink };
  ScandHttpSink http_sink = { page_begin, page_write, &p };
  GError *local = NULL;
  g_autoptr(ScandHttpReply) reply = escl_http(s, "GET", url, NULL, &http_sink, s->page_timeout_ms, &local);
  if (!reply) {
    if (p.begun)
      sink->abort(sink);
    return page_transfer_failed(s, &p, tries, local, error);
  }
  return page_reply(s, reply, &p, tries, got_page, error);
}

/* Before asking for a page: cancelled, finished, the page limit, and the
 * quirk's pause after ScanJobs. STEP_AGAIN means go ahead. */
static Step page_precheck(EsclScanner *s, GError **error) {
  if (!s->job_url) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: no scan job started", s->device);
    return STEP_FAILED;
  }
  if (is_cancelled(s)) {
    set_cancelled(s, error);
    fail_job(s);
    return STEP_FAILED;
  }
  if (s->job_done)
    return STEP_OK;
  gboolean feeder = s->req.input != ESCL_INPUT_PLATEN;
  if (s->max_pages > 0 && s->pages >= s->max_pages) {
    /* A flatbed job is complete after its page; a feeder job cut short by
     * max_pages still holds sheets on the device. */
    if (feeder)
      job_delete(s);
    s->job_open = FALSE;
    s->job_done = TRUE;
    return STEP_OK;
  }
  if (feeder && s->pages == 0 && s->quirks.first_page_delay_ms) {
    gint64 due = s->job_created_us + (gint64) s->quirks.first_page_delay_ms * 1000;
    gint64 now = g_get_monotonic_time();
    if (due > now && !sleep_ms(s, (guint) ((due - now) / 1000), error)) {
      fail_job(s);
      return STEP_FAILED;
    }
  }
  return STEP_AGAIN;
}

static gboolean escl_read_page(ScandScanner *scanner, ScandPageSink *sink, gboolean *got_page, GError **error) {
  EsclScanner *s = (EsclScanner *) scanner;
  *got_page = FALSE;
  Step step = page_precheck(s, error);
  if (step != STEP_AGAIN)
    return step == STEP_OK;
  g_autofree char *url = g_strdup_printf("%s/NextDocument", s->job_url);
  PageTries tries = { 0 };
  do
    step = next_document(s, sink, url, &tries, got_page, error);
  while (step == STEP_AGAIN);
  return step == STEP_OK;
}

static void escl_cancel(ScandScanner *scanner) {
  EsclScanner *s = (EsclScanner *) scanner;
  scand_http_cancel(s->http);
}

static void escl_close(ScandScanner *scanner) {
  EsclScanner *s = (EsclScanner *) scanner;
  job_delete(s);
  escl_free(s);
}

/* The status entry: one ScannerStatus request, seen through backend.h. */
static gboolean escl_status(const char *rest, const ScandOpenOptions *options, ScandDeviceStatus *out, GError **error) {
  ScandEsclStatus status = { 0 };
  if (!scand_escl_get_status(rest, options, &status, error))
    return FALSE;
  escl_status_to_device_status(&status, out);
  scand_escl_status_clear(&status);
  return TRUE;
}

/* A status poll on a main loop: the request the blocking poll starts with. */
typedef struct {
  EsclScanner *s;
  ScandDeviceStatusDone done;
  gpointer user;
} EsclPoll;

static void escl_status_polled(ScandHttp *http, ScandHttpReply *reply, const GError *error, gpointer user) {
  g_autofree EsclPoll *p = user;
  g_autoptr(EsclScanner) s = p->s;
  g_autoptr(ScandHttpReply) r = reply;
  g_autoptr(GError) local = NULL, failed = NULL;
  ScandEsclStatus st = { 0 };
  if (!r) {
    p->done(SCAND_STATUS_POLL_FAILED, NULL, error, p->user);
  } else if (r->status != 200) {
    /* 503 retried with backoff, a Host quirk learned from a 400, a 404
     * told from other errors: all that is the blocking poll's. */
    p->done(SCAND_STATUS_POLL_ASK_AGAIN, NULL, NULL, p->user);
  } else if (!escl_status_decode((const char *) r->body->data, r->body->len, &st, &local)) {
    g_set_error(&failed, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", s->device, local->message);
    p->done(SCAND_STATUS_POLL_FAILED, NULL, failed, p->user);
  } else {
    ScandDeviceStatus status;
    escl_status_to_device_status(&st, &status);
    scand_escl_status_clear(&st);
    /* Kept only after a good poll, as by the blocking one. */
    scand_device_http_keep(s->kept_key, g_steal_pointer(&s->http));
    p->done(SCAND_STATUS_POLL_OK, &status, NULL, p->user);
  }
}

static gboolean escl_poll_status(const char *rest, const ScandOpenOptions *options, ScandHttpLoop *loop,
                                 ScandDeviceStatusDone done, gpointer user) {
  g_autoptr(GError) error = NULL;
  EsclScanner *s = escl_new_client(rest, options, TRUE, &error);
  if (!s)
    return FALSE; /* the blocking poll says why */
  g_autofree char *url = doc_url(s, "ScannerStatus");
  g_autofree char *host = escl_quirks_host_header(&s->quirks, s->host, s->port, s->https);
  g_autofree char *host_line = host ? g_strdup_printf("Host: %s", host) : NULL;
  const char *headers[2] = { host_line, NULL };
  ScandHttpRequest request = { .method = "GET", .url = url, .headers = headers, .timeout_ms = s->timeout_ms };
  EsclPoll *p = g_new0(EsclPoll, 1);
  *p = (EsclPoll){ .s = s, .done = done, .user = user };
  scand_http_loop_perform(loop, s->http, &request, escl_status_polled, p);
  return TRUE;
}

const ScandBackendDriver scand_backend_escl = {
  .scheme = "escl",
  .list = NULL,
  .open = escl_open,
  .start = escl_start,
  .read_page = escl_read_page,
  .cancel = escl_cancel,
  .close = escl_close,
  .status = escl_status,
  .poll_status = escl_poll_status,
  .panel = &scand_panel_hp_walkup,
};

/* ---- public extras ------------------------------------------------------ */

gboolean scand_escl_status_decode(const char *xml, gsize len, ScandEsclStatus *out, GError **error) {
  return escl_status_decode(xml, len, out, error);
}

gboolean scand_escl_get_status(const char *uri, const ScandOpenOptions *options, ScandEsclStatus *out, GError **error) {
  memset(out, 0, sizeof *out);
  g_autoptr(EsclScanner) s = escl_new_client(uri, options, TRUE, error);
  if (!s || !fetch_status(s, out, error))
    return FALSE;
  /* Kept only after a good poll: a client that failed starts afresh. */
  scand_device_http_keep(s->kept_key, g_steal_pointer(&s->http));
  return TRUE;
}

ScandEsclCertificate *scand_escl_fetch_certificate(const char *uri, GError **error) {
  g_autoptr(EsclScanner) s = escl_new(uri, NULL, error);
  if (!s)
    return NULL;
  if (!s->https) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: not an https device; there is no certificate to trust",
                s->device);
    return NULL;
  }
  return scand_http_fetch_certificate(s->url, s->device, error);
}
