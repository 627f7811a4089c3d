/* WSD (WS-Scan) backend: SOAP over HTTP(S) to the device's scanner service
 * through scand's one HTTP client, one client per open device so that its
 * connection is kept alive across the requests of a job. What is said on the
 * wire is built and read by the pure functions of wsd-soap.c; images arrive
 * as MTOM multipart replies read by wsd-mtom.c straight into the page sink;
 * device quirks are the rows of wsd-quirks.c.
 *
 * A job: CreateScanJob (JobId, JobToken), then RetrieveImage for each page
 * until the device answers ClientErrorNoImagesAvailable (the feeder is done)
 * or the platen's one page came; CancelJob when scand stops early. A fault
 * that stops a job is explained by asking GetJobElements (the job's state)
 * and GetScannerElements (the scanner's state): a jam, an open cover and an
 * empty feeder become the same errors as with eSCL and SANE. Pages already
 * received are the caller's whatever happens after them.
 *
 * Every request is bounded like eSCL's: SOAP calls by the scanner's `timeout`
 * (30 s), a page by its `page-timeout` (10 min) and by a stall of 3 minutes
 * without a byte; the scan session caps the size of a page (max-page-bytes).
 *
 * Extra options (ScandScanSettings.extra_options, `scand scan --option`):
 *   wsd-scan-identifier=ID       a scan started at the device's panel (walk-up):
 *   wsd-destination-token=TOKEN  the event's ScanIdentifier and the subscription's
 *                                DestinationToken go into CreateScanJob HTTPS is verified by the system CAs or the scanner's
 * tls-pin, as written by `scand trust wsd:https://…`. */
#include "backends/backend-private.h"
#include "backends/device-http.h"
#include "backends/panel-private.h"
#include "backends/wsd-mtom.h"
#include "backends/wsd-private.h"
#include "backends/wsd-soap.h"
#include "backends/wsd.h"
#include "scand/base/error.h"
#include "scand/base/http.h"

#include <string.h>

#define WSD_CONNECT_TIMEOUT_MS 15000
#define WSD_DEFAULT_TIMEOUT_MS 30000
#define WSD_DEFAULT_PAGE_TIMEOUT_MS 600000
#define WSD_STALL_S 180
#define WSD_CREATE_RETRIES 30    /* CreateScanJob refused while calibrating or warming up */
#define WSD_CREATE_RETRY_MS 1000 /* the wait between those */
#define WSD_DROP_RETRIES 2       /* RetrieveImage asked again after the connection broke */
#define WSD_TEMPORARY_RETRIES 10 /* … after ServerErrorTemporaryError, WSD_TEMPORARY_MS apart */
#define WSD_TEMPORARY_MS 500

typedef struct {
  ScandScanner base;
  char *url;    /* the scanner service URL as given ("http://host:port/path") */
  char *device; /* "wsd:http://…" for messages */
  char *host;   /* the URL's host, without an IPv6 zone: the name for templates */
  ScandHttp *http;
  guint timeout_ms;
  guint page_timeout_ms;
  WsdCaps *caps;
  char *scanner_name;
  WsdQuirks quirks;

  /* the current job */
  WsdTicket ticket;
  int job_id;
  char *job_token;
  gboolean job_open; /* created on the device and not finished there */
  gboolean job_done; /* no more pages will be read */
  guint pages;
  guint max_pages;
  char *scan_identifier;   /* walk-up: from the ScanAvailableEvent, or NULL */
  char *destination_token; /* walk-up: from the subscription, or NULL */
} WsdScanner;

static const char *plural(guint n) {
  return n == 1 ? "" : "s";
}

static void set_cancelled(WsdScanner *s, GError **error) {
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: cancelled%s", s->device,
              scand_http_stopping() ? ": scand is stopping" : "");
}

/* ---- one SOAP exchange ---------------------------------------------------------- */

/* Headers of every request. WSDAPI is what Windows sends; devices are
 * tested against it. */
static const char *const soap_headers[] = {
  "Content-Type: application/soap+xml; charset=utf-8",
  "User-Agent: WSDAPI",
  "Cache-Control: no-cache",
  "Pragma: no-cache",
  NULL,
};

/* The error for a reply that is not SOAP, by its HTTP status. */
static void http_status_error(WsdScanner *s, WsdOp op, long status, const GError *decode_error, GError **error) {
  int code = status == 404                    ? SCAND_ERROR_NOT_FOUND
             : status == 401 || status == 403 ? SCAND_ERROR_DENIED
             : status == 503                  ? SCAND_ERROR_BUSY
                                              : SCAND_ERROR_IO;
  if (status == 200)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", s->device, decode_error->message);
  else
    g_set_error(error, SCAND_ERROR, code, "%s: %s: HTTP %ld without a SOAP answer", s->device, wsd_op_name(op), status);
}

/* Sends op and decodes the reply (a response or a fault) into out. FALSE
 * with an error when no SOAP answer came. */
static gboolean wsd_call(WsdScanner *s, WsdOp op, WsdRequestArgs *args, WsdReply *out, GError **error) {
  memset(out, 0, sizeof *out);
  args->to = s->url;
  g_autofree char *body = wsd_request_build(op, args);
  ScandHttpRequest request = {
    .method = "POST",
    .url = s->url,
    .headers = soap_headers,
    .body = body,
    .body_len = strlen(body),
    .timeout_ms = s->timeout_ms,
  };
  g_autoptr(ScandHttpReply) reply = scand_http_perform(s->http, &request, error);
  if (!reply)
    return FALSE;
  g_autoptr(GError) local = NULL;
  if (wsd_reply_decode(op, (const char *) reply->body->data, reply->body->len, out, &local))
    return TRUE;
  http_status_error(s, op, reply->status, local, error);
  return FALSE;
}

/* The error for a fault that ends an operation: "wsd:…: CreateScanJob
 * refused: InvalidArgs (…)". */
static void fault_error(WsdScanner *s, WsdOp op, const WsdFault *fault, int code, GError **error) {
  g_autofree char *what = wsd_fault_describe(fault);
  g_set_error(error, SCAND_ERROR, code, "%s: %s refused: %s", s->device, wsd_op_name(op), what);
}

/* The scanner's status, or FALSE (error set) when it cannot be had. */
static gboolean fetch_status(WsdScanner *s, WsdStatus *out, GError **error) {
  static const char *const names[] = { "ScannerStatus", NULL };
  WsdRequestArgs args = { .elements = names };
  WsdReply r;
  if (!wsd_call(s, WSD_OP_GET_SCANNER_ELEMENTS, &args, &r, error))
    return FALSE;
  gboolean ok = !r.is_fault && r.have_status;
  if (ok) {
    *out = r.status;
    memset(&r.status, 0, sizeof r.status);
  } else if (r.is_fault) {
    fault_error(s, WSD_OP_GET_SCANNER_ELEMENTS, &r.fault, SCAND_ERROR_IO, error);
  } else {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: GetScannerElements: no ScannerStatus in the reply",
                s->device);
  }
  wsd_reply_clear(&r);
  return ok;
}

/* ---- opening ------------------------------------------------------------------ */

static void wsd_free(WsdScanner *s) {
  if (!s)
    return;
  scand_http_free(s->http);
  wsd_caps_free(s->caps);
  wsd_quirks_clear(&s->quirks);
  g_free(s->scanner_name);
  g_free(s->url);
  g_free(s->device);
  g_free(s->host);
  g_free(s->job_token);
  g_free(s->scan_identifier);
  g_free(s->destination_token);
  g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WsdScanner, wsd_free)

/* Checks "http[s]://host[:port]/path" and keeps it as written (an IPv6 zone
 * stays intact), without a fragment. */
static gboolean parse_device_url(WsdScanner *s, const char *rest, GError **error) {
  g_autoptr(GUri) u = g_uri_parse(rest, G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED, NULL);
  const char *scheme = u ? g_uri_get_scheme(u) : NULL;
  const char *host = u ? g_uri_get_host(u) : NULL;
  if (!host || !*host || (g_strcmp0(scheme, "http") != 0 && g_strcmp0(scheme, "https") != 0)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "device \"%s\": not a WSD URI (expected wsd:http[s]://HOST[:PORT]/PATH of the scanner service)",
                s->device);
    return FALSE;
  }
  s->url = g_strndup(rest, strcspn(rest, "#"));
  s->host = g_strndup(host, strcspn(host, "%"));
  return TRUE;
}

/* Parses the URI and prepares a client; no request yet. */
static WsdScanner *wsd_new(const char *rest, const ScandOpenOptions *options, GError **error) {
  if (g_str_has_prefix(rest, "wsd:"))
    rest += 4;
  g_autoptr(WsdScanner) s = g_new0(WsdScanner, 1);
  s->device = scand_device_label("wsd", rest);
  if (!parse_device_url(s, rest, error))
    return NULL;
  s->timeout_ms = options && options->timeout_ms ? options->timeout_ms : WSD_DEFAULT_TIMEOUT_MS;
  s->page_timeout_ms = options && options->page_timeout_ms ? options->page_timeout_ms : WSD_DEFAULT_PAGE_TIMEOUT_MS;
  const ScandHttpOptions limits = {
    .connect_timeout_ms = WSD_CONNECT_TIMEOUT_MS,
    .timeout_ms = s->timeout_ms,
    .stall_s = WSD_STALL_S,
  };
  s->http = scand_device_http_new(s->device, options, &limits, error);
  if (!s->http)
    return NULL;
  return g_steal_pointer(&s);
}

static ScandScanner *wsd_open(const char *rest, const ScandOpenOptions *options, GError **error) {
  g_autoptr(WsdScanner) s = wsd_new(rest, options, error);
  if (!s)
    return NULL;
  static const char *const names[] = { "ScannerDescription", "ScannerConfiguration", NULL };
  WsdRequestArgs args = { .elements = names };
  WsdReply r;
  if (!wsd_call(s, WSD_OP_GET_SCANNER_ELEMENTS, &args, &r, error))
    return NULL;
  if (r.is_fault || !r.caps) {
    if (r.is_fault)
      fault_error(s, WSD_OP_GET_SCANNER_ELEMENTS, &r.fault, SCAND_ERROR_IO, error);
    else
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: GetScannerElements: no valid ScannerConfiguration",
                  s->device);
    wsd_reply_clear(&r);
    return NULL;
  }
  s->caps = g_steal_pointer(&r.caps);
  s->scanner_name = g_steal_pointer(&r.scanner_name);
  wsd_reply_clear(&r);
  wsd_quirks_lookup(s->scanner_name, &s->quirks);
  s->base.uri = g_strdup(s->device);
  s->base.name = g_strdup(s->host); /* the base fields are freed by scand_scanner_close() */
  return &g_steal_pointer(&s)->base;
}

/* ---- jobs ------------------------------------------------------------------------ */

/* Best-effort CancelJob of the open job (also after a cancel: the request
 * itself is let through). */
static void job_cancel(WsdScanner *s) {
  if (!s->job_open)
    return;
  s->job_open = FALSE;
  gboolean was_cancelled = scand_http_is_cancelled(s->http);
  scand_http_reset_cancel(s->http);
  WsdRequestArgs args = { .job_id = s->job_id };
  WsdReply r;
  g_autoptr(GError) ignored = NULL;
  if (wsd_call(s, WSD_OP_CANCEL_JOB, &args, &r, &ignored))
    wsd_reply_clear(&r);
  if (was_cancelled)
    scand_http_cancel(s->http);
}

/* The job ends after an error: the device is freed for others. */
static gboolean fail_job(WsdScanner *s) {
  job_cancel(s);
  s->job_done = TRUE;
  return FALSE;
}

/* What stops a scan before it starts, from the scanner's status: TRUE when
 * nothing does (or the device does not say). */
static gboolean check_status(WsdScanner *s, GError **error) {
  WsdStatus st;
  g_autoptr(GError) ignored = NULL;
  if (!fetch_status(s, &st, &ignored))
    return TRUE;
  int code = SCAND_ERROR_IO;
  gboolean transient = FALSE;
  const char *problem = wsd_status_problem(&st, &code, &transient);
  gboolean ok = !problem || transient || (code == SCAND_ERROR_NO_DOCS && s->ticket.input == WSD_INPUT_PLATEN);
  if (!ok)
    g_set_error(error, SCAND_ERROR, code, "%s: cannot scan: %s", s->device, problem);
  wsd_status_clear(&st);
  return ok;
}

/* CreateScanJob was refused with ServerErrorNotAcceptingJobs (or another
 * server fault): the scanner's status says why. Sets *again when the reason
 * passes by itself (calibrating, lamp warming up). */
static void refused_why(WsdScanner *s, const WsdFault *fault, gboolean *again, GError **error) {
  *again = FALSE;
  WsdStatus st = { 0 };
  g_autoptr(GError) ignored = NULL;
  gboolean have = fetch_status(s, &st, &ignored);
  int code = SCAND_ERROR_BUSY;
  gboolean transient = FALSE;
  const char *problem = have ? wsd_status_problem(&st, &code, &transient) : NULL;
  gboolean feeder = s->ticket.input != WSD_INPUT_PLATEN;
  g_autofree char *what = wsd_fault_describe(fault);
  if (problem && transient)
    *again = TRUE;
  else if (problem)
    g_set_error(error, SCAND_ERROR, code, "%s: cannot scan: %s", s->device, problem);
  else if (feeder && have && st.state == WSD_SCANNER_IDLE && s->quirks.not_accepting_idle_means_empty)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NO_DOCS, "%s: cannot scan from the feeder: it is empty (%s; quirk %s)",
                s->device, what, s->quirks.names);
  else
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_BUSY, "%s: the scanner does not accept a job now (%s%s%s)%s%s",
                s->device, what, have && st.state_word ? ", state " : "", have && st.state_word ? st.state_word : "",
                s->quirks.not_accepting_hint ? ": " : "",
                s->quirks.not_accepting_hint ? s->quirks.not_accepting_hint : "");
  wsd_status_clear(&st);
}

/* Sends CreateScanJob until the device takes it, waits out calibrating. */
static gboolean create_job(WsdScanner *s, GError **error) {
  for (guint attempt = 0;; attempt++) {
    WsdRequestArgs args = {
      .ticket = &s->ticket,
      .scan_identifier = s->scan_identifier,
      .destination_token = s->destination_token,
    };
    WsdReply r;
    if (!wsd_call(s, WSD_OP_CREATE_SCAN_JOB, &args, &r, error))
      return FALSE;
    if (!r.is_fault) {
      s->job_id = r.job_id;
      s->job_token = g_steal_pointer(&r.job_token);
      wsd_reply_clear(&r);
      return TRUE;
    }
    gboolean again = FALSE;
    if (g_strcmp0(r.fault.code, "Sender") == 0) {
      g_autofree char *what = wsd_fault_describe(&r.fault);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                  "%s: the scanner refused the ticket (%s, %d dpi, %s, %s): %s", s->device,
                  wsd_ticket_source_name(&s->ticket), s->ticket.resolution, wsd_color_name(s->ticket.color),
                  wsd_format_name(s->ticket.format), what);
    } else {
      refused_why(s, &r.fault, &again, error);
    }
    wsd_reply_clear(&r);
    if (!again)
      return FALSE;
    if (attempt + 1 >= WSD_CREATE_RETRIES) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_BUSY, "%s: the scanner was still calibrating after %u attempts",
                  s->device, attempt + 1);
      return FALSE;
    }
    if (!scand_http_sleep(s->http, WSD_CREATE_RETRY_MS, NULL)) {
      set_cancelled(s, error);
      return FALSE;
    }
  }
}

/* Reads the extra options (see the top of this file). */
static void apply_extra_options(WsdScanner *s, GStrv extra) {
  g_clear_pointer(&s->scan_identifier, g_free);
  g_clear_pointer(&s->destination_token, g_free);
  for (guint i = 0; extra && extra[i]; i++) {
    if (g_str_has_prefix(extra[i], "wsd-scan-identifier=") && !s->scan_identifier)
      s->scan_identifier = g_strdup(extra[i] + 20);
    else if (g_str_has_prefix(extra[i], "wsd-destination-token=") && !s->destination_token)
      s->destination_token = g_strdup(extra[i] + 22);
  }
}

static gboolean wsd_start(ScandScanner *scanner, const ScandScanSettings *settings, ScandScanSettings *effective,
                          GError **error) {
  WsdScanner *s = (WsdScanner *) scanner;
  job_cancel(s);
  g_clear_pointer(&s->job_token, g_free);
  scand_http_reset_cancel(s->http);
  s->pages = 0;
  s->job_done = FALSE;
  g_autoptr(GError) local = NULL;
  if (!wsd_ticket_choose(s->caps, settings, s->quirks.max_resolution, s->quirks.images_all, &s->ticket, effective,
                         &local)) {
    g_set_error(error, SCAND_ERROR, local->code, "%s: %s", s->device, local->message);
    return FALSE;
  }
  gboolean feeder = s->ticket.input != WSD_INPUT_PLATEN;
  s->max_pages = feeder ? settings->max_pages : 1;
  apply_extra_options(s, settings->extra_options);
  if (!check_status(s, error) || !create_job(s, error))
    return FALSE;
  s->job_open = TRUE;
  return TRUE;
}

/* ---- reading a page --------------------------------------------------------------- */

/* One RetrieveImage reply on its way: a multipart reply goes through the MTOM
 * reader into the page sink; anything else (a fault) is kept in memory. */
typedef struct {
  WsdScanner *s;
  ScandPageSink *sink;
  WsdMtom *mtom;  /* NULL until a multipart reply began */
  gboolean begun; /* sink->begin() succeeded: end() or abort() is owed */
  guint8 head[4]; /* the first bytes, checked before the page begins */
  gsize head_len;
  guint64 bytes;
} ImageStream;

/* TRUE when the first bytes of a page are what the ticket's format starts
 * with (a device that sends something else must not fill the spool with it). */
static gboolean magic_ok(WsdFormat format, const guint8 *b, gsize n) {
  switch (wsd_format_page_format(format)) {
    case SCAND_PAGE_JPEG:
      return n >= 2 && b[0] == 0xff && b[1] == 0xd8;
    case SCAND_PAGE_PNG:
      return n >= 4 && memcmp(b, "\x89PNG", 4) == 0;
    case SCAND_PAGE_PDF:
      return n >= 4 && memcmp(b, "%PDF", 4) == 0;
    default:
      return FALSE;
  }
}

/* Begins the page once its first bytes are known to be right. */
static gboolean image_head(ImageStream *p, GError **error) {
  WsdScanner *s = p->s;
  if (!magic_ok(s->ticket.format, p->head, p->head_len)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                "%s: page %u is not %s data (it starts with %02x %02x %02x %02x)", s->device, s->pages + 1,
                wsd_format_name(s->ticket.format), p->head[0], p->head[1], p->head[2], p->head[3]);
    return FALSE;
  }
  ScandPageHeader header = {
    .format = wsd_format_page_format(s->ticket.format),
    .xres = s->ticket.resolution,
    .yres = s->ticket.resolution,
  };
  if (!p->sink->begin(p->sink, &header, error))
    return FALSE;
  p->begun = TRUE;
  return p->sink->write(p->sink, p->head, p->head_len, error);
}

static gboolean image_begin(const char *content_type, gpointer user, GError **error) {
  (void) content_type, (void) user, (void) error; /* devices label images loosely: the bytes decide */
  return TRUE;
}

static gboolean image_write(const void *data, gsize len, gpointer user, GError **error) {
  ImageStream *p = user;
  p->bytes += len;
  if (p->begun)
    return p->sink->write(p->sink, data, len, error);
  gsize take = MIN(len, sizeof p->head - p->head_len);
  memcpy(p->head + p->head_len, data, take);
  p->head_len += take;
  if (p->head_len < sizeof p->head)
    return TRUE;
  return image_head(p, error) && p->sink->write(p->sink, (const guint8 *) data + take, len - take, error);
}

static const WsdMtomSink image_sink = { image_begin, image_write };

static ScandHttpSinkChoice reply_begin(const ScandHttpReply *reply, gpointer user, GError **error) {
  ImageStream *p = user;
  const char *ct = scand_http_reply_header(reply, "Content-Type");
  if (reply->status != 200 || !ct || g_ascii_strncasecmp(ct, "multipart/", 10) != 0)
    return SCAND_HTTP_SINK_MEMORY; /* a fault, read as a whole */
  g_autoptr(GError) local = NULL;
  p->mtom = wsd_mtom_new(ct, &image_sink, p, &local);
  if (!p->mtom) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: RetrieveImage: %s", p->s->device, local->message);
    return SCAND_HTTP_SINK_ABORT;
  }
  return SCAND_HTTP_SINK_TAKE;
}

static gboolean reply_write(const void *data, gsize len, gpointer user, GError **error) {
  ImageStream *p = user;
  g_autoptr(GError) local = NULL;
  if (wsd_mtom_feed(p->mtom, data, len, &local))
    return TRUE;
  if (local->domain == SCAND_ERROR && local->code == SCAND_ERROR_INVAL)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: page %u: %s", p->s->device, p->s->pages + 1, local->message);
  else
    g_propagate_error(error, g_steal_pointer(&local));
  return FALSE;
}

/* Attempts made for the page being read. */
typedef struct {
  guint drops;
  guint temporary;
  gboolean lost_page; /* the connection broke mid-page: the device may have moved on */
} PageTries;

/* How one RetrieveImage exchange ends for wsd_read_page(). */
typedef enum {
  STEP_AGAIN,  /* ask again (the connection broke) */
  STEP_OK,     /* return TRUE: a page, or the normal end of the job */
  STEP_FAILED, /* return FALSE with the error set */
} Step;

/* A complete multipart reply: checks the root part and ends the page. */
static Step page_complete(WsdScanner *s, ImageStream *p, gboolean *got_page, GError **error) {
  g_autoptr(GError) local = NULL;
  WsdReply r = { 0 };
  const GByteArray *root = NULL;
  if (wsd_mtom_finish(p->mtom, &local)) {
    root = wsd_mtom_root(p->mtom);
    if (wsd_reply_decode(WSD_OP_RETRIEVE_IMAGE, (const char *) root->data, root->len, &r, &local) && r.is_fault)
      g_set_error(&local, SCAND_ERROR, SCAND_ERROR_IO, "a fault came with the image");
    else if (!local && r.image_cid && g_strcmp0(r.image_cid, wsd_mtom_image_id(p->mtom)) != 0)
      g_set_error(&local, SCAND_ERROR, SCAND_ERROR_INVAL, "the image part is not the one the reply names");
    else if (!local && !p->begun)
      g_set_error(&local, SCAND_ERROR, SCAND_ERROR_INVAL, "the image part is %" G_GSIZE_FORMAT " bytes", p->head_len);
  }
  wsd_reply_clear(&r);
  if (local) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: page %u arrived broken: %s; job ended with %u page%s kept",
                s->device, s->pages + 1, local->message, s->pages, plural(s->pages));
    return STEP_FAILED;
  }
  p->begun = FALSE;
  if (!p->sink->end(p->sink, error))
    return STEP_FAILED;
  s->pages++;
  *got_page = TRUE;
  if (s->ticket.input == WSD_INPUT_PLATEN) {
    s->job_open = FALSE; /* the platen's one page: the job is complete */
    s->job_done = TRUE;
  }
  return STEP_OK;
}

/* A fault stopped the job in the middle: the job's and the scanner's state
 * say why (GetJobElements, GetScannerElements). */
static Step page_stopped(WsdScanner *s, const WsdFault *fault, GError **error) {
  static const char *const names[] = { "JobStatus", NULL };
  WsdRequestArgs args = { .job_id = s->job_id, .elements = names };
  WsdReply jr;
  g_autoptr(GError) ignored = NULL;
  g_autofree char *job_state = NULL, *job_reason = NULL;
  if (wsd_call(s, WSD_OP_GET_JOB_ELEMENTS, &args, &jr, &ignored)) {
    if (jr.have_job_status) {
      job_state = g_strdup(jr.job_status.state);
      job_reason = jr.job_status.reasons->len ? g_strdup(jr.job_status.reasons->pdata[0]) : NULL;
    }
    wsd_reply_clear(&jr);
  }
  if (job_state &&
      (strcmp(job_state, "Aborted") == 0 || strcmp(job_state, "Canceled") == 0 || strcmp(job_state, "Completed") == 0))
    s->job_open = FALSE;
  WsdStatus st = { 0 };
  int code = SCAND_ERROR_IO;
  gboolean transient = FALSE;
  const char *problem = fetch_status(s, &st, NULL) ? wsd_status_problem(&st, &code, &transient) : NULL;
  g_autofree char *what = wsd_fault_describe(fault);
  if (problem && !transient)
    g_set_error(error, SCAND_ERROR, code, "%s: %s at page %u (%u page%s received and kept)", s->device, problem,
                s->pages + 1, s->pages, plural(s->pages));
  else
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s: the device stopped the job at page %u: %s (job %s%s%s); %u page%s kept", s->device, s->pages + 1,
                what, job_state ? job_state : "state unknown", job_reason ? ", " : "", job_reason ? job_reason : "",
                s->pages, plural(s->pages));
  wsd_status_clear(&st);
  return STEP_FAILED;
}

/* The device has no more images: the normal end of a feeder job (after a
 * page), an empty feeder (before one), or a lost page. */
static Step page_none_left(WsdScanner *s, gboolean lost_page, GError **error) {
  s->job_open = FALSE;
  s->job_done = TRUE;
  if (lost_page) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s: connection lost while receiving page %u and the device cannot send it again; "
                "job ended with %u page%s kept",
                s->device, s->pages + 1, s->pages, plural(s->pages));
    return STEP_FAILED;
  }
  if (s->pages > 0)
    return STEP_OK;
  if (s->ticket.input == WSD_INPUT_PLATEN) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: the device ended the job without a page", s->device);
    return STEP_FAILED;
  }
  if (!check_status(s, error))
    return STEP_FAILED;
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_NO_DOCS, "%s: the feeder gave no page (is it empty?)", s->device);
  return STEP_FAILED;
}

static Step page_fault(WsdScanner *s, const WsdFault *f, PageTries *tries, GError **error) {
  const char *sub = f->subcode ? f->subcode : "";
  gboolean feeder = s->ticket.input != WSD_INPUT_PLATEN;
  gboolean lost_page = tries->lost_page;
  if (strcmp(sub, "ServerErrorTemporaryError") == 0 && tries->temporary < WSD_TEMPORARY_RETRIES) {
    tries->temporary++;
    if (scand_http_sleep(s->http, WSD_TEMPORARY_MS, NULL))
      return STEP_AGAIN;
    set_cancelled(s, error);
    return STEP_FAILED;
  }
  if (strcmp(sub, "ClientErrorNoImagesAvailable") == 0)
    return page_none_left(s, lost_page, error);
  if (strcmp(sub, "ClientErrorJobIdNotFound") == 0 && feeder && s->quirks.job_id_not_found_means_empty)
    return page_none_left(s, lost_page, error);
  if (strcmp(sub, "ClientErrorJobIdNotFound") == 0) {
    s->job_open = FALSE;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s: the device no longer knows job %d at page %u (did it restart?); job ended with %u page%s kept",
                s->device, s->job_id, s->pages + 1, s->pages, plural(s->pages));
    return STEP_FAILED;
  }
  if (strcmp(sub, "ClientErrorJobCancelled") == 0) {
    s->job_open = FALSE;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED,
                "%s: the job was cancelled at the device at page %u; %u page%s kept", s->device, s->pages + 1, s->pages,
                plural(s->pages));
    return STEP_FAILED;
  }
  return page_stopped(s, f, error);
}

/* A reply that is not multipart: a fault (whatever its HTTP status), or a
 * device that sent no image. */
static Step page_not_multipart(WsdScanner *s, const ScandHttpReply *reply, PageTries *tries, GError **error) {
  WsdReply r;
  g_autoptr(GError) local = NULL;
  if (!wsd_reply_decode(WSD_OP_RETRIEVE_IMAGE, (const char *) reply->body->data, reply->body->len, &r, &local)) {
    http_status_error(s, WSD_OP_RETRIEVE_IMAGE, reply->status, local, error);
    return STEP_FAILED;
  }
  Step step;
  if (r.is_fault) {
    step = page_fault(s, &r.fault, tries, error);
  } else {
    const char *ct = scand_http_reply_header(reply, "Content-Type");
    g_autofree char *shown = g_utf8_make_valid(ct ? ct : "none", MIN(ct ? strlen(ct) : 4, 80));
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: RetrieveImage for page %u answered without an image (%s)",
                s->device, s->pages + 1, shown);
    step = STEP_FAILED;
  }
  wsd_reply_clear(&r);
  return step;
}

/* No reply arrived: a broken connection is asked again (the page may still
 * be there); anything else ends the job, the pages before kept. */
static Step page_transfer_failed(WsdScanner *s, ImageStream *p, PageTries *tries, GError *local, GError **error) {
  g_autoptr(GError) owned = local;
  ScandHttpOutcome outcome = scand_http_last_outcome(s->http);
  if (outcome == SCAND_HTTP_BROKEN && tries->drops < WSD_DROP_RETRIES) {
    tries->drops++;
    tries->lost_page |= p->bytes > 0;
    if (scand_http_sleep(s->http, 200, NULL))
      return STEP_AGAIN;
    set_cancelled(s, error);
    return STEP_FAILED;
  }
  if (outcome == SCAND_HTTP_BROKEN)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s: connection lost while receiving page %u (%" G_GUINT64_FORMAT " bytes in, %u attempts); "
                "job ended with %u page%s kept: %s",
                s->device, s->pages + 1, p->bytes, tries->drops + 1, s->pages, plural(s->pages), owned->message);
  else if (outcome == SCAND_HTTP_CANCELLED || outcome == SCAND_HTTP_SINK_FAILED)
    g_propagate_error(error, g_steal_pointer(&owned));
  else
    g_set_error(error, SCAND_ERROR, owned->code, "%s; page %u lost, job ended with %u page%s kept", owned->message,
                s->pages + 1, s->pages, plural(s->pages));
  return STEP_FAILED;
}

/* One RetrieveImage exchange. */
static Step page_once(WsdScanner *s, ScandPageSink *sink, PageTries *tries, gboolean *got_page, GError **error) {
  WsdRequestArgs args = { .to = s->url, .job_id = s->job_id, .job_token = s->job_token };
  g_autofree char *body = wsd_request_build(WSD_OP_RETRIEVE_IMAGE, &args);
  ImageStream p = { .s = s, .sink = sink };
  ScandHttpSink hs = { .begin = reply_begin, .write = reply_write, .user = &p };
  ScandHttpRequest request = {
    .method = "POST",
    .url = s->url,
    .headers = soap_headers,
    .body = body,
    .body_len = strlen(body),
    .timeout_ms = s->page_timeout_ms,
    .sink = &hs,
  };
  GError *local = NULL;
  g_autoptr(ScandHttpReply) reply = scand_http_perform(s->http, &request, &local);
  Step step;
  if (!reply)
    step = page_transfer_failed(s, &p, tries, local, error);
  else if (p.mtom)
    step = page_complete(s, &p, got_page, error);
  else
    step = page_not_multipart(s, reply, tries, error);
  if (p.begun)
    sink->abort(sink);
  wsd_mtom_free(p.mtom);
  return step;
}

static gboolean wsd_read_page(ScandScanner *scanner, ScandPageSink *sink, gboolean *got_page, GError **error) {
  WsdScanner *s = (WsdScanner *) scanner;
  *got_page = FALSE;
  if (!s->job_token) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: no scan job started", s->device);
    return FALSE;
  }
  if (scand_http_is_cancelled(s->http)) {
    set_cancelled(s, error);
    return fail_job(s);
  }
  if (s->job_done)
    return TRUE;
  if (s->max_pages > 0 && s->pages >= s->max_pages) {
    /* A feeder job cut short still holds sheets on the device. */
    job_cancel(s);
    s->job_done = TRUE;
    return TRUE;
  }
  PageTries tries = { 0 };
  for (;;) {
    Step step = page_once(s, sink, &tries, got_page, error);
    if (step == STEP_OK)
      return TRUE;
    if (step == STEP_FAILED)
      return fail_job(s);
  }
}

static void wsd_cancel(ScandScanner *scanner) {
  scand_http_cancel(((WsdScanner *) scanner)->http);
}

static void wsd_close(ScandScanner *scanner) {
  WsdScanner *s = (WsdScanner *) scanner;
  job_cancel(s);
  wsd_free(s);
}

/* The device's ScannerStatus (and its ScannerName in *name, may be NULL). */
static gboolean status_of(const char *uri, const ScandOpenOptions *options, WsdStatus *out, char **name,
                          GError **error) {
  g_autoptr(WsdScanner) s = wsd_new(uri, options, error);
  if (!s)
    return FALSE;
  static const char *const names[] = { "ScannerDescription", "ScannerStatus", NULL };
  WsdRequestArgs args = { .elements = names };
  WsdReply r;
  if (!wsd_call(s, WSD_OP_GET_SCANNER_ELEMENTS, &args, &r, error))
    return FALSE;
  gboolean ok = !r.is_fault && r.have_status;
  if (r.is_fault)
    fault_error(s, WSD_OP_GET_SCANNER_ELEMENTS, &r.fault, SCAND_ERROR_IO, error);
  else if (!ok)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: GetScannerElements: no ScannerStatus in the reply",
                s->device);
  if (ok) {
    *out = r.status;
    memset(&r.status, 0, sizeof r.status);
    if (name)
      *name = g_steal_pointer(&r.scanner_name);
  }
  wsd_reply_clear(&r);
  return ok;
}

static ScandDeviceState device_state(WsdScannerState state) {
  switch (state) {
    case WSD_SCANNER_IDLE:
      return SCAND_DEVICE_IDLE;
    case WSD_SCANNER_PROCESSING:
      return SCAND_DEVICE_PROCESSING;
    case WSD_SCANNER_STOPPED:
      return SCAND_DEVICE_STOPPED;
    case WSD_SCANNER_UNKNOWN:
    default:
      return SCAND_DEVICE_UNKNOWN;
  }
}

/* The status entry. WS-Scan has no feeder sensor of its own: the feeder's
 * state is what the scanner's state reasons say of it. */
static gboolean wsd_status(const char *rest, const ScandOpenOptions *options, ScandDeviceStatus *out, GError **error) {
  WsdStatus st;
  if (!status_of(rest, options, &st, NULL, error))
    return FALSE;
  memset(out, 0, sizeof *out);
  out->state = device_state(st.state);
  out->feeder = SCAND_FEEDER_UNKNOWN;
  out->feeder_word = "not reported";
  int code = SCAND_ERROR_IO;
  gboolean transient = FALSE;
  const char *problem = wsd_status_problem(&st, &code, &transient);
  if (problem && code == SCAND_ERROR_NO_DOCS) {
    out->feeder = SCAND_FEEDER_EMPTY;
    out->feeder_word = "empty";
  } else if (problem && !transient) {
    out->feeder = SCAND_FEEDER_PROBLEM;
    out->feeder_word = code == SCAND_ERROR_JAMMED       ? "jammed"
                       : code == SCAND_ERROR_COVER_OPEN ? "cover open"
                                                        : "problem";
    out->problem = problem;
    out->problem_code = code;
  }
  wsd_status_clear(&st);
  return TRUE;
}

const ScandBackendDriver scand_backend_wsd = {
  .scheme = "wsd",
  .list = NULL,
  .open = wsd_open,
  .start = wsd_start,
  .read_page = wsd_read_page,
  .cancel = wsd_cancel,
  .close = wsd_close,
  .status = wsd_status,
  .panel = &scand_panel_wsd,
};

/* ---- public extras ------------------------------------------------------------------ */

void scand_wsd_status_clear(ScandWsdStatus *status) {
  if (!status)
    return;
  g_free(status->state_word);
  if (status->reasons)
    g_ptr_array_unref(status->reasons);
  g_free(status->problem);
  g_free(status->name);
  memset(status, 0, sizeof *status);
}

gboolean scand_wsd_get_status(const char *uri, const ScandOpenOptions *options, ScandWsdStatus *out, GError **error) {
  memset(out, 0, sizeof *out);
  WsdStatus st;
  if (!status_of(uri, options, &st, &out->name, error))
    return FALSE;
  out->state = device_state(st.state);
  out->state_word = g_steal_pointer(&st.state_word);
  int code;
  gboolean transient;
  out->problem = g_strdup(wsd_status_problem(&st, &code, &transient));
  out->reasons = g_steal_pointer(&st.reasons);
  wsd_status_clear(&st);
  return TRUE;
}
