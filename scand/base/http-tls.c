/* TLS verification of the HTTP client: the system CA store, or exactly one
 * pinned certificate (SHA-256 of its DER encoding) for devices with a
 * self-signed certificate. Verification is never switched off: a pinned
 * certificate replaces the CA check by a stricter one, it does not skip it. */
#include "scand/base/http-private.h"
#include "scand/base/error.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

static int tls_ex_index(void) {
  static gsize once = 0;
  static int index = -1;
  if (g_once_init_enter(&once)) {
    index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    g_once_init_leave(&once, 1);
  }
  return index;
}

gboolean scand_http_pin_parse(const char *text, guint8 out[32], GError **error) {
  const char *p = text ? text : "";
  while (g_ascii_isspace(*p))
    p++;
  if (g_ascii_strncasecmp(p, "sha256:", 7) == 0)
    p += 7;
  else if (g_ascii_strncasecmp(p, "sha256/", 7) == 0)
    p += 7;
  guint n = 0;
  while (*p && !g_ascii_isspace(*p)) {
    if (*p == ':') {
      p++;
      continue;
    }
    int hi = g_ascii_xdigit_value(p[0]);
    int lo = p[1] ? g_ascii_xdigit_value(p[1]) : -1;
    if (hi < 0 || lo < 0 || n >= 32)
      goto bad;
    out[n++] = (guint8) (hi << 4 | lo);
    p += 2;
  }
  while (g_ascii_isspace(*p))
    p++;
  if (n == 32 && !*p)
    return TRUE;
bad:
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
              "tls-pin \"%s\" is not a SHA-256 fingerprint (expected sha256: and 32 hex bytes)", text ? text : "");
  return FALSE;
}

char *scand_http_fingerprint_format(const guint8 digest[32]) {
  GString *s = g_string_new("sha256:");
  for (guint i = 0; i < 32; i++)
    g_string_append_printf(s, "%s%02X", i ? ":" : "", digest[i]);
  return g_string_free(s, FALSE);
}

static char *name_oneline(const X509_NAME *name) {
  BIO *bio = BIO_new(BIO_s_mem());
  if (!bio)
    return g_strdup("?");
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char *data = NULL;
  long len = BIO_get_mem_data(bio, &data);
  char *s = g_strndup(data, len > 0 ? (gsize) len : 0);
  BIO_free(bio);
  return s;
}

/* OpenSSL calls this for every certificate of the chain; the leaf decides. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store) {
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  HttpTls *tls = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_ex_index()) : NULL;
  X509 *leaf = X509_STORE_CTX_get0_cert(store);
  if (!tls || !leaf)
    return preverify_ok;
  if (!tls->seen) {
    unsigned int len = 0;
    if (X509_digest(leaf, EVP_sha256(), tls->seen_digest, &len) && len == 32) {
      tls->seen = TRUE;
      g_free(tls->seen_subject);
      g_free(tls->seen_issuer);
      tls->seen_subject = name_oneline(X509_get_subject_name(leaf));
      tls->seen_issuer = name_oneline(X509_get_issuer_name(leaf));
    }
  }
  if (!preverify_ok)
    tls->ca_failed = TRUE;
  if (!tls->have_pin)
    return preverify_ok;
  if (tls->seen && memcmp(tls->seen_digest, tls->pin, 32) == 0) {
    /* Exactly the certificate the user trusted: whatever the CA store thinks
     * of it (self-signed, expired) does not matter. */
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  tls->pin_mismatch = TRUE;
  return 0;
}

static CURLcode ssl_ctx_cb(CURL *curl, void *ssl_ctx, void *data) {
  SSL_CTX *ctx = ssl_ctx;
  SSL_CTX_set_ex_data(ctx, tls_ex_index(), data);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
  return CURLE_OK;
}

gboolean http_tls_setup(CURL *curl, HttpTls *tls, GError **error) {
  const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
  gboolean openssl = info->ssl_version && g_ascii_strncasecmp(info->ssl_version, "OpenSSL", 7) == 0;
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  /* A pinned certificate is identified by its digest, so its names need not
   * match the address (self-signed MFP certificates rarely name it). Without
   * a pin the usual host name check applies. */
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, tls->have_pin ? 0L : 2L);
  if (!openssl) {
    if (!tls->have_pin)
      return TRUE; /* the CA check of whatever TLS library libcurl has */
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                "a pinned certificate (tls-pin) needs libcurl built with OpenSSL (this one uses %s)",
                info->ssl_version ? info->ssl_version : "no TLS");
    return FALSE;
  }
  curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
  curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, tls);
  /* A resumed session would skip the certificate check above. */
  curl_easy_setopt(curl, CURLOPT_SSL_SESSIONID_CACHE, 0L);
  return TRUE;
}

void http_tls_reset_seen(HttpTls *tls) {
  tls->seen = FALSE;
  tls->ca_failed = FALSE;
  tls->pin_mismatch = FALSE;
  g_clear_pointer(&tls->seen_subject, g_free);
  g_clear_pointer(&tls->seen_issuer, g_free);
}

void http_tls_clear(HttpTls *tls) {
  if (!tls)
    return;
  http_tls_reset_seen(tls);
  memset(tls, 0, sizeof *tls);
}

char *http_tls_explain_failure(const HttpTls *tls, const char *label, const char *trust_hint) {
  if (!tls->seen)
    return NULL;
  g_autofree char *seen = scand_http_fingerprint_format(tls->seen_digest);
  const char *subject = tls->seen_subject ? tls->seen_subject : "?";
  if (tls->have_pin && tls->pin_mismatch) {
    g_autofree char *pinned = scand_http_fingerprint_format(tls->pin);
    return g_strdup_printf("%s: certificate changed: tls-pin is %s but the peer presented %s (%s); refused%s%s%s",
                           label, pinned, seen, subject,
                           trust_hint ? " (if it got a new certificate, check it and run `" : "",
                           trust_hint ? trust_hint : "", trust_hint ? "`)" : "");
  }
  if (tls->ca_failed)
    return g_strdup_printf("%s: certificate %s (%s) is not trusted by the system CAs; refused%s%s%s", label, seen,
                           subject, trust_hint ? " (check it and run `" : "", trust_hint ? trust_hint : "",
                           trust_hint ? "` to pin it)" : " (set ca-file for a private CA)");
  return NULL;
}

/* ---- fetching a certificate (scand trust) ----------------------------------- */

void scand_http_certificate_free(ScandHttpCertificate *cert) {
  if (!cert)
    return;
  g_free(cert->subject);
  g_free(cert->issuer);
  g_free(cert->fingerprint);
  g_free(cert);
}

ScandHttpCertificate *scand_http_fetch_certificate(const char *url, const char *label, GError **error) {
  const char *who = label ? label : url;
  if (g_ascii_strncasecmp(url, "https://", 8) != 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: not an https address; there is no certificate to trust",
                who);
    return NULL;
  }
  ScandHttpOptions options = { .label = who, .protocols = "https" };
  g_autoptr(ScandHttp) http = scand_http_new(&options, error);
  if (!http)
    return NULL;
  /* Handshake only: the certificate is recorded by the verify callback
   * whether or not the CA store vouches for it, and no request is sent. */
  CURL *c = scand_http_prepare_raw(http, url);
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
  HttpTls *tls = http_tls_of(http);
  g_autoptr(GError) local = NULL;
  CURLcode rc = scand_http_perform_raw(http, &local);
  if (!tls->seen) {
    g_set_error(error, SCAND_ERROR, local ? local->code : SCAND_ERROR_IO,
                "%s: TLS handshake failed before a certificate arrived: %s", who,
                local ? local->message : curl_easy_strerror(rc));
    return NULL;
  }
  ScandHttpCertificate *cert = g_new0(ScandHttpCertificate, 1);
  cert->subject = g_strdup(tls->seen_subject);
  cert->issuer = g_strdup(tls->seen_issuer);
  cert->fingerprint = scand_http_fingerprint_format(tls->seen_digest);
  cert->trusted_by_ca = rc == CURLE_OK && !tls->ca_failed;
  return cert;
}
