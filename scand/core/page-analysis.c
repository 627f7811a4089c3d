/* What every build knows about page analyses, with or without the `ocr`
 * feature: freeing, naming and describing them. */
#include "scand/core/page-process.h"

void scand_page_analysis_free(ScandPageAnalysis *a) {
  if (!a)
    return;
  g_strfreev(a->barcodes);
  g_free(a->patch);
  scand_pdf_text_free(a->text);
  g_free(a->note);
  g_free(a->image);
  g_free(a);
}

gboolean scand_page_options_any(const ScandPageOptions *o) {
  return (o->ocr && o->ocr[0]) || o->rotate_auto || o->rotate || o->rotate_backs || o->blank != SCAND_BLANK_KEEP ||
         o->deskew || o->crop || o->color_detect || o->barcodes;
}

const char *scand_page_color_to_string(ScandPageColor color) {
  static const char *const names[] = { "as-is", "bw", "gray", "color" };
  return names[color];
}

char *scand_page_analysis_describe(const ScandPageAnalysis *a) {
  GString *s = g_string_new(scand_page_color_to_string(a->color));
  if (a->rotation)
    g_string_append_printf(s, ", turned %d°", a->rotation);
  if (a->blank)
    g_string_append_printf(s, ", blank (ink %.4f %%)", a->ink);
  if (a->skew != 0)
    g_string_append_printf(s, ", skew %.1f°%s", a->skew, a->deskewed ? " fixed" : "");
  if (a->cropped)
    g_string_append(s, ", cropped");
  for (guint i = 0; a->barcodes && a->barcodes[i]; i++)
    g_string_append_printf(s, ", barcode %s", a->barcodes[i]);
  if (a->patch)
    g_string_append_printf(s, ", patch %s", a->patch);
  if (a->text)
    g_string_append_printf(s, ", %u words", scand_pdf_text_get_n_words(a->text));
  if (a->seconds > 0)
    g_string_append_printf(s, " in %.2f s", a->seconds);
  if (a->note)
    g_string_append_printf(s, " (%s)", a->note);
  return g_string_free(s, FALSE);
}
