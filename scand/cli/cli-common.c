/* What every `scand` command shares: config, spool, option parsing, errors. */
#include "scand/cli/cli.h"
#include "scand/base/error.h"
#include "scand/core/job-run.h"

#include <stdio.h>
#include <string.h>

char *scand_cli_printable(const char *text) {
  if (!text)
    return g_strdup("");
  GString *s = g_string_sized_new(strlen(text));
  for (const char *p = text; *p;) {
    gunichar c = g_utf8_get_char_validated(p, -1);
    if (c == (gunichar) -1 || c == (gunichar) -2) {
      g_string_append_printf(s, "\\x%02x", (guchar) *p++);
      continue;
    }
    const char *next = g_utf8_next_char(p);
    GUnicodeType type = g_unichar_type(c);
    if (c == '\n')
      g_string_append(s, "\\n");
    else if (c == '\t')
      g_string_append(s, "\\t");
    else if (c == '\r')
      g_string_append(s, "\\r");
    else if (type == G_UNICODE_CONTROL || type == G_UNICODE_FORMAT || type == G_UNICODE_LINE_SEPARATOR ||
             type == G_UNICODE_PARAGRAPH_SEPARATOR || type == G_UNICODE_SURROGATE || type == G_UNICODE_UNASSIGNED)
      g_string_append_printf(s, c < 0x100 ? "\\x%02x" : "\\u%04x", c);
    else
      g_string_append_len(s, p, next - p);
    p = next;
  }
  return g_string_free(s, FALSE);
}

void scand_cli_error(const char *command, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  /* One line, always, and nothing a terminal would act on: messages may carry
   * text from devices, servers and the spool. Line breaks read as blanks. */
  g_strdelimit(msg, "\r\n", ' ');
  g_autofree char *shown = scand_cli_printable(msg);
  fprintf(stderr, "scand %s: %s\n", command, shown);
}

gboolean scand_cli_parse(const char *command, const char *params, const char *summary, GOptionEntry *entries, int *argc,
                         char ***argv, int *status) {
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
  if (!scand_retry_policy_from_config(ctx->config, &ctx->retry, &error)) {
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
