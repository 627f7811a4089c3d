/* Page files into Leptonica images for analysis, and processed pages out as
 * PNM. JPEG is decoded with libjpeg's own scaling (cheap for huge pages), the
 * other formats through scand's row reader, every n-th pixel when reduced. */
#include "scand/core/page-private.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <jpeglib.h>

#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/base/image-private.h"
#include "scand/base/jpeg-error.h"

/* The smallest power-of-two reduction that brings w x h under the limit. */
static int reduction_for(guint64 w, guint64 h) {
  int r = 1;
  while ((w / r) * (h / r) > SCAND_PAGE_MAX_PIXELS && r < 64)
    r *= 2;
  return r;
}

/* Copies one decoded scanline (gray or RGB) into row y of pix. */
static void put_row(PIX *pix, int y, const guint8 *row, int components) {
  l_uint32 *line = sym_pixGetData(pix) + y * sym_pixGetWpl(pix);
  int w = sym_pixGetWidth(pix);
  for (int x = 0; x < w; x++) {
    if (components == 1)
      SET_DATA_BYTE(line, x, row[x]);
    else
      sym_composeRGBPixel(row[3 * x], row[3 * x + 1], row[3 * x + 2], line + x);
  }
}

/* JPEG, decoded at 1/1 … 1/8 scale; CMYK pages are not analysed. The
 * volatile locals survive the longjmp of a libjpeg error. */
static PIX *load_jpeg(const char *path, ScandPageSource *src, GError **error) {
  FILE *fp = g_fopen(path, "rbe");
  if (!fp) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", path, g_strerror(errsv));
    return NULL;
  }
  struct jpeg_decompress_struct cinfo;
  ScandJpegError jerr;
  PIX *volatile pix = NULL;
  guint8 *volatile row = NULL;
  cinfo.err = scand_jpeg_error_init(&jerr, FALSE);
  if (setjmp(jerr.jmp)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: corrupt JPEG: %s", path, jerr.msg);
    jpeg_destroy_decompress(&cinfo);
    fclose(fp);
    sym_pixDestroy((PIX **) &pix);
    g_free(row);
    return NULL;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, fp);
  jpeg_read_header(&cinfo, TRUE);
  src->components = cinfo.num_components;
  if (cinfo.num_components != 1 && cinfo.num_components != 3) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s: %d-component JPEG pages are not analysed", path,
                cinfo.num_components);
    jpeg_destroy_decompress(&cinfo);
    fclose(fp);
    return NULL;
  }
  int r = reduction_for(cinfo.image_width, cinfo.image_height);
  cinfo.scale_num = 1;
  cinfo.scale_denom = MIN(r, 8);
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  src->reduction = (int) ((cinfo.image_width + cinfo.output_width / 2) / MAX(cinfo.output_width, 1));
  if (cinfo.density_unit == 1 && cinfo.X_density > 0)
    src->dpi = cinfo.X_density;
  else if (cinfo.density_unit == 2 && cinfo.X_density > 0)
    src->dpi = cinfo.X_density * 2.54;
  pix = sym_pixCreate((int) cinfo.output_width, (int) cinfo.output_height, cinfo.output_components == 1 ? 8 : 32);
  row = g_malloc((gsize) cinfo.output_width * cinfo.output_components);
  while (pix && cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[1] = { (JSAMPROW) row };
    int y = (int) cinfo.output_scanline;
    if (jpeg_read_scanlines(&cinfo, rows, 1) != 1)
      break;
    put_row(pix, y, row, cinfo.output_components);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  fclose(fp);
  g_free(row);
  src->is_jpeg = TRUE;
  return pix;
}

/* PNG, PNM and TIFF through scand's row reader, keeping every r-th pixel. */
static PIX *load_rows(const char *path, ScandPageSource *src, GError **error) {
  ScandImageInfo info;
  g_autoptr(ScandImageReader) reader = scand_image_reader_open(path, 0, &info, error);
  if (!reader)
    return NULL;
  int r = reduction_for(info.width, info.height);
  int components = info.format == SCAND_PAGE_RGB24 ? 3 : 1;
  src->components = components;
  src->reduction = r;
  src->dpi = info.xres;
  int w = info.width / r, h = info.height / r;
  if (w < 1 || h < 1) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: page too small to analyse", path);
    return NULL;
  }
  PIX *pix = sym_pixCreate(w, h, components == 1 ? 8 : 32);
  g_autofree guint8 *raw = g_malloc(scand_image_row_bytes(info.format, info.width));
  g_autofree guint8 *row = g_malloc((gsize) w * components);
  for (int y = 0; pix && y < h * r; y++) {
    if (!scand_image_reader_read_row(reader, raw, error)) {
      sym_pixDestroy(&pix);
      return NULL;
    }
    if (y % r != 0)
      continue;
    for (int x = 0; x < w; x++) {
      int sx = x * r;
      if (info.format == SCAND_PAGE_BW1)
        row[x] = (raw[sx / 8] >> (7 - sx % 8)) & 1 ? 0 : 255;
      else if (components == 1)
        row[x] = raw[sx];
      else
        memcpy(row + 3 * x, raw + 3 * sx, 3);
    }
    put_row(pix, y / r, row, components);
  }
  return pix;
}

PIX *scand_page_image_load(const char *path, double default_dpi, ScandPageSource *source, GError **error) {
  ScandImageInfo info;
  if (!dl_lept_load(error) || !scand_image_probe(path, &info, error))
    return NULL;
  ScandPageSource src = { .reduction = 1 };
  PIX *pix = info.format == SCAND_PAGE_JPEG ? load_jpeg(path, &src, error) : load_rows(path, &src, error);
  if (!pix) {
    if (error && !*error)
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s: out of memory for the page image", path);
    return NULL;
  }
  double dpi = src.dpi > 0 ? src.dpi : default_dpi > 0 ? default_dpi : 300;
  src.dpi = dpi / MAX(src.reduction, 1);
  sym_pixSetResolution(pix, (int) (src.dpi + 0.5), (int) (src.dpi + 0.5));
  *source = src;
  return pix;
}

PIX *scand_page_image_gray(PIX *pix) {
  return sym_pixGetDepth(pix) == 32 ? sym_pixConvertRGBToLuminance(pix) : sym_pixConvertTo8(pix, FALSE);
}

guint8 *scand_page_image_bytes(PIX *gray) {
  int w = sym_pixGetWidth(gray), h = sym_pixGetHeight(gray), wpl = sym_pixGetWpl(gray);
  guint8 *bytes = g_malloc((gsize) w * h);
  l_uint32 *data = sym_pixGetData(gray);
  for (int y = 0; y < h; y++) {
    l_uint32 *line = data + y * wpl;
    for (int x = 0; x < w; x++)
      bytes[(gsize) y * w + x] = GET_DATA_BYTE(line, x);
  }
  return bytes;
}

/* The PNM header and rows of pix into fp. */
static gboolean write_pnm_rows(PIX *pix, FILE *fp) {
  int w = sym_pixGetWidth(pix), h = sym_pixGetHeight(pix), d = sym_pixGetDepth(pix), wpl = sym_pixGetWpl(pix);
  fprintf(fp, "%s\n%d %d\n%s", d == 1 ? "P4" : d == 8 ? "P5" : "P6", w, h, d == 1 ? "" : "255\n");
  gsize row_len = d == 1 ? (gsize) (w + 7) / 8 : d == 8 ? (gsize) w : (gsize) w * 3;
  g_autofree guint8 *row = g_malloc0(row_len);
  for (int y = 0; y < h; y++) {
    l_uint32 *line = sym_pixGetData(pix) + y * wpl;
    for (int x = 0; x < w; x++) {
      if (d == 1) {
        if (x % 8 == 0)
          row[x / 8] = 0;
        if (GET_DATA_BIT(line, x))
          row[x / 8] |= 0x80 >> (x % 8);
      } else if (d == 8) {
        row[x] = GET_DATA_BYTE(line, x);
      } else {
        l_int32 r, g, b;
        sym_extractRGBValues(line[x], &r, &g, &b);
        row[3 * x] = r;
        row[3 * x + 1] = g;
        row[3 * x + 2] = b;
      }
    }
    if (fwrite(row, 1, row_len, fp) != row_len)
      return FALSE;
  }
  return TRUE;
}

gboolean scand_page_image_write_pnm(PIX *pix, const char *path, GError **error) {
  g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
  FILE *fp = g_fopen(tmp, "wbe");
  if (!fp) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", tmp, g_strerror(errsv));
    return FALSE;
  }
  gboolean ok = write_pnm_rows(pix, fp);
  int errsv = errno;
  if (fclose(fp) != 0 && ok) {
    errsv = errno;
    ok = FALSE;
  }
  if (!ok) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", tmp, g_strerror(errsv ? errsv : EIO));
    g_unlink(tmp);
    return FALSE;
  }
  if (!scand_fs_commit(tmp, path, error)) {
    g_unlink(tmp);
    return FALSE;
  }
  return TRUE;
}
