/* Fuzzes the making safe of file names from outside (scand/base/file-name.h):
 * the input as a name, sanitised at two lengths, given a suffix, made
 * printable. What comes out must keep the promises of the header, restated
 * here independently. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "scand/base/file-name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(gboolean ok, const char *what, const char *name) {
  if (!ok) {
    g_autofree char *shown = g_strescape(name, NULL);
    fprintf(stderr, "fuzz-file-name: %s: \"%s\"\n", what, shown);
    abort();
  }
}

static void require_safe(const char *out, gsize max) {
  require(g_utf8_validate(out, -1, NULL), "not UTF-8", out);
  require(*out && strlen(out) <= max, "empty or too long", out);
  require(out[0] != '.' && out[0] != ' ', "hidden or leading space", out);
  require(out[strlen(out) - 1] != ' ', "trailing space", out);
  for (const char *p = out; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    require(c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0), "control character", out);
    require(c >= 0x80 || !strchr("/\\:*?\"<>|%", (int) c), "refused character", out);
    require(g_unichar_type(c) != G_UNICODE_FORMAT, "format character", out);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autofree char *name = g_strndup((const char *) data, size);
  g_autofree char *full = scand_file_name_sanitize(name, SCAND_FILE_NAME_MAX);
  require_safe(full, SCAND_FILE_NAME_MAX);
  g_autofree char *again = scand_file_name_sanitize(full, SCAND_FILE_NAME_MAX);
  require(strcmp(full, again) == 0, "sanitising twice changes it", full);
  g_autofree char *shorter = scand_file_name_sanitize(name, 12);
  require_safe(shorter, 12);
  g_autofree char *suffixed = scand_file_name_with_suffix(full, "-9999", 255);
  require(strlen(suffixed) <= 255 && g_utf8_validate(suffixed, -1, NULL), "suffixed name too long or not UTF-8",
          suffixed);
  g_autofree char *shown = scand_file_name_printable(name);
  for (const char *p = shown; *p; p++)
    require((guchar) *p >= 0x20 && *p != 0x7f, "printable name with a control byte", shown);
  require(g_utf8_validate(shown, -1, NULL), "printable name not UTF-8", shown);
  return 0;
}
