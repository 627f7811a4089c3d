/* Fuzzes the configuration loader and `scand config check`: any bytes give a
 * config or a one-line error, never a crash; every problem and every route
 * error names the file. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "scand/base/config.h"
#include "scand/core/config-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(gboolean ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz-config: %s\n", what);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = scand_config_load_data((const char *) data, size, "fuzz.conf", &error);
  if (!config) {
    require(error != NULL && g_str_has_prefix(error->message, "fuzz.conf"), "load error without the file name");
    require(strchr(error->message, '\n') == NULL, "load error on more than one line");
    return 0;
  }
  g_autoptr(GPtrArray) problems = scand_config_check(config);
  for (guint i = 0; i < problems->len; i++)
    require(g_str_has_prefix(problems->pdata[i], "fuzz.conf:"), "problem without file:line");

  /* Every accessor on every section and key. */
  static const char *const kinds[] = { "scand", "scanner", "profile", "watch", "output", "rule", "other" };
  for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
    g_auto(GStrv) names = scand_config_list_sections(config, kinds[k]);
    for (guint n = 0; names[n]; n++) {
      require(scand_config_has_section(config, kinds[k], names[n]), "listed section not found");
      g_autofree char *where = scand_config_where(config, kinds[k], names[n], NULL);
      require(where != NULL, "section without a place");
      g_auto(GStrv) keys = scand_config_list_keys(config, kinds[k], names[n]);
      for (guint i = 0; keys[i]; i++) {
        require(scand_config_get(config, kinds[k], names[n], keys[i]) != NULL, "listed key without value");
        gboolean b;
        gint64 v;
        g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
        scand_config_get_bool(config, kinds[k], names[n], keys[i], FALSE, &b, &e1);
        scand_config_get_int(config, kinds[k], names[n], keys[i], 0, &v, &e2);
        scand_config_get_duration(config, kinds[k], names[n], keys[i], 0, &v, &e3);
      }
    }
  }

  ScandJobFacts facts[] = {
    { .source_kind = "scan",
      .device = "escl:https://mfp.example/eSCL",
      .profile = "letter",
      .trigger = "feeder",
      .pages = 3 },
    { .source_kind = "watch", .pages = 0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(facts); i++) {
    g_autoptr(GError) e = NULL;
    g_autoptr(ScandRoute) route = scand_rules_route(config, &facts[i], &e);
    require((route == NULL) == (e != NULL), "route and error disagree");
    if (!route)
      continue;
    require(route->deliver && route->deliver[0], "route without outputs");
    require(route->name_template != NULL, "route without a name template");
  }
  return 0;
}
