#include "scand/core/job-private.h"
#include "scand/base/config.h"
#include "scand/base/error.h"
#include "scand/base/facts.h"
#include "scand/base/fault.h"
#include "scand/base/fs.h"
#include "scand/base/http.h"

#include <errno.h>
#include <stdarg.h>
#include <gio/gio.h>
#include <fcntl.h>
#include <string.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOB_GROUP "job"
#define JOB_OF_SINK(s) ((ScandJob *) ((char *) (s) -offsetof(ScandJob, sink)))

static const char *const stage_names[] = {
  [SCAND_JOB_SCANNING] = "scanning", [SCAND_JOB_SCANNED] = "scanned", [SCAND_JOB_ASSEMBLED] = "assembled",
  [SCAND_JOB_DONE] = "done",         [SCAND_JOB_FAILED] = "failed",
};

static const char *const dest_state_names[] = {
  [SCAND_DEST_PENDING] = "pending", [SCAND_DEST_RETRY] = "retry",           [SCAND_DEST_DONE] = "done",
  [SCAND_DEST_FAILED] = "failed",   [SCAND_DEST_SUPERSEDED] = "superseded",
};

const char *scand_job_stage_to_string(ScandJobStage stage) {
  return stage < G_N_ELEMENTS(stage_names) ? stage_names[stage] : "?";
}

const char *scand_dest_state_to_string(ScandDestState state) {
  return state < G_N_ELEMENTS(dest_state_names) ? dest_state_names[state] : "?";
}

static void delivery_free(ScandDelivery *d) {
  if (!d)
    return;
  g_free(d->group);
  g_free(d);
}

static gboolean job_sink_begin(ScandPageSink *sink, const ScandPageHeader *header, GError **error);
static gboolean job_sink_write(ScandPageSink *sink, const void *data, gsize len, GError **error);
static gboolean job_sink_end(ScandPageSink *sink, GError **error);
static void job_sink_abort(ScandPageSink *sink);

/* A job recorded finished by its name alone (scand_job_finish_deferred()). */
#define FINISHED_PREFIX ".done-"

/* The job's directory is dir (taken) now, and its files' paths with it. */
static void job_set_dir(ScandJob *job, char *dir) {
  g_free(job->dir);
  job->dir = dir;
  g_free(job->ini_path);
  job->ini_path = g_build_filename(dir, "job.ini", NULL);
  g_free(job->pdf_path);
  job->pdf_path = g_build_filename(dir, "document.pdf", NULL);
}

static ScandJob *job_new(ScandSpool *spool, const char *id, const char *dir) {
  ScandJob *job = g_new0(ScandJob, 1);
  job->spool = spool;
  job->id = g_strdup(id);
  job_set_dir(job, g_strdup(dir));
  job->lock_fd = -1;
  job->state = g_key_file_new();
  job->deliveries = g_ptr_array_new_with_free_func((GDestroyNotify) delivery_free);
  job->strings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  job->retired = g_ptr_array_new_with_free_func(g_free);
  job->sink.begin = job_sink_begin;
  job->sink.write = job_sink_write;
  job->sink.end = job_sink_end;
  job->sink.abort = job_sink_abort;
  return job;
}

/* Opens the job's directory itself, never what a symbolic link in its place
 * points to. */
static int job_dir_open(ScandJob *job, GError **error) {
  int fd = open(job->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0)
    return fd;
  int errsv = errno;
  struct stat st;
  if (errsv == ENOENT)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "no job %s in the spool %s", job->id,
                scand_spool_get_dir(job->spool));
  else if (lstat(job->dir, &st) == 0 && !S_ISDIR(st.st_mode))
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_CORRUPT, "job %s: %s is not a directory%s", job->id, job->dir,
                S_ISLNK(st.st_mode) ? " but a symbolic link" : "");
  else
    scand_fs_error_errno(error, errsv, "cannot open job %s", job->dir);
  return -1;
}

static gboolean job_lock(ScandJob *job, GError **error) {
  job->lock_fd = job_dir_open(job, error);
  if (job->lock_fd < 0)
    return FALSE;
  if (flock(job->lock_fd, LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_BUSY, "job %s is being processed by another scand process", job->id);
      return FALSE;
    }
    return scand_fs_error_errno(error, errno, "cannot lock job %s", job->dir);
  }
  return TRUE;
}

static void job_load_deliveries(ScandJob *job) {
  g_ptr_array_set_size(job->deliveries, 0);
  for (guint i = 0;; i++) {
    g_autofree char *group = g_strdup_printf("dest %u", i);
    if (!g_key_file_has_group(job->state, group))
      break;
    ScandDelivery *d = g_new0(ScandDelivery, 1);
    d->job = job;
    d->index = i;
    d->group = g_steal_pointer(&group);
    g_ptr_array_add(job->deliveries, d);
  }
}

static gboolean job_save(ScandJob *job, gboolean sync, GError **error) {
  g_return_val_if_fail(job->lock_fd >= 0, FALSE);
  gsize len = 0;
  g_autofree char *data = g_key_file_to_data(job->state, &len, NULL);
  gboolean ok = sync ? scand_fs_write_atomic(job->ini_path, data, len, 0600, error)
                     : scand_fs_write_unsynced(job->ini_path, data, len, 0600, error);
  if (!ok) {
    g_prefix_error(error, "job %s: ", job->id);
    return FALSE;
  }
  return TRUE;
}

gboolean scand_job_save(ScandJob *job, GError **error) {
  /* A staged job becomes durable as a whole before it is published; a
   * deferred one at its caller's barrier. */
  return job_save(job, !job->staged && !job->deferred, error);
}

gboolean scand_job_save_durable(ScandJob *job, GError **error) {
  return job_save(job, !job->staged, error);
}

void scand_job_defer_durability(ScandJob *job, gboolean defer) {
  job->deferred = defer;
}

gboolean scand_job_durability_deferred(ScandJob *job) {
  return job->deferred;
}

ScandJob *scand_job_create_staged(ScandSpool *spool, GError **error) {
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
  g_autofree char *id = NULL, *tmp_dir = NULL;
  /* A folder of a thousand files makes a thousand jobs a second: ids of the
   * same second meet (the birthday bound of 10^6 is ~1200), so a taken one
   * is drawn again. The ".new-ID" directory is the claim; the job's own name
   * is checked too, and publishing never replaces it (RENAME_NOREPLACE). */
  for (guint attempt = 0;; attempt++) {
    g_free(id);
    g_free(tmp_dir);
    id = g_strdup_printf("%s-%06u", stamp, g_random_int_range(0, 1000000));
    tmp_dir = g_strdup_printf("%s/.new-%s", scand_spool_get_dir(spool), id);
    g_autofree char *final = g_build_filename(scand_spool_get_dir(spool), id, NULL);
    if (access(final, F_OK) == 0 && attempt < 100)
      continue;
    if (mkdir(tmp_dir, 0700) == 0)
      break;
    if (errno != EEXIST || attempt >= 100) {
      scand_fs_error_errno(error, errno, "cannot create job directory %s", tmp_dir);
      return NULL;
    }
  }
  g_autoptr(ScandJob) job = job_new(spool, id, tmp_dir);
  if (!job_lock(job, error))
    return NULL;
  job->staged = TRUE;
  g_autofree char *created = g_date_time_format_iso8601(now);
  g_key_file_set_string(job->state, JOB_GROUP, "id", id);
  g_key_file_set_string(job->state, JOB_GROUP, "created", created);
  g_key_file_set_string(job->state, JOB_GROUP, "stage", stage_names[SCAND_JOB_SCANNING]);
  /* Who made it: the user that may cancel or retry it over D-Bus (a scan a
   * D-Bus caller asked for records the caller: ScandScanRequest.owner_uid). */
  g_key_file_set_uint64(job->state, JOB_GROUP, "owner-uid", geteuid());
  return g_steal_pointer(&job);
}

gboolean scand_job_is_staged(ScandJob *job) {
  return job->staged;
}

gboolean scand_job_publish(ScandJob *job, GError **error) {
  g_return_val_if_fail(job->staged, FALSE);
  g_autofree char *dir = g_build_filename(scand_spool_get_dir(job->spool), job->id, NULL);
  /* The lock follows the directory through the rename, which never replaces
   * another job's (empty) directory. */
  if (renameat2(AT_FDCWD, job->dir, AT_FDCWD, dir, RENAME_NOREPLACE) < 0 &&
      (errno != EINVAL || rename(job->dir, dir) < 0))
    return scand_fs_error_errno(error, errno, "cannot create job %s", dir);
  job->staged = FALSE;
  job_set_dir(job, g_steal_pointer(&dir));
  return TRUE;
}

ScandJob *scand_job_create(ScandSpool *spool, GError **error) {
  g_autoptr(ScandJob) job = scand_job_create_staged(spool, error);
  if (!job)
    return NULL;
  /* Its one file durable on its own, so no file system barrier is needed:
   * the job exists only once its directory has its final name. */
  job->staged = FALSE;
  if (!scand_job_save(job, error))
    return NULL;
  job->staged = TRUE;
  if (!scand_job_publish(job, error) || !scand_fs_fsync_dir(scand_spool_get_dir(spool), error))
    return NULL;
  scand_fault_point("job-created");
  return g_steal_pointer(&job);
}

ScandJob *scand_job_create_sibling(ScandJob *from, GError **error) {
  g_autoptr(ScandJob) job = scand_job_create(from->spool, error);
  if (!job)
    return NULL;
  g_auto(GStrv) groups = g_key_file_get_groups(from->state, NULL);
  for (guint g = 0; groups[g]; g++) {
    g_auto(GStrv) keys = g_key_file_get_keys(from->state, groups[g], NULL, NULL);
    for (guint k = 0; keys && keys[k]; k++) {
      gboolean own = strcmp(groups[g], JOB_GROUP) == 0 && (!strcmp(keys[k], "id") || !strcmp(keys[k], "stage"));
      if (own || g_str_has_prefix(keys[k], "split-child-"))
        continue;
      g_autofree char *v = g_key_file_get_value(from->state, groups[g], keys[k], NULL);
      g_key_file_set_value(job->state, groups[g], keys[k], v);
    }
  }
  job_load_deliveries(job);
  if (!scand_job_save(job, error))
    return NULL;
  return g_steal_pointer(&job);
}

static gboolean job_id_valid(const char *id, GError **error) {
  if (!id || !*id || strchr(id, '/') || id[0] == '.') {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "\"%s\" is not a job id", id ? id : "");
    return FALSE;
  }
  return TRUE;
}

/* job.ini is small; anything bigger is not one of ours. */
#define JOB_INI_MAX (1024 * 1024)

static gboolean G_GNUC_PRINTF(3, 4) job_corrupt(ScandJob *job, GError **error, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_CORRUPT, "job %s: %s: %s", job->id, job->ini_path, what);
  return FALSE;
}

/* Reads job.ini relative to the job's directory: a regular file (not a link,
 * not a FIFO that would block) of sane size. */
static char *job_read_ini(ScandJob *job, int dir_fd, gsize *len, GError **error) {
  int fd = openat(dir_fd, "job.ini", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int errsv = errno;
    if (errsv == ENOENT || errsv == ELOOP)
      job_corrupt(job, error, "%s", errsv == ENOENT ? "missing" : "is a symbolic link");
    else
      scand_fs_error_errno(error, errsv, "job %s: cannot read %s", job->id, job->ini_path);
    return NULL;
  }
  struct stat st;
  char *data = NULL;
  if (fstat(fd, &st) < 0)
    scand_fs_error_errno(error, errno, "job %s: cannot read %s", job->id, job->ini_path);
  else if (!S_ISREG(st.st_mode))
    job_corrupt(job, error, "not a regular file");
  else if (st.st_size > JOB_INI_MAX)
    job_corrupt(job, error, "%" G_GINT64_FORMAT " bytes, more than a job's state ever takes", (gint64) st.st_size);
  else {
    data = g_malloc((gsize) st.st_size + 1);
    gsize got = 0;
    while (got < (gsize) st.st_size) {
      ssize_t n = read(fd, data + got, (gsize) st.st_size - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (gsize) n;
    }
    data[got] = '\0';
    *len = got;
  }
  close(fd);
  return data;
}

static gboolean name_known(const char *name, const char *const *names, guint n) {
  for (guint i = 0; name && i < n; i++)
    if (strcmp(name, names[i]) == 0)
      return TRUE;
  return FALSE;
}

static char *names_join(const char *const *names, guint n) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < n; i++)
    g_string_append_printf(s, "%s%s", i ? ", " : "", names[i]);
  return g_string_free(s, FALSE);
}

/* A key that must hold a whole number when it is set. */
static gboolean count_valid(GKeyFile *state, const char *group, const char *key) {
  g_autofree char *v = g_key_file_get_value(state, group, key, NULL);
  return !v || g_ascii_string_to_signed(v, 10, G_MININT64, G_MAXINT64, NULL, NULL);
}

/* Everything the delivery queue acts on can be understood: a stage it knows,
 * destinations "dest 0" … "dest N-1" each with an output and a state it
 * knows, whole numbers where it counts. Anything else is corrupt and is never
 * guessed at (an unknown state read as "pending" would deliver twice; an
 * unknown stage read as "scanning" would delete the job). */
static gboolean job_validate(ScandJob *job, GError **error) {
  GKeyFile *state = job->state;
  if (!g_key_file_has_group(state, JOB_GROUP))
    return job_corrupt(job, error, "no [%s] group", JOB_GROUP);
  g_autofree char *stage = g_key_file_get_value(state, JOB_GROUP, "stage", NULL);
  if (!name_known(stage, stage_names, G_N_ELEMENTS(stage_names))) {
    g_autofree char *known = names_join(stage_names, G_N_ELEMENTS(stage_names));
    g_autofree char *q = stage ? g_strescape(stage, NULL) : NULL;
    return stage ? job_corrupt(job, error, "unknown stage \"%s\" (known: %s)", q, known)
                 : job_corrupt(job, error, "no stage");
  }
  /* The delivery name is joined to every destination: it must stay beneath. */
  g_autofree char *name = g_key_file_get_string(state, JOB_GROUP, "name", NULL);
  g_autoptr(GError) bad = NULL;
  if (g_key_file_has_key(state, JOB_GROUP, "name", NULL) && !scand_fs_name_check(name, &bad)) {
    g_autofree char *q = g_strescape(name ? name : "", NULL);
    return job_corrupt(job, error, "the file name \"%s\" is refused: %s", q, bad->message);
  }
  g_auto(GStrv) groups = g_key_file_get_groups(state, NULL);
  guint n_dest = 0;
  for (guint i = 0; groups[i]; i++)
    n_dest += g_str_has_prefix(groups[i], "dest ");
  for (guint i = 0; i < n_dest; i++) {
    g_autofree char *group = g_strdup_printf("dest %u", i);
    if (!g_key_file_has_group(state, group))
      return job_corrupt(job, error, "%u destinations, but no [%s]", n_dest, group);
    g_autofree char *output = g_key_file_get_value(state, group, "output", NULL);
    g_autofree char *dest_state = g_key_file_get_value(state, group, "state", NULL);
    if (!output || !*output)
      return job_corrupt(job, error, "[%s] names no output", group);
    if (!name_known(dest_state, dest_state_names, G_N_ELEMENTS(dest_state_names))) {
      g_autofree char *known = names_join(dest_state_names, G_N_ELEMENTS(dest_state_names));
      g_autofree char *q = g_strescape(dest_state ? dest_state : "", NULL);
      return job_corrupt(job, error, "[%s] state \"%s\" is unknown (known: %s)", group, q, known);
    }
    const char *const counts[] = { "attempts", "first-attempt", "last-attempt", "next-attempt", "retry-after" };
    for (guint k = 0; k < G_N_ELEMENTS(counts); k++)
      if (!count_valid(state, group, counts[k]))
        return job_corrupt(job, error, "[%s] %s is not a whole number", group, counts[k]);
  }
  if (g_key_file_has_group(state, "fallback")) {
    g_autofree char *output = g_key_file_get_value(state, "fallback", "output", NULL);
    if (!output || !*output)
      return job_corrupt(job, error, "[fallback] names no output");
    const char *const counts[] = { "after", "attempts", "index" };
    for (guint k = 0; k < G_N_ELEMENTS(counts); k++)
      if (!count_valid(state, "fallback", counts[k]))
        return job_corrupt(job, error, "[fallback] %s is not a whole number", counts[k]);
  }
  return TRUE;
}

/* Loads and validates job.ini, through the locked directory when there is
 * one. */
static gboolean job_load(ScandJob *job, GError **error) {
  int dir_fd = job->lock_fd >= 0 ? job->lock_fd : job_dir_open(job, error);
  if (dir_fd < 0)
    return FALSE;
  gsize len = 0;
  g_autofree char *data = job_read_ini(job, dir_fd, &len, error);
  if (dir_fd != job->lock_fd)
    close(dir_fd);
  if (!data)
    return FALSE;
  g_autoptr(GError) local = NULL;
  if (!g_key_file_load_from_data(job->state, data, len, G_KEY_FILE_KEEP_COMMENTS, &local)) {
    g_autofree char *q = g_strescape(local->message, NULL);
    return job_corrupt(job, error, "%s", q);
  }
  if (!job_validate(job, error))
    return FALSE;
  job_load_deliveries(job);
  return TRUE;
}

ScandJob *scand_job_peek(ScandSpool *spool, const char *id, GError **error) {
  if (!job_id_valid(id, error))
    return NULL;
  g_autofree char *dir = g_build_filename(scand_spool_get_dir(spool), id, NULL);
  g_autoptr(ScandJob) job = job_new(spool, id, dir);
  if (!job_load(job, error))
    return NULL;
  return g_steal_pointer(&job);
}

gboolean scand_job_is_locked(ScandJob *job) {
  return job->lock_fd >= 0;
}

ScandJob *scand_job_open(ScandSpool *spool, const char *id, GError **error) {
  if (!job_id_valid(id, error))
    return NULL;
  g_autofree char *dir = g_build_filename(scand_spool_get_dir(spool), id, NULL);
  g_autoptr(ScandJob) job = job_new(spool, id, dir);
  if (!job_lock(job, error) || !job_load(job, error))
    return NULL;
  return g_steal_pointer(&job);
}

void scand_job_free(ScandJob *job) {
  if (!job)
    return;
  scand_page_writer_free(job->writer);
  if (job->lock_fd >= 0)
    close(job->lock_fd);
  g_key_file_unref(job->state);
  g_clear_pointer(&job->created_local, g_date_time_unref);
  g_ptr_array_unref(job->deliveries);
  g_hash_table_unref(job->strings);
  g_ptr_array_unref(job->retired);
  g_free(job->id);
  g_free(job->dir);
  g_free(job->ini_path);
  g_free(job->pdf_path);
  g_free(job);
}

const char *scand_job_get_id(ScandJob *job) {
  return job->id;
}

const char *scand_job_get_dir(ScandJob *job) {
  return job->dir;
}

const char *scand_job_get_pdf_path(ScandJob *job) {
  return job->pdf_path;
}

ScandJobStage scand_job_get_stage(ScandJob *job) {
  g_autofree char *s = g_key_file_get_string(job->state, JOB_GROUP, "stage", NULL);
  for (guint i = 0; s && i < G_N_ELEMENTS(stage_names); i++)
    if (strcmp(s, stage_names[i]) == 0)
      return (ScandJobStage) i;
  return SCAND_JOB_SCANNING;
}

gboolean scand_job_set_stage(ScandJob *job, ScandJobStage stage, GError **error) {
  g_key_file_set_string(job->state, JOB_GROUP, "stage", stage_names[stage]);
  return scand_job_save(job, error);
}

const char *scand_job_keep_string(ScandJob *job, const char *group, const char *key, char *value) {
  if (!value)
    return NULL;
  g_autofree char *slot = g_strdup_printf("%s\x1f%s", group, key);
  char *old = g_hash_table_lookup(job->strings, slot);
  if (old && strcmp(old, value) == 0) {
    g_free(value);
    return old;
  }
  /* A string handed out stays valid for the job's life, even when the value
   * changes: the old one moves to the job's list of retired strings. */
  if (old) {
    gpointer old_key = NULL, old_value = NULL;
    g_hash_table_steal_extended(job->strings, slot, &old_key, &old_value);
    g_free(old_key);
    g_ptr_array_add(job->retired, old_value);
  }
  g_hash_table_insert(job->strings, g_steal_pointer(&slot), value);
  return value;
}

/* --- facts: the [job] group, one key a row of the facts table --- */

/* Reads one fact from the key file into facts (strings kept by the job). */
static void fact_load(ScandJob *job, ScandJobFacts *facts, const ScandFact *row) {
  g_autofree char *raw = g_key_file_get_string(job->state, JOB_GROUP, row->key, NULL);
  gint64 n = 0;
  gboolean flag = FALSE;
  switch (row->type) {
    case SCAND_FACT_TEXT:
      scand_fact_set_text(facts, row, scand_job_keep_string(job, JOB_GROUP, row->key, g_steal_pointer(&raw)));
      break;
    case SCAND_FACT_COUNT:
      if (raw && g_ascii_string_to_signed(raw, 10, 0, G_MAXUINT, &n, NULL))
        scand_fact_set_count(facts, row, (guint) n);
      break;
    case SCAND_FACT_FLAG:
      scand_fact_set_flag(facts, row, raw && scand_config_parse_bool(raw, &flag) && flag);
      break;
  }
}

const ScandJobFacts *scand_job_get_facts(ScandJob *job) {
  ScandJobFacts *facts = &job->facts;
  *facts = (ScandJobFacts){ 0 };
  guint n;
  const ScandFact *rows = scand_facts_table(&n);
  for (guint i = 0; i < n; i++)
    fact_load(job, facts, &rows[i]);
  if (!job->created_local && facts->created) {
    g_autoptr(GDateTime) utc = g_date_time_new_from_iso8601(facts->created, NULL);
    job->created_local = utc ? g_date_time_to_local(utc) : NULL;
  }
  facts->time = job->created_local;
  return facts;
}

/* Writes one fact; an unset one (empty text, zero count, false flag) leaves
 * no key. */
static void fact_store(ScandJob *job, const ScandJobFacts *facts, const ScandFact *row) {
  g_autofree char *value = scand_fact_format(facts, row);
  if (value)
    g_key_file_set_string(job->state, JOB_GROUP, row->key, value);
  else
    g_key_file_remove_key(job->state, JOB_GROUP, row->key, NULL);
}

void scand_job_set_facts(ScandJob *job, const ScandJobFacts *facts) {
  guint n;
  const ScandFact *rows = scand_facts_table(&n);
  for (guint i = 0; i < n; i++)
    if (!rows[i].fixed)
      fact_store(job, facts, &rows[i]);
}

/* A key the facts table does not name (a module's own bookkeeping, such as
 * the page processing's records) is kept as text in the same group. */
static const char *extra_get(ScandJob *job, const char *key) {
  return scand_job_keep_string(job, JOB_GROUP, key, g_key_file_get_string(job->state, JOB_GROUP, key, NULL));
}

static void extra_set(ScandJob *job, const char *key, const char *value) {
  if (value)
    g_key_file_set_string(job->state, JOB_GROUP, key, value);
  else
    g_key_file_remove_key(job->state, JOB_GROUP, key, NULL);
}

const char *scand_job_get(ScandJob *job, const char *key) {
  const ScandFact *row = scand_facts_find(key);
  if (!row)
    return extra_get(job, key);
  char *value = scand_fact_format(scand_job_get_facts(job), row);
  return value ? scand_job_keep_string(job, "fact", key, value) : NULL;
}

void scand_job_set(ScandJob *job, const char *key, const char *value) {
  const ScandFact *row = scand_facts_find(key);
  if (!row) {
    g_return_if_fail(strcmp(key, "stage") != 0);
    extra_set(job, key, value);
    return;
  }
  g_return_if_fail(!row->fixed);
  ScandJobFacts facts = *scand_job_get_facts(job);
  gint64 n = 0;
  gboolean flag = FALSE;
  switch (row->type) {
    case SCAND_FACT_TEXT:
      scand_fact_set_text(&facts, row, value);
      break;
    case SCAND_FACT_COUNT:
      scand_fact_set_count(&facts, row,
                           value && g_ascii_string_to_signed(value, 10, 0, G_MAXUINT, &n, NULL) ? (guint) n : 0);
      break;
    case SCAND_FACT_FLAG:
      scand_fact_set_flag(&facts, row, value && scand_config_parse_bool(value, &flag) && flag);
      break;
  }
  fact_store(job, &facts, row);
}

gint64 scand_job_get_int(ScandJob *job, const char *key, gint64 def) {
  const char *v = scand_job_get(job, key);
  gint64 n;
  return v && g_ascii_string_to_signed(v, 10, G_MININT64, G_MAXINT64, &n, NULL) ? n : def;
}

void scand_job_set_int(ScandJob *job, const char *key, gint64 value) {
  g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT, value);
  scand_job_set(job, key, text);
}

/* --- pages --- */

guint scand_job_count_pages(ScandJob *job) {
  g_autoptr(GPtrArray) pages = scand_page_list(job->dir, NULL);
  return pages ? pages->len : 0;
}

static gboolean job_sink_begin(ScandPageSink *sink, const ScandPageHeader *header, GError **error) {
  ScandJob *job = JOB_OF_SINK(sink);
  g_clear_pointer(&job->writer, scand_page_writer_free);
  guint index = scand_job_count_pages(job) + 1;
  job->writer = scand_page_writer_new(job->dir, index, header, error);
  return job->writer != NULL;
}

static gboolean job_sink_write(ScandPageSink *sink, const void *data, gsize len, GError **error) {
  ScandJob *job = JOB_OF_SINK(sink);
  return scand_page_writer_write(job->writer, data, len, error);
}

static gboolean job_sink_end(ScandPageSink *sink, GError **error) {
  ScandJob *job = JOB_OF_SINK(sink);
  gboolean ok = scand_page_writer_commit(job->writer, NULL, error);
  g_clear_pointer(&job->writer, scand_page_writer_free);
  if (ok)
    scand_fault_point("page-saved");
  return ok;
}

static void job_sink_abort(ScandPageSink *sink) {
  ScandJob *job = JOB_OF_SINK(sink);
  g_clear_pointer(&job->writer, scand_page_writer_free);
}

ScandPageSink *scand_job_get_page_sink(ScandJob *job) {
  return &job->sink;
}

/* --- destinations --- */

/* The output's keys as the job keeps them; a URL's password never reaches
 * the spool, whoever built the table. */
static void set_output_config(GKeyFile *state, const char *group, GHashTable *output_config) {
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init(&iter, output_config);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    g_autofree char *k = g_strdup_printf("config.%s", (const char *) key);
    g_autofree char *redacted = scand_http_url_without_password(value);
    g_key_file_set_string(state, group, k, redacted ? redacted : value);
  }
}

gboolean scand_job_clear_destinations(ScandJob *job, GError **error) {
  for (guint i = 0; i < job->deliveries->len; i++)
    if (scand_job_get_destination_attempts(job, i) > 0) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_BUSY, "job %s: delivery to %s has started already", job->id,
                  scand_job_get_destination_name(job, i));
      return FALSE;
    }
  for (guint i = 0; i < job->deliveries->len; i++)
    g_key_file_remove_group(job->state, ((ScandDelivery *) job->deliveries->pdata[i])->group, NULL);
  g_key_file_remove_group(job->state, "fallback", NULL);
  job_load_deliveries(job);
  return TRUE;
}

gboolean scand_job_set_fallback(ScandJob *job, const char *output_name, GHashTable *output_config, gint64 after_seconds,
                                gint64 attempts, GError **error) {
  g_key_file_remove_group(job->state, "fallback", NULL);
  g_autofree char *shown = scand_http_url_without_password(output_name);
  g_key_file_set_string(job->state, "fallback", "output", shown ? shown : output_name);
  g_key_file_set_int64(job->state, "fallback", "after", after_seconds);
  g_key_file_set_int64(job->state, "fallback", "attempts", attempts);
  set_output_config(job->state, "fallback", output_config);
  return TRUE;
}

gboolean scand_job_add_destination(ScandJob *job, const char *output_name, GHashTable *output_config, GError **error) {
  guint index = job->deliveries->len;
  g_autofree char *group = g_strdup_printf("dest %u", index);
  g_autofree char *shown = scand_http_url_without_password(output_name);
  g_key_file_set_string(job->state, group, "output", shown ? shown : output_name);
  g_key_file_set_string(job->state, group, "state", dest_state_names[SCAND_DEST_PENDING]);
  g_key_file_set_int64(job->state, group, "attempts", 0);
  set_output_config(job->state, group, output_config);
  job_load_deliveries(job);
  return TRUE;
}

guint scand_job_get_n_destinations(ScandJob *job) {
  return job->deliveries->len;
}

static const char *dest_group(ScandJob *job, guint index) {
  g_return_val_if_fail(index < job->deliveries->len, NULL);
  return ((ScandDelivery *) job->deliveries->pdata[index])->group;
}

const char *scand_job_get_destination_name(ScandJob *job, guint index) {
  const char *group = dest_group(job, index);
  return scand_job_keep_string(job, group, "output", g_key_file_get_string(job->state, group, "output", NULL));
}

ScandDestState scand_job_get_destination_state(ScandJob *job, guint index) {
  g_autofree char *s = g_key_file_get_string(job->state, dest_group(job, index), "state", NULL);
  for (guint i = 0; s && i < G_N_ELEMENTS(dest_state_names); i++)
    if (strcmp(s, dest_state_names[i]) == 0)
      return (ScandDestState) i;
  return SCAND_DEST_PENDING;
}

ScandDelivery *scand_job_get_delivery(ScandJob *job, guint index) {
  g_return_val_if_fail(index < job->deliveries->len, NULL);
  return job->deliveries->pdata[index];
}

gint64 scand_job_get_destination_attempts(ScandJob *job, guint index) {
  return g_key_file_get_int64(job->state, dest_group(job, index), "attempts", NULL);
}

const char *scand_job_get_destination_error(ScandJob *job, guint index) {
  const char *group = dest_group(job, index);
  return scand_job_keep_string(job, group, "last-error", g_key_file_get_string(job->state, group, "last-error", NULL));
}

gint64 scand_job_get_destination_next_attempt(ScandJob *job, guint index) {
  if (scand_job_get_destination_state(job, index) != SCAND_DEST_RETRY)
    return 0;
  return g_key_file_get_int64(job->state, dest_group(job, index), "next-attempt", NULL);
}

void scand_job_note_destination_result(ScandJob *job, guint index, ScandDestState state, const char *message) {
  const char *group = dest_group(job, index);
  g_key_file_set_string(job->state, group, "state", dest_state_names[state]);
  g_key_file_set_int64(job->state, group, "attempts", scand_job_get_destination_attempts(job, index) + 1);
  if (message)
    g_key_file_set_string(job->state, group, "last-error", message);
  else
    g_key_file_remove_key(job->state, group, "last-error", NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_key_file_set_int64(job->state, group, "last-attempt", g_date_time_to_unix(now));
  if (!g_key_file_has_key(job->state, group, "first-attempt", NULL))
    g_key_file_set_int64(job->state, group, "first-attempt", g_date_time_to_unix(now));
}

gboolean scand_job_set_destination_result(ScandJob *job, guint index, ScandDestState state, const char *message,
                                          GError **error) {
  scand_job_note_destination_result(job, index, state, message);
  return scand_job_save(job, error);
}

void scand_job_set_retry_after(ScandJob *job, guint index, gint64 seconds) {
  g_key_file_set_int64(job->state, dest_group(job, index), "retry-after", seconds);
}

void scand_job_get_destination_times(ScandJob *job, guint index, ScandDestTimes *out) {
  const char *group = dest_group(job, index);
  out->first = g_key_file_get_int64(job->state, group, "first-attempt", NULL);
  out->last = g_key_file_get_int64(job->state, group, "last-attempt", NULL);
  out->next = g_key_file_get_int64(job->state, group, "next-attempt", NULL);
  out->retry_after = g_key_file_get_int64(job->state, group, "retry-after", NULL);
}

void scand_job_set_destination_next_attempt(ScandJob *job, guint index, gint64 when) {
  g_key_file_set_int64(job->state, dest_group(job, index), "next-attempt", when);
}

void scand_job_set_destination_first_attempt(ScandJob *job, guint index, gint64 when) {
  g_key_file_set_int64(job->state, dest_group(job, index), "first-attempt", when);
}

void scand_job_supersede_destination(ScandJob *job, guint index) {
  g_key_file_set_string(job->state, dest_group(job, index), "state", dest_state_names[SCAND_DEST_SUPERSEDED]);
}

const char *scand_job_get_destination_config(ScandJob *job, guint index, const char *key) {
  const char *group = dest_group(job, index);
  g_autofree char *k = g_strdup_printf("config.%s", key);
  return scand_job_keep_string(job, group, k, g_key_file_get_string(job->state, group, k, NULL));
}

const char *scand_job_get_delivery_state(ScandJob *job, guint index, const char *key) {
  const char *group = dest_group(job, index);
  g_autofree char *k = g_strdup_printf("state.%s", key);
  return scand_job_keep_string(job, group, k, g_key_file_get_string(job->state, group, k, NULL));
}

void scand_job_set_delivery_state(ScandJob *job, guint index, const char *key, const char *value) {
  const char *group = dest_group(job, index);
  g_autofree char *k = g_strdup_printf("state.%s", key);
  if (value)
    g_key_file_set_string(job->state, group, k, value);
  else
    g_key_file_remove_key(job->state, group, k, NULL);
}

/* --- the rule's fallback: [fallback] --- */

void scand_job_get_fallback(ScandJob *job, ScandJobFallback *out) {
  *out = (ScandJobFallback){ .set = g_key_file_has_group(job->state, "fallback") };
  if (!out->set)
    return;
  out->after = g_key_file_get_int64(job->state, "fallback", "after", NULL);
  out->attempts = g_key_file_get_int64(job->state, "fallback", "attempts", NULL);
  out->used = g_key_file_get_boolean(job->state, "fallback", "used", NULL);
  out->index = (guint) g_key_file_get_integer(job->state, "fallback", "index", NULL);
}

gboolean scand_job_use_fallback(ScandJob *job, GError **error) {
  g_autoptr(GHashTable) config = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) keys = g_key_file_get_keys(job->state, "fallback", NULL, NULL);
  for (guint k = 0; keys && keys[k]; k++)
    if (g_str_has_prefix(keys[k], "config."))
      g_hash_table_insert(config, g_strdup(keys[k] + strlen("config.")),
                          g_key_file_get_string(job->state, "fallback", keys[k], NULL));
  g_autofree char *name = g_key_file_get_string(job->state, "fallback", "output", NULL);
  g_key_file_set_boolean(job->state, "fallback", "used", TRUE);
  g_key_file_set_integer(job->state, "fallback", "index", (int) scand_job_get_n_destinations(job));
  return scand_job_add_destination(job, name, config, error) && scand_job_save(job, error);
}

gboolean scand_job_take_document(ScandJob *job, const char *pdf, GError **error) {
  g_autofree char *tmp = g_strdup_printf("%s.part", job->pdf_path);
  g_autoptr(GFile) src = g_file_new_for_path(pdf);
  g_autoptr(GFile) dst = g_file_new_for_path(tmp);
  if (!g_file_copy(src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, error))
    return FALSE;
  return scand_fs_commit(tmp, job->pdf_path, error);
}

void scand_job_set_keep(ScandJob *job, const char *reason) {
  scand_job_set(job, "keep", reason);
}

const char *scand_job_get_keep(ScandJob *job) {
  return scand_job_get(job, "keep");
}

static gboolean job_remove(ScandJob *job, gboolean sync, GError **error) {
  const char *spool_dir = scand_spool_get_dir(job->spool);
  g_autofree char *gone = g_strdup_printf("%s/.gone-%s", spool_dir, job->id);
  if (rename(job->dir, gone) < 0)
    return scand_fs_error_errno(error, errno, "cannot remove job %s", job->dir);
  if (sync && !scand_fs_fsync_dir(spool_dir, error))
    return FALSE;
  scand_fs_remove_tree(gone);
  return TRUE;
}

gboolean scand_job_remove(ScandJob *job, GError **error) {
  return job_remove(job, TRUE, error);
}

gboolean scand_job_remove_finished(ScandJob *job, GError **error) {
  g_autofree char *base = g_path_get_basename(job->dir);
  if (g_str_has_prefix(base, FINISHED_PREFIX)) {
    scand_fs_remove_tree(job->dir);
    return TRUE;
  }
  return job_remove(job, FALSE, error);
}

gboolean scand_job_finish_deferred(ScandJob *job, GError **error) {
  g_autofree char *dir = g_strdup_printf("%s/" FINISHED_PREFIX "%s", scand_spool_get_dir(job->spool), job->id);
  if (rename(job->dir, dir) < 0)
    return scand_fs_error_errno(error, errno, "cannot finish job %s", job->dir);
  job_set_dir(job, g_steal_pointer(&dir));
  return TRUE;
}

ScandJob *scand_job_open_finished(ScandSpool *spool, const char *name, GError **error) {
  if (!g_str_has_prefix(name, FINISHED_PREFIX) || !job_id_valid(name + strlen(FINISHED_PREFIX), error)) {
    if (error && !*error)
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "not a finished job: %s", name);
    return NULL;
  }
  g_autofree char *dir = g_build_filename(scand_spool_get_dir(spool), name, NULL);
  g_autoptr(ScandJob) job = job_new(spool, name + strlen(FINISHED_PREFIX), dir);
  if (!job_lock(job, error) || !job_load(job, error))
    return NULL;
  return g_steal_pointer(&job);
}
