/* scand scan, scand list. */
#include "backends/backend.h"
#include "rules/rules.h"
#include "scand/cli.h"
#include "scand/error.h"
#include "scand/job-run.h"
#include "scand/job.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* --- scand list --- */

int scand_cli_list(int argc, char **argv) {
  char *config_path = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { NULL },
  };
  int status;
  if (!scand_cli_parse("list", NULL, "Lists the scanners scand can reach: configured ones first, then found ones.",
                       entries, &argc, &argv, &status))
    return status;
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = scand_config_load(config_path, &error);
  g_free(config_path);
  if (!config) {
    scand_cli_error("list", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  g_auto(GStrv) scanners = scand_config_list_sections(config, "scanner");
  for (guint i = 0; scanners && scanners[i]; i++)
    printf("%-28s %s  (configured as [scanner %s])\n", scand_config_get(config, "scanner", scanners[i], "device"),
           scanners[i], scanners[i]);
  g_autoptr(GPtrArray) devices = scand_backend_list_devices();
  for (guint i = 0; i < devices->len; i++) {
    ScandDeviceInfo *d = devices->pdata[i];
    printf("%-28s %s %s (%s)\n", d->uri, d->vendor ? d->vendor : "", d->model ? d->model : "", d->type ? d->type : "");
  }
  if (devices->len == 0 && (!scanners || !scanners[0])) {
    scand_cli_error("list", "no scanner found (check the cable or network, or SANE_CONFIG_DIR)");
    return SCAND_EXIT_FAILED;
  }
  return SCAND_EXIT_OK;
}

/* --- scand scan --- */

static ScandScanner *volatile current_scanner;

static void on_signal(int signo) {
  (void) signo;
  /* sane_cancel() and the eSCL backend's cancel are safe here: they only set
   * flags or send a cancel the read loop then sees. */
  if (current_scanner)
    scand_scanner_cancel(current_scanner);
}

static void print_progress(const char *stage, guint page, guint64 bytes, gpointer user_data) {
  gboolean quiet = GPOINTER_TO_INT(user_data);
  if (quiet)
    return;
  if (strcmp(stage, "page-saved") == 0)
    fprintf(stderr, "scand: page %u: %" G_GUINT64_FORMAT " bytes\n", page, bytes);
  else if (strcmp(stage, "scanning") == 0 && bytes == 0)
    fprintf(stderr, "scand: scanning page %u…\n", page);
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

/* The [scanner] section for --device (a section name or a URI), or the first one. */
static char *find_scanner_section(ScandConfig *config, const char *device) {
  g_auto(GStrv) names = scand_config_list_sections(config, "scanner");
  for (guint i = 0; names && names[i]; i++) {
    if (!device)
      return g_strdup(names[i]);
    if (strcmp(names[i], device) == 0 || g_strcmp0(scand_config_get(config, "scanner", names[i], "device"), device) == 0)
      return g_strdup(names[i]);
  }
  return NULL;
}

static gboolean profile_get_string(ScandConfig *config, const char *profile, const char *key, const char **out) {
  const char *v = profile ? scand_config_get(config, "profile", profile, key) : NULL;
  if (v)
    *out = v;
  return v != NULL;
}

static gboolean build_settings(ScandConfig *config, const char *profile, const char *scanner_section, ScanArgs *a,
                               ScandScanSettings *s, GError **error) {
  memset(s, 0, sizeof *s);
  const char *v;
  if (profile && !scand_config_has_section(config, "profile", profile)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "no [profile %s] in the configuration", profile);
    return FALSE;
  }
  const char *source = a->source;
  if (!source && profile_get_string(config, profile, "source", &v))
    source = v;
  if (source && !scand_source_from_string(source, &s->source)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "source \"%s\": expected flatbed, feeder or auto", source);
    return FALSE;
  }
  const char *mode = a->mode;
  if (!mode && profile_get_string(config, profile, "mode", &v))
    mode = v;
  if (mode && !scand_color_mode_from_string(mode, &s->mode)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "mode \"%s\": expected color, gray or lineart", mode);
    return FALSE;
  }
  gint64 n;
  if (profile) {
    if (!scand_config_get_int(config, "profile", profile, "resolution", 0, &n, error))
      return FALSE;
    s->resolution = (int) n;
    if (!scand_config_get_int(config, "profile", profile, "pages", 0, &n, error))
      return FALSE;
    s->max_pages = (guint) n;
    if (!scand_config_get_bool(config, "profile", profile, "duplex", FALSE, &s->duplex, error))
      return FALSE;
    static const char *const area_keys[] = { "area-x", "area-y", "area-width", "area-height" };
    double *area[] = { &s->x, &s->y, &s->width, &s->height };
    for (guint i = 0; i < G_N_ELEMENTS(area_keys); i++) {
      if (!scand_config_get_int(config, "profile", profile, area_keys[i], 0, &n, error))
        return FALSE;
      *area[i] = (double) n;
    }
  }
  if (a->resolution > 0)
    s->resolution = a->resolution;
  if (a->pages > 0)
    s->max_pages = (guint) a->pages;
  if (a->duplex)
    s->duplex = TRUE;
  g_autoptr(GStrvBuilder) extra = g_strv_builder_new();
  const char *sane_options = scanner_section ? scand_config_get(config, "scanner", scanner_section, "sane-options") : NULL;
  if (sane_options) {
    g_auto(GStrv) parts = g_strsplit(sane_options, ";", -1);
    for (guint i = 0; parts[i]; i++) {
      g_strstrip(parts[i]);
      if (*parts[i])
        g_strv_builder_add(extra, parts[i]);
    }
  }
  for (guint i = 0; a->options && a->options[i]; i++)
    g_strv_builder_add(extra, a->options[i]);
  s->extra_options = g_strv_builder_end(extra);
  return TRUE;
}

static void set_job_facts(ScandJob *job, ScandConfig *config, const char *profile, const ScandScanSettings *s) {
  scand_job_set(job, "source", scand_source_to_string(s->source));
  scand_job_set(job, "mode", scand_color_mode_to_string(s->mode));
  scand_job_set(job, "duplex", s->duplex ? "true" : "false");
  scand_job_set_int(job, "resolution", s->resolution);
  if (!profile)
    return;
  scand_job_set(job, "profile", profile);
  static const char *const copied[] = { "jpeg-quality", "lossless", "pdfa", "title" };
  for (guint i = 0; i < G_N_ELEMENTS(copied); i++) {
    const char *v = scand_config_get(config, "profile", profile, copied[i]);
    if (v)
      scand_job_set(job, copied[i], v);
  }
}

/* Prints where each finished destination put the file. */
static void print_delivered(ScandJob *job) {
  for (guint i = 0; i < scand_job_get_n_destinations(job); i++) {
    if (scand_job_get_destination_state(job, i) != SCAND_DEST_DONE)
      continue;
    ScandDelivery *d = scand_job_get_delivery(job, i);
    const char *where = scand_delivery_get_state(d, "delivered");
    if (where)
      printf("%s\n", where);
    else
      printf("%s: %s\n", scand_job_get_destination_name(job, i), scand_delivery_get_name(d));
  }
  fflush(stdout);
}

/* Delivers an assembled job and turns the outcome into an exit status. */
int scand_cli_finish_job(const char *command, ScandJob *job) {
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  ScandDeliveryResult r = scand_job_run_deliver(job, messages, &error);
  print_delivered(job);
  for (guint i = 0; i < messages->len; i++)
    scand_cli_error(command, "%s", (const char *) messages->pdata[i]);
  if (error)
    scand_cli_error(command, "%s", error->message);
  switch (r) {
  case SCAND_DELIVERY_DONE:
    return SCAND_EXIT_OK;
  case SCAND_DELIVERY_RETRY:
    scand_cli_error(command, "job %s is queued in the spool and will be delivered when the destination is back "
                             "(scand resume, or the daemon)", scand_job_get_id(job));
    return SCAND_EXIT_QUEUED;
  case SCAND_DELIVERY_FAILED:
    scand_cli_error(command, "job %s is kept in the spool (scand jobs; scand retry %s)", scand_job_get_id(job),
                    scand_job_get_id(job));
    return SCAND_EXIT_FAILED;
  }
  return SCAND_EXIT_FAILED;
}

/* Finishes what earlier runs left in the spool before starting anything new. */
void scand_cli_resume_pending(ScandCliContext *ctx, gboolean force) {
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
  scand_spool_resume_all(ctx->spool, force, messages);
  for (guint i = 0; i < messages->len; i++)
    scand_cli_error(ctx->command, "%s", (const char *) messages->pdata[i]);
}

int scand_cli_scan(int argc, char **argv) {
  __attribute__((cleanup(scan_args_clear))) ScanArgs a = { 0 };
  GOptionEntry entries[] = {
    { "device", 'd', 0, G_OPTION_ARG_STRING, &a.device, "Scanner: a [scanner] name or a URI (sane:…, escl:…)", "DEVICE" },
    { "profile", 'p', 0, G_OPTION_ARG_STRING, &a.profile, "Settings from [profile NAME]", "NAME" },
    { "source", 's', 0, G_OPTION_ARG_STRING, &a.source, "flatbed, feeder or auto", "SOURCE" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &a.mode, "color, gray or lineart", "MODE" },
    { "resolution", 'r', 0, G_OPTION_ARG_INT, &a.resolution, "Resolution in dpi", "DPI" },
    { "duplex", 0, 0, G_OPTION_ARG_NONE, &a.duplex, "Scan both sides (feeder)", NULL },
    { "pages", 'n', 0, G_OPTION_ARG_INT, &a.pages, "Stop after N pages (default: until the feeder is empty)", "N" },
    { "to", 't', 0, G_OPTION_ARG_STRING_ARRAY, &a.to, "Deliver to an [output] name, a directory, smb://…, usb:LABEL or print:QUEUE (repeatable; overrides the rules)", "DEST" },
    { "option", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &a.options, "Device option name=value (repeatable)", "NAME=VALUE" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &a.name, "File name template (default from the rule)", "TEMPLATE" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &a.config_path, "Configuration file", "FILE" },
    { "spool", 0, 0, G_OPTION_ARG_FILENAME, &a.spool, "Spool directory", "DIR" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &a.quiet, "No progress lines", NULL },
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
  g_autoptr(ScandCliContext) ctx = scand_cli_context_new("scan", a.config_path, a.spool);
  if (!ctx)
    return SCAND_EXIT_FAILED;
  scand_cli_resume_pending(ctx, FALSE);

  g_autoptr(GError) error = NULL;
  g_autofree char *section = find_scanner_section(ctx->config, a.device);
  g_autofree char *uri = NULL;
  if (section)
    uri = g_strdup(scand_config_get(ctx->config, "scanner", section, "device"));
  else if (a.device)
    uri = g_strdup(a.device);
  else {
    g_autoptr(GPtrArray) devices = scand_backend_list_devices();
    if (devices->len == 0) {
      scand_cli_error("scan", "no scanner found: name one with --device, or check the cable, network or SANE setup");
      return SCAND_EXIT_FAILED;
    }
    uri = g_strdup(((ScandDeviceInfo *) devices->pdata[0])->uri);
  }
  if (!uri) {
    scand_cli_error("scan", "[scanner %s] has no device", section);
    return SCAND_EXIT_FAILED;
  }
  const char *profile = a.profile;
  if (!profile && section)
    profile = scand_config_get(ctx->config, "scanner", section, "profile");

  ScandScanSettings settings;
  if (!build_settings(ctx->config, profile, section, &a, &settings, &error)) {
    scand_cli_error("scan", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  g_auto(GStrv) extra = settings.extra_options;

  ScandRuleFacts facts = { .source_kind = "scan", .device = uri, .profile = profile, .trigger = "cli" };
  g_autoptr(ScandRoute) route = scand_rules_route(ctx->config, &facts, &error);
  if (!route) {
    scand_cli_error("scan", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }

  ScandOpenOptions open_options = {
    .tls_pin = section ? scand_config_get(ctx->config, "scanner", section, "tls-pin") : NULL,
  };
  g_autoptr(ScandScanner) scanner = scand_scanner_open(uri, &open_options, &error);
  if (!scanner) {
    scand_cli_error("scan", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  const char *device_name = section && scand_config_get(ctx->config, "scanner", section, "name")
                                ? scand_config_get(ctx->config, "scanner", section, "name")
                            : section ? section
                                      : scand_scanner_get_name(scanner);

  g_autoptr(ScandJob) job = scand_job_create(ctx->spool, &error);
  guint seq = 0;
  if (!job || !scand_spool_next_seq(ctx->spool, &seq, &error)) {
    scand_cli_error("scan", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  scand_job_set(job, "device", uri);
  scand_job_set(job, "device-name", device_name);
  scand_job_set(job, "trigger", "cli");
  scand_job_set(job, "rule", route->rule);
  scand_job_set(job, "template", a.name ? a.name : route->name_template);
  scand_job_set_int(job, "seq", seq);
  set_job_facts(job, ctx->config, profile, &settings);
  if (!scand_job_apply_route(job, ctx->config, route, (const char *const *) a.to, &error)) {
    scand_cli_error("scan", "%s", error->message);
    scand_job_remove(job, NULL);
    return SCAND_EXIT_FAILED;
  }

  struct sigaction sa = { .sa_handler = on_signal };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  current_scanner = scanner;
  g_autoptr(GError) scan_error = NULL;
  gboolean scanned = scand_job_run_scan(job, scanner, &settings, print_progress, GINT_TO_POINTER(a.quiet), &scan_error);
  current_scanner = NULL;
  g_clear_pointer(&scanner, scand_scanner_close);
  if (!scanned && scand_job_get_stage(job) != SCAND_JOB_SCANNED) {
    /* Not a single page: nothing to deliver. */
    scand_cli_error("scan", "%s", scan_error->message);
    return SCAND_EXIT_FAILED;
  }
  if (!a.quiet)
    fprintf(stderr, "scand: assembling %u pages…\n", scand_job_count_pages(job));
  if (!scand_job_run_assemble(job, &error)) {
    scand_cli_error("scan", "%s (the pages are kept in job %s)", error->message, scand_job_get_id(job));
    return SCAND_EXIT_FAILED;
  }
  int result = scand_cli_finish_job("scan", job);
  if (!scanned) {
    /* The documented jam policy: pages before the problem are delivered, and the
     * person is told exactly where to pick up. */
    scand_cli_error("scan", "%s; the %" G_GINT64_FORMAT " pages scanned before it were %s", scan_error->message,
                    scand_job_get_int(job, "pages", 0), result == SCAND_EXIT_OK ? "delivered" : "kept");
    return result == SCAND_EXIT_OK ? SCAND_EXIT_PARTIAL : result;
  }
  return result;
}
