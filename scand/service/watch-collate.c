/* Double-sided collation of a simplex feeder's two passes (main thread):
 * the second complete file in a folder makes a pair with the first (the
 * older one is the fronts); a first pass whose second never comes goes out
 * alone after collate-wait. */
#include "scand/service/watch-private.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  ScandWatcher *watcher;
  guint root;
  char *rel;
  gboolean final;
  guint timer;
} Waiting;

void watch_waiting_free(gpointer data) {
  Waiting *wt = data;
  g_clear_handle_id(&wt->timer, g_source_remove);
  g_free(wt->rel);
  g_free(wt);
}

/* The second pass never came: the first one goes alone. */
static gboolean on_collate_timeout(gpointer data) {
  Waiting *wt = data;
  wt->timer = 0;
  const char *rels[] = { wt->rel, NULL };
  const gboolean final[] = { wt->final, FALSE };
  watch_pending_push(wt->watcher, wt->root, rels, final);
  g_ptr_array_remove(wt->watcher->waiting, wt);
  return G_SOURCE_REMOVE;
}

static gint64 mtime_of(ScandWatcher *watcher, guint root, const char *rel) {
  g_autofree char *dir_rel = g_path_get_dirname(rel);
  g_autofree char *name = g_path_get_basename(rel);
  WatchDir *dir = watch_tree_find(watcher, root, strcmp(dir_rel, ".") == 0 ? "" : dir_rel);
  struct stat st;
  if (!dir || fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  return (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

static gboolean same_dir(const char *a, const char *b) {
  g_autofree char *da = g_path_get_dirname(a);
  g_autofree char *db = g_path_get_dirname(b);
  return strcmp(da, db) == 0;
}

void watch_collate_ready(ScandWatcher *watcher, guint root, const char *rel, gboolean final) {
  WatchConfig *w = ((WatchRoot *) watcher->roots->pdata[root])->config;
  for (guint i = 0; i < watcher->waiting->len; i++) {
    Waiting *wt = watcher->waiting->pdata[i];
    if (wt->root != root || strcmp(wt->rel, rel) == 0)
      continue;
    if (!same_dir(wt->rel, rel))
      continue;
    gboolean first_is_fronts = mtime_of(watcher, root, wt->rel) <= mtime_of(watcher, root, rel);
    const char *rels[] = { first_is_fronts ? wt->rel : rel, first_is_fronts ? rel : wt->rel, NULL };
    const gboolean finals[] = { first_is_fronts ? wt->final : final, first_is_fronts ? final : wt->final };
    watch_pending_push(watcher, root, rels, finals);
    g_ptr_array_remove_index(watcher->waiting, i);
    return;
  }
  for (guint i = 0; i < watcher->waiting->len; i++) {
    Waiting *wt = watcher->waiting->pdata[i];
    if (wt->root == root && strcmp(wt->rel, rel) == 0) {
      wt->final |= final;
      return;
    }
  }
  Waiting *wt = g_new0(Waiting, 1);
  wt->watcher = watcher;
  wt->root = root;
  wt->rel = g_strdup(rel);
  wt->final = final;
  wt->timer = g_timeout_add((guint) (w->collate_wait_us / 1000), on_collate_timeout, wt);
  g_ptr_array_add(watcher->waiting, wt);
}

gboolean watch_collate_forget(ScandWatcher *watcher, guint root, const char *rel) {
  for (guint i = 0; i < watcher->waiting->len; i++) {
    Waiting *wt = watcher->waiting->pdata[i];
    if (wt->root == root && strcmp(wt->rel, rel) == 0) {
      g_ptr_array_remove_index(watcher->waiting, i);
      return TRUE;
    }
  }
  return FALSE;
}
