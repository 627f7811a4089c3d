/* What every `scand` command shares: config, spool, option parsing, errors. */
#include "scand/cli/cli.h"
#include "scand/base/error.h"
#include "scand/core/job-run.h"

#include <stdio.h>
#include <string.h>

void scand_cli_error(const char *command, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  /* One line, always: messages may carry text from devices and servers. */
  g_strdelimit(msg, "\r\n", ' ');
  fprintf(stderr, "scand %s: %s\n", command, msg);
}

gboolean scand_cli_parse(const char *command, const char *params, const char *summary, GOptionEntry *entries, int *argc,
                         char ***argv, int *status) {
  g_autoptr(GOptionContext) ctx = g_option_context_new(params);
  g_option_context_set_summary(ctx, summary);
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  /* GOption names the program in --help: make it "scand COMMAND". */
  g_autofree char *prgname = g_strdup_printf("scand %s", command);
  g_set_prgname(prgname);
  if (!g_option_context_parse(ctx, argc, argv, &error)) {
    scand_cli_error(command, "%s (try scand %s --help)", error->message, command);
    *status = SCAND_EXIT_USAGE;
    return FALSE;
  }
  return TRUE;
}

ScandCliContext *scand_cli_context_new(const char *command, const char *config_path, const char *spool_path) {
  g_autoptr(ScandCliContext) ctx = g_new0(ScandCliContext, 1);
  ctx->command = command;
  g_autoptr(GError) error = NULL;
  ctx->config = scand_config_load(config_path, &error);
  if (!ctx->config) {
    scand_cli_error(command, "%s", error->message);
    return NULL;
  }
  gint64 retry_min = 30, retry_max = 3600, retry_max_age = 7 * 24 * 3600;
  if (!scand_config_get_duration(ctx->config, "scand", NULL, "retry-min", 30, &retry_min, &error) ||
      !scand_config_get_duration(ctx->config, "scand", NULL, "retry-max", 3600, &retry_max, &error) ||
      !scand_config_get_duration(ctx->config, "scand", NULL, "retry-max-age", 7 * 24 * 3600, &retry_max_age, &error)) {
    scand_cli_error(command, "%s", error->message);
    return NULL;
  }
  scand_job_run_set_retry_policy(retry_min, retry_max, retry_max_age);
  g_autofree char *dir = spool_path ? g_strdup(spool_path) : scand_spool_default_dir(ctx->config);
  ctx->spool = scand_spool_open(dir, &error);
  if (!ctx->spool) {
    scand_cli_error(command, "spool: %s", error->message);
    return NULL;
  }
  return g_steal_pointer(&ctx);
}

void scand_cli_context_free(ScandCliContext *ctx) {
  if (!ctx)
    return;
  scand_config_free(ctx->config);
  scand_spool_free(ctx->spool);
  g_free(ctx);
}
