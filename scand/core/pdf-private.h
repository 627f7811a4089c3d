/* PDF engine internals exposed for tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* libhpdf's own heap use, counted by the allocator every ScandPdf passes to
 * HPDF_NewEx (process-wide, all documents together). */
gsize scand_pdf_private_get_hpdf_current(void);
gsize scand_pdf_private_get_hpdf_peak(void);
/* Sets the peak back to the current use. */
void scand_pdf_private_reset_hpdf_peak(void);

/* Whether the first 256 KiB of the JPEG file path shrink by at least
 * min_saving (0.05 = 5 %) under Flate (pdf-compact.c); FALSE when the file
 * cannot be read. */
gboolean scand_pdf_private_jpeg_deflates(const char *path, double min_saving);

G_END_DECLS
