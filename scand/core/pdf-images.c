/* Page images out of a PDF with libqpdf: each page's one image XObject, its
 * DCTDecode stream taken raw (the JPEG's own bytes). */
#include "scand/core/pdf-images.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpdf/qpdf-c.h>

#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/core/dl-qpdf.h"

static void image_page_free(gpointer p) {
  ScandPdfImagePage *page = p;
  g_free(page->path);
  g_free(page);
}

/* The page's one image XObject, if it is a plain JPEG; else 0. */
static qpdf_oh plain_jpeg(qpdf_data q, qpdf_oh page) {
  qpdf_oh rotate = sym_qpdf_oh_get_key(q, page, "/Rotate");
  if (sym_qpdf_oh_is_integer(q, rotate) && sym_qpdf_oh_get_int_value(q, rotate) % 360 != 0)
    return 0;
  qpdf_oh xobjects = sym_qpdf_oh_get_key(q, sym_qpdf_oh_get_key(q, page, "/Resources"), "/XObject");
  if (!sym_qpdf_oh_is_dictionary(q, xobjects))
    return 0;
  qpdf_oh image = 0;
  int n = 0;
  sym_qpdf_oh_begin_dict_key_iter(q, xobjects);
  while (sym_qpdf_oh_dict_more_keys(q)) {
    image = sym_qpdf_oh_get_key(q, xobjects, sym_qpdf_oh_dict_next_key(q));
    n++;
  }
  if (n != 1 || !sym_qpdf_oh_is_stream(q, image))
    return 0;
  qpdf_oh dict = sym_qpdf_oh_get_dict(q, image);
  qpdf_oh filter = sym_qpdf_oh_get_key(q, dict, "/Filter");
  if (sym_qpdf_oh_is_array(q, filter) && sym_qpdf_oh_get_array_n_items(q, filter) == 1)
    filter = sym_qpdf_oh_get_array_item(q, filter, 0);
  if (!sym_qpdf_oh_is_name_and_equals(q, sym_qpdf_oh_get_key(q, dict, "/Subtype"), "/Image") ||
      !sym_qpdf_oh_is_name_and_equals(q, filter, "/DCTDecode") || sym_qpdf_oh_has_key(q, dict, "/SMask") ||
      sym_qpdf_oh_has_key(q, dict, "/Mask") || sym_qpdf_oh_has_key(q, dict, "/Decode"))
    return 0;
  return image;
}

/* The resolution that keeps the page's width. */
static double page_dpi(qpdf_data q, qpdf_oh page, qpdf_oh image) {
  qpdf_oh box = sym_qpdf_oh_get_key(q, page, "/MediaBox");
  long long px = sym_qpdf_oh_get_int_value(q, sym_qpdf_oh_get_key(q, sym_qpdf_oh_get_dict(q, image), "/Width"));
  if (!sym_qpdf_oh_is_array(q, box) || sym_qpdf_oh_get_array_n_items(q, box) != 4 || px <= 0)
    return 0;
  double w = sym_qpdf_oh_get_numeric_value(q, sym_qpdf_oh_get_array_item(q, box, 2)) -
             sym_qpdf_oh_get_numeric_value(q, sym_qpdf_oh_get_array_item(q, box, 0));
  return w > 1 ? px / (w / 72.0) : 0;
}

/* Writes page i's JPEG; FALSE with error when the page does not qualify. */
static gboolean extract_page(qpdf_data q, int i, const char *pdf, const char *dir, const char *prefix, GPtrArray *pages,
                             GError **error) {
  qpdf_oh page = sym_qpdf_get_page_n(q, (size_t) i);
  qpdf_oh image = plain_jpeg(q, page);
  double dpi = image ? page_dpi(q, page, image) : 0;
  unsigned char *buf = NULL;
  size_t len = 0;
  if (!image || dpi <= 0 || sym_qpdf_oh_get_stream_data(q, image, qpdf_dl_none, NULL, &buf, &len) != QPDF_SUCCESS ||
      len < 4 || buf[0] != 0xFF || buf[1] != 0xD8) {
    free(buf);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s: page %d is not one plain JPEG image", pdf, i + 1);
    return FALSE;
  }
  ScandPdfImagePage *p = g_new0(ScandPdfImagePage, 1);
  g_autofree char *name = g_strdup_printf("%s-%04d.jpg", prefix, i + 1);
  p->path = g_build_filename(dir, name, NULL);
  p->dpi = dpi;
  g_ptr_array_add(pages, p);
  gboolean ok = scand_fs_write_atomic(p->path, (const char *) buf, len, 0600, error);
  free(buf);
  return ok;
}

GPtrArray *scand_pdf_images_extract(const char *pdf, const char *dir, const char *prefix, GError **error) {
  if (!dl_qpdf_load(error))
    return NULL;
  qpdf_data q = sym_qpdf_init();
  sym_qpdf_silence_errors(q);
  sym_qpdf_set_suppress_warnings(q, QPDF_TRUE);
  g_autoptr(GPtrArray) pages = g_ptr_array_new_with_free_func(image_page_free);
  gboolean ok = TRUE;
  if (sym_qpdf_read(q, pdf, NULL) & QPDF_ERRORS) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: not a readable PDF", pdf);
    ok = FALSE;
  } else if (sym_qpdf_is_encrypted(q)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s: encrypted", pdf);
    ok = FALSE;
  }
  int n = ok ? sym_qpdf_get_num_pages(q) : 0;
  if (ok && n <= 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: no pages", pdf);
    ok = FALSE;
  }
  for (int i = 0; ok && i < n; i++)
    ok = extract_page(q, i, pdf, dir, prefix, pages, error);
  sym_qpdf_cleanup(&q);
  if (!ok) {
    for (guint i = 0; i < pages->len; i++)
      remove(((ScandPdfImagePage *) pages->pdata[i])->path);
    return NULL;
  }
  return g_steal_pointer(&pages);
}
