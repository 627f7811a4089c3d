/* File-name templates. A template is the admin's, so its literal text and
 * date formats may make directories; values that come from devices or the
 * network are flattened into one safe component. Whatever the parts, the
 * finished name is checked once more as a whole before anyone writes to it. */
#include "rules/template.h"

#include <string.h>

#include "scand/base/error.h"

#define TEMPLATE_MAX_NAME 1024
#define TEMPLATE_MAX_COMPONENT 255
/* A template longer than this cannot expand to a valid name anyway. */
#define TEMPLATE_MAX_TEMPLATE 4096

/* Fields besides the facts table's: the clock and the sequence number, which
 * take an argument (a strftime format; a number of digits). */
static const char *const clock_fields[] = { "date", "time", NULL };

static gboolean G_GNUC_PRINTF(2, 3) template_error(GError **error, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_INVAL, message);
  return FALSE;
}

static gboolean is_control(gunichar c) {
  return c < 0x20 || (c >= 0x7f && c < 0xa0);
}

/* Replaces what is unsafe in one component; newly allocated, never empty. */
char *scand_template_sanitize_component(const char *value) {
  g_autofree char *valid = g_utf8_make_valid(value ? value : "", -1);
  GString *s = g_string_new(NULL);
  for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (is_control(c) || (c < 0x80 && strchr("/\\:*?\"<>|", (int) c)))
      g_string_append_c(s, '_');
    else
      g_string_append_len(s, p, g_utf8_next_char(p) - p);
  }
  gsize skip = strspn(s->str, ". ");
  g_string_erase(s, 0, skip);
  if (s->len > TEMPLATE_MAX_COMPONENT) {
    /* Cut at a character boundary so the result stays UTF-8. */
    const char *end = g_utf8_find_prev_char(s->str, s->str + TEMPLATE_MAX_COMPONENT + 1);
    g_string_truncate(s, end - s->str);
  }
  if (s->len == 0)
    g_string_assign(s, "_");
  return g_string_free(s, FALSE);
}

/* Checks a finished name as a whole: the last line of defence. */
static gboolean name_check(const char *name, GError **error) {
  gsize len = strlen(name);
  if (len == 0)
    return template_error(error, "expands to an empty name");
  if (len > TEMPLATE_MAX_NAME)
    return template_error(error, "expands to %" G_GSIZE_FORMAT " bytes, more than %d", len, TEMPLATE_MAX_NAME);
  if (!g_utf8_validate(name, len, NULL))
    return template_error(error, "expands to a name that is not UTF-8");
  for (const char *p = name; *p; p = g_utf8_next_char(p)) {
    if (is_control(g_utf8_get_char(p)))
      return template_error(error, "expands to a name with a control character at byte %d", (int) (p - name) + 1);
    /* SMB would take it for a separator. */
    if (*p == '\\')
      return template_error(error, "expands to a name with a backslash at byte %d", (int) (p - name) + 1);
  }
  if (name[0] == '/')
    return template_error(error, "expands to an absolute path: a leading '/' would leave the destination");
  guint n = 1;
  for (const char *p = name;; n++) {
    const char *slash = strchr(p, '/');
    gsize clen = slash ? (gsize) (slash - p) : strlen(p);
    if (clen == 0)
      return template_error(error, "expands to an empty path component (part %u: '//' or a trailing '/')", n);
    if (clen == 1 && p[0] == '.')
      return template_error(error, "expands to '.' as part %u of the path", n);
    if (clen == 2 && p[0] == '.' && p[1] == '.')
      return template_error(error, "'..' would leave the destination (part %u of the path)", n);
    if (clen > TEMPLATE_MAX_COMPONENT)
      return template_error(error, "part %u of the path is %" G_GSIZE_FORMAT " bytes, more than %d", n, clen,
                            TEMPLATE_MAX_COMPONENT);
    if (!slash)
      break;
    p = slash + 1;
  }
  return TRUE;
}

/* "date, time, device, …": the fields a file-name template knows. */
static char *known_fields(void) {
  GString *s = g_string_new("date, time");
  guint n;
  const ScandFact *rows = scand_facts_table(&n);
  for (guint i = 0; i < n; i++)
    if (rows[i].field && (rows[i].use & SCAND_FACT_IN_NAMES))
      g_string_append_printf(s, ", %s", rows[i].field);
  return g_string_free(s, FALSE);
}

/* {date[:FMT]} and {time[:FMT]} of the job's time (NULL when there is none). */
static char *clock_format(const ScandJobFacts *facts, const char *name, const char *arg, const char *date_default) {
  const char *fmt = arg ? arg : strcmp(name, "date") == 0 ? date_default : "%H%M%S";
  return g_date_time_format(facts->time, fmt);
}

/* Appends the value of one field; pos is the 1-based position of its '{'. */
static gboolean field_expand(GString *out, const char *text, gsize pos, const ScandJobFacts *facts, GError **error) {
  g_autofree char *name = g_strdup(text);
  char *arg = strchr(name, ':');
  if (arg)
    *arg++ = '\0';
  gboolean is_clock = g_strv_contains(clock_fields, name);
  const ScandFact *row = is_clock ? NULL : scand_facts_find_field(name);
  if (!is_clock && (!row || !(row->use & SCAND_FACT_IN_NAMES))) {
    g_autofree char *known = known_fields();
    return template_error(error, "unknown field {%s} at position %" G_GSIZE_FORMAT " (known: %s)", text, pos, known);
  }
  gboolean is_seq = row && row->type == SCAND_FACT_COUNT && strcmp(row->field, "seq") == 0;
  if (arg && !is_clock && !is_seq)
    return template_error(error, "field {%s} at position %" G_GSIZE_FORMAT " takes no argument", name, pos);
  if (arg && !*arg)
    return template_error(error, "field {%s:} at position %" G_GSIZE_FORMAT " has an empty argument", name, pos);

  if (is_clock) {
    if (!facts->time)
      return template_error(error, "no time for field {%s} at position %" G_GSIZE_FORMAT, name, pos);
    g_autofree char *formatted = clock_format(facts, name, arg, "%Y-%m-%d");
    if (!formatted)
      return template_error(error, "field {%s} at position %" G_GSIZE_FORMAT " has an invalid format", text, pos);
    g_string_append(out, formatted);
    return TRUE;
  }
  if (is_seq) {
    guint64 digits = 4;
    if (arg && !g_ascii_string_to_unsigned(arg, 10, 1, 9, &digits, NULL))
      return template_error(error, "field {%s} at position %" G_GSIZE_FORMAT " wants a number of digits from 1 to 9",
                            text, pos);
    g_string_append_printf(out, "%0*u", (int) digits, scand_fact_get_count(facts, row));
    return TRUE;
  }
  if (row->type == SCAND_FACT_COUNT) {
    g_string_append_printf(out, "%u", scand_fact_get_count(facts, row));
    return TRUE;
  }
  g_autofree char *value = scand_fact_format(facts, row);
  const char *unset = row->name_default ? row->name_default : "unknown";
  g_autofree char *safe = scand_template_sanitize_component(value ? value : unset);
  g_string_append(out, safe);
  return TRUE;
}

char *scand_template_expand(const char *tmpl, const ScandJobFacts *facts, GError **error) {
  if (!tmpl) {
    template_error(error, "no template");
    return NULL;
  }
  gsize len = strlen(tmpl);
  if (len > TEMPLATE_MAX_TEMPLATE) {
    template_error(error, "template is %" G_GSIZE_FORMAT " bytes long, more than %d", len, TEMPLATE_MAX_TEMPLATE);
    return NULL;
  }
  if (!g_utf8_validate(tmpl, len, NULL)) {
    template_error(error, "template is not valid UTF-8");
    return NULL;
  }
  g_autoptr(GString) out = g_string_new(NULL);
  for (gsize i = 0; i < len;) {
    char c = tmpl[i];
    if (c == '{' && tmpl[i + 1] == '{') {
      g_string_append_c(out, '{');
      i += 2;
    } else if (c == '}' && tmpl[i + 1] == '}') {
      g_string_append_c(out, '}');
      i += 2;
    } else if (c == '{') {
      const char *close = strchr(tmpl + i + 1, '}');
      const char *open = strchr(tmpl + i + 1, '{');
      if (!close || (open && open < close)) {
        template_error(error, "unbalanced '{' at position %" G_GSIZE_FORMAT " (write {{ for a literal brace)", i + 1);
        return NULL;
      }
      g_autofree char *field = g_strndup(tmpl + i + 1, close - tmpl - i - 1);
      if (!field_expand(out, field, i + 1, facts, error))
        return NULL;
      i = close - tmpl + 1;
    } else if (c == '}') {
      template_error(error, "unbalanced '}' at position %" G_GSIZE_FORMAT " (write }} for a literal brace)", i + 1);
      return NULL;
    } else if (c == '\\') {
      template_error(error, "backslash at position %" G_GSIZE_FORMAT ": use '/' to separate directories", i + 1);
      return NULL;
    } else if ((guchar) c < 0x20 || c == 0x7f) {
      template_error(error, "control character at position %" G_GSIZE_FORMAT, i + 1);
      return NULL;
    } else {
      g_string_append_c(out, c);
      i++;
    }
  }
  if (!name_check(out->str, error))
    return NULL;
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Expands with sample facts: device values cannot escape (they are made one
 * safe component), so what remains to catch is the admin's own text and date
 * formats, which do not depend on the facts beyond the time. */
gboolean scand_template_check(const char *tmpl, GError **error) {
  static const int samples[][6] = {
    { 2026, 1, 2, 3, 4, 5 },
    { 1999, 12, 31, 23, 59, 59 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(samples); i++) {
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autoptr(GDateTime) time =
        g_date_time_new(utc, samples[i][0], samples[i][1], samples[i][2], samples[i][3], samples[i][4], samples[i][5]);
    ScandJobFacts facts = {
      .time = time,
      .device_name = "escl:https://mfp.example/eSCL",
      .profile = "letter",
      .source = "scan",
      .job = "20260102-030405-0001",
      .pages = 12,
      .seq = 42,
    };
    g_autofree char *name = scand_template_expand(tmpl, &facts, error);
    if (!name)
      return FALSE;
  }
  return TRUE;
}

/* One field of a subject or body at p ("{name}" or "{date:FMT}"): appended
 * and TRUE, or FALSE when it is no field a text knows (left as written). */
static gboolean text_field(GString *out, const char *field, gsize len, const ScandJobFacts *facts) {
  g_autofree char *name = g_strndup(field, len);
  char *arg = strchr(name, ':');
  if (arg)
    *arg++ = '\0';
  if (g_strv_contains(clock_fields, name)) {
    g_autoptr(GDateTime) now = facts->time ? NULL : g_date_time_new_now_local();
    ScandJobFacts timed = *facts;
    timed.time = facts->time ? facts->time : now;
    g_autofree char *formatted = clock_format(&timed, name, arg && *arg ? arg : NULL, "%Y-%m-%d %H:%M");
    if (!formatted)
      return FALSE;
    g_string_append(out, formatted);
    return TRUE;
  }
  const ScandFact *row = scand_facts_find_field(name);
  if (!row || !(row->use & SCAND_FACT_IN_TEXT) || arg)
    return FALSE;
  g_autofree char *value = scand_fact_format(facts, row);
  if (value && strcmp(row->field, "name") == 0) {
    /* A delivery name may hold directories; a person wants the file. */
    char *base = g_path_get_basename(value);
    g_free(value);
    value = base;
  }
  g_string_append(out, value ? value : row->text_default ? row->text_default : "");
  return TRUE;
}

char *scand_template_expand_text(const char *tmpl, const ScandJobFacts *facts) {
  GString *s = g_string_new(NULL);
  for (const char *p = tmpl ? tmpl : ""; *p;) {
    if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
      g_string_append_c(s, p[0]);
      p += 2;
      continue;
    }
    const char *end = *p == '{' ? strchr(p, '}') : NULL;
    if (end && text_field(s, p + 1, (gsize) (end - p - 1), facts)) {
      p = end + 1;
      continue;
    }
    g_string_append_c(s, *p++);
  }
  return g_string_free(s, FALSE);
}
