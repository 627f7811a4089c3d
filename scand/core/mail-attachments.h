/* The documents in a received mail: attachments of type PDF, JPEG, PNG or
 * TIFF (also application/octet-stream and other generic types when the name
 * and the first bytes agree), read with GMime from the spool file without
 * loading it: parts are substreams of the file and are decoded straight to
 * disk, so memory does not grow with the message.
 *
 * A part is taken when its declared type (or name) and its magic bytes say
 * the same document type; executables, parts whose bytes contradict their
 * type, inline parts without a name and text bodies are not, and each such
 * part (except text bodies) is listed with the reason. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SCAND_ATTACHMENT_PDF,
  SCAND_ATTACHMENT_JPEG,
  SCAND_ATTACHMENT_PNG,
  SCAND_ATTACHMENT_TIFF,
} ScandAttachmentKind;

typedef struct {
  guint part;      /* position among the message's leaf parts, from 0: stable across readings */
  char *filename;  /* as the sender named it (decoded, UTF-8; unsafe: sanitise before use), or NULL */
  char *mime_type; /* as declared, lower case, e.g. "application/pdf" */
  ScandAttachmentKind kind;
} ScandAttachment;

typedef struct ScandReceivedMail ScandReceivedMail;

/* Parses the message in path (kept open while the ScandReceivedMail lives). Fails
 * only when the file cannot be read or is not a message at all. */
ScandReceivedMail *scand_received_mail_open(const char *path, GError **error);
/* The same over an open file descriptor (taken: closed by scand_received_mail_free). */
ScandReceivedMail *scand_received_mail_open_fd(int fd, GError **error);
void scand_received_mail_free(ScandReceivedMail *mail);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandReceivedMail, scand_received_mail_free)

/* Decoded header values (UTF-8, control characters replaced; owned by
 * mail; NULL when absent): Subject, the From address and display name,
 * Message-ID. */
const char *scand_received_mail_get_subject(ScandReceivedMail *mail);
const char *scand_received_mail_get_from_address(ScandReceivedMail *mail);
const char *scand_received_mail_get_from_name(ScandReceivedMail *mail);
const char *scand_received_mail_get_message_id(ScandReceivedMail *mail);

/* The usable attachments, in message order (ScandAttachment*, owned by mail). */
GPtrArray *scand_received_mail_get_attachments(ScandReceivedMail *mail);
/* One line per part that is not taken and why ("setup.exe: an executable"),
 * owned by mail. */
GPtrArray *scand_received_mail_get_skipped(ScandReceivedMail *mail);

/* Decodes attachment a into dest durably (temporary file, fsync, rename,
 * directory fsync) and checks that the file is complete for its type (PDF
 * %%EOF, JPEG end marker, PNG IEND, TIFF directory inside the file). At most
 * max_bytes are written (0: no limit). On failure nothing is left at dest. */
gboolean scand_received_mail_save_attachment(ScandReceivedMail *mail, const ScandAttachment *a, const char *dest,
                                             guint64 max_bytes, GError **error);

/* File extension for a kind ("pdf", "jpg", "png", "tif"). */
const char *scand_attachment_kind_extension(ScandAttachmentKind kind);

/* Whether the bytes at the start of a file are those of kind (pure). */
gboolean scand_attachment_magic_matches(ScandAttachmentKind kind, const guchar *head, gsize len);
/* Whether a file of kind whose first bytes are head and last bytes tail
 * (size bytes in all) is structurally complete; FALSE with *why (pure). */
gboolean scand_attachment_complete(ScandAttachmentKind kind, const guchar *head, gsize head_len, const guchar *tail,
                                   gsize tail_len, guint64 size, char **why);

G_END_DECLS
