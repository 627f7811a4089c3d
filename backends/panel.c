/* Walk-up destinations: dispatch to the panel entry of the device's backend. */
#include "backends/backend-private.h"
#include "backends/panel-private.h"
#include "scand/base/error.h"

void scand_panel_registration_free(ScandPanelRegistration *r) {
  if (!r)
    return;
  g_free(r->name);
  g_free(r->handle);
  g_free(r->token);
  g_free(r);
}

void scand_panel_event_clear(ScandPanelEvent *event) {
  if (!event)
    return;
  g_free(event->name);
  g_free(event->id);
  g_free(event->shortcut);
  g_strfreev(event->options);
  *event = (ScandPanelEvent){ .duplex = -1 };
}

gboolean scand_panel_supported(const char *uri) {
  const char *rest = NULL;
  const ScandBackendDriver *driver = uri ? scand_backend_driver_find(uri, &rest) : NULL;
  return driver && driver->panel;
}

gboolean scand_panel_pushes(const char *uri) {
  const char *rest = NULL;
  const ScandBackendDriver *driver = uri ? scand_backend_driver_find(uri, &rest) : NULL;
  return driver && driver->panel && driver->panel->push;
}

ScandPanel *scand_panel_open(const char *uri, const ScandOpenOptions *options, const ScandPanelSetup *setup,
                             GError **error) {
  static const ScandOpenOptions no_options;
  const char *rest = NULL;
  const ScandBackendDriver *driver = scand_backend_driver_find(uri, &rest);
  if (!driver) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "device \"%s\": unknown kind of device URI", uri);
    return NULL;
  }
  if (!driver->panel) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                "device \"%s\": %s devices cannot show destinations on their panel (walk-up needs an HP eSCL or a "
                "WSD device)",
                uri, driver->scheme);
    return NULL;
  }
  if (!setup->names || !setup->names[0]) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "device \"%s\": no panel destination to register", uri);
    return NULL;
  }
  ScandPanel *panel = driver->panel->open(rest, options ? options : &no_options, setup, error);
  if (!panel)
    return NULL;
  panel->driver = driver->panel;
  panel->uri = g_strdup(uri);
  return panel;
}

gboolean scand_panel_register(ScandPanel *panel, GError **error) {
  return panel->driver->register_names(panel, error);
}

gboolean scand_panel_wait(ScandPanel *panel, gint64 deadline_us, ScandPanelEvent *event, gboolean *got,
                          GError **error) {
  *event = (ScandPanelEvent){ .duplex = -1 };
  *got = FALSE;
  return panel->driver->wait(panel, deadline_us, event, got, error);
}

gboolean scand_panel_push(ScandPanel *panel, const char *body, gsize len, GError **error) {
  if (!panel->driver->push) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: this device does not send events", panel->uri);
    return FALSE;
  }
  return panel->driver->push(panel, body, len, error);
}

void scand_panel_device_seen(ScandPanel *panel) {
  if (panel->driver->device_seen)
    panel->driver->device_seen(panel);
}

GPtrArray *scand_panel_list(ScandPanel *panel) {
  return panel->driver->list(panel);
}

void scand_panel_cancel(ScandPanel *panel) {
  if (panel)
    panel->driver->cancel(panel);
}

void scand_panel_close(ScandPanel *panel) {
  if (!panel)
    return;
  char *uri = panel->uri;
  panel->driver->close(panel);
  g_free(uri);
}
