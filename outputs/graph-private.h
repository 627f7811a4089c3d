/* Pure parts of the Microsoft Graph outputs (outputs/graph.c), for tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Upload sessions take fragments that are multiples of 320 KiB; 10 × 320 KiB
 * stays under the 4 MB a single request may carry. */
#define SCAND_GRAPH_CHUNK_UNIT (320 * 1024)
#define SCAND_GRAPH_CHUNK (10 * SCAND_GRAPH_CHUNK_UNIT)
/* sendMail carries the attachment inline below this size (the request then
 * stays under 4 MB after base64). */
#define SCAND_GRAPH_INLINE_MAX (3 * 1024 * 1024)
/* Graph's limit on one request (sendMail, simple drive upload): "4 MB",
 * taken as the smaller, decimal reading. */
#define SCAND_GRAPH_REQUEST_MAX 4000000

/* Length of the fragment that starts at offset of a total-byte upload. */
gsize scand_graph_chunk_length(guint64 offset, guint64 total);
/* "bytes 0-3276799/5000000"; newly allocated. */
char *scand_graph_content_range(guint64 offset, gsize length, guint64 total);
/* The first offset of an upload session's nextExpectedRanges reply
 * ({"nextExpectedRanges": ["26-"]}); FALSE when the reply has none. */
gboolean scand_graph_parse_next_offset(const char *json, gsize len, guint64 *offset, GError **error);
/* The JSON of a message: {subject, body{contentType Text, content},
 * toRecipients[]}, with reply_to replyTo[{name (reply_to_name, may be
 * NULL), address}], and with attachment_name an inline fileAttachment of
 * data. For sendMail, wrap is TRUE: {"message": …, "saveToSentItems": true}.
 * Newly allocated. */
char *scand_graph_message_json(const char *subject, const char *body, const char *const *to, const char *reply_to,
                               const char *reply_to_name, const char *attachment_name, const guint8 *data, gsize len,
                               gboolean wrap, gsize *out_len);
/* The path segment of a drive item: every component percent-encoded, "/"
 * kept. Newly allocated. */
char *scand_graph_escape_path(const char *path);

G_END_DECLS
