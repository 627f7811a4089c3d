/* The printer output's pure decisions, exposed for unit tests: what a
 * queue's and a job's IPP state mean for a delivery. */
#pragma once

#include <glib.h>
#include "outputs/output.h"

G_BEGIN_DECLS

/* Whether a job may be sent to a queue now, from its printer-state
 * (3 idle, 4 processing, 5 stopped), printer-is-accepting-jobs,
 * printer-state-message and printer-state-reasons (NULL-terminated, may be
 * NULL). Returns NULL when it may, else the cause as a newly allocated phrase
 * such as "is stopped: out of paper" (the caller says it is a RETRY). */
char *scand_print_queue_problem(int printer_state, gboolean accepting, const char *state_message,
                                const char *const *reasons);

/* What a job's job-state (3..9) and job-state-reasons mean. Returns DONE for
 * completed, FAILED for aborted or canceled (cause set, newly allocated), and
 * RETRY while the job is still pending, held or processing (*cause set only
 * when the job waits on a stopped printer, e.g. "is waiting because the
 * printer is stopped"). */
ScandDeliveryResult scand_print_job_outcome(int job_state, const char *const *reasons, const char *state_message,
                                            char **cause);

/* Whether an IPP status from cupsd is worth another attempt (server busy,
 * not accepting, internal error, connection lost) rather than permanent
 * (not found, forbidden, bad attributes). */
ScandDeliveryResult scand_print_status_outcome(int ipp_status);

/* Checks a CUPS queue name: 1..127 printable characters without space, '/',
 * '#', '\\', quotes. */
gboolean scand_print_queue_name_valid(const char *name);

G_END_DECLS
