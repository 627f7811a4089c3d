/* Is a file whole? Structural checks of the files scand takes from outside
 * (watched folders, mail attachments), because a file whose writer has not
 * finished (or gave up) looks just like one that is complete, except inside.
 *
 *   PDF   "%%EOF" at the end, "startxref" pointing at a cross-reference table
 *         or stream inside the file; then libqpdf reads that table as it is
 *         (scand_pdf_check_readable in pdf-merge.h)
 *   JPEG  the markers from SOI walk to EOI, every segment inside the file
 *   PNG   the chunks from the signature walk to IEND, every chunk inside
 *   TIFF  every IFD and every strip or tile inside the file (also BigTIFF)
 *   PNM   binary P4/P5/P6: the header, and as many raster bytes as it says
 *
 * Errors are SCAND_ERROR: UNSUPPORTED for a type scand does not take, INVAL
 * for a file that is incomplete or malformed (the message says which part is
 * missing), IO when reading fails. Messages are one line and do not name the
 * file: the caller does. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SCAND_FILE_UNKNOWN,
  SCAND_FILE_PDF,
  SCAND_FILE_JPEG,
  SCAND_FILE_PNG,
  SCAND_FILE_TIFF,
  SCAND_FILE_PNM,
} ScandFileType;

/* The type by magic number from the first bytes of a file (at least 8 are
 * needed to tell them all apart). */
ScandFileType scand_file_type_sniff(const guint8 *head, gsize len);

/* "pdf", "jpeg", "png", "tiff", "pnm" or "unknown". */
const char *scand_file_type_to_string(ScandFileType type);

/* Checks that the regular file open as fd (read with pread: the file offset
 * does not move) is complete as its type requires; *type (may be NULL) gets
 * the type found, also on failure. */
gboolean scand_file_check_complete(int fd, ScandFileType *type, GError **error);

G_END_DECLS
