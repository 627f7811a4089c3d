/* What a backend implements. One file per backend plus one line in the table in
 * backends/backend.c. */
#pragma once

#include "backends/backend.h"

G_BEGIN_DECLS

typedef struct ScandBackendDriver ScandBackendDriver;
/* The panel entry (walk-up destinations): backends/panel-private.h. */
typedef struct ScandPanelDriver ScandPanelDriver;

/* Every backend's scanner struct starts with this. */
struct ScandScanner {
  const ScandBackendDriver *driver;
  char *uri;
  char *name;
};

struct ScandBackendDriver {
  const char *scheme; /* "sane", "escl" */
  /* Appends ScandDeviceInfo* to devices; may be NULL. */
  gboolean (*list)(GPtrArray *devices, GError **error);
  /* rest = the URI after "scheme:". Returns a scanner whose base fields the
   * caller fills (driver, uri, name may be set by the backend; NULL ones are
   * filled in). */
  ScandScanner *(*open)(const char *rest, const ScandOpenOptions *options, GError **error);
  gboolean (*start)(ScandScanner *scanner, const ScandScanSettings *settings, ScandScanSettings *effective,
                    GError **error);
  gboolean (*read_page)(ScandScanner *scanner, ScandPageSink *sink, gboolean *got_page, GError **error);
  void (*cancel)(ScandScanner *scanner);
  /* Frees the backend part; the base fields are freed by the caller. */
  void (*close)(ScandScanner *scanner);

  /* Optional entries, NULL when the backend cannot do it. As sane-airscan's
   * protocol handlers carry status_query/status_decode, a backend with a
   * feeder sensor or buttons fills these and nothing else changes. */

  /* The device's state now, without holding the device (rest as for open). */
  gboolean (*status)(const char *rest, const ScandOpenOptions *options, ScandDeviceStatus *out, GError **error);
  /* The same as one request on a main loop (scand_device_poll_status()); FALSE
   * when this device cannot be asked so. */
  gboolean (*poll_status)(const char *rest, const ScandOpenOptions *options, ScandHttpLoop *loop,
                          ScandDeviceStatusDone done, gpointer user);
  /* Appends the names of the buttons that read pressed now to pressed (newly
   * allocated); opens and closes the device around the read. */
  gboolean (*buttons)(const char *rest, const ScandOpenOptions *options, GPtrArray *pressed, GError **error);
  /* Walk-up destinations on the device's panel (backends/panel.h); may be NULL. */
  const ScandPanelDriver *panel;
};

/* The driver for uri's scheme, and in *rest what follows "scheme:"; NULL if none. */
const ScandBackendDriver *scand_backend_driver_find(const char *uri, const char **rest);

extern const ScandBackendDriver scand_backend_sane;
extern const ScandBackendDriver scand_backend_escl;
extern const ScandBackendDriver scand_backend_wsd;

G_END_DECLS
