/* Mail intake in the daemon: one SMTP listener per [intake] section of type
 * smtp, and the routing of accepted mail into jobs, which the daemon runs
 * on its delivery queue. */
#pragma once

#include <glib.h>
#include "scand/base/config.h"
#include "scand/core/spool.h"

G_BEGIN_DECLS

typedef struct ScandMailIntake ScandMailIntake;

typedef struct {
  /* A message was accepted: route it soon (any thread). */
  void (*accepted)(const char *queue_id, gpointer user_data);
  /* One line for the log (any thread). */
  void (*log)(const char *line, gpointer user_data);
  gpointer user_data;
} ScandMailIntakeHooks;

/* Starts a listener for each [intake] of type smtp. NULL without error when
 * there is none and no mail is waiting in the spool. hooks must outlive the
 * intake. */
ScandMailIntake *scand_mail_intake_new(ScandConfig *config, ScandSpool *spool, const ScandMailIntakeHooks *hooks,
                                       GError **error);

/* A new configuration: listeners take their section's new policy; an intake
 * added or removed, or a changed listen address, takes a restart (logged). */
void scand_mail_intake_reload(ScandMailIntake *intake, ScandConfig *config);

/* Routes the accepted message queue_id (NULL: every one waiting, oldest
 * first, and forgets envelopes past the dedup window) into jobs; appends the
 * ids of the jobs made to job_ids. One thread at a time (the delivery queue). */
void scand_mail_intake_route(ScandMailIntake *intake, ScandConfig *config, const char *queue_id, GPtrArray *job_ids);

/* Stops the listeners (sessions end with 421) and waits for their sessions.
 * Accepts NULL. */
void scand_mail_intake_free(ScandMailIntake *intake);

G_END_DECLS
