/* Analysed pages into a PDF: the page file as it is (turned by the page) or
 * its re-encoded image, with the text layer. */
#include "scand/core/page-process.h"
#include "scand/core/pdf.h"

gboolean scand_page_part_add_to_pdf(const ScandPagePart *part, GPtrArray *paths, GPtrArray *analyses, double dpi,
                                    ScandPdf *pdf, GError **error) {
  return scand_page_part_add_to_pdf_at(part, paths, analyses, dpi, NULL, pdf, error);
}

gboolean scand_page_part_add_to_pdf_at(const ScandPagePart *part, GPtrArray *paths, GPtrArray *analyses, double dpi,
                                       const double *page_dpi, ScandPdf *pdf, GError **error) {
  for (guint k = 0; k < part->pages->len; k++) {
    guint i = g_array_index(part->pages, guint, k);
    const ScandPageAnalysis *a = i < analyses->len ? analyses->pdata[i] : NULL;
    const char *file = a && a->image ? a->image : paths->pdata[i];
    ScandPdfPageExtras extras = {
      .rotate = a && !a->image ? a->rotation : 0,
      .text = a ? a->text : NULL,
      .dpi = page_dpi && !(a && a->image) ? page_dpi[i] : 0,
      .compact = TRUE,
    };
    if (!scand_pdf_add_page(pdf, file, a && a->image ? a->image_dpi : dpi, &extras, error))
      return FALSE;
  }
  return TRUE;
}
