/* Jobs and the spool: durable pages, locking, the jam policy, resume. */
#include "backends/backend-private.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/core/job-private.h"
#include "scand/core/job-run.h"
#include "scand/core/job.h"
#include "scand/base/page.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* A scripted scanner: hands out n_pages small gray pages, then fails with
 * fail_code (or ends normally when fail_code < 0). */
typedef struct {
  ScandScanner base;
  guint n_pages;
  int fail_code;
  guint given;
} FakeScanner;

static gboolean fake_start(ScandScanner *s, const ScandScanSettings *settings, ScandScanSettings *effective,
                           GError **error) {
  *effective = *settings;
  effective->resolution = 100;
  return TRUE;
}

static gboolean fake_read_page(ScandScanner *s, ScandPageSink *sink, gboolean *got_page, GError **error) {
  FakeScanner *f = (FakeScanner *) s;
  if (f->given == f->n_pages) {
    if (f->fail_code >= 0) {
      g_set_error(error, SCAND_ERROR, f->fail_code, "fake: paper jam in the document feeder");
      return FALSE;
    }
    *got_page = FALSE;
    return TRUE;
  }
  /* Unknown height: the sink must derive it from the data. */
  ScandPageHeader h = { .format = SCAND_PAGE_GRAY8, .width = 17, .height = -1, .xres = 100, .yres = 100 };
  if (!sink->begin(sink, &h, error))
    return FALSE;
  guchar row[17];
  for (int y = 0; y < 23; y++) {
    memset(row, (guchar) (y * 10 + f->given), sizeof row);
    if (!sink->write(sink, row, sizeof row, error)) {
      sink->abort(sink);
      return FALSE;
    }
  }
  if (!sink->end(sink, error))
    return FALSE;
  f->given++;
  *got_page = TRUE;
  return TRUE;
}

static void fake_close(ScandScanner *s) {
  g_free(s);
}

static const ScandBackendDriver fake_driver = {
  .scheme = "fake",
  .start = fake_start,
  .read_page = fake_read_page,
  .close = fake_close,
};

static ScandScanner *fake_new(guint n_pages, int fail_code) {
  FakeScanner *f = g_new0(FakeScanner, 1);
  f->base.driver = &fake_driver;
  f->base.uri = g_strdup("fake:0");
  f->base.name = g_strdup("fake0");
  f->n_pages = n_pages;
  f->fail_code = fail_code;
  return &f->base;
}

typedef struct {
  char *dir;
  char *spool_dir;
  char *dest;
  ScandSpool *spool;
} Fixture;

static void fixture_set_up(Fixture *fx, gconstpointer data) {
  fx->dir = g_dir_make_tmp("scand-test-job-XXXXXX", NULL);
  g_assert_nonnull(fx->dir);
  fx->spool_dir = g_build_filename(fx->dir, "spool", NULL);
  fx->dest = g_build_filename(fx->dir, "dest", NULL);
  g_autoptr(GError) error = NULL;
  fx->spool = scand_spool_open(fx->spool_dir, &error);
  g_assert_no_error(error);
}

static void fixture_tear_down(Fixture *fx, gconstpointer data) {
  scand_spool_free(fx->spool);
  scand_fs_remove_tree(fx->dir);
  g_free(fx->dir);
  g_free(fx->spool_dir);
  g_free(fx->dest);
}

static void add_folder_destination(ScandJob *job, const char *dest) {
  g_autoptr(GHashTable) output = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(output, "type", "folder");
  g_hash_table_insert(output, "path", (gpointer) dest);
  g_hash_table_insert(output, "create", "true");
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_job_add_destination(job, "dest", output, &error));
  g_assert_no_error(error);
}

static guint count_files(const char *dir, const char *suffix) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  guint n = 0;
  const char *name;
  while (d && (name = g_dir_read_name(d)))
    if (!suffix || g_str_has_suffix(name, suffix))
      n++;
  return n;
}

static void test_lock(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) job = scand_job_create(fx->spool, &error);
  g_assert_no_error(error);
  /* A second open of the same job (as another process would) is refused. */
  g_autoptr(ScandJob) again = scand_job_open(fx->spool, scand_job_get_id(job), &error);
  g_assert_null(again);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_BUSY);
  g_clear_error(&error);
  /* Peeking is allowed and sees the state. */
  g_autoptr(ScandJob) peek = scand_job_peek(fx->spool, scand_job_get_id(job), &error);
  g_assert_no_error(error);
  g_assert_cmpint(scand_job_get_stage(peek), ==, SCAND_JOB_SCANNING);
  g_assert_false(scand_job_is_locked(peek));
  /* Hostile ids are refused. */
  g_assert_null(scand_job_open(fx->spool, "../etc", &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

static void test_pages_unknown_height(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) job = scand_job_create(fx->spool, &error);
  g_autoptr(ScandScanner) scanner = fake_new(2, -1);
  ScandScanSettings settings = { 0 };
  g_assert_true(scand_job_run_scan(job, scanner, &settings, NULL, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(scand_job_count_pages(job), ==, 2);
  g_autofree char *page = g_build_filename(scand_job_get_dir(job), "page-0002.pnm", NULL);
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(page, &contents, &len, NULL));
  /* The header carries the height derived from the data (23 rows of 17). */
  int w = 0, h = 0;
  const char *p = strstr(contents, "dpi\n");
  g_assert_nonnull(p);
  g_assert_cmpint(sscanf(p + 4, "%d %d", &w, &h), ==, 2);
  g_assert_cmpint(w, ==, 17);
  g_assert_cmpint(h, ==, 23);
  g_assert_cmpuint(len, >, 17 * 23);
  g_assert_cmpint(scand_job_get_stage(job), ==, SCAND_JOB_SCANNED);
  /* No temporary page files are left behind. */
  g_assert_cmpuint(count_files(scand_job_get_dir(job), ".part"), ==, 0);
}

/* The jam policy: pages before the jam are kept, assembled and delivered, and
 * the job says where it stopped. */
static void test_jam_keeps_pages(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) job = scand_job_create(fx->spool, &error);
  scand_job_set(job, "template", "jam-{pages}.pdf");
  add_folder_destination(job, fx->dest);
  g_autoptr(ScandScanner) scanner = fake_new(3, SCAND_ERROR_JAMMED);
  ScandScanSettings settings = { 0 };
  g_assert_false(scand_job_run_scan(job, scanner, &settings, NULL, NULL, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_JAMMED);
  g_clear_error(&error);
  g_assert_cmpint(scand_job_get_stage(job), ==, SCAND_JOB_SCANNED);
  g_assert_cmpuint(scand_job_count_pages(job), ==, 3);
  g_assert_nonnull(strstr(scand_job_get(job, "interrupted"), "after page 3"));
  g_assert_true(scand_job_run_assemble(job, &error));
  g_assert_no_error(error);
  g_assert_cmpint(scand_job_run_deliver(job, NULL, NULL, &error), ==, SCAND_DELIVERY_DONE);
  g_assert_no_error(error);
  g_autofree char *pdf = g_build_filename(fx->dest, "jam-3.pdf", NULL);
  g_assert_true(g_file_test(pdf, G_FILE_TEST_IS_REGULAR));
  /* Delivered jobs leave the spool. */
  g_auto(GStrv) ids = scand_spool_list_jobs(fx->spool, &error);
  g_assert_cmpuint(g_strv_length(ids), ==, 0);
}

/* A jam before the first page accepted nothing: nothing is kept. */
static void test_jam_first_page(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) job = scand_job_create(fx->spool, &error);
  g_autoptr(ScandScanner) scanner = fake_new(0, SCAND_ERROR_JAMMED);
  ScandScanSettings settings = { 0 };
  g_assert_false(scand_job_run_scan(job, scanner, &settings, NULL, NULL, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_JAMMED);
  g_auto(GStrv) ids = scand_spool_list_jobs(fx->spool, NULL);
  g_assert_cmpuint(g_strv_length(ids), ==, 0);
}

/* A job left in SCANNING by a dead process resumes into a delivered PDF. */
static void test_resume_scanning(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  {
    g_autoptr(ScandJob) job = scand_job_create(fx->spool, &error);
    id = g_strdup(scand_job_get_id(job));
    add_folder_destination(job, fx->dest);
    scand_job_set(job, "template", "resumed.pdf");
    g_assert_true(scand_job_save(job, &error));
    ScandPageSink *sink = scand_job_get_page_sink(job);
    ScandPageHeader h = { .format = SCAND_PAGE_BW1, .width = 16, .height = 8, .xres = 72, .yres = 72 };
    g_assert_true(sink->begin(sink, &h, &error));
    guchar rows[16] = {
      0xff, 0x00, 0xf0, 0x0f, 0xaa, 0x55, 0xff, 0x00, 0xff, 0x00, 0xf0, 0x0f, 0xaa, 0x55, 0xff, 0x00
    };
    g_assert_true(sink->write(sink, rows, sizeof rows, &error));
    g_assert_true(sink->end(sink, &error));
    /* "crash": the job is dropped without finishing. */
  }
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
  guint left = scand_spool_resume_all(fx->spool, NULL, TRUE, messages, NULL);
  for (guint i = 0; i < messages->len; i++)
    g_printerr("%s\n", (char *) messages->pdata[i]);
  g_assert_cmpuint(left, ==, 0);
  g_autofree char *pdf = g_build_filename(fx->dest, "resumed.pdf", NULL);
  g_assert_true(g_file_test(pdf, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint(count_files(fx->dest, NULL), ==, 1);
}

/* A destination that is not reachable keeps the job queued with the reason. */
static void test_retry_queued(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) job = scand_job_create(fx->spool, &error);
  g_autoptr(GHashTable) output = g_hash_table_new(g_str_hash, g_str_equal);
  g_autofree char *missing = g_build_filename(fx->dir, "not-mounted", NULL);
  g_hash_table_insert(output, "type", "folder");
  g_hash_table_insert(output, "path", missing);
  g_assert_true(scand_job_add_destination(job, "nas", output, &error));
  scand_job_set(job, "template", "q.pdf");
  g_autoptr(ScandScanner) scanner = fake_new(1, -1);
  ScandScanSettings settings = { 0 };
  g_assert_true(scand_job_run_scan(job, scanner, &settings, NULL, NULL, &error));
  g_assert_true(scand_job_run_assemble(job, &error));
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
  g_assert_cmpint(scand_job_run_deliver(job, NULL, messages, &error), ==, SCAND_DELIVERY_RETRY);
  g_assert_no_error(error);
  g_assert_cmpuint(messages->len, ==, 1);
  g_assert_nonnull(strstr(messages->pdata[0], "output nas"));
  g_assert_nonnull(strstr(messages->pdata[0], "will retry"));
  g_assert_cmpint(scand_job_get_destination_state(job, 0), ==, SCAND_DEST_RETRY);
  g_assert_cmpint(scand_job_get_destination_attempts(job, 0), ==, 1);
  /* The share comes back: the next attempt delivers, once. */
  g_assert_cmpint(g_mkdir(missing, 0755), ==, 0);
  g_assert_cmpint(scand_job_run_deliver(job, NULL, NULL, &error), ==, SCAND_DELIVERY_DONE);
  g_assert_cmpuint(count_files(missing, NULL), ==, 1);
}

/* A job with one folder destination (not created when missing) that has
 * scanned and assembled one page, ready to deliver. */
static ScandJob *assembled_job(Fixture *fx, const char *output_name, const char *path) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) job = scand_job_create(fx->spool, &error);
  g_assert_no_error(error);
  g_autoptr(GHashTable) output = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(output, "type", "folder");
  g_hash_table_insert(output, "path", (gpointer) path);
  g_assert_true(scand_job_add_destination(job, output_name, output, &error));
  scand_job_set(job, "template", "f.pdf");
  g_autoptr(ScandScanner) scanner = fake_new(1, -1);
  ScandScanSettings settings = { 0 };
  g_assert_true(scand_job_run_scan(job, scanner, &settings, NULL, NULL, &error));
  g_assert_true(scand_job_run_assemble(job, &error));
  g_assert_no_error(error);
  return g_steal_pointer(&job);
}

/* The rule's fallback is used after its policy (here: 2 failed attempts),
 * never before, and then stands in for the destination it replaced. */
static void test_fallback_policy(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename(fx->dir, "share-down", NULL);
  g_autoptr(ScandJob) job = assembled_job(fx, "share", missing);
  g_autoptr(GHashTable) fallback = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(fallback, "type", "folder");
  g_hash_table_insert(fallback, "path", fx->dest);
  g_hash_table_insert(fallback, "create", "true");
  g_assert_true(scand_job_set_fallback(job, "mailbox", fallback, 0, 2, &error));
  g_assert_cmpint(scand_job_run_deliver(job, NULL, NULL, &error), ==, SCAND_DELIVERY_RETRY);
  g_assert_no_error(error);
  /* One failed attempt: the policy says two, so no fallback yet. */
  g_assert_cmpuint(scand_job_get_n_destinations(job), ==, 1);
  g_assert_false(g_file_test(fx->dest, G_FILE_TEST_EXISTS));
  g_assert_cmpint(scand_job_run_deliver(job, NULL, NULL, &error), ==, SCAND_DELIVERY_DONE);
  g_assert_no_error(error);
  g_assert_cmpuint(scand_job_get_n_destinations(job), ==, 2);
  g_assert_cmpstr(scand_job_get_destination_name(job, 1), ==, "mailbox");
  g_assert_cmpint(scand_job_get_destination_state(job, 0), ==, SCAND_DEST_SUPERSEDED);
  g_assert_cmpuint(count_files(fx->dest, NULL), ==, 1);
  g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
}

/* Without a fallback in the rule, a failing destination is never replaced. */
static void test_no_fallback_without_rule(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename(fx->dir, "share-down", NULL);
  g_autoptr(ScandJob) job = assembled_job(fx, "share", missing);
  for (int i = 0; i < 5; i++)
    g_assert_cmpint(scand_job_run_deliver(job, NULL, NULL, &error), ==, SCAND_DELIVERY_RETRY);
  g_assert_cmpuint(scand_job_get_n_destinations(job), ==, 1);
  g_assert_cmpint(scand_job_get_destination_attempts(job, 0), ==, 5);
}

/* A destination retried for longer than the maximum age fails for good. */
static void test_retry_max_age(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename(fx->dir, "gone", NULL);
  g_autoptr(ScandJob) job = assembled_job(fx, "nas", missing);
  const ScandRetryPolicy policy = { .min_seconds = 30, .max_seconds = 3600, .max_age_seconds = 3600 };
  g_assert_cmpint(scand_job_run_deliver(job, &policy, NULL, &error), ==, SCAND_DELIVERY_RETRY);
  /* Pretend the first attempt was two hours ago. */
  scand_job_set_destination_first_attempt(job, 0, g_get_real_time() / G_USEC_PER_SEC - 7200);
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_free);
  g_assert_cmpint(scand_job_run_deliver(job, &policy, messages, &error), ==, SCAND_DELIVERY_FAILED);
  g_assert_cmpint(scand_job_get_destination_state(job, 0), ==, SCAND_DEST_FAILED);
  g_assert_nonnull(strstr(messages->pdata[0], "gave up after 2 h of retrying"));
  g_assert_cmpint(scand_job_get_stage(job), ==, SCAND_JOB_FAILED);
}

/* Facts go through job.ini typed and come back the same; unset ones leave no
 * key; the fixed ones (id, created) are the job's own; by-key access is the
 * same table. */
static void test_facts(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) job = scand_job_create(fx->spool, &error);
  g_assert_no_error(error);
  char *id = g_strdup(scand_job_get_id(job));
  ScandJobFacts facts = *scand_job_get_facts(job);
  g_assert_cmpstr(facts.job, ==, id);
  g_assert_nonnull(facts.created);
  g_assert_nonnull(facts.time);
  facts.source_kind = "scan";
  facts.device = "escl:https://mfp.example/eSCL";
  facts.device_name = "office";
  facts.pages = 7;
  facts.duplex = TRUE;
  facts.lossless = FALSE;
  facts.job = "forged";
  scand_job_set_facts(job, &facts);
  g_assert_true(scand_job_save(job, &error));
  scand_job_free(g_steal_pointer(&job));

  g_autoptr(ScandJob) again = scand_job_open(fx->spool, id, &error);
  g_assert_no_error(error);
  const ScandJobFacts *back = scand_job_get_facts(again);
  g_assert_cmpstr(back->job, ==, id);
  g_assert_cmpstr(back->device, ==, "escl:https://mfp.example/eSCL");
  g_assert_cmpstr(back->device_name, ==, "office");
  g_assert_cmpuint(back->pages, ==, 7);
  g_assert_true(back->duplex);
  g_assert_false(back->lossless);
  g_assert_null(back->interrupted);
  g_assert_cmpstr(scand_job_get(again, "pages"), ==, "7");
  g_assert_cmpstr(scand_job_get(again, "duplex"), ==, "true");
  g_assert_null(scand_job_get(again, "lossless"));
  scand_job_set(again, "pages", "9");
  g_assert_cmpuint(scand_job_get_facts(again)->pages, ==, 9);
  g_autofree char *ini = g_build_filename(fx->spool_dir, id, "job.ini", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(ini, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "device-name=office\n"));
  g_assert_null(strstr(text, "lossless"));
  g_assert_null(strstr(text, "forged"));
  g_free(id);
}

/* The retry policy is a value from the config: the defaults written once,
 * [scand] retry-* read with file:line errors, delays doubling within ±20 %. */
/* A staged job is not in the spool until published; one never published
 * (its maker died) is gone at the next open of the spool. */
static void test_staged(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) job = scand_job_create_staged(fx->spool, &error);
  g_assert_no_error(error);
  g_assert_true(scand_job_is_staged(job));
  g_autofree char *base = g_path_get_basename(scand_job_get_dir(job));
  g_assert_true(g_str_has_prefix(base, ".new-"));
  g_assert_true(scand_job_save(job, &error));
  g_auto(GStrv) none = scand_spool_list_jobs(fx->spool, &error);
  g_assert_cmpuint(g_strv_length(none), ==, 0);
  g_assert_true(scand_job_publish(job, &error));
  g_assert_false(scand_job_is_staged(job));
  g_auto(GStrv) one = scand_spool_list_jobs(fx->spool, &error);
  g_assert_cmpuint(g_strv_length(one), ==, 1);
  g_assert_cmpstr(one[0], ==, scand_job_get_id(job));
  g_autoptr(ScandJob) peek = scand_job_peek(fx->spool, one[0], &error);
  g_assert_no_error(error);
  g_assert_cmpint(scand_job_get_stage(peek), ==, SCAND_JOB_SCANNING);
  /* Left staged: the next open removes it, the published one stays. */
  g_autofree char *left_dir = NULL;
  {
    g_autoptr(ScandJob) left = scand_job_create_staged(fx->spool, &error);
    g_assert_no_error(error);
    left_dir = g_strdup(scand_job_get_dir(left));
  }
  g_assert_true(g_file_test(left_dir, G_FILE_TEST_IS_DIR));
  g_autoptr(ScandSpool) again = scand_spool_open(fx->spool_dir, &error);
  g_assert_no_error(error);
  g_assert_false(g_file_test(left_dir, G_FILE_TEST_EXISTS));
  g_auto(GStrv) still = scand_spool_list_jobs(again, &error);
  g_assert_cmpuint(g_strv_length(still), ==, 1);
}

/* Deferred (group commit), a delivery to a folder records no target first:
 * the file gets its name as a hard link of a hidden file, which stays until
 * the job is recorded finished and that is durable (settle). A crash
 * before: delivering again finds the delivery by that link. A crash after:
 * the next start settles and removes the job. One file, never two, and the
 * hidden one goes. */
static void test_deferred_delivery(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autofree char *dest = g_build_filename(fx->dir, "out", NULL);
  g_assert_cmpint(g_mkdir(dest, 0755), ==, 0);
  g_autoptr(ScandJob) job = assembled_job(fx, "out", dest);
  g_autofree char *id = g_strdup(scand_job_get_id(job));
  scand_job_defer_durability(job, TRUE);
  g_assert_cmpint(scand_job_run_deliver(job, NULL, NULL, &error), ==, SCAND_DELIVERY_DONE);
  g_assert_no_error(error);
  g_assert_cmpuint(count_files(dest, ".pdf"), ==, 1);
  g_assert_cmpuint(count_files(dest, ".part"), ==, 1);
  /* Left in the spool for its caller, done, with no recorded target. */
  g_assert_true(g_file_test(scand_job_get_dir(job), G_FILE_TEST_IS_DIR));
  g_assert_null(scand_job_get_delivery_state(job, 0, "target"));
  /* The crash came before the outcome was saved: */
  scand_job_set_destination_result(job, 0, SCAND_DEST_PENDING, NULL, &error);
  g_assert_no_error(error);
  g_clear_pointer(&job, scand_job_free);
  g_autoptr(ScandJob) back = scand_job_open(fx->spool, id, &error);
  g_assert_no_error(error);
  g_assert_cmpint(scand_job_get_destination_state(back, 0), !=, SCAND_DEST_DONE);
  /* delivered again, it finds its file by the link, and removes itself and
   * the hidden link. */
  g_assert_cmpint(scand_job_run_deliver(back, NULL, NULL, &error), ==, SCAND_DELIVERY_DONE);
  g_assert_no_error(error);
  g_assert_cmpuint(count_files(dest, NULL), ==, 1);
  g_auto(GStrv) left = scand_spool_list_jobs(fx->spool, &error);
  g_assert_cmpuint(g_strv_length(left), ==, 0);
  /* A crash after the job was recorded finished, before settle: the next
   * start settles and removes it. */
  g_autoptr(ScandJob) next = assembled_job(fx, "out", dest);
  scand_job_defer_durability(next, TRUE);
  g_assert_cmpint(scand_job_run_deliver(next, NULL, NULL, &error), ==, SCAND_DELIVERY_DONE);
  g_assert_no_error(error);
  g_assert_true(scand_job_finish_deferred(next, &error));
  g_assert_cmpuint(count_files(dest, ".part"), ==, 1);
  g_clear_pointer(&next, scand_job_free);
  g_auto(GStrv) none = scand_spool_list_jobs(fx->spool, &error);
  g_assert_cmpuint(g_strv_length(none), ==, 0);
  g_auto(GStrv) finished = scand_spool_list_finished(fx->spool);
  g_assert_cmpuint(g_strv_length(finished), ==, 1);
  g_assert_cmpuint(scand_spool_resume_all(fx->spool, NULL, TRUE, NULL, NULL), ==, 0);
  g_auto(GStrv) settled = scand_spool_list_finished(fx->spool);
  g_assert_cmpuint(g_strv_length(settled), ==, 0);
  g_assert_cmpuint(count_files(dest, ".part"), ==, 0);
  g_assert_cmpuint(count_files(dest, ".pdf"), ==, 2);
  /* The group commit's own end: settled once durable, then removed. */
  g_autoptr(ScandJob) third = assembled_job(fx, "out", dest);
  scand_job_defer_durability(third, TRUE);
  g_assert_cmpint(scand_job_run_deliver(third, NULL, NULL, &error), ==, SCAND_DELIVERY_DONE);
  g_assert_cmpuint(count_files(dest, ".part"), ==, 1);
  g_assert_true(scand_job_finish_deferred(third, &error));
  scand_job_defer_durability(third, FALSE);
  scand_job_run_settle(third);
  g_assert_true(scand_job_remove_finished(third, &error));
  g_assert_cmpuint(count_files(dest, ".part"), ==, 0);
  g_assert_cmpuint(count_files(dest, ".pdf"), ==, 3);
}

static void test_retry_policy(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) empty = scand_config_new_empty();
  ScandRetryPolicy p;
  g_assert_true(scand_retry_policy_from_config(empty, &p, &error));
  g_assert_cmpint(p.min_seconds, ==, 30);
  g_assert_cmpint(p.max_seconds, ==, 3600);
  g_assert_cmpint(p.max_age_seconds, ==, 7 * 24 * 3600);
  const char text[] = "[scand]\nretry-min = 10s\nretry-max = 40\n";
  g_autoptr(ScandConfig) config = scand_config_load_data(text, sizeof text - 1, "r.conf", &error);
  g_assert_no_error(error);
  g_assert_true(scand_retry_policy_from_config(config, &p, &error));
  g_assert_cmpint(p.min_seconds, ==, 10);
  g_assert_cmpint(p.max_seconds, ==, 40);
  for (guint i = 0; i < 50; i++) {
    gint64 first = scand_retry_policy_delay(&p, 1, 0), third = scand_retry_policy_delay(&p, 3, 0);
    gint64 tenth = scand_retry_policy_delay(&p, 10, 0);
    g_assert_cmpint(first, >=, 8);
    g_assert_cmpint(first, <=, 12);
    g_assert_cmpint(third, >=, 32);
    g_assert_cmpint(third, <=, 48);
    g_assert_cmpint(tenth, <=, 48);
  }
  g_assert_cmpint(scand_retry_policy_delay(&p, 3, 600), ==, 600);
  g_assert_false(scand_retry_policy_expired(&p, 0, 100));
  const char bad[] = "[scand]\nretry-max = soon\n";
  g_autoptr(ScandConfig) broken = scand_config_load_data(bad, sizeof bad - 1, "b.conf", &error);
  g_assert_false(scand_retry_policy_from_config(broken, &p, &error));
  g_assert_nonnull(strstr(error->message, "b.conf:2: [scand] retry-max"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD("/job/lock", test_lock);
  ADD("/job/pages-unknown-height", test_pages_unknown_height);
  ADD("/job/jam-keeps-pages", test_jam_keeps_pages);
  ADD("/job/jam-first-page", test_jam_first_page);
  ADD("/job/resume-scanning", test_resume_scanning);
  ADD("/job/retry-queued", test_retry_queued);
  ADD("/job/fallback-policy", test_fallback_policy);
  ADD("/job/no-fallback-without-rule", test_no_fallback_without_rule);
  ADD("/job/retry-max-age", test_retry_max_age);
  g_test_add_func("/job/retry-policy", test_retry_policy);
  ADD("/job/facts", test_facts);
  ADD("/job/staged", test_staged);
  ADD("/job/deferred-delivery", test_deferred_delivery);
  return g_test_run();
}
