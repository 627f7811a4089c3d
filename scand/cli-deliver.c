/* scand deliver FILE --to OUTPUT: an existing PDF through one output. */
#include "scand/cli.h"
#include "scand/error.h"
#include "scand/fs.h"
#include "scand/job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Copies src into the job as its document, durably. */
static gboolean copy_into_job(const char *src, ScandJob *job, GError **error) {
  g_autofree char *tmp = g_strdup_printf("%s.part", scand_job_get_pdf_path(job));
  int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return scand_fs_error_errno(error, errno, "cannot open %s", src);
  char magic[5] = { 0 };
  if (read(in, magic, sizeof magic) != (ssize_t) sizeof magic || memcmp(magic, "%PDF-", 5) != 0) {
    close(in);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s is not a PDF file", src);
    return FALSE;
  }
  lseek(in, 0, SEEK_SET);
  int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    close(in);
    return scand_fs_error_errno(error, errno, "cannot create %s", tmp);
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t) (n - off));
      if (w < 0) {
        int errsv = errno;
        close(in);
        close(out);
        return scand_fs_error_errno(error, errsv, "cannot write %s", tmp);
      }
      off += w;
    }
  int errsv = n < 0 ? errno : 0;
  close(in);
  if (close(out) < 0 && !errsv)
    errsv = errno;
  if (errsv)
    return scand_fs_error_errno(error, errsv, "cannot copy %s", src);
  return scand_fs_commit(tmp, scand_job_get_pdf_path(job), error);
}

int scand_cli_deliver(int argc, char **argv) {
  g_auto(GStrv) to = NULL;
  g_autofree char *name = NULL, *config_path = NULL, *spool = NULL;
  GOptionEntry entries[] = {
    { "to", 't', 0, G_OPTION_ARG_STRING_ARRAY, &to, "An [output] name, a directory, smb://…, usb:LABEL or print:QUEUE (repeatable)", "DEST" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "File name at the destination (default: the file's own name)", "NAME" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { "spool", 0, 0, G_OPTION_ARG_FILENAME, &spool, "Spool directory", "DIR" },
    { NULL },
  };
  int status;
  if (!scand_cli_parse("deliver", "FILE", "Pushes an existing PDF through one or more outputs, with the same "
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
  if (!*target_name || target_name[0] == '.' || target_name[0] == '/' || strstr(target_name, "..")) {
    scand_cli_error("deliver", "\"%s\" is not a usable file name at the destination", target_name);
    return SCAND_EXIT_USAGE;
  }
  g_autoptr(ScandJob) job = scand_job_create(ctx->spool, &error);
  if (!job) {
    scand_cli_error("deliver", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  scand_job_set(job, "trigger", "deliver");
  scand_job_set(job, "source-file", argv[1]);
  scand_job_set(job, "name", target_name);
  for (guint i = 0; to[i]; i++) {
    g_autofree char *output_name = NULL;
    g_autoptr(GHashTable) output = scand_output_resolve(ctx->config, to[i], &output_name, &error);
    if (!output || !scand_job_add_destination(job, output_name, output, &error)) {
      scand_cli_error("deliver", "%s", error->message);
      scand_job_remove(job, NULL);
      return SCAND_EXIT_USAGE;
    }
  }
  if (!copy_into_job(argv[1], job, &error) || !scand_job_set_stage(job, SCAND_JOB_ASSEMBLED, &error)) {
    scand_cli_error("deliver", "%s", error->message);
    scand_job_remove(job, NULL);
    return SCAND_EXIT_FAILED;
  }
  return scand_cli_finish_job("deliver", job);
}
