/* A whole file taken into a job as its document (watched folders, mail
 * attachments): a PDF as it is, an image assembled, and with the job's page
 * processing when it asks for it. A PDF made of JPEG pages is processed too:
 * its pages are read and put back, each JPEG byte for byte, with the text
 * layer; any other PDF stays as it is (the job notes why). */
#include "scand/core/job-run.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "scand/base/error.h"
#include "scand/base/image-private.h"
#include "scand/core/job-pages.h"
#include "scand/core/pdf-images.h"
#include "scand/core/pdf.h"

static gboolean is_pdf(const char *path) {
  char magic[5] = { 0 };
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  gboolean pdf = read(fd, magic, sizeof magic) == (ssize_t) sizeof magic && memcmp(magic, "%PDF-", 5) == 0;
  close(fd);
  return pdf;
}

/* The file as it is (PDF) or assembled (image), without processing. */
static gboolean take_plain(ScandJob *job, const char *path, GError **error) {
  if (is_pdf(path))
    return scand_job_take_document(job, path, error);
  ScandPdfOptions options = { .scratch_dir = scand_job_get_dir(job) };
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&options, error);
  return pdf && scand_pdf_add_file(pdf, path, 0, error) && scand_pdf_save(pdf, scand_job_get_pdf_path(job), error);
}

/* Facts of the document for rules and names. */
static void set_facts(ScandJob *job, const ScandPagePart *part, GPtrArray *analyses, GPtrArray *notes) {
  scand_job_set(job, "barcode", part->barcode);
  g_autofree char *blanks = scand_page_part_blanks_string(part);
  scand_job_set(job, "blanks", blanks[0] ? blanks : NULL);
  g_autoptr(GString) text = g_string_new(NULL);
  for (guint i = 0; i < analyses->len; i++) {
    const ScandPageAnalysis *a = analyses->pdata[i];
    if (a && a->note)
      g_string_append_printf(text, "%spage %u: %s", text->len ? "; " : "", i + 1, a->note);
  }
  for (guint i = 0; i < notes->len; i++)
    g_string_append_printf(text, "%s%s", text->len ? "; " : "", (char *) notes->pdata[i]);
  scand_job_set(job, "page-notes", text->len ? text->str : NULL);
  scand_job_set_int(job, "pages", part->pages->len);
}

/* Processes the page files (with their forced resolutions) into the job's
 * document; blank pages dropped or flagged, never a split (a file is one
 * document). */
static gboolean take_processed(ScandJob *job, ScandJobPages *jp, GPtrArray *files, const double *dpis, GPtrArray *notes,
                               GError **error) {
  g_autoptr(GPtrArray) analyses = scand_job_pages_analyse(jp, files, notes);
  ScandSplit none = { 0 };
  g_autoptr(GPtrArray) parts = scand_page_split(analyses, &none, FALSE, scand_job_pages_get_blank(jp));
  gboolean ok = FALSE;
  if (parts->len == 1 && ((ScandPagePart *) parts->pdata[0])->pages->len > 0) {
    ScandPdfOptions options = { .scratch_dir = scand_job_get_dir(job) };
    g_autoptr(ScandPdf) pdf = scand_pdf_new(&options, error);
    ok = pdf && scand_page_part_add_to_pdf_at(parts->pdata[0], files, analyses, 0, dpis, pdf, error) &&
         scand_pdf_save(pdf, scand_job_get_pdf_path(job), error);
    if (ok)
      set_facts(job, parts->pdata[0], analyses, notes);
  } else {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "every page is blank: nothing to deliver");
  }
  for (guint i = 0; i < analyses->len; i++) {
    ScandPageAnalysis *a = analyses->pdata[i];
    if (a && a->image)
      g_unlink(a->image);
  }
  return ok;
}

gboolean scand_job_take_file(ScandJob *job, const char *path, GError **error) {
  g_autoptr(GError) local = NULL;
  g_autoptr(ScandJobPages) jp = scand_job_pages_new(job, &local);
  if (!jp) {
    if (local)
      scand_job_set(job, "page-notes", local->message);
    return take_plain(job, path, error);
  }
  g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) dpis = g_array_new(FALSE, TRUE, sizeof(double));
  if (is_pdf(path)) {
    g_autoptr(GPtrArray) pages = scand_pdf_images_extract(path, scand_job_get_dir(job), "take", &local);
    if (!pages) {
      if (!g_error_matches(local, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
      }
      scand_job_set(job, "page-notes", local->message);
      return scand_job_take_document(job, path, error);
    }
    for (guint i = 0; i < pages->len; i++) {
      ScandPdfImagePage *p = pages->pdata[i];
      g_ptr_array_add(files, g_strdup(p->path));
      g_array_append_val(dpis, p->dpi);
    }
  } else {
    guint n = 1;
    if (!scand_image_count_pages(path, &n, error))
      return FALSE;
    if (n != 1) {
      scand_job_set(job, "page-notes", "multi-page TIFF files are not processed");
      return take_plain(job, path, error);
    }
    g_ptr_array_add(files, g_strdup(path));
    double none = 0;
    g_array_append_val(dpis, none);
  }
  gboolean ok = take_processed(job, jp, files, (const double *) dpis->data, notes, error);
  for (guint i = 0; is_pdf(path) && i < files->len; i++)
    g_unlink(files->pdata[i]);
  if (!ok)
    g_prefix_error(error, "%s: ", path);
  return ok;
}
