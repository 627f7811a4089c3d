/* eSCL (AirScan) extras beyond the generic backend interface: the scanner's
 * live status (for feeder auto-scan and `scand status`) and TLS certificate
 * inspection (for `scand trust`). */
#pragma once

#include <glib.h>
#include "backends/backend.h"
#include "scand/base/http.h"

G_BEGIN_DECLS

/* scan:AdfState values of the eSCL specification. */
typedef enum {
  SCAND_ESCL_ADF_UNKNOWN,               /* not reported */
  SCAND_ESCL_ADF_PROCESSING,            /* ScannerAdfProcessing */
  SCAND_ESCL_ADF_EMPTY,                 /* ScannerAdfEmpty */
  SCAND_ESCL_ADF_JAM,                   /* ScannerAdfJam */
  SCAND_ESCL_ADF_LOADED,                /* ScannerAdfLoaded */
  SCAND_ESCL_ADF_MISPICK,               /* ScannerAdfMispick */
  SCAND_ESCL_ADF_HATCH_OPEN,            /* ScannerAdfHatchOpen */
  SCAND_ESCL_ADF_DUPLEX_PAGE_TOO_SHORT, /* ScannerAdfDuplexPageTooShort */
  SCAND_ESCL_ADF_DUPLEX_PAGE_TOO_LONG,  /* ScannerAdfDuplexPageTooLong */
  SCAND_ESCL_ADF_MULTIPICK_DETECTED,    /* ScannerAdfMultipickDetected */
  SCAND_ESCL_ADF_INPUT_TRAY_FAILED,     /* ScannerAdfInputTrayFailed */
  SCAND_ESCL_ADF_INPUT_TRAY_OVERLOADED, /* ScannerAdfInputTrayOverloaded */
  SCAND_ESCL_ADF_OTHER,                 /* a word we do not know */
} ScandEsclAdfState;

/* One entry of scan:Jobs. */
typedef struct {
  char *uri; /* pwg:JobUri, "/eSCL/ScanJobs/…" */
  char *uuid;
  char *state;            /* pwg:JobState: Pending, Processing, Completed, Aborted, Canceled */
  char *reason;           /* first pwg:JobStateReason, or NULL */
  int images_completed;   /* -1 when not reported */
  int images_to_transfer; /* -1 when not reported */
  int age;                /* seconds, -1 when not reported */
} ScandEsclJob;

typedef struct {
  ScandDeviceState state;
  ScandEsclAdfState adf_state;
  char *adf_state_word; /* the word as sent, NULL when absent */
  GArray *jobs;         /* ScandEsclJob, never NULL after a successful decode */
} ScandEsclStatus;

/* Frees what out holds and zeroes it. Accepts NULL. */
void scand_escl_status_clear(ScandEsclStatus *status);

/* Decodes a ScannerStatus document (pure; for callers that fetch it
 * themselves). Fails with SCAND_ERROR_INVAL and a one-line message. */
gboolean scand_escl_status_decode(const char *xml, gsize len, ScandEsclStatus *out, GError **error);

/* Asks the device (uri "escl:http[s]://…" or "http[s]://…") for its
 * ScannerStatus. options may be NULL. out is filled on success; free with
 * scand_escl_status_clear(). */
gboolean scand_escl_get_status(const char *uri, const ScandOpenOptions *options, ScandEsclStatus *out, GError **error);

/* What the feeder state means for a scan about to start: NULL when it may go
 * on, else a GError code (SCAND_ERROR_NO_DOCS, _JAMMED, _COVER_OPEN, _IO) is
 * stored in *code and a short reason returned (static string). */
const char *scand_escl_adf_state_problem(ScandEsclAdfState state, int *code);

const char *scand_escl_adf_state_to_string(ScandEsclAdfState state);
const char *scand_device_state_to_string(ScandDeviceState state);

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
