/* Routing: first match wins, each match key, the built-in default, and the
 * config errors a route can still run into. */
#include <glib.h>
#include <string.h>

#include "rules/rules.h"
#include "scand/base/config-schema.h"
#include "scand/base/config.h"
#include "scand/base/facts.h"
#include "scand/base/error.h"

static const char rules_conf[] = "[output share]\n"                 /* 1 */
                                 "type = folder\n"                  /* 2 */
                                 "path = /srv/share\n"              /* 3 */
                                 "[output desk]\n"                  /* 4 */
                                 "type = folder\n"                  /* 5 */
                                 "path = /home/desk\n"              /* 6 */
                                 "[output mail]\n"                  /* 7 */
                                 "type = folder\n"                  /* 8 */
                                 "path = /srv/mail\n"               /* 9 */
                                 "[rule big]\n"                     /* 10 */
                                 "pages-min = 20\n"                 /* 11 */
                                 "deliver = share\n"                /* 12 */
                                 "[rule photos]\n"                  /* 13 */
                                 "profile = photo\n"                /* 14 */
                                 "source = scan\n"                  /* 15 */
                                 "deliver = desk\n"                 /* 16 */
                                 "name = photos/{date}/{seq}.pdf\n" /* 17 */
                                 "[rule mfp]\n"                     /* 18 */
                                 "device = escl:*mfp*\n"            /* 19 */
                                 "trigger = feeder\n"               /* 20 */
                                 "pages-max = 19\n"                 /* 21 */
                                 "deliver = share; desk\n"          /* 22 */
                                 "fallback = mail\n"                /* 23 */
                                 "fallback-after = 30m\n"           /* 24 */
                                 "fallback-attempts = 5\n"          /* 25 */
                                 "[rule dropped]\n"                 /* 26 */
                                 "source = watch\n"                 /* 27 */
                                 "pages-min = 2\n"                  /* 28 */
                                 "pages-max = 4\n"                  /* 29 */
                                 "deliver = desk\n";                /* 30 */

static ScandConfig *load(const char *text) {
  g_autoptr(GError) error = NULL;
  ScandConfig *config = scand_config_load_data(text, strlen(text), "rules.conf", &error);
  g_assert_no_error(error);
  return config;
}

static ScandRoute *route(ScandConfig *config, const char *source, const char *device, const char *profile,
                         const char *trigger, guint pages) {
  ScandJobFacts facts = {
    .source_kind = source,
    .device = device,
    .profile = profile,
    .trigger = trigger,
    .pages = pages,
  };
  g_autoptr(GError) error = NULL;
  ScandRoute *r = scand_rules_route(config, &facts, &error);
  g_assert_no_error(error);
  g_assert_nonnull(r);
  return r;
}

static void assert_default(ScandRoute *r) {
  g_assert_cmpstr(r->rule, ==, "(default)");
  g_assert_cmpuint(g_strv_length(r->deliver), ==, 1);
  g_assert_cmpstr(r->deliver[0], ==, "(default)");
  g_assert_cmpstr(r->name_template, ==, SCAND_DEFAULT_NAME_TEMPLATE);
  g_assert_null(r->fallback);
  g_assert_cmpint(r->fallback_after, ==, 0);
}

static void test_first_match(void) {
  g_autoptr(ScandConfig) config = load(rules_conf);
  /* "big" and "mfp"'s device both fit; the earlier rule decides. */
  g_autoptr(ScandRoute) r1 = route(config, "scan", "escl:https://mfp.example/eSCL", "photo", "feeder", 25);
  g_assert_cmpstr(r1->rule, ==, "big");
  g_assert_cmpstr(r1->deliver[0], ==, "share");
  g_assert_null(r1->deliver[1]);
  g_assert_cmpstr(r1->name_template, ==, SCAND_DEFAULT_NAME_TEMPLATE);

  g_autoptr(ScandRoute) r2 = route(config, "scan", "escl:https://mfp.example/eSCL", "photo", "feeder", 1);
  g_assert_cmpstr(r2->rule, ==, "photos");
  g_assert_cmpstr(r2->name_template, ==, "photos/{date}/{seq}.pdf");
  g_assert_null(r2->fallback);

  g_autoptr(ScandRoute) r3 = route(config, "scan", "escl:https://mfp.example/eSCL", "letter", "feeder", 19);
  g_assert_cmpstr(r3->rule, ==, "mfp");
  g_assert_cmpuint(g_strv_length(r3->deliver), ==, 2);
  g_assert_cmpstr(r3->deliver[0], ==, "share");
  g_assert_cmpstr(r3->deliver[1], ==, "desk");
  g_assert_cmpstr(r3->fallback, ==, "mail");
  g_assert_cmpint(r3->fallback_after, ==, 1800);
  g_assert_cmpint(r3->fallback_attempts, ==, 5);
}

static void test_match_keys(void) {
  g_autoptr(ScandConfig) config = load(rules_conf);
  struct {
    const char *source, *device, *profile, *trigger;
    guint pages;
    const char *rule;
  } cases[] = {
    /* pages-min */
    { "scan", "sane:test:0", "letter", "cli", 20, "big" },
    { "scan", "sane:test:0", "letter", "cli", 19, "(default)" },
    /* profile and source */
    { "scan", "sane:test:0", "photo", "cli", 1, "photos" },
    { "watch", "sane:test:0", "photo", "cli", 1, "(default)" },
    { "scan", "sane:test:0", NULL, "cli", 1, "(default)" },
    /* device glob, trigger, pages-max */
    { "scan", "escl:http://mfp.local/eSCL", "letter", "feeder", 1, "mfp" },
    { "scan", "sane:mfp", "letter", "feeder", 1, "(default)" },
    { "scan", NULL, "letter", "feeder", 1, "(default)" },
    { "scan", "escl:http://mfp.local/eSCL", "letter", "button", 1, "(default)" },
    { "scan", "escl:http://mfp.local/eSCL", "letter", NULL, 1, "(default)" },
    /* source with a page range */
    { "watch", NULL, NULL, NULL, 1, "(default)" },
    { "watch", NULL, NULL, NULL, 2, "dropped" },
    { "watch", NULL, NULL, NULL, 4, "dropped" },
    { "watch", NULL, NULL, NULL, 5, "(default)" },
    { "mail", NULL, NULL, NULL, 3, "(default)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(ScandRoute) r =
        route(config, cases[i].source, cases[i].device, cases[i].profile, cases[i].trigger, cases[i].pages);
    if (strcmp(r->rule, cases[i].rule) != 0)
      g_printerr("case %u: got %s, expected %s\n", i, r->rule, cases[i].rule);
    g_assert_cmpstr(r->rule, ==, cases[i].rule);
    if (strcmp(cases[i].rule, "(default)") == 0)
      assert_default(r);
  }
}

/* barcode = GLOB matches the document's barcode; a document without one
 * never matches, and explain says why. */
static void test_barcode(void) {
  static const char conf[] = "[output inv]\ntype = folder\npath = /srv/inv\n"
                             "[output desk]\ntype = folder\npath = /srv/desk\n"
                             "[rule invoices]\nbarcode = INV-*\ndeliver = inv\nname = {barcode}.pdf\n"
                             "[rule rest]\ndeliver = desk\n";
  g_autoptr(ScandConfig) config = load(conf);
  ScandJobFacts with = { .source_kind = "scan", .barcode = "INV-2024-0042" };
  ScandJobFacts other = { .source_kind = "scan", .barcode = "ORDER-7" };
  ScandJobFacts without = { .source_kind = "scan" };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandRoute) a = scand_rules_route(config, &with, &error);
  g_autoptr(ScandRoute) b = scand_rules_route(config, &other, &error);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(ScandRoute) c = scand_rules_explain(config, &without, lines, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(a->rule, ==, "invoices");
  g_assert_cmpstr(b->rule, ==, "rest");
  g_assert_cmpstr(c->rule, ==, "rest");
  g_assert_nonnull(strstr(lines->pdata[0], "the job has no barcode"));
}

static void test_default(void) {
  g_autoptr(ScandConfig) empty = scand_config_new_empty();
  g_autoptr(ScandRoute) r = route(empty, "scan", "sane:test:0", NULL, "cli", 1);
  assert_default(r);
  /* A rule without match keys matches everything. */
  g_autoptr(ScandConfig) config = load("[output a]\ntype = folder\npath = /a\n[rule all]\ndeliver = a\n");
  g_autoptr(ScandRoute) r2 = route(config, NULL, NULL, NULL, NULL, 0);
  g_assert_cmpstr(r2->rule, ==, "all");
  scand_route_free(NULL);
}

static void assert_route_error(const char *text, const char *message) {
  g_autoptr(ScandConfig) config = load(text);
  ScandJobFacts facts = { .source_kind = "scan", .device = "sane:test:0", .pages = 1 };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandRoute) r = scand_rules_route(config, &facts, &error);
  g_assert_null(r);
  g_assert_nonnull(error);
  g_assert_cmpstr(error->message, ==, message);
}

static void test_errors(void) {
  assert_route_error("[output a]\ntype = folder\n[rule r]\ndeliver = a, nas\n",
                     "rules.conf:4: [rule r] deliver: no [output nas] section");
  assert_route_error("[rule r]\nsource = scan\n", "rules.conf:1: [rule r] deliver: missing (required: the outputs to "
                                                  "deliver to)");
  assert_route_error("[rule r]\npages-min = many\ndeliver = a\n",
                     "rules.conf:2: [rule r] pages-min: \"many\" is not a whole number from 0 to 1000000");
  assert_route_error("[output a]\ntype = folder\n[rule r]\ndeliver = a\nname = ../{device}.pdf\n",
                     "rules.conf:5: [rule r] name: '..' would leave the destination (part 1 of the path)");
  assert_route_error("[output a]\ntype = folder\n[rule r]\ndeliver = a\nfallback = mail\n",
                     "rules.conf:5: [rule r] fallback: no [output mail] section");
  assert_route_error("[output a]\ntype = folder\n[rule r]\ndeliver = a\nfallback-after = later\n",
                     "rules.conf:5: [rule r] fallback-after: \"later\" is not a duration (expected seconds, or a "
                     "number with s, m, h or d: 90, 30s, 5m, 2h, 1d)");
  assert_route_error("[rule r]\ndeliver = ;\n", "rules.conf:2: [rule r] deliver: no output named");
  /* A broken rule that does not match is not in the way of a later one. */
  g_autoptr(ScandConfig) config = load("[output a]\ntype = folder\n[rule r]\nsource = mail\ndeliver = nas\n"
                                       "[rule s]\ndeliver = a\n");
  g_autoptr(ScandRoute) r = route(config, "scan", NULL, NULL, NULL, 1);
  g_assert_cmpstr(r->rule, ==, "s");
}

/* No value of a match key crashes routing, whatever the day and time, and a
 * malformed one is an error naming its line also when an earlier key of the
 * rule does not hold (the result does not depend on the facts). */
static void test_malformed_values(void) {
  const char *const values[] = {
    "days = sat,sun,",
    "days = ,",
    "days = ",
    "days = funday",
    "days = mon-",
    "days = -",
    "days = mon--fri",
    "hours = 25:99-xx",
    "hours = ,",
    "hours = 08:00-",
    "hours = -",
    "hours = 24:30-01:00",
    "hours = 8-18",
    "hours = 08:00-18:00,",
    "pages-min = -1",
    "pages-max = 99999999999999999999",
    "pages-min = 1000001",
    "pages-max = ",
  };
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  for (guint i = 0; i < G_N_ELEMENTS(values); i++) {
    g_autofree char *text = g_strdup_printf("[output a]\ntype = folder\npath = /a\n[rule r]\nsource = mail\n%s\n"
                                            "deliver = a\n[rule s]\ndeliver = a\n",
                                            values[i]);
    g_autoptr(ScandConfig) config = load(text);
    g_autofree char *key = g_strndup(values[i], strcspn(values[i], " "));
    g_autofree char *prefix = g_strdup_printf("rules.conf:6: [rule r] %s: ", key);
    for (int day = 0; day < 7; day++)
      for (int hour = 0; hour < 24; hour += 5) {
        g_autoptr(GDateTime) when = g_date_time_new(utc, 2026, 11, 23 + day, hour, 30, 0);
        for (int source = 0; source < 2; source++) {
          ScandJobFacts facts = { .source_kind = source ? "mail" : "scan", .pages = 3, .time = when };
          g_autoptr(GError) error = NULL;
          g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
          g_autoptr(ScandRoute) r = scand_rules_explain(config, &facts, lines, &error);
          g_assert_null(r);
          g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
          if (!g_str_has_prefix(error->message, prefix))
            g_printerr("%s: %s\n", values[i], error->message);
          g_assert_true(g_str_has_prefix(error->message, prefix));
        }
      }
  }
}

/* days and hours decide as they say, across midnight and the weekend. */
static void test_days_hours(void) {
  g_autoptr(ScandConfig) config = load("[output a]\ntype = folder\npath = /a\n"
                                       "[rule weekend-night]\ndays = fri-mon\nhours = 22:00-06:00\ndeliver = a\n"
                                       "[rule office]\ndays = mon-fri\nhours = 08:00-12:00,13:00-17:00\ndeliver = a\n");
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  const struct {
    int day, hour, minute; /* 2026-11-23 is a Monday */
    const char *rule;
  } cases[] = {
    { 23, 5, 59, "weekend-night" }, { 23, 6, 0, "(default)" },      { 23, 8, 0, "office" },
    { 23, 12, 0, "(default)" },     { 23, 16, 59, "office" },       { 23, 17, 0, "(default)" },
    { 25, 23, 0, "(default)" },     { 27, 22, 0, "weekend-night" }, { 28, 12, 0, "(default)" },
    { 29, 0, 0, "weekend-night" },  { 24, 1, 0, "(default)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GDateTime) when = g_date_time_new(utc, 2026, 11, cases[i].day, cases[i].hour, cases[i].minute, 0);
    ScandJobFacts facts = { .source_kind = "scan", .pages = 1, .time = when };
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandRoute) r = scand_rules_route(config, &facts, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(r->rule, ==, cases[i].rule);
  }
}

/* Every fact the facts table gives a rule key is a [rule] key of the
 * configuration's schema and is matched by glob: adding a fact with a rule
 * key needs nothing else. */
static void test_fact_keys(void) {
  guint n;
  const ScandFact *rows = scand_facts_table(&n);
  const ScandConfigKind *rule = scand_config_kind_find("rule");
  guint checked = 0;
  for (guint i = 0; i < n; i++) {
    if (!rows[i].rule_key)
      continue;
    g_assert_true(scand_rules_is_match_key(rows[i].rule_key));
    g_assert_nonnull(scand_config_schema_find(rule->keys, rows[i].rule_key));
    const char *value = rows[i].rule_values ? "scan" : "v1";
    g_autofree char *text = g_strdup_printf("[output o]\ntype = folder\npath = /srv/o\n"
                                            "[rule r]\n%s = %s\ndeliver = o\n",
                                            rows[i].rule_key, rows[i].rule_values ? "s*" : "v*");
    g_autoptr(ScandConfig) config = load(text);
    ScandJobFacts facts = { .pages = 1 };
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandRoute) unset = scand_rules_route(config, &facts, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(unset->rule, ==, "(default)");
    scand_fact_set_text(&facts, &rows[i], value);
    g_autoptr(ScandRoute) set = scand_rules_route(config, &facts, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(set->rule, ==, "r");
    checked++;
  }
  g_assert_cmpuint(checked, >=, 9);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rules/first-match", test_first_match);
  g_test_add_func("/rules/match-keys", test_match_keys);
  g_test_add_func("/rules/default", test_default);
  g_test_add_func("/rules/barcode", test_barcode);
  g_test_add_func("/rules/errors", test_errors);
  g_test_add_func("/rules/malformed-values", test_malformed_values);
  g_test_add_func("/rules/days-hours", test_days_hours);
  g_test_add_func("/rules/fact-keys", test_fact_keys);
  return g_test_run();
}
