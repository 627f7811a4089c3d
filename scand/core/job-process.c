/* Page processing in a job's life: after the scan (or at assembly when a
 * crash came first) the batch's analyses decide which pages form the
 * document and where a feeder batch splits into several documents. Each
 * further document becomes a job of its own in the spool, with the same
 * settings and destinations, its pages hard-linked from this one's (the
 * spool is one file system), so nothing is copied and nothing is lost.
 *
 * Crash safety: a child job's id is recorded in this job (split-child-K)
 * before anything goes into it, so a repeated run fills the same child
 * instead of making another; this job records its own pages
 * (document-pages) last, and that key says the work is done. */
#include "scand/core/job-run.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/core/job-pages.h"
#include "scand/core/job-private.h"

/* The facts of one document: its barcode, its blank pages, what processing
 * noted per page. */
static void set_part_facts(ScandJob *job, const ScandPagePart *part, GPtrArray *analyses) {
  scand_job_set(job, "barcode", part->barcode);
  g_autofree char *blanks = scand_page_part_blanks_string(part);
  scand_job_set(job, "blanks", blanks[0] ? blanks : NULL);
  scand_job_set_int(job, "blanks-dropped", part->dropped);
  g_autoptr(GString) colors = g_string_new(NULL);
  g_autoptr(GString) notes = g_string_new(NULL);
  for (guint k = 0; k < part->pages->len; k++) {
    const ScandPageAnalysis *a = analyses->pdata[g_array_index(part->pages, guint, k)];
    g_string_append_printf(colors, "%s%s", k ? "," : "", a ? scand_page_color_to_string(a->color) : "as-is");
    if (a && a->note)
      g_string_append_printf(notes, "%spage %u: %s", notes->len ? "; " : "", k + 1, a->note);
  }
  scand_job_set(job, "page-colors", colors->str);
  scand_job_set(job, "page-notes", notes->len ? notes->str : NULL);
}

/* "1,2,5": the part's pages as 1-based numbers of this job's pages. */
static char *pages_string(const ScandPagePart *part) {
  GString *s = g_string_new(NULL);
  for (guint k = 0; k < part->pages->len; k++)
    g_string_append_printf(s, "%s%u", k ? "," : "", g_array_index(part->pages, guint, k) + 1);
  return g_string_free(s, FALSE);
}

/* Links page i of this job (and its record and re-encoded image) into child
 * as its page number n. An existing link is fine (a repeated run). */
static gboolean adopt_page(ScandJob *child, const char *page, guint n, GError **error) {
  const char *ext = strrchr(page, '.');
  g_autofree char *target = g_strdup_printf("%s/page-%04u%s", scand_job_get_dir(child), n, ext ? ext : "");
  if (link(page, target) < 0 && errno != EEXIST)
    return scand_fs_error_errno(error, errno, "cannot link %s into job %s", page, scand_job_get_id(child));
  g_autofree char *record = scand_page_analysis_record_path(page);
  g_autoptr(ScandPageAnalysis) a = scand_page_analysis_load(record, NULL);
  if (!a)
    return TRUE; /* analysed again when the child is assembled */
  if (a->image) {
    g_autofree char *image = g_strdup_printf("%s.processed.pnm", target);
    if (link(a->image, image) < 0 && errno != EEXIST)
      return scand_fs_error_errno(error, errno, "cannot link %s into job %s", a->image, scand_job_get_id(child));
    g_free(a->image);
    a->image = g_steal_pointer(&image);
  }
  g_autofree char *child_record = scand_page_analysis_record_path(target);
  return scand_page_analysis_save(a, child_record, error);
}

/* The job for part k (2…): the one recorded by an earlier run, else a new one. */
static ScandJob *child_job(ScandJob *job, guint k, GError **error) {
  g_autofree char *key = g_strdup_printf("split-child-%u", k);
  const char *id = scand_job_get(job, key);
  if (id) {
    g_autoptr(GError) local = NULL;
    ScandJob *child = scand_job_open(job->spool, id, &local);
    if (child)
      return child;
  }
  g_autoptr(ScandJob) child = scand_job_create_sibling(job, error);
  if (!child)
    return NULL;
  scand_job_set(job, key, scand_job_get_id(child));
  if (!scand_job_save(job, error))
    return NULL;
  return g_steal_pointer(&child);
}

/* Makes part k's job: pages linked, facts, stage SCANNED. */
static gboolean make_child(ScandJob *job, guint k, const ScandPagePart *part, GPtrArray *pages, GPtrArray *analyses,
                           GError **error) {
  g_autoptr(ScandJob) child = child_job(job, k, error);
  if (!child)
    return FALSE;
  for (guint n = 0; n < part->pages->len; n++)
    if (!adopt_page(child, pages->pdata[g_array_index(part->pages, guint, n)], n + 1, error))
      return FALSE;
  ScandPagePart own = *part;
  g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint n = 0; n < part->pages->len; n++)
    g_array_append_val(all, n);
  own.pages = all;
  g_autoptr(GPtrArray) child_analyses = g_ptr_array_new();
  for (guint n = 0; n < part->pages->len; n++)
    g_ptr_array_add(child_analyses, analyses->pdata[g_array_index(part->pages, guint, n)]);
  set_part_facts(child, &own, child_analyses);
  g_autofree char *mine = pages_string(&own);
  scand_job_set(child, "document-pages", mine);
  scand_job_set(child, "split-from", scand_job_get_id(job));
  scand_job_set_int(child, "pages", part->pages->len);
  return scand_job_set_stage(child, SCAND_JOB_SCANNED, error);
}

GStrv scand_job_get_split_children(ScandJob *job) {
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new();
  for (guint k = 2;; k++) {
    g_autofree char *key = g_strdup_printf("split-child-%u", k);
    const char *id = scand_job_get(job, key);
    if (!id)
      break;
    g_strv_builder_add(ids, id);
  }
  return g_strv_builder_end(ids);
}

ScandJob *scand_job_open_split_child(ScandJob *parent, const char *id, GError **error) {
  for (guint attempt = 0;; attempt++) {
    g_autoptr(GError) local = NULL;
    ScandJob *child = scand_job_open(parent->spool, id, &local);
    if (child)
      return child;
    if (!g_error_matches(local, SCAND_ERROR, SCAND_ERROR_BUSY) || attempt == 100) {
      g_propagate_error(error, g_steal_pointer(&local));
      return NULL;
    }
    g_usleep(10 * 1000);
  }
}

gboolean scand_job_run_process(ScandJob *job, GError **error) {
  if (scand_job_get(job, "document-pages"))
    return TRUE;
  g_autoptr(GError) local = NULL;
  g_autoptr(ScandJobPages) jp = scand_job_pages_new(job, &local);
  if (!jp) {
    if (local) {
      g_propagate_prefixed_error(error, g_steal_pointer(&local), "job %s: ", scand_job_get_id(job));
      return FALSE;
    }
    return TRUE; /* nothing asked */
  }
  g_autoptr(GPtrArray) pages = scand_page_list(scand_job_get_dir(job), error);
  if (!pages)
    return FALSE;
  for (guint i = 0; i < pages->len; i++)
    if (g_str_has_suffix(pages->pdata[i], ".pdf")) {
      /* Pages a device sent as PDF are merged by pages, never re-encoded. */
      scand_job_set(job, "processing-problems", "PDF pages from the device are not processed");
      return scand_job_save(job, error);
    }
  g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) analyses = scand_job_pages_collect(jp, pages, notes);
  const char *duplex = scand_job_get(job, "duplex");
  g_autoptr(GPtrArray) parts = scand_page_split(analyses, scand_job_pages_get_split(jp), g_strcmp0(duplex, "true") == 0,
                                                scand_job_pages_get_blank(jp));
  if (parts->len == 0 || ((ScandPagePart *) parts->pdata[0])->pages->len == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "job %s: every page is blank or a separator: nothing to deliver (the pages are kept)",
                scand_job_get_id(job));
    return FALSE;
  }
  for (guint k = 1; k < parts->len; k++)
    if (!make_child(job, k + 1, parts->pdata[k], pages, analyses, error))
      return FALSE;
  ScandPagePart *first = parts->pdata[0];
  set_part_facts(job, first, analyses);
  if (notes->len) {
    g_ptr_array_add(notes, NULL);
    g_autofree char *joined = g_strjoinv("; ", (char **) notes->pdata);
    scand_job_set(job, "processing-problems", joined);
  }
  g_autofree char *mine = pages_string(first);
  scand_job_set(job, "document-pages", mine);
  scand_job_set_int(job, "pages", first->pages->len);
  return scand_job_save(job, error);
}
