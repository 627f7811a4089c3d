/* How quirk rows (escl-quirks.c, wsd-quirks.c) match what a device says of
 * itself: ASCII letters in any case. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether s (may be NULL: no) contains needle, in any case. */
gboolean scand_quirk_text_contains(const char *s, const char *needle);

/* Whether s (may be NULL: no) starts with prefix, in any case. */
gboolean scand_quirk_text_starts(const char *s, const char *prefix);

G_END_DECLS
