/* scand deliver FILE --to OUTPUT: an existing PDF through one output. */
#include "scand/cli/cli.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/core/job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Refuses anything that is not a PDF before it enters the spool. */
static gboolean check_pdf(const char *path, GError **error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return scand_fs_error_errno(error, errno, "cannot open %s", path);
  char magic[5] = { 0 };
  gboolean ok = read(fd, magic, sizeof magic) == (ssize_t) sizeof magic && memcmp(magic, "%PDF-", 5) == 0;
  close(fd);
  if (!ok)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s is not a PDF file", path);
  return ok;
}

int scand_cli_deliver(int argc, char **argv) {
  g_auto(GStrv) to = NULL;
  g_autofree char *name = NULL, *config_path = NULL, *spool = NULL;
  GOptionEntry entries[] = {
    { "to", 't', 0, G_OPTION_ARG_STRING_ARRAY, &to,
      "An [output] name, a directory, smb://…, usb:LABEL or print:QUEUE (repeatable)", "DEST" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "File name at the destination (default: the file's own name)", "NAME" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { "spool", 0, 0, G_OPTION_ARG_FILENAME, &spool, "Spool directory", "DIR" },
    { NULL },
  };
  int status;
  if (!scand_cli_parse("deliver", "FILE",
                       "Pushes an existing PDF through one or more outputs, with the same "
                       "guarantees as a scan: spooled first, retried, never duplicated.",
                       entries, &argc, &argv, &status))
    return status;
  if (argc != 2 || !to || !to[0]) {
    scand_cli_error("deliver", "expected one FILE and at least one --to (try scand deliver --help)");
    return SCAND_EXIT_USAGE;
  }
  g_autoptr(ScandCliContext) ctx = scand_cli_context_new("deliver", config_path, spool);
  if (!ctx)
    return SCAND_EXIT_FAILED;
  g_autoptr(GError) error = NULL;
  g_autofree char *base = g_path_get_basename(argv[1]);
  const char *target_name = name ? name : base;
  g_autoptr(GError) bad = NULL;
  if (target_name[0] == '.' || !scand_fs_name_check(target_name, &bad)) {
    scand_cli_error("deliver", "\"%s\" is not a usable file name at the destination: %s", target_name,
                    bad ? bad->message : "a hidden name");
    return SCAND_EXIT_USAGE;
  }
  g_autoptr(ScandJob) job = scand_job_create(ctx->spool, &error);
  if (!job) {
    scand_cli_error("deliver", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  ScandJobFacts facts = *scand_job_get_facts(job);
  facts.trigger = "deliver";
  facts.source_file = argv[1];
  facts.name = target_name;
  scand_job_set_facts(job, &facts);
  for (guint i = 0; to[i]; i++) {
    g_autofree char *output_name = NULL;
    g_autoptr(GHashTable) output = scand_output_resolve(ctx->config, to[i], &output_name, &error);
    if (!output || !scand_job_add_destination(job, output_name, output, &error)) {
      scand_cli_error("deliver", "%s", error->message);
      scand_job_remove(job, NULL);
      return SCAND_EXIT_USAGE;
    }
  }
  if (!check_pdf(argv[1], &error) || !scand_job_take_document(job, argv[1], &error) ||
      !scand_job_set_stage(job, SCAND_JOB_ASSEMBLED, &error)) {
    scand_cli_error("deliver", "%s", error->message);
    scand_job_remove(job, NULL);
    return SCAND_EXIT_FAILED;
  }
  return scand_cli_finish_job(ctx, job);
}
