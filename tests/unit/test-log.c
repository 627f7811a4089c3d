/* The log's helpers: the output named by an output's message; a line
 * built from what a peer sent stays one printable UTF-8 line. */
#include "scand/base/log.h"

static void test_output_of(void) {
  static const struct {
    const char *message, *output;
  } rows[] = {
    { "output share: server refused the login", "share" },
    { "output broken (folder /x/y): the folder is not there", "broken" },
    { "output : nothing", NULL },
    { "output two words: x", NULL },
    { "job 1: output share: x", NULL },
    { "output share", NULL },
    { NULL, NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    g_autofree char *got = scand_log_output_of(rows[i].message);
    g_assert_cmpstr(got, ==, rows[i].output);
  }
}

/* A device's error text with a line break, a terminal escape and a byte
 * that is not UTF-8 is logged as one clean line. */
static void test_line_clean(void) {
  if (g_test_subprocess()) {
    g_unsetenv("JOURNAL_STREAM");
    scand_log("device says: %s", "jam\r\nfake: line\033[2J \x80"
                                 "end\x7f");
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr("scand: device says: jam  fake: line [2J \xef\xbf\xbd"
                            "end \n");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/log/output-of", test_output_of);
  g_test_add_func("/log/line-clean", test_line_clean);
  return g_test_run();
}
