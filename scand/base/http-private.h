/* Internals of the HTTP client shared by http.c and http-tls.c. */
#pragma once

#include "scand/base/http.h"

G_BEGIN_DECLS

/* TLS verification state of one client: the pin, and what the last
 * handshake saw (for messages that say which certificate was refused). */
typedef struct {
  gboolean have_pin;
  guint8 pin[32]; /* SHA-256 of the pinned DER certificate */
  gboolean seen;
  guint8 seen_digest[32];
  char *seen_subject;
  char *seen_issuer;
  gboolean ca_failed; /* the CA store did not vouch for it */
  gboolean pin_mismatch;
} HttpTls;

/* Installs verification on curl for https: the CA store, or exactly the
 * pinned certificate when tls->have_pin; records the certificate seen. tls
 * must outlive the transfers. Fails when pinning needs OpenSSL and libcurl
 * was built with another TLS library. */
gboolean http_tls_setup(CURL *curl, HttpTls *tls, GError **error);
/* Forgets what the last handshake saw. */
void http_tls_reset_seen(HttpTls *tls);
void http_tls_clear(HttpTls *tls);
/* A one-line explanation of a refused handshake ("certificate changed",
 * "not trusted by the system CAs"), or NULL when the TLS layer has nothing to
 * say. label names the peer, trust_hint (may be NULL) what to run to pin it.
 * Newly allocated. */
char *http_tls_explain_failure(const HttpTls *tls, const char *label, const char *trust_hint);

/* The TLS state of a client (for scand_http_fetch_certificate()). */
HttpTls *http_tls_of(ScandHttp *http);

/* libcurl's global initialisation, once per process. */
void http_global_init(void);
/* How many idle connections a pool keeps: at most 1024 and at most half the
 * descriptors the process may open. */
long http_shared_connections_max(void);

/* One request under way on a client's handle. */
typedef struct {
  ScandHttp *http;
  CURL *curl;
  const ScandHttpRequest *request;
  ScandHttpReply *reply;
  curl_slist *header_list;
  gboolean decided; /* the sink chose what to do with the body */
  ScandHttpSinkChoice choice;
  GError *sink_error;
  gboolean too_large;
  gboolean headers_too_large;
  gsize header_bytes;
  gsize up_off; /* bytes of the request body sent (uploads) */
} Transfer;

/* Sets up t for request r on the client's handle (reset, policy, callbacks);
 * r must outlive the transfer. */
void http_transfer_begin(Transfer *t, ScandHttp *http, const ScandHttpRequest *r);
/* Ends t after libcurl's result rc: the reply (newly allocated), or NULL with
 * error. */
ScandHttpReply *http_transfer_finish(Transfer *t, CURLcode rc, GError **error);

G_END_DECLS
