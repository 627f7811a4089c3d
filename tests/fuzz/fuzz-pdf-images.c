/* Fuzz target: taking the JPEG pages out of an arbitrary PDF (watched files):
 * either pages whose files exist and start like JPEGs, or one line saying
 * why not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "scand/core/pdf-images.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dir;
static char *path;

static void remove_files(void) {
  g_unlink(path);
  g_rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir) {
    dir = g_dir_make_tmp("fuzz-pdf-images-XXXXXX", NULL);
    if (!dir)
      return 0;
    path = g_build_filename(dir, "in.pdf", NULL);
    atexit(remove_files);
  }
  if (!g_file_set_contents(path, (const char *) data, size, NULL))
    return 0;
  GError *error = NULL;
  GPtrArray *pages = scand_pdf_images_extract(path, dir, "p", &error);
  if (!pages) {
    g_assert_nonnull(error);
    g_assert_null(strchr(error->message, '\n'));
    g_error_free(error);
    return 0;
  }
  g_assert_cmpuint(pages->len, >, 0);
  for (guint i = 0; i < pages->len; i++) {
    ScandPdfImagePage *p = pages->pdata[i];
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(p->path, &bytes, &len, NULL));
    g_assert_true(len >= 2 && (guint8) bytes[0] == 0xFF && (guint8) bytes[1] == 0xD8);
    g_assert_cmpfloat(p->dpi, >, 0);
    g_unlink(p->path);
  }
  g_ptr_array_unref(pages);
  return 0;
}
