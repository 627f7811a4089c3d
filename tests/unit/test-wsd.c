/* The wsd backend through backends/backend.h against the project's WSD
 * simulator (tests/wsd-sim): the status entry of the driver table, and a
 * cancel from another thread while a page is on its way. */
#include "backends/backend.h"
#include "scand/base/error.h"

#include "escl-sim-helper.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

static void die_with_parent(gpointer data) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts tests/wsd-sim with args; the escl helper's control and stop work
 * on it (same control API). */
static Sim *wsd_sim_start(const char *const *args) {
  Sim *sim = g_new0(Sim, 1);
  g_autoptr(GError) error = NULL;
  sim->dir = g_dir_make_tmp("test-wsd-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *script = g_build_filename(g_getenv("SCAND_SRCDIR"), "tests", "wsd-sim", "wsd-sim.py", NULL);
  g_autofree char *port_file = g_build_filename(sim->dir, "port", NULL);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_strv_builder_add_many(b, "/usr/bin/python3", script, "--port-file", port_file, "--lifetime", "300", NULL);
  for (guint i = 0; args && args[i]; i++)
    g_strv_builder_add(b, args[i]);
  g_auto(GStrv) argv = g_strv_builder_end(b);
  g_assert_true(
      g_spawn_async(sim->dir, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL, &sim->pid, &error));
  for (int i = 0; i < 600 && !sim->port; i++) {
    g_autofree char *text = NULL;
    if (g_file_get_contents(port_file, &text, NULL, NULL) && *text)
      sim->port = atoi(text);
    else
      g_usleep(50000);
  }
  g_assert_cmpint(sim->port, >, 0);
  sim->http = g_strdup_printf("http://127.0.0.1:%d", sim->port);
  sim->uri = g_strdup_printf("wsd:http://127.0.0.1:%d/wsd/scan", sim->port);
  return sim;
}

static void test_abilities(void) {
  g_assert_cmpuint(scand_device_abilities("wsd:http://127.0.0.1:9/wsd/scan") & SCAND_DEVICE_CAN_STATUS, ==,
                   SCAND_DEVICE_CAN_STATUS);
}

static void expect(Sim *sim, ScandDeviceState state, ScandFeederState feeder, const char *word, int code) {
  ScandDeviceStatus st;
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_device_get_status(sim->uri, NULL, &st, &error));
  g_assert_no_error(error);
  g_assert_cmpint(st.state, ==, state);
  g_assert_cmpint(st.feeder, ==, feeder);
  g_assert_cmpstr(st.feeder_word, ==, word);
  if (code)
    g_assert_cmpint(st.problem_code, ==, code);
}

/* WS-Scan has no feeder sensor: what the scanner's state reasons say. */
static void test_status(void) {
  Sim *sim = wsd_sim_start(NULL);
  expect(sim, SCAND_DEVICE_IDLE, SCAND_FEEDER_UNKNOWN, "not reported", 0);
  sim_control(sim, "{\"fault\": \"busy\"}");
  expect(sim, SCAND_DEVICE_PROCESSING, SCAND_FEEDER_UNKNOWN, "not reported", 0);
  sim_control(sim, "{\"clear\": true, \"state\": \"Stopped\", \"reasons\": [\"MediaJam\"]}");
  expect(sim, SCAND_DEVICE_STOPPED, SCAND_FEEDER_PROBLEM, "jammed", SCAND_ERROR_JAMMED);
  sim_control(sim, "{\"clear\": true, \"fault\": \"cover-open\"}");
  expect(sim, SCAND_DEVICE_STOPPED, SCAND_FEEDER_PROBLEM, "cover open", SCAND_ERROR_COVER_OPEN);
  sim_stop(sim);
  ScandDeviceStatus st;
  g_autoptr(GError) error = NULL;
  g_assert_false(scand_device_get_status("wsd:http://127.0.0.1:9/wsd/scan", NULL, &st, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
}

/* A sink that keeps nothing. */
static gboolean null_begin(ScandPageSink *s, const ScandPageHeader *h, GError **e) {
  return TRUE;
}
static gboolean null_write(ScandPageSink *s, const void *d, gsize n, GError **e) {
  return TRUE;
}
static gboolean null_end(ScandPageSink *s, GError **e) {
  return TRUE;
}
static void null_abort(ScandPageSink *s) {
}

static gpointer cancel_later(gpointer scanner) {
  g_usleep(500000);
  scand_scanner_cancel(scanner);
  return NULL;
}

/* scand_scanner_cancel() from another thread ends a page that is slow to
 * come within a second, and the job is cancelled on the device. */
static void test_cancel(void) {
  Sim *sim = wsd_sim_start((const char *const[]){ "--adf-pages", "3", "--fault", "slow=20000", NULL });
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandScanner) s = scand_scanner_open(sim->uri, NULL, &error);
  g_assert_no_error(error);
  ScandScanSettings settings = { .source = SCAND_SOURCE_FEEDER, .resolution = 75 };
  g_assert_true(scand_scanner_start(s, &settings, NULL, &error));
  ScandPageSink sink = { null_begin, null_write, null_end, null_abort };
  GThread *t = g_thread_new("cancel", cancel_later, s);
  gint64 t0 = g_get_monotonic_time();
  gboolean got = FALSE;
  g_assert_false(scand_scanner_read_page(s, &sink, &got, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED);
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 3 * G_USEC_PER_SEC);
  g_thread_join(t);
  g_autofree char *log = sim_http(sim, "GET", "/sim/log", NULL);
  g_assert_nonnull(strstr(log, "\"action\": \"CancelJob\""));
  sim_stop(sim);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/wsd/abilities", test_abilities);
  g_test_add_func("/wsd/status", test_status);
  g_test_add_func("/wsd/cancel", test_cancel);
  return g_test_run();
}
