/* Test image generator (see image-gen.h). */
#include "image-gen.h"

#include <gio/gio.h>

#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>

#include "scand/base/image-private.h"

guint8 image_gen_sample(int x, int y, int c) {
  /* A triangle wave: no hard edges, so renderers that smooth stay close. */
  int v = (x * 7 + y * 13 + c * 85) % 510;
  return (guint8) (v > 255 ? 510 - v : v);
}

gboolean image_gen_black(int x, int y, int width, int height) {
  if (x < width / 2 && y < height / 4)
    return TRUE;
  if (y >= height - 8)
    return ((x / 4) + (y / 4)) % 2 == 0;
  return FALSE;
}

void image_gen_jpeg(const char *path, int width, int height, int components, int quality, int dpi, gboolean noise) {
  FILE *fp = fopen(path, "wb");
  g_assert_nonnull(fp);
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, fp);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  if (dpi > 0) {
    cinfo.write_JFIF_header = TRUE;
    cinfo.density_unit = 1;
    cinfo.X_density = dpi;
    cinfo.Y_density = dpi;
  }
  jpeg_start_compress(&cinfo, TRUE);
  g_autofree guint8 *row = g_malloc((gsize) width * components);
  GRand *rand = g_rand_new_with_seed(42 + height);
  while (cinfo.next_scanline < cinfo.image_height) {
    int y = cinfo.next_scanline;
    for (int x = 0; x < width; x++)
      for (int c = 0; c < components; c++)
        row[x * components + c] = noise ? (guint8) g_rand_int_range(rand, 0, 256) : image_gen_sample(x, y, c);
    JSAMPROW rows[1] = { row };
    jpeg_write_scanlines(&cinfo, rows, 1);
  }
  g_rand_free(rand);
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  g_assert_cmpint(fclose(fp), ==, 0);
}

guint8 *image_gen_raw(ScandPageFormat format, int width, int height, gsize *len) {
  gsize row_bytes = scand_image_row_bytes(format, width);
  guint8 *data = g_malloc0(row_bytes * height);
  for (int y = 0; y < height; y++) {
    guint8 *row = data + row_bytes * y;
    for (int x = 0; x < width; x++) {
      if (format == SCAND_PAGE_BW1) {
        if (image_gen_black(x, y, width, height))
          row[x / 8] |= 0x80 >> (x % 8);
      } else if (format == SCAND_PAGE_GRAY8) {
        row[x] = image_gen_sample(x, y, 0);
      } else {
        for (int c = 0; c < 3; c++)
          row[3 * x + c] = image_gen_sample(x, y, c);
      }
    }
  }
  *len = row_bytes * height;
  return data;
}

void image_gen_pnm(const char *path, ScandPageFormat format, int width, int height, int maxval) {
  gsize len;
  g_autofree guint8 *raw = image_gen_raw(format, width, height, &len);
  GString *s = g_string_new(NULL);
  if (format == SCAND_PAGE_BW1) {
    g_string_append_printf(s, "P4\n# scand test\n%d %d\n", width, height);
    g_string_append_len(s, (const char *) raw, len);
  } else {
    int mv = maxval > 0 ? maxval : 255;
    g_string_append_printf(s, "P%c\n%d %d\n%d\n", format == SCAND_PAGE_GRAY8 ? '5' : '6', width, height, mv);
    for (gsize i = 0; i < len; i++) {
      guint v = (raw[i] * (guint) mv + 127) / 255;
      if (mv > 255) {
        g_string_append_c(s, (char) (v >> 8));
        g_string_append_c(s, (char) (v & 0xff));
      } else {
        g_string_append_c(s, (char) v);
      }
    }
  }
  g_assert_true(g_file_set_contents(path, s->str, s->len, NULL));
  g_string_free(s, TRUE);
}

void image_gen_png(const char *path, ScandPageFormat format, int width, int height, int dpi, gboolean interlaced) {
  FILE *fp = fopen(path, "wb");
  g_assert_nonnull(fp);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  g_assert_nonnull(info);
  png_init_io(png, fp);
  int color = format == SCAND_PAGE_RGB24 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY;
  int depth = format == SCAND_PAGE_BW1 ? 1 : 8;
  png_set_IHDR(png, info, width, height, depth, color, interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (dpi > 0)
    png_set_pHYs(png, info, (png_uint_32) (dpi / 0.0254 + 0.5), (png_uint_32) (dpi / 0.0254 + 0.5),
                 PNG_RESOLUTION_METER);
  png_write_info(png, info);
  if (format == SCAND_PAGE_BW1)
    png_set_invert_mono(png); /* PNG gray 0 is black; our rows have 1 = black */
  gsize len;
  g_autofree guint8 *raw = image_gen_raw(format, width, height, &len);
  gsize row_bytes = scand_image_row_bytes(format, width);
  g_autofree png_bytep *rows = g_new(png_bytep, height);
  for (int y = 0; y < height; y++)
    rows[y] = raw + row_bytes * y;
  png_write_image(png, rows);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  g_assert_cmpint(fclose(fp), ==, 0);
}

void image_gen_tiff(const char *path, const ScandPageFormat *formats, guint n, int width, int height, int dpi) {
  TIFF *tif = TIFFOpen(path, "w");
  g_assert_nonnull(tif);
  for (guint p = 0; p < n; p++) {
    ScandPageFormat format = formats[p];
    gsize len;
    g_autofree guint8 *raw = image_gen_raw(format, width, height, &len);
    gsize row_bytes = scand_image_row_bytes(format, width);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_XRESOLUTION, (float) dpi);
    TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float) dpi);
    TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(tif, TIFFTAG_PAGENUMBER, p, n);
    if (format == SCAND_PAGE_BW1) {
      TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1);
      TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
      TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
      TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
      TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, height);
    } else {
      TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
      TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, format == SCAND_PAGE_RGB24 ? 3 : 1);
      TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, format == SCAND_PAGE_RGB24 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
      TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
      TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 16);
    }
    for (int y = 0; y < height; y++)
      g_assert_cmpint(TIFFWriteScanline(tif, raw + row_bytes * y, y, 0), ==, 1);
    g_assert_true(TIFFWriteDirectory(tif));
  }
  TIFFClose(tif);
}

GBytes *image_gen_run_bytes(const char *const *argv) {
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error(error);
  GBytes *out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_assert_true(g_subprocess_communicate(proc, NULL, NULL, &out, &err, &error));
  g_assert_no_error(error);
  if (!g_subprocess_get_successful(proc)) {
    g_autofree char *cmd = g_strjoinv(" ", (char **) argv);
    g_error("%s failed: %.*s", cmd, (int) g_bytes_get_size(err), (const char *) g_bytes_get_data(err, NULL));
  }
  return out;
}

char *image_gen_run(const char *const *argv) {
  g_autoptr(GBytes) out = image_gen_run_bytes(argv);
  return g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
}

guint8 *image_gen_read_pnm(const char *path, int *width, int *height, int *channels) {
  gchar *data;
  gsize len;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  int w, h, maxval, consumed = 0;
  char magic;
  g_assert_cmpint(sscanf(data, "P%c %d %d %d%n", &magic, &w, &h, &maxval, &consumed), ==, 4);
  g_assert_true(magic == '5' || magic == '6');
  g_assert_cmpint(maxval, ==, 255);
  *channels = magic == '5' ? 1 : 3;
  gsize need = (gsize) w * h * *channels;
  gsize off = consumed + 1;
  g_assert_cmpuint(len, ==, off + need);
  guint8 *pixels = g_memdup2(data + off, need);
  g_free(data);
  *width = w;
  *height = h;
  return pixels;
}
