/* The log's helpers: the output named by an output's message. */
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

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/log/output-of", test_output_of);
  return g_test_run();
}
