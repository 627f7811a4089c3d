/* Taking a watched file (or a collated pair) into a spool job, exactly once
 * (queue worker).
 *
 * The exactly-once invariant, which every change here must keep:
 *
 *   (1) A source file is disposed of (deleted or moved) only after a job
 *       holding its content and its identity is durable: job.ini with
 *       source-id, keep = source and stage ASSEMBLED, fsynced.
 *   (2) A job that holds a source identity (keep = source) is never removed
 *       from the spool, even once delivered, until the source is recorded
 *       disposed of (keep released) — so a file present in its folder is
 *       always either not yet in any job, or in a job that says so.
 *   (3) Before a watcher takes any file, its recovery (watch-recover.c) has
 *       read every kept job's identities, and disposes of their files; a
 *       file whose identity a kept job holds is never taken again.
 *
 * A crash between (1) and the disposal leaves a kept job and its file: the
 * next start disposes of the file and delivers the job. A crash after the
 * disposal but before the release is saved leaves a kept job whose file is
 * gone: the next start releases it. Nothing in between can deliver twice,
 * and the release needs no fsync of its own (the delivery's next save
 * carries it).
 *
 * Group commit: the worker takes the files that became ready together (up to
 * WATCH_BATCH_MAX) as one batch, in phases that keep the invariant per file.
 * Each job is made staged (job.h): copied, checked, routed and recorded with
 * no fsync, unseen under ".new-ID"; one file-system barrier (syncfs of the
 * spool) makes all of them durable, they are published by renames, and one
 * fsync of the spool makes those durable: (1) holds for every job of the
 * batch at once. Then every file is disposed of, each directory that lost
 * one is fsynced once, and only then are the jobs released and delivered. A
 * crash before the spool's fsync leaves at most ".new-*" directories (removed
 * at the next start) and every file still in its folder.
 *
 * Identity (watch-source.c) is device, inode, size, mtime and a hash of the
 * first and last blocks, remembered only while a job holds the file: the
 * same file dropped again after its job let go of it (copied back, moved back
 * from .scand-done) is a new file, delivered again. */
#include "scand/service/watch-private.h"
#include "scand/base/progress.h"
#include "rules/rules.h"
#include "scand/base/error.h"
#include "scand/base/fault.h"
#include "scand/base/file-name.h"
#include "scand/base/fs-beneath.h"
#include "scand/base/fs.h"
#include "scand/core/job-pages.h"
#include "scand/core/job-run.h"
#include "scand/core/pdf-merge.h"
#include "scand/core/pdf.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  Intake *in;
  ScandWatcher *watcher;
  const ScandWatcherHost *host;
  WatchConfig *w;
  guint n; /* files: 1, or 2 for a collated pair */
  WatchSource src[2];
  ScandFileType type[2];
  WatchVerdict verdict[2];
  ScandConfig *config;
  ScandRoute *route;
  ScandJob *job;
  GPtrArray *children; /* ScandJob*: further documents of a file split at separator sheets (pending) */
  guint pages;
  const char *after; /* what becomes of the files: the rule's "after", else the watch's (borrowed) */
  int spool_fd;      /* the batch's (batch_run) */
  /* the file's job delivered, to be said after the batch's barrier */
  ScandDeliveryResult result;
  GPtrArray *errors, *delivered; /* char*; NULL until delivered */
} Take;

void watch_intake_free(Intake *in) {
  for (guint i = 0; in->rels[i]; i++)
    g_free(in->rels[i]);
  watch_fd_unref(in->root_fd);
  watch_unref(in->watcher);
  g_free(in);
}

/* Every file of the take gets verdict v, but a partner of a collated pair
 * that is fine goes back to wait for a partner. */
static void settle_all(Take *t, guint culprit, WatchVerdict v) {
  for (guint i = 0; i < t->n; i++)
    t->verdict[i] = i == culprit ? v : WATCH_REWAIT;
}

static void drop_job(Take *t) {
  for (guint i = 0; i < t->children->len; i++)
    scand_job_remove(t->children->pdata[i], NULL);
  g_ptr_array_set_size(t->children, 0);
  if (t->job)
    scand_job_remove(t->job, NULL);
  g_clear_pointer(&t->job, scand_job_free);
}

/* Moves file i to .scand-error with its reason, and says so. */
static void quarantine_one(Take *t, guint i, const char *reason) {
  g_autofree char *shown = watch_display(t->w, t->src[i].rel);
  g_autofree char *where = NULL;
  g_autoptr(GError) error = NULL;
  if (!watch_quarantine(t->w, t->in->root_fd->fd, &t->src[i], reason, &where, &error)) {
    watch_log(t->watcher, "watch %s: %s: %s; and it could not be set aside: %s", t->w->name, shown, reason,
              error->message);
    t->verdict[i] = WATCH_LEFT;
    return;
  }
  g_autofree char *where_shown = scand_file_name_printable(where);
  watch_log(t->watcher, "watch %s: %s: %s (moved to %s)", t->w->name, shown, reason, where_shown);
  t->verdict[i] = WATCH_QUARANTINED;
}

static void quarantine_all(Take *t, const char *reason) {
  for (guint i = 0; i < t->n; i++)
    quarantine_one(t, i, reason);
}

/* Opens every file; FALSE (verdicts set) when one is gone, refused or held. */
static gboolean take_open(Take *t) {
  for (guint i = 0; i < t->n; i++) {
    g_autoptr(GError) error = NULL;
    if (!watch_source_open(&t->src[i], t->in->root_fd->fd, t->w->path, t->in->rels[i], &error)) {
      gboolean gone = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      if (!gone)
        watch_log(t->watcher, "watch %s: %s", t->w->name, error->message);
      settle_all(t, i, gone ? WATCH_GONE : WATCH_LEFT);
      return FALSE;
    }
    const char *job = g_hash_table_lookup(t->watcher->held, t->src[i].identity);
    if (job) {
      if (g_hash_table_add(t->watcher->held_logged, g_strdup(t->src[i].identity))) {
        g_autofree char *shown = watch_display(t->w, t->src[i].rel);
        watch_log(t->watcher, "watch %s: %s is the file of job %s, which could not move it away yet: not taken again",
                  t->w->name, shown, job);
      }
      settle_all(t, i, WATCH_LEFT);
      return FALSE;
    }
  }
  return TRUE;
}

/* Whether a file failed its check only because it is too short to show what
 * it is: empty, or its first bytes not written yet (an SMB or FTP client
 * creates the file, then writes). Such a file is waited for like an
 * incomplete one, not set aside at once (its writer would go on writing
 * into the set-aside copy). */
static gboolean too_short_to_tell(const GError *error, const struct stat *st) {
  return g_error_matches(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED) && st->st_size < 8;
}

/* Checks that every file is whole (file-check.h). */
static gboolean take_check(Take *t) {
  for (guint i = 0; i < t->n; i++) {
    g_autoptr(GError) error = NULL;
    if (scand_file_check_complete(t->src[i].fd, &t->type[i], &error))
      continue;
    g_autofree char *shown = watch_display(t->w, t->src[i].rel);
    if (g_error_matches(error, SCAND_ERROR, SCAND_ERROR_IO)) {
      watch_log(t->watcher, "watch %s: %s: %s", t->w->name, shown, error->message);
      settle_all(t, i, WATCH_LATER);
    } else if ((g_error_matches(error, SCAND_ERROR, SCAND_ERROR_INVAL) || too_short_to_tell(error, &t->src[i].st)) &&
               !t->in->final[i]) {
      settle_all(t, i, WATCH_INCOMPLETE);
    } else {
      settle_all(t, i, WATCH_REWAIT);
      g_autofree char *reason =
          g_error_matches(error, SCAND_ERROR, SCAND_ERROR_INVAL) || too_short_to_tell(error, &t->src[i].st)
              ? g_strdup_printf("%s (after waiting %" G_GINT64_FORMAT " s for it to be completed)", error->message,
                                t->w->incomplete_wait_us / G_USEC_PER_SEC)
              : g_strdup(error->message);
      quarantine_one(t, i, reason);
    }
    return FALSE;
  }
  return TRUE;
}

/* Copies the files into the job's directory ("source-N"), and checks that
 * they did not change meanwhile. */
static gboolean take_copy(Take *t, char **copies, GError **error) {
  int dir = open(scand_job_get_dir(t->job), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return scand_fs_error_errno(error, errno, "cannot open %s", scand_job_get_dir(t->job));
  for (guint i = 0; i < t->n; i++) {
    g_autofree char *name = g_strdup_printf("source-%u.%s", i + 1, scand_file_type_to_string(t->type[i]));
    int errsv = scand_fs_copy_into(t->src[i].fd, dir, name, 0600, !scand_job_is_staged(t->job));
    if (errsv) {
      close(dir);
      return scand_fs_error_errno(error, errsv, "cannot copy into job %s", scand_job_get_id(t->job));
    }
    copies[i] = g_build_filename(scand_job_get_dir(t->job), name, NULL);
    struct stat st;
    if (fstat(t->src[i].fd, &st) < 0 || st.st_size != t->src[i].st.st_size ||
        st.st_mtim.tv_nsec != t->src[i].st.st_mtim.tv_nsec || st.st_mtim.tv_sec != t->src[i].st.st_mtim.tv_sec ||
        st.st_ctim.tv_nsec != t->src[i].st.st_ctim.tv_nsec || st.st_ctim.tv_sec != t->src[i].st.st_ctim.tv_sec) {
      settle_all(t, i, WATCH_CHANGED);
      close(dir);
      return FALSE;
    }
  }
  if (!scand_job_is_staged(t->job))
    fsync(dir);
  close(dir);
  return TRUE;
}

/* One copied file as a PDF: a PDF is checked by libqpdf (strictly until its
 * incomplete-wait is over) and its pages counted, an image is assembled
 * (*pages left alone). Newly allocated path. */
static char *copy_as_pdf(Take *t, guint i, const char *copy, const char *out, guint *pages, GError **error) {
  if (t->type[i] == SCAND_FILE_PDF)
    return scand_pdf_check_readable(copy, t->in->final[i], pages, error) ? g_strdup(copy) : NULL;
  ScandPdfOptions options = { .scratch_dir = scand_job_get_dir(t->job) };
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&options, error);
  if (!pdf || !scand_pdf_add_file(pdf, copy, 0, error) || !scand_pdf_save(pdf, out, error))
    return NULL;
  return g_strdup(out);
}

/* Publishes the take's staged job now, on its own (one barrier of its own):
 * page processing makes further jobs that name it, so it must exist first. */
static gboolean take_publish_alone(Take *t, GError **error) {
  const char *spool = scand_spool_get_dir(t->host->spool);
  return scand_job_save(t->job, error) && scand_fs_sync_file_system(t->spool_fd, spool, error) &&
         scand_job_publish(t->job, error) && scand_fs_fsync_dir(spool, error);
}

/* The job's document.pdf from the copies: one file as it is or assembled,
 * a pair collated; one file through the watch profile's page processing when
 * it asks for some, split at separator sheets into further (pending) jobs
 * when it asks for that (scand_job_take_file_split). */
static gboolean take_document(Take *t, char **copies, guint *culprit, GError **error) {
  static const char *const outs[] = { "fronts.pdf", "backs.pdf" };
  scand_job_pages_copy_profile(t->job, t->config, t->w->profile);
  if (t->n == 1 && scand_job_pages_wanted(t->job)) {
    *culprit = 0;
    if (t->type[0] == SCAND_FILE_PDF && !scand_pdf_check_readable(copies[0], t->in->final[0], NULL, error))
      return FALSE;
    if (!take_publish_alone(t, error))
      return FALSE;
    g_autofree char *copy = g_build_filename(scand_job_get_dir(t->job), strrchr(copies[0], '/') + 1, NULL);
    return scand_job_take_file_split(t->job, copy, t->children, error) &&
           scand_pdf_count_pages(scand_job_get_pdf_path(t->job), &t->pages, error);
  }
  const char *doc = scand_job_get_pdf_path(t->job);
  g_autofree char *fronts = NULL, *backs = NULL;
  guint pages = 0;
  for (guint i = 0; i < t->n; i++) {
    g_autofree char *out = g_build_filename(scand_job_get_dir(t->job), t->n == 1 ? "document.pdf" : outs[i], NULL);
    *culprit = i;
    char *pdf = copy_as_pdf(t, i, copies[i], out, &pages, error);
    if (!pdf)
      return FALSE;
    *(i == 0 ? &fronts : &backs) = pdf;
  }
  *culprit = G_MAXUINT; /* the document, not one of its files */
  if (t->n == 2 && !scand_pdf_collate_double_sided(fronts, backs, doc, error))
    return FALSE;
  if (t->n == 1 && strcmp(fronts, doc) != 0) {
    if (!scand_job_is_staged(t->job))
      return scand_fs_commit(fronts, doc, error) && scand_pdf_count_pages(doc, &t->pages, error);
    if (rename(fronts, doc) < 0)
      return scand_fs_error_errno(error, errno, "cannot rename %s to %s", fronts, doc);
    if (t->type[0] == SCAND_FILE_PDF) { /* counted by its check */
      t->pages = pages;
      return TRUE;
    }
  }
  return scand_pdf_count_pages(doc, &t->pages, error);
}

/* A job with the files' content as its document; FALSE with verdicts set. */
static gboolean take_into_job(Take *t) {
  g_autoptr(GError) error = NULL;
  t->job = scand_job_create_staged(t->host->spool, &error);
  if (!t->job) {
    watch_log(t->watcher, "watch %s: %s", t->w->name, error->message);
    settle_all(t, 0, WATCH_LATER);
    return FALSE;
  }
  char *copies[2] = { NULL, NULL };
  guint culprit = 0;
  gboolean ok = take_copy(t, copies, &error) && take_document(t, copies, &culprit, &error);
  for (guint i = 0; i < t->n; i++)
    g_free(copies[i]);
  if (ok)
    return TRUE;
  drop_job(t);
  if (!error) /* changed while copied: verdicts are set */
    return FALSE;
  if (error->domain != SCAND_ERROR || error->code == SCAND_ERROR_IO) {
    watch_log(t->watcher, "watch %s: %s", t->w->name, error->message);
    settle_all(t, culprit == G_MAXUINT ? 0 : culprit, WATCH_LATER);
  } else if (culprit != G_MAXUINT && error->code == SCAND_ERROR_INVAL && t->type[culprit] == SCAND_FILE_PDF &&
             !t->in->final[culprit]) {
    settle_all(t, culprit, WATCH_INCOMPLETE);
  } else {
    quarantine_all(t, error->message);
  }
  return FALSE;
}

/* The name a file keeps when its rule gives no template: its own, made
 * safe, as a .pdf. */
static char *delivery_name(const char *rel) {
  g_autofree char *base = g_path_get_basename(rel);
  char *dot = strrchr(base, '.');
  if (dot && dot != base)
    *dot = '\0';
  g_autofree char *stem = scand_file_name_sanitize(base, SCAND_FILE_NAME_MAX - strlen(".pdf"));
  return g_strdup_printf("%s.pdf", stem);
}

/* Routes one document of the take (k = 1 for the file's job, 2… for the
 * further documents of a split) by the watch's facts and the document's own
 * barcode and blanks, and names it: the rule's template, else the file's own
 * name (-k for the further documents). The route is the caller's. */
static ScandRoute *route_document(Take *t, ScandJob *job, guint k, guint pages, GError **error) {
  const ScandJobFacts *found = scand_job_get_facts(job);
  ScandJobFacts facts = {
    .source_kind = "watch",
    .profile = t->w->profile,
    .trigger = "watch",
    .watch = t->w->name,
    .path = t->src[0].rel,
    .pages = pages,
    /* page processing's findings (job-take.c), for barcode = GLOB rules */
    .barcode = found->barcode,
    .blanks = found->blanks,
  };
  g_autoptr(ScandRoute) route = scand_rules_route(t->config, &facts, error);
  if (!route)
    return NULL;
  scand_job_set(job, "template", route->name_template);
  if (!scand_config_get(t->config, "rule", route->rule, "name")) {
    g_autofree char *name = delivery_name(t->src[0].rel);
    if (k > 1) {
      g_autofree char *stem = g_strndup(name, strlen(name) - strlen(".pdf"));
      g_free(name);
      name = g_strdup_printf("%s-%u.pdf", stem, k);
    }
    scand_job_set(job, "name", name);
    scand_job_set_int(job, "pages", pages);
  }
  /* A further document is saved routed now: the file's job, committed next,
   * may be all that is left of the take when the next start promotes it. */
  if ((scand_job_get(job, "name") || scand_job_run_set_name(job, pages, error)) &&
      scand_job_apply_route(job, t->config, route, NULL, error) && (k == 1 || scand_job_save(job, error)))
    return g_steal_pointer(&route);
  return NULL;
}

/* Routes the job and the further documents of a split, and names their
 * deliveries; FALSE with verdicts set. */
static gboolean take_route(Take *t) {
  g_autoptr(GError) error = NULL;
  t->route = route_document(t, t->job, 1, t->pages, &error);
  for (guint i = 0; t->route && i < t->children->len; i++) {
    ScandJob *child = t->children->pdata[i];
    g_autoptr(ScandRoute) route = route_document(t, child, i + 2, scand_job_get_facts(child)->pages, &error);
    if (!route)
      g_clear_pointer(&t->route, scand_route_free);
  }
  if (t->route)
    return TRUE;
  g_autofree char *reason = g_strdup_printf("cannot route it: %s", error->message);
  drop_job(t);
  quarantine_all(t, reason);
  return FALSE;
}

/* Where a document of the take came from (not its identity: only the
 * file's own job holds that). */
static void set_origin(Take *t, ScandJob *job, const char *display) {
  scand_job_set(job, "source-kind", "watch");
  scand_job_set(job, "trigger", "watch");
  scand_job_set(job, "device-name", t->w->name);
  scand_job_set(job, "watch", t->w->name);
  scand_job_set(job, "watch-path", t->src[0].rel);
  scand_job_set(job, "source-file", display);
}

/* The further documents of a split file, deliverable now that the file's
 * job is committed. One that cannot be promoted now is promoted when either
 * job is resumed (the file's job says some are pending). */
static void take_promote(Take *t, const char *display) {
  gboolean all = TRUE;
  for (guint i = 0; i < t->children->len; i++) {
    ScandJob *child = t->children->pdata[i];
    g_autoptr(GError) error = NULL;
    set_origin(t, child, display);
    if (!scand_job_promote_split_child(child, &error)) {
      watch_log(t->watcher, "watch %s: %s: %s (delivered later)", t->w->name, display, error->message);
      all = FALSE;
    }
  }
  if (t->children->len && all) {
    scand_job_set(t->job, "split-pending-children", NULL);
    g_autoptr(GError) ignored = NULL; /* still set on disk: the next delivery promotes none again */
    scand_job_save(t->job, &ignored);
  }
}

/* Records the facts of the take and its identities in the job, stage
 * ASSEMBLED: durable at once for a published job, at the batch's barrier for
 * a staged one (batch_publish). The job holds the files from here on. */
static gboolean take_record(Take *t) {
  static const char *const suffix[] = { "", "-backs" };
  g_autofree char *display = watch_display(t->w, t->src[0].rel);
  set_origin(t, t->job, display);
  scand_job_set(t->job, "source-root", t->w->path);
  scand_job_set(t->job, "source-after", t->after ? t->after : "done");
  mode_t mode = 0777;
  for (guint i = 0; i < t->n; i++) {
    g_autofree char *rel_key = g_strdup_printf("source-rel%s", suffix[i]);
    g_autofree char *id_key = g_strdup_printf("source-id%s", suffix[i]);
    scand_job_set(t->job, rel_key, t->src[i].rel);
    scand_job_set(t->job, id_key, t->src[i].identity);
    mode &= t->src[i].st.st_mode;
  }
  g_autofree char *octal = g_strdup_printf("%04o", mode & 0777);
  scand_job_set(t->job, "source-mode", octal);
  scand_job_set_keep(t->job, "source");
  g_autoptr(GError) error = NULL;
  if (!scand_job_set_stage(t->job, SCAND_JOB_ASSEMBLED, &error)) {
    watch_log(t->watcher, "watch %s: %s: %s", t->w->name, display, error->message);
    drop_job(t);
    settle_all(t, 0, WATCH_LATER);
    return FALSE;
  }
  /* Held already: a second name of the same file in this batch is not taken
   * again (a failed barrier lets go of it, batch_publish). */
  for (guint i = 0; i < t->n; i++)
    g_hash_table_insert(t->watcher->held, g_strdup(t->src[i].identity), g_strdup(scand_job_get_id(t->job)));
  return TRUE;
}

static void take_unhold(Take *t) {
  for (guint i = 0; i < t->n; i++)
    g_hash_table_remove(t->watcher->held, t->src[i].identity);
}

/* Phase one of a take: everything short of making it durable. FALSE with
 * the verdicts set when it is not taken (now). */
static gboolean take_prepare(Take *t) {
  scand_progress_beat();
  if (t->host->stopping(t->host->user_data)) {
    settle_all(t, 0, WATCH_LATER);
    return FALSE;
  }
  if (!take_open(t) || !take_check(t) || !take_into_job(t) || !take_route(t))
    return FALSE;
  /* What happens to the source: the rule's "after", else the watch's. */
  t->after = t->route->after ? t->route->after : t->w->after;
  return take_record(t);
}

/* Disposes of the files, their directories' fsyncs left to sync; TRUE when
 * all are gone from the folder. */
static gboolean take_dispose(Take *t, WatchDirSync *sync) {
  gboolean all = TRUE;
  for (guint i = 0; i < t->n; i++) {
    g_autoptr(GError) error = NULL;
    t->verdict[i] = WATCH_TAKEN;
    if (watch_dispose(t->w, t->in->root_fd->fd, &t->src[i], t->after, NULL, sync, &error))
      continue;
    all = FALSE;
    g_autofree char *shown = watch_display(t->w, t->src[i].rel);
    watch_log(t->watcher, "watch %s: %s is in job %s, but %s; the job keeps it so that it is not taken twice",
              t->w->name, shown, scand_job_get_id(t->job), error->message);
  }
  return all;
}

/* Delivers one document of the take; how it went is said by
 * deliver_report(), after the batch's barrier for the file's own job. */
static ScandDeliveryResult deliver_one_job(Take *t, ScandJob *job, const ScandRetryPolicy *policy, GPtrArray *errors,
                                           GPtrArray *delivered) {
  g_autoptr(GError) error = NULL;
  ScandDeliveryResult r = scand_job_run_deliver(job, policy, errors, &error);
  if (error)
    g_ptr_array_add(errors, g_strdup(error->message));
  scand_job_list_delivered(job, delivered);
  return r;
}

static void deliver_report(Take *t, ScandJob *job, ScandDeliveryResult r, GPtrArray *errors, GPtrArray *delivered) {
  const char *result = r == SCAND_DELIVERY_DONE ? "done" : r == SCAND_DELIVERY_RETRY ? "queued" : "failed";
  t->host->job_finished(t->host->user_data, scand_job_get_id(job), result, delivered, errors);
}

/* The further documents first, each on its own: the file's job (kept until
 * its file is disposed of) is delivered last, its outcome left to the
 * batch's barrier (scand_job_defer_durability()). */
static void take_deliver(Take *t) {
  ScandRetryPolicy policy;
  scand_retry_policy_from_config(t->config, &policy, NULL);
  for (guint i = 0; i < t->children->len; i++) {
    ScandJob *child = t->children->pdata[i];
    if (scand_job_get_stage(child) != SCAND_JOB_ASSEMBLED)
      continue;
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) delivered = g_ptr_array_new_with_free_func(g_free);
    deliver_report(t, child, deliver_one_job(t, child, &policy, errors, delivered), errors, delivered);
  }
  g_ptr_array_set_size(t->children, 0); /* unlocked: the queue's, if anything is left */
  t->errors = g_ptr_array_new_with_free_func(g_free);
  t->delivered = g_ptr_array_new_with_free_func(g_free);
  scand_job_defer_durability(t->job, TRUE);
  t->result = deliver_one_job(t, t->job, &policy, t->errors, t->delivered);
}

/* --- batches --- */

typedef struct {
  GPtrArray *takes; /* Take* */
  int spool_fd;     /* opened before anything of the batch is written (scand_fs_sync_file_system) */
} Batch;

static void take_free(Take *t) {
  for (guint i = 0; i < t->n; i++) {
    watch_pending_report(t->watcher, t->in->root, t->in->rels[i], t->verdict[i]);
    watch_source_clear(&t->src[i]);
  }
  g_ptr_array_unref(t->children);
  g_clear_pointer(&t->errors, g_ptr_array_unref);
  g_clear_pointer(&t->delivered, g_ptr_array_unref);
  scand_job_free(t->job);
  scand_route_free(t->route);
  scand_config_free(t->config);
  watch_intake_free(t->in);
  g_free(t);
}

static Take *take_new(Intake *in, ScandConfig *config, int spool_fd) {
  Take *t = g_new0(Take, 1);
  t->in = in;
  t->spool_fd = spool_fd;
  t->watcher = in->watcher;
  t->host = &in->watcher->host;
  t->w = in->config;
  t->n = in->rels[1] ? 2 : 1;
  t->children = g_ptr_array_new_with_free_func((GDestroyNotify) scand_job_free);
  for (guint i = 0; i < 2; i++)
    t->src[i].dir_fd = t->src[i].fd = -1;
  t->config = config;
  return t;
}

/* Phase two: invariant (1) for every job of the batch, by one barrier, the
 * renames and one fsync of the spool. A job that cannot be made durable is
 * dropped and its files tried again at the next rescan; TRUE when any job is
 * committed. */
static gboolean batch_publish(Batch *b, ScandWatcher *watcher) {
  const char *spool = scand_spool_get_dir(watcher->host.spool);
  g_autoptr(GError) barrier = NULL;
  gboolean any_staged = FALSE;
  for (guint i = 0; i < b->takes->len; i++) {
    Take *t = b->takes->pdata[i];
    any_staged |= t->job && scand_job_is_staged(t->job);
  }
  if (any_staged)
    scand_fs_sync_file_system(b->spool_fd, spool, &barrier);
  gboolean published = FALSE;
  for (guint i = 0; i < b->takes->len; i++) {
    Take *t = b->takes->pdata[i];
    if (!t->job)
      continue;
    g_autoptr(GError) error = NULL;
    if (scand_job_is_staged(t->job) && (barrier || !scand_job_publish(t->job, &error))) {
      g_autofree char *display = watch_display(t->w, t->src[0].rel);
      watch_log(watcher, "watch %s: %s: %s", t->w->name, display, (barrier ? barrier : error)->message);
      take_unhold(t);
      drop_job(t);
      settle_all(t, 0, WATCH_LATER);
      continue;
    }
    published = TRUE;
  }
  g_autoptr(GError) error = NULL;
  if (published && !scand_fs_fsync_dir(spool, &error)) {
    /* Published but maybe not durable: the files stay where they are and the
     * jobs keep them (held, so not taken twice); the next start sorts it out
     * (watch-recover.c). */
    watch_log(watcher, "watched folders: %s; the files of this batch stay in their folders", error->message);
    for (guint i = 0; i < b->takes->len; i++) {
      Take *t = b->takes->pdata[i];
      for (guint k = 0; t->job && k < t->n; k++)
        t->verdict[k] = WATCH_LEFT;
      g_clear_pointer(&t->job, scand_job_free);
    }
    return FALSE;
  }
  return published;
}

/* Phases three and four: the files disposed of, their directories fsynced
 * once each, the jobs released, the documents delivered. */
static void batch_finish(Batch *b, ScandWatcher *watcher) {
  /* The fault points count files, as if they were taken one by one. */
  for (guint i = 0; i < b->takes->len; i++)
    if (((Take *) b->takes->pdata[i])->job)
      scand_fault_point("watch-taken");
  for (guint i = 0; i < b->takes->len; i++) {
    Take *t = b->takes->pdata[i];
    if (t->job) {
      g_autofree char *display = watch_display(t->w, t->src[0].rel);
      take_promote(t, display);
    }
  }
  g_autoptr(WatchDirSync) sync = watch_dir_sync_new();
  g_autofree gboolean *gone = g_new0(gboolean, b->takes->len);
  for (guint i = 0; i < b->takes->len; i++) {
    Take *t = b->takes->pdata[i];
    gone[i] = t->job && take_dispose(t, sync);
  }
  gboolean synced = watch_dir_sync_flush(sync);
  for (guint i = 0; i < b->takes->len; i++) {
    Take *t = b->takes->pdata[i];
    /* Released only once its folder's fsync made the disposal durable. */
    if (gone[i] && synced) {
      take_unhold(t);
      scand_job_set_keep(t->job, NULL);
    }
  }
  g_atomic_int_set(&watcher->n_held, (gint) g_hash_table_size(watcher->held));
  for (guint i = 0; i < b->takes->len; i++)
    if (gone[i])
      scand_fault_point("watch-disposed");
  for (guint i = 0; i < b->takes->len; i++) {
    Take *t = b->takes->pdata[i];
    if (t->job)
      take_deliver(t);
  }
  /* The finished jobs recorded so by a rename each, then the outcomes (and
   * the releases) durable at once; only then does what a retry would have
   * found the deliveries by go, and the finished jobs with it. A crash
   * before the barrier brings back jobs whose retry finds their deliveries;
   * one after it, finished jobs that the next start settles and removes. */
  g_autofree gboolean *finished = g_new0(gboolean, b->takes->len);
  for (guint i = 0; i < b->takes->len; i++) {
    Take *t = b->takes->pdata[i];
    if (!t->job || t->result != SCAND_DELIVERY_DONE || scand_job_get_keep(t->job))
      continue;
    scand_fault_point("job-done");
    g_autoptr(GError) fin_error = NULL;
    finished[i] = scand_job_finish_deferred(t->job, &fin_error);
    if (!finished[i] && !scand_job_save(t->job, NULL)) /* then it stays, recorded done */
      g_ptr_array_add(t->errors, g_strdup(fin_error->message));
  }
  g_autoptr(GError) error = NULL;
  gboolean durable = scand_fs_sync_file_system(b->spool_fd, scand_spool_get_dir(watcher->host.spool), &error);
  if (!durable)
    watch_log(watcher, "watched folders: %s", error->message);
  for (guint i = 0; i < b->takes->len; i++) {
    Take *t = b->takes->pdata[i];
    if (!t->job)
      continue;
    scand_job_defer_durability(t->job, FALSE);
    if (durable)
      scand_job_run_settle(t->job);
    if (durable && finished[i])
      scand_job_remove_finished(t->job, NULL);
    deliver_report(t, t->job, t->result, t->errors, t->delivered);
  }
}

static void batch_run(ScandWatcher *watcher, GPtrArray *intakes) {
  Batch b = { .takes = g_ptr_array_new_with_free_func((GDestroyNotify) take_free), .spool_fd = -1 };
  b.spool_fd = open(scand_spool_get_dir(watcher->host.spool), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  gboolean any = FALSE;
  for (guint i = 0; i < intakes->len; i++) {
    Take *t = take_new(intakes->pdata[i], watcher->host.get_config(watcher->host.user_data), b.spool_fd);
    g_ptr_array_add(b.takes, t);
    if (b.spool_fd < 0) {
      watch_log(watcher, "watched folders: cannot open the spool %s: %s", scand_spool_get_dir(watcher->host.spool),
                g_strerror(errno));
      settle_all(t, 0, WATCH_LATER);
      continue;
    }
    any |= take_prepare(t);
  }
  if (any)
    scand_fault_point("watch-staged");
  if (any && batch_publish(&b, watcher))
    batch_finish(&b, watcher);
  g_ptr_array_unref(b.takes);
  if (b.spool_fd >= 0)
    close(b.spool_fd);
}

/* The queue worker's item: the intakes waiting, WATCH_BATCH_MAX at a time;
 * another item follows for the rest, so that other queued work is not held
 * up by a folder that keeps filling. */
static void batch_queue_run(gpointer data, gpointer unused) {
  ScandWatcher *watcher = data;
  g_autoptr(GPtrArray) intakes = g_ptr_array_new();
  g_mutex_lock(&watcher->batch_lock);
  guint n = MIN(watcher->batch->len, WATCH_BATCH_MAX);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add(intakes, watcher->batch->pdata[i]);
  g_ptr_array_remove_range(watcher->batch, 0, n);
  gboolean more = watcher->batch->len > 0;
  watcher->batch_queued = more;
  g_mutex_unlock(&watcher->batch_lock);
  if (more)
    watcher->host.queue_push(watcher->host.user_data, batch_queue_run, watch_ref(watcher));
  batch_run(watcher, intakes);
  watch_unref(watcher);
}

void watch_intake_enqueue(ScandWatcher *watcher, Intake *in) {
  g_mutex_lock(&watcher->batch_lock);
  g_ptr_array_add(watcher->batch, in);
  gboolean queue = !watcher->batch_queued;
  watcher->batch_queued = TRUE;
  g_mutex_unlock(&watcher->batch_lock);
  if (queue)
    watcher->host.queue_push(watcher->host.user_data, batch_queue_run, watch_ref(watcher));
}
