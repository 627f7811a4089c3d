/* PDF assembly with libhpdf.
 *
 * Every page is one image XObject drawn over the whole page. libhpdf keeps
 * stream data in memory; to keep memory flat whatever the page count, each
 * image's stream is replaced by a callback reader over a file (the page itself
 * or a converted copy in a private scratch directory) that is opened only when
 * HPDF_SaveToFile copies the stream into the document and closed at its end.
 *
 * Adding a file happens in two phases: first every page of the file is checked
 * and converted into the scratch directory (any failure leaves the document
 * untouched), then the pages are added to the libhpdf document. */
#include "scand/core/pdf.h"
#include "scand/core/pdf-private.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <hpdf.h>
#include <jpeglib.h>
#include <lcms2.h>

#include "scand-build.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/base/image-private.h"
#include "scand/base/jpeg-error.h"
#include "scand/core/pdf-output-private.h"
#include "scand/core/pdf-text-private.h"

/* ---- counting allocator ---------------------------------------------------- */

/* 16 bytes keep the returned block as aligned as malloc's. */
#define ALLOC_HEADER 16

static gsize hpdf_mem_current;
static gsize hpdf_mem_peak;

/* libhpdf's allocator: malloc with the size kept in front, counted. */
static void *counting_alloc(HPDF_UINT size) {
  guint8 *p = malloc((gsize) size + ALLOC_HEADER);
  if (!p)
    return NULL;
  *(gsize *) p = size;
  gsize cur = __atomic_add_fetch(&hpdf_mem_current, (gsize) size, __ATOMIC_RELAXED);
  gsize peak = __atomic_load_n(&hpdf_mem_peak, __ATOMIC_RELAXED);
  while (cur > peak &&
         !__atomic_compare_exchange_n(&hpdf_mem_peak, &peak, cur, TRUE, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;
  return p + ALLOC_HEADER;
}

/* libhpdf's free, matching counting_alloc(). */
static void counting_free(void *aptr) {
  if (!aptr)
    return;
  guint8 *p = (guint8 *) aptr - ALLOC_HEADER;
  __atomic_sub_fetch(&hpdf_mem_current, *(gsize *) p, __ATOMIC_RELAXED);
  free(p);
}

gsize scand_pdf_private_get_hpdf_current(void) {
  return __atomic_load_n(&hpdf_mem_current, __ATOMIC_RELAXED);
}

gsize scand_pdf_private_get_hpdf_peak(void) {
  return __atomic_load_n(&hpdf_mem_peak, __ATOMIC_RELAXED);
}

void scand_pdf_private_reset_hpdf_peak(void) {
  __atomic_store_n(&hpdf_mem_peak, scand_pdf_private_get_hpdf_current(), __ATOMIC_RELAXED);
}

/* ---- lazy file streams -------------------------------------------------------- */

/* A byte range of a file that libhpdf reads only while saving. */
typedef struct {
  char *path;
  goffset offset;
  goffset length;
  goffset pos;
  int fd;
  int failed_errno;    /* why reading failed while saving, for the message */
  gboolean is_scratch; /* ours: removed when no longer needed */
  gboolean verbatim;   /* the stream is these bytes unchanged (no Flate) */
  PdfOutput *out;      /* while saving, for a verbatim source: copy into it */
  gboolean spliced;    /* out has the bytes; reads only count them off */
} LazySource;

/* A source over length bytes of path from offset; is_scratch files are
 * removed when the source is freed. */
static LazySource *lazy_source_new(const char *path, goffset offset, goffset length, gboolean is_scratch) {
  LazySource *s = g_new0(LazySource, 1);
  s->path = g_strdup(path);
  s->offset = offset;
  s->length = length;
  s->fd = -1;
  s->is_scratch = is_scratch;
  return s;
}

/* Closes and frees a source (removing a scratch file). Accepts NULL. */
static void lazy_source_free(LazySource *s) {
  if (!s)
    return;
  if (s->fd >= 0)
    close(s->fd);
  if (s->is_scratch)
    g_unlink(s->path);
  g_free(s->path);
  g_free(s);
}

/* Opens the file if it is not open yet. */
static HPDF_STATUS lazy_open(HPDF_Stream stream, LazySource *s) {
  if (s->fd >= 0)
    return HPDF_OK;
  s->fd = g_open(s->path, O_RDONLY | O_CLOEXEC, 0);
  if (s->fd < 0) {
    s->failed_errno = errno;
    return HPDF_SetError(stream->error, HPDF_FILE_OPEN_ERROR, s->failed_errno);
  }
  return HPDF_OK;
}

/* Stream read callback: up to *siz bytes; closes the file and returns
 * HPDF_STREAM_EOF with the last chunk. While saving a verbatim source the
 * first read has the output copy the rest of the file, and reads then
 * only count off what libhpdf will write (the output drops it). */
static HPDF_STATUS lazy_read(HPDF_Stream stream, HPDF_BYTE *ptr, HPDF_UINT *siz) {
  LazySource *s = stream->attr;
  HPDF_STATUS ret = lazy_open(stream, s);
  if (ret != HPDF_OK)
    return ret;
  if (s->out) {
    if (!s->spliced) {
      gboolean source_failed = FALSE;
      int errsv = pdf_output_splice(s->out, s->fd, s->offset + s->pos, s->length - s->pos, &source_failed);
      s->spliced = TRUE;
      if (errsv) {
        if (source_failed)
          s->failed_errno = errsv;
        return HPDF_SetError(stream->error, HPDF_FILE_IO_ERROR, (HPDF_STATUS) errsv);
      }
    }
    *siz = (HPDF_UINT) MIN((goffset) *siz, s->length - s->pos);
    s->pos += *siz;
    if (s->pos < s->length)
      return HPDF_OK;
    close(s->fd);
    s->fd = -1;
    return HPDF_STREAM_EOF;
  }
  gsize want = (gsize) MIN((goffset) *siz, s->length - s->pos);
  gsize got = 0;
  while (got < want) {
    ssize_t n = pread(s->fd, ptr + got, want - got, s->offset + s->pos + (goffset) got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 || n == 0) { /* n == 0: the file shrank since it was added */
      s->failed_errno = n < 0 ? errno : EIO;
      return HPDF_SetError(stream->error, HPDF_FILE_IO_ERROR, s->failed_errno);
    }
    got += (gsize) n;
  }
  s->pos += (goffset) got;
  *siz = (HPDF_UINT) got;
  if (s->pos >= s->length) {
    close(s->fd);
    s->fd = -1;
    return HPDF_STREAM_EOF;
  }
  return HPDF_OK;
}

/* Stream seek callback. */
static HPDF_STATUS lazy_seek(HPDF_Stream stream, HPDF_INT pos, HPDF_WhenceMode mode) {
  LazySource *s = stream->attr;
  goffset target = mode == HPDF_SEEK_CUR ? s->pos + pos : mode == HPDF_SEEK_END ? s->length + pos : pos;
  if (target < 0 || target > s->length)
    return HPDF_SetError(stream->error, HPDF_STREAM_EOF, 0);
  s->pos = target;
  /* Seeking to the start is how libhpdf begins copying the stream. */
  return target == 0 ? lazy_open(stream, s) : HPDF_OK;
}

/* Stream tell callback. */
static HPDF_INT32 lazy_tell(HPDF_Stream stream) {
  LazySource *s = stream->attr;
  return (HPDF_INT32) s->pos;
}

/* Stream size callback: known when the page was added. */
static HPDF_UINT32 lazy_size(HPDF_Stream stream) {
  LazySource *s = stream->attr;
  return (HPDF_UINT32) s->length;
}

/* ---- document ------------------------------------------------------------------ */

typedef enum {
  PAGE_DCT,   /* JPEG bytes, embedded untouched */
  PAGE_FLATE, /* raw 8-bit rows, deflated by libhpdf while saving */
  PAGE_CCITT, /* raw 1-bit rows (1 = black), G4-encoded when added */
} PageKind;

typedef struct {
  PageKind kind;
  LazySource *src;
  int width;
  int height;
  int components;
  gboolean adobe_inverted;
  double xdpi;
  double ydpi;
  int rotate;               /* from ScandPdfPageExtras */
  const ScandPdfText *text; /* not owned */
  gboolean deflate;         /* PAGE_DCT: the JPEG bytes wrapped in Flate */
} PreparedPage;

/* Frees a page that was not added (removing its scratch file). Accepts NULL. */
static void prepared_page_free(PreparedPage *p) {
  if (!p)
    return;
  lazy_source_free(p->src);
  g_free(p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PreparedPage, prepared_page_free)

struct ScandPdf {
  HPDF_Doc doc;
  HPDF_STATUS hpdf_error;
  HPDF_STATUS hpdf_detail;
  ScandPdfRawMode raw_mode;
  gboolean pdfa;
  int jpeg_quality;
  double default_dpi;
  char *scratch; /* private directory, removed by scand_pdf_free() */
  guint scratch_seq;
  guint n_pages;
  GPtrArray *sources;     /* LazySource*, referenced by the document's streams */
  ScandPdfTextFont *font; /* the text layers' font, made with the first one */
};

/* libhpdf's error callback: remembers the first error for check_hpdf(). */
static void hpdf_error_handler(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user_data) {
  ScandPdf *pdf = user_data;
  if (pdf->hpdf_error == HPDF_OK) {
    pdf->hpdf_error = error_no;
    pdf->hpdf_detail = detail_no;
  }
}

/* Turns a recorded libhpdf error into a GError and clears it. */
static gboolean check_hpdf(ScandPdf *pdf, const char *what, GError **error) {
  if (pdf->hpdf_error == HPDF_OK && HPDF_GetError(pdf->doc) == HPDF_OK)
    return TRUE;
  HPDF_STATUS code = pdf->hpdf_error ? pdf->hpdf_error : HPDF_GetError(pdf->doc);
  HPDF_STATUS detail = pdf->hpdf_error ? pdf->hpdf_detail : HPDF_GetErrorDetail(pdf->doc);
  gboolean io = code == HPDF_FILE_IO_ERROR || code == HPDF_FILE_OPEN_ERROR;
  if (io && detail > 0)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", what, g_strerror((int) detail));
  else
    g_set_error(error, SCAND_ERROR, io ? SCAND_ERROR_IO : SCAND_ERROR_FAILED, "%s: libhpdf error 0x%04X (detail %u)",
                what, (unsigned) code, (unsigned) detail);
  pdf->hpdf_error = HPDF_OK;
  pdf->hpdf_detail = 0;
  HPDF_ResetError(pdf->doc);
  return FALSE;
}

/* Sets an info date from a GDateTime. */
static void set_info_date(HPDF_Doc doc, HPDF_InfoType type, GDateTime *dt) {
  HPDF_Date d = {
    .year = g_date_time_get_year(dt),
    .month = g_date_time_get_month(dt),
    .day = g_date_time_get_day_of_month(dt),
    .hour = g_date_time_get_hour(dt),
    .minutes = g_date_time_get_minute(dt),
    .seconds = g_date_time_get_second(dt),
  };
  gint64 off_min = g_date_time_get_utc_offset(dt) / G_TIME_SPAN_MINUTE;
  /* Not 'Z': libhpdf's PDF/A XMP date conversion rejects it. */
  d.ind = off_min >= 0 ? '+' : '-';
  off_min = ABS(off_min);
  d.off_hour = (HPDF_INT) (off_min / 60);
  d.off_minutes = (HPDF_INT) (off_min % 60);
  HPDF_SetInfoDateAttr(doc, type, d);
}

/* libhpdf writes info strings as raw bytes, which PDF reads as
 * PDFDocEncoding: Latin-1 for the characters that matter here. For PDF/A the
 * same bytes also go into the UTF-8 XMP packet, so only ASCII is safe there. */
static char *info_string(const char *utf8, gboolean ascii_only) {
  if (!g_utf8_validate(utf8, -1, NULL))
    return g_strdup("?");
  if (ascii_only)
    return g_str_to_ascii(utf8, "C");
  char *latin1 = g_convert_with_fallback(utf8, -1, "ISO-8859-1", "UTF-8", "?", NULL, NULL, NULL);
  return latin1 ? latin1 : g_str_to_ascii(utf8, "C");
}

/* PDF/A-1b: XMP metadata with pdfaid (libhpdf builds it from the info
 * dictionary, so this runs after the info is set), an sRGB output intent and a
 * document ID. */
static gboolean setup_pdfa(ScandPdf *pdf, GError **error) {
  HPDF_Doc doc = pdf->doc;
  HPDF_PDFA_SetPDFAConformance(doc, HPDF_PDFA_1B);
  if (!check_hpdf(pdf, "PDF/A conformance", error))
    return FALSE;

  cmsHPROFILE profile = cmsCreate_sRGBProfile();
  cmsUInt32Number len = 0;
  if (!profile || !cmsSaveProfileToMem(profile, NULL, &len) || len == 0) {
    if (profile)
      cmsCloseProfile(profile);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "cannot create an sRGB ICC profile");
    return FALSE;
  }
  g_autofree guint8 *icc = g_malloc(len);
  gboolean saved = cmsSaveProfileToMem(profile, icc, &len);
  cmsCloseProfile(profile);
  if (!saved) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "cannot serialise the sRGB ICC profile");
    return FALSE;
  }

  HPDF_Stream icc_stream = HPDF_MemStream_New(doc->mmgr, len);
  if (!icc_stream || HPDF_Stream_Write(icc_stream, icc, len) != HPDF_OK) {
    HPDF_Stream_Free(icc_stream);
    return check_hpdf(pdf, "ICC profile", error) &&
           (g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "ICC profile: out of memory"), FALSE);
  }
  HPDF_OutputIntent intent = HPDF_ICC_LoadIccFromMem(doc, doc->mmgr, icc_stream, doc->xref, 3);
  HPDF_Stream_Free(icc_stream);
  if (!intent)
    return check_hpdf(pdf, "ICC profile", error) &&
           (g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "ICC profile rejected by libhpdf"), FALSE);
  HPDF_PDFA_AppendOutputIntents(doc, "sRGB IEC61966-2.1", intent);
  HPDF_PDFA_GenerateID(doc);
  return check_hpdf(pdf, "PDF/A output intent", error);
}

/* Creates an empty document and its scratch directory; free with
 * scand_pdf_free(). */
ScandPdf *scand_pdf_new(const ScandPdfOptions *options, GError **error) {
  static const ScandPdfOptions defaults = { 0 };
  if (!options)
    options = &defaults;
  if (options->jpeg_quality < 0 || options->jpeg_quality > 100) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "JPEG quality %d is not within 1..100", options->jpeg_quality);
    return NULL;
  }
  if (options->default_dpi < 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "default resolution must be positive");
    return NULL;
  }

  g_autoptr(ScandPdf) pdf = g_new0(ScandPdf, 1);
  pdf->raw_mode = options->raw_mode;
  pdf->pdfa = options->pdfa;
  pdf->jpeg_quality = options->jpeg_quality ? options->jpeg_quality : 85;
  pdf->default_dpi = options->default_dpi > 0 ? options->default_dpi : 300;
  pdf->sources = g_ptr_array_new_with_free_func((GDestroyNotify) lazy_source_free);

  g_autofree char *tmpl =
      g_build_filename(options->scratch_dir ? options->scratch_dir : g_get_tmp_dir(), "scand-pdf-XXXXXX", NULL);
  if (!g_mkdtemp_full(tmpl, 0700)) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "cannot create scratch directory %s: %s", tmpl, g_strerror(errsv));
    return NULL;
  }
  pdf->scratch = g_steal_pointer(&tmpl);

  pdf->doc = HPDF_NewEx(hpdf_error_handler, counting_alloc, counting_free, 0, pdf);
  if (!pdf->doc) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "cannot create a libhpdf document");
    return NULL;
  }

  g_autofree char *creator = options->creator ? g_strdup(options->creator) : g_strdup("scand " SCAND_VERSION);
  if (options->title) {
    g_autofree char *title = info_string(options->title, options->pdfa);
    HPDF_SetInfoAttr(pdf->doc, HPDF_INFO_TITLE, title);
  }
  HPDF_SetInfoAttr(pdf->doc, HPDF_INFO_CREATOR, creator);
  g_autoptr(GDateTime) now = options->created ? g_date_time_ref(options->created) : g_date_time_new_now_local();
  set_info_date(pdf->doc, HPDF_INFO_CREATION_DATE, now);
  set_info_date(pdf->doc, HPDF_INFO_MOD_DATE, now);
  if (!check_hpdf(pdf, "document info", error))
    return NULL;
  if (options->pdfa && !setup_pdfa(pdf, error))
    return NULL;
  return g_steal_pointer(&pdf);
}

/* Frees the document and removes its scratch files. Accepts NULL. */
void scand_pdf_free(ScandPdf *pdf) {
  if (!pdf)
    return;
  if (pdf->doc)
    HPDF_Free(pdf->doc);
  if (pdf->sources)
    g_ptr_array_unref(pdf->sources);
  scand_pdf_text_font_free(pdf->font);
  if (pdf->scratch)
    g_rmdir(pdf->scratch);
  g_free(pdf->scratch);
  g_free(pdf);
}

/* Pages added so far. */
guint scand_pdf_get_page_count(ScandPdf *pdf) {
  return pdf->n_pages;
}

/* ---- preparing pages ----------------------------------------------------------- */

/* A new file name in the scratch directory (caller frees). */
static char *scratch_path(ScandPdf *pdf, const char *ext) {
  char name[32];
  g_snprintf(name, sizeof name, "p%06u.%s", ++pdf->scratch_seq, ext);
  return g_build_filename(pdf->scratch, name, NULL);
}

/* The resolution the file states wins (it describes these very pixels), then
 * the caller's (the scan settings), then the default. */
static void choose_dpi(ScandPdf *pdf, double dpi, const ScandImageInfo *info, double *xdpi, double *ydpi) {
  if (info->xres > 0 && info->yres > 0) {
    *xdpi = info->xres;
    *ydpi = info->yres;
  } else if (dpi > 0) {
    *xdpi = *ydpi = dpi;
  } else {
    *xdpi = *ydpi = pdf->default_dpi;
  }
}

/* Compresses the rows of reader into a JPEG file at out. */
static gboolean encode_jpeg(ScandPdf *pdf, ScandImageReader *reader, const ScandImageInfo *info, double xdpi,
                            double ydpi, const char *out, GError **error) {
  FILE *fp = g_fopen(out, "wbe");
  if (!fp) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", out, g_strerror(errsv));
    return FALSE;
  }
  gsize row_bytes = scand_image_row_bytes(info->format, info->width);
  guint8 *row = g_malloc(row_bytes);
  struct jpeg_compress_struct cinfo;
  ScandJpegError jerr;
  cinfo.err = scand_jpeg_error_init(&jerr, FALSE);
  if (setjmp(jerr.jmp)) {
    jpeg_destroy_compress(&cinfo);
    fclose(fp);
    g_free(row);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: JPEG encoding failed: %s", out, jerr.msg);
    return FALSE;
  }
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, fp);
  cinfo.image_width = info->width;
  cinfo.image_height = info->height;
  cinfo.input_components = info->format == SCAND_PAGE_RGB24 ? 3 : 1;
  cinfo.in_color_space = info->format == SCAND_PAGE_RGB24 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, pdf->jpeg_quality, TRUE);
  if (xdpi <= G_MAXUINT16 && ydpi <= G_MAXUINT16) {
    cinfo.density_unit = 1;
    cinfo.X_density = (UINT16) (xdpi + 0.5);
    cinfo.Y_density = (UINT16) (ydpi + 0.5);
  }
  jpeg_start_compress(&cinfo, TRUE);
  gboolean ok = TRUE;
  while (ok && cinfo.next_scanline < cinfo.image_height) {
    ok = scand_image_reader_read_row(reader, row, error);
    if (ok) {
      JSAMPROW rows[1] = { row };
      jpeg_write_scanlines(&cinfo, rows, 1);
    }
  }
  if (ok)
    jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  g_free(row);
  if (fclose(fp) != 0 && ok) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", out, g_strerror(errsv));
    ok = FALSE;
  }
  return ok;
}

/* Copies the decoded rows of reader into a raw file at out. */
static gboolean write_raw(ScandImageReader *reader, const ScandImageInfo *info, const char *out, GError **error) {
  FILE *fp = g_fopen(out, "wbe");
  if (!fp) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", out, g_strerror(errsv));
    return FALSE;
  }
  gsize row_bytes = scand_image_row_bytes(info->format, info->width);
  g_autofree guint8 *row = g_malloc(row_bytes);
  gboolean ok = TRUE;
  for (int y = 0; ok && y < info->height; y++) {
    ok = scand_image_reader_read_row(reader, row, error);
    if (ok && fwrite(row, 1, row_bytes, fp) != row_bytes) {
      int errsv = errno;
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", out, g_strerror(errsv));
      ok = FALSE;
    }
  }
  if (fclose(fp) != 0 && ok) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", out, g_strerror(errsv));
    ok = FALSE;
  }
  return ok;
}

/* Checks and converts one page of a PNG, PNM or TIFF file. */
static PreparedPage *prepare_raw_page(ScandPdf *pdf, const char *path, guint index, double dpi, GError **error) {
  ScandImageInfo info;
  g_autoptr(ScandImageReader) reader = scand_image_reader_open(path, index, &info, error);
  if (!reader)
    return NULL;
  g_autoptr(PreparedPage) page = g_new0(PreparedPage, 1);
  page->width = info.width;
  page->height = info.height;
  page->components = info.format == SCAND_PAGE_RGB24 ? 3 : 1;
  choose_dpi(pdf, dpi, &info, &page->xdpi, &page->ydpi);

  gsize row_bytes = scand_image_row_bytes(info.format, info.width);
  goffset raw_len = (goffset) row_bytes * info.height;
  goffset offset = 0;
  gboolean direct = !info.is_tiff && scand_image_pnm_raw_offset(path, &offset);

  if (info.format == SCAND_PAGE_BW1)
    page->kind = PAGE_CCITT;
  else if (pdf->raw_mode == SCAND_PDF_RAW_FLATE)
    page->kind = PAGE_FLATE;
  else
    page->kind = PAGE_DCT;

  if (page->kind == PAGE_DCT) {
    g_autofree char *out = scratch_path(pdf, "jpg");
    page->src = lazy_source_new(out, 0, 0, TRUE);
    if (!encode_jpeg(pdf, reader, &info, page->xdpi, page->ydpi, out, error))
      return NULL;
    GStatBuf st;
    if (g_stat(out, &st) < 0) {
      int errsv = errno;
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", out, g_strerror(errsv));
      return NULL;
    }
    page->src->length = st.st_size;
  } else if (direct) {
    page->src = lazy_source_new(path, offset, raw_len, FALSE);
  } else {
    g_autofree char *out = scratch_path(pdf, "raw");
    page->src = lazy_source_new(out, 0, raw_len, TRUE);
    if (!write_raw(reader, &info, out, error))
      return NULL;
  }
  if (page->src->length > G_MAXINT32) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: page data too large for a PDF stream", path);
    return NULL;
  }
  return g_steal_pointer(&page);
}

/* Checks a JPEG file that will be embedded as it is. */
static PreparedPage *prepare_jpeg_page(ScandPdf *pdf, const char *path, double dpi, GError **error) {
  ScandImageJpegInfo jinfo;
  if (!scand_image_probe_jpeg(path, &jinfo, error))
    return NULL;
  GStatBuf st;
  if (g_stat(path, &st) < 0) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", path, g_strerror(errsv));
    return NULL;
  }
  if (st.st_size > G_MAXINT32) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: JPEG too large for a PDF stream", path);
    return NULL;
  }
  /* PDF/A-1 allows DeviceCMYK only with a CMYK output intent; ours is sRGB.
   * Refuse rather than write a file that claims a conformance it lacks. */
  if (pdf->pdfa && jinfo.info.components == 4) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s: CMYK JPEG pages cannot go into PDF/A-1b", path);
    return NULL;
  }
  PreparedPage *page = g_new0(PreparedPage, 1);
  page->kind = PAGE_DCT;
  page->src = lazy_source_new(path, 0, st.st_size, FALSE);
  page->width = jinfo.info.width;
  page->height = jinfo.info.height;
  page->components = jinfo.info.components;
  page->adobe_inverted = jinfo.adobe_inverted;
  choose_dpi(pdf, dpi, &jinfo.info, &page->xdpi, &page->ydpi);
  return page;
}

/* ---- adding pages to the document ---------------------------------------------- */

/* Replaces image's in-memory stream by a lazy reader over src, written
 * with filter; the document keeps src until it is freed. */
static gboolean attach_lazy_stream(ScandPdf *pdf, HPDF_Image image, LazySource *src, HPDF_UINT filter) {
  HPDF_Stream lazy = HPDF_CallbackReader_New(pdf->doc->mmgr, lazy_read, lazy_seek, lazy_tell, lazy_size, src);
  if (!lazy)
    return FALSE;
  HPDF_Stream_Free(image->stream);
  image->stream = lazy;
  image->filter = filter;
  /* libhpdf deflates a Flate stream while saving: only others are copied as they are. */
  src->verbatim = !(filter & HPDF_STREAM_FILTER_FLATE_DECODE);
  g_ptr_array_add(pdf->sources, src);
  return TRUE;
}

/* Reads the G4-encoded stream libhpdf produced into a scratch file, so the
 * document can drop it from memory. */
static LazySource *spill_memstream(ScandPdf *pdf, HPDF_Stream stream, GError **error) {
  g_autofree char *out = scratch_path(pdf, "g4");
  LazySource *src = lazy_source_new(out, 0, 0, TRUE);
  FILE *fp = g_fopen(out, "wbe");
  if (!fp) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", out, g_strerror(errsv));
    lazy_source_free(src);
    return NULL;
  }
  gboolean ok = TRUE;
  HPDF_UINT count = HPDF_MemStream_GetBufCount(stream);
  for (HPDF_UINT i = 0; ok && i < count; i++) {
    HPDF_UINT len = 0;
    HPDF_BYTE *buf = HPDF_MemStream_GetBufPtr(stream, i, &len);
    if (buf && len > 0) {
      ok = fwrite(buf, 1, len, fp) == len;
      src->length += len;
    }
  }
  ok = fclose(fp) == 0 && ok;
  if (!ok) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", out, g_strerror(errsv));
    lazy_source_free(src);
    return NULL;
  }
  return src;
}

/* An image XObject whose data will come from a file. */
static HPDF_Image new_image(ScandPdf *pdf, const PreparedPage *page, const char *color_space, int bits) {
  HPDF_Doc doc = pdf->doc;
  HPDF_Image image = HPDF_DictStream_New(doc->mmgr, doc->xref);
  if (!image)
    return NULL;
  image->header.obj_class |= HPDF_OSUBCLASS_XOBJECT;
  HPDF_STATUS ret = HPDF_Dict_AddName(image, "Type", "XObject");
  ret += HPDF_Dict_AddName(image, "Subtype", "Image");
  ret += HPDF_Dict_AddNumber(image, "Width", page->width);
  ret += HPDF_Dict_AddNumber(image, "Height", page->height);
  ret += HPDF_Dict_AddName(image, "ColorSpace", color_space);
  ret += HPDF_Dict_AddNumber(image, "BitsPerComponent", bits);
  return ret == HPDF_OK ? image : NULL;
}

/* G4-encodes a 1-bit page with libhpdf, then moves the encoded data to a
 * scratch file read lazily. */
static HPDF_Image add_ccitt_image(ScandPdf *pdf, PreparedPage *page, GError **error) {
  gsize row_bytes = scand_image_row_bytes(SCAND_PAGE_BW1, page->width);
  gsize len = row_bytes * page->height;
  g_autofree guint8 *bits = g_try_malloc(len);
  if (!bits) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s: out of memory for a 1-bit page", page->src->path);
    return NULL;
  }
  int fd = g_open(page->src->path, O_RDONLY | O_CLOEXEC, 0);
  gssize n = fd < 0 ? -1 : pread(fd, bits, len, page->src->offset);
  int errsv = errno;
  if (fd >= 0)
    close(fd);
  if (n != (gssize) len) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", page->src->path,
                n < 0 ? g_strerror(errsv) : "file shrank while reading");
    return NULL;
  }

  /* libhpdf's G4 encoder treats 1 bits as black runs; with the default
   * BlackIs1 false the decoder then paints them black. */
  HPDF_Image image =
      HPDF_Image_LoadRaw1BitImageFromMem(pdf->doc, bits, page->width, page->height, row_bytes, HPDF_TRUE, HPDF_TRUE);
  if (!image || !check_hpdf(pdf, "CCITT G4 encoding", error))
    return NULL;
  LazySource *src = spill_memstream(pdf, image->stream, error);
  if (!src)
    return NULL;
  /* This libhpdf writes no /Filter for its own CCITT data; it is said below. */
  if (!attach_lazy_stream(pdf, image, src, HPDF_STREAM_FILTER_CCITT_DECODE)) {
    lazy_source_free(src);
    return NULL;
  }
  HPDF_Array filters = HPDF_Array_New(pdf->doc->mmgr);
  HPDF_Array parms_array = HPDF_Array_New(pdf->doc->mmgr);
  HPDF_Dict parms = HPDF_Dict_New(pdf->doc->mmgr);
  if (!filters || !parms_array || !parms)
    return NULL;
  HPDF_STATUS ret = HPDF_Array_AddName(filters, "CCITTFaxDecode");
  ret += HPDF_Dict_Add(image, "Filter", filters);
  ret += HPDF_Dict_AddNumber(parms, "K", -1);
  ret += HPDF_Dict_AddNumber(parms, "Columns", page->width);
  ret += HPDF_Dict_AddNumber(parms, "Rows", page->height);
  ret += HPDF_Array_Add(parms_array, parms);
  ret += HPDF_Dict_Add(image, "DecodeParms", parms_array);
  return ret == HPDF_OK ? image : NULL;
}

/* libhpdf writes reals as floats rounded to 5 decimals: 2480 px at 300 dpi
 * = 595.2 pt comes out as 595.20001, and renderers then make the page one
 * pixel wider (ceil). Returns the largest value at most v as written. */
static HPDF_REAL pdf_real_not_above(double v) {
  float f = (float) v;
  for (int i = 0; i < 8; i++) {
    double written = floor((double) f * 100000.0 + 0.5) / 100000.0;
    if (written <= v)
      break;
    f = nextafterf(f, 0);
  }
  return f;
}

/* A page's content stream ("q … cm /X1 Do Q", ~40 bytes) sits in a 4 KiB
 * block; copy it into a right-sized one so per-page memory stays small. */
static void shrink_content_stream(ScandPdf *pdf, HPDF_Page page) {
  HPDF_PageAttr attr = page->attr;
  HPDF_Stream old = attr->stream;
  if (!old || old->type != HPDF_STREAM_MEMORY || HPDF_MemStream_GetBufCount(old) != 1)
    return;
  HPDF_UINT len = 0;
  HPDF_BYTE *data = HPDF_MemStream_GetBufPtr(old, 0, &len);
  if (!data || len == 0)
    return;
  HPDF_Stream small = HPDF_MemStream_New(pdf->doc->mmgr, len);
  if (!small)
    return;
  if (HPDF_Stream_Write(small, data, len) != HPDF_OK) {
    HPDF_Stream_Free(small);
    return;
  }
  HPDF_Stream_Free(old);
  attr->contents->stream = small;
  attr->stream = small;
}

/* Draws the image over the whole page, turned clockwise by rotate degrees:
 * iw x ih is the image's own size in points. */
static void draw_turned(HPDF_Page hpage, HPDF_Image image, int rotate, HPDF_REAL iw, HPDF_REAL ih) {
  if (rotate == 0) {
    HPDF_Page_DrawImage(hpage, image, 0, 0, iw, ih);
    return;
  }
  HPDF_Page_GSave(hpage);
  if (rotate == 90)
    HPDF_Page_Concat(hpage, 0, -iw, ih, 0, 0, iw);
  else if (rotate == 180)
    HPDF_Page_Concat(hpage, -iw, 0, 0, -ih, iw, ih);
  else
    HPDF_Page_Concat(hpage, 0, iw, -ih, 0, ih, 0);
  HPDF_Page_ExecuteXObject(hpage, image);
  HPDF_Page_GRestore(hpage);
}

/* The page's text layer, with the document's font made on first use. */
static gboolean draw_text(ScandPdf *pdf, HPDF_Page hpage, const ScandPdfText *text, HPDF_REAL w_pt, HPDF_REAL h_pt,
                          GError **error) {
  if (!text || scand_pdf_text_get_n_words(text) == 0)
    return TRUE;
  if (!pdf->font && !(pdf->font = scand_pdf_text_font_new(pdf->doc, error)))
    return FALSE;
  return scand_pdf_text_draw(text, pdf->font, hpage, w_pt, h_pt, error) && check_hpdf(pdf, "text layer", error);
}

/* Adds one prepared page: image XObject plus a page of the image's size. */
static gboolean add_prepared_page(ScandPdf *pdf, PreparedPage *page, GError **error) {
  HPDF_Image image = NULL;
  switch (page->kind) {
    case PAGE_CCITT:
      image = add_ccitt_image(pdf, page, error);
      if (!image && error && *error)
        return FALSE;
      break;
    case PAGE_DCT:
    case PAGE_FLATE:
      image = new_image(pdf, page,
                        page->components == 4   ? "DeviceCMYK"
                        : page->components == 3 ? "DeviceRGB"
                                                : "DeviceGray",
                        8);
      if (!image)
        break;
      if (page->adobe_inverted) {
        HPDF_Array decode = HPDF_Array_New(pdf->doc->mmgr);
        if (!decode)
          break;
        for (int i = 0; i < 4; i++) {
          HPDF_Array_AddNumber(decode, 1);
          HPDF_Array_AddNumber(decode, 0);
        }
        HPDF_Dict_Add(image, "Decode", decode);
      }
      if (!attach_lazy_stream(pdf, image, page->src,
                              page->kind == PAGE_FLATE ? HPDF_STREAM_FILTER_FLATE_DECODE
                              : page->deflate          ? HPDF_STREAM_FILTER_FLATE_DECODE | HPDF_STREAM_FILTER_DCT_DECODE
                                                       : HPDF_STREAM_FILTER_DCT_DECODE)) {
        image = NULL;
        break;
      }
      page->src = NULL; /* now owned by pdf->sources */
      break;
  }
  if (!image || !check_hpdf(pdf, "image", error)) {
    if (error && !*error)
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "cannot create a PDF image");
    return FALSE;
  }

  gboolean sideways = page->rotate == 90 || page->rotate == 270;
  HPDF_REAL iw = pdf_real_not_above(page->width * 72.0 / page->xdpi);
  HPDF_REAL ih = pdf_real_not_above(page->height * 72.0 / page->ydpi);
  HPDF_REAL w_pt = sideways ? ih : iw;
  HPDF_REAL h_pt = sideways ? iw : ih;
  HPDF_Page hpage = HPDF_AddPage(pdf->doc);
  if (!hpage)
    return check_hpdf(pdf, "page", error);
  /* MediaBox set directly: HPDF_Page_SetWidth refuses pages under 3 pt or
   * over 14400 pt, which odd resolutions can produce. */
  HPDF_Array box = HPDF_Array_New(pdf->doc->mmgr);
  if (box) {
    HPDF_Array_AddNumber(box, 0);
    HPDF_Array_AddNumber(box, 0);
    HPDF_Array_AddReal(box, w_pt);
    HPDF_Array_AddReal(box, h_pt);
    HPDF_Dict_Add(hpage, "MediaBox", box);
  }
  draw_turned(hpage, image, page->rotate, iw, ih);
  if (!check_hpdf(pdf, "page", error) || !draw_text(pdf, hpage, page->text, w_pt, h_pt, error))
    return FALSE;
  shrink_content_stream(pdf, hpage);
  pdf->n_pages++;
  return TRUE;
}

/* Checks and converts every page of path first, then adds them, so that a bad
 * file adds nothing. */
gboolean scand_pdf_add_file(ScandPdf *pdf, const char *path, double dpi, GError **error) {
  return scand_pdf_add_page(pdf, path, dpi, NULL, error);
}

gboolean scand_pdf_add_page(ScandPdf *pdf, const char *path, double dpi, const ScandPdfPageExtras *extras,
                            GError **error) {
  if (extras && extras->rotate != 0 && extras->rotate != 90 && extras->rotate != 180 && extras->rotate != 270) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: page turn %d is not a quarter turn", path, extras->rotate);
    return FALSE;
  }
  ScandImageInfo info;
  if (!scand_image_probe(path, &info, error))
    return FALSE;
  g_autoptr(GPtrArray) pages = g_ptr_array_new_with_free_func((GDestroyNotify) prepared_page_free);
  if (info.format == SCAND_PAGE_JPEG) {
    PreparedPage *page = prepare_jpeg_page(pdf, path, dpi, error);
    if (!page)
      return FALSE;
    g_ptr_array_add(pages, page);
  } else {
    guint n = 1;
    if (!scand_image_count_pages(path, &n, error))
      return FALSE;
    for (guint i = 0; i < n; i++) {
      PreparedPage *page = prepare_raw_page(pdf, path, i, dpi, error);
      if (!page) {
        if (n > 1)
          g_prefix_error(error, "page %u: ", i + 1);
        return FALSE;
      }
      g_ptr_array_add(pages, page);
    }
  }
  if (extras && pages->len > 0) {
    PreparedPage *first = pages->pdata[0];
    first->rotate = extras->rotate;
    first->text = extras->text;
    if (extras->dpi > 0)
      first->xdpi = first->ydpi = extras->dpi;
    first->deflate = extras->compact && first->kind == PAGE_DCT && scand_pdf_private_jpeg_deflates(path, 0.05);
  }
  for (guint i = 0; i < pages->len; i++)
    if (!add_prepared_page(pdf, pages->pdata[i], error))
      return FALSE;
  return TRUE;
}

/* Whether the file ends with a PDF trailer ("%%EOF" and an optional end of line). */
static gboolean trailer_written(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  char tail[32] = { 0 };
  off_t size = lseek(fd, 0, SEEK_END);
  off_t from = size > (off_t) sizeof tail - 1 ? size - (off_t) sizeof tail + 1 : 0;
  ssize_t n = size > 0 ? pread(fd, tail, (size_t) (size - from), from) : 0;
  close(fd);
  if (n <= 0)
    return FALSE;
  return g_strrstr_len(tail, n, "%%EOF") != NULL;
}

/* Why writing into dir failed when the library kept only that something did:
 * a write error left in errno, else a full file system, else (io: the
 * library says it was I/O) EIO; 0 when nothing points at the file system. */
static int write_errno(int saved, const char *dir, gboolean io) {
  if (saved == ENOSPC || saved == EDQUOT || saved == EFBIG || saved == EIO || saved == EROFS)
    return saved;
  struct statvfs st;
  if (statvfs(dir, &st) == 0 && (guint64) st.f_bavail * st.f_frsize < 64 * 1024)
    return ENOSPC;
  return io ? (saved && saved != EINTR && saved != EAGAIN ? saved : EIO) : 0;
}

/* Writes the document into fd (closed here) through a PdfOutput; returns
 * libhpdf's status and sets *save_errno to why writing failed, if known. */
static HPDF_STATUS save_to_fd(ScandPdf *pdf, int fd, int *save_errno) {
  PdfOutput *out = pdf_output_new(fd);
  HPDF_Stream writer = HPDF_CallbackWriter_New(pdf->doc->mmgr, pdf_output_write, out);
  for (guint i = 0; i < pdf->sources->len; i++) {
    LazySource *src = pdf->sources->pdata[i];
    src->failed_errno = 0;
    src->out = src->verbatim ? out : NULL;
    src->spliced = FALSE;
  }
  /* HPDF_SaveToStream() writes into the document's stream, which is
   * therefore ours for the save. */
  HPDF_Stream_Free(pdf->doc->stream);
  pdf->doc->stream = writer;
  errno = 0;
  HPDF_STATUS ret = writer ? HPDF_SaveToStream(pdf->doc) : HPDF_FAILD_TO_ALLOC_MEM;
  *save_errno = errno;
  int out_errno = pdf_output_finish(out);
  if (close(fd) < 0 && !out_errno)
    out_errno = errno;
  HPDF_Stream_Free(pdf->doc->stream);
  pdf->doc->stream = NULL;
  pdf_output_free(out);
  if (out_errno) {
    *save_errno = out_errno;
    if (ret == HPDF_OK)
      ret = HPDF_FILE_IO_ERROR;
  }
  /* A failed save can stop in the middle of a stream. */
  for (guint i = 0; i < pdf->sources->len; i++) {
    LazySource *src = pdf->sources->pdata[i];
    src->out = NULL;
    if (src->fd >= 0) {
      close(src->fd);
      src->fd = -1;
    }
  }
  return ret;
}

/* Saves to a temporary name beside path, then commits it durably. */
gboolean scand_pdf_save(ScandPdf *pdf, const char *path, GError **error) {
  if (pdf->n_pages == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: a PDF needs at least one page", path);
    return FALSE;
  }
  g_autofree char *dir = g_path_get_dirname(path);
  g_autofree char *base = g_path_get_basename(path);
  g_autofree char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
  int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, errsv == ENOENT ? SCAND_ERROR_NOT_FOUND : SCAND_ERROR_IO,
                "%s: cannot create a temporary file: %s", path, g_strerror(errsv));
    return FALSE;
  }
  /* mkstemp makes 0600; a scanned document is meant to be read by others. */
  fchmod(fd, 0644);

  int save_errno = 0;
  HPDF_STATUS ret = save_to_fd(pdf, fd, &save_errno);
  for (guint i = 0; ret != HPDF_OK && i < pdf->sources->len; i++) {
    LazySource *src = pdf->sources->pdata[i];
    if (src->failed_errno) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: cannot read page file %s: %s", path, src->path,
                  g_strerror(src->failed_errno));
      check_hpdf(pdf, path, NULL);
      g_unlink(tmp);
      return FALSE;
    }
  }
  /* libhpdf says only "file I/O error" (0x1016): the reason is the output's
   * errno, and a PDF cut short some other way is caught by its missing
   * trailer. */
  gboolean io = ret == HPDF_FILE_IO_ERROR || ret == HPDF_FILE_OPEN_ERROR || (ret == HPDF_OK && !trailer_written(tmp));
  int errsv = io || ret != HPDF_OK ? write_errno(save_errno, dir, io) : 0;
  if (errsv) {
    check_hpdf(pdf, path, NULL);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "cannot write the PDF %s: %s", path, g_strerror(errsv));
    g_unlink(tmp);
    return FALSE;
  }
  if (ret != HPDF_OK || !check_hpdf(pdf, path, error)) {
    if (error && !*error)
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: libhpdf error 0x%04X", path, (unsigned) ret);
    g_unlink(tmp);
    return FALSE;
  }
  if (!scand_fs_commit(tmp, path, error)) {
    g_unlink(tmp);
    return FALSE;
  }
  return TRUE;
}
