/* scand scan. */
#include "backends/backend.h"
#include "rules/rules.h"
#include "scand/cli/cli.h"
#include "scand/base/error.h"
#include "scand/core/job-run.h"
#include "scand/core/job.h"
#include "scand/core/scan-plan.h"
#include "scand/core/scan-session.h"
#include "scand/base/http.h"
#include "scand/base/signal-guard.h"

#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* `scand list` lives in cli-list.c. */

/* --- scand scan --- */

static ScandScanner *volatile current_scanner;

static void on_signal(int signo) {
  (void) signo;
  /* sane_cancel() and the eSCL backend's cancel are safe here: they only set
   * flags or send a cancel the read loop then sees. */
  if (current_scanner)
    scand_scanner_cancel(current_scanner);
  /* Any network transfer still running in 2 s (a delivery, a device that
   * does not let go) is cut; the job stays in the spool. Async-signal-safe. */
  scand_http_stop_all(2000);
}

typedef struct {
  char *device;
  char *profile;
  char *source;
  char *mode;
  int resolution;
  gboolean duplex;
  int pages;
  char **to;
  char **options;
  char *name;
  char *config_path;
  char *spool;
  gboolean quiet;
  gboolean no_daemon;
} ScanArgs;

static void scan_args_clear(ScanArgs *a) {
  g_free(a->device);
  g_free(a->profile);
  g_free(a->source);
  g_free(a->mode);
  g_strfreev(a->to);
  g_strfreev(a->options);
  g_free(a->name);
  g_free(a->config_path);
  g_free(a->spool);
}

/* Prints where each finished destination put the file. */
static void print_delivered(ScandJob *job) {
  g_autoptr(GPtrArray) places = g_ptr_array_new_with_free_func(g_free);
  scand_job_list_delivered(job, places);
  for (guint i = 0; i < places->len; i++)
    printf("%s\n", (const char *) places->pdata[i]);
  fflush(stdout);
}

/* Prints where a delivered job went and what did not work, and turns the
 * outcome into an exit status. */
static int report_delivery(const char *command, ScandJob *job, ScandDeliveryResult r, GPtrArray *messages) {
  print_delivered(job);
  for (guint i = 0; i < messages->len; i++)
    scand_cli_error(command, "%s", (const char *) messages->pdata[i]);
  switch (r) {
    case SCAND_DELIVERY_DONE:
      return SCAND_EXIT_OK;
    case SCAND_DELIVERY_RETRY:
      scand_cli_error(command,
                      "job %s is queued in the spool and will be delivered when the destination is back "
                      "(scand resume, or the daemon)",
                      scand_job_get_id(job));
      return SCAND_EXIT_QUEUED;
    case SCAND_DELIVERY_FAILED:
      scand_cli_error(command, "job %s is kept in the spool (scand jobs; scand retry %s)", scand_job_get_id(job),
                      scand_job_get_id(job));
      return SCAND_EXIT_FAILED;
  }
  return SCAND_EXIT_FAILED;
}

/* Delivers an assembled job and turns the outcome into an exit status. */
int scand_cli_finish_job(ScandCliContext *ctx, ScandJob *job) {
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  ScandDeliveryResult r = scand_job_run_deliver(job, &ctx->retry, messages, &error);
  if (error)
    g_ptr_array_add(messages, g_strdup(error->message));
  return report_delivery(ctx->command, job, r, messages);
}

/* Finishes what earlier runs left in the spool before starting anything new. */
void scand_cli_resume_pending(ScandCliContext *ctx, gboolean force) {
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
  scand_spool_resume_all(ctx->spool, &ctx->retry, force, messages, NULL);
  for (guint i = 0; i < messages->len; i++)
    scand_cli_error(ctx->command, "%s", (const char *) messages->pdata[i]);
}

/* --- through a running daemon --- */

typedef struct {
  GMainLoop *loop;
  char *job_path;
  gboolean quiet;
  int status;
  gboolean finished;
} DaemonScan;

static void on_daemon_signal(GDBusConnection *connection, const char *sender, const char *path, const char *interface,
                             const char *signal, GVariant *parameters, gpointer user_data) {
  DaemonScan *ds = user_data;
  const char *job_path = NULL;
  g_variant_get_child(parameters, 0, "&o", &job_path);
  if (!ds->job_path || g_strcmp0(job_path, ds->job_path) != 0)
    return;
  if (strcmp(signal, "JobProgress") == 0) {
    const char *stage;
    guint pages;
    g_variant_get(parameters, "(&o&s&su)", NULL, NULL, &stage, &pages);
    if (!ds->quiet && strcmp(stage, "page-saved") == 0)
      fprintf(stderr, "scand: page %u saved\n", pages);
    return;
  }
  const char *result;
  g_autoptr(GVariant) delivered = NULL, errors = NULL;
  g_variant_get(parameters, "(&o&s&s@as@as)", NULL, NULL, &result, &delivered, &errors);
  GVariantIter iter;
  const char *line;
  g_variant_iter_init(&iter, delivered);
  while (g_variant_iter_next(&iter, "&s", &line))
    printf("%s\n", line);
  g_variant_iter_init(&iter, errors);
  while (g_variant_iter_next(&iter, "&s", &line))
    scand_cli_error("scan", "%s", line);
  ds->status = strcmp(result, "done") == 0      ? SCAND_EXIT_OK
               : strcmp(result, "queued") == 0  ? SCAND_EXIT_QUEUED
               : strcmp(result, "partial") == 0 ? SCAND_EXIT_PARTIAL
                                                : SCAND_EXIT_FAILED;
  ds->finished = TRUE;
  g_main_loop_quit(ds->loop);
}

/* The bus a daemon serves on, if one runs: the session's, else the system's. */
static GDBusConnection *find_daemon(void) {
  static const GBusType buses[] = { G_BUS_TYPE_SESSION, G_BUS_TYPE_SYSTEM };
  for (guint i = 0; i < G_N_ELEMENTS(buses); i++) {
    g_autoptr(GDBusConnection) c = g_bus_get_sync(buses[i], NULL, NULL);
    if (!c)
      continue;
    g_autoptr(GVariant) owned = g_dbus_connection_call_sync(
        c, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
        g_variant_new("(s)", "org.scand.Daemon1"), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, 2000, NULL, NULL);
    gboolean has = FALSE;
    if (owned)
      g_variant_get(owned, "(b)", &has);
    if (has)
      return g_steal_pointer(&c);
  }
  return NULL;
}

/* Runs the scan in the daemon (which owns the scanner and the spool) and
 * follows it to the end. Returns -1 when no daemon runs. */
static int scan_via_daemon(ScanArgs *a) {
  g_autoptr(GDBusConnection) c = find_daemon();
  if (!c)
    return -1;
  DaemonScan ds = { .loop = g_main_loop_new(NULL, FALSE), .quiet = a->quiet, .status = SCAND_EXIT_FAILED };
  guint sub =
      g_dbus_connection_signal_subscribe(c, "org.scand.Daemon1", "org.scand.Daemon1", NULL, "/org/scand/Daemon1", NULL,
                                         G_DBUS_SIGNAL_FLAGS_NONE, on_daemon_signal, &ds, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply =
      g_dbus_connection_call_sync(c, "org.scand.Daemon1", "/org/scand/Daemon1", "org.scand.Daemon1", "Scan",
                                  g_variant_new("(ss)", a->device ? a->device : "", a->profile ? a->profile : ""),
                                  G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (!reply) {
    g_dbus_error_strip_remote_error(error);
    scand_cli_error("scan", "%s", error->message);
  } else {
    g_variant_get(reply, "(o)", &ds.job_path);
    if (!a->quiet)
      fprintf(stderr, "scand: scanning through the running daemon (job %s)\n", ds.job_path);
    g_main_loop_run(ds.loop);
  }
  g_dbus_connection_signal_unsubscribe(c, sub);
  g_main_loop_unref(ds.loop);
  g_free(ds.job_path);
  return ds.status;
}

/* What `scand scan` tells the person while the scan session runs. */
typedef struct {
  gboolean quiet;
  int status; /* the worst exit status of the documents so far */
} CliSession;

static void session_progress(gpointer user_data, const char *stage, guint page, guint64 bytes) {
  CliSession *cs = user_data;
  if (cs->quiet)
    return;
  if (strcmp(stage, "page-saved") == 0)
    fprintf(stderr, "scand: page %u: %" G_GUINT64_FORMAT " bytes\n", page, bytes);
  else if (strcmp(stage, "scanning") == 0 && bytes == 0)
    fprintf(stderr, "scand: scanning page %u…\n", page);
  else if (strcmp(stage, "assembling") == 0)
    fprintf(stderr, "scand: assembling %u pages…\n", page);
}

/* The signal handler cancels the scanner the session has open. */
static void session_scanner(gpointer user_data, ScandScanner *scanner) {
  current_scanner = scanner;
}

static void session_document(gpointer user_data, ScandJob *job, ScandDeliveryResult r, GPtrArray *messages) {
  CliSession *cs = user_data;
  int status = SCAND_EXIT_FAILED;
  if (job) {
    const char *notes = scand_job_get(job, "page-notes");
    if (notes && !cs->quiet)
      fprintf(stderr, "scand: %s\n", notes);
    status = report_delivery("scan", job, r, messages);
  } else {
    for (guint i = 0; i < messages->len; i++)
      scand_cli_error("scan", "%s", (const char *) messages->pdata[i]);
  }
  cs->status =
      cs->status == SCAND_EXIT_FAILED || status == SCAND_EXIT_FAILED ? SCAND_EXIT_FAILED : MAX(cs->status, status);
}

/* The exit status of a session: the documents', the jam policy's (the pages
 * before the problem were delivered: say where to pick up), or why nothing
 * was delivered. */
static int session_status(CliSession *cs, ScandJob *job, const ScandSessionOutcome *out) {
  if (out->result == SCAND_SESSION_FAILED && out->scan_error && !out->interrupted) {
    /* The device did not open, or not a single page came. */
    scand_cli_error("scan", "%s", out->scan_error->message);
    return SCAND_EXIT_FAILED;
  }
  int result = cs->status;
  if (out->error) {
    scand_cli_error("scan", "%s (the pages are kept in job %s)", out->error->message, scand_job_get_id(job));
    result = SCAND_EXIT_FAILED;
  }
  if (!out->interrupted)
    return result;
  scand_cli_error("scan", "%s; the %u pages scanned before it were %s", out->scan_error->message, out->pages,
                  result == SCAND_EXIT_OK ? "delivered" : "kept");
  return result == SCAND_EXIT_OK ? SCAND_EXIT_PARTIAL : result;
}

/* Scans here, without the daemon: the request from a, the one scan session
 * with this terminal's progress and Ctrl-C; returns the exit status. */
static int scan_here(ScanArgs *a) {
  g_autoptr(ScandCliContext) ctx = scand_cli_context_new("scan", a->config_path, a->spool);
  if (!ctx)
    return SCAND_EXIT_FAILED;
  scand_cli_resume_pending(ctx, FALSE);

  g_autoptr(GError) error = NULL;
  ScandScanRequest request = {
    .device = a->device,
    .profile = a->profile,
    .source = a->source,
    .mode = a->mode,
    .resolution = a->resolution,
    .duplex = a->duplex,
    .pages = a->pages,
    .options = (const char *const *) a->options,
    .name_template = a->name,
    .trigger = "cli",
    .to = (const char *const *) a->to,
  };
  g_autoptr(ScandScanPlan) plan = scand_scan_plan_new(ctx->config, &request, &error);
  if (!plan) {
    scand_cli_error("scan", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  g_autoptr(ScandJob) job = scand_scan_plan_create_job(plan, ctx->config, ctx->spool, &error);
  if (!job) {
    scand_cli_error("scan", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }

  struct sigaction sa = { .sa_handler = on_signal };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  scand_signal_guard_lock();
  CliSession cs = { .quiet = a->quiet, .status = SCAND_EXIT_OK };
  const ScandSessionHooks hooks = {
    .user_data = &cs,
    .progress = session_progress,
    .scanner = session_scanner,
    .document = session_document,
  };
  ScandSessionOutcome out;
  scand_scan_session_run(plan, ctx->config, ctx->spool, job, &ctx->retry, &hooks, &out);
  int status = session_status(&cs, job, &out);
  scand_session_outcome_clear(&out);
  return status;
}

int scand_cli_scan(int argc, char **argv) {
  __attribute__((cleanup(scan_args_clear))) ScanArgs a = { 0 };
  GOptionEntry entries[] = {
    { "device", 'd', 0, G_OPTION_ARG_STRING, &a.device, "Scanner: a [scanner] name or a URI (sane:…, escl:…)",
      "DEVICE" },
    { "profile", 'p', 0, G_OPTION_ARG_STRING, &a.profile, "Settings from [profile NAME]", "NAME" },
    { "source", 's', 0, G_OPTION_ARG_STRING, &a.source, "flatbed, feeder or auto", "SOURCE" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &a.mode, "color, gray or lineart", "MODE" },
    { "resolution", 'r', 0, G_OPTION_ARG_INT, &a.resolution, "Resolution in dpi", "DPI" },
    { "duplex", 0, 0, G_OPTION_ARG_NONE, &a.duplex, "Scan both sides (feeder)", NULL },
    { "pages", 'n', 0, G_OPTION_ARG_INT, &a.pages, "Stop after N pages (default: until the feeder is empty)", "N" },
    { "to", 't', 0, G_OPTION_ARG_STRING_ARRAY, &a.to,
      "Deliver to an [output] name, a directory, smb://…, usb:LABEL or print:QUEUE (repeatable; overrides the rules)",
      "DEST" },
    { "option", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &a.options, "Device option name=value (repeatable)", "NAME=VALUE" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &a.name, "File name template (default from the rule)", "TEMPLATE" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &a.config_path, "Configuration file", "FILE" },
    { "spool", 0, 0, G_OPTION_ARG_FILENAME, &a.spool, "Spool directory", "DIR" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &a.quiet, "No progress lines", NULL },
    { "no-daemon", 0, 0, G_OPTION_ARG_NONE, &a.no_daemon, "Scan here even if a scand daemon is running", NULL },
    { NULL },
  };
  int status;
  if (!scand_cli_parse("scan", NULL, "Scans a document and delivers it as a PDF where the rules (or --to) say.",
                       entries, &argc, &argv, &status))
    return status;
  if (argc > 1) {
    scand_cli_error("scan", "unexpected argument \"%s\" (try scand scan --help)", argv[1]);
    return SCAND_EXIT_USAGE;
  }
  /* A running daemon owns the scanners and the spool: hand it the scan when
   * the request is one it can take (device and profile only). */
  gboolean plain =
      !a.source && !a.mode && !a.resolution && !a.duplex && !a.pages && !a.to && !a.options && !a.name && !a.spool;
  if (plain && !a.no_daemon) {
    int via_daemon = scan_via_daemon(&a);
    if (via_daemon >= 0)
      return via_daemon;
  }
  return scan_here(&a);
}
