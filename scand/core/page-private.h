/* Page processing internals: one step per file (page-image.c, page-ocr.c,
 * page-blank.c, page-deskew.c, page-color.c, page-barcode.c), put together by
 * page-analyse.c. Leptonica images throughout: 8-bit gray or 32-bit RGB. */
#pragma once

#include <glib.h>
#include "scand/core/dl-lept.h"
#include "scand/core/page-process.h"

G_BEGIN_DECLS

/* Pages over this many pixels are analysed at a reduced size (1/2, 1/4, …):
 * 40 M pixels is A4 at 800 dpi. */
#define SCAND_PAGE_MAX_PIXELS (40u * 1000 * 1000)

typedef struct {
  gboolean is_jpeg;
  int components; /* of the file: 1 gray, 3 colour, 4 CMYK */
  int reduction;  /* 1, 2, 4, … : the file is that many times larger than the image */
  double dpi;     /* of the loaded image */
} ScandPageSource;

/* pixDestroy takes PIX**: a wrapper for g_autoptr(PIX) (a PIX exists only
 * once Leptonica is loaded). */
static inline void scand_pix_unref(PIX *pix) {
  sym_pixDestroy(&pix);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PIX, scand_pix_unref)

/* page-image.c: reads a page file (first page) into an 8-bit gray or 32-bit
 * RGB image, reduced to at most SCAND_PAGE_MAX_PIXELS. */
PIX *scand_page_image_load(const char *path, double default_dpi, ScandPageSource *source, GError **error);
/* The image as 8-bit gray (a new image). */
PIX *scand_page_image_gray(PIX *pix);
/* Rows of an 8-bit image as plain bytes, width * height (newly allocated). */
guint8 *scand_page_image_bytes(PIX *gray);
/* Writes 1-bit (P4, 1 = black), 8-bit (P5) or 32-bit (P6) images as PNM,
 * durably (write-temp, fsync, rename). */
gboolean scand_page_image_write_pnm(PIX *pix, const char *path, GError **error);

/* page-ocr.c: Tesseract, one handle per thread and language set. */
gboolean scand_page_ocr_check(const char *languages, gboolean need_osd, GError **error);
/* The words of an upright 8-bit page at dpi; NULL with *note set when OCR
 * failed or ran out of time. */
ScandPdfText *scand_page_ocr_read(PIX *gray, double dpi, const char *languages, double timeout, char **note);
/* The clockwise turn that makes the page upright (0 when unsure). */
int scand_page_ocr_orientation(PIX *gray, double dpi, char **note);

/* page-blank.c: ink coverage in percent (see SCAND_BLANK_THRESHOLD_DEFAULT). */
double scand_page_blank_ink(PIX *gray, double dpi);

/* page-deskew.c: the page straightened (a new image; *angle the skew found,
 * 0 when there was none to fix) and dark borders cut off (*cropped). */
PIX *scand_page_deskew(PIX *pix, double *angle);
PIX *scand_page_crop(PIX *pix, gboolean *cropped);

/* page-color.c: what the page needs. */
ScandPageColor scand_page_color_classify(PIX *pix);
/* The page as 1 bit per pixel (1 = black). */
PIX *scand_page_color_to_bw(PIX *gray);

/* page-barcode.c: barcodes ("TYPE:data", never NULL) and the patch code. */
GStrv scand_page_barcode_read(PIX *gray);
char *scand_page_patch_find(PIX *gray, double dpi);

G_END_DECLS
