/* Moving a job through its stages: scan → assemble → deliver, and resuming a
 * job that a crash or a reboot interrupted at any point. */
#pragma once

#include <glib.h>
#include "backends/backend.h"
#include "rules/rules.h"
#include "scand/core/job.h"
#include "scand/core/retry.h"
#include "scand/core/spool.h"

G_BEGIN_DECLS

/* Called while pages arrive (page is 1-based, bytes so far of that page) and at
 * each stage ("scanning", "assembling", "delivering", "done"). */
typedef void (*ScandJobProgressFunc)(const char *stage, guint page, guint64 bytes, gpointer user_data);

/* Gives the job its destinations: to (command-line --to, overrides the rule)
 * or the route's deliver list, and the route's fallback. "(default)" is the
 * built-in folder (~/Scans if it exists, else ./scans). Memory only: the
 * caller saves. */
gboolean scand_job_apply_route(ScandJob *job, ScandConfig *config, const ScandRoute *route, const char *const *to,
                               GError **error);

/* Scans pages from scanner into job until the normal end. On an error (jam,
 * cover open, I/O…) returns FALSE with the device's error; the pages already
 * saved stay in the job and its stage becomes SCANNED so that they are
 * assembled and delivered (the job records "interrupted" with the reason). A
 * job that got no page at all is removed from the spool. A device that sends
 * more pages than settings->page_limit, or a page larger than
 * settings->page_bytes_limit (0: SCAND_SCAN_*_DEFAULT), is refused the same way. */
gboolean scand_job_run_scan(ScandJob *job, ScandScanner *scanner, const ScandScanSettings *settings,
                            ScandJobProgressFunc progress, gpointer user_data, GError **error);

/* Page processing after the scan: every page's analysis (kept beside it),
 * which pages form the document (blank ones dropped, separators removed:
 * "document-pages"), facts "barcode", "blanks", "page-colors",
 * "page-notes"; each further document of a split batch becomes a job of its
 * own ("split-child-2", … name them; stage SCANNED, same destinations).
 * Does nothing when the job asks for no processing or was processed already.
 * Fails (pages kept) when no page is left for the document. */
gboolean scand_job_run_process(ScandJob *job, GError **error);

/* Puts a whole file (a watched file, a mail attachment) into the job as its
 * document: a PDF as it is, an image assembled; with the job's page
 * processing when its keys ask for it (scand_job_pages_copy_profile()),
 * also for a PDF made of JPEG pages, whose JPEGs keep their bytes. Facts:
 * barcode, blanks, pages, page-notes. */
gboolean scand_job_take_file(ScandJob *job, const char *path, GError **error);
/* The same, split at separator sheets when the job asks for it (split = …):
 * each further document goes into a new job (added to children, locked,
 * the caller's to free), named in this job as split-child-2, …, marked
 * split-pending: delivered only once promoted, which the caller does after
 * committing this job (scand_job_promote_split_child()); a pending job whose
 * parent was never committed is removed when resumed. */
gboolean scand_job_take_file_split(ScandJob *job, const char *path, GPtrArray *children, GError **error);
/* Makes a pending split document deliverable (stage assembled); one already
 * promoted is left alone. */
gboolean scand_job_promote_split_child(ScandJob *child, GError **error);
/* Promotes every pending document split off job when job says some may be
 * pending (split-pending-children, cleared once all are); a child that is
 * gone is fine, one that cannot be opened or saved is an error. The job's
 * delivery does this first, so a parent is never delivered and removed
 * while a document of its file is still pending. */
gboolean scand_job_promote_split_children(ScandJob *job, GError **error);

/* Like scand_job_take_file() for n files (n >= 1) that make one document, in
 * order (a mail's attachments): processed together when the job asks for
 * processing and each can be (an image of one page, a PDF of JPEG pages),
 * else kept as they are, concatenated (page-notes says why). */
gboolean scand_job_take_files(ScandJob *job, const char *const *paths, guint n, GError **error);

/* The jobs a split made of this job's batch, in order (ids; newly allocated). */
GStrv scand_job_get_split_children(ScandJob *job);
/* Opens one of them (id from the list above) for its parent's worker to
 * route and deliver. The delivery queue skips such a job while its parent is
 * locked, but may hold it for a moment to find that out: a busy child is
 * tried again for up to a second before SCAND_ERROR_BUSY. */
ScandJob *scand_job_open_split_child(ScandJob *parent, const char *id, GError **error);

/* Assembles the job's pages into document.pdf (options from the job's keys:
 * jpeg-quality, lossless, pdfa, title, resolution) and fixes the delivery name
 * from the job's "template". Stage SCANNED → ASSEMBLED. */
gboolean scand_job_run_assemble(ScandJob *job, GError **error);

/* Sets the job's delivery name from its "template" (the default scan
 * template when it has none) and pages. Memory only until saved. */
gboolean scand_job_run_set_name(ScandJob *job, guint pages, GError **error);

/* For a job whose document.pdf is in place (assembled, or taken from a file
 * or a mail): fixes the delivery name from the job's "template", records
 * pages, and moves the job to ASSEMBLED durably. */
gboolean scand_job_run_set_assembled(ScandJob *job, guint pages, GError **error);

/* After a deferred job's outcome became durable (scand_job_defer_durability()):
 * lets each driver remove what it left for a retry to find its delivery by. */
void scand_job_run_settle(ScandJob *job);

/* Tries every destination not yet done, once; one that asks to retry waits as
 * policy says (NULL = the defaults). Returns DONE when all are done
 * (the job is then removed from the spool), FAILED when at least one failed
 * for good and none is waiting to retry, else RETRY. Each destination's
 * outcome is recorded in the job; messages (may be NULL) gets one line per
 * destination that did not succeed. */
ScandDeliveryResult scand_job_run_deliver(ScandJob *job, const ScandRetryPolicy *policy, GPtrArray *messages,
                                          GError **error);

/* Where each destination that is done put the file, one line each: the
 * output's own words (a path, an smb:// URL) or "OUTPUT: name". Appended to
 * places as newly allocated strings. */
void scand_job_list_delivered(ScandJob *job, GPtrArray *places);

/* Advances a job from whatever stage it is in to the end (or to a retry wait). */
ScandDeliveryResult scand_job_run_resume(ScandJob *job, const ScandRetryPolicy *policy, GPtrArray *messages,
                                         GError **error);

/* Resumes every unlocked unfinished job in the spool (skipping FAILED ones and
 * those whose retry time has not come unless force). Returns the number of
 * jobs still waiting to be retried; *failed (may be NULL) gets the number of
 * jobs that failed for good and wait for `scand retry`; messages gets one
 * line per problem. */
guint scand_spool_resume_all(ScandSpool *spool, const ScandRetryPolicy *policy, gboolean force, GPtrArray *messages,
                             guint *failed);

G_END_DECLS
