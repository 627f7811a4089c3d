/* Routing: the first [rule] whose match keys all hold decides. */
#include "rules/rules.h"

#include <stdio.h>
#include <string.h>

#include "rules/template.h"
#include "scand/base/error.h"

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

/* A match key: unset matches anything. check() says whether value (the
 * key's text) holds for the facts; on FALSE it sets *why to what differed;
 * it fails (returns -1) only when the value is malformed. */
typedef int (*MatchFunc)(const char *value, const ScandRuleFacts *facts, char **why);

/* A glob over a fact; a fact the job does not have never matches. */
static int match_glob(const char *want, const char *fact, const char *what, char **why) {
  if (fact && g_pattern_match_simple(want, fact))
    return 1;
  *why = fact ? g_strdup_printf("%s \"%s\" does not match \"%s\"", what, fact, want)
              : g_strdup_printf("the job has no %s (rule wants \"%s\")", what, want);
  return 0;
}

static int match_device(const char *v, const ScandRuleFacts *f, char **why) {
  return match_glob(v, f->device, "device", why);
}
static int match_profile(const char *v, const ScandRuleFacts *f, char **why) {
  return match_glob(v, f->profile, "profile", why);
}
static int match_source(const char *v, const ScandRuleFacts *f, char **why) {
  return match_glob(v, f->source_kind, "source", why);
}
static int match_trigger(const char *v, const ScandRuleFacts *f, char **why) {
  return match_glob(v, f->trigger, "trigger", why);
}
static int match_panel(const char *v, const ScandRuleFacts *f, char **why) {
  return match_glob(v, f->panel, "panel destination", why);
}
static int match_watch(const char *v, const ScandRuleFacts *f, char **why) {
  return match_glob(v, f->watch, "watched folder", why);
}
static int match_path(const char *v, const ScandRuleFacts *f, char **why) {
  return match_glob(v, f->path, "path", why);
}
static int match_sender(const char *v, const ScandRuleFacts *f, char **why) {
  return match_glob(v, f->sender, "sender", why);
}
static int match_recipient(const char *v, const ScandRuleFacts *f, char **why) {
  return match_glob(v, f->recipient, "recipient", why);
}

static int parse_count(const char *v, gint64 *out) {
  char *end = NULL;
  gint64 n = g_ascii_strtoll(v, &end, 10);
  if (!*v || *end || n < 0)
    return -1;
  *out = n;
  return 0;
}

static int match_pages_min(const char *v, const ScandRuleFacts *f, char **why) {
  gint64 n;
  if (parse_count(v, &n) < 0)
    return -1;
  if ((gint64) f->pages >= n)
    return 1;
  *why = g_strdup_printf("%u pages, rule wants at least %" G_GINT64_FORMAT, f->pages, n);
  return 0;
}

static int match_pages_max(const char *v, const ScandRuleFacts *f, char **why) {
  gint64 n;
  if (parse_count(v, &n) < 0)
    return -1;
  if ((gint64) f->pages <= n)
    return 1;
  *why = g_strdup_printf("%u pages, rule wants at most %" G_GINT64_FORMAT, f->pages, n);
  return 0;
}

static const char *const day_names[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static int day_index(const char *s) {
  for (int i = 0; i < 7; i++)
    if (g_ascii_strncasecmp(s, day_names[i], 3) == 0 && strlen(s) == 3)
      return i + 1;
  return -1;
}

/* "mon-fri", "sat,sun", "mon,wed-fri". */
static int match_days(const char *v, const ScandRuleFacts *f, char **why) {
  g_autoptr(GDateTime) now = f->time ? g_date_time_ref(f->time) : g_date_time_new_now_local();
  int today = g_date_time_get_day_of_week(now);
  g_auto(GStrv) parts = g_strsplit(v, ",", -1);
  for (guint i = 0; parts[i]; i++) {
    g_auto(GStrv) range = g_strsplit(g_strstrip(parts[i]), "-", 2);
    int a = day_index(range[0]), b = range[1] ? day_index(range[1]) : a;
    if (a < 0 || b < 0)
      return -1;
    if ((a <= b && today >= a && today <= b) || (a > b && (today >= a || today <= b)))
      return 1;
  }
  *why = g_strdup_printf("it is %s, rule wants %s", day_names[today - 1], v);
  return 0;
}

static int parse_hhmm(const char *s, int *minutes) {
  int h, m;
  char extra;
  if (sscanf(s, "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 24 || m < 0 || m > 59)
    return -1;
  *minutes = h * 60 + m;
  return 0;
}

/* "08:00-18:00"; "22:00-06:00" crosses midnight. */
static int match_hours(const char *v, const ScandRuleFacts *f, char **why) {
  g_auto(GStrv) range = g_strsplit(v, "-", 2);
  int from, to;
  if (!range[0] || !range[1] || parse_hhmm(g_strstrip(range[0]), &from) < 0 ||
      parse_hhmm(g_strstrip(range[1]), &to) < 0)
    return -1;
  g_autoptr(GDateTime) now = f->time ? g_date_time_ref(f->time) : g_date_time_new_now_local();
  int t = g_date_time_get_hour(now) * 60 + g_date_time_get_minute(now);
  if ((from <= to && t >= from && t < to) || (from > to && (t >= from || t < to)))
    return 1;
  *why = g_strdup_printf("it is %02d:%02d, rule wants %s", t / 60, t % 60, v);
  return 0;
}

/* The match keys of a [rule], in the order they are explained. */
static const struct {
  const char *key;
  MatchFunc match;
  const char *form;
} match_keys[] = {
  { "source", match_source, "scan, watch, mail or file (glob)" },
  { "device", match_device, "a device URI glob, e.g. escl:*" },
  { "profile", match_profile, "a profile name (glob)" },
  { "trigger", match_trigger, "cli, dbus, feeder, button, panel, watch (glob)" },
  { "panel", match_panel, "a panel destination name (glob)" },
  { "watch", match_watch, "a [watch] name (glob)" },
  { "path", match_path, "a glob over the file's path inside the watched folder" },
  { "sender", match_sender, "a glob over the sender's address" },
  { "recipient", match_recipient, "a glob over the recipient's address" },
  { "pages-min", match_pages_min, "a number" },
  { "pages-max", match_pages_max, "a number" },
  { "days", match_days, "days like mon-fri or sat,sun" },
  { "hours", match_hours, "a time range like 08:00-18:00" },
};

/* Whether rule matches; *why (may be NULL) gets what did not. FALSE only on
 * a malformed match key. */
static gboolean rule_matches(ScandConfig *config, const char *rule, const ScandRuleFacts *facts, gboolean *matches,
                             char **why, GError **error) {
  for (guint i = 0; i < G_N_ELEMENTS(match_keys); i++) {
    const char *value = scand_config_get(config, "rule", rule, match_keys[i].key);
    if (!value)
      continue;
    g_autofree char *reason = NULL;
    int r = match_keys[i].match(value, facts, &reason);
    if (r < 0)
      return rule_error(error, config, rule, match_keys[i].key, SCAND_ERROR_INVAL, "\"%s\": expected %s", value,
                        match_keys[i].form);
    if (r == 0) {
      *matches = FALSE;
      if (why)
        *why = g_strdup_printf("%s: %s", match_keys[i].key, reason);
      return TRUE;
    }
  }
  *matches = TRUE;
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

ScandRoute *scand_rules_explain(ScandConfig *config, const ScandRuleFacts *facts, GPtrArray *lines, GError **error) {
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

ScandRoute *scand_rules_route(ScandConfig *config, const ScandRuleFacts *facts, GError **error) {
  return scand_rules_explain(config, facts, NULL, error);
}

gboolean scand_rules_is_match_key(const char *key) {
  for (guint i = 0; i < G_N_ELEMENTS(match_keys); i++)
    if (strcmp(match_keys[i].key, key) == 0)
      return TRUE;
  return FALSE;
}
