/* Opening beneath a directory someone else writes (scand/base/fs-beneath.h):
 * no symbolic link is followed anywhere in the path, nothing above the
 * directory is reached, another file system is not entered; .scand-* style
 * folders are refused when they are not real directories of our own. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scand/base/fs-beneath-private.h"
#include "scand/base/fs-beneath.h"
#include "scand/base/fs.h"

typedef struct {
  char *dir;
  int fd;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
  f->dir = g_dir_make_tmp("test-fs-beneath-XXXXXX", NULL);
  g_assert_nonnull(f->dir);
  g_autofree char *sub = g_build_filename(f->dir, "in/sub", NULL);
  g_autofree char *out = g_build_filename(f->dir, "outside", NULL);
  g_assert_cmpint(g_mkdir_with_parents(sub, 0755), ==, 0);
  g_assert_cmpint(g_mkdir_with_parents(out, 0755), ==, 0);
  g_autofree char *secret = g_build_filename(f->dir, "outside/secret.pdf", NULL);
  g_autofree char *plain = g_build_filename(f->dir, "in/sub/a.pdf", NULL);
  g_assert_true(g_file_set_contents(secret, "secret", -1, NULL));
  g_assert_true(g_file_set_contents(plain, "plain", -1, NULL));
  g_autofree char *in = g_build_filename(f->dir, "in", NULL);
  f->fd = open(in, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint(f->fd, >=, 0);
  /* Links out of the folder, a file link and a directory link. */
  g_assert_cmpint(symlinkat("../outside/secret.pdf", f->fd, "link.pdf"), ==, 0);
  g_assert_cmpint(symlinkat("../outside", f->fd, "linkdir"), ==, 0);
  g_assert_cmpint(symlinkat("sub", f->fd, "inner"), ==, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
  close(f->fd);
  scand_fs_remove_tree(f->dir);
  g_free(f->dir);
}

typedef int (*OpenFunc)(int dirfd, const char *relpath, int flags, mode_t mode);

/* openat2 where the kernel has it, and the fallback walk. */
static const OpenFunc opens[] = { scand_fs_open_beneath, scand_fs_open_beneath_walk };
static OpenFunc open_beneath = scand_fs_open_beneath;

static void assert_open_fails(int dirfd, const char *rel, int flags, int errsv) {
  errno = 0;
  int fd = open_beneath(dirfd, rel, flags, 0600);
  if (fd >= 0)
    g_error("%s opened", rel);
  if (errno != errsv)
    g_error("%s: %s, not %s", rel, g_strerror(errno), g_strerror(errsv));
}

static void test_open(Fixture *f, gconstpointer data) {
  open_beneath = opens[GPOINTER_TO_UINT(data)];
  int fd = open_beneath(f->fd, "sub/a.pdf", O_RDONLY, 0);
  g_assert_cmpint(fd, >=, 0);
  close(fd);
  assert_open_fails(f->fd, "link.pdf", O_RDONLY, ELOOP);
  assert_open_fails(f->fd, "linkdir/secret.pdf", O_RDONLY, ELOOP);
  assert_open_fails(f->fd, "inner/a.pdf", O_RDONLY, ELOOP);             /* even one that stays inside */
  assert_open_fails(f->fd, "linkdir", O_RDONLY | O_DIRECTORY, ENOTDIR); /* a link is no directory */
  assert_open_fails(f->fd, "../outside/secret.pdf", O_RDONLY, EINVAL);
  assert_open_fails(f->fd, "sub/../../outside/secret.pdf", O_RDONLY, EINVAL);
  assert_open_fails(f->fd, "/etc/passwd", O_RDONLY, EINVAL);
  assert_open_fails(f->fd, "", O_RDONLY, EINVAL);
  assert_open_fails(f->fd, "sub//a.pdf", O_RDONLY, EINVAL);
  /* Creating through a link is refused too. */
  assert_open_fails(f->fd, "linkdir/new.pdf", O_WRONLY | O_CREAT, ELOOP);
  g_autofree char *created = g_build_filename(f->dir, "outside/new.pdf", NULL);
  g_assert_false(g_file_test(created, G_FILE_TEST_EXISTS));
}

static void test_mkdir(Fixture *f, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  int fd = scand_fs_mkdir_beneath(f->fd, "in", ".scand-done/x/y", 0750, TRUE, &error);
  g_assert_no_error(error);
  g_assert_cmpint(fd, >=, 0);
  close(fd);
  /* A link where the folder should be. */
  g_assert_cmpint(symlinkat("../outside", f->fd, ".scand-error"), ==, 0);
  fd = scand_fs_mkdir_beneath(f->fd, "in", ".scand-error/x", 0750, TRUE, &error);
  g_assert_cmpint(fd, ==, -1);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  g_clear_error(&error);
  g_autofree char *leaked = g_build_filename(f->dir, "outside/x", NULL);
  g_assert_false(g_file_test(leaked, G_FILE_TEST_EXISTS));
  /* A real directory that others may write to. */
  g_assert_cmpint(mkdirat(f->fd, ".open", 0777), ==, 0);
  g_assert_cmpint(fchmodat(f->fd, ".open", 0777, 0), ==, 0);
  fd = scand_fs_mkdir_beneath(f->fd, "in", ".open", 0750, TRUE, &error);
  g_assert_cmpint(fd, ==, -1);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);
  /* Without must_own it is fine. */
  fd = scand_fs_mkdir_beneath(f->fd, "in", ".open", 0750, FALSE, &error);
  g_assert_no_error(error);
  close(fd);
  /* Another user's directory (needs root to make one). */
  if (geteuid() == 0) {
    g_assert_cmpint(mkdirat(f->fd, ".theirs", 0755), ==, 0);
    g_assert_cmpint(fchownat(f->fd, ".theirs", 65534, 65534, 0), ==, 0);
    fd = scand_fs_mkdir_beneath(f->fd, "in", ".theirs", 0750, TRUE, &error);
    g_assert_cmpint(fd, ==, -1);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  }
}

static void test_copy(Fixture *f, gconstpointer data) {
  int src = scand_fs_open_beneath(f->fd, "sub/a.pdf", O_RDONLY, 0);
  g_assert_cmpint(scand_fs_copy_into(src, f->fd, "copy.pdf", 0600, TRUE), ==, 0);
  g_assert_cmpint(scand_fs_copy_into(src, f->fd, "copy.pdf", 0600, TRUE), ==, EEXIST);
  g_assert_cmpint(scand_fs_copy_into(src, f->fd, "link.pdf", 0600, FALSE), ==, EEXIST);
  close(src);
  g_autofree char *copy = g_build_filename(f->dir, "in/copy.pdf", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(copy, &text, NULL, NULL));
  g_assert_cmpstr(text, ==, "plain");
  g_autofree char *secret = g_build_filename(f->dir, "outside/secret.pdf", NULL);
  g_autofree char *still = NULL;
  g_assert_true(g_file_get_contents(secret, &still, NULL, NULL));
  g_assert_cmpstr(still, ==, "secret");
}

/* A file system mounted inside the folder is not entered (root only: it
 * mounts a tmpfs). */
static void test_mount_point(Fixture *f, gconstpointer data) {
  g_autofree char *mnt = g_build_filename(f->dir, "in/sub/mnt", NULL);
  g_assert_cmpint(g_mkdir(mnt, 0755), ==, 0);
  if (mount("scand-test", mnt, "tmpfs", 0, "size=64k") < 0) {
    g_test_skip("cannot mount a tmpfs here (not root?)");
    return;
  }
  g_autofree char *inside = g_build_filename(mnt, "x.pdf", NULL);
  g_assert_true(g_file_set_contents(inside, "x", -1, NULL));
  for (guint i = 0; i < G_N_ELEMENTS(opens); i++) {
    open_beneath = opens[i];
    assert_open_fails(f->fd, "sub/mnt/x.pdf", O_RDONLY, EXDEV);
    assert_open_fails(f->fd, "sub/mnt", O_RDONLY | O_DIRECTORY, EXDEV);
  }
  g_assert_cmpint(umount(mnt), ==, 0);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add("/fs-beneath/open", Fixture, GUINT_TO_POINTER(0), fixture_setup, test_open, fixture_teardown);
  g_test_add("/fs-beneath/open-walk", Fixture, GUINT_TO_POINTER(1), fixture_setup, test_open, fixture_teardown);
  g_test_add("/fs-beneath/mkdir", Fixture, NULL, fixture_setup, test_mkdir, fixture_teardown);
  g_test_add("/fs-beneath/copy", Fixture, NULL, fixture_setup, test_copy, fixture_teardown);
  g_test_add("/fs-beneath/mount-point", Fixture, NULL, fixture_setup, test_mount_point, fixture_teardown);
  return g_test_run();
}
