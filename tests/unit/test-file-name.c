/* File names from outside made safe (scand/base/file-name.h): invalid UTF-8,
 * control and format characters, characters shares refuse, hidden names,
 * long names cut on a character boundary keeping the extension. */
#include <string.h>

#include "scand/base/file-name.h"

static void assert_safe(const char *out, gsize max) {
  g_assert_true(g_utf8_validate(out, -1, NULL));
  g_assert_cmpuint(strlen(out), <=, max);
  g_assert_cmpuint(strlen(out), >, 0);
  g_assert_cmpint(out[0], !=, '.');
  for (const char *p = out; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    g_assert_true(c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0));
    g_assert_null(strchr("/\\:*?\"<>|%", (int) (c < 0x80 ? c : 'a')));
  }
}

static void test_sanitize(void) {
  static const struct {
    const char *in, *out;
  } cases[] = {
    { "scan.pdf", "scan.pdf" },
    { "Rechnung März.pdf", "Rechnung März.pdf" },
    { "a\nb\x1b[31mc\x07.pdf", "a_b_[31mc_.pdf" },
    { "50%n%s.pdf", "50_n_s.pdf" },
    { "\xff\xfe.pdf", "__.pdf" },
    { "bad\xc3(utf8", "bad_(utf8" },
    { "a/b\\c:d*e?f\"g<h>i|j", "a_b_c_d_e_f_g_h_i_j" },
    { ".hidden", "_hidden" },
    { "..", "file" },
    { "", "file" },
    { "  name. . ", "name" },
    { "gpj\xe2\x80\xae.exe", "gpj_.exe" }, /* U+202E right-to-left override */
    { "x\xc2\x85y", "x_y" },               /* U+0085, a C1 control */
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *out = scand_file_name_sanitize(cases[i].in, SCAND_FILE_NAME_MAX);
    g_assert_cmpstr(out, ==, cases[i].out);
    assert_safe(out, SCAND_FILE_NAME_MAX);
  }
}

static void test_long(void) {
  /* 255 bytes: 84 three-byte characters and ".pdf" less one. */
  GString *in = g_string_new(NULL);
  while (in->len < 250)
    g_string_append(in, "\xe2\x82\xac"); /* € */
  g_string_append(in, ".pdf");
  g_autofree char *out = scand_file_name_sanitize(in->str, 100);
  assert_safe(out, 100);
  g_assert_true(g_str_has_suffix(out, ".pdf"));
  g_assert_cmpuint(strlen(out), ==, 4 + 96); /* 32 whole € */
  g_autofree char *noext = scand_file_name_sanitize("abcdefghij", 4);
  g_assert_cmpstr(noext, ==, "abcd");
  g_autofree char *longext = scand_file_name_sanitize("a.verylongextensionname", 10);
  g_assert_cmpstr(longext, ==, "a.verylong");
  g_string_free(in, TRUE);
}

static void test_suffix(void) {
  g_autofree char *a = scand_file_name_with_suffix("scan.pdf", "-2", 255);
  g_assert_cmpstr(a, ==, "scan-2.pdf");
  g_autofree char *b = scand_file_name_with_suffix("noext", "-3", 255);
  g_assert_cmpstr(b, ==, "noext-3");
  GString *in = g_string_new(NULL);
  while (in->len < 251)
    g_string_append_c(in, 'x');
  g_string_append(in, ".pdf");
  g_autofree char *c = scand_file_name_with_suffix(in->str, "-10", 255);
  g_assert_cmpuint(strlen(c), ==, 255);
  g_assert_true(g_str_has_suffix(c, "x-10.pdf"));
  g_string_free(in, TRUE);
}

static void test_printable(void) {
  g_autofree char *a = scand_file_name_printable("a\nb\x1b\\c\xff\xc3\xa4");
  g_assert_cmpstr(a, ==, "a\\x0ab\\x1b\\\\c\\xffä");
  /* A right-to-left override and a line separator would reorder or break
   * what follows in a log line. */
  g_autofree char *b = scand_file_name_printable("x\xe2\x80\xae"
                                                 "fdp.exe\xe2\x80\xa8"
                                                 "y");
  g_assert_cmpstr(b, ==, "x\\xe2\\x80\\xaefdp.exe\\xe2\\x80\\xa8y");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/file-name/sanitize", test_sanitize);
  g_test_add_func("/file-name/long", test_long);
  g_test_add_func("/file-name/suffix", test_suffix);
  g_test_add_func("/file-name/printable", test_printable);
  return g_test_run();
}
