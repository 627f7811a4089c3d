/* Watched folders: files that appear in a folder (an MFP's scan-to-folder
 * target, a drop folder) are taken once they are complete, routed like scans,
 * and moved out of the way or deleted.
 *
 * Complete means: no change (size, mtime) for the watch's stable-for delay
 * after the last inotify event — SMB writers close and reopen a file several
 * times while writing it. Taken exactly once, also across restarts: the file
 * is made durable in a spool job (with its identity: device, inode, size,
 * mtime) before it is deleted or moved; a restart between the two finds the
 * identity in the spool and only finishes the move. */
#include "scand/service/watch.h"
#include "rules/rules.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/core/job-run.h"
#include "scand/core/job.h"
#include "scand/core/pdf-merge.h"
#include "scand/core/pdf.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define WATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE_SELF)
#define DONE_DIR ".scand-done"
#define ERROR_DIR ".scand-error"

typedef struct {
  char *name; /* [watch NAME] */
  char *path;
  gint64 stable_us;
  char *after; /* "delete" or "move:/dir" */
  gboolean recursive;
  char *profile;
  gboolean collate; /* collate = double-sided: pair two passes into one document */
  gint64 collate_wait_us;
} WatchConfig;

/* A complete file of a collating watch, waiting for its second pass. */
typedef struct {
  ScandWatcher *watcher;
  WatchConfig *watch;
  char *path;
  guint timer;
} Waiting;

typedef struct {
  ScandWatcher *watcher;
  WatchConfig *watch;
  char *path;
  gint64 size;
  gint64 mtime_ns;
  guint timer;
} Pending;

struct ScandWatcher {
  ScandWatcherHost host;
  gint refs; /* atomic: the main thread's, plus one per queued intake */
  int fd;
  guint source;
  GPtrArray *watches;  /* WatchConfig* */
  GHashTable *wd_dirs; /* wd → "watch index\x1fdir" */
  GHashTable *pending; /* path → Pending* */
  GHashTable *taken;   /* identities already in spool jobs (queue thread only after start) */
  GPtrArray *waiting;  /* Waiting*: first passes of collating watches */
};

typedef struct {
  ScandWatcher *watcher;
  WatchConfig *watch;
  char *paths[3]; /* one file, or fronts and backs; NULL-terminated */
} Intake;

static void watch_log(ScandWatcher *watcher, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void watch_log(ScandWatcher *watcher, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  watcher->host.log(watcher->host.user_data, line);
}

static void watcher_unref(ScandWatcher *watcher);

static void watch_config_free(WatchConfig *w) {
  g_free(w->name);
  g_free(w->path);
  g_free(w->after);
  g_free(w->profile);
  g_free(w);
}

static void pending_free(Pending *p) {
  g_clear_handle_id(&p->timer, g_source_remove);
  g_free(p->path);
  g_free(p);
}

/* Names that writers use while a file is not finished, and our own folders. */
static gboolean name_ignored(const char *name) {
  static const char *const suffixes[] = { ".tmp", ".part", ".crdownload", ".partial", ".swp", "~", ".filepart" };
  if (name[0] == '.' || name[0] == '~')
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++)
    if (g_str_has_suffix(name, suffixes[i]))
      return TRUE;
  return FALSE;
}

static char *file_identity(const struct stat *st) {
  return g_strdup_printf("%lu:%lu:%lld:%lld.%09ld", (unsigned long) st->st_dev, (unsigned long) st->st_ino,
                         (long long) st->st_size, (long long) st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

/* --- intake (queue worker thread) --- */

static gboolean move_file(const char *from, const char *to, GError **error) {
  g_autofree char *dir = g_path_get_dirname(to);
  if (!scand_fs_mkdir_p(dir, 0755, error))
    return FALSE;
  g_autofree char *target = g_strdup(to);
  for (guint n = 2; access(target, F_OK) == 0 && n < 10000; n++) {
    g_free(target);
    target = g_strdup_printf("%s-%u", to, n);
  }
  if (rename(from, target) == 0)
    return scand_fs_fsync_dir(dir, error);
  if (errno != EXDEV)
    return scand_fs_error_errno(error, errno, "cannot move %s to %s", from, target);
  g_autoptr(GFile) src = g_file_new_for_path(from);
  g_autoptr(GFile) dst = g_file_new_for_path(target);
  if (!g_file_copy(src, dst, G_FILE_COPY_NONE, NULL, NULL, NULL, error))
    return FALSE;
  if (!scand_fs_fsync_path(target, error) || !scand_fs_fsync_dir(dir, error))
    return FALSE;
  if (unlink(from) < 0)
    return scand_fs_error_errno(error, errno, "cannot remove %s", from);
  return TRUE;
}

static char *relative_path(WatchConfig *w, const char *path) {
  const char *rel = path + strlen(w->path);
  while (*rel == '/')
    rel++;
  return g_strdup(rel);
}

/* Deletes the source or moves it to the done folder, as the watch says. */
static gboolean dispose_source(WatchConfig *w, const char *after, const char *path, GError **error) {
  if (!after)
    after = w->after;
  if (g_strcmp0(after, "delete") == 0) {
    if (unlink(path) < 0 && errno != ENOENT)
      return scand_fs_error_errno(error, errno, "cannot delete %s", path);
    g_autofree char *dir = g_path_get_dirname(path);
    return scand_fs_fsync_dir(dir, error);
  }
  g_autofree char *rel = relative_path(w, path);
  g_autofree char *dest_dir = g_str_has_prefix(after ? after : "", "move:") ? g_strdup(after + strlen("move:"))
                                                                            : g_build_filename(w->path, DONE_DIR, NULL);
  g_autofree char *dest = g_build_filename(dest_dir, rel, NULL);
  return move_file(path, dest, error);
}

/* A file that cannot be taken goes to the error folder with a note saying why. */
static void quarantine(ScandWatcher *watcher, WatchConfig *w, const char *path, const char *reason) {
  g_autofree char *rel = relative_path(w, path);
  g_autofree char *dest = g_build_filename(w->path, ERROR_DIR, rel, NULL);
  g_autoptr(GError) error = NULL;
  if (!move_file(path, dest, &error)) {
    watch_log(watcher, "watch %s: %s: %s; and it could not be moved aside: %s", w->name, path, reason, error->message);
    return;
  }
  g_autofree char *note = g_strdup_printf("%s.reason.txt", dest);
  g_autofree char *text = g_strdup_printf("%s\n", reason);
  scand_fs_write_atomic(note, text, strlen(text), 0644, NULL);
  watch_log(watcher, "watch %s: %s: %s (moved to %s)", w->name, path, reason, dest);
}

static gboolean is_pdf(const char *path) {
  char magic[5] = { 0 };
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  gboolean pdf = read(fd, magic, sizeof magic) == (ssize_t) sizeof magic && memcmp(magic, "%PDF-", 5) == 0;
  close(fd);
  return pdf;
}

/* Puts the file into the job as its document (a PDF as it is, an image
 * assembled into one). */
static gboolean job_take_file(ScandJob *job, const char *path, GError **error) {
  const char *pdf_path = scand_job_get_pdf_path(job);
  if (is_pdf(path))
    return scand_job_take_document(job, path, error);
  ScandPdfOptions options = { .scratch_dir = scand_job_get_dir(job) };
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&options, error);
  return pdf && scand_pdf_add_file(pdf, path, 0, error) && scand_pdf_save(pdf, pdf_path, error);
}

/* A file as a PDF of the job: itself, or its image(s) assembled. The
 * returned path is owned by the caller. */
static char *job_file_as_pdf(ScandJob *job, const char *path, const char *name, GError **error) {
  if (is_pdf(path))
    return g_strdup(path);
  g_autofree char *out = g_build_filename(scand_job_get_dir(job), name, NULL);
  ScandPdfOptions options = { .scratch_dir = scand_job_get_dir(job) };
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&options, error);
  if (!pdf || !scand_pdf_add_file(pdf, path, 0, error) || !scand_pdf_save(pdf, out, error))
    return NULL;
  return g_steal_pointer(&out);
}

/* The two passes of a simplex feeder as one double-sided document. */
static gboolean job_take_pair(ScandJob *job, const char *fronts, const char *backs, GError **error) {
  g_autofree char *f = job_file_as_pdf(job, fronts, "fronts.pdf", error);
  g_autofree char *b = f ? job_file_as_pdf(job, backs, "backs.pdf", error) : NULL;
  return b && scand_pdf_collate_double_sided(f, b, scand_job_get_pdf_path(job), error);
}

static void dispose_all(ScandWatcher *watcher, WatchConfig *w, const char *after, char *const *paths) {
  for (guint i = 0; paths[i]; i++) {
    g_autoptr(GError) error = NULL;
    if (!dispose_source(w, after, paths[i], &error))
      watch_log(watcher, "watch %s: %s", w->name, error->message);
  }
}

/* Takes one complete file (or a collated pair) into a spool job, disposes of
 * it, delivers. */
static void intake_files(ScandWatcher *watcher, WatchConfig *w, char *const *paths) {
  const ScandWatcherHost *host = &watcher->host;
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = host->get_config(host->user_data);
  const char *path = paths[0];
  g_autoptr(GString) ids = g_string_new(NULL);
  for (guint i = 0; paths[i]; i++) {
    struct stat st;
    if (host->stopping(host->user_data) || stat(paths[i], &st) < 0 || !S_ISREG(st.st_mode))
      return;
    g_autofree char *one = file_identity(&st);
    g_string_append_printf(ids, "%s%s", i ? "+" : "", one);
  }
  g_autofree char *identity = g_string_free(g_steal_pointer(&ids), FALSE);
  g_autofree char *rel = relative_path(w, path);
  g_autofree char *base = g_path_get_basename(path);
  ScandRuleFacts facts = {
    .source_kind = "watch",
    .profile = w->profile,
    .trigger = "watch",
    .watch = w->name,
    .path = rel,
    .pages = 1,
  };
  g_autoptr(ScandRoute) route = scand_rules_route(config, &facts, &error);
  /* What happens to the source: the rule's "after", else the watch's. */
  const char *after = route ? route->after : NULL;
  if (g_hash_table_contains(watcher->taken, identity)) {
    /* Already in a job: a restart came between the take and the move. */
    dispose_all(watcher, w, after, paths);
    return;
  }
  g_autoptr(ScandJob) job = route ? scand_job_create(host->spool, &error) : NULL;
  if (!job) {
    watch_log(watcher, "watch %s: %s: %s", w->name, path, error->message);
    return;
  }
  scand_job_set(job, "source-kind", "watch");
  scand_job_set(job, "trigger", "watch");
  scand_job_set(job, "device-name", w->name);
  scand_job_set(job, "watch", w->name);
  scand_job_set(job, "watch-path", rel);
  scand_job_set(job, "source-file", path);
  if (paths[1])
    scand_job_set(job, "source-file-backs", paths[1]);
  if (!(paths[1] ? job_take_pair(job, paths[0], paths[1], &error) : job_take_file(job, path, &error))) {
    scand_job_remove(job, NULL);
    for (guint i = 0; paths[i]; i++)
      quarantine(watcher, w, paths[i], error->message);
    return;
  }
  /* The file keeps its name (as a .pdf) unless its rule gives a template. */
  if (!scand_config_get(config, "rule", route->rule, "name")) {
    const char *dot = strrchr(base, '.');
    g_autofree char *stem = dot && dot != base ? g_strndup(base, (gsize) (dot - base)) : g_strdup(base);
    g_autofree char *name = g_strdup_printf("%s.pdf", stem);
    scand_job_set(job, "name", name);
  } else {
    scand_job_set(job, "template", route->name_template);
  }
  if (!scand_job_apply_route(job, config, route, NULL, &error)) {
    watch_log(watcher, "watch %s: %s: %s", w->name, path, error->message);
    scand_job_remove(job, NULL);
    return;
  }
  /* The identity and the stage that makes the job deliverable are saved in
   * one write: before it, a crash loses only an empty job and the file is
   * taken again; after it, the file is in the spool and is only moved. */
  scand_job_set(job, "source-id", identity);
  if (!scand_job_set_stage(job, SCAND_JOB_ASSEMBLED, &error)) {
    watch_log(watcher, "watch %s: %s: %s", w->name, path, error->message);
    scand_job_remove(job, NULL);
    return;
  }
  g_hash_table_add(watcher->taken, g_strdup(identity));
  dispose_all(watcher, w, after, paths);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) delivered = g_ptr_array_new_with_free_func(g_free);
  ScandRetryPolicy policy;
  scand_retry_policy_from_config(config, &policy, NULL);
  ScandDeliveryResult r = scand_job_run_deliver(job, &policy, errors, NULL);
  scand_job_list_delivered(job, delivered);
  host->job_finished(host->user_data, scand_job_get_id(job),
                     r == SCAND_DELIVERY_DONE    ? "done"
                     : r == SCAND_DELIVERY_RETRY ? "queued"
                                                 : "failed",
                     delivered, errors);
}

static void intake(gpointer data, gpointer user_data) {
  Intake *in = data;
  intake_files(in->watcher, in->watch, in->paths);
  for (guint i = 0; in->paths[i]; i++)
    g_free(in->paths[i]);
  watcher_unref(in->watcher);
  g_free(in);
}

static void push_intake(ScandWatcher *watcher, WatchConfig *w, const char *path, const char *backs) {
  Intake *in = g_new0(Intake, 1);
  g_atomic_int_inc(&watcher->refs);
  in->watcher = watcher;
  in->watch = w;
  in->paths[0] = g_strdup(path);
  in->paths[1] = g_strdup(backs);
  watcher->host.queue_push(watcher->host.user_data, intake, in);
}

static void waiting_free(Waiting *wt) {
  g_clear_handle_id(&wt->timer, g_source_remove);
  g_free(wt->path);
  g_free(wt);
}

/* The second pass never came: the first one goes alone. */
static gboolean on_collate_timeout(gpointer data) {
  Waiting *wt = data;
  wt->timer = 0;
  push_intake(wt->watcher, wt->watch, wt->path, NULL);
  g_ptr_array_remove(wt->watcher->waiting, wt);
  return G_SOURCE_REMOVE;
}

static gint64 mtime_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec : 0;
}

/* A complete file of a collating watch: the second of two files in one
 * folder makes a pair (the older is the fronts pass). */
static void collate_ready(ScandWatcher *watcher, WatchConfig *w, const char *path) {
  g_autofree char *dir = g_path_get_dirname(path);
  for (guint i = 0; i < watcher->waiting->len; i++) {
    Waiting *wt = watcher->waiting->pdata[i];
    g_autofree char *other_dir = g_path_get_dirname(wt->path);
    if (wt->watch != w || strcmp(dir, other_dir) != 0 || strcmp(wt->path, path) == 0)
      continue;
    gboolean first_is_fronts = mtime_of(wt->path) <= mtime_of(path);
    push_intake(watcher, w, first_is_fronts ? wt->path : path, first_is_fronts ? path : wt->path);
    g_ptr_array_remove_index(watcher->waiting, i);
    return;
  }
  for (guint i = 0; i < watcher->waiting->len; i++)
    if (strcmp(((Waiting *) watcher->waiting->pdata[i])->path, path) == 0)
      return;
  Waiting *wt = g_new0(Waiting, 1);
  wt->watcher = watcher;
  wt->watch = w;
  wt->path = g_strdup(path);
  wt->timer = g_timeout_add((guint) (w->collate_wait_us / 1000), on_collate_timeout, wt);
  g_ptr_array_add(watcher->waiting, wt);
}

/* --- stability (main thread) --- */

static gboolean on_stable_check(gpointer data) {
  Pending *p = data;
  ScandWatcher *watcher = p->watcher;
  p->timer = 0;
  struct stat st;
  if (stat(p->path, &st) < 0 || !S_ISREG(st.st_mode)) {
    g_hash_table_remove(watcher->pending, p->path);
    return G_SOURCE_REMOVE;
  }
  gint64 mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  if (st.st_size != p->size || mtime_ns != p->mtime_ns) {
    p->size = st.st_size;
    p->mtime_ns = mtime_ns;
    p->timer = g_timeout_add((guint) (p->watch->stable_us / 1000), on_stable_check, p);
    return G_SOURCE_REMOVE;
  }
  WatchConfig *w = p->watch;
  g_autofree char *path = g_strdup(p->path);
  g_hash_table_remove(watcher->pending, p->path);
  if (w->collate)
    collate_ready(watcher, w, path);
  else
    push_intake(watcher, w, path, NULL);
  return G_SOURCE_REMOVE;
}

/* Something happened to path: (re)start its stability clock. */
static void file_touched(ScandWatcher *watcher, WatchConfig *w, const char *path) {
  Pending *p = g_hash_table_lookup(watcher->pending, path);
  if (!p) {
    p = g_new0(Pending, 1);
    p->watcher = watcher;
    p->watch = w;
    p->path = g_strdup(path);
    p->size = -1;
    g_hash_table_insert(watcher->pending, p->path, p);
  }
  struct stat st;
  if (stat(path, &st) == 0) {
    p->size = st.st_size;
    p->mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  }
  g_clear_handle_id(&p->timer, g_source_remove);
  p->timer = g_timeout_add((guint) (w->stable_us / 1000), on_stable_check, p);
}

static void add_dir(ScandWatcher *watcher, guint index, const char *dir);

static void scan_dir(ScandWatcher *watcher, guint index, const char *dir) {
  WatchConfig *w = watcher->watches->pdata[index];
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    if (name_ignored(name))
      continue;
    g_autofree char *path = g_build_filename(dir, name, NULL);
    struct stat st;
    if (lstat(path, &st) < 0)
      continue;
    if (S_ISDIR(st.st_mode) && w->recursive)
      add_dir(watcher, index, path);
    else if (S_ISREG(st.st_mode))
      file_touched(watcher, w, path);
  }
}

static void add_dir(ScandWatcher *watcher, guint index, const char *dir) {
  int wd = inotify_add_watch(watcher->fd, dir, WATCH_EVENTS | IN_ONLYDIR);
  if (wd < 0) {
    watch_log(watcher, "watch %s: cannot watch %s: %s", ((WatchConfig *) watcher->watches->pdata[index])->name, dir,
              g_strerror(errno));
    return;
  }
  g_hash_table_replace(watcher->wd_dirs, GINT_TO_POINTER(wd), g_strdup_printf("%u\x1f%s", index, dir));
  /* Files that arrived before the watch (or while scand was down). */
  scan_dir(watcher, index, dir);
}

static gboolean on_inotify(gint fd, GIOCondition condition, gpointer data) {
  ScandWatcher *watcher = data;
  char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
  ssize_t len = read(fd, buf, sizeof buf);
  if (len <= 0)
    return G_SOURCE_CONTINUE;
  for (char *p = buf; p < buf + len;) {
    const struct inotify_event *ev = (const struct inotify_event *) p;
    p += sizeof *ev + ev->len;
    const char *entry = g_hash_table_lookup(watcher->wd_dirs, GINT_TO_POINTER(ev->wd));
    if (!entry)
      continue;
    if (ev->mask & IN_IGNORED) {
      g_hash_table_remove(watcher->wd_dirs, GINT_TO_POINTER(ev->wd));
      continue;
    }
    if (!ev->len || name_ignored(ev->name))
      continue;
    guint index = (guint) g_ascii_strtoull(entry, NULL, 10);
    const char *dir = strchr(entry, '\x1f') + 1;
    WatchConfig *w = watcher->watches->pdata[index];
    g_autofree char *path = g_build_filename(dir, ev->name, NULL);
    if (ev->mask & IN_ISDIR) {
      if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && w->recursive)
        add_dir(watcher, index, path);
      continue;
    }
    file_touched(watcher, w, path);
  }
  return G_SOURCE_CONTINUE;
}

/* Identities of files that spool jobs already hold. */
static void load_taken(ScandWatcher *watcher, ScandSpool *spool) {
  g_auto(GStrv) ids = scand_spool_list_jobs(spool, NULL);
  for (guint i = 0; ids && ids[i]; i++) {
    g_autoptr(ScandJob) job = scand_job_peek(spool, ids[i], NULL);
    const char *id = job ? scand_job_get(job, "source-id") : NULL;
    if (id)
      g_hash_table_add(watcher->taken, g_strdup(id));
  }
}

ScandWatcher *scand_watcher_new(const ScandWatcherHost *host, ScandConfig *config, GError **error) {
  g_auto(GStrv) names = scand_config_list_sections(config, "watch");
  if (!names || !names[0])
    return NULL;
  ScandWatcher *watcher = g_new0(ScandWatcher, 1);
  watcher->host = *host;
  watcher->refs = 1;
  watcher->watches = g_ptr_array_new_with_free_func((GDestroyNotify) watch_config_free);
  watcher->wd_dirs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  watcher->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) pending_free);
  watcher->taken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  watcher->waiting = g_ptr_array_new_with_free_func((GDestroyNotify) waiting_free);
  watcher->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (watcher->fd < 0) {
    scand_fs_error_errno(error, errno, "inotify");
    scand_watcher_free(watcher);
    return NULL;
  }
  load_taken(watcher, host->spool);
  for (guint i = 0; names[i]; i++) {
    const char *path = scand_config_get(config, "watch", names[i], "path");
    if (!path)
      continue;
    WatchConfig *w = g_new0(WatchConfig, 1);
    w->name = g_strdup(names[i]);
    w->path = g_strdup(path);
    gint64 stable = 5;
    scand_config_get_duration(config, "watch", names[i], "stable-for", 5, &stable, NULL);
    w->stable_us = MAX(stable, 1) * G_USEC_PER_SEC;
    w->after = g_strdup(scand_config_get(config, "watch", names[i], "after"));
    scand_config_get_bool(config, "watch", names[i], "recursive", TRUE, &w->recursive, NULL);
    w->profile = g_strdup(scand_config_get(config, "watch", names[i], "profile"));
    w->collate = g_strcmp0(scand_config_get(config, "watch", names[i], "collate"), "double-sided") == 0;
    gint64 collate_wait = 600;
    scand_config_get_duration(config, "watch", names[i], "collate-wait", 600, &collate_wait, NULL);
    w->collate_wait_us = MAX(collate_wait, 1) * G_USEC_PER_SEC;
    g_ptr_array_add(watcher->watches, w);
    g_autoptr(GError) local = NULL;
    if (!scand_fs_mkdir_p(path, 0755, &local))
      watch_log(watcher, "watch %s: %s", names[i], local->message);
    add_dir(watcher, watcher->watches->len - 1, path);
  }
  watcher->source = g_unix_fd_add(watcher->fd, G_IO_IN, on_inotify, watcher);
  return watcher;
}

/* The watches and the taken set are used by intakes still queued: they go
 * with the last reference. */
static void watcher_unref(ScandWatcher *watcher) {
  if (!g_atomic_int_dec_and_test(&watcher->refs))
    return;
  g_hash_table_unref(watcher->taken);
  g_ptr_array_unref(watcher->watches);
  g_free(watcher);
}

void scand_watcher_free(ScandWatcher *watcher) {
  if (!watcher)
    return;
  g_clear_handle_id(&watcher->source, g_source_remove);
  if (watcher->fd >= 0)
    close(watcher->fd);
  g_hash_table_unref(watcher->pending);
  g_hash_table_unref(watcher->wd_dirs);
  g_ptr_array_unref(watcher->waiting);
  watcher_unref(watcher);
}
