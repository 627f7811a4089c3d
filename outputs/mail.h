/* What the mail outputs (smtp, graph-mail) share: the mail of a scan — its
 * sender, recipients, subject and body from templates, the PDF attached and
 * the size limit — read once from a delivery, and the configuration checks of
 * those keys. How the mail then travels (MIME over SMTP, JSON to Microsoft
 * Graph) is each output's own business. */
#pragma once

#include <glib.h>
#include "outputs/output.h"
#include "scand/base/config.h"

G_BEGIN_DECLS

#define SCAND_MAIL_DEFAULT_SUBJECT "Scan from {device}: {name}"
#define SCAND_MAIL_DEFAULT_BODY "{pages} page(s) scanned on {device} at {date}.\nThe document is attached: {name}\n"

typedef struct {
  char *output;          /* the output's name, for messages */
  char *from;            /* the sender's address */
  GStrv to;              /* the recipients, at least one */
  char *reply_to;        /* a job from mail: its original sender (a plain address), or NULL */
  char *reply_to_name;   /* that sender's display name, cleaned (scand_mail_clean_display_name()), or NULL */
  char *subject;         /* expanded from the output's subject template */
  char *body;            /* expanded from the output's body template */
  char *file;            /* the PDF */
  char *attachment_name; /* its name in the mail */
  guint64 size;          /* its size in bytes */
  gint64 max_size;       /* the output's max-size; 0: no limit */
} ScandMail;

/* Reads the mail of delivery d. from_key names the sender's key ("from",
 * "sender"); default_max_size applies when max-size is not set (0: none).
 * A job that came by mail (the intake) is forwarded: its original sender
 * becomes the Reply-To (the From header's address, else the envelope's; the
 * display name cleaned), and with `envelope-to = true` its recipients are
 * the envelope's (a BCC-only mail too) instead of `to`.
 * Fails with SCAND_ERROR_INVAL (a missing sender or recipient, a malformed
 * max-size) or SCAND_ERROR_IO (the PDF cannot be read); the caller prefixes
 * the output's name. Newly allocated. */
ScandMail *scand_mail_load(ScandDelivery *d, const char *from_key, gint64 default_max_size, GError **error);
void scand_mail_free(ScandMail *mail);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandMail, scand_mail_free)

/* `config check` of the keys scand_mail_load() reads: the sender (from_key)
 * is required, and the recipients unless envelope-to = true (max-size is a
 * size key of the schema). */
void scand_mail_check(ScandConfig *config, const char *name, const char *from_key, GPtrArray *problems);

/* Whether addr is a plain address, safe in a header and in JSON: a dot-atom
 * local part (RFC 5322 atext and dots), "@", a domain of letters, digits,
 * dots and hyphens; at most 254 bytes. */
gboolean scand_mail_address_is_plain(const char *addr);

/* A display name fit for a forwarded mail: each "@" spelled " at " (an "@" in
 * a display name makes Exchange Online refuse the mail: ErrorSendAsDenied),
 * quotes, angle brackets, backslashes and control characters made spaces,
 * spaces collapsed, at most 64 characters. NULL when nothing is left or name
 * is not UTF-8. Newly allocated. */
char *scand_mail_clean_display_name(const char *name);

G_END_DECLS
