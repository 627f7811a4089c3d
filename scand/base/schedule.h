/* Days of the week and times of day, as rules write them ("days = mon-fri",
 * "hours = 08:00-18:00"). One parser for `scand config check` and for routing,
 * so that a value the check lets through can always be matched. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The minutes of a day a rule holds in, one bit a minute (0 = 00:00). */
typedef struct {
  guint8 bits[24 * 60 / 8];
} ScandScheduleMinutes;

/* Parses days: items separated by commas, each a day or a range of days
 * ("mon-fri", "sat,sun", "mon,wed-fri", "fri-mon" wraps over the weekend);
 * a day is its English name or its first three letters, in any case. Sets bit
 * d of *days for ISO weekday d (1 = Monday … 7 = Sunday). Fails with
 * SCAND_ERROR_INVAL and a one-line message naming the item on anything else,
 * an empty item included. */
gboolean scand_schedule_parse_days(const char *text, guint8 *days, GError **error);

/* Parses times of day: items separated by commas, each "HH:MM-HH:MM" from
 * 00:00 to 24:00, the end excluded; a range whose end comes before its start
 * crosses midnight ("22:00-06:00"). Fails like scand_schedule_parse_days(),
 * also on an empty range ("08:00-08:00"). */
gboolean scand_schedule_parse_hours(const char *text, ScandScheduleMinutes *minutes, GError **error);

/* Whether minute (0 … 1439 since midnight) is among minutes. */
gboolean scand_schedule_minutes_has(const ScandScheduleMinutes *minutes, int minute);

G_END_DECLS
