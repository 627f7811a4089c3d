/* Fuzzes routing: any configuration text, then every rule explained for a
 * few jobs on every day of the week, in the day and at night. Routes name only
 * outputs that exist (or the built-in default), an error is one line naming
 * the file, explanations are one line each, and a configuration that `scand
 * config check` passes always routes. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "rules/template.h"
#include "scand/base/config.h"
#include "scand/core/config-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(gboolean ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz-rules: %s\n", what);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autoptr(ScandConfig) config = scand_config_load_data((const char *) data, size, "rules.conf", NULL);
  if (!config)
    return 0;
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  g_autoptr(GDateTime) wednesday = g_date_time_new(utc, 2026, 11, 25, 23, 30, 0);
  g_autoptr(GPtrArray) problems = scand_config_check(config);
  const ScandJobFacts kinds[] = {
    { .source_kind = "scan", .device = "sane:test:0", .profile = "letter", .trigger = "cli", .pages = 3 },
    { .source_kind = "watch", .watch = "drop", .path = "a/b.pdf", .trigger = "watch", .pages = 1 },
    { .source_kind = "mail", .sender = "a@example.com", .recipient = "scans@example.com", .pages = 0 },
    { 0 },
  };
  /* 2026-11-23 is a Monday: each kind of job on each day, at 03:00 and 14:45. */
  ScandJobFacts jobs[G_N_ELEMENTS(kinds) * 7 * 2];
  GDateTime *times[7 * 2];
  for (guint t = 0; t < G_N_ELEMENTS(times); t++)
    times[t] = g_date_time_new(utc, 2026, 11, 23 + (gint) t / 2, t % 2 ? 14 : 3, t % 2 ? 45 : 0, 0);
  for (guint j = 0; j < G_N_ELEMENTS(jobs); j++) {
    jobs[j] = kinds[j % G_N_ELEMENTS(kinds)];
    jobs[j].time = times[j / G_N_ELEMENTS(kinds)];
  }
  for (guint j = 0; j < G_N_ELEMENTS(jobs); j++) {
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandRoute) route = scand_rules_explain(config, &jobs[j], lines, &error);
    for (guint i = 0; i < lines->len; i++)
      require(strchr(lines->pdata[i], '\n') == NULL, "explanation on more than one line");
    if (!route) {
      require(error && g_str_has_prefix(error->message, "rules.conf:"), "route error without file:line");
      require(problems->len > 0, "config check passed a configuration that does not route");
      require(strchr(error->message, '\n') == NULL, "route error on more than one line");
      continue;
    }
    require(route->deliver && route->deliver[0], "route without destination");
    for (guint i = 0; route->deliver[i]; i++)
      require(strcmp(route->deliver[i], "(default)") == 0 ||
                  scand_config_has_section(config, "output", route->deliver[i]),
              "route names a missing output");
    require(!route->fallback || scand_config_has_section(config, "output", route->fallback),
            "fallback names a missing output");
    ScandJobFacts facts = { .time = wednesday, .device_name = "../../etc", .pages = 1, .seq = 7 };
    g_autofree char *name = scand_template_expand(route->name_template, &facts, NULL);
    if (!name)
      continue;
    require(name[0] != '/', "a routed name is absolute");
    g_auto(GStrv) parts = g_strsplit(name, "/", -1);
    for (guint i = 0; parts[i]; i++)
      require(*parts[i] && strcmp(parts[i], "..") != 0 && strcmp(parts[i], ".") != 0,
              "a routed name escapes its destination");
  }
  for (guint t = 0; t < G_N_ELEMENTS(times); t++)
    g_date_time_unref(times[t]);
  return 0;
}
