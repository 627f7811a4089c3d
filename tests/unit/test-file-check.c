/* Structural completeness checks (scand/core/file-check.h): a whole file of
 * each type passes, and the same file cut short anywhere fails as incomplete
 * (INVAL) or, cut within its magic number, as not a type scand takes. Files
 * are made by the real codec libraries (image-gen.c) and by scand's PDF
 * engine; truncation is an ftruncate of a memfd. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "image-gen.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/core/file-check.h"
#include "scand/core/pdf-merge.h"
#include "scand/core/pdf.h"

typedef struct {
  char *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
  f->dir = g_dir_make_tmp("test-file-check-XXXXXX", NULL);
  g_assert_nonnull(f->dir);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
  scand_fs_remove_tree(f->dir);
  g_free(f->dir);
}

/* A memfd holding path's bytes; *size gets their number. */
static int memfd_of(const char *path, gsize *size) {
  g_autofree char *data = NULL;
  g_assert_true(g_file_get_contents(path, &data, size, NULL));
  int fd = memfd_create("file-check", MFD_CLOEXEC);
  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpint(write(fd, data, *size), ==, (ssize_t) *size);
  return fd;
}

/* The whole file passes as type; every cut at most keep_tail bytes short of
 * the end (a trailing line end may go) passes or fails, every shorter one
 * fails: INVAL when the magic number is still there, else UNSUPPORTED. */
static void assert_whole_and_cut(const char *path, ScandFileType type, gsize magic, gsize keep_tail) {
  gsize size = 0;
  int fd = memfd_of(path, &size);
  g_autoptr(GError) error = NULL;
  ScandFileType found = SCAND_FILE_UNKNOWN;
  g_assert_true(scand_file_check_complete(fd, &found, &error));
  g_assert_no_error(error);
  g_assert_cmpint(found, ==, type);
  /* Small files at every length; big ones at their first and last 64 and
   * 600 more spread between. Shortest last: a memfd only shrinks. */
  gsize step = size > 20000 ? size / 600 : 1;
  g_autoptr(GArray) lens = g_array_new(FALSE, FALSE, sizeof(gsize));
  for (gsize len = 0; len + keep_tail < size; len = len < 64 || len + 64 >= size ? len + 1 : MIN(len + step, size - 64))
    g_array_prepend_val(lens, len);
  for (guint i = 0; i < lens->len; i++) {
    gsize len = g_array_index(lens, gsize, i);
    g_assert_cmpint(ftruncate(fd, (off_t) len), ==, 0);
    gboolean ok = scand_file_check_complete(fd, NULL, &error);
    if (ok)
      g_error("%s cut to %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes passed", path, len, size);
    if (!g_error_matches(error, SCAND_ERROR, (len >= magic ? SCAND_ERROR_INVAL : SCAND_ERROR_UNSUPPORTED)))
      g_error("%s cut to %" G_GSIZE_FORMAT ": %s", path, len, error->message);
    g_assert_error(error, SCAND_ERROR, (len >= magic ? SCAND_ERROR_INVAL : SCAND_ERROR_UNSUPPORTED));
    g_assert_null(strchr(error->message, '\n'));
    g_clear_error(&error);
  }
  close(fd);
}

static void test_jpeg(Fixture *f, gconstpointer data) {
  g_autofree char *path = g_build_filename(f->dir, "a.jpg", NULL);
  image_gen_jpeg(path, 97, 61, 3, 80, 300, TRUE);
  assert_whole_and_cut(path, SCAND_FILE_JPEG, 3, 0);
}

static void test_png(Fixture *f, gconstpointer data) {
  g_autofree char *path = g_build_filename(f->dir, "a.png", NULL);
  image_gen_png(path, SCAND_PAGE_RGB24, 97, 61, 300, FALSE);
  assert_whole_and_cut(path, SCAND_FILE_PNG, 8, 0);
}

static void test_tiff(Fixture *f, gconstpointer data) {
  g_autofree char *path = g_build_filename(f->dir, "a.tif", NULL);
  const ScandPageFormat formats[] = { SCAND_PAGE_BW1, SCAND_PAGE_GRAY8, SCAND_PAGE_RGB24 };
  image_gen_tiff(path, formats, G_N_ELEMENTS(formats), 97, 61, 300);
  assert_whole_and_cut(path, SCAND_FILE_TIFF, 4, 0);
}

static void test_pnm(Fixture *f, gconstpointer data) {
  const ScandPageFormat formats[] = { SCAND_PAGE_BW1, SCAND_PAGE_GRAY8, SCAND_PAGE_RGB24 };
  for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
    g_autofree char *path = g_strdup_printf("%s/a%u.pnm", f->dir, i);
    image_gen_pnm(path, formats[i], 37, 21, 0);
    assert_whole_and_cut(path, SCAND_FILE_PNM, 3, 0);
  }
}

static void test_pdf(Fixture *f, gconstpointer data) {
  g_autofree char *jpeg = g_build_filename(f->dir, "p.jpg", NULL);
  g_autofree char *path = g_build_filename(f->dir, "a.pdf", NULL);
  image_gen_jpeg(jpeg, 97, 61, 3, 80, 300, TRUE);
  ScandPdfOptions options = { .scratch_dir = f->dir };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&options, &error);
  g_assert_true(scand_pdf_add_file(pdf, jpeg, 0, &error) && scand_pdf_add_file(pdf, jpeg, 0, &error));
  g_assert_true(scand_pdf_save(pdf, path, &error));
  /* "%%EOF\n": the line end may go. */
  assert_whole_and_cut(path, SCAND_FILE_PDF, 5, 1);
  /* libqpdf reads it as it is; cut before its end it needs repair. */
  guint pages = 0;
  g_assert_true(scand_pdf_check_readable(path, FALSE, &pages, &error));
  g_assert_cmpuint(pages, ==, 2);
  g_autofree char *data_bytes = NULL;
  gsize size = 0;
  g_assert_true(g_file_get_contents(path, &data_bytes, &size, NULL));
  g_autofree char *cut = g_build_filename(f->dir, "cut.pdf", NULL);
  g_assert_true(g_file_set_contents(cut, data_bytes, (gssize) (size * 2 / 3), NULL));
  g_assert_false(scand_pdf_check_readable(cut, FALSE, NULL, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

/* Malformed beyond truncation: what points outside the file. */
static void test_pointers_outside(Fixture *f, gconstpointer data) {
#define CASE(bytes, why)                                                                                               \
  { bytes, sizeof bytes - 1, why }
  static const struct {
    const char *bytes;
    gsize len;
    const char *why;
  } cases[] = {
    CASE("%PDF-1.4\n1 0 obj<<>>endobj\nstartxref\n99999\n%%EOF\n", "startxref"),
    CASE("%PDF-1.4\n1 0 obj<<>>endobj\nstartxref\n5\n%%EOF\n", "cross-reference"),
    CASE("%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", "startxref"),
    CASE("II*\0\x08\0\0\0\x01\0\x11\x01\x04\0\x01\0\0\0\xff\xff\0\0\0\0\0\0", "TIFF"),
    CASE("MM\0*\0\0\0\x08\0\x02\x01\x11\0\x04\0\0\0\x01\0\0\0\x08\x01\x17\0\x04\0\0\0\x01\x7f\0\0\0\0\0\0\0", "strip"),
    CASE("II*\0\x08\0\0\0\x01\0\x1a\x01\x05\0\x01\0\0\0\xf0\0\0\0\0\0\0\0", "points outside"),
    CASE("\xff\xd8\xff\xe0\xff\xff", "JPEG"),
    CASE("\x89PNG\r\n\x1a\n\x7f\xff\xff\xffIHDR", "PNG"),
    CASE("P5\n3 3\n255\n\x01\x02", "PNM"),
    CASE("P6\n99999999999 1\n255\n", "PNM"),
  };
#undef CASE
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    int fd = memfd_create("file-check", MFD_CLOEXEC);
    g_assert_cmpint(write(fd, cases[i].bytes, cases[i].len), ==, (ssize_t) cases[i].len);
    g_autoptr(GError) error = NULL;
    g_assert_false(scand_file_check_complete(fd, NULL, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    if (!strstr(error->message, cases[i].why))
      g_error("case %u: \"%s\" does not say %s", i, error->message, cases[i].why);
    close(fd);
  }
}

static void test_unknown(Fixture *f, gconstpointer data) {
  static const char *const texts[] = { "", "hello", "P1\n1 1\n1\n", "GIF89a" };
  for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
    int fd = memfd_create("file-check", MFD_CLOEXEC);
    g_assert_cmpint(write(fd, texts[i], strlen(texts[i])), ==, (ssize_t) strlen(texts[i]));
    g_autoptr(GError) error = NULL;
    ScandFileType type = SCAND_FILE_PDF;
    g_assert_false(scand_file_check_complete(fd, &type, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED);
    g_assert_cmpint(type, ==, SCAND_FILE_UNKNOWN);
    close(fd);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add("/file-check/jpeg", Fixture, NULL, fixture_setup, test_jpeg, fixture_teardown);
  g_test_add("/file-check/png", Fixture, NULL, fixture_setup, test_png, fixture_teardown);
  g_test_add("/file-check/tiff", Fixture, NULL, fixture_setup, test_tiff, fixture_teardown);
  g_test_add("/file-check/pnm", Fixture, NULL, fixture_setup, test_pnm, fixture_teardown);
  g_test_add("/file-check/pdf", Fixture, NULL, fixture_setup, test_pdf, fixture_teardown);
  g_test_add("/file-check/pointers-outside", Fixture, NULL, fixture_setup, test_pointers_outside, fixture_teardown);
  g_test_add("/file-check/unknown", Fixture, NULL, fixture_setup, test_unknown, fixture_teardown);
  return g_test_run();
}
