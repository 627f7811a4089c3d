/* The page images of a PDF made of images (what scanners and scan-to-folder
 * write): for page processing of watched PDFs, whose JPEG pages are read and
 * put back with a text layer without being re-encoded. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *path; /* the page's JPEG, as its stream's bytes */
  double dpi; /* that keeps the page's size: image width / (MediaBox width / 72) */
} ScandPdfImagePage;

/* Writes each page's JPEG into dir as <prefix>-NNNN.jpg and returns the pages
 * in order (free with g_ptr_array_unref). Only PDFs whose every page is one
 * unrotated, unmasked DCTDecode image XObject qualify: anything else fails
 * with SCAND_ERROR_UNSUPPORTED (the caller keeps the PDF as it is); a PDF that
 * cannot be read fails with SCAND_ERROR_INVAL, one line naming it. */
GPtrArray *scand_pdf_images_extract(const char *pdf, const char *dir, const char *prefix, GError **error);

G_END_DECLS
