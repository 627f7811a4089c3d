/* Who may ask what of the daemon over D-Bus: see daemon-dbus-access.h. */
#include "scand/service/daemon-dbus-access.h"
#include "backends/backend.h"
#include "scand/base/error.h"
#include "scand/core/job.h"

#include <string.h>
#include <unistd.h>

/* How long a listing of discovered devices is trusted without a new one,
 * and how soon a name it does not know may make a new one (callers cannot
 * keep the daemon discovering). */
#define KNOWN_DEVICES_TTL_US (10 * 60 * G_USEC_PER_SEC)
#define KNOWN_DEVICES_FRESH_US (30 * G_USEC_PER_SEC)

G_LOCK_DEFINE_STATIC(known);
static GPtrArray *known_names; /* name, uri, name, uri, … */
static gint64 known_at;

gboolean scand_bus_caller_uid(GDBusMethodInvocation *invocation, guint32 *uid, GError **error) {
  GDBusConnection *connection = g_dbus_method_invocation_get_connection(invocation);
  const char *sender = g_dbus_method_invocation_get_sender(invocation);
  if (!sender) {
    /* A direct connection: its peer's credentials. */
    GCredentials *peer = g_dbus_connection_get_peer_credentials(connection);
    uid_t u = peer ? g_credentials_get_unix_user(peer, error) : (uid_t) -1;
    if (u == (uid_t) -1) {
      if (error && !*error)
        g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED, "the caller's user is not known");
      return FALSE;
    }
    *uid = (guint32) u;
    return TRUE;
  }
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixUser",
      g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
  if (!reply)
    return FALSE;
  g_variant_get(reply, "(u)", uid);
  return TRUE;
}

void scand_bus_devices_remember(GPtrArray *devices) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < devices->len; i++) {
    ScandDeviceInfo *d = devices->pdata[i];
    g_ptr_array_add(names, g_strdup(d->name ? d->name : d->uri));
    g_ptr_array_add(names, g_strdup(d->uri));
  }
  G_LOCK(known);
  if (known_names)
    g_ptr_array_unref(known_names);
  known_names = names;
  known_at = g_get_monotonic_time();
  G_UNLOCK(known);
}

/* The URI of a recently discovered device named (or with the URI) device;
 * *fresh tells whether the listing is too recent to make again. */
static char *known_lookup(const char *device, gboolean *fresh) {
  char *uri = NULL;
  G_LOCK(known);
  *fresh = known_names && g_get_monotonic_time() - known_at < KNOWN_DEVICES_FRESH_US;
  if (known_names && g_get_monotonic_time() - known_at < KNOWN_DEVICES_TTL_US)
    for (guint i = 0; !uri && i + 1 < known_names->len; i += 2)
      if (strcmp(known_names->pdata[i], device) == 0 || strcmp(known_names->pdata[i + 1], device) == 0)
        uri = g_strdup(known_names->pdata[i + 1]);
  G_UNLOCK(known);
  return uri;
}

/* The [scanner] section named device, or whose device URI is device. */
static char *configured_section(ScandConfig *config, const char *device) {
  if (scand_config_has_section(config, "scanner", device))
    return g_strdup(device);
  g_auto(GStrv) names = scand_config_list_sections(config, "scanner");
  for (guint i = 0; names && names[i]; i++)
    if (g_strcmp0(scand_config_get(config, "scanner", names[i], "device"), device) == 0)
      return g_strdup(names[i]);
  return NULL;
}

char *scand_bus_device_resolve(ScandConfig *config, const char *device, gboolean discover, GError **error) {
  if (!*device)
    return g_strdup("");
  gboolean fresh = FALSE;
  char *found = configured_section(config, device);
  if (!found)
    found = known_lookup(device, &fresh);
  if (!found && discover && !fresh) {
    g_autoptr(GPtrArray) devices = scand_backend_list_devices();
    scand_bus_devices_remember(devices);
    found = known_lookup(device, &fresh);
  }
  if (!found) {
    g_autofree char *shown = g_strescape(device, NULL);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND,
                "no scanner \"%.80s\": over D-Bus name a configured [scanner] or a discovered device (ListDevices); "
                "other addresses only with scand scan --no-daemon",
                shown);
  }
  return found;
}

gboolean scand_bus_may_manage_job(ScandSpool *spool, const char *id, guint32 uid, GError **error) {
  g_autoptr(ScandJob) job = scand_job_peek(spool, id, error);
  if (!job)
    return FALSE;
  if (uid == 0 || uid == (guint32) geteuid())
    return TRUE;
  const char *owner = scand_job_get(job, "owner-uid");
  guint64 owner_uid = 0;
  if (owner && g_ascii_string_to_unsigned(owner, 10, 0, G_MAXUINT32, &owner_uid, NULL) && owner_uid == uid)
    return TRUE;
  g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
              "job %s belongs to another user: only its owner, root or scand's own user may cancel or retry it", id);
  return FALSE;
}
