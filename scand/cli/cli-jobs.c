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

/* One job's lines; everything read from the spool goes through
 * scand_cli_printable(): a corrupt job file must not drive the terminal. */
/* A mail's line: who sent it to whom, what about, which attachment. */
static void mail_print(ScandJob *job) {
  g_autofree char *from = scand_cli_printable(scand_job_get(job, "mail-from"));
  g_autofree char *to = scand_cli_printable(scand_job_get(job, "mail-to"));
  g_autofree char *subject = scand_cli_printable(scand_job_get(job, "subject"));
  const char *att = scand_job_get(job, "attachment-file");
  g_autofree char *patt = att ? scand_cli_printable(att) : NULL;
  printf("    mail from <%s> to %s: \"%s\"%s%s%s\n", from, to, subject, patt ? " (" : "", patt ? patt : "",
         patt ? ")" : "");
}

static void job_print(ScandJob *job, const char *id) {
  g_autofree char *pid = scand_cli_printable(id);
  const ScandJobFacts *facts = scand_job_get_facts(job);
  gboolean mail = g_strcmp0(facts->source_kind, "mail") == 0;
  g_autofree char *via = mail ? g_strdup_printf("mail via %s", facts->intake) : NULL;
  const char *where = mail ? via : facts->device;
  g_autofree char *device = scand_cli_printable(where ? where : "-");
  const char *interrupted = facts->interrupted;
  g_autofree char *why = interrupted ? scand_cli_printable(interrupted) : NULL;
  /* A document taken whole (a mail, a watched file) has no page files. */
  guint pages = scand_job_count_pages(job);
  if (pages == 0)
    pages = (guint) scand_job_get_int(job, "pages", 0);
  printf("%s  %-9s  %u pages  %s%s%s%s%s\n", pid, scand_job_stage_to_string(scand_job_get_stage(job)), pages, device,
         why ? "  (" : "", why ? why : "", why ? ")" : "",
         scand_job_get_keep(job) ? "  (kept: holds its watched file until the file is moved away)" : "");
  if (mail)
    mail_print(job);
  for (guint d = 0; d < scand_job_get_n_destinations(job); d++) {
    const char *err = scand_job_get_destination_error(job, d);
    g_autofree char *name = scand_cli_printable(scand_job_get_destination_name(job, d));
    g_autofree char *perr = err ? scand_cli_printable(err) : NULL;
    printf("    → %-20s %-8s attempts %" G_GINT64_FORMAT "%s%s\n", name,
           scand_dest_state_to_string(scand_job_get_destination_state(job, d)),
           scand_job_get_destination_attempts(job, d), perr ? "  last error: " : "", perr ? perr : "");
  }
}

int scand_cli_jobs(int argc, char **argv) {
  __attribute__((cleanup(spool_args_clear))) SpoolArgs a = { 0 };
  GOptionEntry entries[] = { SPOOL_ENTRIES(a), { NULL } };
  int status;
  if (!scand_cli_parse("jobs", NULL,
                       "Shows each job in the spool: stage, pages, and per destination its state, "
                       "attempts and last error; then the jobs whose state could not be read, kept "
                       "aside in the spool's quarantine. Exits 1 when there are any of those.",
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
  guint unreadable = 0;
  for (guint i = 0; ids[i]; i++) {
    g_autoptr(GError) local = NULL;
    g_autoptr(ScandJob) job = scand_job_peek(ctx->spool, ids[i], &local);
    if (job) {
      job_print(job, ids[i]);
      continue;
    }
    if (g_error_matches(local, SCAND_ERROR, SCAND_ERROR_NOT_FOUND))
      continue; /* finished since it was listed */
    unreadable++;
    g_autofree char *pid = scand_cli_printable(ids[i]);
    g_autofree char *why = scand_cli_printable(local->message);
    printf("%s  unreadable  %s (scand resume quarantines it)\n", pid, why);
  }
  g_auto(GStrv) kept = scand_spool_list_quarantined(ctx->spool);
  g_autofree char *qdir = scand_spool_get_quarantine_dir(ctx->spool);
  for (guint i = 0; kept[i]; i++) {
    g_autofree char *reason = scand_spool_get_quarantine_reason(ctx->spool, kept[i]);
    g_autofree char *where = g_build_filename(qdir, kept[i], NULL);
    g_autofree char *pwhere = scand_cli_printable(where);
    g_autofree char *pname = scand_cli_printable(kept[i]);
    g_autofree char *preason = scand_cli_printable(reason);
    printf("%s  quarantined  %s (kept in %s)\n", pname, preason, pwhere);
  }
  guint bad = unreadable + g_strv_length(kept);
  if (bad > 0) {
    scand_cli_error("jobs", "%u jobs cannot be read and wait for a person (fix or remove them in %s)", bad, qdir);
    return SCAND_EXIT_FAILED;
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
  guint left = scand_spool_resume_all(ctx->spool, &ctx->retry, TRUE, messages, &failed);
  for (guint i = 0; i < messages->len; i++)
    scand_cli_error("resume", "%s", (const char *) messages->pdata[i]);
  g_auto(GStrv) kept = scand_spool_list_quarantined(ctx->spool);
  if (kept[0]) {
    g_autofree char *qdir = scand_spool_get_quarantine_dir(ctx->spool);
    scand_cli_error("resume", "%u jobs are quarantined in %s: their state cannot be read (scand jobs)",
                    g_strv_length(kept), qdir);
  }
  if (failed > 0)
    scand_cli_error("resume", "%u jobs failed and are kept in the spool (scand jobs; scand retry JOB)", failed);
  if (failed > 0 || kept[0])
    return SCAND_EXIT_FAILED;
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
    g_autofree char *qdir = scand_spool_get_quarantine_dir(ctx->spool);
    g_autofree char *kept = g_build_filename(qdir, argv[1], NULL);
    if (g_error_matches(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND) && g_file_test(kept, G_FILE_TEST_EXISTS))
      scand_cli_error(command,
                      "job %s is quarantined in %s: its state cannot be read — fix its job.ini and move it "
                      "back into the spool, or remove it",
                      argv[1], kept);
    else
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
  ScandDeliveryResult r = scand_job_run_resume(job, &ctx->retry, messages, &error);
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
