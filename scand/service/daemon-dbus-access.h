/* Who may ask what of the daemon over D-Bus (daemon-dbus.c's policy).
 *
 * Devices: a caller names a configured scanner or a discovered one, never an
 * address of its own making — the daemon contacts no URL a bus client chose
 * (no server-side request forgery through it).
 *
 * Jobs: CancelJob and RetryJob act on a job only for the user that created it
 * (the job's owner-uid), for root and for the daemon's own user. */
#pragma once

#include <gio/gio.h>
#include "scand/base/config.h"
#include "scand/core/spool.h"

G_BEGIN_DECLS

/* The Unix uid of the caller of invocation, asked of the bus (or of the peer
 * on a direct connection). FALSE with error when it cannot be known. */
gboolean scand_bus_caller_uid(GDBusMethodInvocation *invocation, guint32 *uid, GError **error);

/* What to scan or ask for device as a caller named it: "" stays "" (the
 * default device); a [scanner] section's name or device URI gives the section
 * name; a discovered device's name or URI gives its URI (discovery runs
 * when discover is TRUE and there was none in the last 30 s: seconds, so not
 * from the main loop). Anything else: NULL with a one-line error. Newly
 * allocated. */
char *scand_bus_device_resolve(ScandConfig *config, const char *device, gboolean discover, GError **error);

/* Remembers devices (ScandDeviceInfo) a listing found, for
 * scand_bus_device_resolve() without a new discovery. Any thread. */
void scand_bus_devices_remember(GPtrArray *devices);

/* TRUE when the user uid may cancel or retry job id in spool; FALSE with a
 * G_DBUS_ERROR_ACCESS_DENIED (or a not-found) error otherwise. */
gboolean scand_bus_may_manage_job(ScandSpool *spool, const char *id, guint32 uid, GError **error);

G_END_DECLS
