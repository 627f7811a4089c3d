/* Page processing for jobs: options from the job's keys, the worker pool fed
 * while pages arrive, records beside the pages. */
#include "scand/core/job-pages.h"

#include <string.h>

#include <glib/gstdio.h>

struct ScandJobPages {
  ScandJob *job;
  ScandPageOptions options;
  ScandSplit split;
  guint workers;
  ScandPagePool *pool; /* made with the first page */
};

static const char *job_key(const char *key, gpointer user_data) {
  return scand_job_get(user_data, key);
}

ScandJobPages *scand_job_pages_new(ScandJob *job, GError **error) {
  ScandJobPages *jp = g_new0(ScandJobPages, 1);
  jp->job = job;
  if (!scand_page_options_parse(&jp->options, &jp->split, &jp->workers, job_key, job, error) ||
      (!scand_page_options_any(&jp->options) && jp->split.kind == SCAND_SPLIT_NONE)) {
    scand_split_clear(&jp->split);
    g_free(jp);
    return NULL;
  }
  jp->options.ocr = g_strdup(jp->options.ocr); /* the job's strings may change */
  jp->options.dpi = (double) scand_job_get_int(job, "resolution", 0);
  return jp;
}

void scand_job_pages_submit(ScandJobPages *jp, const char *path, guint number) {
  if (!jp->pool)
    jp->pool = scand_page_pool_new(&jp->options, jp->workers, scand_job_get_dir(jp->job), TRUE);
  scand_page_pool_submit(jp->pool, path, number);
}

const ScandSplit *scand_job_pages_get_split(ScandJobPages *jp) {
  return &jp->split;
}

ScandBlankAction scand_job_pages_get_blank(ScandJobPages *jp) {
  return jp->options.blank;
}

GPtrArray *scand_job_pages_collect(ScandJobPages *jp, GPtrArray *pages, GPtrArray *notes) {
  if (jp->pool)
    g_ptr_array_unref(scand_page_pool_finish(jp->pool, NULL));
  GPtrArray *analyses = g_ptr_array_new_with_free_func((GDestroyNotify) scand_page_analysis_free);
  g_autoptr(ScandPagePool) again = NULL;
  g_autoptr(GArray) missing = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint i = 0; i < pages->len; i++) {
    g_autofree char *record = scand_page_analysis_record_path(pages->pdata[i]);
    ScandPageAnalysis *a = g_str_has_suffix(pages->pdata[i], ".pdf") ? NULL : scand_page_analysis_load(record, NULL);
    if (a && a->image && !g_file_test(a->image, G_FILE_TEST_IS_REGULAR))
      g_clear_pointer(&a, scand_page_analysis_free); /* its image went missing: analyse again */
    g_ptr_array_add(analyses, a);
    if (!a && !g_str_has_suffix(pages->pdata[i], ".pdf")) {
      if (!again)
        again = scand_page_pool_new(&jp->options, jp->workers, scand_job_get_dir(jp->job), TRUE);
      scand_page_pool_submit(again, pages->pdata[i], i + 1);
      g_array_append_val(missing, i);
    }
  }
  if (again) {
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) found = scand_page_pool_finish(again, errors);
    for (guint k = 0; k < missing->len; k++) {
      guint i = g_array_index(missing, guint, k);
      g_clear_pointer(&analyses->pdata[i], scand_page_analysis_free);
      analyses->pdata[i] = g_steal_pointer(&found->pdata[k]);
    }
    for (guint k = 0; notes && k < errors->len; k++)
      g_ptr_array_add(notes, g_strdup_printf("%s (page kept as it is)", (char *) errors->pdata[k]));
  }
  return analyses;
}

GPtrArray *scand_job_pages_analyse(ScandJobPages *jp, GPtrArray *paths, GPtrArray *notes) {
  g_autoptr(ScandPagePool) pool = scand_page_pool_new(&jp->options, jp->workers, scand_job_get_dir(jp->job), FALSE);
  for (guint i = 0; i < paths->len; i++)
    scand_page_pool_submit(pool, paths->pdata[i], i + 1);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  GPtrArray *analyses = scand_page_pool_finish(pool, errors);
  for (guint k = 0; notes && k < errors->len; k++)
    g_ptr_array_add(notes, g_strdup_printf("%s (page kept as it is)", (char *) errors->pdata[k]));
  return analyses;
}

void scand_job_pages_copy_profile(ScandJob *job, ScandConfig *config, const char *profile) {
  if (!profile)
    return;
  for (guint i = 0; scand_page_option_keys[i]; i++) {
    const char *v = scand_config_get(config, "profile", profile, scand_page_option_keys[i]);
    if (v && strcmp(scand_page_option_keys[i], "mode") != 0)
      scand_job_set(job, scand_page_option_keys[i], v);
  }
  if (g_strcmp0(scand_config_get(config, "profile", profile, "mode"), "auto-detect") == 0)
    scand_job_set(job, "mode", "auto-detect");
}

gboolean scand_job_pages_wanted(ScandJob *job) {
  for (guint i = 0; scand_page_option_keys[i]; i++)
    if (strcmp(scand_page_option_keys[i], "mode") != 0 && scand_job_get(job, scand_page_option_keys[i]))
      return TRUE;
  return g_strcmp0(scand_job_get(job, "mode"), "auto-detect") == 0;
}

void scand_job_pages_free(ScandJobPages *jp) {
  if (!jp)
    return;
  scand_page_pool_free(jp->pool);
  scand_split_clear(&jp->split);
  g_free((char *) jp->options.ocr);
  g_free(jp);
}
