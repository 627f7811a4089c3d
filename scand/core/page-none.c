/* Page processing in a build without the `ocr` feature (no Tesseract,
 * Leptonica or zbar): asking for any of it is a clear error, never a page
 * silently left unprocessed. */
#include "scand/core/page-process.h"

#include "scand/base/error.h"

gboolean scand_page_options_check(const ScandPageOptions *options, GError **error) {
  if (!scand_page_options_any(options))
    return TRUE;
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
              "page processing (OCR, rotate, blank, deskew, crop, mode = auto-detect, split) needs scand built with "
              "-Docr=enabled");
  return FALSE;
}

ScandPageAnalysis *scand_page_analyse(const char *path, guint number, const ScandPageOptions *options,
                                      const char *out_dir, GError **error) {
  scand_page_options_check(options, error);
  if (error && !*error)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s: page processing is not built in", path);
  return NULL;
}
