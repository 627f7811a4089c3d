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

G_END_DECLS
