/* Fuzz target: arbitrary bytes as a PDF file, counted with
 * scand_pdf_count_pages and, when that works, merged (its first three pages,
 * then the first one with itself as a double-sided pair). Every failure must
 * be a one-line error naming the file, and a failed merge must leave nothing
 * behind; a successful one must produce a PDF scand can count again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "scand/core/pdf-merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dir;
static char *input;
static char *output;

static void remove_files(void) {
  g_unlink(input);
  g_unlink(output);
  g_rmdir(dir);
}

static void assert_one_line_error(GError *error, const char *path) {
  g_assert_nonnull(error);
  g_assert_null(strchr(error->message, '\n'));
  g_assert_true(g_str_has_prefix(error->message, path));
}

/* Asserts that dir holds nothing but the input (and the output if ok). */
static void assert_no_leftovers(gboolean output_expected) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  const char *name;
  while ((name = g_dir_read_name(d)))
    g_assert_true(strcmp(name, "in.pdf") == 0 || (output_expected && strcmp(name, "out.pdf") == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir) {
    dir = g_dir_make_tmp("fuzz-pdf-merge-XXXXXX", NULL);
    if (!dir)
      return 0;
    input = g_build_filename(dir, "in.pdf", NULL);
    output = g_build_filename(dir, "out.pdf", NULL);
    atexit(remove_files);
  }
  g_unlink(output);
  if (!g_file_set_contents(input, (const char *) data, (gssize) size, NULL))
    return 0;

  GError *error = NULL;
  guint pages = 0;
  if (!scand_pdf_count_pages(input, &pages, &error)) {
    assert_one_line_error(error, input);
    g_error_free(error);
    return 0;
  }
  g_assert_no_error(error);
  if (pages == 0)
    return 0;

  const char *const inputs[] = { input, NULL };
  ScandPdfPageRef order[3];
  guint n = MIN(pages, G_N_ELEMENTS(order));
  for (guint i = 0; i < n; i++)
    order[i] = (ScandPdfPageRef){ .input = 0, .page = i };
  gboolean ok = scand_pdf_merge(inputs, order, n, output, &error);
  if (ok) {
    g_assert_no_error(error);
    guint again = 0;
    g_assert_true(scand_pdf_count_pages(output, &again, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(again, ==, n);
  } else {
    g_assert_nonnull(error);
    g_assert_null(strchr(error->message, '\n'));
    g_clear_error(&error);
  }
  assert_no_leftovers(ok);
  g_unlink(output);

  if (pages == 1) {
    ok = scand_pdf_collate_double_sided(input, input, output, &error);
    if (!ok) {
      g_assert_nonnull(error);
      g_assert_null(strchr(error->message, '\n'));
      g_clear_error(&error);
    }
    assert_no_leftovers(ok);
  }
  return 0;
}
