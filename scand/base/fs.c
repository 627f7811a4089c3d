#include "scand/base/fs.h"
#include "scand/base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean scand_fs_error_errno(GError **error, int errsv, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "%s: %s", what, g_strerror(errsv));
  /* Callers that classify failures look at errno right after. */
  errno = errsv;
  return FALSE;
}

static gboolean fsync_fd_path(const char *path, int flags, GError **error) {
  int fd = open(path, flags | O_CLOEXEC);
  if (fd < 0)
    return scand_fs_error_errno(error, errno, "cannot open %s", path);
  /* Some file systems (e.g. network ones) refuse fsync on directories; that is
   * not a reason to fail a delivery. */
  if (fsync(fd) < 0 && errno != EINVAL && errno != ENOTSUP) {
    int errsv = errno;
    close(fd);
    return scand_fs_error_errno(error, errsv, "cannot fsync %s", path);
  }
  close(fd);
  return TRUE;
}

gboolean scand_fs_fsync_dir(const char *dir, GError **error) {
  return fsync_fd_path(dir, O_RDONLY | O_DIRECTORY, error);
}

gboolean scand_fs_fsync_path(const char *path, GError **error) {
  return fsync_fd_path(path, O_RDONLY, error);
}

int scand_fs_write_all(int fd, const void *data, gsize len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    p += n;
    len -= (gsize) n;
  }
  return 0;
}

static gboolean write_replace(const char *path, const void *data, gsize len, mode_t mode, gboolean sync,
                              GError **error) {
  /* A temporary name of its own for every call: two threads saving the same file at once (a worker and
   * the queue) must never write into one temporary file, or the renamed result is a mix of both. */
  static gint serial;
  g_autofree char *tmp = g_strdup_printf("%s.tmp-%d-%d", path, (int) getpid(), g_atomic_int_add(&serial, 1));
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0 && errno == EEXIST) {
    /* A leftover of an earlier process that had our pid and crashed: remove it (a link, not its target). */
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  }
  if (fd < 0)
    return scand_fs_error_errno(error, errno, "cannot create %s", tmp);
  int werr = scand_fs_write_all(fd, data, len);
  if (werr) {
    close(fd);
    unlink(tmp);
    return scand_fs_error_errno(error, werr, "cannot write %s", tmp);
  }
  if (sync && fsync(fd) < 0) {
    int errsv = errno;
    close(fd);
    unlink(tmp);
    return scand_fs_error_errno(error, errsv, "cannot fsync %s", tmp);
  }
  if (close(fd) < 0) {
    int errsv = errno;
    unlink(tmp);
    return scand_fs_error_errno(error, errsv, "cannot close %s", tmp);
  }
  if (rename(tmp, path) < 0) {
    int errsv = errno;
    unlink(tmp);
    return scand_fs_error_errno(error, errsv, "cannot rename %s to %s", tmp, path);
  }
  if (!sync)
    return TRUE;
  g_autofree char *dir = g_path_get_dirname(path);
  return scand_fs_fsync_dir(dir, error);
}

gboolean scand_fs_write_atomic(const char *path, const void *data, gsize len, mode_t mode, GError **error) {
  return write_replace(path, data, len, mode, TRUE, error);
}

gboolean scand_fs_write_unsynced(const char *path, const void *data, gsize len, mode_t mode, GError **error) {
  return write_replace(path, data, len, mode, FALSE, error);
}

gboolean scand_fs_sync_file_system(int fd, const char *what, GError **error) {
  return syncfs(fd) == 0 || scand_fs_error_errno(error, errno, "cannot sync the file system of %s", what);
}

gboolean scand_fs_mkdir_p(const char *dir, mode_t mode, GError **error) {
  struct stat st;
  if (stat(dir, &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY, "%s exists and is not a directory", dir);
      return FALSE;
    }
    return TRUE;
  }
  if (errno != ENOENT)
    return scand_fs_error_errno(error, errno, "cannot stat %s", dir);
  g_autofree char *parent = g_path_get_dirname(dir);
  if (strcmp(parent, dir) != 0 && !scand_fs_mkdir_p(parent, mode, error))
    return FALSE;
  if (mkdir(dir, mode) < 0 && errno != EEXIST)
    return scand_fs_error_errno(error, errno, "cannot create directory %s", dir);
  return scand_fs_fsync_dir(parent, error);
}

gboolean scand_fs_commit(const char *tmp, const char *final, GError **error) {
  if (!scand_fs_fsync_path(tmp, error))
    return FALSE;
  if (rename(tmp, final) < 0)
    return scand_fs_error_errno(error, errno, "cannot rename %s to %s", tmp, final);
  g_autofree char *dir = g_path_get_dirname(final);
  return scand_fs_fsync_dir(dir, error);
}

gboolean scand_fs_rename_noreplace_at(int dfd, const char *tmp, const char *final, GError **error) {
  if (renameat2(dfd, tmp, dfd, final, RENAME_NOREPLACE) == 0)
    return TRUE;
  if (errno != EINVAL && errno != ENOSYS)
    return scand_fs_error_errno(error, errno, "cannot rename %s to %s", tmp, final);
  /* No RENAME_NOREPLACE here: link() fails with EEXIST just the same. */
  if (linkat(dfd, tmp, dfd, final, 0) == 0) {
    unlinkat(dfd, tmp, 0);
    return TRUE;
  }
  if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP)
    return scand_fs_error_errno(error, errno, "cannot rename %s to %s", tmp, final);
  /* Neither (e.g. vfat): check, then rename. Only scand writes these names. */
  struct stat st;
  if (fstatat(dfd, final, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return scand_fs_error_errno(error, EEXIST, "cannot rename %s to %s", tmp, final);
  if (renameat(dfd, tmp, dfd, final) < 0)
    return scand_fs_error_errno(error, errno, "cannot rename %s to %s", tmp, final);
  return TRUE;
}

gboolean scand_fs_rename_noreplace(const char *tmp, const char *final, GError **error) {
  return scand_fs_rename_noreplace_at(AT_FDCWD, tmp, final, error);
}

gboolean scand_fs_name_check(const char *name, GError **error) {
  if (!name || !*name) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "the name is empty");
    return FALSE;
  }
  if (strlen(name) >= PATH_MAX || !g_utf8_validate(name, -1, NULL)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "the name is %s",
                strlen(name) >= PATH_MAX ? "too long" : "not valid UTF-8");
    return FALSE;
  }
  if (name[0] == '/') {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "the name is an absolute path");
    return FALSE;
  }
  for (const char *p = name; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "the name holds a control character (byte %u)",
                  (guint) (p - name) + 1);
      return FALSE;
    }
  g_auto(GStrv) parts = g_strsplit(name, "/", -1);
  for (guint i = 0; parts[i]; i++)
    if (!*parts[i] || strcmp(parts[i], ".") == 0 || strcmp(parts[i], "..") == 0) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "part %u of the name is %s", i + 1,
                  *parts[i] ? (parts[i][1] ? "'..', which would leave the destination" : "'.'") : "empty");
      return FALSE;
    }
  return TRUE;
}

int scand_fs_open_dir_beneath(int root_fd, const char *rel, gboolean create, mode_t mode, GError **error) {
  int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    scand_fs_error_errno(error, errno, "cannot open the destination");
    return -1;
  }
  if (!rel || !*rel)
    return fd;
  g_autoptr(GError) bad = NULL;
  if (!scand_fs_name_check(rel, &bad)) {
    close(fd);
    scand_fs_error_errno(error, EINVAL, "%s", bad->message);
    return -1;
  }
  g_auto(GStrv) parts = g_strsplit(rel, "/", -1);
  g_autoptr(GString) done = g_string_new(NULL);
  for (guint i = 0; parts[i]; i++) {
    g_string_append_printf(done, "%s%s", i ? "/" : "", parts[i]);
    int next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && create) {
      if (mkdirat(fd, parts[i], mode) < 0 && errno != EEXIST) {
        int errsv = errno;
        close(fd);
        scand_fs_error_errno(error, errsv, "cannot create %s", done->str);
        return -1;
      }
      if (fsync(fd) < 0 && errno != EINVAL && errno != ENOTSUP) {
        int errsv = errno;
        close(fd);
        scand_fs_error_errno(error, errsv, "cannot fsync the directory above %s", done->str);
        return -1;
      }
      next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (next < 0) {
      int errsv = errno;
      struct stat st;
      gboolean link = fstatat(fd, parts[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
      close(fd);
      if (link || errsv == ELOOP)
        scand_fs_error_errno(error, ELOOP, "%s is a symbolic link, never followed out of the destination", done->str);
      else if (errsv == ENOTDIR)
        scand_fs_error_errno(error, ENOTDIR, "%s is in the way and is not a directory", done->str);
      else
        scand_fs_error_errno(error, errsv, "cannot open %s", done->str);
      return -1;
    }
    close(fd);
    fd = next;
  }
  return fd;
}

void scand_fs_remove_tree(const char *path) {
  g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
  if (d) {
    const char *name;
    while ((name = g_dir_read_name(d))) {
      g_autofree char *child = g_build_filename(path, name, NULL);
      if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
        scand_fs_remove_tree(child);
      else
        unlink(child);
    }
  }
  rmdir(path);
}

gboolean scand_fs_read_limited(const char *path, gsize max, char **data, gsize *len, struct stat *st_out,
                               GError **error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int errsv = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "%s: %s", path, g_strerror(errsv));
    return FALSE;
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "%s: not a regular file", path);
    return FALSE;
  }
  if ((guint64) st.st_size > max) {
    close(fd);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: file too large (over %" G_GSIZE_FORMAT " bytes)", path, max);
    return FALSE;
  }
  gsize cap = (gsize) st.st_size + 1, used = 0;
  char *buf = g_malloc(cap + 1);
  for (;;) {
    if (used == cap) {
      if (cap > max) {
        explicit_bzero(buf, cap);
        g_free(buf);
        close(fd);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: file too large", path);
        return FALSE;
      }
      buf = g_realloc(buf, cap * 2 + 1);
      cap *= 2;
    }
    ssize_t n = read(fd, buf + used, cap - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int errsv = errno;
      explicit_bzero(buf, cap);
      g_free(buf);
      close(fd);
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "%s: %s", path, g_strerror(errsv));
      return FALSE;
    }
    if (n == 0)
      break;
    used += n;
  }
  close(fd);
  buf[used] = '\0';
  *data = buf;
  *len = used;
  if (st_out)
    *st_out = st;
  return TRUE;
}
