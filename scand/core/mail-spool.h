/* Received mail in the spool, before it becomes jobs: spool/.intake/.
 *
 *   .intake/.draft-XXXXXX/message.eml   a message being received (locked by its
 *                                        receiver; a crash leaves it to be deleted)
 *   .intake/<key>/message.eml           accepted: committed before the 250 reply
 *   .intake/<key>/envelope.ini          who sent it to whom, its hashes, and its
 *                                        routing state
 *
 * The rule for the window between fsync and the 250 reply: a message is
 * accepted at the instant its draft directory is renamed to <key> (data and
 * envelope fsync'ed before, the .intake directory fsync'ed after), which is
 * immediately before the 250 is written. A crash before the rename keeps
 * nothing: the client saw no 250 and sends again. A crash after it and before
 * the 250 reaches the client leaves an accepted message the client will send
 * again: <key> is the SHA-256 of the envelope (sender, sorted recipients) and
 * of the Message-ID with the body (or of the whole message when it has no
 * Message-ID), and the rename onto an existing <key> fails, so the resend is
 * answered 250 ("already queued") and stored no second time. After routing,
 * <key>/ keeps only its envelope for the dedup window (default one day) so
 * that a late resend is still recognised.
 *
 * All writes are write-temp, fsync, rename, fsync-dir. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct ScandMailSpool ScandMailSpool;
typedef struct ScandMailDraft ScandMailDraft;

/* What the SMTP session knows about a message besides its bytes. */
typedef struct {
  const char *intake; /* [intake NAME] */
  const char *client_ip;
  const char *helo;      /* what the client called itself */
  const char *auth_user; /* NULL when not authenticated */
  gboolean tls;
  const char *mail_from;      /* "" for the null reverse path <> */
  const char *const *rcpt_to; /* NULL-terminated, at least one */
} ScandMailEnvelope;

/* Opens spool_dir/.intake (created 0700), removing drafts no live process
 * holds. Caller frees. */
ScandMailSpool *scand_mail_spool_open(const char *spool_dir, GError **error);
void scand_mail_spool_free(ScandMailSpool *spool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandMailSpool, scand_mail_spool_free)

const char *scand_mail_spool_get_dir(ScandMailSpool *spool);

/* Whether the spool's file system has room for a message of bytes (with
 * as much again for its documents), for SIZE= (RFC 1870: 452 when not). */
gboolean scand_mail_spool_has_room(ScandMailSpool *spool, guint64 bytes);

/* Starts a draft: an empty message file, locked. Caller frees (freeing an
 * uncommitted draft removes it). */
ScandMailDraft *scand_mail_draft_new(ScandMailSpool *spool, GError **error);
void scand_mail_draft_free(ScandMailDraft *draft);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandMailDraft, scand_mail_draft_free)

/* Appends message bytes as received after DATA (dot-unstuffed, CR LF kept),
 * in pieces of any size; memory use does not depend on them. Notes the
 * Message-ID and where the header ends as the bytes go by. */
gboolean scand_mail_draft_write(ScandMailDraft *draft, const char *data, gsize len, GError **error);
guint64 scand_mail_draft_get_size(ScandMailDraft *draft);
/* Lines of the message that start with "--" (MIME boundaries, roughly): a
 * bound on the parts a parser will find. */
guint scand_mail_draft_get_boundary_lines(ScandMailDraft *draft);
/* The draft's message file, for checks before it is committed. */
const char *scand_mail_draft_get_path(ScandMailDraft *draft);
/* Writes out what is buffered and fsyncs the message file. */
gboolean scand_mail_draft_sync(ScandMailDraft *draft, GError **error);

/* Commits a synced draft with its envelope (see the rule above). On TRUE
 * *queue_id (newly allocated) names the message; *duplicate says the same
 * message was already accepted, and the draft was dropped. */
gboolean scand_mail_draft_commit(ScandMailDraft *draft, const ScandMailEnvelope *envelope, char **queue_id,
                                 gboolean *duplicate, GError **error);

/* The short form of a queue id shown to people and clients (12 hex digits). */
char *scand_mail_queue_id_short(const char *queue_id);

/* Accepted messages not yet routed, oldest first (newly allocated). */
GStrv scand_mail_spool_list_pending(ScandMailSpool *spool, GError **error);

/* The directory of an accepted message (newly allocated). */
char *scand_mail_spool_message_dir(ScandMailSpool *spool, const char *queue_id);

/* Its envelope (newly allocated key file; group "message": intake,
 * client-ip, helo, auth-user, tls, mail-from, rcpt-to (list), size, sha256,
 * message-id, received; group "routing": state, jobs, reason). */
GKeyFile *scand_mail_spool_read_envelope(ScandMailSpool *spool, const char *queue_id, GError **error);
/* Replaces its envelope durably. */
gboolean scand_mail_spool_write_envelope(ScandMailSpool *spool, const char *queue_id, GKeyFile *envelope,
                                         GError **error);

/* Removes the envelopes of routed messages older than max_age seconds (the
 * dedup window). Returns how many were removed. */
guint scand_mail_spool_prune(ScandMailSpool *spool, gint64 max_age);

G_END_DECLS
