/* Watched folders: files dropped into a folder (an MFP's scan-to-folder
 * target, an SMB or FTP drop) become jobs, exactly once, and are then moved
 * out of the way or deleted.
 *
 * The watcher is a guest of a host (the daemon) that gives it a spool, the
 * current configuration, one worker queue on which it takes files and
 * delivers (serialised with the host's own deliveries), and a place to log
 * and to report finished jobs. It knows nothing else of the host. */
#pragma once

#include <glib.h>

#include "scand/base/config.h"
#include "scand/core/spool.h"

G_BEGIN_DECLS

typedef struct ScandWatcher ScandWatcher;

typedef struct {
  gpointer user_data; /* passed to every callback */
  ScandSpool *spool;  /* borrowed; outlives the watcher */
  /* A reference to the configuration in force now (any thread; caller frees). */
  ScandConfig *(*get_config)(gpointer user_data);
  /* Runs func(data, user_data) later on the host's one queue worker, in the
   * order pushed, one item at a time. */
  void (*queue_push)(gpointer user_data, GFunc func, gpointer data);
  /* Whether the host is stopping (SIGTERM): take no new file (any thread). */
  gboolean (*stopping)(gpointer user_data);
  /* A job made from a watched file was delivered ("done"), queued or failed
   * (any thread). */
  void (*job_finished)(gpointer user_data, const char *id, const char *result, GPtrArray *delivered, GPtrArray *errors);
  /* One line for the log (any thread). */
  void (*log)(gpointer user_data, const char *line);
} ScandWatcherHost;

/* Starts watching every [watch NAME] of config. NULL without error when there
 * is none; NULL with error when watching cannot start at all (a single folder
 * that cannot be watched is logged and retried, not an error). Main thread;
 * the host struct is copied. */
ScandWatcher *scand_watcher_new(const ScandWatcherHost *host, ScandConfig *config, GError **error);

/* Stops watching (main thread). Files already queued on the worker are still
 * taken; the watcher's memory goes when the last of them is done. Accepts
 * NULL. */
void scand_watcher_free(ScandWatcher *watcher);

G_END_DECLS
