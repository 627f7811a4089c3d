/* Image probing and row decoding against files written by libjpeg, libpng,
 * libtiff and by hand (PNM). */
#include <string.h>

#include <glib/gstdio.h>

#include "image-gen.h"
#include "scand/base/error.h"
#include "scand/base/image-private.h"
#include "scand/base/image.h"

typedef struct {
  char *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
  f->dir = g_dir_make_tmp("test-image-XXXXXX", NULL);
  g_assert_nonnull(f->dir);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
  GDir *d = g_dir_open(f->dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(f->dir, name, NULL);
    g_unlink(p);
  }
  g_dir_close(d);
  g_rmdir(f->dir);
  g_free(f->dir);
}

static void probe_ok(const char *path, ScandImageInfo *info) {
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_image_probe(path, info, &error));
  g_assert_no_error(error);
}

static void test_probe_jpeg(Fixture *f, gconstpointer data) {
  g_autofree char *gray = g_build_filename(f->dir, "g.jpg", NULL);
  g_autofree char *cmyk = g_build_filename(f->dir, "k.jpg", NULL);
  image_gen_jpeg(gray, 31, 17, 1, 80, 200, FALSE);
  image_gen_jpeg(cmyk, 20, 10, 4, 80, 0, FALSE);
  ScandImageInfo info;
  probe_ok(gray, &info);
  g_assert_cmpint(info.format, ==, SCAND_PAGE_JPEG);
  g_assert_cmpint(info.width, ==, 31);
  g_assert_cmpint(info.height, ==, 17);
  g_assert_cmpint(info.components, ==, 1);
  g_assert_cmpfloat(info.xres, ==, 200);
  g_assert_false(info.is_tiff);
  ScandImageJpegInfo jinfo;
  g_assert_true(scand_image_probe_jpeg(cmyk, &jinfo, NULL));
  g_assert_cmpint(jinfo.info.components, ==, 4);
  g_assert_true(jinfo.adobe_inverted);
  g_assert_cmpfloat(jinfo.info.xres, ==, 0);
}

static void test_probe_png_pnm_tiff(Fixture *f, gconstpointer data) {
  g_autofree char *png = g_build_filename(f->dir, "p.png", NULL);
  g_autofree char *pnm = g_build_filename(f->dir, "p.pnm", NULL);
  g_autofree char *tif = g_build_filename(f->dir, "p.tif", NULL);
  image_gen_png(png, SCAND_PAGE_RGB24, 40, 30, 150, FALSE);
  image_gen_pnm(pnm, SCAND_PAGE_BW1, 41, 9, 0);
  ScandPageFormat fm[] = { SCAND_PAGE_GRAY8, SCAND_PAGE_BW1, SCAND_PAGE_RGB24 };
  image_gen_tiff(tif, fm, 3, 33, 22, 240);

  ScandImageInfo info;
  probe_ok(png, &info);
  g_assert_cmpint(info.format, ==, SCAND_PAGE_PNG);
  g_assert_cmpint(info.components, ==, 3);
  g_assert_cmpfloat(ABS(info.xres - 150), <, 0.1);
  probe_ok(pnm, &info);
  g_assert_cmpint(info.format, ==, SCAND_PAGE_BW1);
  g_assert_cmpint(info.width, ==, 41);
  g_assert_cmpfloat(info.xres, ==, 0);
  probe_ok(tif, &info);
  g_assert_cmpint(info.format, ==, SCAND_PAGE_GRAY8);
  g_assert_true(info.is_tiff);
  g_assert_cmpfloat(info.xres, ==, 240);
  guint n = 0;
  g_assert_true(scand_image_count_pages(tif, &n, NULL));
  g_assert_cmpuint(n, ==, 3);
  g_assert_true(scand_image_count_pages(png, &n, NULL));
  g_assert_cmpuint(n, ==, 1);
}

/* Every raw path decodes to exactly the generated rows (1 = black for BW1). */
static void test_reader_rows(Fixture *f, gconstpointer data) {
  g_autofree char *tif = g_build_filename(f->dir, "r.tif", NULL);
  ScandPageFormat fm[] = { SCAND_PAGE_BW1, SCAND_PAGE_GRAY8, SCAND_PAGE_RGB24 };
  image_gen_tiff(tif, fm, 3, 37, 23, 100);
  struct {
    const char *name;
    ScandPageFormat format;
    int kind; /* 0 pnm, 1 png, 2 interlaced png, 3 tiff page, 4 pnm maxval 1000 */
  } cases[] = {
    { "a.pnm", SCAND_PAGE_BW1, 0 },   { "b.pnm", SCAND_PAGE_GRAY8, 0 }, { "c.pnm", SCAND_PAGE_RGB24, 0 },
    { "a.png", SCAND_PAGE_BW1, 1 },   { "b.png", SCAND_PAGE_GRAY8, 1 }, { "c.png", SCAND_PAGE_RGB24, 1 },
    { "i.png", SCAND_PAGE_RGB24, 2 }, { "r.tif", SCAND_PAGE_BW1, 3 },   { "r.tif", SCAND_PAGE_GRAY8, 3 },
    { "r.tif", SCAND_PAGE_RGB24, 3 }, { "m.pnm", SCAND_PAGE_GRAY8, 4 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = g_build_filename(f->dir, cases[i].name, NULL);
    if (cases[i].kind == 0)
      image_gen_pnm(path, cases[i].format, 37, 23, 0);
    else if (cases[i].kind == 4)
      image_gen_pnm(path, cases[i].format, 37, 23, 1000);
    else if (cases[i].kind == 1 || cases[i].kind == 2)
      image_gen_png(path, cases[i].format, 37, 23, 0, cases[i].kind == 2);
    g_test_message("case %s format %d", cases[i].name, cases[i].format);
    guint index = cases[i].kind == 3 ? (guint) cases[i].format - SCAND_PAGE_BW1 : 0;
    ScandImageInfo info;
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandImageReader) r = scand_image_reader_open(path, index, &info, &error);
    g_assert_no_error(error);
    g_assert_cmpint(info.format, ==, cases[i].format);
    g_assert_cmpint(info.width, ==, 37);
    g_assert_cmpint(info.height, ==, 23);
    gsize len;
    g_autofree guint8 *expect = image_gen_raw(cases[i].format, 37, 23, &len);
    gsize rb = scand_image_row_bytes(cases[i].format, 37);
    g_autofree guint8 *row = g_malloc(rb);
    for (int y = 0; y < 23; y++) {
      g_assert_true(scand_image_reader_read_row(r, row, &error));
      g_assert_cmpmem(row, rb, expect + rb * y, rb);
    }
    g_assert_false(scand_image_reader_read_row(r, row, NULL));
  }
}

static void test_bad_magic(Fixture *f, gconstpointer data) {
  g_autofree char *p = g_build_filename(f->dir, "x.bin", NULL);
  g_assert_true(g_file_set_contents(p, "BM\x01\x02", 4, NULL));
  ScandImageInfo info;
  g_autoptr(GError) error = NULL;
  g_assert_false(scand_image_probe(p, &info, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_true(g_str_has_prefix(error->message, p));
  g_clear_error(&error);
  g_autofree char *missing = g_build_filename(f->dir, "missing.jpg", NULL);
  g_assert_false(scand_image_probe(missing, &info, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(scand_image_probe(f->dir, &info, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add("/image/probe-jpeg", Fixture, NULL, fixture_setup, test_probe_jpeg, fixture_teardown);
  g_test_add("/image/probe-png-pnm-tiff", Fixture, NULL, fixture_setup, test_probe_png_pnm_tiff, fixture_teardown);
  g_test_add("/image/reader-rows", Fixture, NULL, fixture_setup, test_reader_rows, fixture_teardown);
  g_test_add("/image/bad-magic", Fixture, NULL, fixture_setup, test_bad_magic, fixture_teardown);
  return g_test_run();
}
