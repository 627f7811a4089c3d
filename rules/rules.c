/* Routing: the first [rule] whose match keys all hold decides. */
#include "rules/rules.h"

#include <stdio.h>
#include <string.h>

#include "rules/template.h"
#include "scand/base/error.h"
#include "scand/base/schedule.h"

void scand_route_free(ScandRoute *route) {
  if (!route)
    return;
  g_free(route->rule);
  g_strfreev(route->deliver);
  g_free(route->name_template);
  g_free(route->fallback);
  g_free(route->after);
  g_free(route);
}

/* The built-in route: the caller's default folder under the default name. */
static ScandRoute *route_default(void) {
  ScandRoute *route = g_new0(ScandRoute, 1);
  route->rule = g_strdup("(default)");
  route->deliver = g_new0(char *, 2);
  route->deliver[0] = g_strdup("(default)");
  route->name_template = g_strdup(SCAND_DEFAULT_NAME_TEMPLATE);
  return route;
}

static gboolean G_GNUC_PRINTF(6, 7)
    rule_error(GError **error, ScandConfig *config, const char *rule, const char *key, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *where = scand_config_where(config, "rule", rule, key);
  if (!where)
    where = scand_config_where(config, "rule", rule, NULL);
  g_set_error(error, SCAND_ERROR, code, "%s: [rule %s]%s%s: %s", where ? where : "(built-in)", rule, key ? " " : "",
              key ? key : "", message);
  return FALSE;
}

/* A match key: unset matches anything. match() says whether value (the
 * key's text) holds for the facts: 1 yes, 0 no (with *why saying what
 * differed); -1 when the value is malformed, with *error saying how. */
typedef int (*MatchFunc)(const char *value, const ScandJobFacts *facts, char **why, GError **error);

/* A glob over a text fact (the facts table's rows with a rule key); a fact
 * the job does not have never matches. */
static int match_fact(const ScandFact *row, const char *want, const ScandJobFacts *facts, char **why) {
  const char *fact = scand_fact_get_text(facts, row);
  /* Mail addresses compare without regard to case (RFC 5321 2.4 lets the
   * local part be case-sensitive; no real mailbox relies on it). */
  g_autofree char *w = row->caseless ? g_ascii_strdown(want, -1) : NULL;
  g_autofree char *f = row->caseless && fact ? g_ascii_strdown(fact, -1) : NULL;
  if (fact && g_pattern_match_simple(w ? w : want, f ? f : fact))
    return 1;
  *why = fact ? g_strdup_printf("%s \"%s\" does not match \"%s\"", row->what, fact, want)
              : g_strdup_printf("the job has no %s (rule wants \"%s\")", row->what, want);
  return 0;
}

/* A page count, as the config schema has it (pages-min, pages-max). */
static int parse_count(const char *v, gint64 *out, GError **error) {
  if (g_ascii_string_to_signed(v, 10, 0, SCAND_RULES_PAGES_MAX, out, NULL))
    return 0;
  g_autofree char *escaped = g_strescape(v, NULL);
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "\"%s\" is not a whole number from 0 to %d", escaped,
              SCAND_RULES_PAGES_MAX);
  return -1;
}

static int match_pages_min(const char *v, const ScandJobFacts *f, char **why, GError **error) {
  gint64 n;
  if (parse_count(v, &n, error) < 0)
    return -1;
  if ((gint64) f->pages >= n)
    return 1;
  *why = g_strdup_printf("%u pages, rule wants at least %" G_GINT64_FORMAT, f->pages, n);
  return 0;
}

static int match_pages_max(const char *v, const ScandJobFacts *f, char **why, GError **error) {
  gint64 n;
  if (parse_count(v, &n, error) < 0)
    return -1;
  if ((gint64) f->pages <= n)
    return 1;
  *why = g_strdup_printf("%u pages, rule wants at most %" G_GINT64_FORMAT, f->pages, n);
  return 0;
}

static const char *const day_names[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static int match_days(const char *v, const ScandJobFacts *f, char **why, GError **error) {
  guint8 days;
  if (!scand_schedule_parse_days(v, &days, error))
    return -1;
  g_autoptr(GDateTime) now = f->time ? g_date_time_ref(f->time) : g_date_time_new_now_local();
  int today = g_date_time_get_day_of_week(now);
  if (days & (1u << today))
    return 1;
  *why = g_strdup_printf("it is %s, rule wants %s", day_names[today - 1], v);
  return 0;
}

static int match_hours(const char *v, const ScandJobFacts *f, char **why, GError **error) {
  ScandScheduleMinutes minutes;
  if (!scand_schedule_parse_hours(v, &minutes, error))
    return -1;
  g_autoptr(GDateTime) now = f->time ? g_date_time_ref(f->time) : g_date_time_new_now_local();
  int t = g_date_time_get_hour(now) * 60 + g_date_time_get_minute(now);
  if (scand_schedule_minutes_has(&minutes, t))
    return 1;
  *why = g_strdup_printf("it is %02d:%02d, rule wants %s", t / 60, t % 60, v);
  return 0;
}

/* The match keys beyond the facts' own: counts and the clock. They are
 * explained after the facts, in this order. */
static const struct {
  const char *key;
  MatchFunc match;
} match_keys[] = {
  { "pages-min", match_pages_min },
  { "pages-max", match_pages_max },
  { "days", match_days },
  { "hours", match_hours },
};

/* Checks one key of rule; FALSE with error for a malformed value. A key that
 * does not hold sets *matches FALSE and, the first time, *why. */
static gboolean rule_key_matches(ScandConfig *config, const char *rule, const char *key, const ScandFact *row,
                                 MatchFunc match, const ScandJobFacts *facts, gboolean *matches, char **why,
                                 GError **error) {
  const char *value = scand_config_get(config, "rule", rule, key);
  if (!value)
    return TRUE;
  g_autofree char *reason = NULL;
  g_autoptr(GError) local = NULL;
  int r = row ? match_fact(row, value, facts, &reason) : match(value, facts, &reason, &local);
  if (r < 0)
    return rule_error(error, config, rule, key, SCAND_ERROR_INVAL, "%s", local->message);
  if (r == 0 && *matches) {
    *matches = FALSE;
    if (why)
      *why = g_strdup_printf("%s: %s", key, reason);
  }
  return TRUE;
}

/* Whether rule matches; *why (may be NULL) gets what did not. FALSE only on
 * a malformed match key. Every key is parsed, also after one that does not
 * hold, so that a malformed value fails whatever the facts. */
static gboolean rule_matches(ScandConfig *config, const char *rule, const ScandJobFacts *facts, gboolean *matches,
                             char **why, GError **error) {
  *matches = TRUE;
  guint n;
  const ScandFact *rows = scand_facts_table(&n);
  for (guint i = 0; i < n; i++)
    if (rows[i].rule_key &&
        !rule_key_matches(config, rule, rows[i].rule_key, &rows[i], NULL, facts, matches, why, error))
      return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(match_keys); i++)
    if (!rule_key_matches(config, rule, match_keys[i].key, NULL, match_keys[i].match, facts, matches, why, error))
      return FALSE;
  return TRUE;
}

/* Builds the route of a matching rule, checking what a delivery would trip on. */
static ScandRoute *route_from_rule(ScandConfig *config, const char *rule, GError **error) {
  g_autoptr(ScandRoute) route = g_new0(ScandRoute, 1);
  route->rule = g_strdup(rule);

  const char *deliver = scand_config_get(config, "rule", rule, "deliver");
  if (!deliver) {
    rule_error(error, config, rule, "deliver", SCAND_ERROR_INVAL, "missing (required: the outputs to deliver to)");
    return NULL;
  }
  g_auto(GStrv) names = scand_config_split_list(deliver);
  for (guint i = 0; names[i]; i++)
    if (!scand_config_has_section(config, "output", names[i])) {
      rule_error(error, config, rule, "deliver", SCAND_ERROR_NOT_FOUND, "no [output %s] section", names[i]);
      return NULL;
    }
  if (!names[0]) {
    rule_error(error, config, rule, "deliver", SCAND_ERROR_INVAL, "no output named");
    return NULL;
  }
  route->deliver = g_steal_pointer(&names);

  const char *tmpl = scand_config_get(config, "rule", rule, "name");
  g_autoptr(GError) local = NULL;
  if (tmpl && !scand_template_check(tmpl, &local)) {
    rule_error(error, config, rule, "name", SCAND_ERROR_INVAL, "%s", local->message);
    return NULL;
  }
  route->name_template = g_strdup(tmpl ? tmpl : SCAND_DEFAULT_NAME_TEMPLATE);

  const char *fallback = scand_config_get(config, "rule", rule, "fallback");
  if (fallback && !scand_config_has_section(config, "output", fallback)) {
    rule_error(error, config, rule, "fallback", SCAND_ERROR_NOT_FOUND, "no [output %s] section", fallback);
    return NULL;
  }
  route->fallback = g_strdup(fallback);
  route->after = g_strdup(scand_config_get(config, "rule", rule, "after"));
  if (!scand_config_get_duration(config, "rule", rule, "fallback-after", 0, &route->fallback_after, error) ||
      !scand_config_get_int(config, "rule", rule, "fallback-attempts", 0, &route->fallback_attempts, error))
    return NULL;
  return g_steal_pointer(&route);
}

ScandRoute *scand_rules_explain(ScandConfig *config, const ScandJobFacts *facts, GPtrArray *lines, GError **error) {
  g_auto(GStrv) rules = scand_config_list_sections(config, "rule");
  for (guint i = 0; rules[i]; i++) {
    gboolean matches = FALSE;
    g_autofree char *why = NULL;
    if (!rule_matches(config, rules[i], facts, &matches, lines ? &why : NULL, error))
      return NULL;
    if (matches) {
      if (lines) {
        g_autofree char *where = scand_config_where(config, "rule", rules[i], NULL);
        g_ptr_array_add(lines, g_strdup_printf("[rule %s] (%s): matches", rules[i], where ? where : "?"));
      }
      return route_from_rule(config, rules[i], error);
    }
    if (lines)
      g_ptr_array_add(lines, g_strdup_printf("[rule %s]: no — %s", rules[i], why));
  }
  if (lines)
    g_ptr_array_add(lines, g_strdup(rules[0] ? "no rule matches: the built-in default applies"
                                             : "no [rule] in the configuration: the built-in default applies"));
  return route_default();
}

ScandRoute *scand_rules_route(ScandConfig *config, const ScandJobFacts *facts, GError **error) {
  return scand_rules_explain(config, facts, NULL, error);
}

gboolean scand_rules_is_match_key(const char *key) {
  if (scand_facts_find_rule_key(key))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS(match_keys); i++)
    if (strcmp(match_keys[i].key, key) == 0)
      return TRUE;
  return FALSE;
}
