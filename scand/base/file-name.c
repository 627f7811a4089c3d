#include "scand/base/file-name.h"

#include <string.h>

/* An extension is kept when it is this short (".pdf", ".jpeg", ".tiff"). */
#define EXT_MAX 16

/* Characters that never reach a delivered name. Besides controls: bidi
 * overrides and other format characters, which make a name read differently
 * from what it is ("gpj.exe" shown as "exe.jpg"). */
static gboolean char_refused(gunichar c) {
  if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
    return TRUE;
  if (c < 0x80 && strchr("/\\:*?\"<>|%", (int) c))
    return TRUE;
  GUnicodeType t = g_unichar_type(c);
  return t == G_UNICODE_FORMAT || t == G_UNICODE_LINE_SEPARATOR || t == G_UNICODE_PARAGRAPH_SEPARATOR ||
         t == G_UNICODE_SURROGATE || t == G_UNICODE_PRIVATE_USE;
}

/* The byte length of name's extension (with its dot), 0 when it has none
 * worth keeping. */
static gsize ext_len(const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot || dot == name || strlen(dot) > EXT_MAX || strlen(dot) < 2)
    return 0;
  return strlen(dot);
}

/* Largest n <= max such that cutting s at n does not split a UTF-8
 * character. */
static gsize char_boundary(const char *s, gsize max) {
  gsize n = MIN(max, strlen(s));
  while (n > 0 && ((guchar) s[n] & 0xc0) == 0x80)
    n--;
  return n;
}

/* Each character of name, or "_" for what char_refused() and invalid bytes. */
static GString *replace_refused(const char *name) {
  GString *out = g_string_new(NULL);
  const char *p = name;
  const char *end = name + strlen(name);
  while (p < end) {
    gunichar c = g_utf8_get_char_validated(p, end - p);
    if (c == (gunichar) -1 || c == (gunichar) -2) {
      g_string_append_c(out, '_');
      p++;
      continue;
    }
    const char *next = g_utf8_next_char(p);
    if (char_refused(c))
      g_string_append_c(out, '_');
    else
      g_string_append_len(out, p, next - p);
    p = next;
  }
  return out;
}

static void strip_ends(GString *s) {
  while (s->len && (s->str[s->len - 1] == '.' || s->str[s->len - 1] == ' '))
    g_string_truncate(s, s->len - 1);
  gsize lead = 0;
  while (lead < s->len && s->str[lead] == ' ')
    lead++;
  g_string_erase(s, 0, (gssize) lead);
  if (s->len && s->str[0] == '.')
    s->str[0] = '_';
}

char *scand_file_name_sanitize(const char *name, gsize max_bytes) {
  g_autoptr(GString) s = replace_refused(name ? name : "");
  strip_ends(s);
  if (!s->len)
    g_string_assign(s, "file");
  if (s->len > max_bytes) {
    gsize ext = ext_len(s->str);
    if (ext + 1 > max_bytes)
      ext = 0;
    g_autofree char *tail = g_strdup(s->str + s->len - ext);
    g_string_truncate(s, char_boundary(s->str, max_bytes - ext));
    strip_ends(s);
    if (!s->len)
      g_string_assign(s, "_");
    g_string_append(s, tail);
    if (s->len > max_bytes)
      g_string_truncate(s, char_boundary(s->str, max_bytes));
  }
  return g_string_free(g_steal_pointer(&s), FALSE);
}

char *scand_file_name_with_suffix(const char *name, const char *suffix, gsize max_bytes) {
  gsize ext = ext_len(name);
  gsize stem_len = strlen(name) - ext;
  gsize room = max_bytes > ext + strlen(suffix) ? max_bytes - ext - strlen(suffix) : 0;
  g_autofree char *stem = g_strndup(name, stem_len);
  gsize keep = char_boundary(stem, MIN(stem_len, room));
  return g_strdup_printf("%.*s%s%s", (int) keep, stem, suffix, name + stem_len);
}

/* Characters that change how the rest of a line shows (bidi overrides and
 * isolates, zero-width ones, line and paragraph separators): a name must
 * not hide or reorder what follows it in a log or a listing. */
static gboolean unicode_invisible(gunichar c) {
  GUnicodeType type = g_unichar_type(c);
  return type == G_UNICODE_FORMAT || type == G_UNICODE_LINE_SEPARATOR || type == G_UNICODE_PARAGRAPH_SEPARATOR;
}

char *scand_file_name_printable(const char *name) {
  GString *out = g_string_new(NULL);
  const char *p = name;
  const char *end = name + strlen(name);
  while (p < end) {
    gunichar c = g_utf8_get_char_validated(p, end - p);
    gboolean valid = c != (gunichar) -1 && c != (gunichar) -2;
    if (valid && c == '\\') {
      g_string_append(out, "\\\\");
      p++;
    } else if (valid && !(c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) && !unicode_invisible(c)) {
      const char *next = g_utf8_next_char(p);
      g_string_append_len(out, p, next - p);
      p = next;
    } else {
      g_string_append_printf(out, "\\x%02x", (guchar) *p);
      p++;
    }
  }
  return g_string_free(out, FALSE);
}
