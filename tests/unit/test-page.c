/* Page processing: the analysis entry point on hostile pages (a 30000 x 30000
 * image, a corrupt JPEG, a missing language pack), the split rules, and the
 * text layer and analysis records round-tripping through their text forms. */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <jpeglib.h>

#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/core/page-process.h"

typedef struct {
  char *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
  f->dir = g_dir_make_tmp("test-page-XXXXXX", NULL);
  g_assert_nonnull(f->dir);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
  scand_fs_remove_tree(f->dir);
  g_free(f->dir);
}

/* A gray JPEG of w x h, white with a black bar every 1000 rows, written row
 * by row so that a huge one needs no huge buffer. */
static void write_jpeg(const char *path, int w, int h) {
  FILE *fp = g_fopen(path, "wb");
  g_assert_nonnull(fp);
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, fp);
  c.image_width = w;
  c.image_height = h;
  c.input_components = 1;
  c.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 50, TRUE);
  c.density_unit = 1;
  c.X_density = c.Y_density = 300;
  jpeg_start_compress(&c, TRUE);
  g_autofree guint8 *white = g_malloc(w), *bar = g_malloc(w);
  memset(white, 255, w);
  memset(bar, 255, w);
  memset(bar + w / 10, 0, w / 2);
  for (int y = 0; y < h; y++) {
    JSAMPROW row = y % 1000 < 60 ? bar : white;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  fclose(fp);
}

static void test_huge_page(Fixture *f, gconstpointer data) {
  g_autofree char *path = g_build_filename(f->dir, "huge.jpg", NULL);
  write_jpeg(path, 30000, 30000);
  ScandPageOptions o = { .ocr = "eng", .blank = SCAND_BLANK_FLAG, .color_detect = TRUE, .barcodes = TRUE };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandPageAnalysis) a = scand_page_analyse(path, 1, &o, f->dir, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(a->note, "analysed at 1/8 size"));
  g_assert_false(a->blank);
  g_assert_cmpint(a->color, ==, SCAND_PAGE_COLOR_BW);
  /* The 1-bit page is written at the reduced size, never at 900 M pixels. */
  g_assert_nonnull(a->image);
  GStatBuf st;
  g_assert_cmpint(g_stat(a->image, &st), ==, 0);
  g_assert_cmpint(st.st_size, <, 3000 * 3800);
}

static void test_corrupt_jpeg(Fixture *f, gconstpointer data) {
  g_autofree char *good = g_build_filename(f->dir, "good.jpg", NULL);
  g_autofree char *bad = g_build_filename(f->dir, "bad.jpg", NULL);
  write_jpeg(good, 600, 800);
  gchar *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(good, &bytes, &len, NULL));
  for (gsize i = len / 3; i < len - 2; i += 7)
    bytes[i] = (char) (i * 31);
  g_assert_true(g_file_set_contents(bad, bytes, (gssize) len, NULL));
  g_free(bytes);
  ScandPageOptions o = { .blank = SCAND_BLANK_FLAG, .barcodes = TRUE };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandPageAnalysis) a = scand_page_analyse(bad, 1, &o, f->dir, &error);
  /* libjpeg may decode damaged data with warnings or fail: either a page or
   * one line naming the file, never a crash. */
  if (!a) {
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "bad.jpg"));
    g_assert_null(strchr(error->message, '\n'));
  }
  g_clear_error(&error);
  g_autofree char *cut = g_build_filename(f->dir, "cut.jpg", NULL);
  g_assert_true(g_file_get_contents(good, &bytes, &len, NULL));
  g_assert_true(g_file_set_contents(cut, bytes, 300, NULL));
  g_free(bytes);
  g_autoptr(ScandPageAnalysis) b = scand_page_analyse(cut, 1, &o, f->dir, &error);
  g_assert_null(b);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_nonnull(strstr(error->message, "cut.jpg"));
}

static void test_missing_language(Fixture *f, gconstpointer data) {
  g_autofree char *path = g_build_filename(f->dir, "p.jpg", NULL);
  write_jpeg(path, 600, 800);
  ScandPageOptions o = { .ocr = "eng+zzz" };
  g_autoptr(GError) error = NULL;
  g_assert_false(scand_page_options_check(&o, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "OCR language \"zzz\" is not installed (package tesseract-ocr-zzz)");
  g_clear_error(&error);
  /* A job made before the pack was removed still gets its page, without text. */
  g_autoptr(ScandPageAnalysis) a = scand_page_analyse(path, 1, &o, f->dir, &error);
  g_assert_no_error(error);
  g_assert_null(a->text);
  g_assert_cmpstr(a->note, ==, "OCR language \"zzz\" is not installed");
  g_setenv("TESSDATA_PREFIX", f->dir, TRUE);
  ScandPageOptions osd = { .rotate_auto = TRUE };
  g_assert_false(scand_page_options_check(&osd, &error));
  g_assert_nonnull(strstr(error->message, "tesseract-ocr-osd"));
  g_unsetenv("TESSDATA_PREFIX");
}

/* An analysis with the given blank flag, barcode and patch. */
static ScandPageAnalysis *fake(gboolean blank, const char *barcode, const char *patch) {
  ScandPageAnalysis *a = g_new0(ScandPageAnalysis, 1);
  a->blank = blank;
  const char *codes[] = { barcode, NULL };
  a->barcodes = g_strdupv((char **) codes);
  a->patch = g_strdup(patch);
  return a;
}

static char *describe_parts(GPtrArray *parts) {
  GString *s = g_string_new(NULL);
  for (guint k = 0; k < parts->len; k++) {
    ScandPagePart *p = parts->pdata[k];
    g_string_append_printf(s, "%s[", k ? " " : "");
    for (guint i = 0; i < p->pages->len; i++)
      g_string_append_printf(s, "%s%u", i ? "," : "", g_array_index(p->pages, guint, i) + 1);
    g_autofree char *blanks = scand_page_part_blanks_string(p);
    g_string_append_printf(s, "]%s%s%s%s", p->barcode ? "=" : "", p->barcode ? p->barcode : "",
                           blanks[0] ? " blanks " : "", blanks);
  }
  return g_string_free(s, FALSE);
}

static void test_split(void) {
  g_autoptr(GPtrArray) pages = g_ptr_array_new_with_free_func((GDestroyNotify) scand_page_analysis_free);
  g_ptr_array_add(pages, fake(FALSE, NULL, NULL));                /* 1 */
  g_ptr_array_add(pages, fake(TRUE, NULL, NULL));                 /* 2 blank back */
  g_ptr_array_add(pages, fake(FALSE, "CODE-39:INV-7", NULL));     /* 3 separator */
  g_ptr_array_add(pages, fake(TRUE, NULL, NULL));                 /* 4 its back */
  g_ptr_array_add(pages, fake(FALSE, "QR-Code:https://x", NULL)); /* 5 */
  g_ptr_array_add(pages, NULL);                                   /* 6 not analysed: kept */
  g_ptr_array_add(pages, fake(FALSE, NULL, "T"));                 /* 7 patch T */
  g_ptr_array_add(pages, fake(TRUE, NULL, NULL));                 /* 8 */
  g_ptr_array_add(pages, fake(TRUE, NULL, NULL));                 /* 9 */
  g_ptr_array_add(pages, fake(TRUE, NULL, NULL));                 /* 10 */
  ScandSplit split = { 0 };
  g_assert_true(scand_split_parse("barcode:INV-*", &split, NULL));
  g_autoptr(GPtrArray) a = scand_page_split(pages, &split, TRUE, SCAND_BLANK_DROP);
  g_autofree char *da = describe_parts(a);
  g_assert_cmpstr(da, ==, "[1] blanks 2 [5,6,7]=INV-7 blanks 4,5,6");
  scand_split_clear(&split);
  g_assert_true(scand_split_parse("patch-t", &split, NULL));
  g_autoptr(GPtrArray) b = scand_page_split(pages, &split, FALSE, SCAND_BLANK_FLAG);
  g_autofree char *db = describe_parts(b);
  g_assert_cmpstr(db, ==, "[1,2,3,4,5,6]=INV-7 blanks 2,4 [8,9,10] blanks 1,2,3");
  g_assert_true(scand_split_parse("blank-sheet", &split, NULL));
  g_autoptr(GPtrArray) c = scand_page_split(pages, &split, TRUE, SCAND_BLANK_FLAG);
  g_autofree char *dc = describe_parts(c);
  /* Duplex: only sheets blank on both sides separate (9-10); 2 and 4 are blank
   * backs of printed fronts. */
  g_assert_cmpstr(dc, ==, "[1,2,3,4,5,6,7,8]=INV-7 blanks 2,4,8");
  g_autoptr(GError) error = NULL;
  g_assert_false(scand_split_parse("barcode:", &split, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

static void test_records(Fixture *f, gconstpointer data) {
  g_autoptr(ScandPdfText) text = scand_pdf_text_new(100, 50);
  scand_pdf_text_add_word(text, "Grüße", 1, 2, 30, 12, 11, TRUE);
  scand_pdf_text_add_word(text, "a\tb\x01", 35, 2, 60, 12, 11, FALSE);
  scand_pdf_text_add_word(text, "  ", 65, 2, 70, 12, 11, FALSE);
  scand_pdf_text_add_word(text, "next", -5, 20, 500, 30, 29, TRUE);
  g_autofree char *plain = scand_pdf_text_get_plain(text);
  g_assert_cmpstr(plain, ==, "Grüße ab\nnext\n");
  g_autoptr(ScandPageAnalysis) a = fake(TRUE, "EAN-13:4006381333931", "T");
  a->text = g_steal_pointer(&text);
  a->rotation = 270;
  a->note = g_strdup("OCR timed out after 2 s (ocr-timeout)");
  g_autofree char *path = g_build_filename(f->dir, "page-0001.info", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_page_analysis_save(a, path, &error));
  g_autoptr(ScandPageAnalysis) b = scand_page_analysis_load(path, &error);
  g_assert_no_error(error);
  g_autofree char *da = scand_page_analysis_describe(a);
  g_autofree char *db = scand_page_analysis_describe(b);
  g_assert_cmpstr(da, ==, db);
  g_autofree char *pb = scand_pdf_text_get_plain(b->text);
  g_assert_cmpstr(pb, ==, "Grüße ab\nnext\n");
  g_assert_true(g_file_set_contents(path, "[page]\nrotation=45\ncolor=bw\n", -1, NULL));
  g_autoptr(ScandPageAnalysis) c = scand_page_analysis_load(path, &error);
  g_assert_null(c);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add("/page/huge", Fixture, NULL, fixture_setup, test_huge_page, fixture_teardown);
  g_test_add("/page/corrupt-jpeg", Fixture, NULL, fixture_setup, test_corrupt_jpeg, fixture_teardown);
  g_test_add("/page/missing-language", Fixture, NULL, fixture_setup, test_missing_language, fixture_teardown);
  g_test_add_func("/page/split", test_split);
  g_test_add("/page/records", Fixture, NULL, fixture_setup, test_records, fixture_teardown);
  return g_test_run();
}
