/* The spool: a directory of jobs, the only place scand keeps state. */
#pragma once

#include <glib.h>
#include "scand/base/config.h"

G_BEGIN_DECLS

typedef struct ScandSpool ScandSpool;

/* The spool directory to use: [scand] spool in the config, else $SCAND_SPOOL
 * (the system unit sets /var/lib/scand/spool), else
 * $XDG_STATE_HOME/scand/spool. Newly allocated. */
char *scand_spool_default_dir(ScandConfig *config);

/* Opens (creating, mode 0700) a spool directory and cleans up what a crash can
 * leave behind (half-created and half-removed job directories). */
ScandSpool *scand_spool_open(const char *dir, GError **error);
void scand_spool_free(ScandSpool *spool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandSpool, scand_spool_free)

const char *scand_spool_get_dir(ScandSpool *spool);

/* Ids of the jobs in the spool, oldest first: every directory holding a
 * job.ini and every entry named like a job id (whose state may be unreadable:
 * scand_job_open() says). Newly allocated. */
GStrv scand_spool_list_jobs(ScandSpool *spool, GError **error);

/* The directory names of finished jobs not yet removed (".done-ID", see
 * scand_job_finish_deferred()); empty on error. */
GStrv scand_spool_list_finished(ScandSpool *spool);

/* Moves job id, whose state cannot be understood (SCAND_ERROR_CORRUPT), out
 * of the queue into spool/quarantine/, with reason (one line) beside it in
 * quarantine/<id>.reason. Nothing is deleted: a person fixes it and moves it
 * back, or removes it. Fails with SCAND_ERROR_BUSY while another process
 * holds the job. *where (may be NULL) gets its new path. */
gboolean scand_spool_quarantine(ScandSpool *spool, const char *id, const char *reason, char **where, GError **error);
/* spool/quarantine (it may not exist). Newly allocated. */
char *scand_spool_get_quarantine_dir(ScandSpool *spool);
/* Names of the quarantined jobs, oldest first. Newly allocated, never NULL. */
GStrv scand_spool_list_quarantined(ScandSpool *spool);
/* Why a job was quarantined, one line. Newly allocated. */
char *scand_spool_get_quarantine_reason(ScandSpool *spool, const char *name);

/* Takes the next number of the spool's durable sequence ({seq} in names). */
gboolean scand_spool_next_seq(ScandSpool *spool, guint *seq, GError **error);

G_END_DECLS
