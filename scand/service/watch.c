/* Watched folders: the watcher's life, its configuration, and what inotify
 * tells it. See watch-private.h for who owns what, watch-intake.c for how a
 * file is taken exactly once.
 *
 * inotify is the fast path, never the only one: each watch is also rescanned
 * every poll-interval (a safety net for events lost to a queue overflow, and
 * the only news there is on NFS or CIFS, where inotify sees local changes
 * only), at once after an overflow, and a folder that is removed or renamed
 * away is waited for (its parent watched) and taken up again when it is back. */
#include "scand/service/watch-private.h"
#include "scand/base/file-name.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* Logged refusals are remembered up to this many, then forgotten at once. */
#define LOGGED_MAX 10000

void watch_log(ScandWatcher *watcher, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  watcher->host.log(watcher->host.user_data, line);
}

void watch_log_once(ScandWatcher *watcher, const char *key, const char *fmt, ...) {
  if (g_hash_table_contains(watcher->logged, key))
    return;
  if (g_hash_table_size(watcher->logged) >= LOGGED_MAX)
    g_hash_table_remove_all(watcher->logged);
  g_hash_table_add(watcher->logged, g_strdup(key));
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  watcher->host.log(watcher->host.user_data, line);
}

char *watch_key(guint root, const char *rel) {
  return g_strdup_printf("%u\x1f%s", root, rel);
}

char *watch_display(const WatchConfig *config, const char *rel) {
  g_autofree char *path = *rel ? g_build_filename(config->path, rel, NULL) : g_strdup(config->path);
  return scand_file_name_printable(path);
}

void watch_refuse_entry(ScandWatcher *watcher, guint root, const char *rel, const struct stat *st) {
  if (S_ISDIR(st->st_mode))
    return;
  WatchConfig *w = ((WatchRoot *) watcher->roots->pdata[root])->config;
  g_autofree char *key = watch_key(root, rel);
  g_autofree char *shown = watch_display(w, rel);
  watch_log_once(watcher, key, "watch %s: %s is %s: left alone", w->name, shown,
                 S_ISLNK(st->st_mode) ? "a symbolic link (never followed)" : "not a regular file");
}

gboolean watch_name_ignored(const char *name) {
  static const char *const suffixes[] = { ".tmp", ".part", ".crdownload", ".partial", ".swp", "~", ".filepart" };
  if (name[0] == '.' || name[0] == '~')
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++)
    if (g_str_has_suffix(name, suffixes[i]))
      return TRUE;
  return FALSE;
}

static void watch_config_free(WatchConfig *w) {
  g_free(w->name);
  g_free(w->path);
  g_free(w->after);
  g_free(w->profile);
  g_free(w);
}

WatchFd *watch_fd_new(int fd) {
  WatchFd *wfd = g_new0(WatchFd, 1);
  wfd->refs = 1;
  wfd->fd = fd;
  return wfd;
}

WatchFd *watch_fd_ref(WatchFd *wfd) {
  g_atomic_int_inc(&wfd->refs);
  return wfd;
}

void watch_fd_unref(WatchFd *wfd) {
  if (!wfd || !g_atomic_int_dec_and_test(&wfd->refs))
    return;
  close(wfd->fd);
  g_free(wfd);
}

ScandWatcher *watch_ref(ScandWatcher *watcher) {
  g_atomic_int_inc(&watcher->refs);
  return watcher;
}

/* What the worker uses (the configurations, the held identities) goes with
 * the last reference. */
void watch_unref(ScandWatcher *watcher) {
  if (!g_atomic_int_dec_and_test(&watcher->refs))
    return;
  g_ptr_array_unref(watcher->batch); /* empty: each intake holds a reference */
  g_mutex_clear(&watcher->batch_lock);
  g_ptr_array_unref(watcher->configs);
  g_hash_table_unref(watcher->held);
  g_hash_table_unref(watcher->held_logged);
  g_free(watcher);
}

static gint64 duration_us(ScandConfig *config, const char *name, const char *key, gint64 def_s, gint64 min_s) {
  gint64 v = def_s;
  scand_config_get_duration(config, "watch", name, key, def_s, &v, NULL);
  return MAX(v, min_s) * G_USEC_PER_SEC;
}

static WatchConfig *watch_config_new(ScandConfig *config, const char *name) {
  const char *path = scand_config_get(config, "watch", name, "path");
  if (!path)
    return NULL;
  WatchConfig *w = g_new0(WatchConfig, 1);
  w->name = g_strdup(name);
  /* Trailing slashes would make the folder's own name empty. */
  w->path = g_strdup(path);
  while (strlen(w->path) > 1 && g_str_has_suffix(w->path, "/"))
    w->path[strlen(w->path) - 1] = '\0';
  w->stable_us = duration_us(config, name, "stable-for", 5, 1);
  w->incomplete_wait_us = duration_us(config, name, "incomplete-wait", 600, 1);
  w->poll_us =
      scand_config_get(config, "watch", name, "poll-interval") ? duration_us(config, name, "poll-interval", 0, 1) : 0;
  w->after = g_strdup(scand_config_get(config, "watch", name, "after"));
  scand_config_get_bool(config, "watch", name, "recursive", TRUE, &w->recursive, NULL);
  w->profile = g_strdup(scand_config_get(config, "watch", name, "profile"));
  w->collate = g_strcmp0(scand_config_get(config, "watch", name, "collate"), "double-sided") == 0;
  w->collate_wait_us = duration_us(config, name, "collate-wait", 600, 1);
  return w;
}

/* --- rescans --- */

static gboolean on_poll(gpointer data);

/* (Re)starts root's rescan timer with the period its file system needs. */
static void schedule_poll(ScandWatcher *watcher, guint root) {
  WatchRoot *r = watcher->roots->pdata[root];
  gint64 us = r->config->poll_us ? r->config->poll_us
                                 : (r->network ? WATCH_POLL_NETWORK_S : WATCH_POLL_LOCAL_S) * G_USEC_PER_SEC;
  if (r->poll_timer && us == r->poll_us)
    return;
  g_clear_handle_id(&r->poll_timer, g_source_remove);
  r->poll_us = us;
  r->poll_timer = g_timeout_add((guint) (us / 1000), on_poll, watcher);
  g_source_set_name_by_id(r->poll_timer, r->config->name);
}

static void rescan(ScandWatcher *watcher, guint root) {
  watch_tree_rescan(watcher, root);
  watch_pending_retry(watcher, root);
  schedule_poll(watcher, root);
}

static gboolean on_poll(gpointer data) {
  ScandWatcher *watcher = data;
  GSource *current = g_main_current_source();
  for (guint i = 0; i < watcher->roots->len; i++) {
    WatchRoot *r = watcher->roots->pdata[i];
    if (r->poll_timer != g_source_get_id(current))
      continue;
    r->poll_timer = 0;
    rescan(watcher, i);
  }
  if (g_atomic_int_get(&watcher->n_held) > 0)
    watcher->host.queue_push(watcher->host.user_data, watch_recover_run, watch_ref(watcher));
  return G_SOURCE_REMOVE;
}

static gboolean on_rescan_all(gpointer data) {
  ScandWatcher *watcher = data;
  watcher->rescan_idle = 0;
  for (guint i = 0; i < watcher->roots->len; i++)
    rescan(watcher, i);
  return G_SOURCE_REMOVE;
}

/* --- inotify --- */

static WatchEvent file_event(guint32 mask) {
  if (mask & (IN_DELETE | IN_MOVED_FROM))
    return WATCH_REMOVED;
  if (mask & IN_MODIFY)
    return WATCH_WRITTEN;
  if (mask & IN_CLOSE_WRITE)
    return WATCH_CLOSED;
  return WATCH_TOUCHED;
}

static guint dir_depth(const WatchDir *dir) {
  guint depth = *dir->rel ? 1 : 0;
  for (const char *p = dir->rel; *p; p++)
    depth += *p == '/';
  return depth;
}

/* The directory itself went away: removed, unmounted or moved. */
static void dir_gone(ScandWatcher *watcher, WatchDir *dir, const char *why) {
  WatchRoot *r = watcher->roots->pdata[dir->root];
  if (r->top == dir)
    watch_tree_lose_root(watcher, dir->root, why);
  else
    watch_tree_remove(watcher, dir);
}

static void handle_event(ScandWatcher *watcher, const struct inotify_event *ev) {
  WatchDir *dir = g_hash_table_lookup(watcher->dirs, GINT_TO_POINTER(ev->wd));
  if (!dir)
    return;
  if (ev->mask & IN_IGNORED) {
    dir->wd = -1; /* inotify forgot it already */
    g_hash_table_remove(watcher->dirs, GINT_TO_POINTER(ev->wd));
    dir_gone(watcher, dir, "removed or unmounted");
    return;
  }
  if (ev->mask & IN_MOVE_SELF) {
    dir_gone(watcher, dir, "moved away");
    return;
  }
  if (!ev->len || watch_name_ignored(ev->name))
    return;
  WatchConfig *w = ((WatchRoot *) watcher->roots->pdata[dir->root])->config;
  if (ev->mask & IN_ISDIR) {
    g_autofree char *rel = *dir->rel ? g_build_filename(dir->rel, ev->name, NULL) : g_strdup(ev->name);
    WatchDir *child = watch_tree_find(watcher, dir->root, rel);
    if (child && (ev->mask & (IN_MOVED_FROM | IN_DELETE)))
      watch_tree_remove(watcher, child);
    else if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && w->recursive)
      watch_tree_add_dir(watcher, dir, ev->name, dir_depth(dir) + 1);
    return;
  }
  watch_pending_event(watcher, dir, ev->name, file_event(ev->mask));
}

static gboolean on_inotify(gint fd, GIOCondition condition, gpointer data) {
  ScandWatcher *watcher = data;
  char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
  ssize_t len = read(fd, buf, sizeof buf);
  for (char *p = buf; len > 0 && p < buf + len;) {
    const struct inotify_event *ev = (const struct inotify_event *) p;
    p += sizeof *ev + ev->len;
    if (ev->mask & IN_Q_OVERFLOW) {
      watch_log(watcher, "watched folders: inotify lost events (its queue overflowed); rescanning every folder");
      if (!watcher->rescan_idle)
        watcher->rescan_idle = g_idle_add(on_rescan_all, watcher);
      continue;
    }
    handle_event(watcher, ev);
  }
  return G_SOURCE_CONTINUE;
}

/* The parent of a watched folder: the folder went, or came back. */
static gboolean on_parent_inotify(gint fd, GIOCondition condition, gpointer data) {
  ScandWatcher *watcher = data;
  char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  ssize_t len = read(fd, buf, sizeof buf);
  for (char *p = buf; len > 0 && p < buf + len;) {
    const struct inotify_event *ev = (const struct inotify_event *) p;
    p += sizeof *ev + ev->len;
    for (guint i = 0; i < watcher->roots->len; i++) {
      WatchRoot *r = watcher->roots->pdata[i];
      g_autofree char *base = g_path_get_basename(r->config->path);
      if (r->parent_wd != ev->wd)
        continue;
      if (ev->mask & IN_IGNORED)
        r->parent_wd = -1; /* the parent went too: the rescan timer looks for it */
      else if (!ev->len || strcmp(ev->name, base) != 0)
        continue;
      else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
        watch_tree_lose_root(watcher, i, ev->mask & IN_DELETE ? "removed" : "renamed away");
      else
        watch_tree_open_root(watcher, i, FALSE);
    }
  }
  return G_SOURCE_CONTINUE;
}

/* --- life --- */

/* Where watches and rules move files (after = move:/dir): a folder inside a
 * watched one is not watched, or its files would be taken again. */
static void collect_move_targets(ScandWatcher *watcher, ScandConfig *config) {
  static const char *const kinds[] = { "watch", "rule" };
  for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
    g_auto(GStrv) names = scand_config_list_sections(config, kinds[k]);
    for (guint i = 0; names && names[i]; i++) {
      const char *after = scand_config_get(config, kinds[k], names[i], "after");
      if (after && g_str_has_prefix(after, "move:/"))
        g_ptr_array_add(watcher->move_targets, g_canonicalize_filename(after + strlen("move:"), "/"));
    }
  }
}

static void root_free(WatchRoot *r) {
  g_clear_handle_id(&r->poll_timer, g_source_remove);
  watch_fd_unref(r->top_fd);
  g_free(r);
}

static ScandWatcher *watcher_alloc(const ScandWatcherHost *host) {
  ScandWatcher *watcher = g_new0(ScandWatcher, 1);
  watcher->host = *host;
  watcher->refs = 1;
  watcher->configs = g_ptr_array_new_with_free_func((GDestroyNotify) watch_config_free);
  watcher->roots = g_ptr_array_new_with_free_func((GDestroyNotify) root_free);
  watcher->dirs = g_hash_table_new(g_direct_hash, g_direct_equal);
  watcher->dirs_by_rel = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) watch_dir_free);
  watcher->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) watch_pending_free);
  watcher->logged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  watcher->waiting = g_ptr_array_new_with_free_func(watch_waiting_free);
  watcher->move_targets = g_ptr_array_new_with_free_func(g_free);
  g_mutex_init(&watcher->batch_lock);
  watcher->batch = g_ptr_array_new();
  watcher->held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  watcher->held_logged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  watcher->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  watcher->parent_ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  return watcher;
}

ScandWatcher *scand_watcher_new(const ScandWatcherHost *host, ScandConfig *config, GError **error) {
  g_auto(GStrv) names = scand_config_list_sections(config, "watch");
  if (!names || !names[0])
    return NULL;
  ScandWatcher *watcher = watcher_alloc(host);
  if (watcher->ifd < 0 || watcher->parent_ifd < 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "inotify: %s", g_strerror(errno));
    scand_watcher_free(watcher);
    return NULL;
  }
  watcher->source = g_unix_fd_add(watcher->ifd, G_IO_IN, on_inotify, watcher);
  watcher->parent_source = g_unix_fd_add(watcher->parent_ifd, G_IO_IN, on_parent_inotify, watcher);
  collect_move_targets(watcher, config);
  /* Before any file is taken: what jobs hold, and what a crash left to do. */
  host->queue_push(host->user_data, watch_recover_run, watch_ref(watcher));
  for (guint i = 0; names[i]; i++) {
    WatchConfig *w = watch_config_new(config, names[i]);
    if (!w)
      continue;
    WatchRoot *r = g_new0(WatchRoot, 1);
    r->config = w;
    r->parent_wd = -1;
    g_ptr_array_add(watcher->configs, w);
    g_ptr_array_add(watcher->roots, r);
    watch_tree_open_root(watcher, watcher->roots->len - 1, TRUE);
    schedule_poll(watcher, watcher->roots->len - 1);
  }
  return watcher;
}

void scand_watcher_free(ScandWatcher *watcher) {
  if (!watcher)
    return;
  watcher->stopped = TRUE;
  g_clear_handle_id(&watcher->source, g_source_remove);
  g_clear_handle_id(&watcher->parent_source, g_source_remove);
  g_clear_handle_id(&watcher->rescan_idle, g_source_remove);
  g_ptr_array_unref(watcher->waiting);
  g_ptr_array_unref(watcher->move_targets);
  g_hash_table_unref(watcher->pending);
  g_hash_table_unref(watcher->dirs);
  g_hash_table_unref(watcher->dirs_by_rel);
  g_hash_table_unref(watcher->logged);
  g_ptr_array_unref(watcher->roots);
  if (watcher->ifd >= 0)
    close(watcher->ifd);
  if (watcher->parent_ifd >= 0)
    close(watcher->parent_ifd);
  watch_unref(watcher);
}
