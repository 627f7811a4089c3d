/* `scand config check`: the file's vocabulary (scand/base/config-schema.h)
 * together with the output driver table and the template checker, so that
 * every problem a running scand would trip on is found before it runs. */
#include "scand/core/config-check.h"
#include "scand/core/config-intake.h"
#include "backends/panel.h"
#include "outputs/output.h"
#include "rules/template.h"
#include "scand/base/config-schema.h"
#include "scand/base/http.h"
#include "scand/base/listen-address.h"
#include "scand/base/panel-names.h"
#include "scand/base/schedule.h"
#include "scand/base/secret.h"
#include "scand-build.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A section or a key as the checks see them (borrowed strings). */
typedef struct {
  const char *kind;
  const char *name; /* NULL for a nameless section */
} Section;

typedef struct {
  const char *key;
  const char *value;
} Entry;

/* [output NAME] has "type" plus the keys of its driver; the enum of types is
 * the driver table, so it is built once at run time. */
static ScandConfigKey schema_output[] = {
  { .name = "type", .type = SCAND_KEY_ENUM, .values = NULL },
  { NULL },
};

static void schema_output_init(void) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    const ScandOutputDriver *const *drivers = scand_output_drivers();
    GString *values = g_string_new(NULL);
    for (guint i = 0; drivers && drivers[i]; i++)
      g_string_append_printf(values, "%s%s", values->len ? "|" : "", drivers[i]->type);
    /* Lives as long as the process, like the driver table it describes. */
    schema_output[0].values = g_string_free(values, FALSE);
    g_once_init_leave(&once, 1);
  }
}

const ScandConfigKey *scand_config_schema(const char *kind) {
  const ScandConfigKind *k = scand_config_kind_find(kind);
  if (!k)
    return NULL;
  if (strcmp(k->kind, "output") == 0) {
    schema_output_init();
    return schema_output;
  }
  return k->keys;
}

guint scand_config_edit_distance(const char *a, const char *b, guint cap) {
  gsize la = strlen(a), lb = strlen(b);
  if ((la > lb ? la - lb : lb - la) > cap)
    return cap + 1;
  g_autofree guint *row = g_new(guint, lb + 1);
  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++) {
    guint diag = row[0], best;
    row[0] = best = i;
    for (gsize j = 1; j <= lb; j++) {
      guint up = row[j];
      guint v = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] != b[j - 1]));
      row[j] = v;
      diag = up;
      best = MIN(best, v);
    }
    if (best > cap)
      return cap + 1;
  }
  return MIN(row[lb], cap + 1);
}

/* The candidate closest to word when it is a likely typo, else NULL. */
static const char *nearest(const char *word, const char *const *candidates) {
  const char *best = NULL;
  guint cap = strlen(word) <= 4 ? 1 : 2, best_d = cap + 1;
  for (guint i = 0; candidates && candidates[i]; i++) {
    guint d = scand_config_edit_distance(word, candidates[i], cap);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
  }
  return best;
}

/* A value fit for a message: at most 60 characters, control characters as '?'. */
static char *printable(const char *value) {
  GString *s = g_string_new(NULL);
  glong n = 0;
  for (const char *p = value; *p && n < 60; p = g_utf8_next_char(p), n++) {
    gunichar c = g_utf8_get_char(p);
    if (g_unichar_iscntrl(c))
      g_string_append_c(s, '?');
    else
      g_string_append_len(s, p, g_utf8_next_char(p) - p);
  }
  if (g_utf8_strlen(value, -1) > 60)
    g_string_append(s, "…");
  return g_string_free(s, FALSE);
}

static char *quote(const char *value) {
  g_autofree char *p = printable(value);
  return g_strdup_printf("\"%s\"", p);
}

static char *expected_form(const ScandConfigKey *k) {
  gint64 min, max;
  switch (k->type) {
    case SCAND_KEY_BOOL:
      return g_strdup("true or false");
    case SCAND_KEY_INT:
      scand_config_key_range(k, &min, &max);
      if (min == G_MININT64)
        return g_strdup("a whole number");
      return g_strdup_printf("a whole number from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, min, max);
    case SCAND_KEY_DURATION:
      return g_strdup("a duration such as 90, 30s, 5m, 2h or 1d");
    case SCAND_KEY_SIZE:
      return g_strdup("a size such as 1048576, 512K, 200M or 1G");
    case SCAND_KEY_ENUM:
      return g_strdup_printf("one of %s", k->values ? k->values : "(none)");
    case SCAND_KEY_PATH:
      return g_strdup("an absolute path");
    case SCAND_KEY_SECRET_FILE:
      return g_strdup("an absolute path or a credential name");
    case SCAND_KEY_FILE:
      return g_strdup("a readable file");
    case SCAND_KEY_OUTPUT:
      return g_strdup("the name of an [output] section");
    case SCAND_KEY_OUTPUT_LIST:
      return g_strdup("[output] names separated by commas");
    case SCAND_KEY_PROFILE:
      return g_strdup("the name of a [profile] section");
    case SCAND_KEY_TEMPLATE:
      return g_strdup("a file-name template");
    case SCAND_KEY_DEVICE:
      return g_strdup("a device URI: sane:NAME, escl:http[s]://HOST[:PORT]/eSCL or wsd:http[s]://HOST[:PORT]/PATH");
    case SCAND_KEY_URL:
      return g_strdup("an absolute URL such as smb://host/share");
    case SCAND_KEY_DAYS:
      return g_strdup("days like mon-fri or sat,sun");
    case SCAND_KEY_HOURS:
      return g_strdup("times of day like 08:00-18:00");
    case SCAND_KEY_STRING:
    case SCAND_KEY_LIST:
    default:
      return g_strdup("text");
  }
}

static gboolean has_control(const char *value) {
  for (const char *p = value; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

static gboolean device_valid(const char *value) {
  if (g_str_has_prefix(value, "sane:"))
    return value[5] != '\0' && !has_control(value);
  if (!g_str_has_prefix(value, "escl:") && !g_str_has_prefix(value, "wsd:"))
    return FALSE;
  const char *url = strchr(value, ':') + 1;
  if (!g_str_has_prefix(url, "http://") && !g_str_has_prefix(url, "https://"))
    return FALSE;
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  return uri && g_uri_get_host(uri) && *g_uri_get_host(uri);
}

static gboolean url_valid(const char *value) {
  g_autoptr(GUri) uri = g_uri_parse(value, G_URI_FLAGS_NONE, NULL);
  return uri != NULL && !has_control(value);
}

/* Splits an output list ("a, b; c") into trimmed non-empty names; newly allocated. */
static void check_reference(GPtrArray *problems, ScandConfig *config, const Section *s, const char *key,
                            const char *target_kind, const char *target) {
  if (scand_config_has_section(config, target_kind, target))
    return;
  g_auto(GStrv) names = scand_config_list_sections(config, target_kind);
  const char *guess = nearest(target, (const char *const *) names);
  g_autofree char *q = printable(target);
  if (guess)
    scand_config_add_problem(problems, config, s->kind, s->name, key, "no [%s %s] section (did you mean \"%s\"?)",
                             target_kind, q, guess);
  else
    scand_config_add_problem(problems, config, s->kind, s->name, key, "no [%s %s] section", target_kind, q);
}

static void check_secret_file(GPtrArray *problems, ScandConfig *config, const Section *s, const char *key,
                              const char *value) {
  g_autofree char *problem = scand_secret_problem(value);
  if (problem)
    scand_config_add_problem(problems, config, s->kind, s->name, key, "%s", problem);
}

/* A list of outputs: every item an [output] named once (an empty item is a
 * typo; an output named twice would get the document twice). */
static void check_output_list(GPtrArray *problems, ScandConfig *config, const Section *s, const char *key,
                              const char *v, const char *expected) {
  g_auto(GStrv) parts = g_strsplit_set(v, ",;", -1);
  guint n = g_strv_length(parts), named = 0;
  for (guint i = 0; i < n; i++)
    named += *g_strstrip(parts[i]) != '\0';
  if (!named) {
    scand_config_add_problem(problems, config, s->kind, s->name, key, "no output named (expected %s)", expected);
    return;
  }
  for (guint i = 0; i < n; i++)
    if (!*g_strstrip(parts[i])) {
      scand_config_add_problem(problems, config, s->kind, s->name, key, "item %u of %u is empty (expected %s)", i + 1,
                               n, expected);
      return;
    }
  for (guint i = 0; i < n; i++) {
    for (guint j = 0; j < i; j++)
      if (strcmp(parts[i], parts[j]) == 0) {
        scand_config_add_problem(problems, config, s->kind, s->name, key,
                                 "[output %s] is named twice: it would get the document twice", parts[i]);
        return;
      }
    check_reference(problems, config, s, key, "output", parts[i]);
  }
}

/* The value kinds that name something outside the text (a file, another
 * section) or have their own grammar (templates, schedules): each reports its
 * own problem. FALSE when k is none of them. */
static gboolean check_value_elsewhere(GPtrArray *problems, ScandConfig *config, const Section *s, const Entry *e,
                                      const ScandConfigKey *k, const char *expected) {
  const char *v = e->value;
  switch (k->type) {
    case SCAND_KEY_SECRET_FILE:
      check_secret_file(problems, config, s, e->key, v);
      return TRUE;
    case SCAND_KEY_FILE: {
      struct stat st;
      if (stat(v, &st) < 0 || access(v, R_OK) < 0) {
        int errsv = errno;
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "cannot read %s: %s", v,
                                 g_strerror(errsv));
      } else if (!S_ISREG(st.st_mode)) {
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s is not a regular file", v);
      }
      return TRUE;
    }
    case SCAND_KEY_OUTPUT:
      check_reference(problems, config, s, e->key, "output", v);
      return TRUE;
    case SCAND_KEY_OUTPUT_LIST:
      check_output_list(problems, config, s, e->key, v, expected);
      return TRUE;
    case SCAND_KEY_PROFILE:
      check_reference(problems, config, s, e->key, "profile", v);
      return TRUE;
    case SCAND_KEY_TEMPLATE: {
      g_autoptr(GError) error = NULL;
      if (!scand_template_check(v, &error))
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "unsafe or malformed template: %s",
                                 error->message);
      return TRUE;
    }
    case SCAND_KEY_DAYS:
    case SCAND_KEY_HOURS: {
      g_autoptr(GError) error = NULL;
      guint8 days;
      ScandScheduleMinutes minutes;
      if (k->type == SCAND_KEY_DAYS ? !scand_schedule_parse_days(v, &days, &error)
                                    : !scand_schedule_parse_hours(v, &minutes, &error))
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s", error->message);
      return TRUE;
    }
    default:
      return FALSE;
  }
}

/* Checks one value against its schema row. */
static void check_value(GPtrArray *problems, ScandConfig *config, const Section *s, const Entry *e,
                        const ScandConfigKey *k) {
  const char *v = e->value;
  gboolean ok = TRUE;
  gboolean b;
  gint64 n, min, max;
  g_autofree char *q = quote(v);
  g_autofree char *expected = expected_form(k);

  if (!*v && k->type != SCAND_KEY_STRING && k->type != SCAND_KEY_LIST) {
    scand_config_add_problem(problems, config, s->kind, s->name, e->key, "empty value (expected %s)", expected);
    return;
  }
  if (check_value_elsewhere(problems, config, s, e, k, expected))
    return;
  switch (k->type) {
    case SCAND_KEY_BOOL:
      ok = scand_config_parse_bool(v, &b);
      break;
    case SCAND_KEY_INT:
      if (!g_ascii_string_to_signed(v, 10, G_MININT64, G_MAXINT64, &n, NULL)) {
        ok = FALSE;
        break;
      }
      scand_config_key_range(k, &min, &max);
      if (n < min || n > max) {
        scand_config_add_problem(problems, config, s->kind, s->name, e->key,
                                 "%" G_GINT64_FORMAT " is out of range (expected %s)", n, expected);
        return;
      }
      break;
    case SCAND_KEY_DURATION:
      ok = scand_config_parse_duration(v, &n);
      break;
    case SCAND_KEY_SIZE:
      ok = scand_config_parse_size(v, &n);
      break;
    case SCAND_KEY_ENUM: {
      g_auto(GStrv) values = g_strsplit(k->values ? k->values : "", "|", -1);
      if (g_strv_contains((const char *const *) values, v))
        break;
      const char *guess = nearest(v, (const char *const *) values);
      if (guess)
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s is not %s (did you mean \"%s\"?)", q,
                                 expected, guess);
      else
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s is not %s", q, expected);
      return;
    }
    case SCAND_KEY_PATH:
      ok = g_path_is_absolute(v) && !has_control(v);
      break;
    case SCAND_KEY_DEVICE:
      ok = device_valid(v);
      break;
    case SCAND_KEY_URL:
      if (scand_http_url_has_userinfo(v)) {
        /* Whatever the scheme: a URL is copied into jobs and shown in messages. */
        g_autofree char *shown = scand_http_url_without_password(v);
        scand_config_add_problem(problems, config, s->kind, s->name, e->key,
                                 "\"%s\": the URL must not contain a user name or password: use username = and "
                                 "password-file =",
                                 shown ? shown : v);
        return;
      }
      ok = url_valid(v);
      break;
    case SCAND_KEY_STRING:
    case SCAND_KEY_LIST:
    default:
      break;
  }
  if (!ok)
    scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s is not %s", q, expected);
}

/* ---- checks that go beyond a type: data, one row a key ---- */

static char *check_tls_pin(ScandConfig *config, const char *v) {
  static const char form[] = "expected sha256: and 32 hex bytes separated by colons, as written by `scand trust`";
  if (!g_str_has_prefix(v, "sha256:"))
    return g_strdup_printf("not a certificate pin (%s)", form);
  g_auto(GStrv) bytes = g_strsplit(v + 7, ":", -1);
  guint n = g_strv_length(bytes);
  for (guint i = 0; i < n; i++)
    if (strlen(bytes[i]) != 2 || !g_ascii_isxdigit(bytes[i][0]) || !g_ascii_isxdigit(bytes[i][1]))
      return g_strdup_printf("byte %u is not two hex digits (%s)", i + 1, form);
  if (n != 32)
    return g_strdup_printf("has %u bytes, not 32 (%s)", n, form);
  return NULL;
}

static char *check_sane_options(ScandConfig *config, const char *v) {
  g_auto(GStrv) items = g_strsplit(v, ";", -1);
  for (guint i = 0; items[i]; i++) {
    char *item = g_strstrip(items[i]);
    if (!*item)
      continue;
    const char *eq = strchr(item, '=');
    if (!eq || eq == item)
      return g_strdup_printf("item %u is not name=value (expected \"name=value;name=value\")", i + 1);
  }
  return NULL;
}

static char *check_after(ScandConfig *config, const char *v) {
  if (strcmp(v, "delete") == 0)
    return NULL;
  if (g_str_has_prefix(v, "move:")) {
    if (g_path_is_absolute(v + 5) && !has_control(v))
      return NULL;
    return g_strdup("move: needs an absolute path (expected move:/srv/scans/done)");
  }
  return g_strdup("expected delete or move:/absolute/path");
}

/* "scan=letter;email=photo": each item names a button and an existing [profile]. */
static char *check_buttons(ScandConfig *config, const char *v) {
  static const char form[] = "expected button=profile items separated by ; such as scan=letter;email=photo";
  g_auto(GStrv) items = g_strsplit_set(v, ";,", -1);
  for (guint i = 0; items[i]; i++) {
    char *item = g_strstrip(items[i]);
    const char *eq = strchr(item, '=');
    if (!*item)
      return g_strdup_printf("item %u is empty (%s)", i + 1, form);
    g_autofree char *button = eq ? g_strstrip(g_strndup(item, (gsize) (eq - item))) : NULL;
    g_autofree char *profile = eq ? g_strstrip(g_strdup(eq + 1)) : NULL;
    if (!eq || !*button || !*profile)
      return g_strdup_printf("item %u is not button=profile (%s)", i + 1, form);
    if (!scand_config_has_section(config, "profile", profile)) {
      g_autofree char *q = printable(profile);
      return g_strdup_printf("button %s: no [profile %s] section", button, q);
    }
  }
  return NULL;
}

/* Walk-up destinations: NAME[:PROFILE] items; a named profile must exist. */
static char *check_panel(ScandConfig *config, const char *v) {
  g_autoptr(GPtrArray) names = NULL;
  char *problem = NULL;
  if (!scand_panel_names_parse(v, &names, &problem))
    return problem;
  for (guint i = 0; i < names->len; i++) {
    const ScandPanelName *n = names->pdata[i];
    if (n->profile && !scand_config_has_section(config, "profile", n->profile)) {
      g_autofree char *qn = printable(n->name);
      g_autofree char *qp = printable(n->profile);
      return g_strdup_printf("destination \"%s\" names profile \"%s\", but there is no [profile %s]", qn, qp, qp);
    }
  }
  return NULL;
}

static const struct {
  const char *kind, *key;
  char *(*check)(ScandConfig *config, const char *value);
} value_checks[] = {
  { "scanner", "tls-pin", check_tls_pin }, { "scanner", "sane-options", check_sane_options },
  { "scanner", "buttons", check_buttons }, { "scanner", "panel", check_panel },
  { "watch", "after", check_after },       { "rule", "after", check_after },
};

static void check_special(GPtrArray *problems, ScandConfig *config, const Section *s, const Entry *e) {
  for (guint i = 0; i < G_N_ELEMENTS(value_checks); i++) {
    if (strcmp(value_checks[i].kind, s->kind) != 0 || strcmp(value_checks[i].key, e->key) != 0)
      continue;
    g_autofree char *problem = value_checks[i].check(config, e->value);
    if (problem)
      scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s", problem);
  }
}

/* Walk-up destinations need a device that has a panel to show them on. */
static void check_scanner_panel(GPtrArray *problems, ScandConfig *config, const Section *s) {
  const char *value = scand_config_get(config, "scanner", s->name, "panel");
  const char *device = scand_config_get(config, "scanner", s->name, "device");
  if (!value || !device || !s->name)
    return;
  if (!scand_panel_supported(device))
    scand_config_add_problem(problems, config, "scanner", s->name, "panel",
                             "walk-up needs a device with a panel: an HP eSCL (escl:) or a WSD (wsd:) device");
}

/* The web page reaches beyond this computer only over TLS and with accounts. */
static void check_web(GPtrArray *problems, ScandConfig *config, const Section *s) {
#if !SCAND_HAVE_WEB
  scand_config_add_problem(problems, config, s->kind, s->name, NULL,
                           "this scand was built without the web page (meson setup -Dweb=enabled)");
#endif
  const char *listen = scand_config_get(config, "web", NULL, "listen");
  g_autofree char *address = NULL;
  guint port = 0;
  g_autoptr(GError) error = NULL;
  if (!scand_listen_address_parse(listen ? listen : "127.0.0.1:8091", &address, &port, &error)) {
    scand_config_add_problem(problems, config, s->kind, s->name, "listen", "%s", error->message);
    return;
  }
  const char *cert = scand_config_get(config, "web", NULL, "tls-cert");
  const char *key = scand_config_get(config, "web", NULL, "tls-key");
  const char *accounts = scand_config_get(config, "web", NULL, "accounts");
  if (!cert != !key)
    scand_config_add_problem(problems, config, s->kind, s->name, cert ? "tls-cert" : "tls-key",
                             "HTTPS needs both tls-cert and tls-key");
  if (scand_listen_address_is_loopback(address) || (cert && key && accounts))
    return;
  GString *missing = g_string_new(NULL);
  const char *const names[] = { "tls-cert", "tls-key", "accounts" };
  const char *const values[] = { cert, key, accounts };
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    if (!values[i])
      g_string_append_printf(missing, "%s%s", missing->len ? ", " : "", names[i]);
  g_autofree char *m = g_string_free(missing, FALSE);
  scand_config_add_problem(problems, config, s->kind, s->name, "listen",
                           "%s reaches beyond this computer: the page would be open to the network without %s "
                           "(listen on 127.0.0.1, or set tls-cert, tls-key and accounts)",
                           *address ? address : "every address", m);
}

static void check_rule(GPtrArray *problems, ScandConfig *config, const Section *s) {
  gint64 lo, hi;
  if (scand_config_get_int(config, "rule", s->name, "pages-min", 0, &lo, NULL) &&
      scand_config_get_int(config, "rule", s->name, "pages-max", G_MAXINT64, &hi, NULL) && lo > hi)
    scand_config_add_problem(problems, config, s->kind, s->name, "pages-max",
                             "%" G_GINT64_FORMAT " is below pages-min %" G_GINT64_FORMAT ": the rule never matches", hi,
                             lo);
}

/* Names of a schema's keys (plus extra), NULL-terminated; the strings are borrowed. */
/* Names of a schema's keys (plus extra), NULL-terminated; the strings are borrowed. */
static GPtrArray *schema_names(const ScandConfigKey *schema, const ScandConfigKey *extra) {
  GPtrArray *names = g_ptr_array_new();
  for (guint i = 0; schema && schema[i].name; i++)
    g_ptr_array_add(names, (gpointer) schema[i].name);
  for (guint i = 0; extra && extra[i].name; i++)
    g_ptr_array_add(names, (gpointer) extra[i].name);
  g_ptr_array_add(names, NULL);
  return names;
}

/* A section of a kind scand does not know: say which it might have meant. */
static void check_unknown_kind(GPtrArray *problems, ScandConfig *config, const Section *s) {
  guint n_kinds;
  const ScandConfigKind *kinds = scand_config_kinds(&n_kinds);
  g_autofree const char **names = g_new0(const char *, n_kinds + 1);
  GString *known = g_string_new(NULL);
  for (guint i = 0; i < n_kinds; i++) {
    names[i] = kinds[i].kind;
    g_string_append_printf(known, "%s%s", i ? ", " : "", kinds[i].kind);
  }
  const char *guess = nearest(s->kind, names);
  g_autofree char *q = quote(s->kind);
  g_autofree char *list = g_string_free(known, FALSE);
  if (guess)
    scand_config_add_problem(problems, config, s->kind, s->name, NULL,
                             "unknown section kind %s (did you mean [%s%s%s]?)", q, guess, s->name ? " " : "",
                             s->name ? s->name : "");
  else
    scand_config_add_problem(problems, config, s->kind, s->name, NULL, "unknown section kind %s (known: %s)", q, list);
}

/* The driver of an [output] section's type, or NULL (reported when the type is
 * set but unknown; a missing type is reported as a required key). */
static const ScandOutputDriver *check_output_type(GPtrArray *problems, ScandConfig *config, const Section *s) {
  const char *type = scand_config_get(config, s->kind, s->name, "type");
  const ScandOutputDriver *driver = scand_output_driver_find(type);
  if (!type || driver)
    return driver;
  const char *types = scand_config_schema("output")[0].values;
  g_auto(GStrv) list = g_strsplit(types, "|", -1);
  const char *guess = nearest(type, (const char *const *) list);
  g_autofree char *q = quote(type);
  if (guess)
    scand_config_add_problem(problems, config, s->kind, s->name, "type",
                             "unknown output type %s (did you mean \"%s\"?)", q, guess);
  else
    scand_config_add_problem(problems, config, s->kind, s->name, "type", "unknown output type %s (known: %s)", q,
                             types);
  return NULL;
}

/* Every key of a section against its schema (and its output driver's keys);
 * keys_known FALSE when nobody can tell which keys belong (an output of an
 * unknown type): then only the known ones are checked. */
static void check_keys(GPtrArray *problems, ScandConfig *config, const Section *s, const ScandConfigKey *schema,
                       const ScandOutputDriver *driver, gboolean keys_known) {
  g_autoptr(GPtrArray) names = schema_names(schema, driver ? driver->keys : NULL);
  g_auto(GStrv) keys = scand_config_list_keys(config, s->kind, s->name);
  for (guint i = 0; keys[i]; i++) {
    const Entry entry = { keys[i], scand_config_get(config, s->kind, s->name, keys[i]) }, *e = &entry;
    const ScandConfigKey *k = scand_config_schema_find(schema, e->key);
    if (!k && driver)
      k = scand_config_schema_find(driver->keys, e->key);
    if (k == &schema_output[0])
      continue; /* "type" was checked on its own */
    if (!k) {
      if (!keys_known)
        continue;
      const char *guess = nearest(e->key, (const char *const *) names->pdata);
      if (guess)
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "unknown key (did you mean \"%s\"?)",
                                 guess);
      else
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "unknown key");
      continue;
    }
    check_value(problems, config, s, e, k);
    check_special(problems, config, s, e);
  }
}

static void check_required(GPtrArray *problems, ScandConfig *config, const Section *s, const ScandConfigKind *kind,
                           const ScandConfigKey *schema) {
  if (!kind->required)
    return;
  g_auto(GStrv) required = g_strsplit(kind->required, "|", -1);
  for (guint i = 0; required[i]; i++) {
    if (scand_config_get(config, s->kind, s->name, required[i]))
      continue;
    const ScandConfigKey *k = scand_config_schema_find(schema, required[i]);
    g_autofree char *expected = expected_form(k);
    scand_config_add_problem(problems, config, s->kind, s->name, required[i], "missing (required: %s)", expected);
  }
}

static void check_section(ScandConfig *config, const char *kind_name, const char *name, gpointer user_data) {
  GPtrArray *problems = user_data;
  const Section section = { kind_name, name }, *s = &section;
  const ScandConfigKind *kind = scand_config_kind_find(s->kind);
  if (!kind) {
    check_unknown_kind(problems, config, s);
    return;
  }
  if (kind->named && !s->name)
    scand_config_add_problem(problems, config, s->kind, s->name, NULL, "needs a name: [%s NAME]", s->kind);
  if (!kind->named && s->name)
    scand_config_add_problem(problems, config, s->kind, s->name, NULL, "takes no name: write [%s]", s->kind);

  const ScandConfigKey *schema = scand_config_schema(s->kind);
  const ScandOutputDriver *driver = NULL;
  gboolean is_output = strcmp(s->kind, "output") == 0;
  if (is_output)
    driver = check_output_type(problems, config, s);
  /* Without a driver nobody knows which keys belong. */
  check_keys(problems, config, s, schema, driver, !is_output || driver != NULL);
  check_required(problems, config, s, kind, schema);
  if (strcmp(s->kind, "rule") == 0)
    check_rule(problems, config, s);
  if (strcmp(s->kind, "intake") == 0 && s->name) {
    scand_config_check_intake(problems, config, s->name);
    scand_config_warn_intake(config, s->name);
  }
  if (strcmp(s->kind, "account") == 0 && s->name)
    scand_config_check_account(problems, config, s->name);
  if (strcmp(s->kind, "scanner") == 0)
    check_scanner_panel(problems, config, s);
  if (strcmp(s->kind, "web") == 0 && !s->name)
    check_web(problems, config, s);
  /* Drivers print the name; a nameless [output] was reported above. */
  if (driver && driver->check && s->name)
    driver->check(config, s->name, problems);
}

GPtrArray *scand_config_check(ScandConfig *config) {
  GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
  scand_config_foreach_section(config, check_section, problems);
  return problems;
}
