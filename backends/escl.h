/* eSCL (AirScan) extras beyond the generic backend interface: the scanner's
 * live status (for `scand status`; its vocabulary is in escl-xml.h) and TLS
 * certificate inspection (for `scand trust`). */
#pragma once

#include <glib.h>
#include "backends/backend.h"
#include "backends/escl-xml.h"
#include "scand/base/http.h"

G_BEGIN_DECLS

/* Decodes a ScannerStatus document (pure; for callers that fetch it
 * themselves). Fails with SCAND_ERROR_INVAL and a one-line message. */
gboolean scand_escl_status_decode(const char *xml, gsize len, ScandEsclStatus *out, GError **error);

/* Asks the device (uri "escl:http[s]://…" or "http[s]://…") for its
 * ScannerStatus. options may be NULL. out is filled on success; free with
 * scand_escl_status_clear(). */
gboolean scand_escl_get_status(const char *uri, const ScandOpenOptions *options, ScandEsclStatus *out, GError **error);

/* The certificate an HTTPS device presents (see scand/base/http.h). */
typedef ScandHttpCertificate ScandEsclCertificate;

static inline void scand_escl_certificate_free(ScandEsclCertificate *cert) {
  scand_http_certificate_free(cert);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandEsclCertificate, scand_escl_certificate_free)

/* Connects to an https device (uri as above) and returns the certificate it
 * presents, without trusting it or sending any request. Newly allocated. */
ScandEsclCertificate *scand_escl_fetch_certificate(const char *uri, GError **error);

G_END_DECLS
