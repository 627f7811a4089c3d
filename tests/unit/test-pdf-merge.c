/* PDF merging: input documents are made by scand's own PDF engine from flat
 * gray pages whose gray level identifies the page; outputs are checked with
 * `qpdf --check`, counted with `qpdf --show-npages` and every page is rendered
 * with pdftoppm to tell which source page landed where. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "image-gen.h"
#include "scand/base/error.h"
#include "scand/core/pdf-merge.h"
#include "scand/base/fs.h"
#include "scand/core/pdf.h"

/* Pages are 30x30 pixels at 10 dpi: 3 inches square, 30x30 pixels again when
 * pdftoppm renders them at 10 dpi. */
#define SIDE 30
#define DPI 10.0

typedef struct {
  char *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
  f->dir = g_dir_make_tmp("test-pdf-merge-XXXXXX", NULL);
  g_assert_nonnull(f->dir);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
  scand_fs_remove_tree(f->dir);
  g_free(f->dir);
}

static char *path_in(Fixture *f, const char *name) {
  return g_build_filename(f->dir, name, NULL);
}

/* Writes a PDF named name with one flat gray page per level (lossless Flate,
 * so rendering gives the level back exactly). Returns its path. */
static char *make_pdf(Fixture *f, const char *name, const guint8 *levels, guint n) {
  ScandPdfOptions opts = { .raw_mode = SCAND_PDF_RAW_FLATE, .scratch_dir = f->dir };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&opts, &error);
  g_assert_no_error(error);
  for (guint i = 0; i < n; i++) {
    g_autofree char *pgm = g_strdup_printf("%s/page-%s-%u.pgm", f->dir, name, i);
    GString *s = g_string_new(NULL);
    g_string_printf(s, "P5\n%d %d\n255\n", SIDE, SIDE);
    for (int p = 0; p < SIDE * SIDE; p++)
      g_string_append_c(s, (char) levels[i]);
    g_assert_true(g_file_set_contents(pgm, s->str, (gssize) s->len, NULL));
    g_string_free(s, TRUE);
    g_assert_true(scand_pdf_add_file(pdf, pgm, DPI, &error));
    g_assert_no_error(error);
  }
  char *path = path_in(f, name);
  g_assert_true(scand_pdf_save(pdf, path, &error));
  g_assert_no_error(error);
  return path;
}

static void qpdf_check(const char *pdf) {
  const char *argv[] = { "qpdf", "--check", pdf, NULL };
  G_GNUC_UNUSED g_autofree char *out = image_gen_run(argv);
  g_assert_nonnull(strstr(out, "No syntax or stream encoding errors found"));
}

static guint qpdf_npages(const char *pdf) {
  const char *argv[] = { "qpdf", "--show-npages", pdf, NULL };
  G_GNUC_UNUSED g_autofree char *out = image_gen_run(argv);
  return (guint) g_ascii_strtoull(out, NULL, 10);
}

/* Renders page (1-based) of pdf and returns its gray level, asserting the page
 * is flat. */
static guint8 page_level(Fixture *f, const char *pdf, guint page) {
  g_autofree char *prefix = path_in(f, "render");
  g_autofree char *num = g_strdup_printf("%u", page);
  const char *argv[] = { "pdftoppm", "-gray", "-r", "10", "-f", num, "-l", num, "-singlefile", pdf, prefix, NULL };
  G_GNUC_UNUSED g_autofree char *out = image_gen_run(argv);
  g_autofree char *pgm = g_strconcat(prefix, ".pgm", NULL);
  int w, h, ch;
  g_autofree guint8 *px = image_gen_read_pnm(pgm, &w, &h, &ch);
  g_assert_cmpint(w, ==, SIDE);
  g_assert_cmpint(h, ==, SIDE);
  g_assert_cmpint(ch, ==, 1);
  guint8 level = px[(h / 2) * w + w / 2];
  for (int i = 0; i < w * h; i++)
    g_assert_cmpuint(px[i], ==, level);
  g_remove(pgm);
  return level;
}

static void assert_levels(Fixture *f, const char *pdf, const guint8 *expected, guint n) {
  qpdf_check(pdf);
  g_assert_cmpuint(qpdf_npages(pdf), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint(page_level(f, pdf, i + 1), ==, expected[i]);
}

/* Asserts that nothing but the expected names exists in the fixture dir (no
 * output, no temporary file left behind by a failure). */
static void assert_dir_has_only_inputs(Fixture *f, const char *const *allowed) {
  g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d))) {
    if (g_str_has_prefix(name, "page-"))
      continue;
    if (!g_strv_contains(allowed, name))
      g_error("unexpected file left in the directory: %s", name);
  }
}

static const guint8 fronts_levels[] = { 20, 40, 60, 80 };
static const guint8 backs_levels[] = { 120, 140, 160, 180 };

static void test_count_pages(Fixture *f, gconstpointer data) {
  g_autofree char *a = make_pdf(f, "a.pdf", fronts_levels, 4);
  g_autofree char *b = make_pdf(f, "b.pdf", backs_levels, 1);
  guint n = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_pdf_count_pages(a, &n, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(n, ==, 4);
  g_assert_cmpuint(n, ==, qpdf_npages(a));
  g_assert_true(scand_pdf_count_pages(b, &n, &error));
  g_assert_cmpuint(n, ==, 1);

  /* A document with no page at all is a valid PDF with 0 pages. */
  g_autofree char *empty = path_in(f, "empty.pdf");
  const char *argv[] = { "qpdf", "--empty", empty, NULL };
  g_free(image_gen_run(argv));
  g_assert_true(scand_pdf_count_pages(empty, &n, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(n, ==, 0);
}

static void test_collate(Fixture *f, gconstpointer data) {
  g_autofree char *fronts = make_pdf(f, "fronts.pdf", fronts_levels, 4);
  /* The backs pass sees the stack turned over: back of sheet 4 first. */
  const guint8 backs_scanned[] = { backs_levels[3], backs_levels[2], backs_levels[1], backs_levels[0] };
  g_autofree char *backs = make_pdf(f, "backs.pdf", backs_scanned, 4);
  g_autofree char *out = path_in(f, "out.pdf");
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_pdf_collate_double_sided(fronts, backs, out, &error));
  g_assert_no_error(error);
  const guint8 expected[] = { 20, 120, 40, 140, 60, 160, 80, 180 };
  assert_levels(f, out, expected, G_N_ELEMENTS(expected));

  struct stat st;
  g_assert_cmpint(g_stat(out, &st), ==, 0);
  g_assert_cmpuint(st.st_mode & 0777, ==, 0644);
  const char *const allowed[] = { "fronts.pdf", "backs.pdf", "out.pdf", NULL };
  assert_dir_has_only_inputs(f, allowed);
}

static void test_collate_single_sheet(Fixture *f, gconstpointer data) {
  g_autofree char *fronts = make_pdf(f, "fronts.pdf", fronts_levels, 1);
  g_autofree char *backs = make_pdf(f, "backs.pdf", backs_levels, 1);
  g_autofree char *out = path_in(f, "out.pdf");
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_pdf_collate_double_sided(fronts, backs, out, &error));
  g_assert_no_error(error);
  const guint8 expected[] = { 20, 120 };
  assert_levels(f, out, expected, 2);
}

static void test_collate_count_mismatch(Fixture *f, gconstpointer data) {
  g_autofree char *fronts = make_pdf(f, "fronts.pdf", fronts_levels, 4);
  g_autofree char *backs = make_pdf(f, "backs.pdf", backs_levels, 3);
  g_autofree char *out = path_in(f, "out.pdf");
  g_autoptr(GError) error = NULL;
  g_assert_false(scand_pdf_collate_double_sided(fronts, backs, out, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_nonnull(strstr(error->message, "fronts.pdf has 4 front pages"));
  g_assert_nonnull(strstr(error->message, "backs.pdf has 3 back pages"));
  g_assert_null(strchr(error->message, '\n'));
  const char *const allowed[] = { "fronts.pdf", "backs.pdf", NULL };
  assert_dir_has_only_inputs(f, allowed);
}

static void test_concatenate(Fixture *f, gconstpointer data) {
  g_autofree char *a = make_pdf(f, "a.pdf", fronts_levels, 2);
  g_autofree char *b = make_pdf(f, "b.pdf", backs_levels, 3);
  g_autofree char *c = make_pdf(f, "c.pdf", fronts_levels + 3, 1);
  g_autofree char *out = path_in(f, "out.pdf");
  const char *const inputs[] = { a, b, c, NULL };
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_pdf_concatenate(inputs, out, &error));
  g_assert_no_error(error);
  const guint8 expected[] = { 20, 40, 120, 140, 160, 80 };
  assert_levels(f, out, expected, G_N_ELEMENTS(expected));

  /* The output of a merge is itself a good input. */
  g_autofree char *twice = path_in(f, "twice.pdf");
  const char *const again[] = { out, out, NULL };
  g_assert_true(scand_pdf_concatenate(again, twice, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(qpdf_npages(twice), ==, 12);
  qpdf_check(twice);

  /* The output may be one of the inputs: appending b to a in place. */
  const char *const in_place[] = { a, b, NULL };
  g_assert_true(scand_pdf_concatenate(in_place, a, &error));
  g_assert_no_error(error);
  const guint8 appended[] = { 20, 40, 120, 140, 160 };
  assert_levels(f, a, appended, G_N_ELEMENTS(appended));
}

static void test_merge_order(Fixture *f, gconstpointer data) {
  g_autofree char *a = make_pdf(f, "a.pdf", fronts_levels, 4);
  g_autofree char *b = make_pdf(f, "b.pdf", backs_levels, 2);
  g_autofree char *out = path_in(f, "out.pdf");
  const char *const inputs[] = { a, b, NULL };
  /* Reordered, interleaved, and one page used twice. */
  const ScandPdfPageRef order[] = { { 0, 3 }, { 1, 1 }, { 0, 0 }, { 0, 3 }, { 1, 0 } };
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_pdf_merge(inputs, order, G_N_ELEMENTS(order), out, &error));
  g_assert_no_error(error);
  const guint8 expected[] = { 80, 140, 20, 80, 120 };
  assert_levels(f, out, expected, G_N_ELEMENTS(expected));

  /* The image stream is copied, not re-encoded: the output's only images
   * are those of the inputs, and a page used twice shares one. */
  GStatBuf st_a, st_out;
  g_assert_cmpint(g_stat(a, &st_a), ==, 0);
  g_assert_cmpint(g_stat(out, &st_out), ==, 0);
  g_assert_cmpint(st_out.st_size, <, st_a.st_size * 2);
}

static void test_missing_page(Fixture *f, gconstpointer data) {
  g_autofree char *a = make_pdf(f, "a.pdf", fronts_levels, 2);
  g_autofree char *backs = make_pdf(f, "backs.pdf", backs_levels, 3);
  g_autofree char *out = path_in(f, "out.pdf");
  const char *const inputs[] = { a, backs, NULL };
  const ScandPdfPageRef order[] = { { 0, 0 }, { 1, 6 } };
  g_autoptr(GError) error = NULL;
  g_assert_false(scand_pdf_merge(inputs, order, 2, out, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_autofree char *expect = g_strdup_printf("%s: page 7 does not exist (it has 3 pages)", backs);
  g_assert_cmpstr(error->message, ==, expect);
  g_clear_error(&error);

  /* An input index past the list. */
  const ScandPdfPageRef bad_input[] = { { 2, 0 } };
  g_assert_false(scand_pdf_merge(inputs, bad_input, 1, out, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_clear_error(&error);

  /* No pages at all. */
  g_assert_false(scand_pdf_merge(inputs, order, 0, out, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_clear_error(&error);

  const char *const allowed[] = { "a.pdf", "backs.pdf", NULL };
  assert_dir_has_only_inputs(f, allowed);
}

static void test_bad_inputs(Fixture *f, gconstpointer data) {
  g_autofree char *good = make_pdf(f, "good.pdf", fronts_levels, 2);
  g_autofree char *scan = path_in(f, "scan.pdf");
  g_assert_true(g_file_set_contents(scan, "\xff\xd8\xff\xe0 this is a JPEG, not a PDF", -1, NULL));
  g_autofree char *damaged = path_in(f, "damaged.pdf");
  g_assert_true(g_file_set_contents(damaged, "%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage\n%%EOF\n", -1, NULL));
  g_autofree char *empty = path_in(f, "empty.pdf");
  g_assert_true(g_file_set_contents(empty, "", 0, NULL));
  g_autofree char *missing = path_in(f, "missing.pdf");
  g_autofree char *out = path_in(f, "out.pdf");
  g_autoptr(GError) error = NULL;
  guint n = 0;

  g_assert_false(scand_pdf_count_pages(scan, &n, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_autofree char *expect = g_strdup_printf("%s: not a PDF", scan);
  g_assert_cmpstr(error->message, ==, expect);
  g_clear_error(&error);

  g_assert_false(scand_pdf_count_pages(empty, &n, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_clear_error(&error);

  g_assert_false(scand_pdf_count_pages(missing, &n, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
  g_assert_true(g_str_has_prefix(error->message, missing));
  g_clear_error(&error);

  g_assert_false(scand_pdf_count_pages(damaged, &n, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_true(g_str_has_prefix(error->message, damaged));
  g_assert_null(strchr(error->message, '\n'));
  g_clear_error(&error);

  /* A bad input among good ones leaves neither output nor temporary file. */
  const char *const inputs[] = { good, scan, NULL };
  g_assert_false(scand_pdf_concatenate(inputs, out, &error));
  g_assert_cmpstr(error->message, ==, expect);
  g_clear_error(&error);
  const ScandPdfPageRef order[] = { { 0, 0 }, { 1, 0 } };
  g_assert_false(scand_pdf_merge(inputs, order, 2, out, &error));
  g_assert_cmpstr(error->message, ==, expect);
  g_clear_error(&error);
  g_assert_false(scand_pdf_collate_double_sided(good, damaged, out, &error));
  g_assert_true(g_str_has_prefix(error->message, damaged));
  g_clear_error(&error);
  const char *const allowed[] = { "good.pdf", "scan.pdf", "damaged.pdf", "empty.pdf", NULL };
  assert_dir_has_only_inputs(f, allowed);
}

static void test_encrypted(Fixture *f, gconstpointer data) {
  g_autofree char *plain = make_pdf(f, "plain.pdf", fronts_levels, 2);
  g_autofree char *fronts = path_in(f, "fronts.pdf");
  g_autofree char *backs = path_in(f, "backs.pdf");
  /* One needs a password to open; the other opens with an empty password and
   * only restricts what may be done with it. */
  const char *argv1[] = { "qpdf", "--encrypt", "secret", "owner", "256", "--", plain, fronts, NULL };
  g_free(image_gen_run(argv1));
  const char *argv2[] = { "qpdf", "--encrypt", "", "owner", "256", "--modify=none", "--", plain, backs, NULL };
  g_free(image_gen_run(argv2));
  g_autofree char *out = path_in(f, "out.pdf");
  g_autoptr(GError) error = NULL;
  guint n = 0;

  g_assert_false(scand_pdf_count_pages(fronts, &n, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_DENIED);
  g_autofree char *expect_f = g_strdup_printf("%s is encrypted", fronts);
  g_assert_cmpstr(error->message, ==, expect_f);
  g_clear_error(&error);

  g_assert_false(scand_pdf_collate_double_sided(plain, backs, out, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_DENIED);
  g_autofree char *expect_b = g_strdup_printf("%s is encrypted", backs);
  g_assert_cmpstr(error->message, ==, expect_b);
  g_clear_error(&error);

  const char *const allowed[] = { "plain.pdf", "fronts.pdf", "backs.pdf", NULL };
  assert_dir_has_only_inputs(f, allowed);
}

static void test_failure_keeps_old_output(Fixture *f, gconstpointer data) {
  g_autofree char *a = make_pdf(f, "a.pdf", fronts_levels, 2);
  g_autofree char *b = make_pdf(f, "b.pdf", backs_levels, 1);
  g_autofree char *out = path_in(f, "out.pdf");
  g_assert_true(g_file_set_contents(out, "previous document", -1, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_false(scand_pdf_collate_double_sided(a, b, out, &error));
  g_clear_error(&error);
  g_autofree char *content = NULL;
  g_assert_true(g_file_get_contents(out, &content, NULL, NULL));
  g_assert_cmpstr(content, ==, "previous document");

  /* A successful merge replaces it. */
  const char *const inputs[] = { a, b, NULL };
  g_assert_true(scand_pdf_concatenate(inputs, out, &error));
  g_assert_no_error(error);
  const guint8 expected[] = { 20, 40, 120 };
  assert_levels(f, out, expected, 3);

  /* An output directory that does not exist. */
  g_autofree char *nowhere = path_in(f, "no/such/dir/out.pdf");
  g_assert_false(scand_pdf_concatenate(inputs, nowhere, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
  g_assert_true(g_str_has_prefix(error->message, nowhere));
  g_clear_error(&error);
  const char *const allowed[] = { "a.pdf", "b.pdf", "out.pdf", NULL };
  assert_dir_has_only_inputs(f, allowed);
}

/* Writes a PDF made of the given object bodies (object i + 1 is objs[i],
 * object 1 the catalog) with a correct xref table. */
static char *write_raw_pdf(Fixture *f, const char *name, GPtrArray *objs) {
  GString *out = g_string_new("%PDF-1.4\n");
  g_autoptr(GArray) offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
  for (guint i = 0; i < objs->len; i++) {
    g_array_append_val(offsets, out->len);
    g_string_append_printf(out, "%u 0 obj\n%s\nendobj\n", i + 1, (const char *) objs->pdata[i]);
  }
  gsize xref = out->len;
  g_string_append_printf(out, "xref\n0 %u\n0000000000 65535 f \n", objs->len + 1);
  for (guint i = 0; i < offsets->len; i++)
    g_string_append_printf(out, "%010zu 00000 n \n", g_array_index(offsets, gsize, i));
  g_string_append_printf(out, "trailer\n<< /Size %u /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", objs->len + 1, xref);
  char *path = path_in(f, name);
  g_assert_true(g_file_set_contents(path, out->str, (gssize) out->len, NULL));
  g_string_free(out, TRUE);
  return path;
}

/* Page trees a few kilobytes long that would make qpdf allocate a gigabyte
 * (one page per repeated "3 0 R") or overflow its stack (deep nesting) are
 * refused before qpdf builds its page list; harmless extremes still work. */
static void test_hostile_page_trees(Fixture *f, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  guint n = 0;

  g_autoptr(GPtrArray) wide = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(wide, g_strdup("<< /Type /Catalog /Pages 2 0 R >>"));
  GString *kids = g_string_new("<< /Type /Pages /Count 1 /Kids [");
  for (guint i = 0; i < SCAND_PDF_MERGE_MAX_PAGES + 1; i++)
    g_string_append(kids, "3 0 R ");
  g_string_append(kids, "] >>");
  g_ptr_array_add(wide, g_string_free(kids, FALSE));
  g_ptr_array_add(wide, g_strdup("<< /Type /Page /MediaBox [0 0 72 72] >>"));
  g_autofree char *too_wide = write_raw_pdf(f, "wide.pdf", wide);
  g_assert_false(scand_pdf_count_pages(too_wide, &n, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_autofree char *expect_wide =
      g_strdup_printf("%s: more than %u pages, the most scand handles", too_wide, SCAND_PDF_MERGE_MAX_PAGES);
  g_assert_cmpstr(error->message, ==, expect_wide);
  g_clear_error(&error);

  /* Exactly the limit, every page the same object: qpdf counts each. */
  g_free(g_ptr_array_steal_index(wide, 1));
  kids = g_string_new("<< /Type /Pages /Count 1 /Kids [");
  for (guint i = 0; i < SCAND_PDF_MERGE_MAX_PAGES; i++)
    g_string_append(kids, "3 0 R ");
  g_string_append(kids, "] >>");
  g_ptr_array_insert(wide, 1, g_string_free(kids, FALSE));
  g_autofree char *at_limit = write_raw_pdf(f, "limit.pdf", wide);
  g_assert_true(scand_pdf_count_pages(at_limit, &n, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(n, ==, SCAND_PDF_MERGE_MAX_PAGES);

  /* A chain of 30000 /Pages nodes crashed qpdf 11.3 (stack overflow). */
  for (guint depth = 200; depth <= 30000; depth += 29800) {
    g_autoptr(GPtrArray) deep = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(deep, g_strdup("<< /Type /Catalog /Pages 2 0 R >>"));
    for (guint i = 0; i < depth; i++)
      g_ptr_array_add(deep, g_strdup_printf("<< /Type /Pages /Count 1 /Kids [%u 0 R] >>", i + 3));
    g_ptr_array_add(deep, g_strdup("<< /Type /Page /MediaBox [0 0 72 72] >>"));
    g_autofree char *name = g_strdup_printf("deep-%u.pdf", depth);
    g_autofree char *path = write_raw_pdf(f, name, deep);
    if (depth == 200) {
      g_assert_true(scand_pdf_count_pages(path, &n, &error));
      g_assert_no_error(error);
      g_assert_cmpuint(n, ==, 1);
    } else {
      g_assert_false(scand_pdf_count_pages(path, &n, &error));
      g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
      g_autofree char *expect = g_strdup_printf("%s: page tree deeper than 256 levels", path);
      g_assert_cmpstr(error->message, ==, expect);
      g_clear_error(&error);
    }
  }

  /* A loop in the page tree. */
  g_autoptr(GPtrArray) loop = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(loop, g_strdup("<< /Type /Catalog /Pages 2 0 R >>"));
  g_ptr_array_add(loop, g_strdup("<< /Type /Pages /Count 2 /Kids [3 0 R 2 0 R] >>"));
  g_ptr_array_add(loop, g_strdup("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>"));
  g_autofree char *looped = write_raw_pdf(f, "loop.pdf", loop);
  g_assert_false(scand_pdf_count_pages(looped, &n, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_true(g_str_has_prefix(error->message, looped));
  g_assert_null(strchr(error->message, '\n'));
  g_clear_error(&error);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD("/pdf-merge/count-pages", test_count_pages);
  ADD("/pdf-merge/collate", test_collate);
  ADD("/pdf-merge/collate-single-sheet", test_collate_single_sheet);
  ADD("/pdf-merge/collate-count-mismatch", test_collate_count_mismatch);
  ADD("/pdf-merge/concatenate", test_concatenate);
  ADD("/pdf-merge/merge-order", test_merge_order);
  ADD("/pdf-merge/missing-page", test_missing_page);
  ADD("/pdf-merge/bad-inputs", test_bad_inputs);
  ADD("/pdf-merge/encrypted", test_encrypted);
  ADD("/pdf-merge/failure-keeps-old-output", test_failure_keeps_old_output);
  ADD("/pdf-merge/hostile-page-trees", test_hostile_page_trees);
  return g_test_run();
}
