/* Received mail becomes jobs: an accepted message (mail-spool.h) is read with
 * GMime, its documents are taken (mail-attachments.h), and it is routed by
 * the rules once per recipient.
 *
 * A job is one document: one per attachment (split = per-attachment, the
 * default: copiers send one scan per file) or all attachments in one
 * (split = per-message). Recipients whose rule (and, when the rule's name
 * uses {recipient}, whose address) is the same share a job; others get their
 * own, so mail to finance@ and anna@ lands on the finance share and in
 * Anna's folder. Jobs carry the mail facts: mail-from, mail-to, subject,
 * client-ip, auth-user, attachment, intake, message-id.
 *
 * Exactly once: the jobs are made inside the message's directory, recorded
 * in its envelope in one write, and only then moved into the spool. A crash
 * before that write leaves no job in the spool (routing starts over and
 * drops the half-made ones); a crash after it finishes the moves. */
#pragma once

#include <glib.h>
#include "scand/base/config.h"
#include "scand/core/mail-spool.h"
#include "scand/core/spool.h"

G_BEGIN_DECLS

/* Routes one accepted message; appends to job_ids (newly allocated strings)
 * the jobs that entered the spool now. A message that cannot become any job
 * (no usable attachment, every document broken) goes to the error area,
 * spool/intake-errors/ID.eml with ID.reason.txt: FALSE with SCAND_ERROR_INVAL
 * and the reason. Any other failure leaves the message pending for the next
 * try. A message routed before is only finished. */
gboolean scand_mail_route(ScandMailSpool *mail_spool, const char *queue_id, ScandConfig *config, ScandSpool *spool,
                          GPtrArray *job_ids, GError **error);

/* The error area of a spool directory (newly allocated). */
char *scand_mail_route_error_dir(ScandSpool *spool);

G_END_DECLS
