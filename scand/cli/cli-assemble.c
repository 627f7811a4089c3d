/* `scand assemble IMAGE… -o OUT.pdf`: a PDF from existing image files, with the
 * same engine the scan jobs use. */
#include <stdio.h>

#include "scand/cli/cli.h"
#include "scand/core/pdf.h"

/* Runs `scand assemble` (argv[0] is "assemble"): prints the output path and
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
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the PDF to FILE (required)", "FILE" },
    { "dpi", 0, 0, G_OPTION_ARG_DOUBLE, &dpi, "Resolution of pages whose file does not state one (default 300)", "N" },
    { "quality", 0, 0, G_OPTION_ARG_INT, &quality, "JPEG quality 1..100 for raw gray/colour pages (default 85)", "N" },
    { "lossless", 0, 0, G_OPTION_ARG_NONE, &lossless,
      "Compress raw gray/colour pages losslessly (Flate) instead of as JPEG", NULL },
    { "pdfa", 0, 0, G_OPTION_ARG_NONE, &pdfa, "Write PDF/A-1b", NULL },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Document title", "TITLE" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config, "Configuration file (not used by this command)", "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, "IMAGE…" },
    { NULL },
  };
  int status = SCAND_EXIT_OK;
  if (!scand_cli_parse("assemble", "-o OUT.pdf",
                       "Makes one PDF from JPEG, PNG, PNM and TIFF files (every page of a TIFF), in order.\n"
                       "JPEG pages are embedded unchanged.",
                       entries, &argc, &argv, &status))
    return SCAND_EXIT_FAILED;

  if (!images || !images[0]) {
    scand_cli_error("assemble", "no input images (try scand assemble --help)");
    return SCAND_EXIT_FAILED;
  }
  if (!output || !output[0]) {
    scand_cli_error("assemble", "missing -o OUT.pdf (try scand assemble --help)");
    return SCAND_EXIT_FAILED;
  }
  if (dpi < 0 || dpi > 100000) {
    scand_cli_error("assemble", "--dpi %g is out of range", dpi);
    return SCAND_EXIT_FAILED;
  }
  if (quality != -1 && (quality < 1 || quality > 100)) {
    scand_cli_error("assemble", "--quality must be within 1..100");
    return SCAND_EXIT_FAILED;
  }

  ScandPdfOptions options = {
    .raw_mode = lossless ? SCAND_PDF_RAW_FLATE : SCAND_PDF_RAW_JPEG,
    .jpeg_quality = quality == -1 ? 0 : quality,
    .pdfa = pdfa,
    .title = title,
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&options, &error);
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
