/* Fuzz target: the page analysis entry point (scand_page_analyse with every
 * step on: OCR, orientation, blank, barcodes and patch codes, deskew, crop,
 * colour) on arbitrary image bytes, and the spool's text layer parser on
 * inputs that start like one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "scand/core/page-process.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dir;
static char *path;

static void remove_files(void) {
  g_unlink(path);
  g_autofree char *processed = g_strdup_printf("%s.processed.pnm", path);
  g_unlink(processed);
  g_rmdir(dir);
}

static void check_text(const uint8_t *data, size_t size) {
  g_autofree char *s = g_strndup((const char *) data, size);
  GError *error = NULL;
  ScandPdfText *text = scand_pdf_text_parse(s, &error);
  if (!text) {
    g_assert_nonnull(error);
    g_assert_null(strchr(error->message, '\n'));
    g_error_free(error);
    return;
  }
  /* What parses serialises to something that parses to the same words. */
  g_autofree char *again = scand_pdf_text_serialize(text);
  ScandPdfText *back = scand_pdf_text_parse(again, NULL);
  g_assert_nonnull(back);
  g_autofree char *a = scand_pdf_text_get_plain(text), *b = scand_pdf_text_get_plain(back);
  g_assert_cmpstr(a, ==, b);
  scand_pdf_text_free(back);
  scand_pdf_text_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 10 && memcmp(data, "scand-text", 10) == 0) {
    check_text(data, size);
    return 0;
  }
  if (!dir) {
    dir = g_dir_make_tmp("fuzz-page-XXXXXX", NULL);
    if (!dir)
      return 0;
    path = g_build_filename(dir, "page", NULL);
    atexit(remove_files);
  }
  if (!g_file_set_contents(path, (const char *) data, size, NULL))
    return 0;
  ScandPageOptions o = {
    .ocr = "eng",
    .ocr_timeout = 5,
    .rotate_auto = TRUE,
    .rotate_backs = 180,
    .blank = SCAND_BLANK_FLAG,
    .deskew = TRUE,
    .crop = TRUE,
    .color_detect = TRUE,
    .barcodes = TRUE,
  };
  GError *error = NULL;
  ScandPageAnalysis *a = scand_page_analyse(path, 2, &o, dir, &error);
  if (!a) {
    /* Every failure says what went wrong, on one line. */
    g_assert_nonnull(error);
    g_assert_null(strchr(error->message, '\n'));
    g_error_free(error);
    return 0;
  }
  g_assert_true(a->rotation % 90 == 0 && a->rotation >= 0 && a->rotation < 360);
  g_assert_nonnull(a->barcodes);
  if (a->image)
    g_assert_true(g_file_test(a->image, G_FILE_TEST_IS_REGULAR));
  g_autofree char *what = scand_page_analysis_describe(a);
  g_assert_nonnull(what);
  scand_page_analysis_free(a);
  return 0;
}
