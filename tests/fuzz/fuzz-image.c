/* Fuzz target: scand_image_probe on arbitrary bytes, and for raw pages that
 * probe fine, decoding every row (bounded so that one input stays fast). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "scand/base/image-private.h"
#include "scand/base/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *path;

static void remove_input(void) {
  g_unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!path) {
    int fd = g_file_open_tmp("fuzz-image-XXXXXX", &path, NULL);
    if (fd < 0)
      return 0;
    close(fd);
    atexit(remove_input);
  }
  if (!g_file_set_contents(path, (const char *) data, size, NULL))
    return 0;

  ScandImageInfo info;
  GError *error = NULL;
  if (!scand_image_probe(path, &info, &error)) {
    /* Every failure must say what went wrong, on one line. */
    g_assert_nonnull(error);
    g_assert_null(strchr(error->message, '\n'));
    g_error_free(error);
    return 0;
  }
  g_assert_cmpint(info.width, >, 0);
  g_assert_cmpint(info.height, >, 0);
  if (info.format == SCAND_PAGE_JPEG || (gint64) info.width * info.height > (1 << 20))
    return 0;

  guint pages = 1;
  if (!scand_image_count_pages(path, &pages, NULL))
    return 0;
  for (guint p = 0; p < MIN(pages, 4u); p++) {
    ScandImageInfo page;
    ScandImageReader *reader = scand_image_reader_open(path, p, &page, NULL);
    if (!reader)
      continue;
    if ((gint64) page.width * page.height <= (1 << 20)) {
      guint8 *row = g_malloc(scand_image_row_bytes(page.format, page.width));
      for (int y = 0; y < page.height; y++)
        if (!scand_image_reader_read_row(reader, row, NULL))
          break;
      g_free(row);
    }
    scand_image_reader_free(reader);
  }
  return 0;
}
