/* Page processing for jobs: the profile's processing keys (copied into the
 * job) run on each page as soon as it is in the spool, by the worker pool,
 * and each page's analysis is kept beside it (page-NNNN.info) so that a job
 * resumed after a crash is assembled from what was found, re-analysing only
 * the pages that have no record. */
#pragma once

#include <glib.h>

#include "scand/base/config.h"
#include "scand/core/job.h"
#include "scand/core/page-process.h"
#include "scand/core/pdf.h"

G_BEGIN_DECLS

typedef struct ScandJobPages ScandJobPages;

/* The job's processing, or NULL when it asks for none (error stays unset) or
 * its keys are bad (error set). */
ScandJobPages *scand_job_pages_new(ScandJob *job, GError **error);
/* Queues page path (1-based number) for analysis; its record is written when done. */
void scand_job_pages_submit(ScandJobPages *jp, const char *path, guint number);
/* Every page's analysis in page order (from its record, else analysed now),
 * after waiting for the queued ones. Problems (a page that could not be
 * analysed and goes in as it is) are added to notes. */
GPtrArray *scand_job_pages_collect(ScandJobPages *jp, GPtrArray *pages, GPtrArray *notes);
const ScandSplit *scand_job_pages_get_split(ScandJobPages *jp);
ScandBlankAction scand_job_pages_get_blank(ScandJobPages *jp);
/* Every page file's analysis in order, now, without records (files taken
 * whole, not scanned); problems go to notes. */
GPtrArray *scand_job_pages_analyse(ScandJobPages *jp, GPtrArray *paths, GPtrArray *notes);
/* Copies a [profile]'s page processing keys (and mode = auto-detect) into
 * the job, so that it is processed as planned also when resumed. */
void scand_job_pages_copy_profile(ScandJob *job, ScandConfig *config, const char *profile);

/* Whether the job has any page processing key. */
gboolean scand_job_pages_wanted(ScandJob *job);

/* Waits for queued pages and frees. Accepts NULL. */
void scand_job_pages_free(ScandJobPages *jp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandJobPages, scand_job_pages_free)

G_END_DECLS
