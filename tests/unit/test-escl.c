/* The eSCL backend against the project's simulator (tests/escl-sim): every
 * test starts its own simulator, scans through scand_scanner_open/start/
 * read_page into an in-memory sink and checks pages and the simulator's
 * request log.
 *
 * The whole program runs in a network namespace of its own (it needs root,
 * as CI has), so that a device on the default port 80 can be imitated. */
#include "backends/backend.h"
#include "backends/escl-private.h"
#include "backends/escl.h"
#include "scand/base/error.h"

#include <curl/curl.h>
#include <net/if.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- in-memory page sink -------------------------------------------------- */

typedef struct {
  ScandPageSink sink;
  GPtrArray *pages; /* GByteArray* of complete pages */
  GArray *formats;  /* ScandPageFormat per page */
  GByteArray *cur;
  ScandPageHeader header;
  guint begins, ends, aborts, writes;
} MemSink;

static gboolean mem_begin(ScandPageSink *sink, const ScandPageHeader *header, GError **error) {
  MemSink *m = (MemSink *) sink;
  g_assert_null(m->cur);
  m->cur = g_byte_array_new();
  m->header = *header;
  m->begins++;
  return TRUE;
}

static gboolean mem_write(ScandPageSink *sink, const void *data, gsize len, GError **error) {
  MemSink *m = (MemSink *) sink;
  g_assert_nonnull(m->cur);
  g_byte_array_append(m->cur, data, len);
  m->writes++;
  return TRUE;
}

static gboolean mem_end(ScandPageSink *sink, GError **error) {
  MemSink *m = (MemSink *) sink;
  g_assert_nonnull(m->cur);
  g_ptr_array_add(m->pages, g_steal_pointer(&m->cur));
  g_array_append_val(m->formats, m->header.format);
  m->ends++;
  return TRUE;
}

static void mem_abort(ScandPageSink *sink) {
  MemSink *m = (MemSink *) sink;
  g_assert_nonnull(m->cur);
  g_clear_pointer(&m->cur, g_byte_array_unref);
  m->aborts++;
}

static void mem_sink_init(MemSink *m) {
  memset(m, 0, sizeof *m);
  m->sink = (ScandPageSink){ mem_begin, mem_write, mem_end, mem_abort };
  m->pages = g_ptr_array_new_with_free_func((GDestroyNotify) g_byte_array_unref);
  m->formats = g_array_new(FALSE, FALSE, sizeof(ScandPageFormat));
}

static void mem_sink_clear(MemSink *m) {
  g_ptr_array_unref(m->pages);
  g_array_unref(m->formats);
  if (m->cur)
    g_byte_array_unref(m->cur);
}

/* "page=N side=S" from the simulator's identity comment in page i. */
static int page_number(MemSink *m, guint i, char side[8]) {
  GByteArray *b = g_ptr_array_index(m->pages, i);
  const char *tag = "escl-sim job=";
  for (gsize off = 0; off + strlen(tag) < b->len; off++) {
    if (memcmp(b->data + off, tag, strlen(tag)) != 0)
      continue;
    g_autofree char *s = g_strndup((const char *) b->data + off, MIN(120, b->len - off));
    const char *p = strstr(s, "page=");
    const char *sd = strstr(s, "side=");
    g_assert_nonnull(p);
    if (side && sd) {
      guint n = 0;
      for (const char *c = sd + 5; n < 7 && g_ascii_isalpha(*c); c++)
        side[n++] = *c;
      side[n] = '\0';
    }
    return atoi(p + 5);
  }
  g_error("page %u carries no escl-sim identity", i);
  return -1;
}

static void assert_complete_jpeg(MemSink *m, guint i) {
  GByteArray *b = g_ptr_array_index(m->pages, i);
  g_assert_cmpuint(b->len, >, 100);
  g_assert_cmphex(b->data[0], ==, 0xFF);
  g_assert_cmphex(b->data[1], ==, 0xD8);
  g_assert_cmphex(b->data[b->len - 2], ==, 0xFF);
  g_assert_cmphex(b->data[b->len - 1], ==, 0xD9);
  g_assert_cmpint(g_array_index(m->formats, ScandPageFormat, i), ==, SCAND_PAGE_JPEG);
}

#include "escl-sim-helper.h"

/* ---- driving the backend ---------------------------------------------------- */

static const char *const fast_retries[] = { "escl-backoff-ms=20", "escl-backoff-max-ms=200", NULL };

typedef struct {
  ScandScanSettings settings;
  ScandScanSettings effective;
  const char *pin;
  GError *open_error;
  GError *start_error;
  GError *read_error;
  guint calls_after_end;
} Run;

static void run_clear(Run *r) {
  g_clear_error(&r->open_error);
  g_clear_error(&r->start_error);
  g_clear_error(&r->read_error);
}

/* Opens, starts and reads until the end of the job or an error. */
static void scan(Sim *sim, Run *r, MemSink *m) {
  ScandOpenOptions options = { .tls_pin = r->pin };
  if (!r->settings.extra_options)
    r->settings.extra_options = (GStrv) fast_retries;
  g_autoptr(ScandScanner) scanner = scand_scanner_open(sim->uri, &options, &r->open_error);
  if (!scanner)
    return;
  g_assert_cmpstr(scand_scanner_get_uri(scanner), ==, sim->uri);
  g_assert_cmpstr(scand_scanner_get_name(scanner), ==, "127.0.0.1");
  if (!scand_scanner_start(scanner, &r->settings, &r->effective, &r->start_error))
    return;
  for (guint i = 0; i < 200; i++) {
    gboolean got = FALSE;
    if (!scand_scanner_read_page(scanner, &m->sink, &got, &r->read_error)) {
      g_assert_false(got);
      return;
    }
    if (!got) {
      /* the end is sticky */
      g_assert_true(scand_scanner_read_page(scanner, &m->sink, &got, NULL));
      g_assert_false(got);
      return;
    }
  }
  g_error("job did not end");
}

static void assert_one_line(const GError *error) {
  g_assert_nonnull(error);
  g_assert_null(strchr(error->message, '\n'));
}

static void assert_pages_in_order(MemSink *m, guint n) {
  g_assert_cmpuint(m->pages->len, ==, n);
  for (guint i = 0; i < n; i++) {
    assert_complete_jpeg(m, i);
    g_assert_cmpint(page_number(m, i, NULL), ==, (int) i + 1);
  }
}

/* ---- tests ------------------------------------------------------------------ */

static void test_feeder_20(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "20");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER, .mode = SCAND_MODE_GRAY, .resolution = 150 } };
  scan(sim, &r, &m);
  g_assert_no_error(r.open_error);
  g_assert_no_error(r.start_error);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 20);
  g_assert_cmpuint(m.aborts, ==, 0);
  /* streamed in pieces, not in one buffer */
  g_assert_cmpuint(m.writes, >, 20);
  g_assert_cmpint(m.header.xres, ==, 150);
  g_assert_cmpint(r.effective.source, ==, SCAND_SOURCE_FEEDER);
  g_assert_cmpint(r.effective.resolution, ==, 150);
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log_count(log, "POST", "/eSCL/ScanJobs", 201), ==, 1);
  g_assert_cmpuint(log_count(log, "GET", "/NextDocument", 200), ==, 20);
  g_assert_cmpuint(log_count(log, "GET", "/NextDocument", 404), ==, 1);
  g_assert_cmpuint(log_count(log, "DELETE", "", 0), ==, 0);
  g_autofree char *state = sim_http(sim, "GET", "/sim/state", NULL);
  g_assert_nonnull(strstr(state, "\"color_mode\": \"Grayscale8\""));
  g_assert_nonnull(strstr(state, "\"resolution\": 150"));
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_duplex(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "3");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER, .duplex = TRUE } };
  scan(sim, &r, &m);
  g_assert_no_error(r.read_error);
  g_assert_true(r.effective.duplex);
  assert_pages_in_order(&m, 6);
  for (guint i = 0; i < 6; i++) {
    char side[8] = "";
    page_number(&m, i, side);
    g_assert_cmpstr(side, ==, i % 2 ? "back" : "front");
  }
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_platen(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "3");
  MemSink m;
  mem_sink_init(&m);
  /* A5 region at 10 mm offset */
  Run r = { .settings = { .source = SCAND_SOURCE_FLATBED,
                          .mode = SCAND_MODE_COLOR,
                          .resolution = 100,
                          .x = 10,
                          .y = 10,
                          .width = 148,
                          .height = 210 } };
  scan(sim, &r, &m);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 1);
  g_assert_cmpint(r.effective.resolution, ==, 75); /* 75/150/300/600: 100 is nearest 75 */
  g_autofree char *state = sim_http(sim, "GET", "/sim/state", NULL);
  g_assert_nonnull(strstr(state, "\"source\": \"Platen\""));
  g_assert_nonnull(strstr(state, "\"width\": 437")); /* 148 mm = 1748/300 in, at 75 dpi */
  g_assert_nonnull(strstr(state, "\"height\": 620"));
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_storm(gconstpointer data) {
  gboolean retry_after = GPOINTER_TO_INT(data);
  Sim *sim = sim_start(FALSE, "--adf-pages", "2", "--fault", retry_after ? "storm=2/1" : "storm=6");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 2);
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log_count(log, "GET", "/NextDocument", 503), ==, retry_after ? 2 : 6);
  if (retry_after) {
    /* the next request waited at least the second the device asked for */
    for (guint i = 0; i + 1 < log->len; i++) {
      LogEntry *e = &g_array_index(log, LogEntry, i);
      if (e->status == 503)
        g_assert_cmpfloat(g_array_index(log, LogEntry, i + 1).time - e->time, >=, 0.9);
    }
  }
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_storm_exhausted(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "2", "--fault", "storm=50");
  MemSink m;
  mem_sink_init(&m);
  const char *const opts[] = { "escl-retries=3", "escl-backoff-ms=10", NULL };
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER, .extra_options = (GStrv) opts } };
  scan(sim, &r, &m);
  g_assert_error(r.read_error, SCAND_ERROR, SCAND_ERROR_BUSY);
  assert_one_line(r.read_error);
  g_assert_cmpuint(m.pages->len, ==, 0);
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log_count(log, "GET", "/NextDocument", 503), ==, 4);
  g_assert_cmpuint(log_count(log, "DELETE", "", 0), ==, 1);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_storm_jobs(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "1", "--fault", "storm-jobs=3");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_no_error(r.start_error);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 1);
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log_count(log, "POST", "/ScanJobs", 503), ==, 3);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_end_after(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "5", "--fault", "end-after=2");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 2);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_jam(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "5", "--fault", "jam-after=3");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_error(r.read_error, SCAND_ERROR, SCAND_ERROR_JAMMED);
  assert_one_line(r.read_error);
  g_assert_nonnull(strstr(r.read_error->message, "page 4"));
  g_assert_nonnull(strstr(r.read_error->message, "3 pages received and kept"));
  assert_pages_in_order(&m, 3);

  /* the feeder now reports the jam: a new job is refused before it starts */
  ScandEsclStatus st;
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_escl_get_status(sim->uri, NULL, &st, &error));
  g_assert_cmpint(st.adf_state, ==, SCAND_ESCL_ADF_JAM);
  g_assert_cmpint(st.state, ==, SCAND_DEVICE_STOPPED);
  g_assert_cmpuint(st.jobs->len, ==, 1);
  g_assert_cmpstr(g_array_index(st.jobs, ScandEsclJob, 0).state, ==, "Aborted");
  scand_escl_status_clear(&st);
  MemSink m2;
  mem_sink_init(&m2);
  Run r2 = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r2, &m2);
  g_assert_error(r2.start_error, SCAND_ERROR, SCAND_ERROR_JAMMED);
  mem_sink_clear(&m2);
  run_clear(&r2);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_drop_retried(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "3", "--fault", "drop=2");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 3);
  g_assert_cmpuint(m.aborts, ==, 1);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_drop_always(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "3", "--fault", "drop-always=2");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_error(r.read_error, SCAND_ERROR, SCAND_ERROR_IO);
  assert_one_line(r.read_error);
  g_assert_nonnull(strstr(r.read_error->message, "connection lost while receiving page 2"));
  g_assert_nonnull(strstr(r.read_error->message, "1 page kept"));
  assert_pages_in_order(&m, 1);
  g_assert_null(m.cur);
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log_count(log, "DELETE", "", 0), ==, 1);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_slow(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "2", "--fault", "slow=400", "--fault", "trickle=5");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER, .resolution = 300 } };
  scan(sim, &r, &m);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 2);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_location(gconstpointer data) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "2", "--ipv6", "--fault", data);
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_no_error(r.start_error);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 2);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_ipv6_device(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "1", "--ipv6", "--fault", "location-ipv6-broken");
  g_free(sim->uri);
  sim->uri = g_strdup_printf("escl:http://[::1]:%d/eSCL", sim->port);
  ScandOpenOptions options = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandScanner) scanner = scand_scanner_open(sim->uri, &options, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(scand_scanner_get_name(scanner), ==, "::1");
  ScandScanSettings s = { .source = SCAND_SOURCE_FEEDER };
  g_assert_true(scand_scanner_start(scanner, &s, NULL, &error));
  MemSink m;
  mem_sink_init(&m);
  gboolean got = FALSE;
  g_assert_true(scand_scanner_read_page(scanner, &m.sink, &got, &error));
  g_assert_no_error(error);
  g_assert_true(got);
  assert_pages_in_order(&m, 1);
  mem_sink_clear(&m);
  sim_stop(sim);
}

static void test_feeder_empty(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "0");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_error(r.start_error, SCAND_ERROR, SCAND_ERROR_NO_DOCS);
  assert_one_line(r.start_error);
  g_assert_nonnull(strstr(r.start_error->message, sim->uri));
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log_count(log, "POST", "/ScanJobs", 0), ==, 0); /* checked before asking */
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_hatch_open(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "2");
  sim_control(sim, "{\"adf_state\": \"ScannerAdfHatchOpen\"}");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_error(r.start_error, SCAND_ERROR, SCAND_ERROR_COVER_OPEN);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_cancel(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "5");
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandScanner) scanner = scand_scanner_open(sim->uri, NULL, &error);
  g_assert_no_error(error);
  ScandScanSettings s = { .source = SCAND_SOURCE_FEEDER };
  g_assert_true(scand_scanner_start(scanner, &s, NULL, &error));
  MemSink m;
  mem_sink_init(&m);
  gboolean got = FALSE;
  g_assert_true(scand_scanner_read_page(scanner, &m.sink, &got, &error));
  g_assert_true(got);
  scand_scanner_cancel(scanner);
  g_assert_false(scand_scanner_read_page(scanner, &m.sink, &got, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED);
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log_count(log, "DELETE", "", 200), ==, 1);
  g_autofree char *state = sim_http(sim, "GET", "/sim/state", NULL);
  g_assert_nonnull(strstr(state, "\"state\": \"Canceled\""));
  mem_sink_clear(&m);
  sim_stop(sim);
}

/* A 409 mid-job is explained by the feeder state the device reports then. */
static void conflict_case(const char *adf_state, int want_code) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "4", "--fault", "jam-after=1");
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandScanner) scanner = scand_scanner_open(sim->uri, NULL, &error);
  g_assert_no_error(error);
  ScandScanSettings s = { .source = SCAND_SOURCE_FEEDER };
  g_assert_true(scand_scanner_start(scanner, &s, NULL, &error));
  MemSink m;
  mem_sink_init(&m);
  gboolean got = FALSE;
  g_assert_true(scand_scanner_read_page(scanner, &m.sink, &got, &error));
  g_assert_true(got);
  g_autofree char *control = g_strdup_printf("{\"adf_state\": \"%s\"}", adf_state);
  sim_control(sim, control);
  gboolean ok = scand_scanner_read_page(scanner, &m.sink, &got, &error);
  g_assert_false(got);
  if (want_code < 0) {
    /* empty after pages: the normal end of the job */
    g_assert_no_error(error);
    g_assert_true(ok);
  } else {
    g_assert_false(ok);
    g_assert_error(error, SCAND_ERROR, want_code);
    assert_one_line(error);
  }
  assert_pages_in_order(&m, 1);
  mem_sink_clear(&m);
  sim_stop(sim);
}

static void test_conflict_hatch_open(void) {
  conflict_case("ScannerAdfHatchOpen", SCAND_ERROR_COVER_OPEN);
}

static void test_conflict_mispick(void) {
  conflict_case("ScannerAdfMispick", SCAND_ERROR_JAMMED);
}

static void test_conflict_empty_after_pages(void) {
  conflict_case("ScannerAdfEmpty", -1);
}

static gpointer cancel_later(gpointer data) {
  g_usleep(300000);
  scand_scanner_cancel(data);
  return NULL;
}

/* Cancel from another thread while a slow page is being waited for. */
static void test_cancel_from_thread(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "3", "--fault", "slow=20000");
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandScanner) scanner = scand_scanner_open(sim->uri, NULL, &error);
  g_assert_no_error(error);
  ScandScanSettings s = { .source = SCAND_SOURCE_FEEDER };
  g_assert_true(scand_scanner_start(scanner, &s, NULL, &error));
  MemSink m;
  mem_sink_init(&m);
  GThread *t = g_thread_new("cancel", cancel_later, scanner);
  gboolean got = FALSE;
  g_assert_false(scand_scanner_read_page(scanner, &m.sink, &got, &error));
  g_thread_join(t);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED);
  g_assert_cmpuint(m.pages->len, ==, 0);
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log_count(log, "DELETE", "", 200), ==, 1);
  g_autofree char *state = sim_http(sim, "GET", "/sim/state", NULL);
  g_assert_nonnull(strstr(state, "\"state\": \"Canceled\""));
  mem_sink_clear(&m);
  sim_stop(sim);
}

static void test_max_pages(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "5");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER, .max_pages = 2 } };
  scan(sim, &r, &m);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 2);
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log_count(log, "DELETE", "", 200), ==, 1);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_interrupted_platen_deleted(void) {
  Sim *sim = sim_start(FALSE, "--fault", "drop-always=1");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FLATBED } };
  scan(sim, &r, &m);
  g_assert_error(r.read_error, SCAND_ERROR, SCAND_ERROR_IO);
  g_assert_cmpuint(m.pages->len, ==, 0);
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log_count(log, "DELETE", "", 200), ==, 1);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_malformed_caps(void) {
  Sim *sim = sim_start(FALSE, "--fault", "bad-caps");
  MemSink m;
  mem_sink_init(&m);
  Run r = { 0 };
  scan(sim, &r, &m);
  g_assert_error(r.open_error, SCAND_ERROR, SCAND_ERROR_INVAL);
  assert_one_line(r.open_error);
  g_assert_true(g_str_has_prefix(r.open_error->message, sim->uri));
  g_assert_nonnull(strstr(r.open_error->message, "ScannerCapabilities"));
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_png_only(void) {
  Sim *sim = sim_start(FALSE, "--model", "png-only", "--adf-pages", "2");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_no_error(r.read_error);
  g_assert_cmpuint(m.pages->len, ==, 2);
  for (guint i = 0; i < 2; i++) {
    GByteArray *b = g_ptr_array_index(m.pages, i);
    g_assert_cmpmem(b->data, 8, "\x89PNG\r\n\x1a\n", 8);
    g_assert_cmpint(g_array_index(m.formats, ScandPageFormat, i), ==, SCAND_PAGE_PNG);
    g_assert_cmpint(page_number(&m, i, NULL), ==, (int) i + 1);
  }
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_pdf_only(void) {
  Sim *sim = sim_start(FALSE, "--model", "pdf-only", "--adf-pages", "2");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  /* PDF pages come through as they are, to be merged into the document. */
  g_assert_no_error(r.start_error);
  g_assert_cmpuint(m.pages->len, ==, 2);
  for (guint i = 0; i < m.pages->len; i++) {
    GByteArray *page = m.pages->pdata[i];
    g_assert_cmpint(g_array_index(m.formats, ScandPageFormat, i), ==, SCAND_PAGE_PDF);
    g_assert_true(page->len > 5 && memcmp(page->data, "%PDF-", 5) == 0);
  }
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

/* ---- HTTPS -------------------------------------------------------------------- */

static char *cert_fingerprint(const char *pem_path) {
  FILE *f = fopen(pem_path, "r");
  g_assert_nonnull(f);
  X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  g_assert_nonnull(x);
  guint8 d[32];
  unsigned int len = 0;
  g_assert_true(X509_digest(x, EVP_sha256(), d, &len));
  X509_free(x);
  return scand_http_fingerprint_format(d);
}

static void test_https_pinned(void) {
  Sim *sim = sim_start(TRUE, "--adf-pages", "2");
  g_autofree char *fp = cert_fingerprint(sim->cert);
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER }, .pin = fp };
  scan(sim, &r, &m);
  g_assert_no_error(r.open_error);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 2);

  /* what `scand trust` shows */
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandEsclCertificate) cert = scand_escl_fetch_certificate(sim->uri, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(cert->fingerprint, ==, fp);
  g_assert_nonnull(strstr(cert->subject, "CN=localhost"));
  g_assert_false(cert->trusted_by_ca);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_https_unpinned_refused(void) {
  Sim *sim = sim_start(TRUE, "--adf-pages", "2");
  g_autofree char *fp = cert_fingerprint(sim->cert);
  MemSink m;
  mem_sink_init(&m);
  Run r = { 0 };
  scan(sim, &r, &m);
  g_assert_error(r.open_error, SCAND_ERROR, SCAND_ERROR_DENIED);
  assert_one_line(r.open_error);
  g_assert_nonnull(strstr(r.open_error->message, fp));
  g_assert_nonnull(strstr(r.open_error->message, "scand trust"));
  /* nothing reached the device */
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log->len, ==, 0);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_https_changed_refused(void) {
  Sim *sim = sim_start(TRUE, "--adf-pages", "2");
  g_autofree char *fp = cert_fingerprint(sim->cert);
  const char *old =
      "sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
  MemSink m;
  mem_sink_init(&m);
  Run r = { .pin = old };
  scan(sim, &r, &m);
  g_assert_error(r.open_error, SCAND_ERROR, SCAND_ERROR_DENIED);
  assert_one_line(r.open_error);
  g_assert_nonnull(strstr(r.open_error->message, fp));
  g_assert_nonnull(strstr(r.open_error->message, old));
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log->len, ==, 0);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

/* ---- quirks ------------------------------------------------------------------- */

static void test_quirk_hp_localhost(void) {
  Sim *sim = sim_start(FALSE, "--model", "hp", "--strict-host", "--adf-pages", "2");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_no_error(r.open_error);
  g_assert_no_error(r.start_error);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 2);
  g_autoptr(GArray) log = sim_log(sim);
  for (guint i = 0; i < log->len; i++) {
    LogEntry *e = &g_array_index(log, LogEntry, i);
    if (strcmp(e->method, "POST") == 0)
      g_assert_cmpstr(e->host, ==, "localhost");
  }
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_quirk_epson_port(void) {
  /* Port 80 is free in this test's own network namespace. */
  const char *const args[] = { "--model", "epson", "--strict-host", "--adf-pages", "2", NULL };
  Sim *sim = sim_start_v(FALSE, 80, args);
  g_assert_cmpint(sim->port, ==, 80);
  g_assert_cmpstr(sim->uri, ==, "escl:http://127.0.0.1/eSCL");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER, .resolution = 310 } };
  scan(sim, &r, &m);
  g_assert_no_error(r.open_error);
  g_assert_no_error(r.start_error);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 2);
  g_assert_cmpint(r.effective.resolution, ==, 310); /* range with step 1 */
  g_autoptr(GArray) log = sim_log(sim);
  /* The first request cannot know the device yet: its 400 carries the
   * Epson Server header, and everything from the retry on has the port. */
  g_assert_cmpuint(log->len, >, 3);
  g_assert_cmpstr(g_array_index(log, LogEntry, 0).host, ==, "127.0.0.1");
  g_assert_cmpint(g_array_index(log, LogEntry, 0).status, ==, 400);
  for (guint i = 1; i < log->len; i++) {
    g_assert_cmpstr(g_array_index(log, LogEntry, i).host, ==, "127.0.0.1:80");
    g_assert_cmpint(g_array_index(log, LogEntry, i).status, !=, 400);
  }
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_quirk_brother_delay(void) {
  Sim *sim = sim_start(FALSE, "--model", "brother", "--adf-pages", "3");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 3);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_quirk_xerox_404_410(void) {
  Sim *sim = sim_start(FALSE, "--model", "xerox-b205", "--adf-pages", "3");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_no_error(r.read_error);
  assert_pages_in_order(&m, 3);
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log_count(log, "GET", "/NextDocument", 410), ==, 3);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_quirk_jam_when_empty(void) {
  Sim *sim = sim_start(FALSE, "--model", "jam-when-empty", "--adf-pages", "0");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r, &m);
  g_assert_error(r.start_error, SCAND_ERROR, SCAND_ERROR_NO_DOCS);
  /* and a loaded feeder still scans */
  sim_control(sim, "{\"adf_pages\": 2}");
  MemSink m2;
  mem_sink_init(&m2);
  Run r2 = { .settings = { .source = SCAND_SOURCE_FEEDER } };
  scan(sim, &r2, &m2);
  g_assert_no_error(r2.read_error);
  assert_pages_in_order(&m2, 2);
  mem_sink_clear(&m2);
  run_clear(&r2);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_quirk_overadvertise(void) {
  Sim *sim = sim_start(FALSE, "--model", "overadvertise", "--adf-pages", "1");
  MemSink m;
  mem_sink_init(&m);
  Run r = { .settings = { .source = SCAND_SOURCE_FEEDER, .resolution = 2400 } };
  scan(sim, &r, &m);
  g_assert_no_error(r.read_error);
  g_assert_cmpint(r.effective.resolution, ==, 600);
  assert_pages_in_order(&m, 1);
  g_assert_cmpint(m.header.xres, ==, 600);
  mem_sink_clear(&m);
  run_clear(&r);
  sim_stop(sim);
}

static void test_status(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "2");
  ScandEsclStatus st;
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_escl_get_status(sim->uri, NULL, &st, &error));
  g_assert_cmpint(st.state, ==, SCAND_DEVICE_IDLE);
  g_assert_cmpint(st.adf_state, ==, SCAND_ESCL_ADF_LOADED);
  scand_escl_status_clear(&st);
  sim_control(sim, "{\"fault\": \"busy\", \"adf_state\": \"ScannerAdfMispick\"}");
  g_assert_true(scand_escl_get_status(sim->uri, NULL, &st, &error));
  g_assert_cmpint(st.state, ==, SCAND_DEVICE_PROCESSING);
  g_assert_cmpint(st.adf_state, ==, SCAND_ESCL_ADF_MISPICK);
  scand_escl_status_clear(&st);
  /* no device there */
  g_autofree char *gone = g_strdup_printf("escl:http://127.0.0.1:%d/eSCL", sim->port);
  sim_stop(sim);
  g_assert_false(scand_escl_get_status(gone, NULL, &st, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(scand_escl_get_status("escl:ftp://x/eSCL", NULL, &st, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

/* ---- the status poll on a main loop ---- */

typedef struct {
  gboolean done;
  ScandStatusPollResult result;
  ScandDeviceStatus status;
  GError *error;
} Polled;

static void polled(ScandStatusPollResult result, const ScandDeviceStatus *status, const GError *error, gpointer user) {
  Polled *p = user;
  g_assert_false(p->done);
  p->done = TRUE;
  p->result = result;
  if (status)
    p->status = *status;
  p->error = error ? g_error_copy(error) : NULL;
  g_assert_true((result == SCAND_STATUS_POLL_FAILED) == (error != NULL));
  g_assert_true((result == SCAND_STATUS_POLL_OK) == (status != NULL));
}

/* One poll on this thread's context, run to its end. */
static void poll_once_pinned(ScandHttpLoop *loop, const char *uri, const char *pin, Polled *p) {
  memset(p, 0, sizeof *p);
  ScandOpenOptions options = { .tls_pin = pin };
  g_assert_true(scand_device_poll_status(uri, &options, loop, polled, p));
  g_assert_false(p->done); /* never from within the call */
  gint64 until = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
  while (!p->done && g_get_monotonic_time() < until)
    g_main_context_iteration(NULL, TRUE);
  g_assert_true(p->done);
}

static void poll_once(ScandHttpLoop *loop, const char *uri, Polled *p) {
  poll_once_pinned(loop, uri, NULL, p);
}

/* A 200 is decoded on the loop; what only the blocking poll handles (a Host
 * quirk's 400) is handed back to it; failures say why as it would. */
static void test_poll_status(void) {
  g_autoptr(ScandHttpLoop) loop = scand_http_loop_new(NULL, NULL);
  Polled p;
  Sim *sim = sim_start(FALSE, "--adf-pages", "2");
  poll_once(loop, sim->uri, &p);
  g_assert_cmpint(p.result, ==, SCAND_STATUS_POLL_OK);
  g_assert_cmpint(p.status.state, ==, SCAND_DEVICE_IDLE);
  g_assert_cmpint(p.status.feeder, ==, SCAND_FEEDER_LOADED);
  sim_control(sim, "{\"fault\": \"busy\", \"adf_state\": \"ScannerAdfJam\"}");
  poll_once(loop, sim->uri, &p);
  g_assert_cmpint(p.result, ==, SCAND_STATUS_POLL_OK);
  g_assert_cmpint(p.status.state, ==, SCAND_DEVICE_PROCESSING);
  g_assert_cmpint(p.status.feeder, ==, SCAND_FEEDER_PROBLEM);
  sim_control(sim, "{\"fault\": \"bloated-status\"}");
  poll_once(loop, sim->uri, &p);
  g_assert_cmpint(p.result, ==, SCAND_STATUS_POLL_FAILED);
  g_assert_error(p.error, SCAND_ERROR, SCAND_ERROR_IO);
  g_assert_nonnull(strstr(p.error->message, "larger than"));
  g_clear_error(&p.error);
  g_autofree char *gone = g_strdup(sim->uri);
  sim_stop(sim);
  poll_once(loop, gone, &p);
  g_assert_cmpint(p.result, ==, SCAND_STATUS_POLL_FAILED);
  g_assert_error(p.error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(p.error->message, "escl:http://127.0.0.1:"));
  g_clear_error(&p.error);
  /* Not a URI a request can be made of: nothing starts. */
  g_assert_false(scand_device_poll_status("escl:ftp://x/eSCL", NULL, loop, polled, &p));
  /* An Epson on port 80 refuses a Host without the port before scand knows it. */
  const char *const args[] = { "--model", "epson", "--strict-host", "--adf-pages", "2", NULL };
  sim = sim_start_v(FALSE, 80, args);
  poll_once(loop, sim->uri, &p);
  g_assert_cmpint(p.result, ==, SCAND_STATUS_POLL_ASK_AGAIN);
  ScandDeviceStatus st;
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_device_get_status(sim->uri, NULL, &st, &error));
  g_assert_no_error(error);
  g_assert_cmpint(st.feeder, ==, SCAND_FEEDER_LOADED);
  sim_stop(sim);
}

/* TLS on the loop as in the blocking poll: the pinned certificate only, and
 * an unpinned one refused before any request, naming `scand trust`. */
static void test_poll_status_https(void) {
  g_autoptr(ScandHttpLoop) loop = scand_http_loop_new(NULL, NULL);
  Sim *sim = sim_start(TRUE, "--adf-pages", "2");
  g_autofree char *fp = cert_fingerprint(sim->cert);
  Polled p;
  poll_once(loop, sim->uri, &p);
  g_assert_cmpint(p.result, ==, SCAND_STATUS_POLL_FAILED);
  g_assert_error(p.error, SCAND_ERROR, SCAND_ERROR_DENIED);
  g_assert_nonnull(strstr(p.error->message, fp));
  g_assert_nonnull(strstr(p.error->message, "scand trust"));
  g_clear_error(&p.error);
  g_autoptr(GArray) log = sim_log(sim);
  g_assert_cmpuint(log->len, ==, 0);
  poll_once_pinned(loop, sim->uri, fp, &p);
  g_assert_cmpint(p.result, ==, SCAND_STATUS_POLL_OK);
  g_assert_cmpint(p.status.feeder, ==, SCAND_FEEDER_LOADED);
  sim_stop(sim);
}

/* Brings up lo in a fresh network namespace. */
static void enter_private_network(void) {
  if (unshare(CLONE_NEWNET) != 0)
    g_error("unshare(CLONE_NEWNET): %s (this test needs root, as in CI)", g_strerror(errno));
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq ifr = { 0 };
  g_strlcpy(ifr.ifr_name, "lo", IFNAMSIZ);
  g_assert_cmpint(ioctl(fd, SIOCGIFFLAGS, &ifr), ==, 0);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  g_assert_cmpint(ioctl(fd, SIOCSIFFLAGS, &ifr), ==, 0);
  close(fd);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  enter_private_network();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  g_test_add_func("/escl/feeder-20", test_feeder_20);
  g_test_add_func("/escl/duplex", test_duplex);
  g_test_add_func("/escl/platen", test_platen);
  g_test_add_data_func("/escl/storm/backoff", GINT_TO_POINTER(FALSE), test_storm);
  g_test_add_data_func("/escl/storm/retry-after", GINT_TO_POINTER(TRUE), test_storm);
  g_test_add_func("/escl/storm/exhausted", test_storm_exhausted);
  g_test_add_func("/escl/storm/scanjobs", test_storm_jobs);
  g_test_add_func("/escl/end-after", test_end_after);
  g_test_add_func("/escl/jam", test_jam);
  g_test_add_func("/escl/drop/retried", test_drop_retried);
  g_test_add_func("/escl/drop/always", test_drop_always);
  g_test_add_func("/escl/slow", test_slow);
  g_test_add_data_func("/escl/location/other-host", "location-host=192.0.2.7:9", test_location);
  g_test_add_data_func("/escl/location/ipv6-broken", "location-ipv6-broken", test_location);
  g_test_add_data_func("/escl/location/relative", "location-relative", test_location);
  g_test_add_func("/escl/location/ipv6-device", test_ipv6_device);
  g_test_add_func("/escl/feeder-empty", test_feeder_empty);
  g_test_add_func("/escl/hatch-open", test_hatch_open);
  g_test_add_func("/escl/cancel", test_cancel);
  g_test_add_func("/escl/max-pages", test_max_pages);
  g_test_add_func("/escl/conflict/hatch-open", test_conflict_hatch_open);
  g_test_add_func("/escl/conflict/mispick", test_conflict_mispick);
  g_test_add_func("/escl/conflict/empty-after-pages", test_conflict_empty_after_pages);
  g_test_add_func("/escl/cancel-from-thread", test_cancel_from_thread);
  g_test_add_func("/escl/interrupted-platen-deleted", test_interrupted_platen_deleted);
  g_test_add_func("/escl/malformed-caps", test_malformed_caps);
  g_test_add_func("/escl/png-only", test_png_only);
  g_test_add_func("/escl/pdf-only", test_pdf_only);
  g_test_add_func("/escl/https/pinned", test_https_pinned);
  g_test_add_func("/escl/https/unpinned-refused", test_https_unpinned_refused);
  g_test_add_func("/escl/https/changed-refused", test_https_changed_refused);
  g_test_add_func("/escl/quirk/hp-localhost", test_quirk_hp_localhost);
  g_test_add_func("/escl/quirk/epson-port", test_quirk_epson_port);
  g_test_add_func("/escl/quirk/brother-delay", test_quirk_brother_delay);
  g_test_add_func("/escl/quirk/xerox-404-410", test_quirk_xerox_404_410);
  g_test_add_func("/escl/quirk/jam-when-empty", test_quirk_jam_when_empty);
  g_test_add_func("/escl/quirk/overadvertise", test_quirk_overadvertise);
  g_test_add_func("/escl/status", test_status);
  g_test_add_func("/escl/poll-status", test_poll_status);
  g_test_add_func("/escl/poll-status/https", test_poll_status_https);
  return g_test_run();
}
