/* scand daemon. */
#include "scand/cli/cli.h"
#include "scand/service/daemon.h"

int scand_cli_daemon(int argc, char **argv) {
  g_autofree char *config_path = NULL, *spool = NULL;
  gboolean system_bus = FALSE, no_bus = FALSE;
  int queue_ms = 0;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { "spool", 0, 0, G_OPTION_ARG_FILENAME, &spool, "Spool directory", "DIR" },
    { "system", 0, 0, G_OPTION_ARG_NONE, &system_bus, "Serve on the system bus (default: the session bus)", NULL },
    { "no-bus", 0, 0, G_OPTION_ARG_NONE, &no_bus, "No D-Bus API (headless: watched folders and auto-scan only)", NULL },
    { "queue-interval", 0, 0, G_OPTION_ARG_INT, &queue_ms, "How often to look at the delivery queue (ms)", "MS" },
    { NULL },
  };
  int status;
  if (!scand_cli_parse("daemon", NULL,
                       "Runs the scand service: delivers the spool's queue with backoff, watches "
                       "folders, starts feeder auto-scans and serves the D-Bus API. SIGHUP reloads "
                       "the configuration; SIGTERM finishes the page under way and stops.",
                       entries, &argc, &argv, &status))
    return status;
  ScandDaemonOptions options = {
    .config_path = config_path,
    .spool_dir = spool,
    .bus = no_bus       ? G_BUS_TYPE_NONE
           : system_bus ? G_BUS_TYPE_SYSTEM
                        : G_BUS_TYPE_SESSION,
    .queue_interval_ms = queue_ms,
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandDaemon) daemon = scand_daemon_new(&options, &error);
  if (!daemon) {
    scand_cli_error("daemon", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  return scand_daemon_run(daemon);
}
