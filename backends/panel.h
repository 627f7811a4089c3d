/* Walk-up destinations: names a device lists on its own panel ("Scan to
 * computer") so that a person at the copier can pick one and press Start.
 *
 * A backend that can do this fills the panel entry of its driver (see
 * backend-private.h): it registers the names with the device, waits for the
 * device to say one was picked (HP: a long poll; WS-Scan: an event the device
 * pushes to the daemon's listener, handed in with scand_panel_push()), and
 * removes its registrations when closed. What the scan must carry (the
 * device's scan identifier and token, the settings chosen on the panel) comes
 * back in a ScandPanelEvent.
 *
 * Threads: one thread drives a panel (register, wait, close); cancel and push
 * may be called from any other thread. */
#pragma once

#include <glib.h>
#include "backends/backend.h"

G_BEGIN_DECLS

typedef struct ScandPanel ScandPanel;

/* What to register. Strings are borrowed for the call to scand_panel_open(). */
typedef struct {
  const char *const *names; /* shown on the panel, in order; at least one */
  const char *client_id;    /* this scand's identity, stable across restarts (one per spool) */
  const char *hostname;     /* this computer's name, as devices list it */
  const char *notify_url;   /* where a pushing device sends events (the daemon's listener); NULL if none */
  guint lifetime_s;         /* subscription lifetime to ask for (pushing devices); 0 = backend default */
  /* Registrations a previous run recorded ("name\thandle", from
   * scand_panel_list()), adopted when they still exist and removed when their
   * name is no longer configured; may be NULL. */
  const char *const *previous;
} ScandPanelSetup;

/* One registered destination, for status displays and for the next run. */
typedef struct {
  char *name;     /* as configured */
  char *handle;   /* backend's id: a resource URI, a subscription id and manager address */
  gint64 expires; /* wall-clock µs (g_get_real_time) when the device forgets it; 0 = never */
  char *token;    /* the device's token for it, or NULL */
} ScandPanelRegistration;

void scand_panel_registration_free(ScandPanelRegistration *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandPanelRegistration, scand_panel_registration_free)

/* A person picked a destination. */
typedef struct {
  char *name;     /* the configured name it was registered under */
  char *id;       /* the device's identity of this event (for logs and duplicate detection) */
  int duplex;     /* chosen on the panel: 1 duplex, 0 simplex, -1 not said */
  char *shortcut; /* what the panel asked for ("SavePDF"), NULL if not said */
  GStrv options;  /* "name=value" options the scan must carry to the backend's start, or NULL */
} ScandPanelEvent;

void scand_panel_event_clear(ScandPanelEvent *event);

/* Whether the device named by uri has a backend that supports panel
 * destinations (does not contact the device). */
gboolean scand_panel_supported(const char *uri);

/* Whether the device's panel pushes its events (WS-Scan): the daemon must then
 * listen for them and give the panel a notify_url. */
gboolean scand_panel_pushes(const char *uri);

/* Prepares a panel for the device; no request yet. Errors: SCAND_ERROR_INVAL
 * (bad URI), SCAND_ERROR_UNSUPPORTED (the backend has no panel). */
ScandPanel *scand_panel_open(const char *uri, const ScandOpenOptions *options, const ScandPanelSetup *setup,
                             GError **error);

/* Registers every name (again, after a device restart or a lost
 * subscription), removing what the device still holds of an earlier run.
 * Errors: SCAND_ERROR_UNSUPPORTED (the device does not offer walk-up),
 * SCAND_ERROR_IO/_NOT_FOUND (unreachable), SCAND_ERROR_CANCELLED. */
gboolean scand_panel_register(ScandPanel *panel, GError **error);

/* Keeps registrations alive (renews subscriptions due before due_us, a
 * monotonic time) and waits until deadline_us (monotonic) for a person to
 * pick a destination. TRUE with *got set when one was picked (fill event,
 * clear with scand_panel_event_clear()); TRUE with *got FALSE when the
 * deadline passed. FALSE with SCAND_ERROR_NOT_FOUND when the device forgot
 * the registrations (restart, subscription ended): register again;
 * SCAND_ERROR_IO when it is unreachable; SCAND_ERROR_CANCELLED. */
gboolean scand_panel_wait(ScandPanel *panel, gint64 deadline_us, ScandPanelEvent *event, gboolean *got, GError **error);

/* Hands a message the device pushed to the daemon's listener to the panel
 * (any thread). path is the part of the listener URL after the panel's own
 * notify_url. FALSE with SCAND_ERROR_INVAL when the message is malformed or
 * not for this panel (never acted on). */
gboolean scand_panel_push(ScandPanel *panel, const char *body, gsize len, GError **error);

/* The device announced itself again (a WS-Discovery Hello: typically after a
 * restart): the next wait re-checks the registrations. Any thread. */
void scand_panel_device_seen(ScandPanel *panel);

/* The current registrations (ScandPanelRegistration*), newly allocated. */
GPtrArray *scand_panel_list(ScandPanel *panel);

/* Makes a wait or register under way return with SCAND_ERROR_CANCELLED
 * soon (any thread); later calls fail at once. */
void scand_panel_cancel(ScandPanel *panel);

/* Removes the registrations from the device (best effort, a few seconds at
 * most, even after cancel) and frees. Accepts NULL. */
void scand_panel_close(ScandPanel *panel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandPanel, scand_panel_close)

G_END_DECLS
