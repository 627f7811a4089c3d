/* Routing: the first [rule] whose match keys all hold decides. */
#include "rules/rules.h"

#include <string.h>

#include "rules/template.h"
#include "scand/error.h"

void scand_route_free(ScandRoute *route) {
  if (!route)
    return;
  g_free(route->rule);
  g_strfreev(route->deliver);
  g_free(route->name_template);
  g_free(route->fallback);
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

static gboolean G_GNUC_PRINTF(6, 7) rule_error(GError **error, ScandConfig *config, const char *rule,
                                                const char *key, int code, const char *fmt, ...) {
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

/* Whether a string match key holds: unset matches anything; set never
 * matches a fact the job does not have. */
static gboolean match_equal(ScandConfig *config, const char *rule, const char *key, const char *fact) {
  const char *want = scand_config_get(config, "rule", rule, key);
  return !want || (fact && strcmp(want, fact) == 0);
}

/* Sets *matches for one rule; FALSE only on a malformed match key. */
static gboolean rule_matches(ScandConfig *config, const char *rule, const ScandRuleFacts *facts, gboolean *matches,
                             GError **error) {
  gint64 pages_min, pages_max;
  if (!scand_config_get_int(config, "rule", rule, "pages-min", 0, &pages_min, error) ||
      !scand_config_get_int(config, "rule", rule, "pages-max", G_MAXINT64, &pages_max, error))
    return FALSE;
  const char *device = scand_config_get(config, "rule", rule, "device");
  *matches = (!device || (facts->device && g_pattern_match_simple(device, facts->device))) &&
             match_equal(config, rule, "profile", facts->profile) &&
             match_equal(config, rule, "source", facts->source_kind) &&
             match_equal(config, rule, "trigger", facts->trigger) &&
             (gint64) facts->pages >= pages_min && (gint64) facts->pages <= pages_max;
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
  g_auto(GStrv) parts = g_strsplit_set(deliver, ",;", -1);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  guint n = 0;
  for (guint i = 0; parts[i]; i++) {
    char *name = g_strstrip(parts[i]);
    if (!*name)
      continue;
    if (!scand_config_has_section(config, "output", name)) {
      rule_error(error, config, rule, "deliver", SCAND_ERROR_NOT_FOUND, "no [output %s] section", name);
      return NULL;
    }
    g_strv_builder_add(b, name);
    n++;
  }
  if (n == 0) {
    rule_error(error, config, rule, "deliver", SCAND_ERROR_INVAL, "no output named");
    return NULL;
  }
  route->deliver = g_strv_builder_end(b);

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
  if (!scand_config_get_duration(config, "rule", rule, "fallback-after", 0, &route->fallback_after, error) ||
      !scand_config_get_int(config, "rule", rule, "fallback-attempts", 0, &route->fallback_attempts, error))
    return NULL;
  return g_steal_pointer(&route);
}

ScandRoute *scand_rules_route(ScandConfig *config, const ScandRuleFacts *facts, GError **error) {
  g_auto(GStrv) rules = scand_config_list_sections(config, "rule");
  for (guint i = 0; rules[i]; i++) {
    gboolean matches = FALSE;
    if (!rule_matches(config, rules[i], facts, &matches, error))
      return NULL;
    if (matches)
      return route_from_rule(config, rules[i], error);
  }
  return route_default();
}
