/* A whole file taken into a job as its document (watched folders, mail
 * attachments): a PDF as it is, an image assembled, and with the job's page
 * processing when it asks for it. A PDF made of JPEG pages is processed too:
 * its pages are read and put back, each JPEG byte for byte, with the text
 * layer; any other PDF stays as it is (the job notes why).
 *
 * A file split at separator sheets (split = …) makes further jobs, one per
 * further document, each with its own document.pdf. They are made before
 * the taker commits the file's job, so they are marked split-pending: a
 * pending job is delivered only once its parent is committed (stage
 * assembled or later: the taker, or whoever resumes either job, promotes
 * it), and removed when its parent never was (a crash before the commit:
 * the file is taken again). Nothing is lost and nothing delivered twice. */
#include "scand/core/job-run.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "scand/base/error.h"
#include "scand/base/fault.h"
#include "scand/base/image-private.h"
#include "scand/core/job-pages.h"
#include "scand/core/pdf-images.h"
#include "scand/core/pdf-merge.h"
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

/* Writes one document of the file into job (its document.pdf and facts). */
static gboolean write_part(ScandJob *job, const ScandPagePart *part, GPtrArray *files, GPtrArray *analyses,
                           const double *dpis, GPtrArray *notes, GError **error) {
  ScandPdfOptions options = { .scratch_dir = scand_job_get_dir(job) };
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&options, error);
  if (!pdf || !scand_page_part_add_to_pdf_at(part, files, analyses, 0, dpis, pdf, error) ||
      !scand_pdf_save(pdf, scand_job_get_pdf_path(job), error))
    return FALSE;
  set_facts(job, part, analyses, notes);
  return TRUE;
}

/* A pending job for document k (2, 3, …) of the file, recorded in job
 * (with split-pending-children, which says some may still be pending). */
static ScandJob *pending_child(ScandJob *job, guint k, GError **error) {
  g_autoptr(ScandJob) child = scand_job_create_sibling(job, error);
  if (!child)
    return NULL;
  scand_job_set(child, "split-pending-children", NULL); /* copied from job: it has none of its own */
  scand_job_set(child, "split-from", scand_job_get_id(job));
  scand_job_set(child, "split-pending", "true");
  g_autofree char *key = g_strdup_printf("split-child-%u", k);
  scand_job_set(job, key, scand_job_get_id(child));
  scand_job_set(job, "split-pending-children", "true");
  if (!scand_job_save(child, error) || !scand_job_save(job, error))
    return NULL;
  scand_fault_point("split-pending");
  return g_steal_pointer(&child);
}

/* Processes the page files (with their forced resolutions) into the job's
 * document, blank pages dropped or flagged; split into further pending jobs
 * (added to children) when children is given and the job asks for a split. */
static gboolean take_processed(ScandJob *job, ScandJobPages *jp, GPtrArray *files, const double *dpis, GPtrArray *notes,
                               GPtrArray *children, GError **error) {
  g_autoptr(GPtrArray) analyses = scand_job_pages_analyse(jp, files, notes);
  ScandSplit none = { 0 };
  g_autoptr(GPtrArray) parts = scand_page_split(analyses, children ? scand_job_pages_get_split(jp) : &none, FALSE,
                                                scand_job_pages_get_blank(jp));
  gboolean ok = TRUE;
  guint written = 0;
  for (guint k = 0; ok && k < parts->len; k++) {
    const ScandPagePart *part = parts->pdata[k];
    if (part->pages->len == 0)
      continue;
    ScandJob *into = job;
    if (written > 0) {
      into = pending_child(job, written + 1, error);
      if (!into) {
        ok = FALSE;
        break;
      }
      g_ptr_array_add(children, into);
    }
    ok = write_part(into, part, files, analyses, dpis, notes, error);
    written++;
  }
  if (ok && written == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "every page is blank%s: nothing to deliver",
                children ? " or a separator" : "");
    ok = FALSE;
  }
  for (guint i = 0; i < analyses->len; i++) {
    ScandPageAnalysis *a = analyses->pdata[i];
    if (a && a->image)
      g_unlink(a->image);
  }
  return ok;
}

/* The page files of one input: an image of one page, or a PDF's JPEG pages
 * extracted into the job (added to extracted as well). Fails with
 * SCAND_ERROR_UNSUPPORTED (the reason) for an input that is kept as it is. */
static gboolean gather_pages(ScandJob *job, const char *path, guint index, GPtrArray *files, GArray *dpis,
                             GPtrArray *extracted, GError **error) {
  if (is_pdf(path)) {
    g_autofree char *prefix = g_strdup_printf("take-%u", index);
    g_autoptr(GPtrArray) pages = scand_pdf_images_extract(path, scand_job_get_dir(job), prefix, error);
    if (!pages)
      return FALSE;
    for (guint i = 0; i < pages->len; i++) {
      ScandPdfImagePage *p = pages->pdata[i];
      g_ptr_array_add(files, g_strdup(p->path));
      g_ptr_array_add(extracted, g_strdup(p->path));
      g_array_append_val(dpis, p->dpi);
    }
    return TRUE;
  }
  guint n = 1;
  if (!scand_image_count_pages(path, &n, error))
    return FALSE;
  if (n != 1) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "multi-page TIFF files are not processed");
    return FALSE;
  }
  g_ptr_array_add(files, g_strdup(path));
  double none = 0;
  g_array_append_val(dpis, none);
  return TRUE;
}

/* The files as they are (PDFs) or assembled (images), in order, without
 * processing: one document. */
static gboolean take_plain_all(ScandJob *job, const char *const *paths, guint n, GError **error) {
  if (n == 1)
    return take_plain(job, paths[0], error);
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) made = g_ptr_array_new_with_free_func(g_free);
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < n; i++) {
    if (is_pdf(paths[i])) {
      g_ptr_array_add(parts, g_strdup(paths[i]));
      continue;
    }
    char *out = g_strdup_printf("%s/plain-%u.pdf", scand_job_get_dir(job), i + 1);
    g_ptr_array_add(made, out);
    g_ptr_array_add(parts, g_strdup(out));
    ScandPdfOptions options = { .scratch_dir = scand_job_get_dir(job) };
    g_autoptr(ScandPdf) pdf = scand_pdf_new(&options, error);
    ok = pdf && scand_pdf_add_file(pdf, paths[i], 0, error) && scand_pdf_save(pdf, out, error);
  }
  g_ptr_array_add(parts, NULL);
  ok = ok && scand_pdf_concatenate((const char *const *) parts->pdata, scand_job_get_pdf_path(job), error);
  for (guint i = 0; i < made->len; i++)
    g_unlink(made->pdata[i]);
  return ok;
}

/* prefix: a processing failure's message starts with the file's path (one
 * file: its copy that a watched folder took); children: see take_processed(). */
static gboolean take_files(ScandJob *job, const char *const *paths, guint n, gboolean prefix, GPtrArray *children,
                           GError **error) {
  g_return_val_if_fail(n > 0, FALSE);
  g_autoptr(GError) local = NULL;
  g_autoptr(ScandJobPages) jp = scand_job_pages_new(job, &local);
  if (!jp) {
    if (local)
      scand_job_set(job, "page-notes", local->message);
    return take_plain_all(job, paths, n, error);
  }
  g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) extracted = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) dpis = g_array_new(FALSE, TRUE, sizeof(double));
  gboolean gathered = TRUE;
  for (guint i = 0; gathered && i < n; i++)
    gathered = gather_pages(job, paths[i], i + 1, files, dpis, extracted, &local);
  gboolean ok;
  if (!gathered && g_error_matches(local, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED)) {
    scand_job_set(job, "page-notes", local->message);
    ok = take_plain_all(job, paths, n, error);
  } else if (!gathered) {
    g_propagate_error(error, g_steal_pointer(&local));
    ok = FALSE;
  } else {
    ok = take_processed(job, jp, files, (const double *) dpis->data, notes, children, error);
    if (!ok && prefix)
      g_prefix_error(error, "%s: ", paths[0]);
  }
  for (guint i = 0; i < extracted->len; i++)
    g_unlink(extracted->pdata[i]);
  return ok;
}

gboolean scand_job_take_files(ScandJob *job, const char *const *paths, guint n, GError **error) {
  return take_files(job, paths, n, FALSE, NULL, error);
}

gboolean scand_job_take_file(ScandJob *job, const char *path, GError **error) {
  return take_files(job, &path, 1, TRUE, NULL, error);
}

gboolean scand_job_take_file_split(ScandJob *job, const char *path, GPtrArray *children, GError **error) {
  return take_files(job, &path, 1, TRUE, children, error);
}

gboolean scand_job_promote_split_children(ScandJob *job, GError **error) {
  if (!scand_job_get(job, "split-pending-children"))
    return TRUE;
  g_auto(GStrv) ids = scand_job_get_split_children(job);
  for (guint i = 0; ids[i]; i++) {
    g_autoptr(GError) local = NULL;
    g_autoptr(ScandJob) child = scand_job_open_split_child(job, ids[i], &local);
    if (!child) {
      if (g_error_matches(local, SCAND_ERROR, SCAND_ERROR_NOT_FOUND))
        continue; /* delivered and gone */
      g_propagate_prefixed_error(error, g_steal_pointer(&local), "job %s: ", scand_job_get_id(job));
      return FALSE;
    }
    if (!scand_job_promote_split_child(child, error))
      return FALSE;
  }
  scand_job_set(job, "split-pending-children", NULL);
  return scand_job_save(job, error);
}

gboolean scand_job_promote_split_child(ScandJob *child, GError **error) {
  if (!scand_job_get(child, "split-pending"))
    return TRUE;
  scand_job_set(child, "split-pending", NULL);
  return scand_job_set_stage(child, SCAND_JOB_ASSEMBLED, error);
}
