/* Image decoding internals shared by image.c, pdf.c and their tests. */
#pragma once

#include <glib.h>
#include "scand/base/image.h"

G_BEGIN_DECLS

/* Limits that keep a hostile header from making us allocate or write absurd
 * amounts: 65535 is JPEG's own limit, 2^30 pixels is a 1200 dpi A0 page. */
#define SCAND_IMAGE_MAX_SIDE 65535
#define SCAND_IMAGE_MAX_PIXELS (G_GUINT64_CONSTANT(1) << 30)

/* What the PDF engine needs beyond ScandImageInfo for a JPEG it embeds as-is. */
typedef struct {
  ScandImageInfo info;
  gboolean adobe_inverted; /* 4-component JPEG with an Adobe APP14 marker: stored inverted */
} ScandImageJpegInfo;

/* Reads the header of a JPEG file and checks that it is complete (ends with an
 * EOI marker). */
gboolean scand_image_probe_jpeg(const char *path, ScandImageJpegInfo *jinfo, GError **error);

/* Number of pages in a file: TIFF directories, 1 for every other format. */
gboolean scand_image_count_pages(const char *path, guint *n_pages, GError **error);

/* For a PNM whose pixel bytes can be used unchanged (P4, or P5/P6 with maxval
 * 255): the offset of the pixel data. FALSE (no error) otherwise. */
gboolean scand_image_pnm_raw_offset(const char *path, goffset *offset);

/* Bytes per decoded row of a raw format. */
gsize scand_image_row_bytes(ScandPageFormat format, int width);

/* Decodes one page of a PNG, PNM or TIFF file row by row into a raw format:
 * SCAND_PAGE_BW1 (1 = black), SCAND_PAGE_GRAY8 or SCAND_PAGE_RGB24. */
typedef struct ScandImageReader ScandImageReader;

/* Opens page index (0-based) of path; *info gets the raw format, size and
 * resolution of that page. Returns a reader the caller frees. */
ScandImageReader *scand_image_reader_open(const char *path, guint index, ScandImageInfo *info, GError **error);
/* Reads the next row (scand_image_row_bytes() bytes) into row. */
gboolean scand_image_reader_read_row(ScandImageReader *reader, guint8 *row, GError **error);
/* Accepts NULL. */
void scand_image_reader_free(ScandImageReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandImageReader, scand_image_reader_free)

G_END_DECLS
