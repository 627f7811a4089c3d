/* Device quirks as data: one entry per model family with the reason. Entries
 * match on the HTTP Server header (known before the capabilities are read,
 * which matters for quirks every request needs) and/or MakeAndModel. */
#include "backends/escl-private.h"
#include "backends/quirk-match.h"

#include <string.h>

typedef struct {
  const char *name;          /* for messages */
  const char *server_prefix; /* Server header starts with this (case-insensitive), or NULL */
  /* MakeAndModel contains one of these (case-insensitive); unused slots NULL */
  const char *model_substring[3];
  const char *reason;
  const char *host_override;
  gboolean host_with_port;
  guint first_page_delay_ms;
  guint early_404_window_ms;
  gboolean retry_404_410;
  gboolean adf_jam_means_empty;
  int max_resolution;
} EsclQuirkEntry;

static const EsclQuirkEntry quirk_table[] = {
  {
      .name = "HP (HP_Compact_Server)",
      .server_prefix = "HP_Compact_Server",
      .reason = "HP LaserJet firmware refuses ScanJobs unless the Host header says localhost",
      .host_override = "localhost",
  },
  {
      .name = "EPSON",
      .server_prefix = "EPSON",
      .model_substring = { "EPSON" },
      .reason = "Epson firmware answers 400 when the Host header lacks the port, even the default one",
      .host_with_port = TRUE,
  },
  {
      .name = "Brother",
      .model_substring = { "Brother" },
      .reason = "Brother feeders answer a false 404 to NextDocument requested too soon after ScanJobs",
      .first_page_delay_ms = 1000,
      .early_404_window_ms = 5000,
  },
  {
      .name = "Xerox B205/B215",
      .model_substring = { "Xerox B205", "Xerox B215" },
      .reason = "Xerox B205/B215 answer 404 then 410 to NextDocument while the page is still being scanned",
      .retry_404_410 = TRUE,
  },
  {
      .name = "Canon iR2625/iR2630",
      .model_substring = { "iR2625" },
      .reason = "Canon iR2625 advertises 1200/2400 dpi but its sensor delivers 600 dpi at most",
      .max_resolution = 600,
  },
  /* Stand-ins for behaviour seen in the field but not tied to a model name we
   * can match reliably; the project's simulator impersonates them. */
  {
      .name = "escl-sim JamWhenEmpty",
      .model_substring = { "escl-sim JamWhenEmpty" },
      .reason = "the feeder sensor reports ScannerAdfJam whenever the tray is empty",
      .adf_jam_means_empty = TRUE,
  },
  {
      .name = "escl-sim Overadvertise",
      .model_substring = { "escl-sim Overadvertise" },
      .reason = "advertises 1200/2400 dpi but delivers 600 dpi at most (as Canon iR2625)",
      .max_resolution = 600,
  },
};

static gboolean entry_matches(const EsclQuirkEntry *e, const char *server, const char *make_and_model) {
  if (e->server_prefix && scand_quirk_text_starts(server, e->server_prefix))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS(e->model_substring) && e->model_substring[i]; i++)
    if (scand_quirk_text_contains(make_and_model, e->model_substring[i]))
      return TRUE;
  return FALSE;
}

void escl_quirks_lookup(const char *server, const char *make_and_model, EsclQuirks *q) {
  memset(q, 0, sizeof *q);
  GString *names = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(quirk_table); i++) {
    const EsclQuirkEntry *e = &quirk_table[i];
    if (!entry_matches(e, server, make_and_model))
      continue;
    if (e->host_override)
      q->host_override = e->host_override;
    q->host_with_port |= e->host_with_port;
    q->first_page_delay_ms = MAX(q->first_page_delay_ms, e->first_page_delay_ms);
    q->early_404_window_ms = MAX(q->early_404_window_ms, e->early_404_window_ms);
    q->retry_404_410 |= e->retry_404_410;
    q->adf_jam_means_empty |= e->adf_jam_means_empty;
    if (e->max_resolution > 0)
      q->max_resolution = q->max_resolution ? MIN(q->max_resolution, e->max_resolution) : e->max_resolution;
    if (!strstr(names->str, e->name))
      g_string_append_printf(names, "%s%s", names->len ? ", " : "", e->name);
  }
  q->names = g_string_free(names, FALSE);
}

void escl_quirks_clear(EsclQuirks *q) {
  if (!q)
    return;
  g_free(q->names);
  memset(q, 0, sizeof *q);
}

char *escl_quirks_host_header(const EsclQuirks *q, const char *host, int port, gboolean https) {
  int effective_port = port > 0 ? port : (https ? 443 : 80);
  if (q->host_override)
    return g_strdup(q->host_override);
  if (q->host_with_port)
    return g_strdup_printf("%s:%d", host, effective_port);
  return NULL;
}
