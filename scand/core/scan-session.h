/* One scan, start to end, the same for `scand scan` and the daemon: open the
 * device, pick the source (--source auto: the feeder when the device reports
 * paper in it), scan the pages into the job, route again now that the page
 * count is known, assemble, deliver — the first document and those a
 * separator sheet split off — and the jam policy: the pages scanned before a
 * problem are assembled and delivered like any, and the problem is reported
 * with them. Each caller brings its own progress, cancel and reporting
 * through ScandSessionHooks. */
#pragma once

#include <glib.h>
#include "backends/backend.h"
#include "outputs/output.h"
#include "scand/base/config.h"
#include "scand/core/job.h"
#include "scand/core/retry.h"
#include "scand/core/scan-plan.h"
#include "scand/core/spool.h"

G_BEGIN_DECLS

typedef struct {
  gpointer user_data; /* passed to every hook */
  /* Pages arriving: "scanning" (page 1-based, bytes so far; 0 at its start),
   * "page-saved"; then per document "assembling" (page = its page count)
   * and "delivering". May be NULL. */
  void (*progress)(gpointer user_data, const char *stage, guint page, guint64 bytes);
  /* The device was opened (scanner) or is about to be closed (NULL): until
   * then the host may call scand_scanner_cancel() on it from any thread.
   * May be NULL. */
  void (*scanner)(gpointer user_data, ScandScanner *scanner);
  /* Whether the person cancelled this scan: the job is dropped, pages and
   * all. Asked once the scan has stopped. May be NULL. */
  gboolean (*cancelled)(gpointer user_data);
  /* Whether the host is stopping (SIGTERM): the pages stay in the spool for
   * the next start instead of being assembled now. May be NULL. */
  gboolean (*stopping)(gpointer user_data);
  /* A document was assembled and delivered once: its job (facts, notes,
   * where it went), the outcome, and one message per destination that did
   * not succeed. May be NULL. */
  void (*document)(gpointer user_data, ScandJob *job, ScandDeliveryResult result, GPtrArray *messages);
} ScandSessionHooks;

typedef enum {
  SCAND_SESSION_DONE,      /* every document delivered */
  SCAND_SESSION_QUEUED,    /* a destination will be retried (the spool has it) */
  SCAND_SESSION_FAILED,    /* no page, a document that could not be made, or a destination refused */
  SCAND_SESSION_CANCELLED, /* the person dropped it */
  SCAND_SESSION_KEPT,      /* the host is stopping: the pages wait in the spool */
} ScandSessionResult;

typedef struct {
  ScandSessionResult result;
  /* The scan stopped early (jam, cover open, I/O error) after some pages,
   * which were assembled and delivered (or kept): scan_error says why. */
  gboolean interrupted;
  GError *scan_error; /* why the scan stopped or failed; NULL when it ended normally */
  GError *error;      /* what stopped the session after the scan (routing, assembling); NULL otherwise */
  guint pages;        /* pages of the first document */
} ScandSessionOutcome;

/* Runs plan's scan into job (made by scand_scan_plan_create_job(); the
 * session opens, and closes, the device). Deliveries wait as retry says
 * between attempts. A job that got no page is removed from the spool; one
 * that did stays there until delivered. Clear out with
 * scand_session_outcome_clear(). Runs on the calling thread. */
void scand_scan_session_run(ScandScanPlan *plan, ScandConfig *config, ScandSpool *spool, ScandJob *job,
                            const ScandRetryPolicy *retry, const ScandSessionHooks *hooks, ScandSessionOutcome *out);

/* Frees what out holds. */
void scand_session_outcome_clear(ScandSessionOutcome *out);

/* --source auto: the feeder when the device reports paper in it (a backend
 * with a status entry), else what the backend takes for auto (the flatbed
 * when there is one). Changes settings->source only for auto. */
void scand_scan_session_pick_source(const char *uri, const ScandOpenOptions *options, ScandScanSettings *settings);

G_END_DECLS
