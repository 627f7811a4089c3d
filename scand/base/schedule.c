/* Days and hours of rules: strict parsers, one error per malformed item. */
#include "scand/base/schedule.h"

#include <string.h>

#include "scand/base/error.h"

#define DAYS_FORM "days like mon-fri or sat,sun"
#define HOURS_FORM "times of day like 08:00-18:00 or 22:00-06:00"

static const char *const day_names[] = { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" };

/* An item for a message: escaped, so that it stays on one line. */
static char *item_quote(const char *item) {
  g_autofree char *escaped = g_strescape(item, NULL);
  return g_strdup_printf("\"%s\"", escaped);
}

/* ISO weekday 1 … 7 of "mon" or "monday" (any case), or 0. */
static int day_parse(const char *s) {
  for (int i = 0; i < 7; i++)
    if (g_ascii_strcasecmp(s, day_names[i]) == 0 || (strlen(s) == 3 && g_ascii_strncasecmp(s, day_names[i], 3) == 0))
      return i + 1;
  return 0;
}

/* Splits a list at commas; an empty item or an empty list is an error. */
static GStrv items_split(const char *text, const char *form, GError **error) {
  g_auto(GStrv) items = g_strsplit(text, ",", -1);
  guint n = g_strv_length(items);
  if (n == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "empty (expected %s)", form);
    return NULL;
  }
  for (guint i = 0; i < n; i++)
    if (!*g_strstrip(items[i])) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "item %u of %u is empty (expected %s)", i + 1, n, form);
      return NULL;
    }
  return g_steal_pointer(&items);
}

gboolean scand_schedule_parse_days(const char *text, guint8 *days, GError **error) {
  g_auto(GStrv) items = items_split(text, DAYS_FORM, error);
  if (!items)
    return FALSE;
  guint8 mask = 0;
  for (guint i = 0; items[i]; i++) {
    g_auto(GStrv) ends = g_strsplit(items[i], "-", -1);
    guint n = g_strv_length(ends);
    int a = n >= 1 ? day_parse(g_strstrip(ends[0])) : 0;
    int b = n == 2 ? day_parse(g_strstrip(ends[1])) : a;
    if (n > 2 || !a || !b) {
      g_autofree char *q = item_quote(items[i]);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s is not a day or a range of days (expected %s)", q,
                  DAYS_FORM);
      return FALSE;
    }
    for (int d = a;; d = d % 7 + 1) {
      mask |= (guint8) (1u << d);
      if (d == b)
        break;
    }
  }
  *days = mask;
  return TRUE;
}

/* "H:MM" or "HH:MM", 00:00 … 24:00, into minutes since midnight; -1 if not. */
static int time_parse(const char *s) {
  size_t len = strlen(s);
  if ((len != 4 && len != 5) || s[len - 3] != ':')
    return -1;
  for (size_t i = 0; i < len; i++)
    if (i != len - 3 && !g_ascii_isdigit(s[i]))
      return -1;
  int h = len == 5 ? (s[0] - '0') * 10 + (s[1] - '0') : s[0] - '0';
  int m = (s[len - 2] - '0') * 10 + (s[len - 1] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0))
    return -1;
  return h * 60 + m;
}

/* Adds from (included) to to (excluded, up to 24:00), crossing midnight when
 * to comes first; from != to. */
static void minutes_add(ScandScheduleMinutes *minutes, int from, int to) {
  int count = (to - from + 24 * 60) % (24 * 60);
  if (count == 0)
    count = 24 * 60; /* 00:00-24:00 */
  for (int i = 0, t = from; i < count; i++, t = (t + 1) % (24 * 60))
    minutes->bits[t / 8] |= (guint8) (1u << (t % 8));
}

gboolean scand_schedule_parse_hours(const char *text, ScandScheduleMinutes *minutes, GError **error) {
  g_auto(GStrv) items = items_split(text, HOURS_FORM, error);
  if (!items)
    return FALSE;
  ScandScheduleMinutes set = { { 0 } };
  for (guint i = 0; items[i]; i++) {
    g_auto(GStrv) ends = g_strsplit(items[i], "-", -1);
    int from = g_strv_length(ends) == 2 ? time_parse(g_strstrip(ends[0])) : -1;
    int to = from >= 0 ? time_parse(g_strstrip(ends[1])) : -1;
    g_autofree char *q = item_quote(items[i]);
    if (from < 0 || to < 0 || from == 24 * 60) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s is not a range of times (expected %s)", q, HOURS_FORM);
      return FALSE;
    }
    if (from == to) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s is an empty range: it never holds (expected %s)", q,
                  HOURS_FORM);
      return FALSE;
    }
    minutes_add(&set, from, to);
  }
  *minutes = set;
  return TRUE;
}

gboolean scand_schedule_minutes_has(const ScandScheduleMinutes *minutes, int minute) {
  if (minute < 0 || minute >= 24 * 60)
    return FALSE;
  return (minutes->bits[minute / 8] >> (minute % 8)) & 1;
}
