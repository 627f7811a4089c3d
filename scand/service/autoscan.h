/* Scans that start themselves.
 *
 * A [scanner] with auto-scan = feeder starts a scan when paper has sat in its
 * feeder for `settle` while the device is idle; with auto-scan = button, when
 * one of its hardware buttons is pressed (`buttons = scan=letter;email=photo`
 * picks the profile, else the scanner's own). Devices are polled every
 * `poll-interval` through their backend's status or buttons entry
 * (backends/backend.h); the daemon never names a backend. After a scan the
 * scanner rests for `cooldown`. A device that is busy (a job started at its
 * panel) is never interrupted.
 *
 * The poller is a guest of a host (the daemon) that starts the scans. */
#pragma once

#include <glib.h>
#include "scand/base/config.h"
#include "scand/core/scan-plan.h"

G_BEGIN_DECLS

typedef struct ScandAutoscan ScandAutoscan;

/* Tells the poller that a scan it started is over (any thread). */
typedef void (*ScandAutoscanDone)(gpointer done_data);

typedef struct {
  gpointer user_data; /* passed to every callback */
  /* Starts a scan for request; returns its job id (newly allocated) or NULL
   * with error. On success the host calls done(done_data) exactly once when
   * the scan is over. Main thread. */
  char *(*start_scan)(gpointer user_data, const ScandScanRequest *request, ScandAutoscanDone done, gpointer done_data,
                      GError **error);
  /* Whether the host is stopping (SIGTERM): start nothing (any thread). */
  gboolean (*stopping)(gpointer user_data);
  /* One line for the log (main thread). */
  void (*log)(gpointer user_data, const char *line);
} ScandAutoscanHost;

/* A poller for the auto-scanning [scanner] sections of config (none is
 * fine). eSCL status polls are requests on the main loop (no thread); polls
 * that block (SANE buttons, WSD) run on worker threads made when first
 * needed; decisions and scans are made in the main thread. The host struct is
 * copied. */
ScandAutoscan *scand_autoscan_new(const ScandAutoscanHost *host, ScandConfig *config);

/* Takes the sections of a new configuration (SIGHUP). Scans under way finish;
 * the cooldown of a scanner that stays starts anew. Main thread. */
void scand_autoscan_reload(ScandAutoscan *autoscan, ScandConfig *config);

/* Stops polling: ends the polls under way on the main loop and waits for
 * those on threads (not for scans). Main thread. Accepts NULL. */
void scand_autoscan_free(ScandAutoscan *autoscan);

G_END_DECLS
