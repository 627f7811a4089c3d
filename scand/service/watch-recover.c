/* Jobs that still hold their watched file (keep = source), found again
 * (queue worker): the first thing every new watcher does, and again at
 * rescans while some are held. See the invariant in watch-intake.c.
 *
 * For each kept job: a file still at its recorded place with its recorded
 * identity is disposed of now (a crash came between the take and the
 * disposal, or the disposal was refused); once none is left the job lets go
 * (and goes, if it was delivered). Files that cannot be disposed of stay
 * held: the watcher will not take them again. */
#include "scand/service/watch-private.h"
#include "scand/base/progress.h"
#include "scand/base/fault.h"
#include "scand/base/file-name.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

static const char *const rel_keys[] = { "source-rel", "source-rel-backs" };
static const char *const id_keys[] = { "source-id", "source-id-backs" };

static void hold(ScandWatcher *watcher, ScandJob *job, const char *id) {
  g_hash_table_insert(watcher->held, g_strdup(id), g_strdup(scand_job_get_id(job)));
}

static void hold_all(ScandWatcher *watcher, ScandJob *job) {
  for (guint i = 0; i < G_N_ELEMENTS(id_keys); i++)
    if (scand_job_get(job, id_keys[i]))
      hold(watcher, job, scand_job_get(job, id_keys[i]));
}

/* The watch the job came from as it is configured now, if it still watches
 * the same folder; else one made from what the job recorded. */
static const WatchConfig *job_watch(ScandWatcher *watcher, ScandJob *job, WatchConfig *scratch) {
  const char *name = scand_job_get(job, "watch");
  const char *root = scand_job_get(job, "source-root");
  for (guint i = 0; i < watcher->configs->len; i++) {
    WatchConfig *w = watcher->configs->pdata[i];
    if (g_strcmp0(w->name, name) == 0 && g_strcmp0(w->path, root) == 0)
      return w;
  }
  scratch->name = (char *) (name ? name : "?");
  scratch->path = (char *) root;
  return scratch;
}

/* Disposes of file i of job if it is still there as it was taken; FALSE
 * when it is and cannot be. */
static gboolean recover_file(ScandWatcher *watcher, ScandJob *job, const WatchConfig *w, int root_fd, guint i) {
  const char *rel = scand_job_get(job, rel_keys[i]);
  const char *id = scand_job_get(job, id_keys[i]);
  if (!rel || !id)
    return TRUE;
  WatchSource src;
  g_autoptr(GError) error = NULL;
  gboolean there = watch_source_open(&src, root_fd, w->path, rel, NULL) && strcmp(src.identity, id) == 0;
  const char *after = scand_job_get(job, "source-after");
  gboolean ok =
      !there || watch_dispose(w, root_fd, &src, g_strcmp0(after, "done") == 0 ? NULL : after, NULL, NULL, &error);
  g_autofree char *shown = watch_display(w, rel);
  if (there && ok)
    watch_log(watcher, "watch %s: %s: moved away now; its job %s was made before scand stopped", w->name, shown,
              scand_job_get_id(job));
  else if (!ok)
    watch_log(watcher, "watch %s: %s is held by job %s and cannot be moved away: %s", w->name, shown,
              scand_job_get_id(job), error->message);
  if (!ok)
    hold(watcher, job, id);
  watch_source_clear(&src);
  return ok;
}

static void recover_job(ScandWatcher *watcher, ScandJob *job) {
  WatchConfig scratch = { 0 };
  const WatchConfig *w = job_watch(watcher, job, &scratch);
  int root_fd = w->path ? open(w->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
  if (root_fd < 0) {
    /* The folder is away (unmounted?): its files may come back with it. */
    hold_all(watcher, job);
    return;
  }
  gboolean all = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS(rel_keys); i++)
    all &= recover_file(watcher, job, w, root_fd, i);
  close(root_fd);
  if (!all)
    return;
  scand_fault_point("watch-recovered");
  scand_job_set_keep(job, NULL);
  g_autoptr(GError) error = NULL;
  gboolean ok =
      scand_job_get_stage(job) == SCAND_JOB_DONE ? scand_job_remove(job, &error) : scand_job_save(job, &error);
  if (!ok) {
    watch_log(watcher, "watch %s: job %s: %s", w->name, scand_job_get_id(job), error->message);
    hold_all(watcher, job);
  }
}

void watch_recover_run(gpointer data, gpointer unused) {
  ScandWatcher *watcher = data;
  ScandSpool *spool = watcher->host.spool;
  g_hash_table_remove_all(watcher->held);
  g_hash_table_remove_all(watcher->held_logged);
  g_auto(GStrv) ids = scand_spool_list_jobs(spool, NULL);
  for (guint i = 0; ids && ids[i]; i++, scand_progress_beat()) {
    g_autoptr(ScandJob) peek = scand_job_peek(spool, ids[i], NULL);
    if (!peek || g_strcmp0(scand_job_get_keep(peek), "source") != 0)
      continue;
    g_autoptr(ScandJob) job = scand_job_open(spool, ids[i], NULL);
    if (job)
      recover_job(watcher, job);
    else
      hold_all(watcher, peek); /* another process works on it */
  }
  g_atomic_int_set(&watcher->n_held, (gint) g_hash_table_size(watcher->held));
  watch_unref(watcher);
}
