/* In-place config edits: exactly the line that holds a key changes, or one
 * line is added after its section; everything else stays byte for byte. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "scand/base/config-edit.h"
#include "scand/base/config.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"

typedef struct {
  char *dir;
} Fixture;

static void setup(Fixture *f, gconstpointer data) {
  f->dir = g_dir_make_tmp("scand-config-edit-XXXXXX", NULL);
  g_assert_nonnull(f->dir);
}

static void teardown(Fixture *f, gconstpointer data) {
  scand_fs_remove_tree(f->dir);
  g_free(f->dir);
}

static char *put(Fixture *f, const char *name, const char *text) {
  char *path = g_build_filename(f->dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname(path);
  g_mkdir_with_parents(parent, 0700);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

static void assert_file(const char *path, const char *expected) {
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_assert_cmpstr(text, ==, expected);
}

/* Sets one key of [scanner hall] in the config at path (NULL: default dir). */
static char *set(const char *path, const char *key, const char *value, GError **error) {
  g_autoptr(ScandConfig) config = scand_config_load(path, NULL);
  g_assert_nonnull(config);
  const char *keys[] = { key, NULL }, *values[] = { value, NULL };
  return scand_config_edit_set(config, "scanner", "hall", keys, values, NULL, error);
}

static void test_change_and_add(Fixture *f, gconstpointer data) {
  g_autofree char *path =
      put(f, "a.conf", "# top\n[scanner hall]\n  device = sane:x   # the hall\n\n[scanner yard]\ndevice=sane:y");
  g_autofree char *edited = set(path, "device", "sane:z", NULL);
  g_assert_cmpstr(edited, ==, path);
  assert_file(path, "# top\n[scanner hall]\n  device = sane:z   # the hall\n\n[scanner yard]\ndevice=sane:y");
  g_free(set(path, "tls-pin", "sha256:AB", NULL));
  assert_file(path, "# top\n[scanner hall]\n  device = sane:z   # the hall\n  tls-pin = sha256:AB\n\n"
                    "[scanner yard]\ndevice=sane:y");
}

static void test_no_final_newline(Fixture *f, gconstpointer data) {
  g_autofree char *path = put(f, "a.conf", "[scanner hall]\ndevice=sane:x");
  g_free(set(path, "tls-pin", "p", NULL));
  assert_file(path, "[scanner hall]\ndevice=sane:x\ntls-pin=p\n");
}

static void test_new_section(Fixture *f, gconstpointer data) {
  g_autofree char *path = put(f, "a.conf", "[scanner yard]\r\ndevice = sane:y");
  g_autoptr(ScandConfig) config = scand_config_load(path, NULL);
  const char *keys[] = { "device", "tls-pin", NULL }, *values[] = { "escl:https://h/eSCL", "p", NULL };
  g_autofree char *edited = scand_config_edit_set(config, "scanner", "hall", keys, values, NULL, NULL);
  g_assert_cmpstr(edited, ==, path);
  assert_file(path, "[scanner yard]\r\ndevice = sane:y\r\n\r\n[scanner hall]\r\ndevice = escl:https://h/eSCL\r\n"
                    "tls-pin = p\r\n");
}

/* A key set again in a later file (conf.d) is changed there: that is the
 * value scand reads. */
static void test_override_in_later_file(Fixture *f, gconstpointer data) {
  g_autofree char *main_path = put(f, "scand.conf", "[scanner hall]\ndevice = sane:x\ntls-pin = old\n");
  g_autofree char *later = put(f, "conf.d/50.conf", "[scanner hall]\ntls-pin = older\n");
  g_setenv("SCAND_CONFIG_DIR", f->dir, TRUE);
  g_autofree char *edited = set(NULL, "tls-pin", "new", NULL);
  g_unsetenv("SCAND_CONFIG_DIR");
  g_assert_cmpstr(edited, ==, later);
  assert_file(main_path, "[scanner hall]\ndevice = sane:x\ntls-pin = old\n");
  assert_file(later, "[scanner hall]\ntls-pin = new\n");
}

static void test_refused_values(Fixture *f, gconstpointer data) {
  g_autofree char *path = put(f, "a.conf", "[scanner hall]\ndevice = sane:x\n");
  const char *bad[] = { "a\nb", "a\rb", "\033[2J", "a\x7f" };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *edited = set(path, "tls-pin", bad[i], &error);
    g_assert_null(edited);
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  }
  assert_file(path, "[scanner hall]\ndevice = sane:x\n");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add("/config-edit/change-and-add", Fixture, NULL, setup, test_change_and_add, teardown);
  g_test_add("/config-edit/no-final-newline", Fixture, NULL, setup, test_no_final_newline, teardown);
  g_test_add("/config-edit/new-section", Fixture, NULL, setup, test_new_section, teardown);
  g_test_add("/config-edit/override-in-later-file", Fixture, NULL, setup, test_override_in_later_file, teardown);
  g_test_add("/config-edit/refused-values", Fixture, NULL, setup, test_refused_values, teardown);
  return g_test_run();
}
