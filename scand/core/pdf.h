/* PDF assembly with libhpdf.
 *
 * Pages are added one by one from files; JPEG pages are embedded untouched
 * (DCTDecode), raw pages are JPEG- or Flate-compressed, 1-bit pages CCITT G4.
 * Image data stays on disk until the document is written, so memory does not
 * grow with the page count. */
#pragma once

#include <glib.h>

#include "scand/core/pdf-text.h"

G_BEGIN_DECLS

typedef enum {
  SCAND_PDF_RAW_JPEG,  /* 8-bit gray / RGB raw pages become JPEG (lossy) */
  SCAND_PDF_RAW_FLATE, /* ... or lossless Flate */
} ScandPdfRawMode;

typedef struct {
  ScandPdfRawMode raw_mode;
  int jpeg_quality;        /* 1..100, used for SCAND_PDF_RAW_JPEG; 0 = 85 */
  gboolean pdfa;           /* PDF/A-1b: XMP metadata, sRGB/gray output intent, ID */
  const char *title;       /* document info; NULL = none */
  const char *creator;     /* NULL = "scand VERSION" */
  GDateTime *created;      /* NULL = now */
  double default_dpi;      /* for pages whose file does not say; 0 = 300 */
  const char *scratch_dir; /* where converted pages are kept until saved; NULL = g_get_tmp_dir() */
} ScandPdfOptions;

typedef struct ScandPdf ScandPdf;

ScandPdf *scand_pdf_new(const ScandPdfOptions *options, GError **error);
/* Adds a page from a JPEG, PNG, PNM or TIFF file (every page of a multi-page
 * TIFF). Resolution: what the file states (JFIF density, pHYs, TIFF tags),
 * else dpi if > 0, else options->default_dpi. */
gboolean scand_pdf_add_file(ScandPdf *pdf, const char *path, double dpi, GError **error);
/* What page processing (scand/core/page-process.h) adds to a page. */
typedef struct {
  int rotate;               /* clockwise turn (0, 90, 180, 270) that shows the image upright; the image
                             * stream is not touched, the page draws it turned */
  const ScandPdfText *text; /* invisible words over the upright page; NULL = none */
  double dpi;               /* > 0: the image's resolution whatever its file states (a page taken
                             * out of a PDF keeps that page's size) */
  gboolean compact;         /* a JPEG page whose bytes shrink by 5 % or more under Flate is stored in
                             * a [/FlateDecode /DCTDecode] stream: its JPEG bytes unchanged inside */
} ScandPdfPageExtras;

/* Like scand_pdf_add_file(), with extras (NULL = none) for the file's first
 * page. The text is drawn while adding: it need not outlive the call. */
gboolean scand_pdf_add_page(ScandPdf *pdf, const char *path, double dpi, const ScandPdfPageExtras *extras,
                            GError **error);
guint scand_pdf_get_page_count(ScandPdf *pdf);
/* Writes the document to path atomically (temporary file, fsync, rename, fsync dir). */
gboolean scand_pdf_save(ScandPdf *pdf, const char *path, GError **error);
/* Accepts NULL. */
void scand_pdf_free(ScandPdf *pdf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandPdf, scand_pdf_free)

G_END_DECLS
