/* Colour detection for mode = auto-detect: what a page needs to keep its
 * information, decided per page.
 *
 * colour: more than 0.5 % of the page's non-white, non-black pixels are
 *         clearly coloured (a channel 40 levels off the others; Leptonica's
 *         pixColorFraction, sampling every 2nd pixel);
 * gray:   otherwise, when more than 2 % of the page is mid-tone (gray 64..191
 *         in areas bigger than text edges: photos, shading, highlighter);
 * bw:     the rest (text, lines, stamps): 1-bit, CCITT G4, a typical letter
 *         page at 300 dpi in 30..60 KB. */
#include "scand/core/page-private.h"

/* Mid-tone share after thin anti-aliasing edges are removed (an opening
 * with a 5x5 brick keeps only areas at least that thick). */
static double midtone_share(PIX *gray) {
  g_autoptr(PIX) low = sym_pixThresholdToBinary(gray, 64);   /* 1 = darker than 64 */
  g_autoptr(PIX) high = sym_pixThresholdToBinary(gray, 192); /* 1 = darker than 192 */
  if (!low || !high)
    return 0;
  g_autoptr(PIX) mid = sym_pixSubtract(NULL, high, low);
  g_autoptr(PIX) solid = mid ? sym_pixOpenBrick(NULL, mid, 5, 5) : NULL;
  if (!solid)
    return 0;
  l_int32 count = 0;
  sym_pixCountPixels(solid, &count, NULL);
  return 100.0 * count / ((double) sym_pixGetWidth(gray) * sym_pixGetHeight(gray));
}

ScandPageColor scand_page_color_classify(PIX *pix) {
  if (sym_pixGetDepth(pix) == 32) {
    l_float32 pixfract = 0, colorfract = 0;
    if (sym_pixColorFraction(pix, 40, 220, 40, 2, &pixfract, &colorfract) == 0 && pixfract * colorfract > 0.005f)
      return SCAND_PAGE_COLOR_COLOR;
  }
  g_autoptr(PIX) gray = scand_page_image_gray(pix);
  if (gray && midtone_share(gray) > 2.0)
    return SCAND_PAGE_COLOR_GRAY;
  return SCAND_PAGE_COLOR_BW;
}

PIX *scand_page_color_to_bw(PIX *gray) {
  /* Paper is rarely pure white: normalise the background first, so that a
   * fixed threshold keeps thin strokes on gray or yellowed paper. */
  g_autoptr(PIX) norm = sym_pixBackgroundNormSimple(gray, NULL, NULL);
  return sym_pixThresholdToBinary(norm ? norm : gray, 160);
}
