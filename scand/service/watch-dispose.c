/* What happens to a watched file once its job holds it: deleted, or moved
 * to a folder (the watch's .scand-done, or a move:/dir), keeping its path
 * below the watched folder; a file that cannot be taken goes to .scand-error
 * with a note.
 *
 * All of it relative to directory descriptors: the .scand-* folders are made
 * with mkdirat inside the watched folder and used only when they are real
 * directories of scand's own user that nobody else can write to (a symbolic
 * link planted there would otherwise send files, and notes with an
 * attacker's name and content, anywhere scand can write). */
#include "scand/service/watch-private.h"
#include "scand/base/file-name.h"
#include "scand/base/fs-beneath.h"
#include "scand/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct WatchDirSync {
  GArray *dirs; /* DirToSync */
};

typedef struct {
  dev_t dev;
  ino_t ino;
  int fd; /* our own duplicate */
} DirToSync;

WatchDirSync *watch_dir_sync_new(void) {
  WatchDirSync *sync = g_new0(WatchDirSync, 1);
  sync->dirs = g_array_new(FALSE, FALSE, sizeof(DirToSync));
  return sync;
}

/* Records dir (not taken), once, or fsyncs it now without sync. */
static void dir_sync_add(WatchDirSync *sync, int dir) {
  if (!sync) {
    fsync(dir);
    return;
  }
  struct stat st;
  if (fstat(dir, &st) < 0) {
    fsync(dir);
    return;
  }
  for (guint i = 0; i < sync->dirs->len; i++) {
    DirToSync *d = &g_array_index(sync->dirs, DirToSync, i);
    if (d->dev == st.st_dev && d->ino == st.st_ino)
      return;
  }
  DirToSync d = { .dev = st.st_dev, .ino = st.st_ino, .fd = fcntl(dir, F_DUPFD_CLOEXEC, 3) };
  if (d.fd < 0) {
    fsync(dir);
    return;
  }
  g_array_append_val(sync->dirs, d);
}

gboolean watch_dir_sync_flush(WatchDirSync *sync) {
  gboolean ok = TRUE;
  for (guint i = 0; i < sync->dirs->len; i++) {
    DirToSync *d = &g_array_index(sync->dirs, DirToSync, i);
    /* Some file systems refuse fsync on a directory: nothing to wait for there. */
    if (fsync(d->fd) < 0 && errno != EINVAL && errno != ENOTSUP)
      ok = FALSE;
    close(d->fd);
  }
  g_array_set_size(sync->dirs, 0);
  return ok;
}

void watch_dir_sync_free(WatchDirSync *sync) {
  if (!sync)
    return;
  watch_dir_sync_flush(sync);
  g_array_unref(sync->dirs);
  g_free(sync);
}

/* A name in a folder is NAME_MAX bytes at most. */
#define NAME_BYTES 255
#define MAX_SUFFIX 9999

/* Opens folder (below root_fd for ".scand-*", else an absolute path the
 * configuration gave) and the directory of rel below it, creating them. */
static int open_target_dir(const WatchConfig *config, int root_fd, const char *folder, const char *rel,
                           GError **error) {
  g_autofree char *sub = g_path_get_dirname(rel);
  gboolean own = folder[0] != '/';
  g_autofree char *relpath = own ? (strcmp(sub, ".") == 0 ? g_strdup(folder) : g_build_filename(folder, sub, NULL))
                                 : (strcmp(sub, ".") == 0 ? NULL : g_strdup(sub));
  if (own)
    return scand_fs_mkdir_beneath(root_fd, config->path, relpath, 0750, TRUE, error);
  if (!scand_fs_mkdir_p(folder, 0750, error))
    return -1;
  int base = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (base < 0) {
    scand_fs_error_errno(error, errno, "cannot open %s", folder);
    return -1;
  }
  if (!relpath)
    return base;
  int fd = scand_fs_mkdir_beneath(base, folder, relpath, 0750, FALSE, error);
  close(base);
  return fd;
}

/* One try at moving src to cand in to_dir: 0, EEXIST (take another name) or
 * an errno. */
static int move_once(WatchSource *src, int to_dir, const char *cand) {
  if (renameat2(src->dir_fd, src->name, to_dir, cand, RENAME_NOREPLACE) == 0)
    return 0;
  int errsv = errno;
  if (errsv == EINVAL) {
    /* No RENAME_NOREPLACE on this file system: look, then rename. */
    struct stat st;
    if (fstatat(to_dir, cand, &st, AT_SYMLINK_NOFOLLOW) == 0)
      return EEXIST;
    return renameat(src->dir_fd, src->name, to_dir, cand) == 0 ? 0 : errno;
  }
  if (errsv != EXDEV)
    return errsv;
  errsv = scand_fs_copy_into(src->fd, to_dir, cand, src->st.st_mode & 0666, TRUE);
  if (errsv)
    return errsv;
  return unlinkat(src->dir_fd, src->name, 0) == 0 ? 0 : errno;
}

/* Moves src into to_dir under its name, or name-2, name-3, …; returns the
 * name used (newly allocated) or NULL with error. */
static char *move_into(WatchSource *src, int to_dir, const char *where, WatchDirSync *sync, GError **error) {
  for (guint n = 1; n <= MAX_SUFFIX; n++) {
    g_autofree char *suffix = g_strdup_printf("-%u", n);
    g_autofree char *cand = n == 1 ? g_strdup(src->name) : scand_file_name_with_suffix(src->name, suffix, NAME_BYTES);
    int errsv = move_once(src, to_dir, cand);
    if (errsv == EEXIST)
      continue;
    if (errsv) {
      g_autofree char *shown = scand_file_name_printable(src->rel);
      scand_fs_error_errno(error, errsv, "cannot move %s to %s", shown, where);
      return NULL;
    }
    dir_sync_add(sync, to_dir);
    dir_sync_add(sync, src->dir_fd);
    return g_steal_pointer(&cand);
  }
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s: %u files of that name are there already", where, MAX_SUFFIX);
  return NULL;
}

static gboolean move_to(const WatchConfig *config, int root_fd, WatchSource *src, const char *folder, char **where,
                        int *dir_out, WatchDirSync *sync, GError **error) {
  int to_dir = open_target_dir(config, root_fd, folder, src->rel, error);
  if (to_dir < 0)
    return FALSE;
  g_autofree char *sub = g_path_get_dirname(src->rel);
  g_autofree char *base = folder[0] == '/' ? g_strdup(folder) : g_build_filename(config->path, folder, NULL);
  g_autofree char *dir_path = strcmp(sub, ".") == 0 ? g_strdup(base) : g_build_filename(base, sub, NULL);
  g_autofree char *name = move_into(src, to_dir, dir_path, sync, error);
  if (name && where)
    *where = g_build_filename(dir_path, name, NULL);
  if (name && dir_out)
    *dir_out = to_dir;
  else
    close(to_dir);
  return name != NULL;
}

gboolean watch_dispose(const WatchConfig *config, int root_fd, WatchSource *src, const char *after, char **where,
                       WatchDirSync *sync, GError **error) {
  if (where)
    *where = NULL;
  if (!watch_source_still_there(src))
    return TRUE;
  if (g_strcmp0(after, "delete") == 0) {
    if (unlinkat(src->dir_fd, src->name, 0) < 0 && errno != ENOENT) {
      g_autofree char *shown = scand_file_name_printable(src->rel);
      return scand_fs_error_errno(error, errno, "cannot delete %s", shown);
    }
    dir_sync_add(sync, src->dir_fd);
    return TRUE;
  }
  const char *folder = g_str_has_prefix(after ? after : "", "move:") ? after + strlen("move:") : WATCH_DONE_DIR;
  return move_to(config, root_fd, src, folder, where, NULL, sync, error);
}

/* "NAME.reason.txt", NAME cut so that the whole fits in a file name. */
static char *note_name(const char *name) {
  static const char ext[] = ".reason.txt";
  gsize keep = MIN(strlen(name), NAME_BYTES - (sizeof ext - 1));
  while (keep > 0 && ((guchar) name[keep] & 0xc0) == 0x80)
    keep--;
  return g_strdup_printf("%.*s%s", (int) keep, name, ext);
}

/* Writes the note whole or not at all: a temporary name, fsync, then renamed
 * into place (a reader never sees it empty or cut short, also when the file
 * system is full). Best effort: the daemon's log has the reason too. */
static void write_note(int dir, const char *note, const char *text) {
  g_autofree char *tmp = g_strdup_printf(".%u.reason.tmp", (unsigned) getpid());
  int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0)
    return;
  gboolean ok = write(fd, text, strlen(text)) == (ssize_t) strlen(text);
  ok = fsync(fd) == 0 && ok;
  ok = close(fd) == 0 && ok;
  if (ok && renameat(dir, tmp, dir, note) == 0)
    fsync(dir);
  else
    unlinkat(dir, tmp, 0);
}

gboolean watch_quarantine(const WatchConfig *config, int root_fd, WatchSource *src, const char *reason, char **where,
                          GError **error) {
  int dir = -1;
  g_autofree char *moved = NULL;
  if (!move_to(config, root_fd, src, WATCH_ERROR_DIR, &moved, &dir, NULL, error))
    return FALSE;
  g_autofree char *note = note_name(strrchr(moved, '/') + 1);
  g_autofree char *text = g_strdup_printf("%s\n", reason);
  write_note(dir, note, text);
  close(dir);
  if (where)
    *where = g_steal_pointer(&moved);
  return TRUE;
}
