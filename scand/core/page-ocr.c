/* OCR and orientation with Tesseract's C API.
 *
 * Tesseract handles are not thread-safe and costly to make (the language
 * models load in ~0.3 s), so each worker thread keeps its own, one for
 * recognition (per language set) and one for orientation (osd), freed when
 * the thread ends. OMP_THREAD_LIMIT=1 is set by the pool before the first
 * handle exists: parallelism comes from the workers, not from OpenMP. */
#include "scand/core/page-private.h"

#include <stdbool.h>
#include <string.h>

#include "scand-build.h"
#include "scand/base/error.h"
#include "scand/core/dl-tesseract.h"

typedef struct {
  TessBaseAPI *api;
  char *languages;
} Handle;

static void handle_free(gpointer p) {
  Handle *h = p;
  if (!h)
    return;
  if (h->api) {
    sym_TessBaseAPIEnd(h->api);
    sym_TessBaseAPIDelete(h->api);
  }
  g_free(h->languages);
  g_free(h);
}

static GPrivate ocr_handle = G_PRIVATE_INIT(handle_free);
static GPrivate osd_handle = G_PRIVATE_INIT(handle_free);

/* Tesseract's own chatter goes nowhere; its results come back through us. */
static void quiet(TessBaseAPI *api) {
  sym_TessBaseAPISetVariable(api, "debug_file", "/dev/null");
  /* Every line is tried again inverted when its confidence is low: slow, and
   * scanned office pages have no white-on-black text worth the time. */
  sym_TessBaseAPISetVariable(api, "tessedit_do_invert", "0");
}

/* Whether lang.traineddata is where Tesseract will look: $TESSDATA_PREFIX,
 * else its built-in directory. Checked by file so that a missing pack is our
 * one-line error, not Tesseract's chatter on stderr. */
static gboolean language_installed(const char *lang) {
  if (!lang[0] || strspn(lang, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(lang))
    return FALSE;
  const char *prefix = g_getenv("TESSDATA_PREFIX");
  g_autofree char *file = g_strdup_printf("%s.traineddata", lang);
  g_autofree char *path = g_build_filename(prefix && prefix[0] ? prefix : SCAND_TESSDATA_DIR, file, NULL);
  return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

/* This thread's handle for languages, made or re-made as needed; NULL with
 * *note when Tesseract refuses the languages. */
static TessBaseAPI *thread_handle(GPrivate *slot, const char *languages, char **note) {
  Handle *h = g_private_get(slot);
  if (h && g_strcmp0(h->languages, languages) == 0)
    return h->api;
  g_autoptr(GError) error = NULL;
  if (!dl_tesseract_load(&error)) {
    *note = g_strdup(error->message);
    return NULL;
  }
  g_auto(GStrv) each = g_strsplit(languages, "+", -1);
  for (guint i = 0; each[i]; i++)
    if (!language_installed(each[i])) {
      *note = g_strdup_printf("OCR language \"%s\" is not installed", each[i]);
      return NULL;
    }
  h = g_new0(Handle, 1);
  h->languages = g_strdup(languages);
  h->api = sym_TessBaseAPICreate();
  if (!h->api || sym_TessBaseAPIInit3(h->api, NULL, languages) != 0) {
    *note = g_strdup_printf("Tesseract cannot load language \"%s\" (install tesseract-ocr-<lang>)", languages);
    if (h->api)
      sym_TessBaseAPIDelete(h->api);
    g_free(h->languages);
    g_free(h);
    return NULL;
  }
  quiet(h->api);
  g_private_replace(slot, h);
  return h->api;
}

gboolean scand_page_ocr_check(const char *languages, gboolean need_osd, GError **error) {
  if (need_osd && !language_installed("osd")) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND,
                "rotate = auto needs Tesseract's orientation data osd.traineddata (package tesseract-ocr-osd)");
    return FALSE;
  }
  g_auto(GStrv) langs = g_strsplit(languages ? languages : "", "+", -1);
  for (guint i = 0; langs[i]; i++) {
    if (!language_installed(langs[i])) {
      g_autofree char *name = g_strescape(langs[i], NULL);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND,
                  "OCR language \"%s\" is not installed (package tesseract-ocr-%s)", name, name);
      return FALSE;
    }
  }
  return TRUE;
}

typedef struct {
  gint64 deadline; /* monotonic µs */
} Deadline;

/* Tesseract's cancel callback: TRUE once the page's time is up. */
static bool cancel_when_late(void *cancel_this, int words) {
  Deadline *d = cancel_this;
  return g_get_monotonic_time() > d->deadline;
}

/* Walks the recognised words in reading order into a text layer. */
static ScandPdfText *collect_words(TessBaseAPI *api, PIX *gray) {
  ScandPdfText *text = scand_pdf_text_new(sym_pixGetWidth(gray), sym_pixGetHeight(gray));
  TessResultIterator *it = sym_TessBaseAPIGetIterator(api);
  if (!it)
    return text;
  TessPageIterator *page = sym_TessResultIteratorGetPageIterator(it);
  int lx1 = 0, ly1 = 0, lx2 = 0, ly2 = 0;
  do {
    gboolean new_line = sym_TessPageIteratorIsAtBeginningOf(page, RIL_TEXTLINE);
    if (new_line && !sym_TessPageIteratorBaseline(page, RIL_TEXTLINE, &lx1, &ly1, &lx2, &ly2))
      ly1 = ly2 = 0;
    int x0, y0, x1, y1;
    char *word = sym_TessResultIteratorGetUTF8Text(it, RIL_WORD);
    if (word && sym_TessPageIteratorBoundingBox(page, RIL_WORD, &x0, &y0, &x1, &y1)) {
      /* One baseline per line (its middle), so that extraction keeps lines whole. */
      int base = ly1 || ly2 ? (ly1 + ly2) / 2 : y1;
      scand_pdf_text_add_word(text, word, x0, y0, x1, y1, base, new_line);
    }
    sym_TessDeleteText(word);
  } while (sym_TessResultIteratorNext(it, RIL_WORD));
  sym_TessResultIteratorDelete(it);
  return text;
}

ScandPdfText *scand_page_ocr_read(PIX *gray, double dpi, const char *languages, double timeout, char **note) {
  TessBaseAPI *api = thread_handle(&ocr_handle, languages, note);
  if (!api)
    return NULL;
  sym_TessBaseAPISetImage2(api, gray);
  sym_TessBaseAPISetSourceResolution(api, (int) (dpi + 0.5));
  Deadline deadline = { g_get_monotonic_time() + (gint64) (timeout * G_USEC_PER_SEC) };
  ETEXT_DESC *monitor = sym_TessMonitorCreate();
  sym_TessMonitorSetCancelFunc(monitor, cancel_when_late);
  sym_TessMonitorSetCancelThis(monitor, &deadline);
  int rc = sym_TessBaseAPIRecognize(api, monitor);
  sym_TessMonitorDelete(monitor);
  ScandPdfText *text = NULL;
  if (g_get_monotonic_time() > deadline.deadline)
    *note = g_strdup_printf("OCR timed out after %g s (ocr-timeout)", timeout);
  else if (rc != 0)
    *note = g_strdup("Tesseract could not recognise the page");
  else
    text = collect_words(api, gray);
  sym_TessBaseAPIClear(api);
  return text;
}

int scand_page_ocr_orientation(PIX *gray, double dpi, char **note) {
  TessBaseAPI *api = thread_handle(&osd_handle, "osd", note);
  if (!api)
    return 0;
  sym_TessBaseAPISetPageSegMode(api, PSM_OSD_ONLY);
  sym_TessBaseAPISetImage2(api, gray);
  sym_TessBaseAPISetSourceResolution(api, (int) (dpi + 0.5));
  int deg = 0;
  float conf = 0, script_conf = 0;
  const char *script = NULL;
  gboolean ok = sym_TessBaseAPIDetectOrientationScript(api, &deg, &conf, &script, &script_conf);
  /* script points into Tesseract's own tables in 5.3 (capi.h's advice to
   * TessDeleteText it is stale and frees what the next call reads). */
  sym_TessBaseAPIClear(api);
  /* Below this margin Tesseract's guess is as good as a coin (its CLI uses the
   * same bar before turning a page). */
  if (!ok || conf < 1.5)
    return 0;
  /* deg is how far the image is turned clockwise: turn it back. */
  return (360 - ((deg % 360) + 360) % 360) % 360;
}
