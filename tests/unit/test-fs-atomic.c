/* Atomic file writes (scand/base/fs.h): two threads saving the same file at
 * once each leave a whole file (never a mix of both, never an error), and a
 * link left where the temporary file goes is replaced, never followed. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "scand/base/fs.h"

#define SIZE (64 * 1024)
#define ROUNDS 500

typedef struct {
  const char *path;
  char fill;
  gboolean ok;
} Writer;

static gpointer writer_run(gpointer data) {
  Writer *w = data;
  g_autofree char *buf = g_malloc(SIZE);
  memset(buf, w->fill, SIZE);
  w->ok = TRUE;
  for (int i = 0; i < ROUNDS && w->ok; i++) {
    g_autoptr(GError) error = NULL;
    if (!scand_fs_write_atomic(w->path, buf, SIZE, 0600, &error)) {
      g_printerr("%s\n", error->message);
      w->ok = FALSE;
    }
  }
  return NULL;
}

static void check_whole(const char *path) {
  g_autofree char *got = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &got, &len, NULL));
  g_assert_cmpuint(len, ==, SIZE);
  for (gsize i = 1; i < len; i++)
    g_assert_cmpint(got[i], ==, got[0]);
}

static void test_concurrent(void) {
  g_autofree char *dir = g_dir_make_tmp("test-fs-atomic-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "job.ini", NULL);
  Writer a = { path, 'A', FALSE }, b = { path, 'B', FALSE };
  GThread *ta = g_thread_new("a", writer_run, &a);
  GThread *tb = g_thread_new("b", writer_run, &b);
  for (int i = 0; i < ROUNDS; i++)
    if (g_file_test(path, G_FILE_TEST_EXISTS))
      check_whole(path);
  g_thread_join(ta);
  g_thread_join(tb);
  g_assert_true(a.ok);
  g_assert_true(b.ok);
  check_whole(path);
  /* Nothing but the file itself is left. */
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  int n = 0;
  while ((name = g_dir_read_name(d))) {
    g_assert_cmpstr(name, ==, "job.ini");
    n++;
  }
  g_assert_cmpint(n, ==, 1);
  g_unlink(path);
  g_rmdir(dir);
}

static void test_leftover_link(void) {
  g_autofree char *dir = g_dir_make_tmp("test-fs-atomic-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "job.ini", NULL);
  g_autofree char *victim = g_build_filename(dir, "victim", NULL);
  g_assert_true(g_file_set_contents(victim, "keep", -1, NULL));
  /* Plant links under every temporary name the next calls could use. */
  for (int i = 0; i < 64; i++) {
    g_autofree char *tmp = g_strdup_printf("%s.tmp-%d-%d", path, (int) getpid(), i);
    g_assert_cmpint(symlink(victim, tmp), ==, 0);
  }
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_fs_write_atomic(path, "new", 3, 0600, &error));
  g_assert_no_error(error);
  g_autofree char *kept = NULL;
  g_assert_true(g_file_get_contents(victim, &kept, NULL, NULL));
  g_assert_cmpstr(kept, ==, "keep");
  g_autofree char *got = NULL;
  g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
  g_assert_cmpstr(got, ==, "new");
  g_assert_false(g_file_test(path, G_FILE_TEST_IS_SYMLINK));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/fs-atomic/leftover-link", test_leftover_link);
  g_test_add_func("/fs-atomic/concurrent", test_concurrent);
  return g_test_run();
}
