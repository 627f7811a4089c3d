/* Fuzzes the streaming MTOM reader: the input's first line is the
 * Content-Type, the rest the body, fed in pieces whose sizes come from the
 * body's own bytes. Whatever the input, the parser ends with a result or a
 * one-line error, and never hands on more image bytes than it was fed. */
#include "backends/wsd-mtom.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  guint64 bytes;
  guint begins;
} Count;

static gboolean count_begin(const char *content_type, gpointer user, GError **error) {
  ((Count *) user)->begins++;
  return TRUE;
}

static gboolean count_write(const void *data, gsize len, gpointer user, GError **error) {
  ((Count *) user)->bytes += len;
  return TRUE;
}

static const WsdMtomSink sink = { count_begin, count_write };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', MIN(size, 2048));
  if (!nl)
    return 0;
  char *ct = g_strndup((const char *) data, nl - data);
  const uint8_t *body = nl + 1;
  gsize len = size - (nl + 1 - data);
  Count c = { 0 };
  GError *error = NULL;
  WsdMtom *m = wsd_mtom_new(ct, &sink, &c, &error);
  gboolean ok = m != NULL;
  for (gsize off = 0; ok && off < len;) {
    gsize piece = 1 + body[off] % 97;
    piece = MIN(piece, len - off);
    ok = wsd_mtom_feed(m, body + off, piece, &error);
    off += piece;
  }
  if (ok && wsd_mtom_finish(m, &error)) {
    g_assert_cmpuint(c.begins, ==, 1);
    g_assert_cmpuint(wsd_mtom_root(m)->len, >, 0);
  } else {
    g_assert_nonnull(error);
    g_assert_null(strchr(error->message, '\n'));
    g_clear_error(&error);
  }
  g_assert_cmpuint(c.begins, <=, 1);
  g_assert_cmpuint(c.bytes, <=, len);
  if (m)
    g_assert_cmpuint(wsd_mtom_image_bytes(m), ==, c.bytes);
  wsd_mtom_free(m);
  g_free(ct);
  return 0;
}
