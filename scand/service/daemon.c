#include "scand/service/daemon.h"
#include "scand/base/config.h"
#include "scand/base/log.h"
#include "scand/base/progress.h"
#include "scand/core/spool.h"
#include "scand/service/autoscan.h"
#include "scand/service/daemon-dbus.h"
#include "scand/service/watch.h"
#include "scand/base/error.h"
#include "scand/core/config-check.h"
#include "scand/core/job-run.h"
#include "scand/core/scan-plan.h"
#include "scand/core/scan-session.h"
#include "scand/base/http.h"
#include "scand/base/signal-guard.h"
#include "scand/service/mail-intake.h"
#include "scand/service/panel.h"
#include "scand/service/metrics-endpoint.h"
#include "scand/base/metrics.h"
#include "scand-build.h"
#if SCAND_HAVE_WEB
#include "scand/service/web.h"
#endif

#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

/* After SIGTERM, network transfers (a page, a delivery) get this long to end. */
#define SCAND_DAEMON_STOP_GRACE_MS 5000

struct ScandDaemon {
  ScandDaemonOptions options;
  char *config_path;
  ScandConfig *config; /* main thread only; workers get what they need copied */
  ScandSpool *spool;
  GMainLoop *loop;
  GThreadPool *scan_pool;  /* one scan at a time */
  GThreadPool *queue_pool; /* deliveries and folder intake, one at a time */
  ScandWatcher *watcher;
  ScandDaemonBus *bus;
  ScandAutoscan *autoscan;
  ScandPanels *panels;           /* walk-up destinations on devices' panels */
  ScandMailIntake *intake;       /* mail intake (SMTP listeners), NULL without [intake] */
  ScandMetricsEndpoint *metrics; /* [scand] metrics-listen / metrics-textfile */
#if SCAND_HAVE_WEB
  struct ScandWeb *web; /* the web page, NULL when off; main thread */
#endif
  guint queue_timer;
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

G_LOCK_DEFINE_STATIC(config);

static ScandConfig *daemon_get_config(ScandDaemon *daemon) {
  G_LOCK(config);
  ScandConfig *c = scand_config_ref(daemon->config);
  G_UNLOCK(config);
  return c;
}

static void notify_status(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void notify_status(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *line = g_strdup_printf("STATUS=%s", msg);
  sd_notify(0, line);
}

/* --- job events --- */

#if SCAND_HAVE_WEB
/* A job event on its way to the web page, which lives in the main thread. */
typedef struct {
  ScandDaemon *daemon;
  char *id, *what; /* what: the stage or the result */
  guint pages;
  GPtrArray *delivered, *errors; /* NULL for progress */
} WebEvent;

static gboolean web_event_in_main(gpointer data) {
  WebEvent *e = data;
  if (e->errors)
    scand_web_emit_finished(e->daemon->web, e->id, e->what, e->delivered, e->errors);
  else
    scand_web_emit_progress(e->daemon->web, e->id, e->what, e->pages);
  g_free(e->id);
  g_free(e->what);
  if (e->delivered)
    g_ptr_array_unref(e->delivered);
  if (e->errors)
    g_ptr_array_unref(e->errors);
  g_free(e);
  return G_SOURCE_REMOVE;
}

static GPtrArray *strings_copy(GPtrArray *a) {
  GPtrArray *c = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; a && i < a->len; i++)
    g_ptr_array_add(c, g_strdup(a->pdata[i]));
  return c;
}

static void web_event(ScandDaemon *daemon, const char *id, const char *what, guint pages, GPtrArray *delivered,
                      GPtrArray *errors, gboolean finished) {
  WebEvent *e = g_new0(WebEvent, 1);
  e->daemon = daemon;
  e->id = g_strdup(id);
  e->what = g_strdup(what);
  e->pages = pages;
  if (finished) {
    e->delivered = strings_copy(delivered);
    e->errors = strings_copy(errors);
  }
  g_main_context_invoke(NULL, web_event_in_main, e);
}
#endif

static void daemon_emit_progress(ScandDaemon *daemon, const char *id, const char *stage, guint pages) {
  if (daemon->bus)
    scand_daemon_bus_emit_progress(daemon->bus, id, stage, pages);
#if SCAND_HAVE_WEB
  web_event(daemon, id, stage, pages, NULL, NULL, FALSE);
#endif
}

/* facts (may be NULL): the job's, for the journal's DEVICE= and RULE=. */
static void daemon_emit_finished(ScandDaemon *daemon, const char *id, const ScandJobFacts *facts, const char *result,
                                 GPtrArray *delivered, GPtrArray *errors) {
  const char *first = errors && errors->len ? (const char *) errors->pdata[0] : NULL;
  g_autofree char *output = NULL;
  for (guint i = 0; errors && i < errors->len && !output; i++)
    output = scand_log_output_of(errors->pdata[i]);
  ScandLogFields fields = { .job = id, .output = output };
  if (facts) {
    fields.device = facts->device_name ? facts->device_name : facts->device;
    fields.rule = facts->rule;
  }
  scand_log_fields(&fields, "job %s: %s%s%s", id, result, first ? ": " : "", first ? first : "");
  if (daemon->bus)
    scand_daemon_bus_emit_finished(daemon->bus, id, result, delivered, errors);
#if SCAND_HAVE_WEB
  web_event(daemon, id, result, 0, delivered, errors, TRUE);
#endif
}

/* --- the delivery queue --- */

static void daemon_queue_push(ScandDaemon *daemon, GFunc func, gpointer data) {
  typedef struct {
    GFunc func;
    gpointer data;
  } Work;
  Work *w = g_new(Work, 1);
  w->func = func;
  w->data = data;
  g_thread_pool_push(daemon->queue_pool, w, NULL);
}

static void queue_worker(gpointer data, gpointer user_data) {
  ScandDaemon *daemon = user_data;
  struct {
    GFunc func;
    gpointer data;
  } *w = data;
  scand_heartbeat_busy(daemon->queue_heartbeat, "deliveries and watched files");
  w->func(w->data, user_data);
  scand_heartbeat_idle(daemon->queue_heartbeat);
  g_free(w);
}

/* --- mail intake --- */

/* Delivers jobs that routing just made and reports each. */
static void deliver_new_jobs(ScandDaemon *daemon, ScandConfig *config, GPtrArray *ids) {
  ScandRetryPolicy policy;
  scand_retry_policy_from_config(config, &policy, NULL);
  for (guint i = 0; i < ids->len; i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandJob) job = scand_job_open(daemon->spool, ids->pdata[i], &error);
    if (!job)
      continue; /* a queue pass has it, or it is done */
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) delivered = g_ptr_array_new_with_free_func(g_free);
    ScandDeliveryResult r = scand_job_run_deliver(job, &policy, errors, NULL);
    scand_job_list_delivered(job, delivered);
    daemon_emit_finished(daemon, ids->pdata[i], scand_job_get_facts(job),
                         r == SCAND_DELIVERY_DONE    ? "done"
                         : r == SCAND_DELIVERY_RETRY ? "queued"
                                                     : "failed",
                         delivered, errors);
  }
}

static void intake_work(gpointer data, gpointer user_data) {
  ScandDaemon *daemon = user_data;
  g_autofree char *queue_id = data;
  g_autoptr(ScandConfig) config = daemon_get_config(daemon);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
  scand_mail_intake_route(daemon->intake, config, queue_id, ids);
  deliver_new_jobs(daemon, config, ids);
}

static void on_mail_accepted(const char *queue_id, gpointer user_data) {
  daemon_queue_push(user_data, intake_work, g_strdup(queue_id));
}

static void on_intake_log(const char *line, gpointer user_data) {
  scand_log("%s", line);
}

static void queue_pass(gpointer data, gpointer user_data) {
  ScandDaemon *daemon = user_data;
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(ScandConfig) config = daemon_get_config(daemon);
  if (daemon->intake) {
    /* Mail accepted before a crash, or not routed for a passing reason. */
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    scand_mail_intake_route(daemon->intake, config, NULL, ids);
  }
  ScandRetryPolicy policy;
  scand_retry_policy_from_config(config, &policy, NULL);
  guint left = scand_spool_resume_all(daemon->spool, &policy, FALSE, messages, NULL);
  for (guint i = 0; i < messages->len; i++)
    scand_log("%s", (const char *) messages->pdata[i]);
  notify_status("%u jobs waiting in the spool", left);
  g_atomic_int_set(&daemon->queue_busy, 0);
}

static gboolean on_queue_timer(gpointer data) {
  ScandDaemon *daemon = data;
  /* Stopping: no new pass. The source stays; scand_daemon_run() removes it by
   * its id (removing it here too would make that a removal of an unknown
   * source, a critical that aborts the test runs). */
  if (g_atomic_int_get(&daemon->stopping))
    return G_SOURCE_CONTINUE;
  /* One pass at a time: a slow share must not pile up passes. */
  if (g_atomic_int_compare_and_exchange(&daemon->queue_busy, 0, 1))
    daemon_queue_push(daemon, queue_pass, NULL);
  return G_SOURCE_CONTINUE;
}

/* RetryJob, and Retry on the web page: a failed job goes back to delivering;
 * every destination not done is tried once now. */
typedef struct {
  ScandDaemon *daemon;
  char *id;
} RetryWork;

static void retry_work(gpointer data, gpointer user_data) {
  RetryWork *r = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) job = scand_job_open(r->daemon->spool, r->id, &error);
  if (job) {
    if (scand_job_get_stage(job) == SCAND_JOB_FAILED)
      scand_job_set_stage(job, SCAND_JOB_ASSEMBLED, NULL);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) delivered = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(ScandConfig) config = daemon_get_config(r->daemon);
    ScandRetryPolicy policy;
    scand_retry_policy_from_config(config, &policy, NULL);
    ScandDeliveryResult res = scand_job_run_resume(job, &policy, errors, &error);
    scand_job_list_delivered(job, delivered);
    daemon_emit_finished(r->daemon, r->id, scand_job_get_facts(job),
                         res == SCAND_DELIVERY_DONE    ? "done"
                         : res == SCAND_DELIVERY_RETRY ? "queued"
                                                       : "failed",
                         delivered, errors);
  } else {
    scand_log("retry %s: %s", r->id, error->message);
  }
  g_free(r->id);
  g_free(r);
}

static void daemon_retry_job(ScandDaemon *daemon, const char *id) {
  RetryWork *r = g_new0(RetryWork, 1);
  r->daemon = daemon;
  r->id = g_strdup(id);
  daemon_queue_push(daemon, retry_work, r);
}

/* --- scans --- */

typedef struct {
  ScandDaemon *daemon;
  ScandJob *job;
  ScandScanPlan *plan;
  ScandAutoscanDone done; /* an auto-scan's: told when the scan is over */
  gpointer done_data;
  ScandScanner *scanner;
  ScandConfig *config;    /* the config the scan started with (a reload may replace the daemon's) */
  ScandRetryPolicy retry; /* its retry policy */
  gint cancelled;         /* atomic: CancelJob during the scan */
  GPtrArray *delivered;   /* where its documents went (JobFinished) */
  GPtrArray *errors;      /* what went wrong, one line each */
  gboolean documents;     /* a document reached delivery (which counts the job in metrics) */
} ScanWork;

/* Scans under way, by job id, for CancelJob. */
G_LOCK_DEFINE_STATIC(running);
static GHashTable *running;

static void running_set(const char *id, ScanWork *w) {
  G_LOCK(running);
  if (!running)
    running = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  if (w)
    g_hash_table_insert(running, g_strdup(id), w);
  else
    g_hash_table_remove(running, id);
  G_UNLOCK(running);
}

static gboolean daemon_cancel_scan(ScandDaemon *daemon, const char *id) {
  gboolean found = FALSE;
  G_LOCK(running);
  ScanWork *w = running ? g_hash_table_lookup(running, id) : NULL;
  if (w) {
    found = TRUE;
    g_atomic_int_set(&w->cancelled, 1);
    if (w->scanner)
      scand_scanner_cancel(w->scanner);
  }
  G_UNLOCK(running);
  return found;
}

/* Cancels job id: stops its scan, or drops it from the spool. */
static gboolean daemon_cancel_job(ScandDaemon *daemon, const char *id, GError **error) {
  if (daemon_cancel_scan(daemon, id))
    return TRUE;
  g_autoptr(ScandJob) job = scand_job_open(daemon->spool, id, error);
  return job && scand_job_remove(job, error);
}

/* Whether a scan from uri runs now. */
static gboolean daemon_device_busy(ScandDaemon *daemon, const char *uri) {
  gboolean busy = FALSE;
  G_LOCK(running);
  GHashTableIter it;
  gpointer value;
  if (running) {
    g_hash_table_iter_init(&it, running);
    while (!busy && g_hash_table_iter_next(&it, NULL, &value))
      busy = g_strcmp0(((ScanWork *) value)->plan->uri, uri) == 0;
  }
  G_UNLOCK(running);
  return busy;
}

/* --- the scan session's hooks: progress on D-Bus, CancelJob, SIGTERM --- */

static void scan_progress(gpointer user_data, const char *stage, guint page, guint64 bytes) {
  ScanWork *w = user_data;
  const char *id = scand_job_get_id(w->job);
  if (strcmp(stage, "page-saved") == 0) {
    daemon_emit_progress(w->daemon, id, "page-saved", page);
    /* SIGTERM: finish the page under way, then stop the batch. */
    if (g_atomic_int_get(&w->daemon->stopping)) {
      G_LOCK(running);
      scand_scanner_cancel(w->scanner);
      G_UNLOCK(running);
    }
  } else if (strcmp(stage, "scanning") == 0) {
    if (bytes == 0)
      daemon_emit_progress(w->daemon, id, "scanning", page - 1);
  } else {
    daemon_emit_progress(w->daemon, id, stage, page);
  }
}

static void scan_scanner(gpointer user_data, ScandScanner *scanner) {
  ScanWork *w = user_data;
  G_LOCK(running);
  w->scanner = scanner;
  /* A CancelJob that came before the device was open. */
  if (scanner && g_atomic_int_get(&w->cancelled))
    scand_scanner_cancel(scanner);
  G_UNLOCK(running);
}

static gboolean scan_cancelled(gpointer user_data) {
  return g_atomic_int_get(&((ScanWork *) user_data)->cancelled) != 0;
}

static gboolean scan_stopping(gpointer user_data) {
  return g_atomic_int_get(&((ScanWork *) user_data)->daemon->stopping) != 0;
}

static void scan_document(gpointer user_data, ScandJob *job, ScandDeliveryResult r, GPtrArray *messages) {
  ScanWork *w = user_data;
  w->documents = TRUE;
  if (job)
    scand_job_list_delivered(job, w->delivered);
  for (guint i = 0; i < messages->len; i++)
    g_ptr_array_add(w->errors, g_strdup(messages->pdata[i]));
}

static const ScandSessionHooks scan_hooks = {
  .progress = scan_progress,
  .scanner = scan_scanner,
  .cancelled = scan_cancelled,
  .stopping = scan_stopping,
  .document = scan_document,
};

/* JobFinished's result word for a session's outcome; errors gets what the
 * person should read first. */
static const char *scan_result(const ScandSessionOutcome *out, GPtrArray *errors) {
  switch (out->result) {
    case SCAND_SESSION_CANCELLED:
      g_ptr_array_add(errors, g_strdup("cancelled"));
      return "cancelled";
    case SCAND_SESSION_KEPT:
      g_ptr_array_add(errors, g_strdup("scand is stopping: the pages are kept and delivered on the next start"));
      return "queued";
    default:
      break;
  }
  if (out->error)
    g_ptr_array_add(errors, g_strdup(out->error->message));
  if (out->scan_error)
    g_ptr_array_insert(errors, 0, g_strdup(out->scan_error->message));
  if (out->result == SCAND_SESSION_DONE)
    return out->interrupted ? "partial" : "done";
  return out->result == SCAND_SESSION_QUEUED ? "queued" : "failed";
}

static void scan_worker(gpointer data, gpointer user_data) {
  ScanWork *w = data;
  ScandDaemon *daemon = w->daemon;
  g_autofree char *id = g_strdup(scand_job_get_id(w->job));
  g_autoptr(GPtrArray) delivered = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  const char *result = "failed";
  w->delivered = delivered;
  w->errors = errors;
  g_atomic_int_inc(&daemon->scans_running);
  scand_heartbeat_busy(daemon->scan_heartbeat, id);
  notify_status("scanning job %s from %s", id, w->plan->uri);
  if (g_atomic_int_get(&daemon->stopping)) {
    /* Queued behind the scan that was running at SIGTERM: not started. */
    g_ptr_array_add(errors, g_strdup("scand is stopping: the scan was not started"));
    scand_job_remove(w->job, NULL);
  } else {
    running_set(id, w);
    ScandSessionHooks hooks = scan_hooks;
    hooks.user_data = w;
    ScandSessionOutcome out;
    scand_scan_session_run(w->plan, w->config, daemon->spool, w->job, &w->retry, &hooks, &out);
    result = scan_result(&out, errors);
    scand_session_outcome_clear(&out);
    running_set(id, NULL);
  }
  /* A job that never reached delivery (no page, device gone, cancelled)
   * is counted here; one that did, by the delivery. */
  if (!w->documents && strcmp(result, "queued") != 0)
    scand_metrics_job_finished("scan", result, 0);
  daemon_emit_finished(daemon, id, scand_job_get_facts(w->job), result, delivered, errors);
  if (w->done)
    w->done(w->done_data);
  g_atomic_int_dec_and_test(&daemon->scans_running);
  scand_heartbeat_idle(daemon->scan_heartbeat);
  notify_status("idle");
  scand_job_free(w->job);
  scand_scan_plan_free(w->plan);
  scand_config_free(w->config);
  g_free(w);
}

static char *start_scan(ScandDaemon *daemon, const ScandScanRequest *request, ScandAutoscanDone done,
                        gpointer done_data, GError **error) {
  if (g_atomic_int_get(&daemon->stopping)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_BUSY, "scand is stopping");
    return NULL;
  }
  g_autoptr(ScandScanPlan) plan = scand_scan_plan_new(daemon->config, request, error);
  if (!plan)
    return NULL;
  ScandJob *job = scand_scan_plan_create_job(plan, daemon->config, daemon->spool, error);
  if (!job)
    return NULL;
  ScanWork *w = g_new0(ScanWork, 1);
  w->daemon = daemon;
  w->job = job;
  w->plan = g_steal_pointer(&plan);
  w->config = scand_config_ref(daemon->config);
  scand_retry_policy_from_config(w->config, &w->retry, NULL);
  w->done = done;
  w->done_data = done_data;
  char *id = g_strdup(scand_job_get_id(job));
  const ScandJobFacts *facts = scand_job_get_facts(job);
  ScandLogFields fields = { .job = id, .device = facts->device_name ? facts->device_name : facts->device };
  scand_log_fields(&fields, "job %s: scanning from %s (%s)", id, w->plan->uri, w->plan->trigger);
  g_thread_pool_push(daemon->scan_pool, w, NULL);
  return id;
}

static char *daemon_start_scan(ScandDaemon *daemon, const char *device, const char *profile, const char *trigger,
                               const char *owner_uid, GError **error) {
  ScandScanRequest request = {
    .device = device && *device ? device : NULL,
    .profile = profile && *profile ? profile : NULL,
    .trigger = trigger,
    .owner_uid = owner_uid,
  };
  return start_scan(daemon, &request, NULL, NULL, error);
}

/* --- walk-up: a person picked a destination on a device's panel --- */

static char *panel_pick(const char *section, const char *name, const char *profile, const ScandPanelEvent *event,
                        gpointer user_data, GError **error) {
  ScandDaemon *daemon = user_data;
  ScandScanRequest request = {
    .device = section,
    .profile = profile,
    .trigger = "panel",
    .panel = name,
    /* Two-sided chosen on the panel wins; one-sided leaves the profile's choice. */
    .duplex = event->duplex == 1,
    .options = (const char *const *) event->options,
  };
  return start_scan(daemon, &request, NULL, NULL, error);
}

/* --- lifecycle --- */

static ScandConfig *load_checked_config(const char *path, GError **error) {
  g_autoptr(ScandConfig) config = scand_config_load(path, error);
  if (!config)
    return NULL;
  g_autoptr(GPtrArray) problems = scand_config_check(config);
  const GPtrArray *warnings = scand_config_get_warnings(config);
  for (guint i = 0; i < warnings->len; i++)
    scand_log("%s", (const char *) warnings->pdata[i]);
  if (problems->len) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s%s", (const char *) problems->pdata[0],
                problems->len > 1 ? " (and more: scand config check)" : "");
    return NULL;
  }
  return g_steal_pointer(&config);
}

/* --- the watched folders' view of the daemon --- */

static ScandConfig *host_get_config(gpointer daemon) {
  return daemon_get_config(daemon);
}

static void host_queue_push(gpointer daemon, GFunc func, gpointer data) {
  daemon_queue_push(daemon, func, data);
}

static gboolean host_stopping(gpointer daemon) {
  return g_atomic_int_get(&((ScandDaemon *) daemon)->stopping) != 0;
}

static void host_job_finished(gpointer daemon, const char *id, const char *result, GPtrArray *delivered,
                              GPtrArray *errors) {
  daemon_emit_finished(daemon, id, NULL, result, delivered, errors);
}

static void host_log(gpointer daemon, const char *line) {
  /* The poller's lines are "scanner SECTION: …": SECTION is the device. */
  g_autofree char *device = NULL;
  if (g_str_has_prefix(line, "scanner ") && strchr(line, ':'))
    device = g_strndup(line + strlen("scanner "), (gsize) (strchr(line, ':') - line) - strlen("scanner "));
  ScandLogFields fields = { .device = device };
  scand_log_fields(&fields, "%s", line);
}

static ScandWatcher *watcher_start(ScandDaemon *daemon, GError **error) {
  const ScandWatcherHost host = {
    .user_data = daemon,
    .spool = daemon->spool,
    .get_config = host_get_config,
    .queue_push = host_queue_push,
    .stopping = host_stopping,
    .job_finished = host_job_finished,
    .log = host_log,
  };
  return scand_watcher_new(&host, daemon->config, error);
}

/* --- the auto-scan poller's view of the daemon --- */

static char *host_start_scan(gpointer daemon, const ScandScanRequest *request, ScandAutoscanDone done,
                             gpointer done_data, GError **error) {
  return start_scan(daemon, request, done, done_data, error);
}

static ScandAutoscan *autoscan_start(ScandDaemon *daemon) {
  const ScandAutoscanHost host = {
    .user_data = daemon,
    .start_scan = host_start_scan,
    .stopping = host_stopping,
    .log = host_log,
  };
  return scand_autoscan_new(&host, daemon->config);
}

static void setup_sources(ScandDaemon *daemon) {
  g_autoptr(GError) error = NULL;
  g_clear_pointer(&daemon->watcher, scand_watcher_free);
  daemon->watcher = watcher_start(daemon, &error);
  if (!daemon->watcher && error)
    scand_log("watched folders: %s", error->message);
  if (daemon->autoscan)
    scand_autoscan_reload(daemon->autoscan, daemon->config);
  else
    daemon->autoscan = autoscan_start(daemon);
  g_clear_pointer(&daemon->panels, scand_panels_free);
  daemon->panels = scand_panels_new(daemon->config, scand_spool_get_dir(daemon->spool), panel_pick, daemon);
  g_clear_pointer(&daemon->metrics, scand_metrics_endpoint_free);
  g_autoptr(GError) metrics_error = NULL;
  daemon->metrics = scand_metrics_endpoint_new(daemon->config, daemon->spool, &metrics_error);
  if (metrics_error)
    scand_log("metrics: %s", metrics_error->message);
  else if (daemon->metrics && scand_metrics_endpoint_get_port(daemon->metrics))
    scand_log("metrics on port %u", scand_metrics_endpoint_get_port(daemon->metrics));
}

#if SCAND_HAVE_WEB
static void web_setup(ScandDaemon *daemon);
#endif

static const ScandMailIntakeHooks intake_hooks = {
  .accepted = on_mail_accepted,
  .log = on_intake_log,
};

/* Listeners start once; a reload changes their policy. */
static gboolean setup_intake(ScandDaemon *daemon, GError **error) {
  if (daemon->intake) {
    scand_mail_intake_reload(daemon->intake, daemon->config);
    return TRUE;
  }
  static ScandMailIntakeHooks hooks;
  hooks = intake_hooks;
  hooks.user_data = daemon;
  g_autoptr(GError) local = NULL;
  daemon->intake = scand_mail_intake_new(daemon->config, daemon->spool, &hooks, &local);
  if (!local)
    return TRUE;
  if (!error) /* a reload: the daemon goes on without the new intake */
    scand_log("mail intake: %s", local->message);
  g_propagate_error(error, g_steal_pointer(&local));
  return FALSE;
}

static gboolean on_sighup(gpointer data) {
  ScandDaemon *daemon = data;
  sd_notify(0, "RELOADING=1");
  g_autoptr(GError) error = NULL;
  ScandConfig *config = load_checked_config(daemon->config_path, &error);
  if (!config) {
    /* A broken edit must not take the service down: keep what works. */
    scand_log("reload refused, keeping the previous configuration: %s", error->message);
  } else {
    G_LOCK(config);
    ScandConfig *old = daemon->config;
    daemon->config = config;
    G_UNLOCK(config);
    scand_config_free(old);
    setup_sources(daemon);
#if SCAND_HAVE_WEB
    web_setup(daemon);
#endif
    setup_intake(daemon, NULL);
    scand_log("configuration reloaded");
  }
  sd_notify(0, "READY=1");
  return G_SOURCE_CONTINUE;
}

static gboolean on_sigterm(gpointer data) {
  ScandDaemon *daemon = data;
  scand_log("stopping: finishing the page under way");
  sd_notify(0, "STOPPING=1");
  /* A page or delivery still on the network after the grace period is cut:
   * a device dripping bytes must not hold the stop (systemd would kill us). */
  scand_http_stop_all(SCAND_DAEMON_STOP_GRACE_MS);
  g_atomic_int_set(&daemon->stopping, 1);
  g_main_loop_quit(daemon->loop);
  return G_SOURCE_REMOVE;
}

/* A worker stuck longer than stall-timeout (no progress at all: a hung
 * mount, a device that never answers) stops the pings, so that systemd
 * restarts scand; one that is busy but moving does not. */
static gboolean on_watchdog(gpointer data) {
  ScandDaemon *daemon = data;
  ScandHeartbeat *workers[] = { daemon->queue_heartbeat, daemon->scan_heartbeat };
  gint64 now = g_get_monotonic_time();
  for (guint i = 0; i < G_N_ELEMENTS(workers); i++) {
    g_autofree char *what = NULL;
    gint64 stalled = scand_heartbeat_stalled_for(workers[i], now, &what);
    if (stalled < daemon->stall_us)
      continue;
    if (!daemon->stalled)
      scand_log("%s: no progress for %" G_GINT64_FORMAT " s; no more watchdog pings, so that systemd restarts scand",
                what, stalled / G_USEC_PER_SEC);
    g_free(daemon->stalled);
    daemon->stalled = g_steal_pointer(&what);
    return G_SOURCE_CONTINUE;
  }
  if (daemon->stalled)
    scand_log("%s: moving again; watchdog pings resume", daemon->stalled);
  g_clear_pointer(&daemon->stalled, g_free);
  sd_notify(0, "WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

ScandDaemon *scand_daemon_new(const ScandDaemonOptions *options, GError **error) {
  g_autoptr(ScandDaemon) daemon = g_new0(ScandDaemon, 1);
  daemon->options = *options;
  daemon->config_path = g_strdup(options->config_path);
  daemon->options.config_path = daemon->config_path;
  daemon->config = load_checked_config(daemon->config_path, error);
  if (!daemon->config)
    return NULL;
  g_autofree char *spool_dir =
      options->spool_dir ? g_strdup(options->spool_dir) : scand_spool_default_dir(daemon->config);
  daemon->spool = scand_spool_open(spool_dir, error);
  if (!daemon->spool)
    return NULL;
  gint64 stall = 600;
  scand_config_get_duration(daemon->config, "scand", NULL, "stall-timeout", 600, &stall, NULL);
  daemon->stall_us = MAX(stall, 1) * G_USEC_PER_SEC;
  daemon->queue_heartbeat = scand_heartbeat_new("the delivery queue");
  daemon->scan_heartbeat = scand_heartbeat_new("the scan");
  daemon->scan_pool = g_thread_pool_new(scan_worker, daemon, 1, FALSE, NULL);
  daemon->queue_pool = g_thread_pool_new(queue_worker, daemon, 1, FALSE, NULL);
  daemon->loop = g_main_loop_new(NULL, FALSE);
  /* Listening sockets now, so that a port in use fails the start. */
  g_autoptr(GError) local = NULL;
  if (!setup_intake(daemon, &local)) {
    g_propagate_error(error, g_steal_pointer(&local));
    return NULL;
  }
  return g_steal_pointer(&daemon);
}

/* --- what the D-Bus API may ask --- */

static ScandConfig *bus_get_config(gpointer daemon) {
  return daemon_get_config(daemon);
}

static char *bus_start_scan(gpointer daemon, const char *device, const char *profile, const char *owner_uid,
                            GError **error) {
  return daemon_start_scan(daemon, device, profile, "dbus", owner_uid, error);
}

static gboolean bus_cancel_job(gpointer daemon, const char *id, GError **error) {
  return daemon_cancel_job(daemon, id, error);
}

static void bus_retry_job(gpointer daemon, const char *id) {
  daemon_retry_job(daemon, id);
}

static void bus_name_lost(gpointer data) {
  ScandDaemon *daemon = data;
  daemon->exit_status = 1;
  g_main_loop_quit(daemon->loop);
}

static GVariant *bus_list_panels(gpointer service) {
  ScandDaemon *daemon = service;
  return scand_panels_describe(daemon->panels);
}

static const ScandBusService bus_service = {
  .get_config = bus_get_config,
  .start_scan = bus_start_scan,
  .cancel_job = bus_cancel_job,
  .retry_job = bus_retry_job,
  .list_panels = bus_list_panels,
  .name_lost = bus_name_lost,
};

/* --- what the web page may ask --- */

#if SCAND_HAVE_WEB
static char *web_start_scan(gpointer daemon, const char *scanner, const char *profile, GError **error) {
  return daemon_start_scan(daemon, scanner, profile, "web", NULL, error);
}

static gboolean web_cancel_job(gpointer daemon, const char *id, GError **error) {
  return daemon_cancel_job(daemon, id, error);
}

static void web_retry_job(gpointer daemon, const char *id) {
  daemon_retry_job(daemon, id);
}

static gboolean web_device_busy(gpointer daemon, const char *uri) {
  return daemon_device_busy(daemon, uri);
}

/* Starts, restarts (its settings changed) or stops the web page. A web page
 * that cannot start is logged and left off: the queue goes on. */
static void web_setup(ScandDaemon *daemon) {
  if (daemon->web && !scand_web_config_changed(daemon->web, daemon->config))
    return;
  g_clear_pointer(&daemon->web, scand_web_free);
  const ScandWebHost host = {
    .user_data = daemon,
    .spool = daemon->spool,
    .get_config = bus_get_config,
    .start_scan = web_start_scan,
    .cancel_job = web_cancel_job,
    .retry_job = web_retry_job,
    .device_busy = web_device_busy,
  };
  g_autoptr(GError) error = NULL;
  daemon->web = scand_web_new(&host, daemon->config, &error);
  if (error)
    scand_log("web: %s; the page is off", error->message);
}
#endif

int scand_daemon_run(ScandDaemon *daemon) {
  g_unix_signal_add(SIGHUP, on_sighup, daemon);
  g_unix_signal_add(SIGTERM, on_sigterm, daemon);
  g_unix_signal_add(SIGINT, on_sigterm, daemon);
  scand_signal_guard_lock();
  if (daemon->options.bus != G_BUS_TYPE_NONE)
    daemon->bus = scand_daemon_bus_new(daemon->options.bus, daemon->spool, &bus_service, daemon);
  setup_sources(daemon);
#if SCAND_HAVE_WEB
  web_setup(daemon);
#endif
  /* Whatever a crash or reboot left in the spool goes first. */
  on_queue_timer(daemon);
  gint64 interval = daemon->options.queue_interval_ms > 0 ? daemon->options.queue_interval_ms : 5000;
  daemon->queue_timer = g_timeout_add((guint) interval, on_queue_timer, daemon);
  guint64 watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0)
    daemon->watchdog_timer = g_timeout_add((guint) (watchdog_usec / 2000), on_watchdog, daemon);
  scand_log("ready (spool %s)", scand_spool_get_dir(daemon->spool));
  sd_notify(0, "READY=1\nSTATUS=idle");
  g_main_loop_run(daemon->loop);

  g_clear_handle_id(&daemon->queue_timer, g_source_remove);
  g_clear_handle_id(&daemon->watchdog_timer, g_source_remove);
  g_clear_pointer(&daemon->watcher, scand_watcher_free);
  g_clear_pointer(&daemon->autoscan, scand_autoscan_free);
  /* Sessions end (421) before the queue they hand mail to. */
  g_clear_pointer(&daemon->intake, scand_mail_intake_free);
  /* Devices stop listing us on their panels. */
  g_clear_pointer(&daemon->panels, scand_panels_free);
  g_clear_pointer(&daemon->metrics, scand_metrics_endpoint_free);
  /* Let the scan under way finish its page and the queue its delivery. */
  g_thread_pool_free(g_steal_pointer(&daemon->scan_pool), FALSE, TRUE);
  g_thread_pool_free(g_steal_pointer(&daemon->queue_pool), TRUE, TRUE);
  /* Deliver the last signals. */
  while (g_main_context_iteration(NULL, FALSE))
    ;
#if SCAND_HAVE_WEB
  g_clear_pointer(&daemon->web, scand_web_free);
#endif
  g_clear_pointer(&daemon->bus, scand_daemon_bus_free);
  scand_log("stopped");
  return daemon->exit_status;
}

void scand_daemon_free(ScandDaemon *daemon) {
  if (!daemon)
    return;
  if (daemon->scan_pool)
    g_thread_pool_free(daemon->scan_pool, TRUE, TRUE);
  if (daemon->queue_pool)
    g_thread_pool_free(daemon->queue_pool, TRUE, TRUE);
  scand_mail_intake_free(daemon->intake);
  scand_watcher_free(daemon->watcher);
  scand_panels_free(daemon->panels);
  scand_metrics_endpoint_free(daemon->metrics);
  scand_daemon_bus_free(daemon->bus);
#if SCAND_HAVE_WEB
  scand_web_free(daemon->web);
#endif
  scand_heartbeat_free(daemon->queue_heartbeat);
  scand_heartbeat_free(daemon->scan_heartbeat);
  g_free(daemon->stalled);
  scand_autoscan_free(daemon->autoscan);
  scand_config_free(daemon->config);
  scand_spool_free(daemon->spool);
  if (daemon->loop)
    g_main_loop_unref(daemon->loop);
  g_free(daemon->config_path);
  g_free(daemon);
}
