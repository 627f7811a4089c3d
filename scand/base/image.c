/* Reading page images: JPEG (header only, the bytes are embedded as they are),
 * PNG, PNM and TIFF (decoded row by row into the raw page formats). */
#include "scand/base/image-private.h"
#include "scand/base/jpeg-error.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>

#include "scand/base/error.h"

typedef enum {
  KIND_JPEG,
  KIND_PNG,
  KIND_PNM,
  KIND_TIFF,
} ImageKind;

/* A TIFF directory list longer than this is hostile, not a scan. */
#define MAX_TIFF_PAGES 10000
/* Layouts we cannot stream row by row are decoded whole; cap that buffer. */
#define MAX_WHOLE_PIXELS (G_GUINT64_CONSTANT(1) << 26)

/* Metric resolutions (PNG pHYs, TIFF centimetres) are stored rounded: 150 dpi
 * becomes 5906 px/m = 150.01 dpi. Snap such values back to whole dpi so page
 * sizes come out as intended. */
static double snap_dpi(double dpi) {
  double r = floor(dpi + 0.5);
  return fabs(dpi - r) < 0.05 ? r : dpi;
}

/* Sets a NOT_FOUND/IO error "path: strerror"; returns FALSE. */
static gboolean set_errno_error(GError **error, const char *path, int errsv) {
  g_set_error(error, SCAND_ERROR, errsv == ENOENT ? SCAND_ERROR_NOT_FOUND : SCAND_ERROR_IO, "%s: %s", path,
              g_strerror(errsv));
  return FALSE;
}

/* Sets an INVAL error "path: what"; returns FALSE. */
static gboolean set_inval(GError **error, const char *path, const char *what) {
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", path, what);
  return FALSE;
}

/* Checks width/height against the limits; TRUE if acceptable. */
static gboolean check_dimensions(const char *path, const char *kind, guint64 width, guint64 height, GError **error) {
  if (width == 0 || height == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s has zero width or height", path, kind);
    return FALSE;
  }
  if (width > SCAND_IMAGE_MAX_SIDE || height > SCAND_IMAGE_MAX_SIDE || width * height > SCAND_IMAGE_MAX_PIXELS) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "%s: %s dimensions %" G_GUINT64_FORMAT "x%" G_GUINT64_FORMAT " are too large", path, kind, width,
                height);
    return FALSE;
  }
  return TRUE;
}

/* Opens path for reading as a stdio stream; it must be a regular, non-empty file.
 * Returns the stream (caller closes) and its size in *size. */
static FILE *open_regular(const char *path, goffset *size, GError **error) {
  int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    set_errno_error(error, path, errno);
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    set_errno_error(error, path, errno);
    close(fd);
    return NULL;
  }
  if (!S_ISREG(st.st_mode)) {
    set_inval(error, path, "not a regular file");
    close(fd);
    return NULL;
  }
  if (st.st_size == 0) {
    set_inval(error, path, "empty file");
    close(fd);
    return NULL;
  }
  FILE *fp = fdopen(fd, "rb");
  if (!fp) {
    set_errno_error(error, path, errno);
    close(fd);
    return NULL;
  }
  *size = st.st_size;
  return fp;
}

/* Recognises the format from the first bytes of the file. */
static gboolean sniff(const char *path, ImageKind *kind, GError **error) {
  goffset size;
  FILE *fp = open_regular(path, &size, error);
  if (!fp)
    return FALSE;
  guint8 magic[8] = { 0 };
  size_t n = fread(magic, 1, sizeof magic, fp);
  fclose(fp);

  static const guint8 png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  if (n >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff)
    *kind = KIND_JPEG;
  else if (n >= 8 && memcmp(magic, png_magic, 8) == 0)
    *kind = KIND_PNG;
  else if (n >= 2 && magic[0] == 'P' && (magic[1] == '4' || magic[1] == '5' || magic[1] == '6'))
    *kind = KIND_PNM;
  else if (n >= 4 && ((magic[0] == 'I' && magic[1] == 'I' && (magic[2] == 42 || magic[2] == 43) && magic[3] == 0) ||
                      (magic[0] == 'M' && magic[1] == 'M' && magic[2] == 0 && (magic[3] == 42 || magic[3] == 43))))
    *kind = KIND_TIFF;
  else
    return set_inval(error, path, "unknown image format (not JPEG, PNG, PNM or TIFF)");
  return TRUE;
}

/* Bytes per row of a raw format (BW1 rows are padded to whole bytes). */
gsize scand_image_row_bytes(ScandPageFormat format, int width) {
  switch (format) {
    case SCAND_PAGE_BW1:
      return ((gsize) width + 7) / 8;
    case SCAND_PAGE_GRAY8:
      return (gsize) width;
    case SCAND_PAGE_RGB24:
      return (gsize) width * 3;
    default:
      return 0;
  }
}

/* ---- JPEG ---------------------------------------------------------------- */

/* TRUE if an EOI marker sits near the end of the file: a JPEG cut short by a
 * dropped connection has none. FF D9 cannot occur inside entropy-coded data
 * (FF is stuffed), so finding it in the tail is enough. */
static gboolean jpeg_has_eoi(FILE *fp, goffset size) {
  guint8 tail[4096];
  goffset want = MIN(size, (goffset) sizeof tail);
  if (fseeko(fp, size - want, SEEK_SET) != 0)
    return FALSE;
  size_t n = fread(tail, 1, want, fp);
  for (size_t i = n; i >= 2; i--)
    if (tail[i - 2] == 0xff && tail[i - 1] == 0xd9)
      return TRUE;
  return FALSE;
}

gboolean scand_image_probe_jpeg(const char *path, ScandImageJpegInfo *jinfo, GError **error) {
  goffset size;
  FILE *fp = open_regular(path, &size, error);
  if (!fp)
    return FALSE;

  struct jpeg_decompress_struct cinfo;
  ScandJpegError jerr;
  /* A warning while reading the header means the file is damaged. */
  cinfo.err = scand_jpeg_error_init(&jerr, TRUE);
  if (setjmp(jerr.jmp)) {
    jpeg_destroy_decompress(&cinfo);
    fclose(fp);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: malformed JPEG: %s", path, jerr.msg);
    return FALSE;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, fp);
  jpeg_read_header(&cinfo, TRUE);

  if (jerr.pub.num_warnings > 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: malformed JPEG: %s", path, jerr.msg);
    goto fail;
  }
  if (!check_dimensions(path, "JPEG", cinfo.image_width, cinfo.image_height, error))
    goto fail;
  if (cinfo.num_components != 1 && cinfo.num_components != 3 && cinfo.num_components != 4) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: JPEG with %d colour components is not supported", path,
                cinfo.num_components);
    goto fail;
  }
  if (!jpeg_has_eoi(fp, size)) {
    set_inval(error, path, "truncated JPEG (no end-of-image marker)");
    goto fail;
  }

  memset(jinfo, 0, sizeof *jinfo);
  jinfo->info.format = SCAND_PAGE_JPEG;
  jinfo->info.width = cinfo.image_width;
  jinfo->info.height = cinfo.image_height;
  jinfo->info.components = cinfo.num_components;
  if (cinfo.saw_JFIF_marker && cinfo.X_density > 0 && cinfo.Y_density > 0) {
    if (cinfo.density_unit == 1) {
      jinfo->info.xres = cinfo.X_density;
      jinfo->info.yres = cinfo.Y_density;
    } else if (cinfo.density_unit == 2) {
      jinfo->info.xres = cinfo.X_density * 2.54;
      jinfo->info.yres = cinfo.Y_density * 2.54;
    }
  }
  /* Photoshop writes CMYK/YCCK JPEGs with inverted values and says so with its
   * APP14 marker; PDF readers need a Decode array to undo that. */
  jinfo->adobe_inverted = cinfo.num_components == 4 && cinfo.saw_Adobe_marker;
  jpeg_destroy_decompress(&cinfo);
  fclose(fp);
  return TRUE;

fail:
  jpeg_destroy_decompress(&cinfo);
  fclose(fp);
  return FALSE;
}

/* ---- readers ------------------------------------------------------------- */

typedef enum {
  TIFF_SCANLINE,   /* TIFFReadScanline, samples copied/inverted as needed */
  TIFF_WHOLE_RGBA, /* TIFFReadRGBAImageOriented into one buffer */
} TiffMode;

struct ScandImageReader {
  ImageKind kind;
  char *path;
  ScandImageInfo info;
  int row;
  gsize row_bytes;
  FILE *fp;

  /* PNM */
  int pnm_maxval;
  guint8 *pnm_buf;
  gsize pnm_buf_len;

  /* PNG */
  png_structp png;
  png_infop png_info;
  guint8 *png_whole; /* interlaced images are read at once */
  png_bytep *png_rows;
  char png_msg[200];

  /* TIFF */
  TIFF *tif;
  TiffMode tif_mode;
  gboolean tif_invert;
  int tif_spp;
  guint8 *tif_line;
  guint32 *tif_rgba;
  char tif_msg[200];
};

/* Frees a reader and closes its file. Accepts NULL. */
void scand_image_reader_free(ScandImageReader *r) {
  if (!r)
    return;
  if (r->png)
    png_destroy_read_struct(&r->png, r->png_info ? &r->png_info : NULL, NULL);
  if (r->tif)
    TIFFClose(r->tif);
  if (r->fp)
    fclose(r->fp);
  g_free(r->png_whole);
  g_free(r->png_rows);
  g_free(r->pnm_buf);
  g_free(r->tif_line);
  g_free(r->tif_rgba);
  g_free(r->path);
  g_free(r);
}

/* -- PNM -- */

/* Reads the next unsigned decimal from a PNM header, skipping whitespace and
 * comments. FALSE on anything else or overflow. */
static gboolean pnm_read_uint(FILE *fp, guint64 *value) {
  int c;
  for (;;) {
    c = getc(fp);
    if (c == '#') {
      while ((c = getc(fp)) != EOF && c != '\n' && c != '\r')
        ;
      if (c == EOF)
        return FALSE;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      continue;
    } else {
      break;
    }
  }
  if (c < '0' || c > '9')
    return FALSE;
  guint64 v = 0;
  while (c >= '0' && c <= '9') {
    v = v * 10 + (guint64) (c - '0');
    if (v > G_MAXINT32)
      return FALSE;
    c = getc(fp);
  }
  /* Exactly one whitespace ends the number (it matters after maxval). */
  if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f')
    return FALSE;
  *value = v;
  return TRUE;
}

/* Parses a PNM header, checks the size against the pixel data present and
 * prepares the row buffer. */
static gboolean pnm_open(ScandImageReader *r, GError **error) {
  goffset size;
  r->fp = open_regular(r->path, &size, error);
  if (!r->fp)
    return FALSE;
  char magic[2];
  if (fread(magic, 1, 2, r->fp) != 2 || magic[0] != 'P' || magic[1] < '4' || magic[1] > '6')
    return set_inval(error, r->path, "not a binary PNM (P4/P5/P6)");
  guint64 w, h, maxval = 1;
  if (!pnm_read_uint(r->fp, &w) || !pnm_read_uint(r->fp, &h) || (magic[1] != '4' && !pnm_read_uint(r->fp, &maxval)))
    return set_inval(error, r->path, "malformed PNM header");
  if (maxval < 1 || maxval > 65535)
    return set_inval(error, r->path, "PNM maxval out of range");
  if (!check_dimensions(r->path, "PNM", w, h, error))
    return FALSE;

  r->info.format = magic[1] == '4' ? SCAND_PAGE_BW1 : magic[1] == '5' ? SCAND_PAGE_GRAY8 : SCAND_PAGE_RGB24;
  r->info.width = (int) w;
  r->info.height = (int) h;
  r->info.components = r->info.format == SCAND_PAGE_RGB24 ? 3 : 1;
  r->pnm_maxval = (int) maxval;
  r->row_bytes = scand_image_row_bytes(r->info.format, r->info.width);
  r->pnm_buf_len = r->row_bytes * (maxval > 255 ? 2 : 1);

  goffset offset = ftello(r->fp);
  guint64 need = (guint64) r->pnm_buf_len * h;
  if (offset < 0 || (guint64) (size - offset) < need) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "%s: truncated PNM: %" G_GUINT64_FORMAT " bytes of pixel data, expected %" G_GUINT64_FORMAT, r->path,
                offset < 0 ? 0 : (guint64) (size - offset), need);
    return FALSE;
  }
  r->pnm_buf = g_malloc(r->pnm_buf_len);
  return TRUE;
}

gboolean scand_image_pnm_raw_offset(const char *path, goffset *offset) {
  ScandImageReader r = { .kind = KIND_PNM, .path = (char *) path };
  gboolean ok = FALSE;
  if (pnm_open(&r, NULL) && (r.info.format == SCAND_PAGE_BW1 || r.pnm_maxval == 255)) {
    *offset = ftello(r.fp);
    ok = *offset > 0;
  }
  if (r.fp)
    fclose(r.fp);
  g_free(r.pnm_buf);
  return ok;
}

/* Reads one PNM row, scaling other maxvals to 8 bits. */
static gboolean pnm_read_row(ScandImageReader *r, guint8 *row, GError **error) {
  if (fread(r->pnm_buf, 1, r->pnm_buf_len, r->fp) != r->pnm_buf_len)
    return set_inval(error, r->path, "truncated PNM pixel data");
  if (r->info.format == SCAND_PAGE_BW1 || r->pnm_maxval == 255) {
    memcpy(row, r->pnm_buf, r->row_bytes);
    return TRUE;
  }
  for (gsize i = 0; i < r->row_bytes; i++) {
    guint v = r->pnm_maxval > 255 ? (guint) (r->pnm_buf[2 * i] << 8 | r->pnm_buf[2 * i + 1]) : r->pnm_buf[i];
    if (v > (guint) r->pnm_maxval)
      v = r->pnm_maxval;
    row[i] = (guint8) ((v * 255 + r->pnm_maxval / 2) / r->pnm_maxval);
  }
  return TRUE;
}

/* -- PNG -- */

/* libpng's fatal errors: keep the message and unwind to the setjmp. */
static void png_error_fn(png_structp png, png_const_charp msg) {
  ScandImageReader *r = png_get_error_ptr(png);
  g_strlcpy(r->png_msg, msg, sizeof r->png_msg);
  png_longjmp(png, 1);
}

/* libpng's warnings are not errors and must not be printed. */
static void png_warning_fn(png_structp png, png_const_charp msg) {
}

/* Reads the PNG header and sets up transformations to a raw format. With
 * header_only the row size is not set up (probe). */
static gboolean png_open(ScandImageReader *r, gboolean header_only, GError **error) {
  goffset size;
  r->fp = open_regular(r->path, &size, error);
  if (!r->fp)
    return FALSE;
  r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, png_error_fn, png_warning_fn);
  if (!r->png)
    return set_inval(error, r->path, "cannot create PNG reader");
  r->png_info = png_create_info_struct(r->png);
  if (!r->png_info)
    return set_inval(error, r->path, "cannot create PNG reader");
  if (setjmp(png_jmpbuf(r->png))) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: malformed PNG: %s", r->path, r->png_msg);
    return FALSE;
  }
  png_init_io(r->png, r->fp);
  png_set_user_limits(r->png, SCAND_IMAGE_MAX_SIDE, SCAND_IMAGE_MAX_SIDE);
  png_read_info(r->png, r->png_info);

  png_uint_32 w, h;
  int depth, color, interlace;
  png_get_IHDR(r->png, r->png_info, &w, &h, &depth, &color, &interlace, NULL, NULL);
  if (!check_dimensions(r->path, "PNG", w, h, error))
    return FALSE;
  r->info.width = (int) w;
  r->info.height = (int) h;
  png_uint_32 xppm, yppm;
  int unit;
  if (png_get_pHYs(r->png, r->png_info, &xppm, &yppm, &unit) && unit == PNG_RESOLUTION_METER && xppm > 0 && yppm > 0) {
    r->info.xres = snap_dpi(xppm * 0.0254);
    r->info.yres = snap_dpi(yppm * 0.0254);
  }
  gboolean gray = (color & PNG_COLOR_MASK_COLOR) == 0;
  r->info.components = gray ? 1 : 3;
  if (header_only)
    return TRUE;

  if (gray && depth == 1 && color == PNG_COLOR_TYPE_GRAY) {
    /* Bilevel: keep one bit per pixel so it can become CCITT G4. */
    r->info.format = SCAND_PAGE_BW1;
    png_set_invert_mono(r->png);
  } else {
    r->info.format = gray ? SCAND_PAGE_GRAY8 : SCAND_PAGE_RGB24;
    if (color == PNG_COLOR_TYPE_PALETTE)
      png_set_palette_to_rgb(r->png);
    if (gray && depth < 8)
      png_set_expand_gray_1_2_4_to_8(r->png);
    if (depth == 16)
      png_set_strip_16(r->png);
    if (color & PNG_COLOR_MASK_ALPHA)
      png_set_strip_alpha(r->png);
  }
  int passes = png_set_interlace_handling(r->png);
  png_read_update_info(r->png, r->png_info);
  r->row_bytes = scand_image_row_bytes(r->info.format, r->info.width);
  if (png_get_rowbytes(r->png, r->png_info) != r->row_bytes)
    return set_inval(error, r->path, "unsupported PNG pixel layout");

  if (passes > 1) {
    if ((guint64) r->row_bytes * h > MAX_WHOLE_PIXELS * 3)
      return set_inval(error, r->path, "interlaced PNG too large");
    r->png_whole = g_try_malloc(r->row_bytes * h);
    if (!r->png_whole)
      return set_inval(error, r->path, "interlaced PNG too large");
    r->png_rows = g_new(png_bytep, h);
    for (png_uint_32 y = 0; y < h; y++)
      r->png_rows[y] = r->png_whole + y * r->row_bytes;
    png_read_image(r->png, r->png_rows);
  }
  return TRUE;
}

/* Reads one PNG row (from the whole image for interlaced files). */
static gboolean png_read_row_(ScandImageReader *r, guint8 *row, GError **error) {
  if (r->png_whole) {
    memcpy(row, r->png_whole + (gsize) r->row * r->row_bytes, r->row_bytes);
    return TRUE;
  }
  if (setjmp(png_jmpbuf(r->png))) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: malformed PNG: %s", r->path, r->png_msg);
    return FALSE;
  }
  png_read_row(r->png, row, NULL);
  return TRUE;
}

/* -- TIFF -- */

/* libtiff's errors go to the reader (first one wins), not to stderr. */
static int tiff_error_fn(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap) {
  ScandImageReader *r = user_data;
  if (r->tif_msg[0] == '\0')
    g_vsnprintf(r->tif_msg, sizeof r->tif_msg, fmt, ap);
  return 1;
}

/* libtiff's warnings are dropped: the library must not print. */
static int tiff_warning_fn(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap) {
  return 1;
}

/* Sets an INVAL error with libtiff's message, if any; returns FALSE. */
static gboolean tiff_fail(ScandImageReader *r, const char *what, GError **error) {
  if (r->tif_msg[0])
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s: %s", r->path, what, r->tif_msg);
  else
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", r->path, what);
  return FALSE;
}

/* Opens the reader's TIFF with error handlers and a memory cap. */
static gboolean tiff_open_file(ScandImageReader *r, GError **error) {
  goffset size;
  FILE *fp = open_regular(r->path, &size, error);
  if (!fp)
    return FALSE;
  fclose(fp);
  TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_error_fn, r);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_warning_fn, r);
  /* Keep libtiff's own allocations bounded too. */
  TIFFOpenOptionsSetMaxSingleMemAlloc(opts, 256 * 1024 * 1024);
  r->tif = TIFFOpenExt(r->path, "r", opts);
  TIFFOpenOptionsFree(opts);
  if (!r->tif)
    return tiff_fail(r, "malformed TIFF", error);
  return TRUE;
}

/* Selects directory index and decides how its rows become a raw format. */
static gboolean tiff_setup_page(ScandImageReader *r, guint index, GError **error) {
  TIFF *tif = r->tif;
  if (!TIFFSetDirectory(tif, index))
    return tiff_fail(r, "malformed TIFF directory", error);

  guint32 w = 0, h = 0;
  guint16 bps = 1, spp = 1, planar = PLANARCONFIG_CONTIG, photometric, unit = RESUNIT_INCH;
  float xres = 0, yres = 0;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h))
    return tiff_fail(r, "TIFF without image size", error);
  if (!check_dimensions(r->path, "TIFF", w, h, error))
    return FALSE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric))
    photometric = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISWHITE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
  if (TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres) && TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yres) && xres > 0 &&
      yres > 0 && unit != RESUNIT_NONE) {
    r->info.xres = snap_dpi(unit == RESUNIT_CENTIMETER ? xres * 2.54 : xres);
    r->info.yres = snap_dpi(unit == RESUNIT_CENTIMETER ? yres * 2.54 : yres);
  }
  r->info.width = (int) w;
  r->info.height = (int) h;
  r->info.is_tiff = TRUE;
  r->tif_spp = spp;

  gboolean simple = !TIFFIsTiled(tif) && planar == PLANARCONFIG_CONTIG;
  gboolean grayish = photometric == PHOTOMETRIC_MINISWHITE || photometric == PHOTOMETRIC_MINISBLACK;
  if (simple && bps == 1 && spp == 1 && grayish) {
    r->info.format = SCAND_PAGE_BW1;
    r->tif_invert = photometric == PHOTOMETRIC_MINISBLACK;
    r->tif_mode = TIFF_SCANLINE;
  } else if (simple && bps == 8 && spp == 1 && grayish) {
    r->info.format = SCAND_PAGE_GRAY8;
    r->tif_invert = photometric == PHOTOMETRIC_MINISWHITE;
    r->tif_mode = TIFF_SCANLINE;
  } else if (simple && bps == 8 && spp >= 3 && photometric == PHOTOMETRIC_RGB) {
    r->info.format = SCAND_PAGE_RGB24;
    r->tif_mode = TIFF_SCANLINE;
  } else {
    char emsg[1024];
    if (!TIFFRGBAImageOK(tif, emsg)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: unsupported TIFF: %s", r->path, emsg);
      return FALSE;
    }
    if ((guint64) w * h > MAX_WHOLE_PIXELS)
      return set_inval(error, r->path, "TIFF layout too large to decode");
    r->info.format = (grayish && spp == 1) ? SCAND_PAGE_GRAY8 : SCAND_PAGE_RGB24;
    r->tif_mode = TIFF_WHOLE_RGBA;
  }
  r->info.components = r->info.format == SCAND_PAGE_RGB24 ? 3 : 1;
  r->row_bytes = scand_image_row_bytes(r->info.format, r->info.width);
  if (r->tif_mode == TIFF_SCANLINE) {
    tmsize_t line = TIFFScanlineSize(tif);
    gsize expect = r->info.format == SCAND_PAGE_RGB24 ? (gsize) w * spp : r->row_bytes;
    if (line <= 0 || (gsize) line < expect)
      return tiff_fail(r, "inconsistent TIFF scanline size", error);
    r->tif_line = g_malloc(line);
  }
  return TRUE;
}

/* Reads one TIFF row in the chosen raw format. */
static gboolean tiff_read_row(ScandImageReader *r, guint8 *row, GError **error) {
  if (r->tif_mode == TIFF_WHOLE_RGBA) {
    if (!r->tif_rgba) {
      r->tif_rgba = g_try_malloc((gsize) r->info.width * r->info.height * sizeof(guint32));
      if (!r->tif_rgba)
        return set_inval(error, r->path, "TIFF layout too large to decode");
      if (!TIFFReadRGBAImageOriented(r->tif, r->info.width, r->info.height, r->tif_rgba, ORIENTATION_TOPLEFT, 0))
        return tiff_fail(r, "malformed TIFF image data", error);
    }
    const guint32 *src = r->tif_rgba + (gsize) r->row * r->info.width;
    for (int x = 0; x < r->info.width; x++) {
      if (r->info.format == SCAND_PAGE_GRAY8) {
        row[x] = TIFFGetR(src[x]);
      } else {
        row[3 * x] = TIFFGetR(src[x]);
        row[3 * x + 1] = TIFFGetG(src[x]);
        row[3 * x + 2] = TIFFGetB(src[x]);
      }
    }
    return TRUE;
  }
  if (TIFFReadScanline(r->tif, r->tif_line, r->row, 0) < 0)
    return tiff_fail(r, "malformed TIFF image data", error);
  if (r->info.format == SCAND_PAGE_RGB24 && r->tif_spp != 3) {
    for (int x = 0; x < r->info.width; x++)
      memcpy(row + 3 * x, r->tif_line + (gsize) x * r->tif_spp, 3);
  } else {
    memcpy(row, r->tif_line, r->row_bytes);
  }
  if (r->tif_invert)
    for (gsize i = 0; i < r->row_bytes; i++)
      row[i] = ~row[i];
  return TRUE;
}

/* -- common -- */

ScandImageReader *scand_image_reader_open(const char *path, guint index, ScandImageInfo *info, GError **error) {
  ImageKind kind;
  if (!sniff(path, &kind, error))
    return NULL;
  g_autoptr(ScandImageReader) r = g_new0(ScandImageReader, 1);
  r->kind = kind;
  r->path = g_strdup(path);
  gboolean ok = FALSE;
  switch (kind) {
    case KIND_JPEG:
      set_inval(error, path, "JPEG pages are embedded, not decoded");
      break;
    case KIND_PNM:
      ok = index == 0 ? pnm_open(r, error) : set_inval(error, path, "PNM has only one page");
      break;
    case KIND_PNG:
      ok = index == 0 ? png_open(r, FALSE, error) : set_inval(error, path, "PNG has only one page");
      break;
    case KIND_TIFF:
      ok = tiff_open_file(r, error) && tiff_setup_page(r, index, error);
      break;
  }
  if (!ok)
    return NULL;
  *info = r->info;
  return g_steal_pointer(&r);
}

gboolean scand_image_reader_read_row(ScandImageReader *r, guint8 *row, GError **error) {
  if (r->row >= r->info.height)
    return set_inval(error, r->path, "read past the last row");
  gboolean ok = FALSE;
  switch (r->kind) {
    case KIND_PNM:
      ok = pnm_read_row(r, row, error);
      break;
    case KIND_PNG:
      ok = png_read_row_(r, row, error);
      break;
    case KIND_TIFF:
      ok = tiff_read_row(r, row, error);
      break;
    case KIND_JPEG:
      break;
  }
  if (!ok)
    return FALSE;
  /* Inverting whole bytes sets the padding bits; keep them 0 (white). */
  if (r->info.format == SCAND_PAGE_BW1 && r->info.width % 8)
    row[r->row_bytes - 1] &= (guint8) (0xff << (8 - r->info.width % 8));
  r->row++;
  return TRUE;
}

gboolean scand_image_count_pages(const char *path, guint *n_pages, GError **error) {
  ImageKind kind;
  if (!sniff(path, &kind, error))
    return FALSE;
  if (kind != KIND_TIFF) {
    *n_pages = 1;
    return TRUE;
  }
  g_autoptr(ScandImageReader) r = g_new0(ScandImageReader, 1);
  r->kind = kind;
  r->path = g_strdup(path);
  if (!tiff_open_file(r, error))
    return FALSE;
  tdir_t n = TIFFNumberOfDirectories(r->tif);
  if (n == 0 || n > MAX_TIFF_PAGES)
    return tiff_fail(r, "TIFF with no or too many pages", error);
  *n_pages = n;
  return TRUE;
}

gboolean scand_image_probe(const char *path, ScandImageInfo *info, GError **error) {
  ImageKind kind;
  if (!sniff(path, &kind, error))
    return FALSE;
  switch (kind) {
    case KIND_JPEG: {
      ScandImageJpegInfo jinfo;
      if (!scand_image_probe_jpeg(path, &jinfo, error))
        return FALSE;
      *info = jinfo.info;
      return TRUE;
    }
    case KIND_PNG: {
      g_autoptr(ScandImageReader) r = g_new0(ScandImageReader, 1);
      r->kind = kind;
      r->path = g_strdup(path);
      if (!png_open(r, TRUE, error))
        return FALSE;
      *info = r->info;
      info->format = SCAND_PAGE_PNG;
      return TRUE;
    }
    case KIND_PNM:
    case KIND_TIFF: {
      g_autoptr(ScandImageReader) r = scand_image_reader_open(path, 0, info, error);
      return r != NULL;
    }
  }
  return FALSE;
}
