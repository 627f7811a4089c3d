/* How pdf.c draws a text layer (pdf-text.c): the one hook between them. */
#pragma once

#include <glib.h>
#include <hpdf.h>

#include "scand/core/pdf-text.h"

G_BEGIN_DECLS

/* The glyph-less font every text layer of a document shares (a Type0 font
 * over Tesseract's one-glyph TrueType "GlyphLessFont", embedded, with an
 * identity ToUnicode map), created on first use. */
typedef struct ScandPdfTextFont ScandPdfTextFont;

/* Creates the font objects in doc; NULL with error when the font program
 * cannot be read. The objects belong to doc; free only the handle. */
ScandPdfTextFont *scand_pdf_text_font_new(HPDF_Doc doc, GError **error);
void scand_pdf_text_font_free(ScandPdfTextFont *font);

/* Appends text to page's content stream as invisible words over the page box
 * of w_pt x h_pt points (the image drawn over the whole page) and adds the
 * font to the page's resources. */
gboolean scand_pdf_text_draw(const ScandPdfText *text, ScandPdfTextFont *font, HPDF_Page page, double w_pt, double h_pt,
                             GError **error);

G_END_DECLS
