/* scand: get scans off scanners and onto the network without e-mail. */
#include "scand-build.h"
#include "scand/cli/cli.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
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
  { "web", scand_cli_web, "set a password for the web page (scand web passwd USER)" },
};

static void usage(FILE *out) {
  fprintf(out, "Usage: scand [OPTIONS…] COMMAND [OPTIONS…]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nEvery command takes --help, --version and --config FILE, before or after its name.\n");
}

static int command_find(const char *name) {
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
    if (strcmp(name, commands[i].name) == 0)
      return (int) i;
  return -1;
}

/* Options may come before the command, as ExecStart= lines write them:
 * "scand --config FILE daemon" is "scand daemon --config FILE". Finds the
 * command word and moves it to argv[1], keeping every other argument in its
 * order, so each command parses all of its options in one place. A value of
 * an option written apart from it is never the command: --config and -c take
 * one for sure; for another option a word right after it is its value unless
 * it names a command. Returns the index into commands[], or -1 when no
 * command word comes before the first other word (*word says which). */
static int command_first(int argc, char **argv, const char **word) {
  *word = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0)
      break;
    if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) {
      i++;
      continue;
    }
    if (a[0] == '-' && a[1])
      continue;
    int c = command_find(a);
    gboolean after_option = i > 1 && argv[i - 1][0] == '-' && argv[i - 1][1] && !strchr(argv[i - 1], '=');
    if (c < 0 && after_option)
      continue; /* the value of the option before it */
    if (c >= 0) {
      memmove(argv + 2, argv + 1, (size_t) (i - 1) * sizeof *argv);
      argv[1] = (char *) commands[c].name;
      return c;
    }
    *word = a;
    return -1;
  }
  return -1;
}

static gboolean is_help(const char *a) {
  return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0;
}

/* Tesseract's OpenMP runtime reads OMP_THREAD_LIMIT once, when it is loaded:
 * unlimited, it spins a thread per core inside every page worker. Page
 * processing gets its parallelism from its workers (one Tesseract each), so
 * the limit is 1 unless the caller set one. libgomp comes with Tesseract,
 * which is loaded when OCR is first used (scand/core/dl-tesseract.h), long
 * after this runs and before any other thread exists to read the
 * environment. */
static void limit_openmp(void) {
#if SCAND_HAVE_OCR
  if (!getenv("OMP_THREAD_LIMIT"))
    setenv("OMP_THREAD_LIMIT", "1", 1);
#endif
}

int main(int argc, char **argv) {
  limit_openmp();
  setlocale(LC_ALL, "");
  if (argc < 2) {
    usage(stderr);
    return SCAND_EXIT_USAGE;
  }
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--version") == 0) {
      printf("scand %s\n", SCAND_VERSION);
      return SCAND_EXIT_OK;
    }
  const char *word = NULL;
  int c = command_first(argc, argv, &word);
  if (c < 0 && (is_help(argv[1]) || (word && is_help(word)))) {
    usage(stdout);
    return SCAND_EXIT_OK;
  }
  if (c >= 0) {
    int status = commands[c].run(argc - 1, argv + 1);
    /* Leave without running libraries' exit handlers: a SANE backend that
     * cancelled its reader thread the hard way (the `test` backend does)
     * can leave a libc lock held, and p11-kit's destructor then waits for
     * it forever. Everything scand writes is already durable. */
    fflush(NULL);
    _exit(status);
  }
  if (word)
    fprintf(stderr, "scand: unknown command \"%s\" (try scand --help)\n", word);
  else
    fprintf(stderr, "scand: no command after the options (try scand --help)\n");
  return SCAND_EXIT_USAGE;
}
