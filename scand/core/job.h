/* A job is one document on its way from a source to its destinations.
 *
 * It lives in spool/<id>/: job.ini (settings, facts, stage and per-destination
 * delivery state), page-NNNN.* (pages, see scand/page.h) and document.pdf once
 * assembled. Every change is written with write-temp, fsync, rename, fsync dir,
 * so a job can be resumed after a crash at any instant. A job is locked
 * (flock on its directory) by the one process working on it. */
#pragma once

#include <glib.h>
#include "scand/base/config.h"
#include "scand/base/facts.h"
#include "scand/base/page.h"
#include "scand/core/spool.h"
#include "outputs/output.h"

G_BEGIN_DECLS

typedef enum {
  SCAND_JOB_SCANNING,  /* pages arriving */
  SCAND_JOB_SCANNED,   /* all pages in, no PDF yet */
  SCAND_JOB_ASSEMBLED, /* document.pdf written; delivering */
  SCAND_JOB_DONE,      /* every destination confirmed */
  SCAND_JOB_FAILED,    /* a destination failed for good; kept for `scand retry` */
} ScandJobStage;

typedef enum {
  SCAND_DEST_PENDING,
  SCAND_DEST_RETRY,
  SCAND_DEST_DONE,
  SCAND_DEST_FAILED,
  SCAND_DEST_SUPERSEDED, /* given up for the rule's fallback, which delivered */
} ScandDestState;

typedef struct ScandJob ScandJob;

/* Creates a new locked job in the spool (stage SCANNING), durable. Caller
 * frees. */
ScandJob *scand_job_create(ScandSpool *spool, GError **error);

/* Group commit, for many jobs made at once: a new locked job (stage
 * SCANNING) staged under the spool's ".new-ID", where nobody sees it and its
 * files (job.ini too) are written without fsync; scand_job_publish() gives
 * it its name once a file-system barrier (scand_fs_sync_file_system() of the
 * spool) made them durable, and one fsync of the spool covers every job
 * published since. A crash before that leaves only a ".new-ID", which the
 * next scand_spool_open() removes. Caller frees. */
ScandJob *scand_job_create_staged(ScandSpool *spool, GError **error);

/* Whether job is staged and not published yet. */
gboolean scand_job_is_staged(ScandJob *job);

/* Renames a staged job to its id (no fsync: see scand_job_create_staged()). */
gboolean scand_job_publish(ScandJob *job, GError **error);
/* Opens and locks an existing job; SCAND_ERROR_BUSY if another process holds it,
 * SCAND_ERROR_NOT_FOUND if there is no such job. */
ScandJob *scand_job_open(ScandSpool *spool, const char *id, GError **error);
/* Reads an existing job without locking it, for display only (`scand jobs`):
 * never save or deliver through it. */
ScandJob *scand_job_peek(ScandSpool *spool, const char *id, GError **error);
/* Whether this process holds the job's lock. */
gboolean scand_job_is_locked(ScandJob *job);
/* Unlocks and frees (the job stays in the spool). Accepts NULL. */
void scand_job_free(ScandJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandJob, scand_job_free)

const char *scand_job_get_id(ScandJob *job);
const char *scand_job_get_dir(ScandJob *job);
/* spool/<id>/document.pdf; owned by the job. */
const char *scand_job_get_pdf_path(ScandJob *job);

ScandJobStage scand_job_get_stage(ScandJob *job);
const char *scand_job_stage_to_string(ScandJobStage stage);
/* Sets the stage and saves the job durably. */
gboolean scand_job_set_stage(ScandJob *job, ScandJobStage stage, GError **error);

/* The job's facts (scand/base/facts.h): a view whose strings live as long as
 * the job; the next get refreshes the same struct. set takes every fact but
 * the fixed ones (id, created) and only changes memory until
 * scand_job_save(); to change one, copy the view, change the field, set. */
const ScandJobFacts *scand_job_get_facts(ScandJob *job);
void scand_job_set_facts(ScandJob *job, const ScandJobFacts *facts);

/* One value by its key, as text: a fact of the facts table ("interrupted",
 * "pages": typed, as scand_job_get_facts() sees it) or a key a module keeps
 * for its own bookkeeping (stored as it is). For code that holds the key as
 * data; typed facts are better read through scand_job_get_facts(). get
 * returns NULL when unset (owned by the job); set NULL unsets; memory only
 * until scand_job_save(). The int forms parse and print decimal. */
const char *scand_job_get(ScandJob *job, const char *key);
void scand_job_set(ScandJob *job, const char *key, const char *value);
gint64 scand_job_get_int(ScandJob *job, const char *key, gint64 def);
void scand_job_set_int(ScandJob *job, const char *key, gint64 value);

/* Saves job.ini: durably, but for a staged job (scand_job_create_staged())
 * and one whose durability is deferred. */
gboolean scand_job_save(ScandJob *job, GError **error);

/* Saves job.ini durably even when deferred: for what must be on disk before
 * an outside effect (a delivery's recorded target). */
gboolean scand_job_save_durable(ScandJob *job, GError **error);

/* Group commit of outcomes: while deferred, scand_job_save() writes without
 * fsync; scand_job_run_deliver() records a delivery done by a driver that
 * finds its own attempt that way too (others stay durable at once: see
 * ScandOutputDriver), and leaves a job it finished for the caller. The caller
 * makes the spool durable with one barrier (scand_fs_sync_file_system()) for
 * all its jobs, then lets the drivers remove what a retry would have needed
 * (scand_job_run_settle()), then removes the finished jobs with
 * scand_job_remove_finished(). */
void scand_job_defer_durability(ScandJob *job, gboolean defer);
gboolean scand_job_durability_deferred(ScandJob *job);

/* A sink that writes the job's next pages into the spool (owned by the job). */
ScandPageSink *scand_job_get_page_sink(ScandJob *job);
/* Number of committed pages. */
guint scand_job_count_pages(ScandJob *job);

/* Destinations: output name and a snapshot of its configuration (so that a
 * resumed job delivers where it was meant to even if the config changed).
 * Like scand_job_set(), changes memory only until the next save. */
gboolean scand_job_add_destination(ScandJob *job, const char *output_name, GHashTable *output_config, GError **error);
guint scand_job_get_n_destinations(ScandJob *job);
const char *scand_job_get_destination_name(ScandJob *job, guint index);
ScandDestState scand_job_get_destination_state(ScandJob *job, guint index);
const char *scand_dest_state_to_string(ScandDestState state);
/* The destination's delivery handle (owned by the job). */
ScandDelivery *scand_job_get_delivery(ScandJob *job, guint index);
/* Records an attempt's outcome in memory only (until scand_job_save()). */
void scand_job_note_destination_result(ScandJob *job, guint index, ScandDestState state, const char *message);
/* Records an attempt's outcome (saved as scand_job_save() saves). */
gboolean scand_job_set_destination_result(ScandJob *job, guint index, ScandDestState state, const char *message,
                                          GError **error);
gint64 scand_job_get_destination_attempts(ScandJob *job, guint index);
const char *scand_job_get_destination_error(ScandJob *job, guint index);
/* When a destination waiting to retry is tried next (unix seconds; 0 when
 * it is not waiting). */
gint64 scand_job_get_destination_next_attempt(ScandJob *job, guint index);

/* Forgets the destinations and the fallback of a job none of whose
 * destinations was attempted yet (routing again once the page count is
 * known). FALSE with SCAND_ERROR_BUSY if one was. Memory only until saved. */
gboolean scand_job_clear_destinations(ScandJob *job, GError **error);

/* The rule's fallback: an output used only when a destination keeps failing
 * (after attempts failed attempts, or after seconds of retrying; either may be
 * 0 = not by that measure; a destination that failed for good qualifies at
 * once). Kept in memory until the next save. */
gboolean scand_job_set_fallback(ScandJob *job, const char *output_name, GHashTable *output_config, gint64 after_seconds,
                                gint64 attempts, GError **error);

/* A new locked job (stage SCANNING) with from's settings, facts and
 * destinations, none attempted: for a document split off from's batch.
 * Saved before it is returned. Caller frees. */
ScandJob *scand_job_create_sibling(ScandJob *from, GError **error);

/* Copies an existing PDF into the job as its document.pdf, durably (the
 * source is left alone). */
gboolean scand_job_take_document(ScandJob *job, const char *pdf, GError **error);

/* Keeps the job in the spool after its last delivery while reason holds
 * (NULL releases it). "source": the watched file the job was made from may
 * still be in its folder, and this job is the record that stops it from being
 * taken a second time; whoever disposes of the file releases the job. A kept
 * job whose destinations are all done stays with stage DONE. Memory only
 * until the next save. */
void scand_job_set_keep(ScandJob *job, const char *reason);
/* The reason the job is kept, or NULL (owned by the job). */
const char *scand_job_get_keep(ScandJob *job);

/* Removes a finished job from the spool (rename away, then delete). */
gboolean scand_job_remove(ScandJob *job, GError **error);

/* Like scand_job_remove() without the fsync of the spool, for a job whose
 * every destination is recorded done durably: one that comes back after a
 * power cut is only removed again. */
gboolean scand_job_remove_finished(ScandJob *job, GError **error);

/* Group commit: records that a deferred job is finished (every destination
 * done) by renaming it to ".done-ID" — no rewrite of job.ini, no fsync (the
 * caller's barrier). Listings leave it out; once its drivers have settled
 * (scand_job_run_settle()), scand_job_remove_finished() removes it, and
 * after a crash scand_spool_resume_all() does both. */
gboolean scand_job_finish_deferred(ScandJob *job, GError **error);

/* Opens and locks a finished job by its directory's name (".done-ID"). */
ScandJob *scand_job_open_finished(ScandSpool *spool, const char *name, GError **error);

G_END_DECLS
