/* Page processing: what a page says and how it goes into the PDF.
 *
 * Between the spool and the PDF each page can be read (OCR with Tesseract),
 * turned upright (fixed turns, or Tesseract's orientation detection), checked
 * for being blank (Leptonica), deskewed and cropped, classified as
 * black-and-white, gray or colour, and searched for barcodes (zbar) and patch
 * codes. A page whose OCR fails or times out still goes into the PDF, without
 * text, and the analysis says why. Nothing here changes the page file: a page
 * that must be re-encoded (deskewed, cropped, or stored as 1-bit or gray) gets
 * a new image file beside the analysis; otherwise the original goes into the
 * PDF untouched (JPEG bytes unchanged) and turns are done by the page.
 *
 * Built with the meson feature `ocr`; without it every option that needs it
 * fails with SCAND_ERROR_UNSUPPORTED. */
#pragma once

#include <glib.h>

#include "scand/core/pdf-text.h"
#include "scand/core/pdf.h"

G_BEGIN_DECLS

typedef enum {
  SCAND_BLANK_KEEP, /* not looked for */
  SCAND_BLANK_DROP, /* blank pages are left out of the document (and counted) */
  SCAND_BLANK_FLAG, /* kept and recorded */
} ScandBlankAction;

typedef enum {
  SCAND_PAGE_COLOR_AS_IS, /* not classified: the page stays as it was scanned */
  SCAND_PAGE_COLOR_BW,    /* 1-bit, CCITT G4 */
  SCAND_PAGE_COLOR_GRAY,  /* gray JPEG */
  SCAND_PAGE_COLOR_COLOR, /* colour, kept */
} ScandPageColor;

/* The default ink coverage (percent of the page inside a 4 % border, after
 * specks smaller than 1 mm are removed) under which a page is blank. */
#define SCAND_BLANK_THRESHOLD_DEFAULT 0.01

typedef struct {
  const char *ocr;      /* Tesseract languages, "eng+deu"; NULL or "" = no OCR */
  double ocr_timeout;   /* seconds per page; 0 = 120 */
  gboolean rotate_auto; /* orientation detection (tesseract-ocr-osd) */
  int rotate;           /* clockwise turn for every page: 0, 90, 180, 270 */
  int rotate_backs;     /* further turn for even pages (duplex backs delivered upside down: 180) */
  ScandBlankAction blank;
  double blank_threshold; /* percent; 0 = SCAND_BLANK_THRESHOLD_DEFAULT */
  gboolean deskew;
  gboolean crop;         /* cut dark scanner borders off */
  gboolean color_detect; /* mode = auto-detect */
  gboolean barcodes;     /* read barcodes and patch codes */
  double dpi;            /* for files that state no resolution; 0 = 300 */
} ScandPageOptions;

typedef enum {
  SCAND_SPLIT_NONE,
  SCAND_SPLIT_BARCODE,     /* a page with a barcode whose data matches the glob pattern */
  SCAND_SPLIT_PATCH_T,     /* a Kodak Patch T sheet */
  SCAND_SPLIT_BLANK_SHEET, /* a blank sheet (both sides when duplex) */
} ScandSplitKind;

typedef struct {
  ScandSplitKind kind;
  char *pattern; /* SCAND_SPLIT_BARCODE */
} ScandSplit;

/* The profile keys of page processing, as [profile] and job keys and as
 * `scand assemble` options: ocr, ocr-timeout, ocr-workers, rotate
 * (auto|0|90|180|270), rotate-backs, blank (keep|drop|flag), blank-threshold,
 * deskew, crop, mode (auto-detect), split, barcodes. get returns a key's value
 * or NULL. Barcodes are read whenever any processing runs. Strings in
 * options point into what get returned. */
typedef const char *(*ScandPageOptionGetter)(const char *key, gpointer user_data);
gboolean scand_page_options_parse(ScandPageOptions *options, ScandSplit *split, guint *workers,
                                  ScandPageOptionGetter get, gpointer user_data, GError **error);
/* The keys above, NULL-terminated. */
extern const char *const scand_page_option_keys[];

/* Whether any option asks for processing at all. */
gboolean scand_page_options_any(const ScandPageOptions *options);
/* Checks what this build and this machine can do (the `ocr` feature, the
 * language packs, tesseract-ocr-osd); one line naming what is missing. */
gboolean scand_page_options_check(const ScandPageOptions *options, GError **error);

typedef struct {
  int rotation;      /* clockwise turn that made the page upright (fixed + detected) */
  gboolean blank;    /* under the blank threshold */
  double ink;        /* percent, as measured for the blank check (-1 = not measured) */
  double skew;       /* degrees found (positive: the text rises to the right); 0 = none */
  gboolean deskewed; /* the new image is straightened */
  gboolean cropped;
  ScandPageColor color; /* the choice made */
  GStrv barcodes;       /* "CODE-39:INV-2024-0042", … (never NULL) */
  char *patch;          /* "T", "1", "2", "3", "4", "6" or NULL */
  ScandPdfText *text;   /* NULL without OCR, or when it failed */
  char *note;           /* why the page has no text or was not analysed; NULL when all went well */
  char *image;          /* the re-encoded page (PNM) to put in the PDF instead of the original, or NULL */
  double image_dpi;     /* its resolution */
  double seconds;       /* time spent */
} ScandPageAnalysis;

/* Analyses the page file path (JPEG, PNG, PNM, TIFF first page). number is
 * its 1-based place in the document (even = a duplex back). A re-encoded page
 * is written into out_dir as <basename>.processed.pnm. Fails only when the
 * file cannot be read as an image (one line naming it); OCR trouble is a note.
 * Caller frees. */
ScandPageAnalysis *scand_page_analyse(const char *path, guint number, const ScandPageOptions *options,
                                      const char *out_dir, GError **error);
/* Accepts NULL (does not remove the image file). */
void scand_page_analysis_free(ScandPageAnalysis *analysis);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandPageAnalysis, scand_page_analysis_free)

/* Keeps an analysis beside its page, durably (write-temp, fsync, rename), and
 * reads it back; load fails with SCAND_ERROR_INVAL on a damaged file. */
gboolean scand_page_analysis_save(const ScandPageAnalysis *analysis, const char *path, GError **error);
ScandPageAnalysis *scand_page_analysis_load(const char *path, GError **error);
/* Where a page file's record goes: page-0001.jpg -> page-0001.info (newly allocated). */
char *scand_page_analysis_record_path(const char *page);

/* A short human summary: "bw, turned 180°, skew 3.0°, 412 words" (newly allocated). */
char *scand_page_analysis_describe(const ScandPageAnalysis *analysis);
const char *scand_page_color_to_string(ScandPageColor color);

/* A pool of workers (one Tesseract handle per worker thread, OMP_THREAD_LIMIT=1)
 * analysing pages while later ones are still arriving. */
typedef struct ScandPagePool ScandPagePool;

/* workers 0 = the default: cores - 1, at least 1. Copies options. With
 * records, each analysis is also saved beside its page as soon as it is done
 * (scand_page_analysis_record_path()). */
ScandPagePool *scand_page_pool_new(const ScandPageOptions *options, guint workers, const char *out_dir,
                                   gboolean records);
/* Queues page path (1-based number) for analysis. */
void scand_page_pool_submit(ScandPagePool *pool, const char *path, guint number);
/* Waits for every queued page (a pool of default size uses every core for
 * what is left: the batch is in); returns the analyses in submission order
 * (an element is NULL when that page could not be read: errors gets its line). */
GPtrArray *scand_page_pool_finish(ScandPagePool *pool, GPtrArray *errors);
/* The default number of workers. */
guint scand_page_pool_default_workers(void);
/* Waits for queued pages and frees. Accepts NULL. */
void scand_page_pool_free(ScandPagePool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandPagePool, scand_page_pool_free)

/* ---- documents from analysed pages (page-split.c, page-document.c) ---- */

/* Parses "barcode:PATTERN", "patch-t", "blank-sheet" or "none"/"" into split
 * (clear with scand_split_clear()). */
gboolean scand_split_parse(const char *text, ScandSplit *split, GError **error);
void scand_split_clear(ScandSplit *split);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ScandSplit, scand_split_clear)

/* One document of a batch: its pages (0-based indices into the batch), the
 * barcode that names it ({barcode}: the separator's, else the first found on
 * its pages; NULL if none) and the blank pages found in it (1-based numbers
 * within the document, for {blanks}), of which dropped ones are left out. */
typedef struct {
  GArray *pages; /* guint */
  char *barcode;
  GArray *blanks; /* guint, 1-based within the document as scanned */
  guint dropped;
} ScandPagePart;

void scand_page_part_free(ScandPagePart *part);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandPagePart, scand_page_part_free)

/* Cuts a batch of analysed pages (NULL elements: pages that could not be
 * analysed, never separators, always kept) into documents: separator pages
 * (the whole sheet when duplex) are removed, documents left empty are
 * dropped, blank pages are dropped or flagged as blank says. Never returns an
 * empty array for a non-empty batch unless every page was a separator or
 * blank and dropped. */
GPtrArray *scand_page_split(GPtrArray *analyses, const ScandSplit *split, gboolean duplex, ScandBlankAction blank);

/* "3,7" for the part's blank pages ("" when none; newly allocated). */
char *scand_page_part_blanks_string(const ScandPagePart *part);

/* Adds a part's pages to pdf: the re-encoded image where there is one, else
 * the page file untouched and turned by the page; with its text layer. dpi is
 * for files that state no resolution. */
gboolean scand_page_part_add_to_pdf(const ScandPagePart *part, GPtrArray *paths, GPtrArray *analyses, double dpi,
                                    ScandPdf *pdf, GError **error);
/* The same with each original page's resolution forced (page_dpi[i] > 0),
 * for pages taken out of a PDF. */
gboolean scand_page_part_add_to_pdf_at(const ScandPagePart *part, GPtrArray *paths, GPtrArray *analyses, double dpi,
                                       const double *page_dpi, ScandPdf *pdf, GError **error);

G_END_DECLS
