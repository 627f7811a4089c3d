/* What every `scand` command shares: config, spool, option parsing, errors. */
#include "scand/cli.h"
#include "scand/error.h"

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

gboolean scand_cli_parse(const char *command, const char *params, const char *summary, GOptionEntry *entries,
                         int *argc, char ***argv, int *status) {
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

static GHashTable *new_table(void) {
  return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/* Ad-hoc destinations on the command line, by prefix. */
static const struct {
  const char *prefix;
  const char *type;
  const char *key;
  gboolean keep_prefix;
} adhoc_outputs[] = {
  { "smb://", "smb", "url", TRUE },
  { "usb:", "usb", "label", FALSE },
  { "print:", "print", "queue", FALSE },
};

GHashTable *scand_cli_resolve_output(ScandConfig *config, const char *to, char **output_name, GError **error) {
  g_autoptr(GHashTable) table = new_table();
  if (config && scand_config_has_section(config, "output", to)) {
    g_auto(GStrv) keys = scand_config_list_keys(config, "output", to);
    for (guint i = 0; keys && keys[i]; i++)
      g_hash_table_insert(table, g_strdup(keys[i]), g_strdup(scand_config_get(config, "output", to, keys[i])));
    *output_name = g_strdup(to);
    return g_steal_pointer(&table);
  }
  for (guint i = 0; i < G_N_ELEMENTS(adhoc_outputs); i++) {
    if (!g_str_has_prefix(to, adhoc_outputs[i].prefix))
      continue;
    const char *value = adhoc_outputs[i].keep_prefix ? to : to + strlen(adhoc_outputs[i].prefix);
    if (!scand_output_driver_find(adhoc_outputs[i].type)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "--to %s: this scand has no %s output", to,
                  adhoc_outputs[i].type);
      return NULL;
    }
    g_hash_table_insert(table, g_strdup("type"), g_strdup(adhoc_outputs[i].type));
    g_hash_table_insert(table, g_strdup(adhoc_outputs[i].key), g_strdup(value));
    *output_name = g_strdup(to);
    return g_steal_pointer(&table);
  }
  if (strstr(to, "://")) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "--to %s: not an output name, a known URL or a directory", to);
    return NULL;
  }
  g_autofree char *abs = g_canonicalize_filename(to, NULL);
  g_hash_table_insert(table, g_strdup("type"), g_strdup("folder"));
  g_hash_table_insert(table, g_strdup("path"), g_strdup(abs));
  g_hash_table_insert(table, g_strdup("create"), g_strdup("true"));
  *output_name = g_strdup(to);
  return g_steal_pointer(&table);
}
