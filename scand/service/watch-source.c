/* Opening a watched file for taking, and what makes it the same file.
 *
 * A watched folder is written by other people, so nothing is opened by a
 * path from "/": the file's directory is opened beneath the folder's
 * descriptor and the file beneath that, never through a symbolic link, never
 * on another file system. What is open is checked after opening (a FIFO or a
 * device renamed over a stable file must not block or be read): a regular
 * file with one link on the folder's file system. */
#include "scand/service/watch-private.h"
#include "scand/base/file-name.h"
#include "scand/base/fs-beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

/* Bytes hashed at each end of the file for its identity. */
#define IDENTITY_BLOCK 4096

/* The file's path for messages. */
static char *shown(const WatchSource *src) {
  g_autofree char *path = g_build_filename(src->root_path, src->rel, NULL);
  return scand_file_name_printable(path);
}

static gboolean refuse(GError **error, const WatchSource *src, const char *why) {
  g_autofree char *name = shown(src);
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "%s %s: not taken", name, why);
  return FALSE;
}

static gboolean open_failed(GError **error, const WatchSource *src, int errsv) {
  g_autofree char *name = shown(src);
  switch (errsv) {
    case ENOENT:
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s is gone", name);
      return FALSE;
    case ELOOP:
      return refuse(error, src, "is (or lies below) a symbolic link");
    case ENOTDIR:
      return refuse(error, src, "lies below something that is not a directory");
    case EXDEV:
      return refuse(error, src, "is (or lies below) a mount point of another file system");
    default:
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "%s: cannot open: %s", name, g_strerror(errsv));
      return FALSE;
  }
}

/* "dev:ino:size:mtime:hash": what the file is and what it holds, the hash
 * of its first and last blocks telling content apart where the rest is the
 * same (an inode number reused for a copy with the same size and mtime).
 * Not the ctime: a chmod or a rename inside the folder does not make a held
 * file new. A file dropped again after its job let go of it is new anyway:
 * identities are remembered only while a job holds the file. */
static char *source_identity(int fd, const struct stat *st) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  guint8 block[IDENTITY_BLOCK];
  off_t offsets[2] = { 0, st->st_size > IDENTITY_BLOCK ? st->st_size - IDENTITY_BLOCK : 0 };
  for (guint i = 0; i < G_N_ELEMENTS(offsets); i++) {
    ssize_t n = pread(fd, block, sizeof block, offsets[i]);
    if (n > 0)
      g_checksum_update(sum, block, (gsize) n);
  }
  return g_strdup_printf("%lu:%lu:%lld:%lld.%09ld:%.16s", (unsigned long) st->st_dev, (unsigned long) st->st_ino,
                         (long long) st->st_size, (long long) st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
                         g_checksum_get_string(sum));
}

gboolean watch_source_open(WatchSource *src, int root_fd, const char *root_path, const char *rel, GError **error) {
  memset(src, 0, sizeof *src);
  src->dir_fd = src->fd = -1;
  src->root_path = root_path;
  src->rel = g_strdup(rel);
  const char *slash = strrchr(src->rel, '/');
  src->name = slash ? slash + 1 : src->rel;
  struct stat root;
  if (fstat(root_fd, &root) < 0)
    return open_failed(error, src, errno);
  g_autofree char *dir = slash ? g_strndup(src->rel, (gsize) (slash - src->rel)) : NULL;
  src->dir_fd =
      dir ? scand_fs_open_beneath(root_fd, dir, O_RDONLY | O_DIRECTORY, 0) : fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (src->dir_fd < 0)
    return open_failed(error, src, errno);
  /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
  src->fd = scand_fs_open_beneath(src->dir_fd, src->name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
  if (src->fd < 0)
    return open_failed(error, src, errno);
  if (fstat(src->fd, &src->st) < 0)
    return open_failed(error, src, errno);
  if (!S_ISREG(src->st.st_mode))
    return refuse(error, src, "is not a regular file (a FIFO, a device or a socket)");
  if (src->st.st_dev != root.st_dev)
    return refuse(error, src, "is on another file system");
  if (src->st.st_nlink != 1)
    return refuse(error, src, "has other hard links (its content may belong to a file outside the folder)");
  src->identity = source_identity(src->fd, &src->st);
  return TRUE;
}

void watch_source_clear(WatchSource *src) {
  if (src->fd >= 0)
    close(src->fd);
  if (src->dir_fd >= 0)
    close(src->dir_fd);
  g_free(src->rel);
  g_free(src->identity);
  memset(src, 0, sizeof *src);
  src->dir_fd = src->fd = -1;
}

gboolean watch_source_still_there(WatchSource *src) {
  struct stat st;
  return fstatat(src->dir_fd, src->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == src->st.st_dev &&
         st.st_ino == src->st.st_ino;
}
