/* Scanner sources behind one interface.
 *
 * A device is named by a URI: "sane:<sane device name>" or
 * "escl:http[s]://host[:port]/<root>". scand_scanner_open() picks the backend by
 * the scheme from the table in backends/backend.c. */
#pragma once

#include <glib.h>
#include "scand/base/http.h"
#include "scand/base/page.h"

G_BEGIN_DECLS

typedef enum {
  SCAND_SOURCE_AUTO, /* the device's default */
  SCAND_SOURCE_FLATBED,
  SCAND_SOURCE_FEEDER,
} ScandSource;

typedef enum {
  SCAND_MODE_AUTO, /* the device's default */
  SCAND_MODE_COLOR,
  SCAND_MODE_GRAY,
  SCAND_MODE_LINEART,
} ScandColorMode;

/* What to scan. Geometry in millimetres; width/height 0 = the whole area. */
typedef struct {
  ScandSource source;
  gboolean duplex;
  ScandColorMode mode;
  int resolution; /* dpi; 0 = device default */
  double x, y, width, height;
  guint max_pages; /* 0 = until the feeder is empty; flatbed is always 1 */
  /* Safety caps the scan session enforces whatever the backend, from the
   * scanner's max-pages and max-page-bytes: a device that sends more is
   * refused with an error and the pages before are kept. 0 = the defaults. */
  guint page_limit;
  guint64 page_bytes_limit;
  /* Backend-specific extra options as "name=value" (SANE option names); may be NULL. */
  GStrv extra_options;
} ScandScanSettings;

#define SCAND_SCAN_PAGE_LIMIT_DEFAULT 500
#define SCAND_SCAN_PAGE_BYTES_LIMIT_DEFAULT (200 * 1024 * 1024)

/* One device as discovered. */
typedef struct {
  char *uri;  /* "sane:test:0" */
  char *name; /* short name for templates ({device}) */
  char *vendor;
  char *model;
  char *type; /* "flatbed scanner", "virtual device", ... */
} ScandDeviceInfo;

void scand_device_info_free(ScandDeviceInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandDeviceInfo, scand_device_info_free)

/* What the device reports about itself right now. */
typedef enum {
  SCAND_DEVICE_IDLE,
  SCAND_DEVICE_PROCESSING,
  SCAND_DEVICE_STOPPED,
  SCAND_DEVICE_DOWN,
  SCAND_DEVICE_UNKNOWN,
} ScandDeviceState;

/* What the device's document feeder reports. */
typedef enum {
  SCAND_FEEDER_UNKNOWN, /* not reported, or no feeder */
  SCAND_FEEDER_EMPTY,
  SCAND_FEEDER_LOADED,  /* paper sits in the feeder */
  SCAND_FEEDER_FEEDING, /* a job is pulling sheets through */
  SCAND_FEEDER_PROBLEM, /* jam, open hatch, …: see problem */
} ScandFeederState;

/* A device's state as its backend reports it, without taking the device from
 * anyone (strings are static). */
typedef struct {
  ScandDeviceState state;
  ScandFeederState feeder;
  const char *feeder_word; /* the backend's word for it: "loaded", "jammed", "hatch open", …; never NULL */
  const char *problem;     /* SCAND_FEEDER_PROBLEM: what a person should know ("paper jam in the feeder") */
  int problem_code;        /* SCAND_FEEDER_PROBLEM: the SCAND_ERROR_* a scan would fail with */
} ScandDeviceStatus;

/* What a device can do besides scanning, by its backend's optional entries. */
typedef enum {
  SCAND_DEVICE_CAN_STATUS = 1 << 0,  /* reports its state and its feeder's */
  SCAND_DEVICE_CAN_BUTTONS = 1 << 1, /* reports hardware buttons pressed */
  SCAND_DEVICE_CAN_PANEL = 1 << 2,   /* offers destinations on its panel (walk-up) */
} ScandDeviceAbility;

typedef struct ScandScanner ScandScanner;

/* Lists devices of every backend (newly allocated array of ScandDeviceInfo).
 * A backend that fails to list adds nothing; errors are not fatal. */
GPtrArray *scand_backend_list_devices(void);

/* Per-device settings from its [scanner] section that matter when opening. */
typedef struct {
  const char *tls_pin;   /* "sha256:AB:CD:…" written by `scand trust`, or NULL */
  guint timeout_ms;      /* network devices: one request for a document; 0: the backend's default */
  guint page_timeout_ms; /* network devices: one page, first to last byte; 0: the backend's default */
} ScandOpenOptions;

/* Opens a device by URI. Errors: SCAND_ERROR_NOT_FOUND, SCAND_ERROR_BUSY,
 * SCAND_ERROR_DENIED, SCAND_ERROR_INVAL (bad URI). options may be NULL. */
ScandScanner *scand_scanner_open(const char *uri, const ScandOpenOptions *options, GError **error);

/* The URI the scanner was opened with, and a short name for templates. */
const char *scand_scanner_get_uri(ScandScanner *scanner);
const char *scand_scanner_get_name(ScandScanner *scanner);

/* Applies settings and starts a job (first page). Settings a device cannot do
 * exactly are mapped to the nearest it can (resolution) or refused with
 * SCAND_ERROR_UNSUPPORTED (duplex on a simplex device, feeder without one).
 * *effective is filled with what will actually be used (may be NULL). */
gboolean scand_scanner_start(ScandScanner *scanner, const ScandScanSettings *settings, ScandScanSettings *effective,
                             GError **error);

/* Reads the next page into sink. Returns TRUE and *got_page = TRUE for a page,
 * TRUE and *got_page = FALSE at the normal end of the job (feeder empty after at
 * least one page, flatbed done, max_pages reached). Returns FALSE with a clear
 * error (SCAND_ERROR_JAMMED, _COVER_OPEN, _NO_DOCS for an empty feeder before the
 * first page, _IO, _BUSY, _CANCELLED) when the job cannot go on; pages already
 * handed to the sink stay the caller's. */
gboolean scand_scanner_read_page(ScandScanner *scanner, ScandPageSink *sink, gboolean *got_page, GError **error);

/* Asks the device to stop the current job (safe from another thread). */
void scand_scanner_cancel(ScandScanner *scanner);

/* Closes and frees. Accepts NULL. */
void scand_scanner_close(ScandScanner *scanner);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandScanner, scand_scanner_close)

/* What the backend of uri can do besides scanning (ScandDeviceAbility bits);
 * 0 for a URI no backend takes. */
guint scand_device_abilities(const char *uri);

/* Asks the device for its state now (feeder auto-scan, --source auto,
 * GetDeviceState); the device is not held afterwards. Fails with
 * SCAND_ERROR_UNSUPPORTED when its backend cannot tell (see
 * scand_device_abilities()), else with the backend's error. options may be
 * NULL. */
gboolean scand_device_get_status(const char *uri, const ScandOpenOptions *options, ScandDeviceStatus *out,
                                 GError **error);

/* How a status poll on a main loop ended. */
typedef enum {
  SCAND_STATUS_POLL_OK,
  SCAND_STATUS_POLL_FAILED,    /* error says why, as scand_device_get_status() would */
  SCAND_STATUS_POLL_ASK_AGAIN, /* an answer only the full poll handles (busy, a Host quirk, an
                                  error status): call scand_device_get_status() in a thread */
} ScandStatusPollResult;

/* Called once with a poll's result: status when SCAND_STATUS_POLL_OK, error
 * when SCAND_STATUS_POLL_FAILED (both owned by the caller). */
typedef void (*ScandDeviceStatusDone)(ScandStatusPollResult result, const ScandDeviceStatus *status,
                                      const GError *error, gpointer user);

/* Starts one status request to the device on loop (scand/base/http.h) and
 * returns at once; done runs later in the loop's context. FALSE, with
 * nothing started, when the device's backend asks its state only with a
 * blocking call (scand_device_get_status()). A poller of many scanners then
 * needs no thread per poll. */
gboolean scand_device_poll_status(const char *uri, const ScandOpenOptions *options, ScandHttpLoop *loop,
                                  ScandDeviceStatusDone done, gpointer user);

/* Reads which hardware buttons read pressed now and appends their names to
 * pressed (newly allocated strings); the device is opened and closed again,
 * so that between two reads anyone (scand's own scans too) can use it.
 * SCAND_ERROR_UNSUPPORTED when its backend has no buttons. */
gboolean scand_device_read_buttons(const char *uri, const ScandOpenOptions *options, GPtrArray *pressed,
                                   GError **error);

/* "idle", "processing", "stopped", "down", "unknown". */
const char *scand_device_state_to_string(ScandDeviceState state);

/* Parsing helpers for config and CLI values; return FALSE on unknown words. */
gboolean scand_source_from_string(const char *s, ScandSource *out);
gboolean scand_color_mode_from_string(const char *s, ScandColorMode *out);
const char *scand_source_to_string(ScandSource source);
const char *scand_color_mode_to_string(ScandColorMode mode);

G_END_DECLS
