/* `scand assemble IMAGE… -o OUT.pdf`: a PDF from existing image files, with the
 * same engine the scan jobs use, page processing (OCR, rotate, blank, deskew,
 * colour, split) included. */
#include <stdio.h>
#include <string.h>

#include "scand/cli/cli.h"
#include "scand/core/page-process.h"
#include "scand/core/pdf.h"

/* The processing options given on the command line, by profile key. */
typedef struct {
  char *values[G_N_ELEMENTS(((const char *[]){ "ocr", "ocr-timeout", "ocr-workers", "rotate", "rotate-backs", "blank",
                                               "blank-threshold", "deskew", "crop", "mode", "split", "barcodes" }))];
  gboolean deskew, crop, barcodes;
} ProcessingArgs;

static const char *processing_get(const char *key, gpointer user_data) {
  ProcessingArgs *args = user_data;
  for (guint i = 0; scand_page_option_keys[i]; i++)
    if (strcmp(scand_page_option_keys[i], key) == 0)
      return args->values[i];
  return NULL;
}

/* Output path of part k (1-based) of n: OUT itself when there is one part,
 * else {n} and {barcode} expanded, or -k inserted before the extension. */
static char *part_path(const char *output, guint k, guint n, const char *barcode) {
  if (n == 1)
    return g_strdup(output);
  if (strstr(output, "{n}") || strstr(output, "{barcode}")) {
    g_autofree char *num = g_strdup_printf("%u", k);
    g_autofree char *safe = g_strdup(barcode ? barcode : num);
    g_strdelimit(safe, "/\\:*?\"<>| ", '_');
    g_autoptr(GString) s = g_string_new(output);
    g_string_replace(s, "{n}", num, 0);
    g_string_replace(s, "{barcode}", safe, 0);
    return g_strdup(s->str);
  }
  const char *dot = strrchr(output, '.');
  const char *slash = strrchr(output, '/');
  if (!dot || (slash && dot < slash))
    return g_strdup_printf("%s-%u", output, k);
  return g_strdup_printf("%.*s-%u%s", (int) (dot - output), output, k, dot);
}

/* Analyses every image with the worker pool; prints one line per page. */
static GPtrArray *analyse_all(char **images, const ScandPageOptions *po, guint workers, const char *scratch) {
  g_autoptr(ScandPagePool) pool = scand_page_pool_new(po, workers, scratch, FALSE);
  for (guint i = 0; images[i]; i++)
    scand_page_pool_submit(pool, images[i], i + 1);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  GPtrArray *analyses = scand_page_pool_finish(pool, errors);
  for (guint i = 0; i < analyses->len; i++) {
    ScandPageAnalysis *a = analyses->pdata[i];
    if (a) {
      g_autofree char *what = scand_page_analysis_describe(a);
      fprintf(stderr, "scand assemble: page %u: %s\n", i + 1, what);
    }
  }
  for (guint i = 0; i < errors->len; i++)
    scand_cli_error("assemble", "%s (page kept as it is)", (char *) errors->pdata[i]);
  return analyses;
}

/* Writes the parts of an analysed batch, printing each output path. */
static int write_parts(char **images, GPtrArray *analyses, GPtrArray *parts, const ScandPdfOptions *options, double dpi,
                       const char *output) {
  g_autoptr(GPtrArray) paths = g_ptr_array_new();
  for (guint i = 0; images[i]; i++)
    g_ptr_array_add(paths, images[i]);
  if (parts->len == 0) {
    scand_cli_error("assemble", "every page was blank or a separator: no document written");
    return SCAND_EXIT_FAILED;
  }
  for (guint k = 0; k < parts->len; k++) {
    ScandPagePart *part = parts->pdata[k];
    g_autofree char *out = part_path(output, k + 1, parts->len, part->barcode);
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandPdf) pdf = scand_pdf_new(options, &error);
    if (!pdf || !scand_page_part_add_to_pdf(part, paths, analyses, dpi, pdf, &error) ||
        (part->pages->len > 0 && !scand_pdf_save(pdf, out, &error))) {
      scand_cli_error("assemble", "%s", error->message);
      return SCAND_EXIT_FAILED;
    }
    g_autofree char *blanks = scand_page_part_blanks_string(part);
    if (blanks[0])
      fprintf(stderr, "scand assemble: %s: blank pages %s%s\n", out, blanks, part->dropped ? " (dropped)" : "");
    if (part->pages->len > 0)
      printf("%s\n", out);
  }
  return SCAND_EXIT_OK;
}

/* The PDF of every image in order, without processing. */
static int assemble_plain(char **images, const ScandPdfOptions *options, double dpi, const char *output) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandPdf) pdf = scand_pdf_new(options, &error);
  if (!pdf) {
    scand_cli_error("assemble", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  for (guint i = 0; images[i]; i++) {
    if (!scand_pdf_add_file(pdf, images[i], dpi, &error)) {
      scand_cli_error("assemble", "%s", error->message);
      return SCAND_EXIT_FAILED;
    }
  }
  if (!scand_pdf_save(pdf, output, &error)) {
    scand_cli_error("assemble", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  printf("%s\n", output);
  return SCAND_EXIT_OK;
}

/* Analyses, splits and writes; a bad option or a missing language pack is
 * one line and nothing written. */
static int assemble_processed(char **images, ProcessingArgs *args, const ScandPdfOptions *options, double dpi,
                              const char *output) {
  ScandPageOptions po;
  g_auto(ScandSplit) split = { 0 };
  guint workers = 0;
  g_autoptr(GError) error = NULL;
  if (!scand_page_options_parse(&po, &split, &workers, processing_get, args, &error) ||
      !scand_page_options_check(&po, &error)) {
    scand_cli_error("assemble", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  po.dpi = dpi;
  g_autofree char *scratch = g_dir_make_tmp("scand-assemble-XXXXXX", &error);
  if (!scratch) {
    scand_cli_error("assemble", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  /* Nothing is scanning here: every core reads pages (scans keep one back). */
  g_autoptr(GPtrArray) analyses = analyse_all(images, &po, workers ? workers : g_get_num_processors(), scratch);
  g_autoptr(GPtrArray) parts = scand_page_split(analyses, &split, FALSE, po.blank);
  int status = write_parts(images, analyses, parts, options, dpi, output);
  for (guint i = 0; i < analyses->len; i++) {
    ScandPageAnalysis *a = analyses->pdata[i];
    if (a && a->image)
      remove(a->image);
  }
  remove(scratch);
  return status;
}

/* Runs `scand assemble` (argv[0] is "assemble"): prints the output path(s) and
 * returns 0, or prints one "scand assemble: …" line and returns 1 (usage
 * errors included, as the command's issue asks). */
int scand_cli_assemble(int argc, char **argv) {
  g_autofree char *output = NULL;
  g_autofree char *title = NULL;
  g_auto(GStrv) images = NULL;
  double dpi = 0;
  int quality = -1; /* not given */
  gboolean lossless = FALSE;
  gboolean pdfa = FALSE;
  g_autofree char *config = NULL; /* accepted like every command; assembling needs none */
  ProcessingArgs args = { 0 };
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the PDF to FILE (required)", "FILE" },
    { "dpi", 0, 0, G_OPTION_ARG_DOUBLE, &dpi, "Resolution of pages whose file does not state one (default 300)", "N" },
    { "quality", 0, 0, G_OPTION_ARG_INT, &quality, "JPEG quality 1..100 for raw gray/colour pages (default 85)", "N" },
    { "lossless", 0, 0, G_OPTION_ARG_NONE, &lossless,
      "Compress raw gray/colour pages losslessly (Flate) instead of as JPEG", NULL },
    { "pdfa", 0, 0, G_OPTION_ARG_NONE, &pdfa, "Write PDF/A-1b", NULL },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Document title", "TITLE" },
    { "ocr", 0, 0, G_OPTION_ARG_STRING, &args.values[0], "Searchable text in LANGS (e.g. eng+deu)", "LANGS" },
    { "ocr-timeout", 0, 0, G_OPTION_ARG_STRING, &args.values[1], "Give up OCR of a page after S seconds (120)", "S" },
    { "ocr-workers", 0, 0, G_OPTION_ARG_STRING, &args.values[2], "Pages analysed at once (all cores)", "N" },
    { "rotate", 0, 0, G_OPTION_ARG_STRING, &args.values[3], "Turn pages: auto, 90, 180 or 270 (clockwise)", "HOW" },
    { "rotate-backs", 0, 0, G_OPTION_ARG_STRING, &args.values[4], "Also turn even pages (duplex backs)", "DEG" },
    { "blank", 0, 0, G_OPTION_ARG_STRING, &args.values[5], "Blank pages: keep, drop or flag", "WHAT" },
    { "blank-threshold", 0, 0, G_OPTION_ARG_STRING, &args.values[6], "Ink %% under which a page is blank (0.01)",
      "PCT" },
    { "deskew", 0, 0, G_OPTION_ARG_NONE, &args.deskew, "Straighten skewed pages (re-encodes them)", NULL },
    { "crop", 0, 0, G_OPTION_ARG_NONE, &args.crop, "Cut dark scanner borders off (re-encodes those pages)", NULL },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &args.values[9], "auto-detect: 1-bit, gray or colour per page", "MODE" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &args.values[10],
      "Split at separators: barcode:PATTERN, patch-t or blank-sheet (-o may use {n} and {barcode})", "HOW" },
    { "barcodes", 0, 0, G_OPTION_ARG_NONE, &args.barcodes, "Read barcodes (reported per page)", NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config, "Configuration file (not used by this command)", "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, "IMAGE…" },
    { NULL },
  };
  int status = SCAND_EXIT_OK;
  gboolean parsed = scand_cli_parse("assemble", "-o OUT.pdf",
                                    "Makes one PDF from JPEG, PNG, PNM and TIFF files (every page of a TIFF), in "
                                    "order.\nJPEG pages are embedded unchanged (also with --ocr and --rotate).",
                                    entries, &argc, &argv, &status);
  args.values[7] = args.deskew ? g_strdup("true") : NULL;
  args.values[8] = args.crop ? g_strdup("true") : NULL;
  args.values[11] = args.barcodes ? g_strdup("true") : NULL;
  int result = SCAND_EXIT_FAILED;
  gboolean processing = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(args.values); i++)
    processing |= args.values[i] != NULL;

  if (!parsed) {
  } else if (!images || !images[0]) {
    scand_cli_error("assemble", "no input images (try scand assemble --help)");
  } else if (!output || !output[0]) {
    scand_cli_error("assemble", "missing -o OUT.pdf (try scand assemble --help)");
  } else if (dpi < 0 || dpi > 100000) {
    scand_cli_error("assemble", "--dpi %g is out of range", dpi);
  } else if (quality != -1 && (quality < 1 || quality > 100)) {
    scand_cli_error("assemble", "--quality must be within 1..100");
  } else {
    ScandPdfOptions options = {
      .raw_mode = lossless ? SCAND_PDF_RAW_FLATE : SCAND_PDF_RAW_JPEG,
      .jpeg_quality = quality == -1 ? 0 : quality,
      .pdfa = pdfa,
      .title = title,
    };
    result = processing ? assemble_processed(images, &args, &options, dpi, output)
                        : assemble_plain(images, &options, dpi, output);
  }
  for (guint i = 0; i < G_N_ELEMENTS(args.values); i++)
    g_free(args.values[i]);
  return result;
}
