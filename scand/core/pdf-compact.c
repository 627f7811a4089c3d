/* Whether a JPEG file is worth wrapping in Flate inside the PDF.
 *
 * JPEG files written with the standard Huffman tables (most scanners, PIL,
 * libjpeg's defaults) code the long white runs of office pages with bytes
 * zlib still finds redundant: 10–12 % on a text page. A [/FlateDecode
 * /DCTDecode] stream keeps the JPEG bytes exactly as they were (Flate is
 * lossless; a reader gets the same bytes back before decoding the JPEG),
 * so this is not a re-encoding. ocrmypdf does the same in its default
 * optimisation. A sample of the file decides, so a file that does not shrink
 * (optimised Huffman tables, photos) costs only the sample. */
#include "scand/core/pdf-private.h"

#include <fcntl.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <zlib.h>

/* The sample: enough entropy-coded data to be typical, small enough to be
 * cheap (~2 ms). */
#define SAMPLE_BYTES (256 * 1024)

gboolean scand_pdf_private_jpeg_deflates(const char *path, double min_saving) {
  int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return FALSE;
  g_autofree guint8 *in = g_malloc(SAMPLE_BYTES);
  gsize n = 0;
  while (n < SAMPLE_BYTES) {
    ssize_t r = read(fd, in + n, SAMPLE_BYTES - n);
    if (r <= 0)
      break;
    n += (gsize) r;
  }
  close(fd);
  if (n < 1024)
    return FALSE;
  uLongf out_len = compressBound((uLong) n);
  g_autofree guint8 *out = g_malloc(out_len);
  if (compress2(out, &out_len, in, (uLong) n, Z_DEFAULT_COMPRESSION) != Z_OK)
    return FALSE;
  return (double) out_len <= (double) n * (1.0 - min_saving);
}
