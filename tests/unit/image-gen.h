/* Test image generator for test-pdf and test-image: small deterministic
 * images in every page format, written with the real codec libraries. */
#pragma once

#include <glib.h>
#include "scand/base/page.h"

G_BEGIN_DECLS

/* The sample value the generator puts at (x, y) for component c. */
guint8 image_gen_sample(int x, int y, int c);
/* 1-bit pattern: TRUE = black. A black rectangle in the top-left quarter and a
 * checker stripe along the bottom. */
gboolean image_gen_black(int x, int y, int width, int height);

/* JPEG with 1, 3 or 4 (CMYK, with libjpeg's Adobe marker) components; dpi 0 =
 * no density in the JFIF header. noise adds random detail (bigger files). */
void image_gen_jpeg(const char *path, int width, int height, int components, int quality, int dpi, gboolean noise);
/* P4 / P5 / P6 with maxval 255 (or maxval for P5/P6 when > 0). */
void image_gen_pnm(const char *path, ScandPageFormat format, int width, int height, int maxval);
/* PNG: BW1 (1-bit gray), GRAY8 or RGB24; dpi 0 = no pHYs. */
void image_gen_png(const char *path, ScandPageFormat format, int width, int height, int dpi, gboolean interlaced);
/* Multi-page TIFF: one page per format in formats (BW1 pages are min-is-white
 * G4, GRAY8 min-is-black, RGB24), all at width x height and dpi. */
void image_gen_tiff(const char *path, const ScandPageFormat *formats, guint n, int width, int height, int dpi);

/* Expected raw rows of a generated raw page, as scand_image_reader returns them. */
guint8 *image_gen_raw(ScandPageFormat format, int width, int height, gsize *len);

/* Runs argv, asserts exit status 0 and returns stdout (caller frees). */
char *image_gen_run(const char *const *argv);
GBytes *image_gen_run_bytes(const char *const *argv);
/* Reads a binary PGM/PPM (pdftoppm output): returns pixels, sets size and channels. */
guint8 *image_gen_read_pnm(const char *path, int *width, int *height, int *channels);

G_END_DECLS
