/* The page workers: a GLib thread pool of ocr-workers threads, each keeping
 * its own Tesseract handles (page-ocr.c), fed pages as they arrive. */
#include "scand/core/page-process.h"

#include "scand/base/error.h"

struct ScandPagePool {
  ScandPageOptions options; /* strings owned */
  char *out_dir;
  gboolean records;
  gboolean default_workers; /* sized by scand_page_pool_default_workers() */
  GThreadPool *threads;
  GMutex lock;
  GPtrArray *results; /* ScandPageAnalysis*, by submission */
  GPtrArray *errors;  /* char*, by submission (NULL when fine) */
};

typedef struct {
  char *path;
  guint number;
  guint slot;
} Task;

guint scand_page_pool_default_workers(void) {
  guint cores = g_get_num_processors();
  return cores > 1 ? cores - 1 : 1;
}

static void run_task(gpointer data, gpointer user_data) {
  Task *t = data;
  ScandPagePool *pool = user_data;
  GError *error = NULL;
  ScandPageAnalysis *a = scand_page_analyse(t->path, t->number, &pool->options, pool->out_dir, &error);
  if (a && pool->records) {
    g_autofree char *record = scand_page_analysis_record_path(t->path);
    /* A record that cannot be written only means the page is analysed again. */
    g_autoptr(GError) ignored = NULL;
    scand_page_analysis_save(a, record, &ignored);
  }
  g_mutex_lock(&pool->lock);
  pool->results->pdata[t->slot] = a;
  pool->errors->pdata[t->slot] = error ? g_strdup(error->message) : NULL;
  g_mutex_unlock(&pool->lock);
  g_clear_error(&error);
  g_free(t->path);
  g_free(t);
}

ScandPagePool *scand_page_pool_new(const ScandPageOptions *options, guint workers, const char *out_dir,
                                   gboolean records) {
  /* OMP_THREAD_LIMIT=1 must be in the environment before libgomp loads
   * (scand's main() sees to it): OpenMP inside Tesseract would fight the
   * workers for the cores. */
  ScandPagePool *pool = g_new0(ScandPagePool, 1);
  pool->options = *options;
  pool->options.ocr = g_strdup(options->ocr);
  pool->out_dir = g_strdup(out_dir);
  pool->records = records;
  pool->default_workers = workers == 0;
  g_mutex_init(&pool->lock);
  pool->results = g_ptr_array_new_with_free_func((GDestroyNotify) scand_page_analysis_free);
  pool->errors = g_ptr_array_new_with_free_func(g_free);
  pool->threads =
      g_thread_pool_new(run_task, pool, (int) (workers ? workers : scand_page_pool_default_workers()), FALSE, NULL);
  return pool;
}

void scand_page_pool_submit(ScandPagePool *pool, const char *path, guint number) {
  Task *t = g_new0(Task, 1);
  t->path = g_strdup(path);
  t->number = number;
  g_mutex_lock(&pool->lock);
  t->slot = pool->results->len;
  g_ptr_array_add(pool->results, NULL);
  g_ptr_array_add(pool->errors, NULL);
  g_mutex_unlock(&pool->lock);
  g_thread_pool_push(pool->threads, t, NULL);
}

/* Waits until every queued task has run. */
static void drain(ScandPagePool *pool) {
  if (!pool->threads)
    return;
  g_thread_pool_free(pool->threads, FALSE, TRUE);
  pool->threads = NULL;
}

GPtrArray *scand_page_pool_finish(ScandPagePool *pool, GPtrArray *errors) {
  /* The core kept back for scanning is free now that the batch is in: the
   * pages still queued (a feeder faster than OCR) use every core, so the
   * document is out sooner after the last page. */
  if (pool->threads && pool->default_workers)
    g_thread_pool_set_max_threads(pool->threads, (int) MAX(g_get_num_processors(), 1), NULL);
  drain(pool);
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) scand_page_analysis_free);
  for (guint i = 0; i < pool->results->len; i++) {
    g_ptr_array_add(out, g_steal_pointer(&pool->results->pdata[i]));
    char *e = g_steal_pointer(&pool->errors->pdata[i]);
    if (e && errors)
      g_ptr_array_add(errors, e);
    else
      g_free(e);
  }
  g_ptr_array_set_size(pool->results, 0);
  g_ptr_array_set_size(pool->errors, 0);
  return out;
}

void scand_page_pool_free(ScandPagePool *pool) {
  if (!pool)
    return;
  drain(pool);
  g_ptr_array_unref(pool->results);
  g_ptr_array_unref(pool->errors);
  g_mutex_clear(&pool->lock);
  g_free((char *) pool->options.ocr);
  g_free(pool->out_dir);
  g_free(pool);
}
