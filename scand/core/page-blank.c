/* Blank pages: ink coverage after the border and the noise are removed.
 *
 * The page is made 1-bit at a fixed darkness (gray < 128: pen and print, not
 * the faint show-through of a duplex front), a 4 % border is ignored (scanner
 * shadows, punch holes, feeder marks), and connected specks smaller than 1 mm
 * in both directions (dust, JPEG noise) are removed. What is left, as a share
 * of the inner page, is the ink coverage; a page is blank when it is under
 * blank-threshold (0.01 % by default). A few lines of handwriting are well
 * over it: a 5 cm pen stroke covers about 0.1 %. */
#include "scand/core/page-private.h"

double scand_page_blank_ink(PIX *gray, double dpi) {
  int w = sym_pixGetWidth(gray), h = sym_pixGetHeight(gray);
  int bx = w * 4 / 100, by = h * 4 / 100;
  if (w - 2 * bx < 1 || h - 2 * by < 1)
    return 0;
  BOX *inner = sym_boxCreate(bx, by, w - 2 * bx, h - 2 * by);
  g_autoptr(PIX) clipped = sym_pixClipRectangle(gray, inner, NULL);
  sym_boxDestroy(&inner);
  if (!clipped)
    return -1;
  g_autoptr(PIX) bw = sym_pixThresholdToBinary(clipped, 128);
  if (!bw)
    return -1;
  int mm = MAX(1, (int) (dpi / 25.4 + 0.5));
  g_autoptr(PIX) kept = sym_pixSelectBySize(bw, mm, mm, 8, L_SELECT_IF_EITHER, L_SELECT_IF_GTE, NULL);
  if (!kept)
    return -1;
  l_int32 count = 0;
  sym_pixCountPixels(kept, &count, NULL);
  return 100.0 * count / ((double) sym_pixGetWidth(bw) * sym_pixGetHeight(bw));
}
