/* Deskew and border crop with Leptonica.
 *
 * Skew is measured on the 1-bit page by Leptonica's differential square-sum
 * search (pixFindSkew) and fixed by rotating with white brought in at the
 * corners; angles under 0.1° or found with low confidence are left alone.
 * Crop cuts off dark scanner borders: from each edge inward, rows or columns
 * that are more than half dark (gray < 128) go. */
#include "scand/core/page-private.h"

#include <math.h>

PIX *scand_page_deskew(PIX *pix, double *angle) {
  *angle = 0;
  g_autoptr(PIX) gray = scand_page_image_gray(pix);
  g_autoptr(PIX) bw = gray ? sym_pixThresholdToBinary(gray, 128) : NULL;
  l_float32 found = 0, conf = 0;
  if (!bw || sym_pixFindSkew(bw, &found, &conf) != 0 || conf < 2.5 || fabsf(found) < 0.1f)
    return sym_pixClone(pix);
  PIX *turned = sym_pixRotate(pix, found * (float) (M_PI / 180.0), L_ROTATE_AREA_MAP, L_BRING_IN_WHITE, 0, 0);
  if (!turned)
    return sym_pixClone(pix);
  *angle = found;
  return turned;
}

/* Whether more than half of the pixels on row/column i of bw are set. */
static gboolean line_dark(PIX *bw, gboolean column, int i) {
  int w = sym_pixGetWidth(bw), h = sym_pixGetHeight(bw);
  int n = column ? h : w, dark = 0;
  for (int k = 0; k < n; k++) {
    l_uint32 v = 0;
    sym_pixGetPixel(bw, column ? i : k, column ? k : i, &v);
    dark += v != 0;
  }
  return dark * 2 > n;
}

PIX *scand_page_crop(PIX *pix, gboolean *cropped) {
  *cropped = FALSE;
  g_autoptr(PIX) gray = scand_page_image_gray(pix);
  g_autoptr(PIX) bw = gray ? sym_pixThresholdToBinary(gray, 128) : NULL;
  if (!bw)
    return sym_pixClone(pix);
  int w = sym_pixGetWidth(bw), h = sym_pixGetHeight(bw);
  int left = 0, right = w - 1, top = 0, bottom = h - 1;
  /* At most a quarter from each side: a dark page is not a border. */
  while (left < w / 4 && line_dark(bw, TRUE, left))
    left++;
  while (right > w * 3 / 4 && line_dark(bw, TRUE, right))
    right--;
  while (top < h / 4 && line_dark(bw, FALSE, top))
    top++;
  while (bottom > h * 3 / 4 && line_dark(bw, FALSE, bottom))
    bottom--;
  if (left == 0 && top == 0 && right == w - 1 && bottom == h - 1)
    return sym_pixClone(pix);
  BOX *box = sym_boxCreate(left, top, right - left + 1, bottom - top + 1);
  PIX *out = sym_pixClipRectangle(pix, box, NULL);
  sym_boxDestroy(&box);
  if (!out)
    return sym_pixClone(pix);
  *cropped = TRUE;
  return out;
}
