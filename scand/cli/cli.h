/* The `scand` command line: one function per command, each parsing its own
 * options (argv[0] is the command name) and returning the exit status. */
#pragma once

#include <glib.h>
#include "scand/base/config.h"
#include "scand/core/job.h"
#include "scand/core/retry.h"
#include "scand/core/spool.h"

G_BEGIN_DECLS

/* Exit statuses shared by every command. */
enum {
  SCAND_EXIT_OK = 0,
  SCAND_EXIT_FAILED = 1, /* nothing delivered, or a destination failed for good */
  SCAND_EXIT_USAGE = 2,
  SCAND_EXIT_PARTIAL = 3, /* scan interrupted (jam, cover…): the pages before it were delivered */
  SCAND_EXIT_QUEUED = 75, /* EX_TEMPFAIL: kept in the spool, will be retried */
};

/* What every command needs: the config (--config or the default locations)
 * and the spool. */
typedef struct {
  ScandConfig *config;
  ScandSpool *spool;
  ScandRetryPolicy retry; /* from the config's [scand] section */
  const char *command;
} ScandCliContext;

/* Loads config and opens the spool; prints a one-line error and returns NULL
 * on failure. spool_path may be NULL (default). */
ScandCliContext *scand_cli_context_new(const char *command, const char *config_path, const char *spool_path);
void scand_cli_context_free(ScandCliContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandCliContext, scand_cli_context_free)

/* text as a terminal may show it: valid UTF-8 on one line, with control and
 * formatting characters (ESC, newline, bidi overrides …) and invalid bytes
 * written as \xNN / \uNNNN escapes. NULL gives "". Newly allocated. */
char *scand_cli_printable(const char *text);

/* Prints "scand COMMAND: message" on stderr, through scand_cli_printable(). */
void scand_cli_error(const char *command, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Parses options with a GOptionContext; prints usage errors. Returns FALSE
 * when the command must stop with *status. */
gboolean scand_cli_parse(const char *command, const char *params, const char *summary, GOptionEntry *entries, int *argc,
                         char ***argv, int *status);

/* Delivers an assembled job once, prints where it went and the problems, and
 * returns the exit status (OK, QUEUED or FAILED). */
int scand_cli_finish_job(ScandCliContext *ctx, ScandJob *job);
/* Resumes the spool's unfinished jobs, printing problems. */
void scand_cli_resume_pending(ScandCliContext *ctx, gboolean force);

int scand_cli_list(int argc, char **argv);
int scand_cli_scan(int argc, char **argv);
int scand_cli_deliver(int argc, char **argv);
int scand_cli_jobs(int argc, char **argv);
int scand_cli_resume(int argc, char **argv);
int scand_cli_retry(int argc, char **argv);
int scand_cli_cancel(int argc, char **argv);
int scand_cli_config(int argc, char **argv);
int scand_cli_daemon(int argc, char **argv);
int scand_cli_rules(int argc, char **argv);
/* scand web passwd USER (cli-web.c). */
int scand_cli_web(int argc, char **argv);

/* Other commands (written by other module owners). */
int scand_cli_assemble(int argc, char **argv);
/* eSCL devices (scand/cli-escl.c): pin an HTTPS device's certificate; show a device's state. */
int scand_cli_trust(int argc, char **argv);
int scand_cli_status(int argc, char **argv);

G_END_DECLS
