#include "backends/backend-private.h"
#include "scand/base/error.h"

#include <string.h>

/* The backend table: one line per backend. */
static const ScandBackendDriver *const backends[] = {
  &scand_backend_sane,
  &scand_backend_escl,
  &scand_backend_wsd,
  NULL,
};

void scand_device_info_free(ScandDeviceInfo *info) {
  if (!info)
    return;
  g_free(info->uri);
  g_free(info->name);
  g_free(info->vendor);
  g_free(info->model);
  g_free(info->type);
  g_free(info);
}

GPtrArray *scand_backend_list_devices(void) {
  GPtrArray *devices = g_ptr_array_new_with_free_func((GDestroyNotify) scand_device_info_free);
  for (guint i = 0; backends[i]; i++) {
    if (!backends[i]->list)
      continue;
    g_autoptr(GError) error = NULL;
    if (!backends[i]->list(devices, &error))
      g_debug("listing %s devices failed: %s", backends[i]->scheme, error->message);
  }
  return devices;
}

const ScandBackendDriver *scand_backend_driver_find(const char *uri, const char **rest) {
  const char *colon = strchr(uri, ':');
  if (!colon)
    return NULL;
  for (guint i = 0; backends[i]; i++) {
    size_t n = strlen(backends[i]->scheme);
    if ((size_t) (colon - uri) == n && strncmp(uri, backends[i]->scheme, n) == 0) {
      *rest = colon + 1;
      return backends[i];
    }
  }
  return NULL;
}

ScandScanner *scand_scanner_open(const char *uri, const ScandOpenOptions *options, GError **error) {
  static const ScandOpenOptions no_options;
  const char *rest = NULL;
  const ScandBackendDriver *driver = scand_backend_driver_find(uri, &rest);
  if (!driver) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "device \"%s\": unknown kind of device URI (expected sane:NAME, escl:http[s]://HOST/eSCL or "
                "wsd:http[s]://HOST:PORT/PATH)",
                uri);
    return NULL;
  }
  ScandScanner *scanner = driver->open(rest, options ? options : &no_options, error);
  if (!scanner)
    return NULL;
  scanner->driver = driver;
  if (!scanner->uri)
    scanner->uri = g_strdup(uri);
  if (!scanner->name)
    scanner->name = g_strdup(rest);
  return scanner;
}

guint scand_device_abilities(const char *uri) {
  const char *rest = NULL;
  const ScandBackendDriver *driver = uri ? scand_backend_driver_find(uri, &rest) : NULL;
  if (!driver)
    return 0;
  return (driver->status ? SCAND_DEVICE_CAN_STATUS : 0) | (driver->buttons ? SCAND_DEVICE_CAN_BUTTONS : 0) |
         (driver->panel ? SCAND_DEVICE_CAN_PANEL : 0);
}

/* The driver of uri when it has the entry at offset (an optional function),
 * else NULL with an error naming what is missing. */
static const ScandBackendDriver *driver_with(const char *uri, gsize offset, const char *what, const char **rest,
                                             GError **error) {
  const ScandBackendDriver *driver = scand_backend_driver_find(uri, rest);
  if (!driver) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "device \"%s\": unknown kind of device URI (expected sane:NAME or escl:http[s]://HOST/eSCL)", uri);
    return NULL;
  }
  if (!G_STRUCT_MEMBER(gpointer, driver, offset)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "device \"%s\": %s devices do not report %s", uri,
                driver->scheme, what);
    return NULL;
  }
  return driver;
}

gboolean scand_device_get_status(const char *uri, const ScandOpenOptions *options, ScandDeviceStatus *out,
                                 GError **error) {
  static const ScandOpenOptions no_options;
  const char *rest = NULL;
  const ScandBackendDriver *driver =
      driver_with(uri, G_STRUCT_OFFSET(ScandBackendDriver, status), "their state", &rest, error);
  if (!driver)
    return FALSE;
  *out = (ScandDeviceStatus){ .state = SCAND_DEVICE_UNKNOWN, .feeder_word = "unknown" };
  return driver->status(rest, options ? options : &no_options, out, error);
}

gboolean scand_device_poll_status(const char *uri, const ScandOpenOptions *options, ScandHttpLoop *loop,
                                  ScandDeviceStatusDone done, gpointer user) {
  static const ScandOpenOptions no_options;
  const char *rest = NULL;
  const ScandBackendDriver *driver = scand_backend_driver_find(uri, &rest);
  return loop && driver && driver->poll_status &&
         driver->poll_status(rest, options ? options : &no_options, loop, done, user);
}

gboolean scand_device_read_buttons(const char *uri, const ScandOpenOptions *options, GPtrArray *pressed,
                                   GError **error) {
  static const ScandOpenOptions no_options;
  const char *rest = NULL;
  const ScandBackendDriver *driver =
      driver_with(uri, G_STRUCT_OFFSET(ScandBackendDriver, buttons), "buttons", &rest, error);
  if (!driver)
    return FALSE;
  return driver->buttons(rest, options ? options : &no_options, pressed, error);
}

const char *scand_device_state_to_string(ScandDeviceState state) {
  static const char *const names[] = {
    [SCAND_DEVICE_IDLE] = "idle", [SCAND_DEVICE_PROCESSING] = "processing", [SCAND_DEVICE_STOPPED] = "stopped",
    [SCAND_DEVICE_DOWN] = "down", [SCAND_DEVICE_UNKNOWN] = "unknown",
  };
  return (guint) state < G_N_ELEMENTS(names) ? names[state] : "unknown";
}

const char *scand_scanner_get_uri(ScandScanner *scanner) {
  return scanner->uri;
}

const char *scand_scanner_get_name(ScandScanner *scanner) {
  return scanner->name;
}

gboolean scand_scanner_start(ScandScanner *scanner, const ScandScanSettings *settings, ScandScanSettings *effective,
                             GError **error) {
  ScandScanSettings dummy;
  return scanner->driver->start(scanner, settings, effective ? effective : &dummy, error);
}

gboolean scand_scanner_read_page(ScandScanner *scanner, ScandPageSink *sink, gboolean *got_page, GError **error) {
  return scanner->driver->read_page(scanner, sink, got_page, error);
}

void scand_scanner_cancel(ScandScanner *scanner) {
  if (scanner && scanner->driver->cancel)
    scanner->driver->cancel(scanner);
}

void scand_scanner_close(ScandScanner *scanner) {
  if (!scanner)
    return;
  char *uri = scanner->uri, *name = scanner->name;
  scanner->driver->close(scanner);
  g_free(uri);
  g_free(name);
}

static const char *const source_names[] = {
  [SCAND_SOURCE_AUTO] = "auto",
  [SCAND_SOURCE_FLATBED] = "flatbed",
  [SCAND_SOURCE_FEEDER] = "feeder",
};

static const char *const mode_names[] = {
  [SCAND_MODE_AUTO] = "auto",
  [SCAND_MODE_COLOR] = "color",
  [SCAND_MODE_GRAY] = "gray",
  [SCAND_MODE_LINEART] = "lineart",
};

gboolean scand_source_from_string(const char *s, ScandSource *out) {
  for (guint i = 0; i < G_N_ELEMENTS(source_names); i++)
    if (g_ascii_strcasecmp(s, source_names[i]) == 0) {
      *out = (ScandSource) i;
      return TRUE;
    }
  if (g_ascii_strcasecmp(s, "adf") == 0 || g_ascii_strcasecmp(s, "platen") == 0) {
    *out = g_ascii_strcasecmp(s, "adf") == 0 ? SCAND_SOURCE_FEEDER : SCAND_SOURCE_FLATBED;
    return TRUE;
  }
  return FALSE;
}

gboolean scand_color_mode_from_string(const char *s, ScandColorMode *out) {
  for (guint i = 0; i < G_N_ELEMENTS(mode_names); i++)
    if (g_ascii_strcasecmp(s, mode_names[i]) == 0) {
      *out = (ScandColorMode) i;
      return TRUE;
    }
  if (g_ascii_strcasecmp(s, "colour") == 0 || g_ascii_strcasecmp(s, "grey") == 0) {
    *out = g_ascii_strcasecmp(s, "colour") == 0 ? SCAND_MODE_COLOR : SCAND_MODE_GRAY;
    return TRUE;
  }
  return FALSE;
}

const char *scand_source_to_string(ScandSource source) {
  return source < G_N_ELEMENTS(source_names) ? source_names[source] : "?";
}

const char *scand_color_mode_to_string(ScandColorMode mode) {
  return mode < G_N_ELEMENTS(mode_names) ? mode_names[mode] : "?";
}
