/* scand: get scans off scanners and onto the network without e-mail. */
#include "scand-build.h"
#include "scand/cli/cli.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} commands[] = {
  { "scan", scand_cli_scan, "scan a document and deliver it" },
  { "list", scand_cli_list, "list the scanners scand can reach" },
  { "assemble", scand_cli_assemble, "make a PDF from existing image files" },
  { "deliver", scand_cli_deliver, "push an existing PDF through an output" },
  { "jobs", scand_cli_jobs, "show the jobs in the spool" },
  { "resume", scand_cli_resume, "finish every interrupted or queued job now" },
  { "retry", scand_cli_retry, "try a failed job's destinations again" },
  { "cancel", scand_cli_cancel, "drop a job from the spool" },
  { "config", scand_cli_config, "check the configuration (scand config check)" },
  { "trust", scand_cli_trust, "pin an HTTPS eSCL scanner's certificate" },
  { "status", scand_cli_status, "show an eSCL scanner's state, feeder and jobs" },
  { "rules", scand_cli_rules, "explain which rule a job would match (scand rules explain)" },
  { "daemon", scand_cli_daemon, "run the service (queue, watched folders, auto-scan, D-Bus)" },
};

static void usage(FILE *out) {
  fprintf(out, "Usage: scand COMMAND [OPTIONS…]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nEvery command takes --help, --version and --config FILE.\n");
}

int main(int argc, char **argv) {
  setlocale(LC_ALL, "");
  if (argc < 2) {
    usage(stderr);
    return SCAND_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return SCAND_EXIT_OK;
  }
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--version") == 0) {
      printf("scand %s\n", SCAND_VERSION);
      return SCAND_EXIT_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
    if (strcmp(argv[1], commands[i].name) == 0) {
      int status = commands[i].run(argc - 1, argv + 1);
      /* Leave without running libraries' exit handlers: a SANE backend that
       * cancelled its reader thread the hard way (the `test` backend does)
       * can leave a libc lock held, and p11-kit's destructor then waits for
       * it forever. Everything scand writes is already durable. */
      fflush(NULL);
      _exit(status);
    }
  fprintf(stderr, "scand: unknown command \"%s\" (try scand --help)\n", argv[1]);
  return SCAND_EXIT_USAGE;
}
