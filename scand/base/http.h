/* The one HTTP client of scand (libcurl), used by eSCL, discovery, Microsoft
 * Graph and — for its transport policy — SMTP.
 *
 * A ScandHttp is one peer's client: it owns one libcurl handle whose
 * connections stay open and are reused by the next request to the same host
 * (keep one client per device and reuse it: that is how hundreds of scanners
 * are polled without a handshake each time). A client runs one request at a
 * time; give each thread its own.
 *
 * What every request gets, whatever the caller forgets:
 *   - a connect timeout, a total timeout and a stall timeout: nothing waits
 *     for ever, a peer dripping one byte a second included;
 *   - TLS verified: by the system CA store (or ca_file), or by exactly one
 *     pinned certificate (tls_pin, as `scand trust` writes it). There is no
 *     switch to turn verification off except for discovery listings;
 *   - no redirects followed (a 3xx is an answer like any other), only the
 *     protocols asked for, headers capped, replies kept in memory capped;
 *   - cancellation: scand_http_cancel() from any thread or a signal handler
 *     ends the transfer under way within a second, and
 *     scand_http_stop_all() does so for every client of the process (SIGTERM).
 *
 * Errors are SCAND_ERROR with one line saying who, what and why:
 *   SCAND_ERROR_NOT_FOUND  no connection (name, refused, connect timeout)
 *   SCAND_ERROR_DENIED     TLS verification refused the peer
 *   SCAND_ERROR_INVAL      the URL or its protocol is not acceptable
 *     — for these three, nothing was sent —
 *   SCAND_ERROR_IO         the connection broke, timed out or the reply was too
 *                          large once the request may have gone out
 *   SCAND_ERROR_CANCELLED  scand_http_cancel() or scand_http_stop_all()
 * and a sink's own errors pass through unchanged. */
#pragma once

#include <glib.h>
#include <curl/curl.h>

G_BEGIN_DECLS

/* Cleanup functions for libcurl's own types, so that no path frees by hand. */
typedef struct curl_slist curl_slist;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURL, curl_easy_cleanup)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURLU, curl_url_cleanup)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(curl_slist, curl_slist_free_all)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(curl_mime, curl_mime_free)

#define SCAND_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 15000
#define SCAND_HTTP_DEFAULT_TIMEOUT_MS 60000
#define SCAND_HTTP_DEFAULT_STALL_S 60
#define SCAND_HTTP_DEFAULT_MAX_REPLY (4 * 1024 * 1024)

/* How a client talks to its peer. Every field may be 0/NULL for the default;
 * strings are copied. */
typedef struct {
  const char *label;        /* names the peer in messages ("escl:https://mfp/eSCL"); NULL: the request's URL */
  const char *protocols;    /* libcurl protocol list; NULL: "http,https" */
  guint connect_timeout_ms; /* 0: 15 s */
  guint timeout_ms;         /* each request, first to last byte; 0: 60 s */
  guint stall_s;            /* fail when under one byte a second for this long; 0: 60 s */
  gsize max_reply;          /* cap on a reply kept in memory; 0: 4 MiB */
  const char *ca_file;      /* a private CA bundle; NULL: the system store */
  const char *tls_pin;      /* "sha256:AB:CD:…": trust exactly this certificate, whatever its names */
  const char *trust_hint;   /* what to run to pin a certificate ("scand trust escl:https://…"), for messages */
  /* Discovery listings only: read an https peer without any certificate
   * check. Never for a request that sends or fetches anything of value. */
  gboolean tls_unverified;
  /* Connections stay open after a request in one pool the whole process
   * shares (up to 1024, and at most half the descriptor limit), for the next
   * client with this option that talks to the same peer: status polls keep
   * their connection instead of a new one every time. Ignored with tls_pin
   * or tls_unverified (libcurl cannot tell those connections apart). */
  gboolean shared_connections;
} ScandHttpOptions;

typedef struct ScandHttp ScandHttp;

/* A client. Fails (SCAND_ERROR_INVAL) on a malformed tls_pin, or
 * SCAND_ERROR_UNSUPPORTED when pinning is asked of a libcurl without OpenSSL.
 * Free with scand_http_free(). */
ScandHttp *scand_http_new(const ScandHttpOptions *options, GError **error);
/* Closes the client's connections and frees it. Accepts NULL. */
void scand_http_free(ScandHttp *http);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandHttp, scand_http_free)

/* The label given in the options (or ""). */
const char *scand_http_get_label(ScandHttp *http);

/* ---- requests ------------------------------------------------------------ */

typedef struct ScandHttpReply ScandHttpReply;

/* What a sink does with the body of a reply, decided when the status and the
 * headers are known. */
typedef enum {
  SCAND_HTTP_SINK_TAKE,   /* the body goes to write() */
  SCAND_HTTP_SINK_MEMORY, /* the body goes to reply->body as without a sink (an error page) */
  SCAND_HTTP_SINK_ABORT,  /* stop the transfer; begin() has set its error */
} ScandHttpSinkChoice;

/* Streams a reply body somewhere (a page into the spool, a multipart parser).
 * begin() runs once, before the first byte of a non-empty body; write() then
 * gets the bytes in order. A write() that fails ends the transfer and its
 * error is the request's. */
typedef struct {
  ScandHttpSinkChoice (*begin)(const ScandHttpReply *reply, gpointer user, GError **error);
  gboolean (*write)(const void *data, gsize len, gpointer user, GError **error);
  gpointer user;
} ScandHttpSink;

typedef struct {
  const char *method;         /* NULL: GET, or POST when there is a body */
  const char *url;            /* absolute */
  const char *const *headers; /* extra "Name: value" lines, NULL-terminated; "Name:" drops a default one */
  const void *body;           /* request body, sent with its Content-Length; NULL: none */
  gsize body_len;
  guint timeout_ms;          /* this request's total timeout; 0: the client's */
  guint stall_s;             /* this request's stall timeout (a long poll waits in silence); 0: the client's */
  const ScandHttpSink *sink; /* where the body goes; NULL: reply->body, at most max_reply bytes */
} ScandHttpRequest;

struct ScandHttpReply {
  long status;
  GByteArray *body;   /* the body when it was not streamed; never NULL */
  guint64 streamed;   /* bytes handed to the sink */
  gint64 retry_after; /* Retry-After in seconds (delay or date), -1 when absent */
  GPtrArray *headers; /* "Name: value" of the final response, at most 100; use scand_http_reply_header() */
};

void scand_http_reply_free(ScandHttpReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandHttpReply, scand_http_reply_free)

/* The value of header name (any case) in reply, trimmed, or NULL. The last
 * one wins when it is repeated. Owned by reply. */
const char *scand_http_reply_header(const ScandHttpReply *reply, const char *name);

/* Sends request on the client's (reused) connection. Returns the reply —
 * whatever its status — once one arrived in full, or NULL with an error (see
 * the top of this file). Newly allocated. */
ScandHttpReply *scand_http_perform(ScandHttp *http, const ScandHttpRequest *request, GError **error);

/* How the client's last request ended, for callers whose next step depends on
 * it (ask again after a broken connection, never after a timeout). */
typedef enum {
  SCAND_HTTP_OK,            /* a reply arrived */
  SCAND_HTTP_NO_CONNECTION, /* nothing was sent */
  SCAND_HTTP_TLS_REFUSED,   /* nothing was sent */
  SCAND_HTTP_BAD_URL,       /* nothing was sent */
  SCAND_HTTP_BROKEN,        /* the connection broke during the exchange */
  SCAND_HTTP_TIMED_OUT,     /* the total or the stall timeout ran out */
  SCAND_HTTP_TOO_LARGE,     /* the reply or its headers were over the cap */
  SCAND_HTTP_SINK_FAILED,   /* the sink refused the body */
  SCAND_HTTP_CANCELLED,
} ScandHttpOutcome;

ScandHttpOutcome scand_http_last_outcome(ScandHttp *http);

/* Sends n requests at the same time, request i through client i (n distinct
 * clients), and waits for all of them. replies[i] gets the reply or NULL and
 * errors[i] why. Connections opened here are closed at the end: for polls
 * repeated many times, perform each client's request in its own thread. */
void scand_http_perform_many(ScandHttp *const *clients, const ScandHttpRequest *requests, guint n,
                             ScandHttpReply **replies, GError **errors);

/* ---- requests on a main loop ----------------------------------------------- */

/* Requests run by libcurl's multi interface on a GMainContext, without a
 * thread: each waits on its sockets in the context's poll, and its done
 * callback runs there. For the status polls of many scanners, where a thread
 * per poll costs more than the poll. Connections stay open in the loop's own
 * pool (as many as shared_connections allows) for the next request to the
 * same peer. */
typedef struct ScandHttpLoop ScandHttpLoop;

/* A loop on context (NULL: the global default context), or NULL when the
 * system refuses its descriptor or libcurl would resolve host names in the
 * calling thread (SCAND_ERROR_UNSUPPORTED). Free with scand_http_loop_free(). */
ScandHttpLoop *scand_http_loop_new(GMainContext *context, GError **error);
/* Ends every request under way (their done callbacks run, with
 * SCAND_ERROR_CANCELLED), closes the connections and frees the loop. Accepts
 * NULL. Call it from the loop's context. */
void scand_http_loop_free(ScandHttpLoop *loop);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandHttpLoop, scand_http_loop_free)

/* Called once when a request ended: the reply (owned by the callee) or NULL
 * and why (owned by the loop). http is the client given to
 * scand_http_loop_perform(), free again for another request. */
typedef void (*ScandHttpDone)(ScandHttp *http, ScandHttpReply *reply, const GError *error, gpointer user);

/* Starts request through http on the loop and returns at once; done runs
 * later, in the loop's context, never from within this call. The request is
 * copied, except that a sink is not allowed and a body must stay valid until
 * done. http must not be used otherwise until then. Call it from the loop's
 * context. */
void scand_http_loop_perform(ScandHttpLoop *loop, ScandHttp *http, const ScandHttpRequest *request, ScandHttpDone done,
                             gpointer user);

/* ---- other protocols (SMTP) ----------------------------------------------- */

/* The client's libcurl handle, reset and set up with its policy (protocols,
 * timeouts, TLS verification, cancellation, no signals) for a caller that adds
 * the options of another protocol (smtp) and then runs scand_http_perform_raw().
 * Owned by the client. */
CURL *scand_http_prepare_raw(ScandHttp *http, const char *url);
/* Runs the prepared transfer. Returns libcurl's result (for protocol-specific
 * decisions) and, when it is not CURLE_OK, sets error as scand_http_perform()
 * would. */
CURLcode scand_http_perform_raw(ScandHttp *http, GError **error);

/* ---- cancellation ---------------------------------------------------------- */

/* Stops the client's transfer under way (within a second) and fails every
 * later request and scand_http_sleep() with SCAND_ERROR_CANCELLED until
 * scand_http_reset_cancel(). Safe from any thread and from a signal handler. */
void scand_http_cancel(ScandHttp *http);
void scand_http_reset_cancel(ScandHttp *http);
/* TRUE after scand_http_cancel() or once scand_http_stop_all() took effect. */
gboolean scand_http_is_cancelled(ScandHttp *http);

/* Stops every transfer of the process grace_ms from now (0: at once): those
 * under way end with SCAND_ERROR_CANCELLED, later ones fail at once. Only the
 * earliest deadline counts. Safe from a signal handler. For SIGTERM. */
void scand_http_stop_all(guint grace_ms);
/* TRUE once the deadline of scand_http_stop_all() has passed. */
gboolean scand_http_stopping(void);
/* Forgets scand_http_stop_all() (tests). */
void scand_http_stop_reset(void);

/* Waits ms milliseconds; FALSE (at once) when the client is cancelled or the
 * process is stopping, with SCAND_ERROR_CANCELLED in error. http may be NULL. */
gboolean scand_http_sleep(ScandHttp *http, guint ms, GError **error);

/* ---- credentials in URLs ---------------------------------------------------- */

/* TRUE when text is a URL whose authority carries user info ("user@",
 * "user:password@"). */
gboolean scand_http_url_has_userinfo(const char *text);
/* text without the password of its user info ("smb://u:pw@h/s" → "smb://u@h/s"),
 * or NULL when it has none (or is not a URL). For anything written to disk or
 * shown. Newly allocated. */
char *scand_http_url_without_password(const char *text);

/* ---- certificates ------------------------------------------------------------ */

/* Parses a pin "sha256:AB:CD:…" (colons optional, any case, "sha256/" too). */
gboolean scand_http_pin_parse(const char *text, guint8 out[32], GError **error);
/* "sha256:AB:CD:…" of a SHA-256 digest. Newly allocated. */
char *scand_http_fingerprint_format(const guint8 digest[32]);

/* The certificate an https peer presents. */
typedef struct {
  char *subject; /* one-line RFC 2253 subject */
  char *issuer;
  char *fingerprint;      /* "sha256:AB:CD:…" of the DER certificate */
  gboolean trusted_by_ca; /* verified by the system CA store */
} ScandHttpCertificate;

void scand_http_certificate_free(ScandHttpCertificate *cert);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandHttpCertificate, scand_http_certificate_free)

/* Connects to the https URL, runs the TLS handshake and returns the
 * certificate presented, trusting nothing and sending no request. label names
 * the peer in messages (NULL: the URL). Newly allocated. */
ScandHttpCertificate *scand_http_fetch_certificate(const char *url, const char *label, GError **error);

G_END_DECLS
