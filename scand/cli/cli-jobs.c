/* scand jobs, resume, retry, cancel: the spool from the command line. */
#include "scand/cli/cli.h"
#include "scand/base/error.h"
#include "scand/core/job-run.h"
#include "scand/core/job.h"

#include <stdio.h>

typedef struct {
  char *config_path;
  char *spool;
} SpoolArgs;

static void spool_args_clear(SpoolArgs *a) {
  g_free(a->config_path);
  g_free(a->spool);
}

#define SPOOL_ENTRIES(a)                                                                                               \
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &(a).config_path, "Configuration file", "FILE" }, {                       \
    "spool", 0, 0, G_OPTION_ARG_FILENAME, &(a).spool, "Spool directory", "DIR"                                         \
  }

int scand_cli_jobs(int argc, char **argv) {
  __attribute__((cleanup(spool_args_clear))) SpoolArgs a = { 0 };
  GOptionEntry entries[] = { SPOOL_ENTRIES(a), { NULL } };
  int status;
  if (!scand_cli_parse("jobs", NULL,
                       "Shows each job in the spool: stage, pages, and per destination its state, "
                       "attempts and last error.",
                       entries, &argc, &argv, &status))
    return status;
  g_autoptr(ScandCliContext) ctx = scand_cli_context_new("jobs", a.config_path, a.spool);
  if (!ctx)
    return SCAND_EXIT_FAILED;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = scand_spool_list_jobs(ctx->spool, &error);
  if (!ids) {
    scand_cli_error("jobs", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  for (guint i = 0; ids[i]; i++) {
    g_autoptr(GError) local = NULL;
    g_autoptr(ScandJob) job = scand_job_peek(ctx->spool, ids[i], &local);
    if (!job) {
      printf("%s  unreadable: %s\n", ids[i], local->message);
      continue;
    }
    const char *interrupted = scand_job_get(job, "interrupted");
    printf("%s  %-9s  %u pages  %s%s%s\n", ids[i], scand_job_stage_to_string(scand_job_get_stage(job)),
           scand_job_count_pages(job), scand_job_get(job, "device") ? scand_job_get(job, "device") : "-",
           interrupted ? "  (" : "", interrupted ? interrupted : "");
    if (interrupted)
      printf(")\n");
    for (guint d = 0; d < scand_job_get_n_destinations(job); d++) {
      const char *err = scand_job_get_destination_error(job, d);
      printf("    → %-20s %-8s attempts %" G_GINT64_FORMAT "%s%s\n", scand_job_get_destination_name(job, d),
             scand_dest_state_to_string(scand_job_get_destination_state(job, d)),
             scand_job_get_destination_attempts(job, d), err ? "  last error: " : "", err ? err : "");
    }
  }
  return SCAND_EXIT_OK;
}

int scand_cli_resume(int argc, char **argv) {
  __attribute__((cleanup(spool_args_clear))) SpoolArgs a = { 0 };
  GOptionEntry entries[] = { SPOOL_ENTRIES(a), { NULL } };
  int status;
  if (!scand_cli_parse("resume", NULL,
                       "Finishes every interrupted or queued job in the spool now: assembles "
                       "pages that have no PDF yet and delivers PDFs that are not delivered.",
                       entries, &argc, &argv, &status))
    return status;
  g_autoptr(ScandCliContext) ctx = scand_cli_context_new("resume", a.config_path, a.spool);
  if (!ctx)
    return SCAND_EXIT_FAILED;
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
  guint failed = 0;
  guint left = scand_spool_resume_all(ctx->spool, TRUE, messages, &failed);
  for (guint i = 0; i < messages->len; i++)
    scand_cli_error("resume", "%s", (const char *) messages->pdata[i]);
  if (failed > 0) {
    scand_cli_error("resume", "%u jobs failed and are kept in the spool (scand jobs; scand retry JOB)", failed);
    return SCAND_EXIT_FAILED;
  }
  if (left > 0) {
    scand_cli_error("resume", "%u jobs are still waiting for their destination (scand jobs)", left);
    return SCAND_EXIT_QUEUED;
  }
  return SCAND_EXIT_OK;
}

static int job_command(const char *command, const char *summary, gboolean cancel, int argc, char **argv) {
  __attribute__((cleanup(spool_args_clear))) SpoolArgs a = { 0 };
  GOptionEntry entries[] = { SPOOL_ENTRIES(a), { NULL } };
  int status;
  if (!scand_cli_parse(command, "JOB", summary, entries, &argc, &argv, &status))
    return status;
  if (argc != 2) {
    scand_cli_error(command, "expected one job id (see scand jobs)");
    return SCAND_EXIT_USAGE;
  }
  g_autoptr(ScandCliContext) ctx = scand_cli_context_new(command, a.config_path, a.spool);
  if (!ctx)
    return SCAND_EXIT_FAILED;
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) job = scand_job_open(ctx->spool, argv[1], &error);
  if (!job) {
    scand_cli_error(command, "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  if (cancel) {
    if (!scand_job_remove(job, &error)) {
      scand_cli_error(command, "%s", error->message);
      return SCAND_EXIT_FAILED;
    }
    printf("job %s cancelled\n", argv[1]);
    return SCAND_EXIT_OK;
  }
  /* Retry: delivery attempts every destination that is not done, so a failed
   * job only needs to leave the FAILED stage. */
  if (scand_job_get_stage(job) == SCAND_JOB_FAILED && !scand_job_set_stage(job, SCAND_JOB_ASSEMBLED, &error)) {
    scand_cli_error(command, "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
  ScandDeliveryResult r = scand_job_run_resume(job, messages, &error);
  for (guint i = 0; i < messages->len; i++)
    scand_cli_error(command, "%s", (const char *) messages->pdata[i]);
  if (error)
    scand_cli_error(command, "%s", error->message);
  return r == SCAND_DELIVERY_DONE ? SCAND_EXIT_OK : r == SCAND_DELIVERY_RETRY ? SCAND_EXIT_QUEUED : SCAND_EXIT_FAILED;
}

int scand_cli_retry(int argc, char **argv) {
  return job_command("retry", "Tries the job's undelivered destinations again now.", FALSE, argc, argv);
}

int scand_cli_cancel(int argc, char **argv) {
  return job_command("cancel", "Drops a job and its pages from the spool.", TRUE, argc, argv);
}
