/* The invisible text layer: words in reading order, drawn in render mode 3
 * with a glyph-less font, the way Tesseract's own PDF renderer does it.
 *
 * Font: Type0 / Identity-H over a CIDFontType2 whose program is Tesseract's
 * pdf.ttf ("GlyphLessFont", one glyph, 500/1000 em wide, shipped by
 * libtesseract5), embedded; a CIDToGIDMap sends every CID to that glyph and
 * an identity ToUnicode map makes each CID the UTF-16 code unit it stands for.
 * Each word is placed at its box's left edge on its line's baseline and
 * stretched (Tz) to the box's width, followed by a space so that extraction
 * never runs words together. */
#include "scand/core/pdf-text-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scand-build.h"
#include "scand/base/error.h"

typedef struct {
  char *utf8;
  int x0, y0, x1, y1;
  int baseline;
  gboolean new_line;
} Word;

struct ScandPdfText {
  int width;
  int height;
  GArray *words; /* Word */
};

static void word_clear(gpointer p) {
  g_free(((Word *) p)->utf8);
}

ScandPdfText *scand_pdf_text_new(int width, int height) {
  ScandPdfText *t = g_new0(ScandPdfText, 1);
  t->width = MAX(width, 1);
  t->height = MAX(height, 1);
  t->words = g_array_new(FALSE, TRUE, sizeof(Word));
  g_array_set_clear_func(t->words, word_clear);
  return t;
}

void scand_pdf_text_free(ScandPdfText *text) {
  if (!text)
    return;
  g_array_unref(text->words);
  g_free(text);
}

/* The word without blanks and control characters; NULL when nothing is left
 * or the bytes are not UTF-8. */
static char *clean_word(const char *utf8) {
  if (!utf8 || !g_utf8_validate(utf8, -1, NULL))
    return NULL;
  GString *s = g_string_new(NULL);
  for (const char *p = utf8; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (!g_unichar_isspace(c) && !g_unichar_iscntrl(c) && c != 0xFEFF)
      g_string_append_unichar(s, c);
  }
  if (s->len == 0) {
    g_string_free(s, TRUE);
    return NULL;
  }
  return g_string_free(s, FALSE);
}

void scand_pdf_text_add_word(ScandPdfText *text, const char *utf8, int x0, int y0, int x1, int y1, int baseline,
                             gboolean new_line) {
  char *clean = clean_word(utf8);
  if (!clean)
    return;
  Word w = {
    .utf8 = clean,
    .x0 = CLAMP(MIN(x0, x1), 0, text->width),
    .x1 = CLAMP(MAX(x0, x1), 0, text->width),
    .y0 = CLAMP(MIN(y0, y1), 0, text->height),
    .y1 = CLAMP(MAX(y0, y1), 0, text->height),
    .baseline = CLAMP(baseline, 0, text->height),
    .new_line = new_line || text->words->len == 0,
  };
  g_array_append_val(text->words, w);
}

guint scand_pdf_text_get_n_words(const ScandPdfText *text) {
  return text->words->len;
}

void scand_pdf_text_get_size(const ScandPdfText *text, int *width, int *height) {
  *width = text->width;
  *height = text->height;
}

char *scand_pdf_text_get_plain(const ScandPdfText *text) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < text->words->len; i++) {
    const Word *w = &g_array_index(text->words, Word, i);
    if (i > 0)
      g_string_append_c(s, w->new_line ? '\n' : ' ');
    g_string_append(s, w->utf8);
  }
  if (s->len)
    g_string_append_c(s, '\n');
  return g_string_free(s, FALSE);
}

/* "scand-text 1 W H" then one line per word: "L|W x0 y0 x1 y1 baseline word"
 * (L starts a line of text). */
char *scand_pdf_text_serialize(const ScandPdfText *text) {
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "scand-text 1 %d %d\n", text->width, text->height);
  for (guint i = 0; i < text->words->len; i++) {
    const Word *w = &g_array_index(text->words, Word, i);
    g_string_append_printf(s, "%c %d %d %d %d %d %s\n", w->new_line ? 'L' : 'W', w->x0, w->y0, w->x1, w->y1,
                           w->baseline, w->utf8);
  }
  return g_string_free(s, FALSE);
}

ScandPdfText *scand_pdf_text_parse(const char *data, GError **error) {
  g_auto(GStrv) lines = g_strsplit(data ? data : "", "\n", -1);
  int width = 0, height = 0;
  char tail = 0;
  if (!lines[0] || sscanf(lines[0], "scand-text 1 %d %d%c", &width, &height, &tail) != 2 || width <= 0 || height <= 0 ||
      width > 1 << 20 || height > 1 << 20) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "text layer: not a scand-text header");
    return NULL;
  }
  g_autoptr(ScandPdfText) text = scand_pdf_text_new(width, height);
  for (guint i = 1; lines[i]; i++) {
    if (!lines[i][0] && !lines[i + 1])
      break;
    char kind = 0;
    int x0, y0, x1, y1, base, used = 0;
    if (sscanf(lines[i], "%c %d %d %d %d %d %n", &kind, &x0, &y0, &x1, &y1, &base, &used) != 6 || used == 0 ||
        (kind != 'L' && kind != 'W') || !lines[i][used]) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "text layer: line %u is malformed", i + 1);
      return NULL;
    }
    scand_pdf_text_add_word(text, lines[i] + used, x0, y0, x1, y1, base, kind == 'L');
  }
  return g_steal_pointer(&text);
}

/* ---- drawing ---------------------------------------------------------------- */

struct ScandPdfTextFont {
  HPDF_Dict type0; /* indirect: referenced from each page's /Font */
};

#define GLYPH_WIDTH 500 /* GlyphLessFont's one glyph, in 1/1000 em */

/* Tesseract's pdf.ttf: $TESSDATA_PREFIX first (as Tesseract itself), then the
 * directory found at build time. */
static GBytes *read_font_program(GError **error) {
  const char *prefix = g_getenv("TESSDATA_PREFIX");
  g_autofree char *from_env = prefix ? g_build_filename(prefix, "pdf.ttf", NULL) : NULL;
  g_autofree char *built = g_build_filename(SCAND_TESSDATA_DIR, "pdf.ttf", NULL);
  const char *candidates[] = { from_env, built };
  for (guint i = 0; i < G_N_ELEMENTS(candidates); i++) {
    char *data = NULL;
    gsize len = 0;
    if (candidates[i] && g_file_get_contents(candidates[i], &data, &len, NULL) && len > 0 && len < 1 << 20)
      return g_bytes_new_take(data, len);
    g_free(data);
  }
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND,
              "text layer: cannot read Tesseract's glyph-less font %s (package libtesseract5)", built);
  return NULL;
}

/* A new indirect stream object holding len bytes of data, Flate-compressed. */
static HPDF_Dict new_stream(HPDF_Doc doc, const void *data, gsize len) {
  HPDF_Dict s = HPDF_DictStream_New(doc->mmgr, doc->xref);
  if (!s || HPDF_Stream_Write(s->stream, data, (HPDF_UINT) len) != HPDF_OK)
    return NULL;
  s->filter = HPDF_STREAM_FILTER_FLATE_DECODE;
  return s;
}

static const char to_unicode_cmap[] = "/CIDInit /ProcSet findresource begin\n"
                                      "12 dict begin\n"
                                      "begincmap\n"
                                      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                                      "/CMapName /Adobe-Identity-UCS def\n"
                                      "/CMapType 2 def\n"
                                      "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
                                      "1 beginbfrange\n<0000> <FFFF> <0000>\nendbfrange\n"
                                      "endcmap\n"
                                      "CMapName currentdict /CMap defineresource pop\n"
                                      "end\n"
                                      "end\n";

/* The font descriptor with the embedded program. */
static HPDF_Dict new_descriptor(HPDF_Doc doc, GBytes *program) {
  gsize len = 0;
  const void *data = g_bytes_get_data(program, &len);
  HPDF_Dict file = new_stream(doc, data, len);
  HPDF_Dict desc = HPDF_Dict_New(doc->mmgr);
  HPDF_Array bbox = HPDF_Array_New(doc->mmgr);
  if (!file || !desc || !bbox || HPDF_Xref_Add(doc->xref, desc) != HPDF_OK)
    return NULL;
  HPDF_STATUS ret = HPDF_Dict_AddNumber(file, "Length1", (HPDF_INT32) len);
  ret += HPDF_Array_AddNumber(bbox, 0);
  ret += HPDF_Array_AddNumber(bbox, 0);
  ret += HPDF_Array_AddNumber(bbox, GLYPH_WIDTH);
  ret += HPDF_Array_AddNumber(bbox, 1000);
  ret += HPDF_Dict_AddName(desc, "Type", "FontDescriptor");
  ret += HPDF_Dict_AddName(desc, "FontName", "GlyphLessFont");
  ret += HPDF_Dict_AddNumber(desc, "Flags", 5); /* FixedPitch, Symbolic */
  ret += HPDF_Dict_Add(desc, "FontBBox", bbox);
  ret += HPDF_Dict_AddNumber(desc, "ItalicAngle", 0);
  ret += HPDF_Dict_AddNumber(desc, "Ascent", 1000);
  ret += HPDF_Dict_AddNumber(desc, "Descent", -1);
  ret += HPDF_Dict_AddNumber(desc, "CapHeight", 1000);
  ret += HPDF_Dict_AddNumber(desc, "StemV", 80);
  ret += HPDF_Dict_Add(desc, "FontFile2", file);
  return ret == HPDF_OK ? desc : NULL;
}

/* The CIDFontType2 descendant: every CID drawn with glyph 1. */
static HPDF_Dict new_cid_font(HPDF_Doc doc, GBytes *program) {
  guint8 *map = g_malloc(2 << 16);
  for (guint i = 0; i < 2u << 16; i++)
    map[i] = i % 2;
  HPDF_Dict gid_map = new_stream(doc, map, 2 << 16);
  g_free(map);
  HPDF_Dict desc = new_descriptor(doc, program);
  HPDF_Dict cid = HPDF_Dict_New(doc->mmgr);
  HPDF_Dict info = HPDF_Dict_New(doc->mmgr);
  if (!gid_map || !desc || !cid || !info || HPDF_Xref_Add(doc->xref, cid) != HPDF_OK)
    return NULL;
  HPDF_STATUS ret = HPDF_Dict_Add(info, "Registry", HPDF_String_New(doc->mmgr, "Adobe", NULL));
  ret += HPDF_Dict_Add(info, "Ordering", HPDF_String_New(doc->mmgr, "Identity", NULL));
  ret += HPDF_Dict_AddNumber(info, "Supplement", 0);
  ret += HPDF_Dict_AddName(cid, "Type", "Font");
  ret += HPDF_Dict_AddName(cid, "Subtype", "CIDFontType2");
  ret += HPDF_Dict_AddName(cid, "BaseFont", "GlyphLessFont");
  ret += HPDF_Dict_Add(cid, "CIDSystemInfo", info);
  ret += HPDF_Dict_Add(cid, "FontDescriptor", desc);
  ret += HPDF_Dict_AddNumber(cid, "DW", GLYPH_WIDTH);
  ret += HPDF_Dict_Add(cid, "CIDToGIDMap", gid_map);
  return ret == HPDF_OK ? cid : NULL;
}

ScandPdfTextFont *scand_pdf_text_font_new(HPDF_Doc doc, GError **error) {
  g_autoptr(GBytes) program = read_font_program(error);
  if (!program)
    return NULL;
  HPDF_Dict cid = new_cid_font(doc, program);
  HPDF_Dict to_unicode = new_stream(doc, to_unicode_cmap, strlen(to_unicode_cmap));
  HPDF_Dict type0 = HPDF_Dict_New(doc->mmgr);
  HPDF_Array descendants = HPDF_Array_New(doc->mmgr);
  HPDF_STATUS ret = !cid || !to_unicode || !type0 || !descendants ? HPDF_FAILD_TO_ALLOC_MEM : HPDF_OK;
  if (ret == HPDF_OK)
    ret = HPDF_Xref_Add(doc->xref, type0);
  if (ret == HPDF_OK) {
    ret += HPDF_Dict_AddName(type0, "Type", "Font");
    ret += HPDF_Dict_AddName(type0, "Subtype", "Type0");
    ret += HPDF_Dict_AddName(type0, "BaseFont", "GlyphLessFont");
    ret += HPDF_Dict_AddName(type0, "Encoding", "Identity-H");
    ret += HPDF_Array_Add(descendants, cid);
    ret += HPDF_Dict_Add(type0, "DescendantFonts", descendants);
    ret += HPDF_Dict_Add(type0, "ToUnicode", to_unicode);
  }
  if (ret != HPDF_OK) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "text layer: cannot create the font (libhpdf error)");
    return NULL;
  }
  ScandPdfTextFont *font = g_new0(ScandPdfTextFont, 1);
  font->type0 = type0;
  return font;
}

void scand_pdf_text_font_free(ScandPdfTextFont *font) {
  g_free(font);
}

/* Puts the font into the page's /Resources /Font as /FT0. */
static gboolean add_font_resource(HPDF_Page page, ScandPdfTextFont *font) {
  HPDF_Dict resources = HPDF_Dict_GetItem(page, "Resources", HPDF_OCLASS_DICT);
  if (!resources)
    return FALSE;
  HPDF_Dict fonts = HPDF_Dict_GetItem(resources, "Font", HPDF_OCLASS_DICT);
  if (!fonts) {
    fonts = HPDF_Dict_New(page->mmgr);
    if (!fonts || HPDF_Dict_Add(resources, "Font", fonts) != HPDF_OK)
      return FALSE;
  }
  return HPDF_Dict_Add(fonts, "FT0", font->type0) == HPDF_OK;
}

/* Appends a number with at most 2 decimals (no exponent, '.' whatever the locale). */
static void append_num(GString *s, double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buf, sizeof buf, "%.2f", fabs(v) < 0.005 ? 0.0 : v);
  g_string_append(s, buf);
  g_string_append_c(s, ' ');
}

/* Appends a number given in tenths, as short as it goes: "12", "12.5", "-0.5". */
static void append_tenths(GString *s, long tenths) {
  long whole = labs(tenths) / 10, frac = labs(tenths) % 10;
  g_string_append_printf(s, tenths < 0 ? "-%ld" : "%ld", whole);
  if (frac)
    g_string_append_printf(s, ".%ld", frac);
  g_string_append_c(s, ' ');
}

/* Appends the word as UTF-16BE hex code units; returns how many. */
static guint append_utf16_hex(GString *s, const char *utf8) {
  glong n = 0;
  gunichar2 *u16 = g_utf8_to_utf16(utf8, -1, NULL, &n, NULL);
  for (glong i = 0; u16 && i < n; i++)
    g_string_append_printf(s, "%04X", u16[i]);
  g_free(u16);
  return (guint) MAX(n, 0);
}

/* The font size of the line starting at word i: the tallest word box. */
static double line_font_size(const ScandPdfText *text, guint i, double sy) {
  int tallest = 1;
  for (guint j = i; j < text->words->len; j++) {
    const Word *w = &g_array_index(text->words, Word, j);
    if (j > i && w->new_line)
      break;
    tallest = MAX(tallest, w->y1 - w->y0);
  }
  return CLAMP(tallest * sy, 1.0, 500.0);
}

gboolean scand_pdf_text_draw(const ScandPdfText *text, ScandPdfTextFont *font, HPDF_Page page, double w_pt, double h_pt,
                             GError **error) {
  if (!text || text->words->len == 0)
    return TRUE;
  double sx = w_pt / text->width, sy = h_pt / text->height;
  GString *s = g_string_new("BT\n3 Tr\n");
  double size = 0;
  long at = 0; /* the line's text position, x in tenths of a point */
  for (guint i = 0; i < text->words->len; i++) {
    const Word *w = &g_array_index(text->words, Word, i);
    if (w->new_line) {
      size = line_font_size(text, i, sy);
      g_string_append(s, "/FT0 ");
      append_num(s, size);
      g_string_append(s, "Tf\n");
    }
    gboolean last_in_line = i + 1 == text->words->len || g_array_index(text->words, Word, i + 1).new_line;
    GString *hex = g_string_new(NULL);
    guint units = append_utf16_hex(hex, w->utf8);
    double width = MAX(w->x1 - w->x0, 1) * sx;
    double tz = units ? 100.0 * width / (units * size * GLYPH_WIDTH / 1000.0) : 100.0;
    /* Positions to 0.1 pt (0.035 mm) and the stretch to 0.1 %: the first
     * word of a line placed absolutely (Tm), the next ones by their offset
     * from the one before (Td), which keeps the stream short. */
    long x = lround(w->x0 * sx * 10);
    if (w->new_line) {
      g_string_append(s, "1 0 0 1 ");
      append_tenths(s, x);
      append_tenths(s, lround((h_pt - w->baseline * sy) * 10));
      g_string_append(s, "Tm ");
    } else {
      append_tenths(s, x - at);
      g_string_append(s, "0 Td ");
    }
    at = x;
    append_tenths(s, lround(CLAMP(tz, 1.0, 10000.0) * 10));
    g_string_append_printf(s, "Tz <%s%s> Tj\n", hex->str, last_in_line ? "" : "0020");
    g_string_free(hex, TRUE);
  }
  g_string_append(s, "ET\n");
  HPDF_PageAttr attr = page->attr;
  gboolean ok = add_font_resource(page, font) &&
                HPDF_Stream_Write(attr->stream, (const HPDF_BYTE *) s->str, (HPDF_UINT) s->len) == HPDF_OK;
  g_string_free(s, TRUE);
  if (!ok) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "text layer: cannot write the page's words (libhpdf error)");
    return FALSE;
  }
  /* Words make content streams large; compress them. */
  attr->contents->filter = HPDF_STREAM_FILTER_FLATE_DECODE;
  return TRUE;
}
