/* Page-level merging of existing PDF files with libqpdf: concatenation, free
 * reordering, and collation of a simplex feeder's two passes into a
 * double-sided document.
 *
 * Pages are copied, never re-encoded: scanned images keep their bytes.
 * Encrypted inputs are refused (copying their pages would silently drop the
 * protection). Outputs are written atomically (temporary file beside the
 * output, fsync, rename, fsync of the directory); after a failure no output
 * and no temporary file is left, and an existing output is untouched. The
 * output may be one of the inputs.
 *
 * Errors are SCAND_ERROR: INVAL for a file that is not a PDF, is damaged
 * beyond qpdf's repair, or asks for a page that does not exist; DENIED for
 * an encrypted file; NOT_FOUND for a missing input or output directory; IO
 * for a failing read or write. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Upper bound of pages in one input or output document; qpdf needs a few
 * kilobytes per page, and a hostile file can claim a page per 6 bytes. */
#define SCAND_PDF_MERGE_MAX_PAGES 10000u

/* One page of the output: page (0-based) of inputs[input]. */
typedef struct {
  guint input;
  guint page;
} ScandPdfPageRef;

/* Writes output made of n_pages pages taken from inputs (NULL-terminated
 * array of paths) in the order given; a page may appear more than once.
 * Errors name the file and what is wrong ("scan.pdf: not a PDF",
 * "backs.pdf: page 7 does not exist (it has 5 pages)", "fronts.pdf is
 * encrypted"). Nothing returned is owned by the caller. */
gboolean scand_pdf_merge(const char *const *inputs, const ScandPdfPageRef *order, guint n_pages, const char *output,
                         GError **error);

/* Stores the number of pages of the PDF at path in *pages. */
gboolean scand_pdf_count_pages(const char *path, guint *pages, GError **error);

/* Reads the PDF at path as scand_pdf_count_pages() does (pages may be NULL);
 * without repair, a cross-reference table or an object that qpdf would have
 * to reconstruct is an error (a file whose writer has not finished). */
gboolean scand_pdf_check_readable(const char *path, gboolean repair, guint *pages, GError **error);

/* Collates two simplex passes: fronts holds the front sides 1, 3, 5, ... in
 * order, backs the back sides in reverse order (the stack was turned over), so
 * the output is f1, bN, f2, bN-1, ..., fN, b1. Both files must have the same
 * number of pages. */
gboolean scand_pdf_collate_double_sided(const char *fronts, const char *backs, const char *output, GError **error);

/* Writes output made of all pages of all inputs (NULL-terminated), in order. */
gboolean scand_pdf_concatenate(const char *const *inputs, const char *output, GError **error);

G_END_DECLS
