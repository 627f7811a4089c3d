/* The directories of the watched folders (main thread): each opened beneath
 * its parent's descriptor, never through a symbolic link, never onto another
 * file system, watched by inotify through its open descriptor (so that the
 * watch is on the directory that was checked, whatever its path points at by
 * then), scanned for files that came while nobody looked. */
#include "scand/service/watch-private.h"
#include "scand/base/file-name.h"
#include "scand/base/fs-beneath.h"
#include "scand/base/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/vfs.h>
#include <unistd.h>

#define WATCH_EVENTS                                                                                                   \
  (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_DELETE_SELF |     \
   IN_MOVE_SELF)

#ifndef CIFS_SUPER_MAGIC
#define CIFS_SUPER_MAGIC 0xff534d42
#endif
#ifndef SMB2_SUPER_MAGIC
#define SMB2_SUPER_MAGIC 0xfe534d42
#endif
#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

void watch_dir_free(WatchDir *dir) {
  if (dir->fd >= 0)
    close(dir->fd);
  g_free(dir->rel);
  g_free(dir->key);
  g_free(dir);
}

WatchDir *watch_tree_find(ScandWatcher *watcher, guint root, const char *rel) {
  g_autofree char *key = watch_key(root, rel);
  return g_hash_table_lookup(watcher->dirs_by_rel, key);
}

static WatchConfig *config_of(ScandWatcher *watcher, guint root) {
  return ((WatchRoot *) watcher->roots->pdata[root])->config;
}

/* An inotify watch on the directory open as fd: through /proc/self/fd, the
 * very directory that was opened; without /proc, by its path. */
static int add_inotify(ScandWatcher *watcher, int fd, const char *path) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  int wd = inotify_add_watch(watcher->ifd, proc, WATCH_EVENTS | IN_ONLYDIR);
  if (wd < 0 && errno == ENOENT)
    wd = inotify_add_watch(watcher->ifd, path, WATCH_EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW);
  return wd;
}

/* Forgets dir without touching its inotify watch. */
static void forget_dir(ScandWatcher *watcher, WatchDir *dir) {
  WatchRoot *r = watcher->roots->pdata[dir->root];
  if (r->top == dir) {
    r->top = NULL;
    g_clear_pointer(&r->top_fd, watch_fd_unref);
  }
  if (dir->wd >= 0 && g_hash_table_lookup(watcher->dirs, GINT_TO_POINTER(dir->wd)) == dir)
    g_hash_table_remove(watcher->dirs, GINT_TO_POINTER(dir->wd));
  g_hash_table_remove(watcher->dirs_by_rel, dir->key);
}

/* Takes fd (a checked directory) into the tables as rel of root. */
static WatchDir *register_dir(ScandWatcher *watcher, guint root, const char *rel, int fd, const struct stat *st) {
  WatchConfig *w = config_of(watcher, root);
  g_autofree char *shown = watch_display(w, rel);
  g_autofree char *path = *rel ? g_build_filename(w->path, rel, NULL) : g_strdup(w->path);
  int wd = add_inotify(watcher, fd, path);
  if (wd < 0)
    watch_log(watcher, "watch %s: cannot watch %s: %s%s; it is rescanned every poll-interval instead", w->name, shown,
              g_strerror(errno), errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
  WatchDir *same = wd >= 0 ? g_hash_table_lookup(watcher->dirs, GINT_TO_POINTER(wd)) : NULL;
  if (same && same->root != root) {
    watch_log(watcher, "watch %s: %s is watched by watch %s already; left to it", w->name, shown,
              config_of(watcher, same->root)->name);
    close(fd);
    return NULL;
  }
  if (same) /* the same directory under an old name (moved) */
    forget_dir(watcher, same);
  WatchDir *dir = g_new0(WatchDir, 1);
  dir->root = root;
  dir->rel = g_strdup(rel);
  dir->key = watch_key(root, rel);
  dir->fd = fd;
  dir->wd = wd;
  dir->dev = st->st_dev;
  dir->ino = st->st_ino;
  g_hash_table_replace(watcher->dirs_by_rel, dir->key, dir);
  if (wd >= 0)
    g_hash_table_replace(watcher->dirs, GINT_TO_POINTER(wd), dir);
  return dir;
}

void watch_tree_remove(ScandWatcher *watcher, WatchDir *dir) {
  g_autofree char *prefix = *dir->rel ? g_strdup_printf("%s/", dir->key) : g_strdup(dir->key);
  g_autoptr(GPtrArray) gone = g_ptr_array_new();
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, watcher->dirs_by_rel);
  while (g_hash_table_iter_next(&it, &key, &value))
    if (value == dir || g_str_has_prefix(key, prefix))
      g_ptr_array_add(gone, value);
  for (guint i = 0; i < gone->len; i++) {
    WatchDir *d = gone->pdata[i];
    if (d->wd >= 0)
      inotify_rm_watch(watcher->ifd, d->wd);
    forget_dir(watcher, d);
  }
}

static void scan_dir(ScandWatcher *watcher, WatchDir *dir, guint depth);

void watch_tree_add_dir(ScandWatcher *watcher, WatchDir *parent, const char *name, guint depth) {
  WatchConfig *w = config_of(watcher, parent->root);
  g_autofree char *rel = *parent->rel ? g_build_filename(parent->rel, name, NULL) : g_strdup(name);
  g_autofree char *key = watch_key(parent->root, rel);
  g_autofree char *shown = watch_display(w, rel);
  g_autofree char *full = g_build_filename(w->path, rel, NULL);
  g_autofree char *canonical = g_canonicalize_filename(full, "/");
  for (guint i = 0; i < watcher->move_targets->len; i++)
    if (strcmp(canonical, watcher->move_targets->pdata[i]) == 0) {
      watch_log_once(watcher, key, "watch %s: %s is where files are moved (after = move:…): not watched", w->name,
                     shown);
      return;
    }
  if (depth > WATCH_MAX_DEPTH) {
    watch_log_once(watcher, key, "watch %s: %s is more than %u levels deep: not watched", w->name, shown,
                   WATCH_MAX_DEPTH);
    return;
  }
  int fd = scand_fs_open_beneath(parent->fd, name, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR)
      watch_log_once(watcher, key, "watch %s: %s is a symbolic link: not followed, left alone", w->name, shown);
    else if (errno == EXDEV)
      watch_log_once(watcher, key, "watch %s: %s is a mount point of another file system: not followed", w->name,
                     shown);
    else if (errno != ENOENT)
      watch_log(watcher, "watch %s: cannot open %s: %s", w->name, shown, g_strerror(errno));
    return;
  }
  struct stat st;
  fstat(fd, &st);
  WatchDir *dir = watch_tree_find(watcher, parent->root, rel);
  if (dir && (dir->dev != st.st_dev || dir->ino != st.st_ino)) {
    watch_tree_remove(watcher, dir); /* replaced by another directory */
    dir = NULL;
  }
  if (dir)
    close(fd);
  else
    dir = register_dir(watcher, parent->root, rel, fd, &st);
  if (dir)
    scan_dir(watcher, dir, depth);
}

/* Files that arrived before the watch, while scand was down, or while
 * inotify lost its events. */
static void scan_dir(ScandWatcher *watcher, WatchDir *dir, guint depth) {
  WatchConfig *w = config_of(watcher, dir->root);
  int fd = openat(dir->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return;
  }
  g_autoptr(GPtrArray) subdirs = g_ptr_array_new_with_free_func(g_free);
  struct dirent *e;
  while ((e = readdir(d))) {
    struct stat st;
    if (watch_name_ignored(e->d_name) || fstatat(dir->fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (S_ISDIR(st.st_mode) && w->recursive)
      g_ptr_array_add(subdirs, g_strdup(e->d_name));
    else if (S_ISREG(st.st_mode))
      watch_pending_event(watcher, dir, e->d_name, WATCH_SEEN);
    else if (!S_ISDIR(st.st_mode)) {
      g_autofree char *rel = *dir->rel ? g_build_filename(dir->rel, e->d_name, NULL) : g_strdup(e->d_name);
      watch_refuse_entry(watcher, dir->root, rel, &st);
    }
  }
  closedir(d);
  for (guint i = 0; i < subdirs->len; i++)
    watch_tree_add_dir(watcher, dir, subdirs->pdata[i], depth + 1);
}

static gboolean is_network_fs(int fd) {
  struct statfs fs;
  if (fstatfs(fd, &fs) < 0)
    return FALSE;
  switch ((unsigned long) fs.f_type) {
    case NFS_SUPER_MAGIC:
    case CIFS_SUPER_MAGIC:
    case SMB_SUPER_MAGIC:
    case SMB2_SUPER_MAGIC:
    case FUSE_SUPER_MAGIC:
    case CODA_SUPER_MAGIC:
    case AFS_SUPER_MAGIC:
      return TRUE;
    default:
      return FALSE;
  }
}

/* Opens the watched folder itself: its configured path may go through
 * symbolic links the administrator made, but the folder may not be one. */
static int open_root_fd(ScandWatcher *watcher, WatchConfig *w, gboolean create) {
  g_autoptr(GError) error = NULL;
  if (create && !scand_fs_mkdir_p(w->path, 0755, &error))
    watch_log(watcher, "watch %s: %s", w->name, error->message);
  int fd = open(w->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int errsv = errno;
  struct stat st;
  if (fd < 0 && lstat(w->path, &st) == 0 && S_ISLNK(st.st_mode)) {
    g_autofree char *key = g_strdup_printf("%s\x1f(link)", w->path);
    watch_log_once(watcher, key, "watch %s: %s is a symbolic link: not watched (set path to the folder it points to)",
                   w->name, w->path);
    errsv = ELOOP;
  } else if (fd < 0 && create) {
    watch_log(watcher, "watch %s: cannot open %s: %s", w->name, w->path, g_strerror(errsv));
  }
  errno = errsv;
  return fd;
}

/* A watch on the folder's parent: a folder removed or renamed shows there
 * (the folder's own IN_DELETE_SELF waits until scand closes it), and so does
 * one made again. */
static void watch_parent(ScandWatcher *watcher, WatchRoot *r) {
  if (r->parent_wd >= 0)
    return;
  g_autofree char *parent = g_path_get_dirname(r->config->path);
  r->parent_wd =
      inotify_add_watch(watcher->parent_ifd, parent, IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
}

void watch_tree_open_root(ScandWatcher *watcher, guint root, gboolean create) {
  WatchRoot *r = watcher->roots->pdata[root];
  WatchConfig *w = r->config;
  if (r->top)
    return;
  watch_parent(watcher, r);
  int fd = open_root_fd(watcher, w, create);
  if (fd < 0) {
    if (create)
      watch_tree_lose_root(watcher, root, errno == ELOOP ? "a symbolic link" : "not there");
    return;
  }
  struct stat st;
  fstat(fd, &st);
  r->top = register_dir(watcher, root, "", fd, &st);
  if (!r->top)
    return;
  r->top_fd = watch_fd_new(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (r->lost)
    watch_log(watcher, "watch %s: %s is back; watching it again", w->name, w->path);
  r->lost = FALSE;
  gboolean network = is_network_fs(fd);
  if (network && !r->network && !w->poll_us)
    watch_log(watcher,
              "watch %s: %s is on a network file system, where inotify sees only this machine's changes; "
              "rescanning it every %d s (poll-interval)",
              w->name, w->path, WATCH_POLL_NETWORK_S);
  r->network = network;
  scan_dir(watcher, r->top, 0);
}

void watch_tree_lose_root(ScandWatcher *watcher, guint root, const char *why) {
  WatchRoot *r = watcher->roots->pdata[root];
  WatchConfig *w = r->config;
  if (r->top)
    watch_tree_remove(watcher, r->top);
  if (r->lost)
    return;
  r->lost = TRUE;
  watch_parent(watcher, r);
  watch_log(watcher, "watch %s: %s is %s; %s", w->name, w->path, why,
            r->parent_wd >= 0 ? "watching its parent folder for it to come back"
                              : "looking for it again every poll-interval");
}

/* Whether the folder's path still leads to the directory being watched (it
 * or a folder above it may have been renamed or replaced). */
static gboolean root_still_there(WatchRoot *r) {
  struct stat st;
  return stat(r->config->path, &st) == 0 && st.st_dev == r->top->dev && st.st_ino == r->top->ino;
}

void watch_tree_rescan(ScandWatcher *watcher, guint root) {
  WatchRoot *r = watcher->roots->pdata[root];
  if (r->top && !root_still_there(r))
    watch_tree_lose_root(watcher, root, "no longer at its path (renamed or replaced)");
  if (!r->top) {
    watch_tree_open_root(watcher, root, FALSE);
    return;
  }
  /* Directories that went away unseen (network file systems) go from the
   * tables; the rest is scanned again. */
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, watcher->dirs_by_rel);
  while (g_hash_table_iter_next(&it, &key, &value))
    if (((WatchDir *) value)->root == root && value != r->top)
      g_ptr_array_add(keys, g_strdup(key));
  for (guint i = 0; i < keys->len; i++) {
    WatchDir *d = g_hash_table_lookup(watcher->dirs_by_rel, keys->pdata[i]);
    struct stat st;
    if (d && (fstatat(r->top->fd, d->rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_ino != d->ino || st.st_dev != d->dev))
      watch_tree_remove(watcher, d); /* with what lies below it */
  }
  scan_dir(watcher, r->top, 0);
}
