/* eSCL (AirScan) protocol as pure functions: decode ScannerCapabilities and
 * ScannerStatus, build ScanSettings, resolve job Locations.
 *
 * Elements are matched by namespace URI and local name, never by prefix (HP
 * answers in a default namespace). Documents are parsed with XML_PARSE_NONET
 * and without entity expansion or DTD loading, so a hostile device cannot make
 * us fetch anything or blow up memory. */
#pragma once

#include <glib.h>
#include "backends/backend.h"

G_BEGIN_DECLS

/* ---- the status vocabulary (ScannerStatus) ---- */

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

/* What the feeder state means for a scan about to start: NULL when it may go
 * on, else a GError code (SCAND_ERROR_NO_DOCS, _JAMMED, _COVER_OPEN, _IO) is
 * stored in *code and a short reason returned (static string). */
const char *scand_escl_adf_state_problem(ScandEsclAdfState state, int *code);

const char *scand_escl_adf_state_to_string(ScandEsclAdfState state);

/* The generic view of a decoded status (backend.h), for the driver table's
 * status entry: the device state as is, the feeder as empty, loaded,
 * feeding or a problem with its words. */
void escl_status_to_device_status(const ScandEsclStatus *in, ScandDeviceStatus *out);

#define ESCL_NS_SCAN "http://schemas.hp.com/imaging/escl/2011/05/03"
#define ESCL_NS_PWG "http://www.pwg.org/schemas/2010/12/sm"

typedef enum {
  ESCL_INPUT_PLATEN,
  ESCL_INPUT_ADF_SIMPLEX,
  ESCL_INPUT_ADF_DUPLEX,
  ESCL_INPUT_COUNT,
} EsclInput;

/* Colour modes as bits. */
typedef enum {
  ESCL_COLOR_BW1 = 1 << 0,    /* BlackAndWhite1 */
  ESCL_COLOR_GRAY8 = 1 << 1,  /* Grayscale8 */
  ESCL_COLOR_GRAY16 = 1 << 2, /* Grayscale16 */
  ESCL_COLOR_RGB24 = 1 << 3,  /* RGB24 */
  ESCL_COLOR_RGB48 = 1 << 4,  /* RGB48 */
} EsclColorMode;

/* Document formats as bits. */
typedef enum {
  ESCL_FORMAT_JPEG = 1 << 0,
  ESCL_FORMAT_PNG = 1 << 1,
  ESCL_FORMAT_PDF = 1 << 2,
  ESCL_FORMAT_OTHER = 1 << 3,
} EsclFormat;

/* What one input source (platen, ADF simplex, ADF duplex) can do. Sizes in
 * 1/300 inch. */
typedef struct {
  gboolean present;
  int min_width, max_width, min_height, max_height;
  guint color_modes;              /* EsclColorMode bits */
  guint formats;                  /* EsclFormat bits */
  gboolean format_ext;            /* advertised through scan:DocumentFormatExt */
  GArray *resolutions;            /* discrete dpi (int), sorted, unique */
  int res_min, res_max, res_step; /* range; res_max 0 = none */
  GPtrArray *intents;             /* char* */
} EsclInputCaps;

typedef struct {
  char *version; /* "2.63" */
  char *make_and_model;
  char *serial;
  char *uuid;
  EsclInputCaps inputs[ESCL_INPUT_COUNT];
  int feeder_capacity;
  gboolean adf_detect_paper; /* AdfOptions DetectPaperLoaded */
} EsclCaps;

void escl_caps_free(EsclCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EsclCaps, escl_caps_free)

/* Decodes a ScannerCapabilities document. On malformed input fails with
 * SCAND_ERROR_INVAL and a one-line message (the caller prefixes the device).
 * *out is newly allocated. */
gboolean escl_caps_decode(const char *xml, gsize len, EsclCaps **out, GError **error);

/* Decodes a ScannerStatus document into out (cleared first; free with
 * scand_escl_status_clear()). */
gboolean escl_status_decode(const char *xml, gsize len, ScandEsclStatus *out, GError **error);

/* The job in status whose URI ends with job_path's last segment, or NULL. */
const ScandEsclJob *escl_status_find_job(const ScandEsclStatus *status, const char *job_path);

/* A ScanSettings request as decided from caps and a profile. */
typedef struct {
  EsclInput input;
  EsclColorMode color_mode; /* exactly one bit */
  int resolution;
  int x, y, width, height; /* 1/300 inch */
  EsclFormat format;       /* exactly one bit */
  gboolean format_ext;     /* send scan:DocumentFormatExt as well */
  const char *intent;      /* "Document", or NULL to leave out */
  char *version;           /* pwg:Version to announce */
} EsclScanRequest;

void escl_scan_request_clear(EsclScanRequest *req);

/* Picks input, mode, nearest resolution (capped at max_resolution when > 0),
 * region and format for settings. Fills *effective with what will be used.
 * Fails with SCAND_ERROR_UNSUPPORTED for what the device cannot do (no feeder,
 * duplex on simplex, only PDF output). */
gboolean escl_scan_request_choose(const EsclCaps *caps, const ScandScanSettings *settings, int max_resolution,
                                  EsclScanRequest *req, ScandScanSettings *effective, GError **error);

/* Builds the ScanSettings XML for req. Newly allocated. */
char *escl_scan_settings_build(const EsclScanRequest *req);

/* Nearest resolution the input supports to want (cap applies when > 0). */
int escl_input_nearest_resolution(const EsclInputCaps *in, int want, int cap);

/* Resolves a ScanJobs Location (relative, absolute, or absolute with a broken
 * authority such as "http://::1:8080/…") against base_url
 * ("http://host:port/eSCL"): keeps only the path and reuses base_url's scheme
 * and authority. Returns the job URL without a trailing slash, newly
 * allocated, or NULL with an error for an empty or path-less Location. */
char *escl_location_resolve(const char *base_url, const char *location, GError **error);

/* MIME type for a format bit ("image/jpeg"). */
const char *escl_format_mime(EsclFormat format);
/* eSCL name of a colour mode bit ("RGB24"). */
const char *escl_color_mode_name(EsclColorMode mode);
const char *escl_input_name(EsclInput input);

/* Maps words of the protocol to enums. */
ScandEsclAdfState escl_adf_state_from_string(const char *s);
ScandDeviceState escl_device_state_from_string(const char *s);

G_END_DECLS
