/* Internals shared by the daemon's files. */
#pragma once

#include "scand/base/config.h"
#include "scand/base/log.h"
#include "scand/base/progress.h"
#include "scand/service/daemon.h"
#include "scand/core/spool.h"
#include "scand/service/watch.h"

G_BEGIN_DECLS

typedef struct ScandDaemonBus ScandDaemonBus;
typedef struct ScandPanels ScandPanels;

struct ScandDaemon {
  ScandDaemonOptions options;
  char *config_path;
  ScandConfig *config; /* main thread only; workers get what they need copied */
  ScandSpool *spool;
  GMainLoop *loop;
  GThreadPool *scan_pool;  /* one scan at a time */
  GThreadPool *queue_pool; /* deliveries and folder intake, one at a time */
  GThreadPool *poll_pool;  /* feeder status polls */
  ScandWatcher *watcher;
  ScandDaemonBus *bus;
  GPtrArray *autoscan; /* AutoScan*, one per [scanner] with auto-scan = feeder */
  ScandPanels *panels; /* walk-up destinations on devices' panels */
  guint queue_timer;
  guint poll_timer;
  guint watchdog_timer;
  ScandHeartbeat *queue_heartbeat; /* the workers' progress, for the watchdog */
  ScandHeartbeat *scan_heartbeat;
  gint64 stall_us;    /* [scand] stall-timeout */
  char *stalled;      /* what the watchdog found stuck, NULL when all move */
  gint queue_busy;    /* atomic: a queue pass is scheduled or running */
  gint stopping;      /* atomic: SIGTERM seen */
  gint scans_running; /* atomic */
  int exit_status;
};

/* A reference to the current configuration, for worker threads (a SIGHUP
 * may replace the daemon's while they run). Caller frees. */
ScandConfig *scand_daemon_get_config(ScandDaemon *daemon);

/* Starts a scan job; returns its id (newly allocated) or NULL with error.
 * device: a [scanner] name, a URI or NULL (default); profile may be NULL. */
char *scand_daemon_start_scan(ScandDaemon *daemon, const char *device, const char *profile, const char *trigger,
                              GError **error);

/* Stops the scan of job id if it is under way; the job is then dropped.
 * FALSE when no such scan runs. Any thread. */
gboolean scand_daemon_cancel_scan(ScandDaemon *daemon, const char *id);

/* Runs func(data) on the queue worker (serialised with deliveries). */
void scand_daemon_queue_push(ScandDaemon *daemon, GFunc func, gpointer data);

/* Job events, to be called from any thread: logged, and signalled on D-Bus
 * (from the main thread) when the daemon is on a bus. */
void scand_daemon_emit_progress(ScandDaemon *daemon, const char *id, const char *stage, guint pages);
void scand_daemon_emit_finished(ScandDaemon *daemon, const char *id, const char *result, GPtrArray *delivered,
                                GPtrArray *errors);

G_END_DECLS
