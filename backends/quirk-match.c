/* How quirk rows match (quirk-match.h). */
#include "backends/quirk-match.h"

#include <string.h>

gboolean scand_quirk_text_contains(const char *s, const char *needle) {
  if (!s)
    return FALSE;
  g_autofree char *a = g_ascii_strdown(s, -1);
  g_autofree char *b = g_ascii_strdown(needle, -1);
  return strstr(a, b) != NULL;
}

gboolean scand_quirk_text_starts(const char *s, const char *prefix) {
  return s && g_ascii_strncasecmp(s, prefix, strlen(prefix)) == 0;
}
