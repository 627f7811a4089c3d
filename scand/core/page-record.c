/* A page's analysis kept beside it in the spool (page-NNNN.info, a key file),
 * so that pages analysed while the scan went on survive a crash and the PDF
 * is assembled from what was found. */
#include "scand/core/page-process.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "scand/base/error.h"
#include "scand/base/fs.h"

char *scand_page_analysis_record_path(const char *page) {
  const char *dot = strrchr(page, '.');
  const char *slash = strrchr(page, '/');
  int stem = dot && (!slash || dot > slash) ? (int) (dot - page) : (int) strlen(page);
  return g_strdup_printf("%.*s.info", stem, page);
}

gboolean scand_page_analysis_save(const ScandPageAnalysis *a, const char *path, GError **error) {
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_key_file_set_integer(kf, "page", "rotation", a->rotation);
  g_key_file_set_boolean(kf, "page", "blank", a->blank);
  g_key_file_set_double(kf, "page", "ink", a->ink);
  g_key_file_set_double(kf, "page", "skew", a->skew);
  g_key_file_set_boolean(kf, "page", "deskewed", a->deskewed);
  g_key_file_set_boolean(kf, "page", "cropped", a->cropped);
  g_key_file_set_string(kf, "page", "color", scand_page_color_to_string(a->color));
  g_key_file_set_string_list(kf, "page", "barcodes", (const char *const *) a->barcodes,
                             a->barcodes ? g_strv_length(a->barcodes) : 0);
  if (a->patch)
    g_key_file_set_string(kf, "page", "patch", a->patch);
  if (a->note)
    g_key_file_set_string(kf, "page", "note", a->note);
  if (a->image) {
    g_key_file_set_string(kf, "page", "image", a->image);
    g_key_file_set_double(kf, "page", "image-dpi", a->image_dpi);
  }
  g_key_file_set_double(kf, "page", "seconds", a->seconds);
  if (a->text) {
    g_autofree char *text = scand_pdf_text_serialize(a->text);
    g_key_file_set_string(kf, "page", "text", text);
  }
  gsize len = 0;
  g_autofree char *data = g_key_file_to_data(kf, &len, NULL);
  g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
  if (!g_file_set_contents_full(tmp, data, (gssize) len, G_FILE_SET_CONTENTS_NONE, 0644, error))
    return FALSE;
  if (!scand_fs_commit(tmp, path, error)) {
    g_unlink(tmp);
    return FALSE;
  }
  return TRUE;
}

/* The colour class named s; FALSE for anything else. */
static gboolean color_from_string(const char *s, ScandPageColor *color) {
  for (int c = SCAND_PAGE_COLOR_AS_IS; c <= SCAND_PAGE_COLOR_COLOR; c++)
    if (g_strcmp0(s, scand_page_color_to_string(c)) == 0) {
      *color = c;
      return TRUE;
    }
  return FALSE;
}

ScandPageAnalysis *scand_page_analysis_load(const char *path, GError **error) {
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error))
    return NULL;
  g_autoptr(ScandPageAnalysis) a = g_new0(ScandPageAnalysis, 1);
  GError *local = NULL;
  a->rotation = g_key_file_get_integer(kf, "page", "rotation", &local);
  a->blank = g_key_file_get_boolean(kf, "page", "blank", local ? NULL : &local);
  a->ink = g_key_file_get_double(kf, "page", "ink", local ? NULL : &local);
  a->skew = g_key_file_get_double(kf, "page", "skew", local ? NULL : &local);
  a->deskewed = g_key_file_get_boolean(kf, "page", "deskewed", NULL);
  a->cropped = g_key_file_get_boolean(kf, "page", "cropped", NULL);
  g_autofree char *color = g_key_file_get_string(kf, "page", "color", NULL);
  a->barcodes = g_key_file_get_string_list(kf, "page", "barcodes", NULL, NULL);
  if (!a->barcodes)
    a->barcodes = g_new0(char *, 1);
  a->patch = g_key_file_get_string(kf, "page", "patch", NULL);
  a->note = g_key_file_get_string(kf, "page", "note", NULL);
  a->image = g_key_file_get_string(kf, "page", "image", NULL);
  a->image_dpi = g_key_file_get_double(kf, "page", "image-dpi", NULL);
  a->seconds = g_key_file_get_double(kf, "page", "seconds", NULL);
  g_autofree char *text = g_key_file_get_string(kf, "page", "text", NULL);
  gboolean bad = local || !color_from_string(color, &a->color) || a->rotation % 90 || a->rotation < 0 ||
                 a->rotation >= 360 || (a->image && a->image_dpi <= 0);
  g_clear_error(&local);
  if (!bad && text && !(a->text = scand_pdf_text_parse(text, NULL)))
    bad = TRUE;
  if (bad) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: damaged page analysis", path);
    return NULL;
  }
  return g_steal_pointer(&a);
}
