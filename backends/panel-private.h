/* What a backend implements for walk-up destinations (backends/panel.h):
 * the panel entry of its ScandBackendDriver. */
#pragma once

#include "backends/panel.h"

G_BEGIN_DECLS

typedef struct ScandPanelDriver ScandPanelDriver;

/* Every backend's panel struct starts with this. */
struct ScandPanel {
  const ScandPanelDriver *driver;
  char *uri;
};

struct ScandPanelDriver {
  /* rest = the URI after "scheme:"; the caller fills driver and uri. */
  ScandPanel *(*open)(const char *rest, const ScandOpenOptions *options, const ScandPanelSetup *setup, GError **error);
  gboolean (*register_names)(ScandPanel *panel, GError **error);
  gboolean (*wait)(ScandPanel *panel, gint64 deadline_us, ScandPanelEvent *event, gboolean *got, GError **error);
  /* Pushed messages (devices that send events); NULL for polled devices. */
  gboolean (*push)(ScandPanel *panel, const char *body, gsize len, GError **error);
  /* A WS-Discovery Hello of the device; may be NULL. */
  void (*device_seen)(ScandPanel *panel);
  GPtrArray *(*list)(ScandPanel *panel);
  void (*cancel)(ScandPanel *panel);
  /* Unregisters and frees the backend part; the base fields are freed by the caller. */
  void (*close)(ScandPanel *panel);
};

/* HP walk-up over LEDM next to eSCL (backends/hp-walkup.c). */
extern const ScandPanelDriver scand_panel_hp_walkup;
/* WS-Scan walk-up over WS-Eventing (backends/wsd-panel.c). */
extern const ScandPanelDriver scand_panel_wsd;

G_END_DECLS
