/* Days and hours of rules: what parses, to which days and minutes, and that
 * everything else (empty items, unknown names, out-of-range times) is refused
 * with a message naming the item. */
#include <glib.h>
#include <string.h>

#include "scand/base/error.h"
#include "scand/base/schedule.h"

/* Bits of ISO weekdays: MON = 1 << 1 … SUN = 1 << 7. */
#define D(n) (1u << (n))

static void test_days_good(void) {
  const struct {
    const char *text;
    guint8 days;
  } cases[] = {
    { "mon", D(1) },
    { "sun", D(7) },
    { "mon-fri", D(1) | D(2) | D(3) | D(4) | D(5) },
    { "sat,sun", D(6) | D(7) },
    { " Sat , SUN ", D(6) | D(7) },
    { "mon,wed-fri", D(1) | D(3) | D(4) | D(5) },
    { "fri-mon", D(5) | D(6) | D(7) | D(1) },
    { "sun-sat", 0xfe },
    { "tue-tue", D(2) },
    { "monday,Tuesday", D(1) | D(2) },
    { "wed - thu", D(3) | D(4) },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    guint8 days = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(scand_schedule_parse_days(cases[i].text, &days, &error));
    g_assert_no_error(error);
    g_assert_cmphex(days, ==, cases[i].days);
  }
}

static void test_days_bad(void) {
  const struct {
    const char *text, *message;
  } cases[] = {
    { "", "empty (expected days like mon-fri or sat,sun)" },
    { ",", "item 1 of 2 is empty (expected days like mon-fri or sat,sun)" },
    { "sat,sun,", "item 3 of 3 is empty (expected days like mon-fri or sat,sun)" },
    { ",sat", "item 1 of 2 is empty (expected days like mon-fri or sat,sun)" },
    { "sat,,sun", "item 2 of 3 is empty (expected days like mon-fri or sat,sun)" },
    { " , ", "item 1 of 2 is empty (expected days like mon-fri or sat,sun)" },
    { "funday", "\"funday\" is not a day or a range of days (expected days like mon-fri or sat,sun)" },
    { "mon-", "\"mon-\" is not a day or a range of days (expected days like mon-fri or sat,sun)" },
    { "-fri", "\"-fri\" is not a day or a range of days (expected days like mon-fri or sat,sun)" },
    { "-", "\"-\" is not a day or a range of days (expected days like mon-fri or sat,sun)" },
    { "mon-wed-fri", "\"mon-wed-fri\" is not a day or a range of days (expected days like mon-fri or sat,sun)" },
    { "mo", "\"mo\" is not a day or a range of days (expected days like mon-fri or sat,sun)" },
    { "mond", "\"mond\" is not a day or a range of days (expected days like mon-fri or sat,sun)" },
    { "1-5", "\"1-5\" is not a day or a range of days (expected days like mon-fri or sat,sun)" },
    { "mon\nfri", "\"mon\\nfri\" is not a day or a range of days (expected days like mon-fri or sat,sun)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    guint8 days = 0x5a;
    g_autoptr(GError) error = NULL;
    g_assert_false(scand_schedule_parse_days(cases[i].text, &days, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    g_assert_cmpstr(error->message, ==, cases[i].message);
    g_assert_cmphex(days, ==, 0x5a); /* untouched on failure */
  }
}

/* Minutes of a day that a value holds in, as "first-last" runs. */
static char *runs(const ScandScheduleMinutes *m) {
  GString *s = g_string_new(NULL);
  for (int t = 0; t < 24 * 60; t++) {
    if (!scand_schedule_minutes_has(m, t) || (t > 0 && scand_schedule_minutes_has(m, t - 1)))
      continue;
    int end = t;
    while (end + 1 < 24 * 60 && scand_schedule_minutes_has(m, end + 1))
      end++;
    g_string_append_printf(s, "%s%d-%d", s->len ? "," : "", t, end);
  }
  return g_string_free(s, FALSE);
}

static void test_hours_good(void) {
  const struct {
    const char *text, *runs;
  } cases[] = {
    { "08:00-18:00", "480-1079" },
    { "8:00-18:00", "480-1079" },
    { "22:00-06:00", "0-359,1320-1439" },
    { "00:00-24:00", "0-1439" },
    { "23:59-24:00", "1439-1439" },
    { "00:00-00:01", "0-0" },
    { "08:00-12:00, 13:00-17:00", "480-719,780-1019" },
    { " 09:30 - 10:15 ", "570-614" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    ScandScheduleMinutes m;
    g_autoptr(GError) error = NULL;
    g_assert_true(scand_schedule_parse_hours(cases[i].text, &m, &error));
    g_assert_no_error(error);
    g_autofree char *got = runs(&m);
    g_assert_cmpstr(got, ==, cases[i].runs);
  }
  ScandScheduleMinutes m;
  g_assert_true(scand_schedule_parse_hours("00:00-24:00", &m, NULL));
  g_assert_false(scand_schedule_minutes_has(&m, -1));
  g_assert_false(scand_schedule_minutes_has(&m, 24 * 60));
  g_assert_false(scand_schedule_minutes_has(&m, G_MININT));
  g_assert_false(scand_schedule_minutes_has(&m, G_MAXINT));
}

static void test_hours_bad(void) {
  const char *const bad[] = {
    "25:99-xx",      "noon",        "08:00",       "08:00-",       "-18:00",      "08:00-18:00-20:00",
    "24:30-01:00",   "24:00-06:00", "08:60-09:00", "8-18",         "08:0-09:00",  "008:00-09:00",
    "+8:00-09:00",   "-1:00-02:00", "08:00-25:00", "0x8:00-09:00", "08.00-09.00", "99999999999999999999:00-01:00",
    "08:\n00-09:00",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    ScandScheduleMinutes m;
    g_autoptr(GError) error = NULL;
    g_assert_false(scand_schedule_parse_hours(bad[i], &m, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    g_assert_true(g_str_has_suffix(error->message, "is not a range of times (expected times of day like 08:00-18:00 "
                                                   "or 22:00-06:00)"));
    g_assert_null(strchr(error->message, '\n'));
  }
  const struct {
    const char *text, *message;
  } cases[] = {
    { "", "empty (expected times of day like 08:00-18:00 or 22:00-06:00)" },
    { ",", "item 1 of 2 is empty (expected times of day like 08:00-18:00 or 22:00-06:00)" },
    { "08:00-12:00,", "item 2 of 2 is empty (expected times of day like 08:00-18:00 or 22:00-06:00)" },
    { "08:00-08:00", "\"08:00-08:00\" is an empty range: it never holds (expected times of day like 08:00-18:00 or "
                     "22:00-06:00)" },
    { "25:99-xx", "\"25:99-xx\" is not a range of times (expected times of day like 08:00-18:00 or 22:00-06:00)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    ScandScheduleMinutes m;
    g_autoptr(GError) error = NULL;
    g_assert_false(scand_schedule_parse_hours(cases[i].text, &m, &error));
    g_assert_cmpstr(error->message, ==, cases[i].message);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/schedule/days-good", test_days_good);
  g_test_add_func("/schedule/days-bad", test_days_bad);
  g_test_add_func("/schedule/hours-good", test_hours_good);
  g_test_add_func("/schedule/hours-bad", test_hours_bad);
  return g_test_run();
}
