/* Walk-up scanning in the daemon: for each [scanner] with
 * `panel = NAME[:PROFILE], …` a thread keeps the names registered on the
 * device's panel (re-registering after a restart or a lost subscription) and
 * waits for a person to pick one; the pick becomes a scan with that
 * profile, trigger "panel" and the panel name as job facts. */
#pragma once

#include <gio/gio.h>
#include "backends/panel.h"
#include "scand/base/panel-names.h"
#include "scand/base/config.h"

G_BEGIN_DECLS

typedef struct ScandPanels ScandPanels;

/* A person picked name on the panel of [scanner section]: start the scan
 * (called on the thread of the main context the panels were made in).
 * Returns the job id (newly allocated) or NULL with error. */
typedef char *(*ScandPanelPickFunc)(const char *section, const char *name, const char *profile,
                                    const ScandPanelEvent *event, gpointer user_data, GError **error);

/* Starts a thread per [scanner] with a panel key in config. spool_dir holds
 * the panel state. Never fails as a whole: a scanner whose panel cannot be
 * set up is logged and left out. */
ScandPanels *scand_panels_new(ScandConfig *config, const char *spool_dir, ScandPanelPickFunc pick, gpointer user_data);

/* Stops the threads (a long poll under way is cancelled), removes the
 * registrations from the devices and frees. Accepts NULL. */
void scand_panels_free(ScandPanels *panels);

/* The panels, for D-Bus and the GTK window: a(sa(sx)s) = per scanner section
 * its registrations (name, expiry in wall-clock µs, 0 = none) and a state
 * word ("registered", "registering", "unreachable: …"). */
GVariant *scand_panels_describe(ScandPanels *panels);

G_END_DECLS
