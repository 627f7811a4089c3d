/* The one scan session (scan-session.h). */
#include "scand/core/scan-session.h"
#include "scand/base/error.h"
#include "scand/core/job-run.h"

void scand_session_outcome_clear(ScandSessionOutcome *out) {
  g_clear_error(&out->scan_error);
  g_clear_error(&out->error);
}

void scand_scan_session_pick_source(const char *uri, const ScandOpenOptions *options, ScandScanSettings *settings) {
  if (settings->source != SCAND_SOURCE_AUTO || !(scand_device_abilities(uri) & SCAND_DEVICE_CAN_STATUS))
    return;
  ScandDeviceStatus status;
  /* A device that cannot say keeps the backend's own choice. */
  if (scand_device_get_status(uri, options, &status, NULL) && status.feeder == SCAND_FEEDER_LOADED)
    settings->source = SCAND_SOURCE_FEEDER;
}

static void session_progress(const char *stage, guint page, guint64 bytes, gpointer user_data) {
  const ScandSessionHooks *hooks = user_data;
  if (hooks->progress)
    hooks->progress(hooks->user_data, stage, page, bytes);
}

/* Opens the device, scans into job, closes it. FALSE when the device could
 * not be opened (the job is then removed); otherwise TRUE, with
 * out->scan_error set when the scan stopped early or gave nothing. */
static gboolean session_scan(ScandScanPlan *plan, ScandJob *job, const ScandSessionHooks *hooks,
                             ScandSessionOutcome *out) {
  ScandScanner *scanner = scand_scanner_open(plan->uri, &plan->open_options, &out->scan_error);
  if (!scanner) {
    scand_job_remove(job, NULL);
    return FALSE;
  }
  if (hooks->scanner)
    hooks->scanner(hooks->user_data, scanner);
  ScandScanSettings settings = plan->settings;
  scand_scan_session_pick_source(plan->uri, &plan->open_options, &settings);
  if (settings.source != plan->settings.source) {
    ScandJobFacts facts = *scand_job_get_facts(job);
    facts.source = scand_source_to_string(settings.source);
    scand_job_set_facts(job, &facts);
  }
  scand_job_run_scan(job, scanner, &settings, session_progress, (gpointer) hooks, &out->scan_error);
  if (hooks->scanner)
    hooks->scanner(hooks->user_data, NULL);
  scand_scanner_close(scanner);
  return TRUE;
}

/* One document: route it again with its page count, assemble, deliver once. */
static ScandDeliveryResult session_document(ScandScanPlan *plan, ScandConfig *config, ScandJob *job,
                                            const ScandRetryPolicy *retry, const ScandSessionHooks *hooks,
                                            GError **error) {
  if (!scand_scan_plan_reroute(plan, config, job, error))
    return SCAND_DELIVERY_FAILED;
  guint pages = scand_job_get_facts(job)->pages;
  session_progress("assembling", pages ? pages : scand_job_count_pages(job), 0, (gpointer) hooks);
  if (!scand_job_run_assemble(job, error))
    return SCAND_DELIVERY_FAILED;
  session_progress("delivering", scand_job_get_facts(job)->pages, 0, (gpointer) hooks);
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) local = NULL;
  ScandDeliveryResult r = scand_job_run_deliver(job, retry, messages, &local);
  if (local)
    g_ptr_array_add(messages, g_strdup(local->message));
  if (hooks->document)
    hooks->document(hooks->user_data, job, r, messages);
  return r;
}

static ScandDeliveryResult worst(ScandDeliveryResult a, ScandDeliveryResult b) {
  if (a == SCAND_DELIVERY_FAILED || b == SCAND_DELIVERY_FAILED)
    return SCAND_DELIVERY_FAILED;
  return a == SCAND_DELIVERY_RETRY || b == SCAND_DELIVERY_RETRY ? SCAND_DELIVERY_RETRY : SCAND_DELIVERY_DONE;
}

/* The further documents of a batch split at separator sheets: each routed
 * (its barcode may pick another rule), assembled and delivered like the
 * first. A child that cannot go now stays in the spool for the queue. */
static ScandDeliveryResult session_children(ScandScanPlan *plan, ScandConfig *config, ScandSpool *spool, ScandJob *job,
                                            const ScandRetryPolicy *retry, const ScandSessionHooks *hooks,
                                            ScandDeliveryResult r) {
  g_auto(GStrv) children = scand_job_get_split_children(job);
  for (guint i = 0; children[i]; i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandJob) child = scand_job_open_split_child(job, children[i], &error);
    ScandDeliveryResult cr =
        child ? session_document(plan, config, child, retry, hooks, &error) : SCAND_DELIVERY_FAILED;
    if (error && hooks->document) {
      g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
      g_ptr_array_add(messages, g_strdup(error->message));
      hooks->document(hooks->user_data, NULL, SCAND_DELIVERY_FAILED, messages);
    }
    r = worst(r, cr);
  }
  return r;
}

static gboolean hook_says(gboolean (*hook)(gpointer), gpointer user_data) {
  return hook && hook(user_data);
}

void scand_scan_session_run(ScandScanPlan *plan, ScandConfig *config, ScandSpool *spool, ScandJob *job,
                            const ScandRetryPolicy *retry, const ScandSessionHooks *hooks, ScandSessionOutcome *out) {
  *out = (ScandSessionOutcome){ .result = SCAND_SESSION_FAILED };
  if (!session_scan(plan, job, hooks, out))
    return;
  if (hook_says(hooks->cancelled, hooks->user_data)) {
    /* Cancel is the person's decision to drop this scan, pages and all. */
    scand_job_remove(job, NULL);
    out->result = SCAND_SESSION_CANCELLED;
    return;
  }
  /* Not a single page: nothing to deliver (the job is gone already). */
  if (out->scan_error && scand_job_get_stage(job) != SCAND_JOB_SCANNED)
    return;
  out->interrupted = out->scan_error != NULL;
  out->pages = scand_job_get_facts(job)->pages;
  if (hook_says(hooks->stopping, hooks->user_data)) {
    /* The next start assembles and delivers them. */
    out->result = SCAND_SESSION_KEPT;
    return;
  }
  ScandDeliveryResult r = session_document(plan, config, job, retry, hooks, &out->error);
  /* The documents a separator split off go their own way, whatever became
   * of the first. */
  r = session_children(plan, config, spool, job, retry, hooks, r);
  out->result = r == SCAND_DELIVERY_DONE    ? SCAND_SESSION_DONE
                : r == SCAND_DELIVERY_RETRY ? SCAND_SESSION_QUEUED
                                            : SCAND_SESSION_FAILED;
}
