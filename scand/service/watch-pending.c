/* When is a watched file ready to take? (main thread)
 *
 * A file settles: no change (size, mtime) for stable-for after its last
 * event, because SMB writers close and reopen a file several times while
 * writing it. A writer that still has it open (an IN_MODIFY not yet followed
 * by IN_CLOSE_WRITE) keeps it waiting. Then the worker checks that it is
 * whole (see file-check.h): one that is not waits for its next change, and
 * once incomplete-wait has passed since its last change it is taken as it is
 * if it is whole after all, else set aside in .scand-error with the reason.
 * Files the worker left alone (refused, or held by a job) wait until they
 * change; those it could not take now (the spool's disk, a stop) until the
 * next rescan. */
#include "scand/service/watch-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum {
  PENDING_SETTLING, /* waiting for stable-for to pass without change */
  PENDING_QUEUED,   /* with the worker, or waiting for a collation partner */
  PENDING_PARKED,   /* waiting for a change (or its deadline, or a rescan) */
} PendingState;

struct Pending {
  ScandWatcher *watcher;
  guint root;
  char *key; /* watch_key(root, rel) */
  char *rel;
  PendingState state;
  gint64 size, mtime_ns, ctime_ns; /* as last seen */
  gint64 changed_at;               /* monotonic µs of the last change seen */
  gboolean writer_open;            /* IN_MODIFY since the last IN_CLOSE_WRITE */
  gboolean touched;                /* an event came while it was queued */
  gboolean retry_on_rescan;        /* parked by WATCH_LATER */
  guint timer;
};

void watch_pending_free(Pending *p) {
  g_clear_handle_id(&p->timer, g_source_remove);
  g_free(p->key);
  g_free(p->rel);
  g_free(p);
}

static WatchConfig *config_of(Pending *p) {
  return ((WatchRoot *) p->watcher->roots->pdata[p->root])->config;
}

static gint64 ns(const struct timespec *t) {
  return (gint64) t->tv_sec * G_GINT64_CONSTANT(1000000000) + t->tv_nsec;
}

/* Records st; TRUE when it differs from what was seen before. */
static gboolean note_stat(Pending *p, const struct stat *st) {
  gboolean changed = p->size != st->st_size || p->mtime_ns != ns(&st->st_mtim) || p->ctime_ns != ns(&st->st_ctim);
  p->size = st->st_size;
  p->mtime_ns = ns(&st->st_mtim);
  p->ctime_ns = ns(&st->st_ctim);
  if (changed)
    p->changed_at = g_get_monotonic_time();
  return changed;
}

/* Stats rel of p's watch relative to its directory's descriptor. */
static gboolean stat_file(ScandWatcher *watcher, guint root, const char *rel, struct stat *st) {
  g_autofree char *dir_rel = g_path_get_dirname(rel);
  g_autofree char *name = g_path_get_basename(rel);
  WatchDir *dir = watch_tree_find(watcher, root, strcmp(dir_rel, ".") == 0 ? "" : dir_rel);
  return dir && fstatat(dir->fd, name, st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st->st_mode);
}

static gboolean on_timer(gpointer data);

static void arm(Pending *p, gint64 us) {
  g_clear_handle_id(&p->timer, g_source_remove);
  p->timer = g_timeout_add((guint) MAX(us / 1000, 1), on_timer, p);
}

static void settle(Pending *p) {
  p->state = PENDING_SETTLING;
  p->retry_on_rescan = FALSE;
  arm(p, config_of(p)->stable_us);
}

void watch_pending_push(ScandWatcher *watcher, guint root, const char *const *rels, const gboolean *final) {
  WatchRoot *r = watcher->roots->pdata[root];
  if (!r->top)
    return; /* the folder is gone; its files are found again when it is back */
  Intake *in = g_new0(Intake, 1);
  in->watcher = watch_ref(watcher);
  in->root = root;
  in->config = r->config;
  in->root_fd = watch_fd_ref(r->top_fd);
  for (guint i = 0; rels[i] && i < 2; i++) {
    in->rels[i] = g_strdup(rels[i]);
    in->final[i] = final[i];
  }
  watch_intake_enqueue(watcher, in);
}

/* stable-for has passed since p's last event, or its incomplete-wait. */
static gboolean on_timer(gpointer data) {
  Pending *p = data;
  ScandWatcher *watcher = p->watcher;
  WatchConfig *w = config_of(p);
  p->timer = 0;
  struct stat st;
  if (!stat_file(watcher, p->root, p->rel, &st)) {
    g_hash_table_remove(watcher->pending, p->key);
    return G_SOURCE_REMOVE;
  }
  gint64 now = g_get_monotonic_time();
  gboolean final = now - p->changed_at >= w->incomplete_wait_us;
  if (note_stat(p, &st) || (p->writer_open && !final)) {
    settle(p);
    return G_SOURCE_REMOVE;
  }
  p->state = PENDING_QUEUED;
  p->touched = FALSE;
  if (w->collate) {
    watch_collate_ready(watcher, p->root, p->rel, final);
  } else {
    const char *rels[] = { p->rel, NULL };
    watch_pending_push(watcher, p->root, rels, &final);
  }
  return G_SOURCE_REMOVE;
}

static Pending *pending_new(ScandWatcher *watcher, guint root, const char *rel, char *key) {
  Pending *p = g_new0(Pending, 1);
  p->watcher = watcher;
  p->root = root;
  p->rel = g_strdup(rel);
  p->key = key;
  p->size = -1;
  g_hash_table_insert(watcher->pending, p->key, p);
  return p;
}

void watch_pending_event(ScandWatcher *watcher, WatchDir *dir, const char *name, WatchEvent event) {
  g_autofree char *rel = *dir->rel ? g_build_filename(dir->rel, name, NULL) : g_strdup(name);
  g_autofree char *key = watch_key(dir->root, rel);
  Pending *p = g_hash_table_lookup(watcher->pending, key);
  struct stat st;
  gboolean there = event != WATCH_REMOVED && fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (!there || !S_ISREG(st.st_mode)) {
    if (there)
      watch_refuse_entry(watcher, dir->root, rel, &st);
    gboolean was_waiting = watch_collate_forget(watcher, dir->root, rel);
    if (p && (p->state != PENDING_QUEUED || was_waiting))
      g_hash_table_remove(watcher->pending, key);
    return;
  }
  if (!p)
    p = pending_new(watcher, dir->root, rel, g_steal_pointer(&key));
  if (event == WATCH_WRITTEN || event == WATCH_CLOSED)
    p->writer_open = event == WATCH_WRITTEN;
  gboolean changed = note_stat(p, &st);
  if (p->state == PENDING_QUEUED) {
    p->touched |= changed || event != WATCH_SEEN;
    return;
  }
  /* A rescan that finds a file as it was changes nothing. */
  if (event == WATCH_SEEN && !changed && p->timer)
    return;
  if (event == WATCH_SEEN && !changed && p->state == PENDING_PARKED)
    return;
  settle(p);
}

/* --- what the worker did --- */

typedef struct {
  ScandWatcher *watcher; /* a reference */
  guint root;
  char *rel;
  WatchVerdict verdict;
} Report;

static void park(Pending *p, WatchVerdict verdict) {
  WatchConfig *w = config_of(p);
  p->state = PENDING_PARKED;
  p->retry_on_rescan = verdict == WATCH_LATER;
  g_clear_handle_id(&p->timer, g_source_remove);
  /* An incomplete file gets one more look when its incomplete-wait is over. */
  if (verdict == WATCH_INCOMPLETE)
    arm(p, MAX(p->changed_at + w->incomplete_wait_us - g_get_monotonic_time(), 0));
}

static void apply_report(ScandWatcher *watcher, Report *r) {
  g_autofree char *key = watch_key(r->root, r->rel);
  Pending *p = g_hash_table_lookup(watcher->pending, key);
  struct stat st;
  gboolean there = stat_file(watcher, r->root, r->rel, &st);
  if (!there) {
    if (p)
      g_hash_table_remove(watcher->pending, key);
    return;
  }
  if (!p) {
    p = pending_new(watcher, r->root, r->rel, g_steal_pointer(&key));
    note_stat(p, &st);
  }
  gboolean touched = p->touched || note_stat(p, &st);
  p->touched = FALSE;
  switch (r->verdict) {
    case WATCH_TAKEN:
    case WATCH_GONE:
    case WATCH_QUARANTINED:
    case WATCH_CHANGED:
      settle(p); /* still there: a new file under the same name, or kept by its job */
      return;
    case WATCH_REWAIT:
      p->state = PENDING_QUEUED;
      watch_collate_ready(watcher, p->root, p->rel, FALSE);
      return;
    case WATCH_LEFT:
    case WATCH_INCOMPLETE:
    case WATCH_LATER:
      if (touched)
        settle(p);
      else
        park(p, r->verdict);
      return;
  }
}

static gboolean on_report(gpointer data) {
  Report *r = data;
  if (!r->watcher->stopped)
    apply_report(r->watcher, r);
  watch_unref(r->watcher);
  g_free(r->rel);
  g_free(r);
  return G_SOURCE_REMOVE;
}

void watch_pending_report(ScandWatcher *watcher, guint root, const char *rel, WatchVerdict verdict) {
  Report *r = g_new0(Report, 1);
  r->watcher = watch_ref(watcher);
  r->root = root;
  r->rel = g_strdup(rel);
  r->verdict = verdict;
  g_main_context_invoke(NULL, on_report, r);
}

void watch_pending_retry(ScandWatcher *watcher, guint root) {
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, watcher->pending);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    Pending *p = value;
    if (p->root == root && p->state == PENDING_PARKED && p->retry_on_rescan)
      settle(p);
  }
}
