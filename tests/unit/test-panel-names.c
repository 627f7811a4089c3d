/* The `panel =` key: parsing "NAME[:PROFILE], …", every kind of bad item
 * with a one-line message naming it, and what `scand config check` says
 * about a panel on a device without one or naming a missing profile. */
#include "scand/base/config.h"
#include "scand/base/panel-names.h"
#include "scand/core/config-check.h"

#include <string.h>

static void test_parse(void) {
  g_autoptr(GPtrArray) names = NULL;
  g_autofree char *problem = NULL;
  g_assert_true(scand_panel_names_parse(" Finance:letter, Anna ;Front desk: photo ", &names, &problem));
  g_assert_null(problem);
  g_assert_cmpuint(names->len, ==, 3);
  const ScandPanelName *a = names->pdata[0], *b = names->pdata[1], *c = names->pdata[2];
  g_assert_cmpstr(a->name, ==, "Finance");
  g_assert_cmpstr(a->profile, ==, "letter");
  g_assert_cmpstr(b->name, ==, "Anna");
  g_assert_null(b->profile);
  g_assert_cmpstr(c->name, ==, "Front desk");
  g_assert_cmpstr(c->profile, ==, "photo");
  /* The profile is after the last colon. */
  g_clear_pointer(&names, g_ptr_array_unref);
  g_assert_true(scand_panel_names_parse("Floor 2: Finance:letter", &names, &problem));
  g_assert_cmpstr(((ScandPanelName *) names->pdata[0])->name, ==, "Floor 2: Finance");
}

static void test_bad(void) {
  static const struct {
    const char *value, *problem;
  } rows[] = {
    { "", "names no destination" },
    { " , ;", "names no destination" },
    { ":letter", "item 1 \":letter\" has no name before the colon" },
    { "Anna, Finance:", "item 2 \"Finance:\" has no profile after the colon" },
    { "Anna, Bob, Anna:photo", "item 3 \"Anna:photo\" repeats a name given before" },
    { "A\x01"
      "B",
      "item 1 \"A?B\" contains a control character" },
    { "A\nB", "item 1 \"A?B\" contains a control character" },
    { "\xff\xfe", "is not valid UTF-8" },
    { "0123456789012345678901234567890123456789012345678901234567890123456789", "is longer than 64 characters" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    g_autoptr(GPtrArray) names = NULL;
    g_autofree char *problem = NULL;
    g_assert_false(scand_panel_names_parse(rows[i].value, &names, &problem));
    g_assert_null(names);
    g_assert_nonnull(problem);
    if (!strstr(problem, rows[i].problem))
      g_error("\"%s\": got \"%s\", expected \"%s\"", rows[i].value, problem, rows[i].problem);
    g_assert_null(strchr(problem, '\n'));
  }
}

static void test_config_check(void) {
  static const char conf[] = "[scanner hp]\n"
                             "device = escl:http://127.0.0.1:1/eSCL\n"
                             "panel = Finance:letter, Anna:nosuch\n"
                             "\n"
                             "[scanner usb]\n"
                             "device = sane:test:0\n"
                             "panel = Desk\n"
                             "\n"
                             "[scanner bad]\n"
                             "device = escl:http://127.0.0.1:1/eSCL\n"
                             "panel = :x\n"
                             "\n"
                             "[profile letter]\n"
                             "mode = gray\n"
                             "\n"
                             "[rule r]\n"
                             "trigger = panel\n"
                             "panel = Fin*\n"
                             "deliver = out\n"
                             "\n"
                             "[output out]\n"
                             "type = folder\n"
                             "path = /tmp\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = scand_config_load_data(conf, strlen(conf), "t.conf", &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) problems = scand_config_check(config);
  static const char *const expected[] = {
    "t.conf:3: [scanner hp] panel: destination \"Anna\" names profile \"nosuch\", but there is no [profile nosuch]",
    "t.conf:7: [scanner usb] panel: walk-up needs a device with a panel: an HP eSCL (escl:) or a WSD (wsd:) device",
    ("t.conf:11: [scanner bad] panel: item 1 \":x\" has no name before the colon (expected NAME[:PROFILE], e.g. "
     "\"Finance:letter, Anna:photo\")"),
  };
  for (guint i = 0; i < problems->len; i++)
    g_printerr("problem: %s\n", (const char *) problems->pdata[i]);
  g_assert_cmpuint(problems->len, ==, G_N_ELEMENTS(expected));
  for (guint i = 0; i < G_N_ELEMENTS(expected); i++)
    g_assert_cmpstr(problems->pdata[i], ==, expected[i]);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/panel-names/parse", test_parse);
  g_test_add_func("/panel-names/bad-items", test_bad);
  g_test_add_func("/panel-names/config-check", test_config_check);
  return g_test_run();
}
