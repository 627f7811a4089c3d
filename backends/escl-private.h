/* eSCL backend internals shared by escl.c, escl-quirks.c and escl-tls.c. */
#pragma once

#include <glib.h>
#include <curl/curl.h>

G_BEGIN_DECLS

/* ---- quirks (escl-quirks.c) ---------------------------------------------- */

/* What one or more matching quirk entries ask for, merged. */
typedef struct {
  const char *host_override;    /* send "Host: <this>" (keeping no port) */
  gboolean host_with_port;      /* always put the port in Host, even 80/443 */
  guint first_page_delay_ms;    /* feeder: wait this long after ScanJobs before NextDocument */
  guint early_404_window_ms;    /* feeder: a 404 before the first page within this window is "not yet" */
  gboolean retry_404_410;       /* 404/410 on NextDocument while the job is still processing = "not yet" */
  gboolean adf_jam_means_empty; /* AdfState Jam with no job running = feeder empty */
  int max_resolution;           /* cap on advertised resolutions; 0 = none */
  char *names;                  /* "HP (Compact Server), …" for messages; newly allocated */
} EsclQuirks;

/* Fills q from every table entry matching the Server header and/or
 * MakeAndModel (either may be NULL). Clear with escl_quirks_clear(). */
void escl_quirks_lookup(const char *server, const char *make_and_model, EsclQuirks *q);
void escl_quirks_clear(EsclQuirks *q);

/* The Host header value for quirks q, host ("127.0.0.1", "[::1]") and port
 * (0 = scheme default) with https or not; NULL when curl's own is right.
 * Newly allocated. */
char *escl_quirks_host_header(const EsclQuirks *q, const char *host, int port, gboolean https);

/* ---- TLS pinning (escl-tls.c) -------------------------------------------- */

typedef struct {
  /* settings */
  gboolean have_pin;
  guint8 pin[32]; /* SHA-256 of the pinned DER certificate */
  /* what the last handshake saw */
  gboolean seen;
  guint8 seen_digest[32];
  char *seen_subject;
  char *seen_issuer;
  gboolean ca_failed; /* the system CA store did not vouch for it */
  gboolean pin_mismatch;
} EsclTls;

/* Parses "sha256:AB:CD:…" (colons optional, any case). */
gboolean escl_tls_pin_parse(const char *text, guint8 out[32], GError **error);
/* "sha256:AB:CD:…" for a SHA-256 digest. Newly allocated. */
char *escl_tls_fingerprint_format(const guint8 digest[32]);
/* Installs verification on curl for https: the system CAs, or exactly the
 * pinned certificate when tls->have_pin. tls must outlive the transfers. */
gboolean escl_tls_setup(CURL *curl, EsclTls *tls, GError **error);
/* Forgets what the last handshake saw. */
void escl_tls_reset_seen(EsclTls *tls);
void escl_tls_clear(EsclTls *tls);
/* A one-line explanation of a failed handshake ("certificate … not trusted",
 * "pinned … but device presented …"), or NULL when the TLS layer has nothing
 * to say. device names the device; trust_uri goes into the hint. Newly allocated. */
char *escl_tls_explain_failure(const EsclTls *tls, const char *device);

G_END_DECLS
