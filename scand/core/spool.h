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

/* Ids of the jobs in the spool, oldest first. Newly allocated. */
GStrv scand_spool_list_jobs(ScandSpool *spool, GError **error);

/* Takes the next number of the spool's durable sequence ({seq} in names). */
gboolean scand_spool_next_seq(ScandSpool *spool, guint *seq, GError **error);

G_END_DECLS
