/* Libraries loaded when first used: each one scand ships with loads by its
 * soname with every symbol scand calls, only when asked (not mapped before),
 * and a library or symbol that is missing is a one-line error naming it. */
#include <stdio.h>
#include <string.h>

#include "outputs/dl-smbclient.h"
#include "scand-build.h"
#include "scand/base/dl.h"
#include "scand/base/error.h"
#include "scand/core/dl-qpdf.h"
#if SCAND_HAVE_OCR
#include "scand/core/dl-lept.h"
#include "scand/core/dl-tesseract.h"
#include "scand/core/dl-zbar.h"
#endif

/* Whether a file whose name starts with prefix is mapped into this process. */
static gboolean mapped(const char *prefix) {
  g_autofree char *maps = NULL;
  g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(maps, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    const char *slash = strrchr(lines[i], '/');
    if (slash && g_str_has_prefix(slash + 1, prefix))
      return TRUE;
  }
  return FALSE;
}

typedef struct {
  const char *file;
  gboolean (*load)(GError **error);
  void **one_symbol;
} Row;

static void test_load(void) {
  const Row rows[] = {
    { "libsmbclient.so", dl_smbclient_load, (void **) &sym_smbc_new_context },
    { "libqpdf.so", dl_qpdf_load, (void **) &sym_qpdf_init },
#if SCAND_HAVE_OCR
    { "liblept.so", dl_lept_load, (void **) &sym_pixCreate },
    { "libtesseract.so", dl_tesseract_load, (void **) &sym_TessBaseAPICreate },
    { "libzbar.so", dl_zbar_load, (void **) &sym_zbar_image_create },
#endif
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    g_test_message("%s", rows[i].file);
    g_assert_false(mapped(rows[i].file));
    g_assert_null(*rows[i].one_symbol);
    g_autoptr(GError) error = NULL;
    g_assert_true(rows[i].load(&error));
    g_assert_no_error(error);
    g_assert_true(mapped(rows[i].file));
    g_assert_nonnull(*rows[i].one_symbol);
    /* Later calls: the same outcome, nothing loaded again. */
    g_assert_true(rows[i].load(NULL));
  }
}

static void *sym_missing_one;
static void *sym_present_one;

static void test_missing(void) {
  static const ScandDlSymbol none[] = { { NULL, NULL } };
  static ScandDlLibrary absent = { .soname = "libscand-no-such.so.7", .purpose = "a test", .symbols = none };
  g_autoptr(GError) error = NULL;
  g_assert_false(scand_dl_load(&absent, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_FAILED);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "a test needs libscand-no-such.so.7"));
  g_assert_null(strchr(error->message, '\n'));
  g_clear_error(&error);
  g_assert_false(scand_dl_load(&absent, &error));
  g_assert_nonnull(error);

  /* A library that is there but lacks a symbol: refused whole, no pointer set. */
  static const ScandDlSymbol partial[] = {
    { "g_strdup", &sym_present_one },
    { "scand_no_such_function", &sym_missing_one },
    { NULL, NULL },
  };
  static ScandDlLibrary glib = { .soname = "libglib-2.0.so.0", .purpose = "a test", .symbols = partial };
  g_clear_error(&error);
  g_assert_false(scand_dl_load(&glib, &error));
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "libglib-2.0.so.0, which has no scand_no_such_function"));
  g_assert_null(sym_present_one);
  g_assert_null(sym_missing_one);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/dl/load", test_load);
  g_test_add_func("/dl/missing", test_missing);
  return g_test_run();
}
