/* scand config check. */
#include "scand/cli/cli.h"
#include "scand/core/config-check.h"

#include <stdio.h>
#include <string.h>

int scand_cli_config(int argc, char **argv) {
  g_autofree char *config_path = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { NULL },
  };
  int status;
  if (!scand_cli_parse("config", "check",
                       "Checks the configuration and explains every problem with file, line "
                       "and key. Exits 1 when there is any.",
                       entries, &argc, &argv, &status))
    return status;
  if (argc != 2 || strcmp(argv[1], "check") != 0) {
    scand_cli_error("config", "expected: scand config check [--config FILE]");
    return SCAND_EXIT_USAGE;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = scand_config_load(config_path, &error);
  if (!config) {
    fprintf(stderr, "%s\n", error->message);
    return SCAND_EXIT_FAILED;
  }
  g_autoptr(GPtrArray) problems = scand_config_check(config);
  const GPtrArray *warnings = scand_config_get_warnings(config);
  for (guint i = 0; i < warnings->len; i++)
    fprintf(stderr, "%s\n", (const char *) warnings->pdata[i]);
  for (guint i = 0; i < problems->len; i++)
    fprintf(stderr, "%s\n", (const char *) problems->pdata[i]);
  const char *const *files = scand_config_get_files(config);
  if (problems->len == 0) {
    if (!files || !files[0])
      printf("no configuration file: built-in defaults apply\n");
    for (guint i = 0; files && files[i]; i++)
      printf("%s: ok\n", files[i]);
    return SCAND_EXIT_OK;
  }
  fprintf(stderr, "%u problems\n", problems->len);
  return SCAND_EXIT_FAILED;
}
