/* Barcodes (zbar) and Kodak patch codes on a page.
 *
 * zbar scans the 8-bit page in both directions with every symbology it knows
 * (EAN/UPC, Code 39/93/128, Interleaved 2 of 5, Codabar, DataBar, QR, …).
 *
 * Patch codes are not barcodes zbar reads: four black bars parallel to the
 * leading edge, each narrow (0.08 in) or wide (0.20 in), with narrow
 * (0.08 in) spaces between them, 0.80 in in all, at least 2 in long. The six
 * codes are the six orders of two wide and two narrow bars:
 *   1 = W W N N   2 = W N N W   3 = W N W N   4 = N W W N   6 = N N W W
 *   T = N W N W   (the transfer patch used as a separator sheet)
 * They are found by their bar pattern: columns (and, for end-fed sheets, rows)
 * sampled every 0.1 in are cut into dark/light runs; seven runs matching the
 * widths (±0.03 in) between light quiet zones are a candidate, and the code is
 * accepted when at least 15 neighbouring samples (1.5 in of bar length) agree. */
#include "scand/core/page-private.h"

#include <string.h>

#include "scand/core/dl-zbar.h"

GStrv scand_page_barcode_read(PIX *gray) {
  g_autoptr(GStrvBuilder) found = g_strv_builder_new();
  /* libzbar0 is a dependency of scand's package: without it, no barcodes. */
  if (!dl_zbar_load(NULL))
    return g_strv_builder_end(found);
  int w = sym_pixGetWidth(gray), h = sym_pixGetHeight(gray);
  zbar_image_scanner_t *scanner = sym_zbar_image_scanner_create();
  zbar_image_t *image = sym_zbar_image_create();
  if (scanner && image) {
    sym_zbar_image_scanner_set_config(scanner, 0, ZBAR_CFG_ENABLE, 1);
    /* zbar 0.23's DataBar decoder prints assertion warnings on ordinary text
     * pages; office separators do not use DataBar (a grocery code). */
    sym_zbar_image_scanner_set_config(scanner, ZBAR_DATABAR, ZBAR_CFG_ENABLE, 0);
    sym_zbar_image_scanner_set_config(scanner, ZBAR_DATABAR_EXP, ZBAR_CFG_ENABLE, 0);
    sym_zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
    sym_zbar_image_set_size(image, (unsigned) w, (unsigned) h);
    sym_zbar_image_set_data(image, scand_page_image_bytes(gray), (unsigned long) w * h, sym_zbar_image_free_data);
    if (sym_zbar_scan_image(scanner, image) > 0) {
      for (const zbar_symbol_t *s = sym_zbar_image_first_symbol(image); s; s = sym_zbar_symbol_next(s)) {
        const char *data = sym_zbar_symbol_get_data(s);
        if (data && g_utf8_validate(data, -1, NULL)) {
          g_autofree char *item = g_strdup_printf("%s:%s", sym_zbar_get_symbol_name(sym_zbar_symbol_get_type(s)), data);
          g_strv_builder_add(found, item);
        }
      }
    }
  }
  if (image)
    sym_zbar_image_destroy(image);
  if (scanner)
    sym_zbar_image_scanner_destroy(scanner);
  return g_strv_builder_end(found);
}

/* The code whose bar order (TRUE = wide) is pattern, or NULL. */
static const char *patch_name(const gboolean wide[4]) {
  static const struct {
    const char *name;
    gboolean wide[4];
  } codes[] = {
    { "1", { 1, 1, 0, 0 } }, { "2", { 1, 0, 0, 1 } }, { "3", { 1, 0, 1, 0 } },
    { "4", { 0, 1, 1, 0 } }, { "6", { 0, 0, 1, 1 } }, { "T", { 0, 1, 0, 1 } },
  };
  for (guint i = 0; i < G_N_ELEMENTS(codes); i++)
    if (memcmp(codes[i].wide, wide, sizeof codes[i].wide) == 0)
      return codes[i].name;
  return NULL;
}

/* Looks along one sampled line (n pixels of bw, 1 = dark) for a patch code;
 * returns its name and where it starts (*at). dpi converts widths. */
static const char *patch_on_line(const guint8 *line, int n, double dpi, int *at) {
  int runs[4096], starts[4096], n_runs = 0;
  for (int i = 0; i < n && n_runs < 4096;) {
    int j = i;
    while (j < n && line[j] == line[i])
      j++;
    starts[n_runs] = i;
    runs[n_runs++] = (j - i) * (line[i] ? 1 : -1); /* dark runs positive */
    i = j;
  }
  double tol = 0.03 * dpi, narrow = 0.08 * dpi, wide = 0.20 * dpi;
  for (int k = 1; k + 7 < n_runs; k++) {
    if (runs[k] <= 0 || -runs[k - 1] < 0.1 * dpi || -runs[k + 7] < 0.1 * dpi)
      continue;
    gboolean is_wide[4], ok = TRUE;
    for (int b = 0; ok && b < 4; b++) {
      double bar = runs[k + 2 * b];
      is_wide[b] = ABS(bar - wide) <= tol;
      ok = bar > 0 && (is_wide[b] || ABS(bar - narrow) <= tol);
      if (ok && b < 3)
        ok = ABS(-runs[k + 2 * b + 1] - narrow) <= tol;
    }
    const char *name = ok ? patch_name(is_wide) : NULL;
    if (name) {
      *at = starts[k];
      return name;
    }
  }
  return NULL;
}

/* Samples lines across bw (columns when columns is TRUE) and returns a code
 * found on enough neighbouring lines. */
static const char *patch_scan(PIX *bw, gboolean columns, double dpi) {
  int w = sym_pixGetWidth(bw), h = sym_pixGetHeight(bw);
  int n = columns ? h : w, lines = columns ? w : h;
  int step = MAX(1, (int) (0.1 * dpi));
  g_autofree guint8 *buf = g_malloc(n);
  const char *last = NULL;
  int last_at = 0, streak = 0;
  for (int l = 0; l < lines; l += step) {
    for (int i = 0; i < n; i++) {
      l_uint32 v = 0;
      sym_pixGetPixel(bw, columns ? l : i, columns ? i : l, &v);
      buf[i] = v != 0;
    }
    int at = 0;
    const char *name = patch_on_line(buf, n, dpi, &at);
    if (name && last == name && ABS(at - last_at) <= 0.05 * dpi)
      streak++;
    else
      streak = name ? 1 : 0;
    last = name;
    last_at = at;
    if (streak >= 15)
      return name;
  }
  return NULL;
}

char *scand_page_patch_find(PIX *gray, double dpi) {
  g_autoptr(PIX) bw = sym_pixThresholdToBinary(gray, 128);
  if (!bw || dpi < 50)
    return NULL;
  const char *name = patch_scan(bw, TRUE, dpi);
  if (!name)
    name = patch_scan(bw, FALSE, dpi);
  return g_strdup(name);
}
