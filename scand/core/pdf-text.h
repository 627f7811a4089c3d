/* The invisible text layer of a page: recognised words and where they sit.
 *
 * Words are kept in reading order with their boxes in the pixel coordinates of
 * the page image they were read from (width x height, top-left origin). The
 * PDF engine (pdf.c) draws them over the page in text render mode 3, so a
 * viewer can search and select them and pdftotext extracts them in that
 * order, while the image stays as it was. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct ScandPdfText ScandPdfText;

/* An empty layer for a width x height pixel page image. Caller frees. */
ScandPdfText *scand_pdf_text_new(int width, int height);
/* Accepts NULL. */
void scand_pdf_text_free(ScandPdfText *text);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandPdfText, scand_pdf_text_free)

/* Appends a word (UTF-8 without blanks; control characters are dropped) with
 * its box x0,y0 (top left) to x1,y1 and the y of its line's baseline.
 * new_line starts a new line of text. Words outside the page are clipped to it. */
void scand_pdf_text_add_word(ScandPdfText *text, const char *utf8, int x0, int y0, int x1, int y1, int baseline,
                             gboolean new_line);
guint scand_pdf_text_get_n_words(const ScandPdfText *text);
/* The words in reading order, one line of text per line (newly allocated). */
char *scand_pdf_text_get_plain(const ScandPdfText *text);
void scand_pdf_text_get_size(const ScandPdfText *text, int *width, int *height);

/* A compact text form for the spool (newly allocated), and back. parse fails
 * with SCAND_ERROR_INVAL on anything it did not write. */
char *scand_pdf_text_serialize(const ScandPdfText *text);
ScandPdfText *scand_pdf_text_parse(const char *data, GError **error);

G_END_DECLS
