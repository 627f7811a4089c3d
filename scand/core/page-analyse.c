/* One page through every step the options ask for, in this order: load
 * (reduced if huge), turn upright (fixed turns, duplex backs, orientation
 * detection), blank check, barcodes and patch codes, deskew and crop, OCR,
 * colour choice; then the page is re-encoded only if its pixels changed or
 * its colour class asks for a smaller form. */
#include "scand/core/page-private.h"

#include <string.h>

#include "scand/base/error.h"

gboolean scand_page_options_check(const ScandPageOptions *o, GError **error) {
  for (guint i = 0; i < 2; i++) {
    int turn = i ? o->rotate_backs : o->rotate;
    if (turn % 90 != 0 || turn < 0 || turn >= 360) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "rotate%s %d is not 0, 90, 180 or 270", i ? "-backs" : "",
                  turn);
      return FALSE;
    }
  }
  if (o->blank_threshold < 0 || o->blank_threshold > 100) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "blank-threshold %g is not a percentage", o->blank_threshold);
    return FALSE;
  }
  if ((o->ocr && o->ocr[0]) || o->rotate_auto)
    return scand_page_ocr_check(o->ocr, o->rotate_auto, error);
  return TRUE;
}

/* Appends a note, keeping earlier ones. */
static void add_note(ScandPageAnalysis *a, char *note) {
  if (!note)
    return;
  char *joined = a->note ? g_strdup_printf("%s; %s", a->note, note) : g_strdup(note);
  g_free(a->note);
  g_free(note);
  a->note = joined;
}

/* Turns pix upright: fixed turns, duplex backs, then what Tesseract's OSD says. */
static PIX *turn_upright(PIX *pix, guint number, const ScandPageOptions *o, double dpi, ScandPageAnalysis *a) {
  int turn = o->rotate + (number % 2 == 0 ? o->rotate_backs : 0);
  PIX *out = turn % 360 ? sym_pixRotateOrth(pix, (turn % 360) / 90) : sym_pixClone(pix);
  if (o->rotate_auto && out) {
    g_autoptr(PIX) gray = scand_page_image_gray(out);
    char *note = NULL;
    int found = gray ? scand_page_ocr_orientation(gray, dpi, &note) : 0;
    add_note(a, note);
    if (found) {
      PIX *again = sym_pixRotateOrth(out, found / 90);
      sym_pixDestroy(&out);
      out = again;
      turn += found;
    }
  }
  a->rotation = turn % 360;
  return out;
}

/* Deskew and crop when asked; a new image (or a clone). */
static PIX *straighten(PIX *pix, const ScandPageOptions *o, ScandPageAnalysis *a) {
  PIX *out = sym_pixClone(pix);
  if (o->deskew) {
    PIX *d = scand_page_deskew(out, &a->skew);
    sym_pixDestroy(&out);
    out = d;
    a->deskewed = a->skew != 0;
  }
  if (o->crop) {
    PIX *c = scand_page_crop(out, &a->cropped);
    sym_pixDestroy(&out);
    out = c;
  }
  return out;
}

/* Writes the re-encoded page when its pixels changed or its class asks for a
 * smaller form than the file has; else the original goes in as it is. */
static gboolean maybe_reencode(PIX *pix, const char *path, const ScandPageSource *src, const char *out_dir,
                               ScandPageAnalysis *a, GError **error) {
  gboolean changed = a->deskewed || a->cropped;
  gboolean smaller = (a->color == SCAND_PAGE_COLOR_BW) || (a->color == SCAND_PAGE_COLOR_GRAY && src->components == 3);
  if (!changed && !smaller)
    return TRUE;
  g_autoptr(PIX) gray = a->color == SCAND_PAGE_COLOR_COLOR || a->color == SCAND_PAGE_COLOR_AS_IS
                            ? sym_pixClone(pix)
                            : scand_page_image_gray(pix);
  g_autoptr(PIX) out = a->color == SCAND_PAGE_COLOR_BW && gray ? scand_page_color_to_bw(gray) : sym_pixClone(gray);
  if (!out) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s: out of memory re-encoding the page", path);
    return FALSE;
  }
  g_autofree char *base = g_path_get_basename(path);
  g_autofree char *name = g_strdup_printf("%s.processed.pnm", base);
  g_autofree char *target = g_build_filename(out_dir, name, NULL);
  if (!scand_page_image_write_pnm(out, target, error))
    return FALSE;
  a->image = g_steal_pointer(&target);
  a->image_dpi = src->dpi;
  return TRUE;
}

/* OCR of the upright page, with a note instead of text when it fails. */
static void read_text(PIX *pix, const ScandPageOptions *o, double dpi, ScandPageAnalysis *a) {
  if (!o->ocr || !o->ocr[0] || a->blank)
    return;
  g_autoptr(PIX) gray = scand_page_image_gray(pix);
  char *note = NULL;
  a->text = gray ? scand_page_ocr_read(gray, dpi, o->ocr, o->ocr_timeout > 0 ? o->ocr_timeout : 120, &note) : NULL;
  add_note(a, note);
}

ScandPageAnalysis *scand_page_analyse(const char *path, guint number, const ScandPageOptions *o, const char *out_dir,
                                      GError **error) {
  gint64 start = g_get_monotonic_time();
  ScandPageSource src;
  g_autoptr(PIX) loaded = scand_page_image_load(path, o->dpi, &src, error);
  if (!loaded)
    return NULL;
  g_autoptr(ScandPageAnalysis) a = g_new0(ScandPageAnalysis, 1);
  a->ink = -1;
  if (src.reduction > 1)
    add_note(a, g_strdup_printf("analysed at 1/%d size", src.reduction));
  g_autoptr(PIX) upright = turn_upright(loaded, number, o, src.dpi, a);
  g_autoptr(PIX) gray = upright ? scand_page_image_gray(upright) : NULL;
  if (!gray) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s: out of memory analysing the page", path);
    return NULL;
  }
  if (o->blank != SCAND_BLANK_KEEP) {
    a->ink = scand_page_blank_ink(gray, src.dpi);
    double threshold = o->blank_threshold > 0 ? o->blank_threshold : SCAND_BLANK_THRESHOLD_DEFAULT;
    a->blank = a->ink >= 0 && a->ink < threshold;
  }
  a->barcodes = o->barcodes ? scand_page_barcode_read(gray) : g_new0(char *, 1);
  a->patch = o->barcodes ? scand_page_patch_find(gray, src.dpi) : NULL;
  g_autoptr(PIX) straight = straighten(upright, o, a);
  read_text(straight, o, src.dpi, a);
  a->color = o->color_detect ? scand_page_color_classify(straight) : SCAND_PAGE_COLOR_AS_IS;
  if (!maybe_reencode(straight, path, &src, out_dir, a, error))
    return NULL;
  a->seconds = (g_get_monotonic_time() - start) / (double) G_USEC_PER_SEC;
  return g_steal_pointer(&a);
}
