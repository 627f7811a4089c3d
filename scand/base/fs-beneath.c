#include "scand/base/fs-beneath.h"
#include "scand/base/progress.h"
#include "scand/base/fs-beneath-private.h"
#include "scand/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* One component: not empty, not "." or "..". */
static gboolean component_valid(const char *c) {
  return *c && strcmp(c, ".") != 0 && strcmp(c, "..") != 0;
}

static gboolean relpath_valid(const char *relpath) {
  if (!relpath || !*relpath || relpath[0] == '/')
    return FALSE;
  g_auto(GStrv) parts = g_strsplit(relpath, "/", -1);
  for (guint i = 0; parts[i]; i++)
    if (!component_valid(parts[i]))
      return FALSE;
  return TRUE;
}

/* openat2 where the kernel has it (Linux 5.6); -1 with ENOSYS where not. */
static int open_beneath_openat2(int dirfd, const char *relpath, int flags, mode_t mode) {
#ifdef SYS_openat2
  struct open_how how = {
    .flags = (guint64) flags,
    .mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  return (int) syscall(SYS_openat2, dirfd, relpath, &how, sizeof how);
#else
  errno = ENOSYS;
  return -1;
#endif
}

/* The same by hand: each component opened with O_NOFOLLOW, its device
 * compared with dirfd's. */
static int open_beneath_walk(int dirfd, const char *relpath, int flags, mode_t mode) {
  struct stat top;
  if (fstat(dirfd, &top) < 0)
    return -1;
  g_auto(GStrv) parts = g_strsplit(relpath, "/", -1);
  int cur = dirfd;
  for (guint i = 0; parts[i]; i++) {
    gboolean last = parts[i + 1] == NULL;
    int fd = last ? openat(cur, parts[i], flags, mode)
                  : openat(cur, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int errsv = errno;
    struct stat st;
    /* A link met on the way is ELOOP, as openat2 says. */
    if (fd < 0 && !last && errsv == ENOTDIR && fstatat(cur, parts[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode))
      errsv = ELOOP;
    if (cur != dirfd)
      close(cur);
    if (fd < 0) {
      errno = errsv;
      return -1;
    }
    errsv = fstat(fd, &st) < 0 ? errno : st.st_dev != top.st_dev ? EXDEV : 0;
    if (errsv) {
      close(fd);
      errno = errsv;
      return -1;
    }
    cur = fd;
  }
  return cur;
}

int scand_fs_open_beneath(int dirfd, const char *relpath, int flags, mode_t mode) {
  if (!relpath_valid(relpath)) {
    errno = EINVAL;
    return -1;
  }
  flags |= O_NOFOLLOW | O_CLOEXEC;
  int fd = open_beneath_openat2(dirfd, relpath, flags, mode);
  if (fd >= 0 || errno != ENOSYS)
    return fd;
  return open_beneath_walk(dirfd, relpath, flags, mode);
}

int scand_fs_open_beneath_walk(int dirfd, const char *relpath, int flags, mode_t mode) {
  if (!relpath_valid(relpath)) {
    errno = EINVAL;
    return -1;
  }
  return open_beneath_walk(dirfd, relpath, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

gboolean scand_fs_stat_is_private_dir(const struct stat *st) {
  return S_ISDIR(st->st_mode) && st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Opens (creating if missing) one directory entry of parent, checked. */
static int open_dir_entry(int parent, const char *where, const char *name, mode_t mode, gboolean must_own,
                          GError **error) {
  if (mkdirat(parent, name, mode) < 0 && errno != EEXIST) {
    scand_fs_error_errno(error, errno, "cannot create %s/%s", where, name);
    return -1;
  }
  int fd = scand_fs_open_beneath(parent, name, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) {
    int errsv = errno;
    if (errsv == ELOOP || errsv == ENOTDIR || errsv == EXDEV)
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY, "%s/%s is not a real directory (%s)", where, name,
                  errsv == EXDEV ? "another file system is mounted there" : "a symbolic link or a file");
    else
      scand_fs_error_errno(error, errsv, "cannot open %s/%s", where, name);
    errno = errsv;
    return -1;
  }
  struct stat st;
  if (must_own && (fstat(fd, &st) < 0 || !scand_fs_stat_is_private_dir(&st))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                "%s/%s is not a directory of scand's own (it must belong to uid %u and be writable by no one else)",
                where, name, (unsigned) geteuid());
    close(fd);
    errno = EPERM;
    return -1;
  }
  return fd;
}

int scand_fs_mkdir_beneath(int dirfd, const char *where, const char *relpath, mode_t mode, gboolean must_own,
                           GError **error) {
  if (!relpath_valid(relpath)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: \"%s\" is not a relative folder name", where,
                relpath ? relpath : "");
    errno = EINVAL;
    return -1;
  }
  g_auto(GStrv) parts = g_strsplit(relpath, "/", -1);
  g_autofree char *at = g_strdup(where);
  int cur = dirfd;
  for (guint i = 0; parts[i]; i++) {
    int fd = open_dir_entry(cur, at, parts[i], mode, must_own, error);
    int errsv = errno;
    if (cur != dirfd)
      close(cur);
    if (fd < 0) {
      errno = errsv;
      return -1;
    }
    char *next = g_strdup_printf("%s/%s", at, parts[i]);
    g_free(at);
    at = next;
    cur = fd;
  }
  return cur;
}

int scand_fs_copy_into(int from_fd, int dirfd, const char *name, mode_t mode, gboolean sync) {
  int out = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (out < 0)
    return errno;
  char buf[65536];
  int errsv = 0;
  for (off_t off = 0; !errsv;) {
    ssize_t n = pread(from_fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      errsv = n < 0 ? errno : 0;
      break;
    }
    errsv = scand_fs_write_all(out, buf, (gsize) n);
    off += n;
    scand_progress_beat();
  }
  if (!errsv && sync && fsync(out) < 0)
    errsv = errno;
  if (close(out) < 0 && !errsv)
    errsv = errno;
  if (errsv)
    unlinkat(dirfd, name, 0);
  return errsv;
}
