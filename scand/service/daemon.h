/* The scand service: a GLib main loop that owns the spool, delivers the queue
 * with backoff, watches folders, starts feeder auto-scans and answers D-Bus. */
#pragma once

#include <gio/gio.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *config_path;  /* NULL = default locations */
  const char *spool_dir;    /* NULL = from config / default */
  GBusType bus;             /* G_BUS_TYPE_SESSION, _SYSTEM, or _NONE for no D-Bus */
  gint64 queue_interval_ms; /* how often the delivery queue is looked at; 0 = 5000 */
} ScandDaemonOptions;

typedef struct ScandDaemon ScandDaemon;

/* Loads the config (refusing one with problems), opens the spool. */
ScandDaemon *scand_daemon_new(const ScandDaemonOptions *options, GError **error);
/* Runs until SIGTERM/SIGINT; returns the exit status. */
int scand_daemon_run(ScandDaemon *daemon);
void scand_daemon_free(ScandDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandDaemon, scand_daemon_free)

G_END_DECLS
