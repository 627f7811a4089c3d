/* The file a PDF is saved into.
 *
 * libhpdf copies an image stream from its reader to the output 4 KiB at a
 * time: for a 200-page document that is 60 000 reads and 60 000 writes, and
 * every byte of every page crosses user space twice. Most image streams
 * are a page file's bytes unchanged (a JPEG as the scanner sent it), so the
 * reader of such a stream asks this output to copy the whole range at once
 * with copy_file_range(2) (no user-space copy; a reflink on file systems
 * that share extents), and the bytes libhpdf then writes for it are
 * dropped. Everything else (the document structure, deflated or converted
 * streams) goes through one 256 KiB buffer. */
#include "scand/core/pdf-output-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define BUFFER_SIZE (256 * 1024)

struct PdfOutput {
  int fd;
  guint8 *buffer;
  gsize used;
  guint64 skip; /* bytes still to drop: the stream last spliced */
  int failed;   /* errno of the first write that failed */
};

PdfOutput *pdf_output_new(int fd) {
  PdfOutput *out = g_new0(PdfOutput, 1);
  out->fd = fd;
  out->buffer = g_malloc(BUFFER_SIZE);
  return out;
}

void pdf_output_free(PdfOutput *out) {
  if (!out)
    return;
  g_free(out->buffer);
  g_free(out);
}

/* Writes all of data to the output; 0 or the errno. */
static int write_all(PdfOutput *out, const guint8 *data, gsize len) {
  while (len > 0) {
    ssize_t n = write(out->fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? errno : EIO;
    data += n;
    len -= (gsize) n;
  }
  return 0;
}

int pdf_output_finish(PdfOutput *out) {
  if (!out->failed && out->used > 0)
    out->failed = write_all(out, out->buffer, out->used);
  out->used = 0;
  return out->failed;
}

HPDF_STATUS pdf_output_write(HPDF_Stream stream, const HPDF_BYTE *ptr, HPDF_UINT siz) {
  PdfOutput *out = stream->attr;
  gsize len = siz;
  gsize dropped = (gsize) MIN((guint64) len, out->skip);
  out->skip -= dropped;
  ptr += dropped;
  len -= dropped;
  if (!out->failed && out->used + len > BUFFER_SIZE)
    pdf_output_finish(out);
  if (!out->failed && len >= BUFFER_SIZE)
    out->failed = write_all(out, ptr, len);
  else if (!out->failed && len > 0) {
    memcpy(out->buffer + out->used, ptr, len);
    out->used += len;
  }
  return out->failed ? HPDF_SetError(stream->error, HPDF_FILE_IO_ERROR, (HPDF_STATUS) out->failed) : HPDF_OK;
}

/* Whether a copy_file_range() error says the output cannot take more: any
 * other error may be the source's or the kernel's refusal to copy between
 * these files, and the plain loop then tells which. */
static gboolean output_full(int errsv) {
  return errsv == ENOSPC || errsv == EDQUOT || errsv == EFBIG;
}

/* Copies what copy_file_range() did not through the buffer. */
static int copy_by_reading(PdfOutput *out, int in_fd, goffset offset, guint64 length, gboolean *source_failed) {
  while (length > 0) {
    ssize_t n = pread(in_fd, out->buffer, (gsize) MIN(length, (guint64) BUFFER_SIZE), offset);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) { /* 0: the file shrank since the page was added */
      *source_failed = TRUE;
      return n < 0 ? errno : EIO;
    }
    int errsv = write_all(out, out->buffer, (gsize) n);
    if (errsv)
      return errsv;
    offset += n;
    length -= (guint64) n;
  }
  return 0;
}

int pdf_output_splice(PdfOutput *out, int in_fd, goffset offset, goffset length, gboolean *source_failed) {
  *source_failed = FALSE;
  if (pdf_output_finish(out))
    return out->failed;
  guint64 left = (guint64) length;
  loff_t from = offset;
  int errsv = 0;
  while (left > 0) {
    ssize_t n = copy_file_range(in_fd, &from, out->fd, NULL, (gsize) MIN(left, (guint64) G_MAXSSIZE), 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && output_full(errno)) {
      errsv = errno;
      break;
    }
    if (n <= 0) {
      errsv = copy_by_reading(out, in_fd, from, left, source_failed);
      left = 0;
      break;
    }
    left -= (guint64) n;
  }
  if (errsv && !*source_failed)
    out->failed = errsv;
  out->skip += (guint64) length;
  return errsv;
}
