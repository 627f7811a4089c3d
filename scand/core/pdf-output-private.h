/* The file a PDF is saved into: libhpdf writes the document structure
 * through a buffer, and the image streams whose bytes are the page files'
 * own are copied by the kernel from those files (pdf-output.c). */
#pragma once

#include <glib.h>
#include <hpdf.h>

G_BEGIN_DECLS

typedef struct PdfOutput PdfOutput;

/* An output appending to fd (not owned, not closed). Free with
 * pdf_output_free(). */
PdfOutput *pdf_output_new(int fd);

/* Frees out (what is still buffered is dropped). Accepts NULL. */
void pdf_output_free(PdfOutput *out);

/* libhpdf's write callback for an HPDF_CallbackWriter_New() stream whose
 * data is a PdfOutput. */
HPDF_STATUS pdf_output_write(HPDF_Stream stream, const HPDF_BYTE *ptr, HPDF_UINT siz);

/* Appends length bytes of in_fd from offset, in the kernel where it can
 * (copy_file_range), and drops the next length bytes written through
 * pdf_output_write() (libhpdf writes the stream it read from the same
 * file). 0 on success, else the errno; *source_failed says whether reading
 * in_fd failed (EIO when it ended early) rather than writing the output. */
int pdf_output_splice(PdfOutput *out, int in_fd, goffset offset, goffset length, gboolean *source_failed);

/* Writes what is buffered. 0 on success, else the errno of the first write
 * that failed (also one that failed before). */
int pdf_output_finish(PdfOutput *out);

G_END_DECLS
