/* Reading page images from files: JPEG, PNG, PNM (P4/P5/P6) and TIFF.
 * Used by the PDF engine and by `scand assemble`. */
#pragma once

#include <glib.h>
#include "scand/base/page.h"

G_BEGIN_DECLS

typedef struct {
  ScandPageFormat format; /* JPEG, PNG, or the raw format a PNM/TIFF decodes to */
  int width;
  int height;
  int components; /* 1 or 3 (4 = CMYK JPEG) */
  double xres;    /* dpi, 0 if the file does not say */
  double yres;
  gboolean is_tiff;
} ScandImageInfo;

/* Reads only the header of an image file. Fails with SCAND_ERROR_INVAL and a
 * message naming the file for unknown, truncated or malformed input. */
gboolean scand_image_probe(const char *path, ScandImageInfo *info, GError **error);

G_END_DECLS
