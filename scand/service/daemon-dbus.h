/* The daemon's D-Bus API, org.scand.Daemon1 (data/org.scand.Daemon1.xml).
 *
 * The bus knows nothing of the daemon's insides: the daemon hands it a table
 * of what it may ask (ScandBusService) when it creates it, and tells it about
 * job events through the emit functions. */
#pragma once

#include <gio/gio.h>
#include "scand/base/config.h"
#include "scand/core/spool.h"

G_BEGIN_DECLS

typedef struct ScandDaemonBus ScandDaemonBus;

/* What the D-Bus methods ask of the service that exports them. The first
 * argument is the service_data given to scand_daemon_bus_new(). */
typedef struct {
  /* A reference to the current configuration; caller frees. Any thread. */
  ScandConfig *(*get_config)(gpointer service);
  /* Starts a scan (device, profile may be "") for the user owner_uid (its
   * decimal uid, recorded in the job); returns the job id (newly allocated)
   * or NULL with error. device is already one the caller may name
   * (daemon-dbus-access.h). Main thread. */
  char *(*start_scan)(gpointer service, const char *device, const char *profile, const char *owner_uid, GError **error);
  /* Cancels job id: stops its scan, or drops it from the spool; FALSE with
   * an error when there is no such job. Main thread. */
  gboolean (*cancel_job)(gpointer service, const char *id, GError **error);
  /* Tries job id's destinations again (serialised with the deliveries); the
   * end is sent as JobFinished. */
  void (*retry_job)(gpointer service, const char *id);
  /* The walk-up destinations on devices' panels, as ListPanels returns them
   * (a(sa(sx)s)); floating. Main thread. */
  GVariant *(*list_panels)(gpointer service);
  /* The bus name could not be owned: the service should stop with an error. */
  void (*name_lost)(gpointer service);
} ScandBusService;

/* Owns org.scand.Daemon1 on the bus of type and serves the API over spool
 * (borrowed; it outlives the bus) with service. Returns at once; the name is
 * owned from the main loop. Free with scand_daemon_bus_free(). */
ScandDaemonBus *scand_daemon_bus_new(GBusType type, ScandSpool *spool, const ScandBusService *service,
                                     gpointer service_data);
/* Frees the bus, flushing signals sent so far. Accepts NULL. */
void scand_daemon_bus_free(ScandDaemonBus *bus);

/* The signals JobProgress(job, id, stage, pages) and JobFinished(job, id,
 * result, delivered, errors). Any thread: they are sent from the main loop,
 * which must run (or be iterated) before the bus is freed. */
void scand_daemon_bus_emit_progress(ScandDaemonBus *bus, const char *id, const char *stage, guint pages);
void scand_daemon_bus_emit_finished(ScandDaemonBus *bus, const char *id, const char *result, GPtrArray *delivered,
                                    GPtrArray *errors);

G_END_DECLS
