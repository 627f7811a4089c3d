/* PDF engine: every document is checked with qpdf and rendered with pdftoppm,
 * image streams are pulled out with qpdf and compared byte for byte. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <jpeglib.h>

#include "image-gen.h"
#include "scand-build.h"
#include "scand/base/error.h"
#include "scand/base/image-private.h"
#include "scand/core/pdf-private.h"
#include "scand/base/fs.h"
#include "scand/core/pdf.h"

typedef struct {
  char *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
  f->dir = g_dir_make_tmp("test-pdf-XXXXXX", NULL);
  g_assert_nonnull(f->dir);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
  scand_fs_remove_tree(f->dir);
  g_free(f->dir);
}

static char *path_in(Fixture *f, const char *name) {
  return g_build_filename(f->dir, name, NULL);
}

static void qpdf_check(const char *pdf) {
  const char *argv[] = { "qpdf", "--check", pdf, NULL };
  g_autofree char *out = image_gen_run(argv);
  g_assert_nonnull(strstr(out, "No syntax or stream encoding errors"));
}

static int pdf_pages(const char *pdf) {
  const char *argv[] = { "pdfinfo", pdf, NULL };
  g_autofree char *out = image_gen_run(argv);
  const char *p = strstr(out, "\nPages:");
  g_assert_nonnull(p);
  return atoi(p + strlen("\nPages:"));
}

/* Object numbers of the page images, in page order (pdfimages -list). */
static GArray *image_objects(const char *pdf) {
  const char *argv[] = { "pdfimages", "-list", pdf, NULL };
  g_autofree char *out = image_gen_run(argv);
  g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
  GArray *ids = g_array_new(FALSE, FALSE, sizeof(int));
  for (guint i = 2; lines[i]; i++) {
    g_auto(GStrv) cols = g_strsplit_set(g_strstrip(lines[i]), " ", -1);
    GPtrArray *words = g_ptr_array_new();
    for (guint j = 0; cols[j]; j++)
      if (cols[j][0])
        g_ptr_array_add(words, cols[j]);
    if (words->len > 11) {
      int id = atoi(words->pdata[10]);
      g_array_append_val(ids, id);
    }
    g_ptr_array_free(words, TRUE);
  }
  return ids;
}

static char *show_object(const char *pdf, int id) {
  g_autofree char *opt = g_strdup_printf("--show-object=%d", id);
  const char *argv[] = { "qpdf", opt, pdf, NULL };
  return image_gen_run(argv);
}

static GBytes *filtered_stream(const char *pdf, int id) {
  g_autofree char *opt = g_strdup_printf("--show-object=%d", id);
  const char *argv[] = { "qpdf", opt, "--filtered-stream-data", pdf, NULL };
  return image_gen_run_bytes(argv);
}

/* Poppler smooths small images even at 1:1 and rounds its 8-bit colour
 * lookup (img2pdf's output renders the same), so a render is only compared on
 * average, to catch a shifted, inverted or garbled page; exactness is checked
 * on the decoded stream. */
static void assert_pixels_close(const guint8 *px, const guint8 *expect, gsize len) {
  guint64 sum = 0;
  for (gsize i = 0; i < len; i++)
    sum += ABS((int) px[i] - (int) expect[i]);
  double mean = (double) sum / len;
  g_test_message("mean absolute render difference: %.2f", mean);
  g_assert_cmpfloat(mean, <, 12);
}

static GBytes *raw_stream(const char *pdf, int id) {
  g_autofree char *opt = g_strdup_printf("--show-object=%d", id);
  const char *argv[] = { "qpdf", opt, "--raw-stream-data", pdf, NULL };
  return image_gen_run_bytes(argv);
}

/* Renders one page with pdftoppm at dpi; returns its pixels. */
static guint8 *render(Fixture *f, const char *pdf, int page, double dpi, gboolean gray, int *w, int *h, int *channels) {
  g_autofree char *prefix = path_in(f, "render");
  g_autofree char *res = g_strdup_printf("%g", dpi);
  g_autofree char *pg = g_strdup_printf("%d", page);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  const char *fixed[] = { "pdftoppm", "-r", res, "-f", pg, "-l", pg, "-singlefile", "-aa", "no", "-aaVector", "no" };
  for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
    g_ptr_array_add(argv, (char *) fixed[i]);
  if (gray)
    g_ptr_array_add(argv, "-gray");
  g_ptr_array_add(argv, (char *) pdf);
  g_ptr_array_add(argv, prefix);
  g_ptr_array_add(argv, NULL);
  G_GNUC_UNUSED g_autofree char *out = image_gen_run((const char *const *) argv->pdata);
  g_autofree char *file = g_strdup_printf("%s.%s", prefix, gray ? "pgm" : "ppm");
  guint8 *pixels = image_gen_read_pnm(file, w, h, channels);
  g_remove(file);
  return pixels;
}

static ScandPdf *new_pdf(Fixture *f, ScandPdfRawMode mode) {
  ScandPdfOptions opts = { .raw_mode = mode, .scratch_dir = f->dir };
  g_autoptr(GError) error = NULL;
  ScandPdf *pdf = scand_pdf_new(&opts, &error);
  g_assert_no_error(error);
  return pdf;
}

static void add_ok(ScandPdf *pdf, const char *path, double dpi) {
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_pdf_add_file(pdf, path, dpi, &error));
  g_assert_no_error(error);
}

static void save_ok(ScandPdf *pdf, const char *path) {
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_pdf_save(pdf, path, &error));
  g_assert_no_error(error);
  qpdf_check(path);
}

/* JPEG pages are embedded untouched: the stream in the PDF is the file. */
static void test_jpeg_passthrough(Fixture *f, gconstpointer data) {
  g_autofree char *gray = path_in(f, "gray.jpg");
  g_autofree char *rgb = path_in(f, "rgb.jpg");
  g_autofree char *cmyk = path_in(f, "cmyk.jpg");
  image_gen_jpeg(gray, 200, 100, 1, 80, 0, FALSE);
  image_gen_jpeg(rgb, 120, 90, 3, 80, 150, FALSE);
  image_gen_jpeg(cmyk, 64, 64, 4, 80, 0, FALSE);
  g_autofree char *out = path_in(f, "out.pdf");
  g_autoptr(ScandPdf) pdf = new_pdf(f, SCAND_PDF_RAW_JPEG);
  add_ok(pdf, gray, 0);
  add_ok(pdf, rgb, 0);
  add_ok(pdf, cmyk, 0);
  g_assert_cmpuint(scand_pdf_get_page_count(pdf), ==, 3);
  save_ok(pdf, out);
  g_assert_cmpint(pdf_pages(out), ==, 3);

  const char *sources[] = { gray, rgb, cmyk };
  const char *spaces[] = { "/DeviceGray", "/DeviceRGB", "/DeviceCMYK" };
  g_autoptr(GArray) ids = image_objects(out);
  g_assert_cmpuint(ids->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    int id = g_array_index(ids, int, i);
    g_autofree char *dict = show_object(out, id);
    g_assert_nonnull(strstr(dict, "/DCTDecode"));
    g_assert_nonnull(strstr(dict, spaces[i]));
    g_autoptr(GBytes) stream = raw_stream(out, id);
    g_autoptr(GMappedFile) src = g_mapped_file_new(sources[i], FALSE, NULL);
    g_autoptr(GBytes) src_bytes = g_mapped_file_get_bytes(src);
    g_assert_true(g_bytes_equal(stream, src_bytes));
    /* libjpeg marks CMYK with Adobe APP14, so the values count as inverted. */
    if (i == 2)
      g_assert_nonnull(strstr(dict, "/Decode [ 1 0 1 0 1 0 1 0 ]"));
    else
      g_assert_null(strstr(dict, "/Decode"));
  }
}

/* Adobe CMYK JPEGs store inverted values; with /Decode a stored 255 (no ink)
 * renders white. */
static void test_jpeg_adobe_cmyk_renders(Fixture *f, gconstpointer data) {
  /* image_gen_sample at c=0..3 varies; write a flat 255 CMYK image instead. */
  g_autofree char *cmyk = path_in(f, "white.jpg");
  {
    FILE *fp = fopen(cmyk, "wb");
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, fp);
    cinfo.image_width = 32;
    cinfo.image_height = 32;
    cinfo.input_components = 4;
    cinfo.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    guint8 row[32 * 4];
    memset(row, 255, sizeof row);
    while (cinfo.next_scanline < 32) {
      JSAMPROW rows[1] = { row };
      jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    fclose(fp);
  }
  g_autofree char *out = path_in(f, "cmyk.pdf");
  g_autoptr(ScandPdf) pdf = new_pdf(f, SCAND_PDF_RAW_JPEG);
  add_ok(pdf, cmyk, 72);
  save_ok(pdf, out);
  int w, h, ch;
  g_autofree guint8 *px = render(f, out, 1, 72, FALSE, &w, &h, &ch);
  g_assert_cmpint(w, ==, 32);
  g_assert_cmpint(h, ==, 32);
  g_assert_cmpint(px[(16 * 32 + 16) * 3], >, 240);
  g_assert_cmpint(px[(16 * 32 + 16) * 3 + 1], >, 240);
  g_assert_cmpint(px[(16 * 32 + 16) * 3 + 2], >, 240);
}

/* Raw gray/RGB pages become JPEG at the configured quality, via the scratch dir. */
static void test_raw_jpeg_quality(Fixture *f, gconstpointer data) {
  g_autofree char *pnm = path_in(f, "rgb.pnm");
  image_gen_pnm(pnm, SCAND_PAGE_RGB24, 300, 200, 0);
  gsize sizes[2];
  int qualities[2] = { 10, 95 };
  for (int i = 0; i < 2; i++) {
    g_autofree char *scratch = path_in(f, "scratch");
    g_assert_cmpint(g_mkdir(scratch, 0700), ==, 0);
    ScandPdfOptions opts = { .raw_mode = SCAND_PDF_RAW_JPEG, .jpeg_quality = qualities[i], .scratch_dir = scratch };
    g_autoptr(GError) error = NULL;
    ScandPdf *pdf = scand_pdf_new(&opts, &error);
    g_assert_no_error(error);
    add_ok(pdf, pnm, 0);
    /* The converted page waits in a private directory under scratch_dir. */
    GDir *d = g_dir_open(scratch, 0, NULL);
    const char *sub = g_dir_read_name(d);
    g_assert_nonnull(sub);
    g_assert_true(g_str_has_prefix(sub, "scand-pdf-"));
    g_autofree char *subdir = g_build_filename(scratch, sub, NULL);
    g_dir_close(d);
    GDir *sd = g_dir_open(subdir, 0, NULL);
    const char *jpg = g_dir_read_name(sd);
    g_assert_nonnull(jpg);
    g_assert_true(g_str_has_suffix(jpg, ".jpg"));
    g_dir_close(sd);

    g_autofree char *out = path_in(f, "q.pdf");
    save_ok(pdf, out);
    scand_pdf_free(pdf);
    /* ... and is gone with the document. */
    g_assert_false(g_file_test(subdir, G_FILE_TEST_EXISTS));
    g_assert_cmpint(g_rmdir(scratch), ==, 0);

    g_autoptr(GArray) ids = image_objects(out);
    g_assert_cmpuint(ids->len, ==, 1);
    g_autofree char *dict = show_object(out, g_array_index(ids, int, 0));
    g_assert_nonnull(strstr(dict, "/DCTDecode"));
    g_autoptr(GBytes) stream = raw_stream(out, g_array_index(ids, int, 0));
    sizes[i] = g_bytes_get_size(stream);
    const guint8 *b = g_bytes_get_data(stream, NULL);
    g_assert_cmpint(b[0], ==, 0xff);
    g_assert_cmpint(b[1], ==, 0xd8);
    int w, h, ch;
    G_GNUC_UNUSED g_autofree guint8 *px = render(f, out, 1, 300, FALSE, &w, &h, &ch);
    g_assert_cmpint(w, ==, 300);
    g_assert_cmpint(h, ==, 200);
  }
  g_assert_cmpuint(sizes[0] * 2, <, sizes[1]);
}

/* Lossless mode: what pdftoppm renders is exactly the source. */
static void test_flate_lossless(Fixture *f, gconstpointer data) {
  struct {
    const char *name;
    ScandPageFormat format;
    gboolean png;
    int maxval;
  } cases[] = {
    { "gray.pnm", SCAND_PAGE_GRAY8, FALSE, 0 },      { "rgb.pnm", SCAND_PAGE_RGB24, FALSE, 0 },
    { "gray.png", SCAND_PAGE_GRAY8, TRUE, 0 },       { "rgb.png", SCAND_PAGE_RGB24, TRUE, 0 },
    { "rgb16.pnm", SCAND_PAGE_RGB24, FALSE, 65535 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *src = path_in(f, cases[i].name);
    if (cases[i].png)
      image_gen_png(src, cases[i].format, 123, 77, 0, FALSE);
    else
      image_gen_pnm(src, cases[i].format, 123, 77, cases[i].maxval);
    g_autofree char *out = path_in(f, "flate.pdf");
    g_autoptr(ScandPdf) pdf = new_pdf(f, SCAND_PDF_RAW_FLATE);
    add_ok(pdf, src, 100);
    save_ok(pdf, out);
    g_autoptr(GArray) ids = image_objects(out);
    g_autofree char *dict = show_object(out, g_array_index(ids, int, 0));
    g_assert_nonnull(strstr(dict, "/FlateDecode"));

    gsize len;
    g_autofree guint8 *expect = image_gen_raw(cases[i].format, 123, 77, &len);
    g_autoptr(GBytes) decoded = filtered_stream(out, g_array_index(ids, int, 0));
    g_assert_cmpmem(g_bytes_get_data(decoded, NULL), g_bytes_get_size(decoded), expect, len);

    gboolean gray = cases[i].format == SCAND_PAGE_GRAY8;
    int w, h, ch;
    g_autofree guint8 *px = render(f, out, 1, 100, gray, &w, &h, &ch);
    g_assert_cmpint(w, ==, 123);
    g_assert_cmpint(h, ==, 77);
    g_assert_cmpuint(len, ==, (gsize) w * h * ch);
    assert_pixels_close(px, expect, len);
  }
}

/* 1-bit pages become CCITT G4 and render black where the source is black. */
static void test_ccitt(Fixture *f, gconstpointer data) {
  const char *names[] = { "bw.pnm", "bw.png" };
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree char *src = path_in(f, names[i]);
    if (i == 0)
      image_gen_pnm(src, SCAND_PAGE_BW1, 203, 150, 0);
    else
      image_gen_png(src, SCAND_PAGE_BW1, 203, 150, 0, FALSE);
    g_autofree char *out = path_in(f, "bw.pdf");
    g_autoptr(ScandPdf) pdf = new_pdf(f, SCAND_PDF_RAW_JPEG);
    add_ok(pdf, src, 200);
    save_ok(pdf, out);
    g_autoptr(GArray) ids = image_objects(out);
    g_autofree char *dict = show_object(out, g_array_index(ids, int, 0));
    g_assert_nonnull(strstr(dict, "/CCITTFaxDecode"));
    g_assert_nonnull(strstr(dict, "/K -1"));
    g_assert_nonnull(strstr(dict, "/BitsPerComponent 1"));

    int w, h, ch;
    g_autofree guint8 *px = render(f, out, 1, 200, TRUE, &w, &h, &ch);
    g_assert_cmpint(w, ==, 203);
    g_assert_cmpint(h, ==, 150);
    /* Poppler greys pixels along some edges and smears the fine checker at
     * the bottom (img2pdf's output renders identically): check the rest. */
    int wrong = 0;
    for (int y = 0; y < h - 10; y++)
      for (int x = 0; x < w; x++)
        if ((px[y * w + x] < 128) != image_gen_black(x, y, w, h) && px[y * w + x] != 128)
          wrong++;
    g_assert_cmpint(wrong, ==, 0);
    g_assert_cmpint(px[10 * w + 10], ==, 0);
    g_assert_cmpint(px[(h / 2) * w + w - 10], ==, 255);
  }
}

/* Page size comes from the pixels and the resolution: the dpi argument, else
 * the file's JFIF / pHYs / TIFF resolution, else the default. */
static void test_page_size(Fixture *f, gconstpointer data) {
  g_autofree char *jpg150 = path_in(f, "d150.jpg");
  g_autofree char *jpg_none = path_in(f, "none.jpg");
  g_autofree char *png120 = path_in(f, "p120.png");
  g_autofree char *pnm = path_in(f, "g.pnm");
  g_autofree char *tif = path_in(f, "t.tif");
  image_gen_jpeg(jpg150, 300, 150, 3, 70, 150, FALSE);
  image_gen_jpeg(jpg_none, 300, 150, 1, 70, 0, FALSE);
  image_gen_png(png120, SCAND_PAGE_RGB24, 240, 120, 120, FALSE);
  image_gen_pnm(pnm, SCAND_PAGE_GRAY8, 250, 100, 0);
  ScandPageFormat one[] = { SCAND_PAGE_GRAY8 };
  image_gen_tiff(tif, one, 1, 400, 200, 200);

  ScandPdfOptions opts = { .default_dpi = 50, .scratch_dir = f->dir };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&opts, &error);
  g_assert_no_error(error);
  add_ok(pdf, jpg150, 0);   /* 2 x 1 in */
  add_ok(pdf, jpg_none, 0); /* default 50 dpi: 6 x 3 in */
  add_ok(pdf, png120, 0);   /* 2 x 1 in */
  add_ok(pdf, pnm, 0);      /* 5 x 2 in */
  add_ok(pdf, tif, 0);      /* 2 x 1 in */
  add_ok(pdf, jpg150, 100); /* the file's 150 dpi wins: 2 x 1 in */
  add_ok(pdf, pnm, 100);    /* the file says nothing: 2.5 x 1 in */
  g_autofree char *out = path_in(f, "sizes.pdf");
  save_ok(pdf, out);

  const char *argv[] = { "pdfinfo", "-f", "1", "-l", "7", out, NULL };
  g_autofree char *info = image_gen_run(argv);
  double expect[][2] = { { 144, 72 }, { 432, 216 }, { 144, 72 }, { 360, 144 }, { 144, 72 }, { 144, 72 }, { 180, 72 } };
  g_auto(GStrv) lines = g_strsplit(info, "\n", -1);
  int seen = 0;
  for (guint i = 0; lines[i]; i++) {
    int page;
    double w, h;
    if (sscanf(lines[i], "Page %d size: %lf x %lf pts", &page, &w, &h) == 3) {
      g_assert_cmpint(page, >=, 1);
      g_assert_cmpint(page, <=, 7);
      g_assert_cmpfloat_with_epsilon(w, expect[page - 1][0], 0.01);
      g_assert_cmpfloat_with_epsilon(h, expect[page - 1][1], 0.01);
      seen++;
    }
  }
  g_assert_cmpint(seen, ==, 7);

  /* pdftoppm at the page's resolution gives the source's pixel size. */
  int dpis[] = { 150, 50, 120, 50, 200, 150, 100 };
  int sizes[][2] = { { 300, 150 }, { 300, 150 }, { 240, 120 }, { 250, 100 }, { 400, 200 }, { 300, 150 }, { 250, 100 } };
  for (int p = 0; p < 7; p++) {
    int w, h, ch;
    G_GNUC_UNUSED g_autofree guint8 *px = render(f, out, p + 1, dpis[p], TRUE, &w, &h, &ch);
    g_assert_cmpint(w, ==, sizes[p][0]);
    g_assert_cmpint(h, ==, sizes[p][1]);
  }
}

/* A scan-sized page at 300 dpi renders back to its exact pixel size. */
static void test_a4_render_size(Fixture *f, gconstpointer data) {
  g_autofree char *jpg = path_in(f, "a4.jpg");
  image_gen_jpeg(jpg, 2480, 3508, 1, 30, 300, FALSE);
  g_autofree char *out = path_in(f, "a4.pdf");
  g_autoptr(ScandPdf) pdf = new_pdf(f, SCAND_PDF_RAW_JPEG);
  add_ok(pdf, jpg, 0);
  save_ok(pdf, out);
  int w, h, ch;
  G_GNUC_UNUSED g_autofree guint8 *px = render(f, out, 1, 300, TRUE, &w, &h, &ch);
  g_assert_cmpint(w, ==, 2480);
  g_assert_cmpint(h, ==, 3508);
}

/* Every page of a multi-page TIFF, each in its own format. */
static void test_tiff_pages(Fixture *f, gconstpointer data) {
  g_autofree char *tif = path_in(f, "multi.tif");
  ScandPageFormat formats[] = { SCAND_PAGE_BW1, SCAND_PAGE_GRAY8, SCAND_PAGE_RGB24 };
  image_gen_tiff(tif, formats, 3, 160, 96, 96);
  g_autofree char *out = path_in(f, "tiff.pdf");
  g_autoptr(ScandPdf) pdf = new_pdf(f, SCAND_PDF_RAW_FLATE);
  add_ok(pdf, tif, 0);
  g_assert_cmpuint(scand_pdf_get_page_count(pdf), ==, 3);
  save_ok(pdf, out);
  g_assert_cmpint(pdf_pages(out), ==, 3);
  g_autoptr(GArray) ids = image_objects(out);
  g_autofree char *d1 = show_object(out, g_array_index(ids, int, 0));
  g_assert_nonnull(strstr(d1, "/CCITTFaxDecode"));
  for (int p = 0; p < 3; p++) {
    int w, h, ch;
    gboolean gray = formats[p] != SCAND_PAGE_RGB24;
    g_autofree guint8 *px = render(f, out, p + 1, 96, gray, &w, &h, &ch);
    g_assert_cmpint(w, ==, 160);
    g_assert_cmpint(h, ==, 96);
    if (formats[p] == SCAND_PAGE_BW1) {
      g_assert_cmpint(px[10 * w + 10], ==, 0);
      g_assert_cmpint(px[50 * w + 100], ==, 255);
    } else {
      gsize len;
      g_autofree guint8 *expect = image_gen_raw(formats[p], 160, 96, &len);
      g_assert_cmpuint(len, ==, (gsize) w * h * ch);
      assert_pixels_close(px, expect, len);
      g_autoptr(GBytes) decoded = filtered_stream(out, g_array_index(ids, int, p));
      g_assert_cmpmem(g_bytes_get_data(decoded, NULL), g_bytes_get_size(decoded), expect, len);
    }
  }
}

/* Document info: title, creator "scand VERSION", creation date. */
static void test_info(Fixture *f, gconstpointer data) {
  g_autofree char *jpg = path_in(f, "p.jpg");
  image_gen_jpeg(jpg, 50, 50, 1, 70, 0, FALSE);
  g_autoptr(GTimeZone) tz = g_time_zone_new_offset(3600);
  g_autoptr(GDateTime) when = g_date_time_new(tz, 2024, 3, 5, 10, 20, 30);
  ScandPdfOptions opts = { .title = "Invoice März", .created = when, .scratch_dir = f->dir };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&opts, &error);
  g_assert_no_error(error);
  add_ok(pdf, jpg, 0);
  g_autofree char *out = path_in(f, "info.pdf");
  save_ok(pdf, out);
  const char *argv[] = { "pdfinfo", "-isodates", out, NULL };
  g_autofree char *info = image_gen_run(argv);
  g_assert_nonnull(strstr(info, "Title:           Invoice März\n"));
  g_assert_nonnull(strstr(info, "Creator:         scand " SCAND_VERSION "\n"));
  g_assert_nonnull(strstr(info, "CreationDate:    2024-03-05T10:20:30+01"));
}

/* PDF/A-1b: XMP with pdfaid part 1 / conformance B, an sRGB output intent and
 * a document ID. */
static void test_pdfa(Fixture *f, gconstpointer data) {
  g_autofree char *jpg = path_in(f, "p.jpg");
  image_gen_jpeg(jpg, 50, 50, 3, 70, 0, FALSE);
  ScandPdfOptions opts = { .pdfa = TRUE, .title = "Archive", .scratch_dir = f->dir };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&opts, &error);
  g_assert_no_error(error);
  add_ok(pdf, jpg, 0);
  g_autofree char *out = path_in(f, "a.pdf");
  save_ok(pdf, out);

  const char *qdf[] = { "qpdf", "--qdf", "--object-streams=disable", out, "-", NULL };
  g_autoptr(GBytes) bytes = image_gen_run_bytes(qdf);
  G_GNUC_UNUSED g_autofree char *text = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
  /* strndup stops at NUL bytes of binary streams; search the whole buffer. */
  gsize len = g_bytes_get_size(bytes);
  const char *all = g_bytes_get_data(bytes, NULL);
  const char *needles[] = { "pdfaid:part='1'",    "pdfaid:conformance='B'", "/OutputIntents", "/GTS_PDFA1",
                            "/DestOutputProfile", "/Type /Metadata",        "/ID [",          "<dc:title>" };
  for (guint i = 0; i < G_N_ELEMENTS(needles); i++)
    if (!g_strstr_len(all, len, needles[i]) && !memmem(all, len, needles[i], strlen(needles[i])))
      g_error("PDF/A output lacks %s", needles[i]);
  /* The ICC profile is sRGB with three components. */
  g_assert_nonnull(memmem(all, len, "/N 3", 4));
  g_assert_nonnull(memmem(all, len, "sRGB", 4));

  /* DeviceCMYK would break PDF/A-1b with an sRGB output intent. */
  g_autofree char *cmyk = path_in(f, "k.jpg");
  image_gen_jpeg(cmyk, 20, 20, 4, 70, 0, FALSE);
  g_assert_false(scand_pdf_add_file(pdf, cmyk, 0, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED);
  g_assert_cmpuint(scand_pdf_get_page_count(pdf), ==, 1);
}

/* 200 pages of ~1 MB JPEG: libhpdf's own heap stays small because the image
 * bytes stay on disk until they are written. */
static void test_memory_flat(Fixture *f, gconstpointer data) {
  g_autofree char *jpg = path_in(f, "big.jpg");
  image_gen_jpeg(jpg, 1240, 1754, 1, 75, 300, TRUE);
  GStatBuf st;
  g_assert_cmpint(g_stat(jpg, &st), ==, 0);
  g_test_message("page JPEG: %ld bytes", (long) st.st_size);
  g_assert_cmpint(st.st_size, >, 900 * 1024);

  scand_pdf_private_reset_hpdf_peak();
  gsize base = scand_pdf_private_get_hpdf_current();
  g_autofree char *out = path_in(f, "many.pdf");
  {
    g_autoptr(ScandPdf) pdf = new_pdf(f, SCAND_PDF_RAW_JPEG);
    for (int i = 0; i < 200; i++)
      add_ok(pdf, jpg, 0);
    g_test_message("libhpdf heap after 200 pages: %zu bytes", scand_pdf_private_get_hpdf_current() - base);
    g_assert_cmpuint(scand_pdf_private_get_hpdf_current() - base, <, 4 * 1024 * 1024);
    g_autoptr(GError) error = NULL;
    g_assert_true(scand_pdf_save(pdf, out, &error));
    g_assert_no_error(error);
  }
  gsize peak = scand_pdf_private_get_hpdf_peak() - base;
  g_test_message("libhpdf peak heap: %zu bytes", peak);
  g_assert_cmpuint(peak, <, 4 * 1024 * 1024);
  g_assert_cmpuint(peak, >, 0);
  g_assert_cmpint(g_stat(out, &st), ==, 0);
  g_assert_cmpint(st.st_size, >, 200 * 900 * 1024);
  g_assert_cmpint(pdf_pages(out), ==, 200);
}

static void write_bytes(const char *path, const void *data, gsize len) {
  g_assert_true(g_file_set_contents(path, data, len, NULL));
}

static void truncate_copy(const char *src, const char *dst, gsize keep) {
  gchar *data;
  gsize len;
  g_assert_true(g_file_get_contents(src, &data, &len, NULL));
  g_assert_cmpuint(keep, <, len);
  write_bytes(dst, data, keep);
  g_free(data);
}

/* Bad input gets one line naming the file, no page and no output file. */
static void test_bad_input(Fixture *f, gconstpointer data) {
  g_autofree char *jpg = path_in(f, "ok.jpg");
  g_autofree char *png = path_in(f, "ok.png");
  g_autofree char *pnm = path_in(f, "ok.pnm");
  g_autofree char *tif = path_in(f, "ok.tif");
  image_gen_jpeg(jpg, 64, 64, 3, 80, 0, FALSE);
  image_gen_png(png, SCAND_PAGE_RGB24, 64, 64, 0, FALSE);
  image_gen_pnm(pnm, SCAND_PAGE_GRAY8, 64, 64, 0);
  ScandPageFormat fm[] = { SCAND_PAGE_GRAY8, SCAND_PAGE_RGB24 };
  image_gen_tiff(tif, fm, 2, 64, 64, 100);
  gsize tif_len;
  g_autofree char *tif_data = NULL;
  g_assert_true(g_file_get_contents(tif, &tif_data, &tif_len, NULL));

  struct {
    const char *name;
    const char *expect;
  } cases[] = {
    { "empty.jpg", "empty file" },
    { "magic.jpg", "unknown image format" },
    { "trunc-data.jpg", "truncated JPEG" },
    { "trunc-head.jpg", "malformed JPEG" },
    { "trunc.png", "malformed PNG" },
    { "trunc.pnm", "truncated PNM" },
    { "huge.pnm", "too large" },
    { "zero.pnm", "zero width or height" },
    { "bad.tif", "TIFF" },
    { "trunc.tif", "" },
    { "huge.jpg", "too large" },
  };
  g_autofree char *p0 = path_in(f, "empty.jpg");
  write_bytes(p0, "", 0);
  g_autofree char *p1 = path_in(f, "magic.jpg");
  write_bytes(p1, "GIF89a not an image at all", 26);
  g_autofree char *p2 = path_in(f, "trunc-data.jpg");
  truncate_copy(jpg, p2, 700);
  g_autofree char *p3 = path_in(f, "trunc-head.jpg");
  truncate_copy(jpg, p3, 100);
  g_autofree char *p4 = path_in(f, "trunc.png");
  {
    gchar *d;
    gsize l;
    g_assert_true(g_file_get_contents(png, &d, &l, NULL));
    write_bytes(p4, d, l / 2);
    g_free(d);
  }
  g_autofree char *p5 = path_in(f, "trunc.pnm");
  truncate_copy(pnm, p5, 64 * 32);
  g_autofree char *p6 = path_in(f, "huge.pnm");
  write_bytes(p6, "P5\n100000 100000\n255\n\0\0\0\0", 25);
  g_autofree char *p7 = path_in(f, "zero.pnm");
  write_bytes(p7, "P5\n0 10\n255\n", 12);
  g_autofree char *p8 = path_in(f, "bad.tif");
  write_bytes(p8, "II*\0\xff\xff\xff\x7f garbage", 17);
  g_autofree char *p9 = path_in(f, "trunc.tif");
  write_bytes(p9, tif_data, 100);
  g_autofree char *p10 = path_in(f, "huge.jpg");
  {
    /* A JPEG whose SOF0 says 60000 x 60000. */
    gchar *d;
    gsize l;
    g_assert_true(g_file_get_contents(jpg, &d, &l, NULL));
    for (gsize i = 0; i + 9 < l; i++)
      if ((guint8) d[i] == 0xff && (guint8) d[i + 1] == 0xc0) {
        d[i + 5] = d[i + 7] = (char) 0xea;
        d[i + 6] = d[i + 8] = (char) 0x60;
        break;
      }
    write_bytes(p10, d, l);
    g_free(d);
  }

  g_autofree char *out = path_in(f, "never.pdf");
  g_autoptr(ScandPdf) pdf = new_pdf(f, SCAND_PDF_RAW_FLATE);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = path_in(f, cases[i].name);
    g_autoptr(GError) error = NULL;
    g_test_message("bad input %s", cases[i].name);
    g_assert_false(scand_pdf_add_file(pdf, path, 0, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    g_test_message("%s", error->message);
    g_assert_true(g_str_has_prefix(error->message, path) || strstr(error->message, path));
    g_assert_nonnull(strstr(error->message, cases[i].expect));
    g_assert_null(strchr(error->message, '\n'));
    g_assert_cmpuint(scand_pdf_get_page_count(pdf), ==, 0);
  }
  g_autoptr(GError) error = NULL;
  g_assert_false(scand_pdf_save(pdf, out, &error));
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));

  /* A page file that disappears before saving: error, and neither the PDF
   * nor its temporary file is left behind. */
  g_autofree char *gone = path_in(f, "gone.jpg");
  image_gen_jpeg(gone, 32, 32, 1, 80, 0, FALSE);
  g_autofree char *outdir = path_in(f, "outdir");
  g_assert_cmpint(g_mkdir(outdir, 0700), ==, 0);
  g_autofree char *out2 = g_build_filename(outdir, "doc.pdf", NULL);
  g_autoptr(ScandPdf) pdf2 = new_pdf(f, SCAND_PDF_RAW_JPEG);
  add_ok(pdf2, jpg, 0);
  add_ok(pdf2, gone, 0);
  g_assert_cmpint(g_unlink(gone), ==, 0);
  g_clear_error(&error);
  g_assert_false(scand_pdf_save(pdf2, out2, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_IO);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "cannot read page file"));
  g_assert_nonnull(strstr(error->message, gone));
  GDir *d = g_dir_open(outdir, 0, NULL);
  g_assert_null(g_dir_read_name(d));
  g_dir_close(d);

  /* A JPEG cut short after it was added: its bytes are copied into the PDF
   * by the kernel, which then finds the end early. The same error, and
   * nothing left behind. */
  g_autofree char *cut = path_in(f, "cut.jpg");
  image_gen_jpeg(cut, 300, 300, 3, 95, 0, FALSE);
  g_autoptr(ScandPdf) pdf3 = new_pdf(f, SCAND_PDF_RAW_JPEG);
  add_ok(pdf3, jpg, 0);
  add_ok(pdf3, cut, 0);
  g_assert_cmpint(truncate(cut, 1000), ==, 0);
  g_clear_error(&error);
  g_assert_false(scand_pdf_save(pdf3, out2, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_IO);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "cannot read page file"));
  g_assert_nonnull(strstr(error->message, cut));
  d = g_dir_open(outdir, 0, NULL);
  g_assert_null(g_dir_read_name(d));
  g_dir_close(d);
}

/* The saved file appears complete under its name, readable by others. */
static void test_save_replaces(Fixture *f, gconstpointer data) {
  g_autofree char *jpg = path_in(f, "p.jpg");
  image_gen_jpeg(jpg, 40, 40, 1, 70, 0, FALSE);
  g_autofree char *out = path_in(f, "doc.pdf");
  write_bytes(out, "old", 3);
  g_autoptr(ScandPdf) pdf = new_pdf(f, SCAND_PDF_RAW_JPEG);
  add_ok(pdf, jpg, 0);
  save_ok(pdf, out);
  GStatBuf st;
  g_assert_cmpint(g_stat(out, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0644);
  GDir *d = g_dir_open(f->dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d)))
    g_assert_false(g_str_has_prefix(name, ".doc.pdf"));
  g_dir_close(d);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD("/pdf/jpeg-passthrough", test_jpeg_passthrough);
  ADD("/pdf/jpeg-adobe-cmyk", test_jpeg_adobe_cmyk_renders);
  ADD("/pdf/raw-jpeg-quality", test_raw_jpeg_quality);
  ADD("/pdf/flate-lossless", test_flate_lossless);
  ADD("/pdf/ccitt", test_ccitt);
  ADD("/pdf/page-size", test_page_size);
  ADD("/pdf/a4-render-size", test_a4_render_size);
  ADD("/pdf/tiff-pages", test_tiff_pages);
  ADD("/pdf/info", test_info);
  ADD("/pdf/pdfa", test_pdfa);
  ADD("/pdf/memory-flat", test_memory_flat);
  ADD("/pdf/bad-input", test_bad_input);
  ADD("/pdf/save-replaces", test_save_replaces);
  return g_test_run();
}
