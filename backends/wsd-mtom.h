/* MTOM/XOP replies (multipart/related, RFC 2387 and 2046) read as a stream:
 * WS-Scan's RetrieveImage answers with a SOAP root part and the image as a
 * binary part. The root part is kept (it is small, capped); the image part
 * goes to a sink as its bytes arrive, so a page is never held in memory and
 * reaches the spool while the device is still sending it.
 *
 * Why not GMime: its parser reads a whole message from a stream it pulls;
 * here libcurl pushes the reply in pieces and each piece must reach the page
 * sink at once. This parser is small, pure (bytes in, callbacks out) and has
 * a fuzzer (tests/fuzz/fuzz-wsd-mtom.c).
 *
 * What is accepted: boundaries with or without the CRLF before them (some
 * devices leave it out), transport padding after a boundary, LF-only line
 * ends, Content-Transfer-Encoding binary, 8bit, 7bit or base64, the root part
 * named by the start parameter (else the first part), the image part before or
 * after it. Refused with one line (SCAND_ERROR_INVAL): no boundary parameter,
 * part headers over 16 KiB, a root part over 1 MiB, another transfer encoding,
 * a reply that ends before its closing boundary, no root or no image part. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WSD_MTOM_ROOT_MAX (1024 * 1024)
#define WSD_MTOM_HEADERS_MAX (16 * 1024)

/* Where the image part goes. begin() runs once, when the image part's headers
 * are read (content_type may be NULL); write() gets its decoded bytes in
 * order. Either may fail; the error is then the parser's. */
typedef struct {
  gboolean (*begin)(const char *content_type, gpointer user, GError **error);
  gboolean (*write)(const void *data, gsize len, gpointer user, GError **error);
} WsdMtomSink;

typedef struct WsdMtom WsdMtom;

/* A parser for a reply whose Content-Type header is content_type. Fails when
 * it is not multipart or has no usable boundary. sink and user must outlive
 * the parser. Free with wsd_mtom_free(). */
WsdMtom *wsd_mtom_new(const char *content_type, const WsdMtomSink *sink, gpointer user, GError **error);
void wsd_mtom_free(WsdMtom *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WsdMtom, wsd_mtom_free)

/* Feeds the next len bytes of the body. */
gboolean wsd_mtom_feed(WsdMtom *m, const void *data, gsize len, GError **error);

/* The body has ended: TRUE when the message was complete (closing boundary,
 * a root part and an image part). */
gboolean wsd_mtom_finish(WsdMtom *m, GError **error);

/* The root part's bytes (a SOAP envelope), owned by m; empty until seen. */
const GByteArray *wsd_mtom_root(const WsdMtom *m);
/* The image part's Content-ID without angle brackets, or NULL. Owned by m. */
const char *wsd_mtom_image_id(const WsdMtom *m);
/* Decoded bytes handed to the sink. */
guint64 wsd_mtom_image_bytes(const WsdMtom *m);

/* The value of parameter name (any case) of a MIME header value such as
 * "multipart/related; boundary=\"x\"; start=\"<a>\"", unquoted, or NULL.
 * Newly allocated. */
char *wsd_mime_param(const char *header_value, const char *name);

G_END_DECLS
