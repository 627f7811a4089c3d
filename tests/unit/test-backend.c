/* The backend table's optional entries: status and buttons reached by URI
 * through backends/backend.h, against the project's eSCL simulator. */
#include "backends/backend.h"
#include "backends/device-http.h"
#include "scand/base/error.h"

#include "escl-sim-helper.h"

#include <string.h>

static void test_abilities(void) {
  /* eSCL reports status, and HP devices among them walk-up destinations */
  g_assert_cmpuint(scand_device_abilities("escl:http://127.0.0.1:9/eSCL"), ==,
                   SCAND_DEVICE_CAN_STATUS | SCAND_DEVICE_CAN_PANEL);
  g_assert_cmpuint(scand_device_abilities("sane:test:0"), ==, SCAND_DEVICE_CAN_BUTTONS);
  g_assert_cmpuint(scand_device_abilities("smb://x/y"), ==, 0);
  g_assert_cmpuint(scand_device_abilities("nothing"), ==, 0);
}

static void expect_status(Sim *sim, ScandDeviceState state, ScandFeederState feeder, const char *word) {
  ScandDeviceStatus st;
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_device_get_status(sim->uri, NULL, &st, &error));
  g_assert_no_error(error);
  g_assert_cmpint(st.state, ==, state);
  g_assert_cmpint(st.feeder, ==, feeder);
  g_assert_cmpstr(st.feeder_word, ==, word);
}

/* The feeder as the device reports it: loaded, empty, and a problem with the
 * error a scan would meet. */
static void test_status(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "2");
  expect_status(sim, SCAND_DEVICE_IDLE, SCAND_FEEDER_LOADED, "loaded");
  sim_control(sim, "{\"paper\": \"empty\"}");
  expect_status(sim, SCAND_DEVICE_IDLE, SCAND_FEEDER_EMPTY, "empty");
  sim_control(sim, "{\"fault\": \"busy\", \"adf_state\": \"ScannerAdfHatchOpen\"}");
  ScandDeviceStatus st;
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_device_get_status(sim->uri, NULL, &st, &error));
  g_assert_cmpint(st.state, ==, SCAND_DEVICE_PROCESSING);
  g_assert_cmpint(st.feeder, ==, SCAND_FEEDER_PROBLEM);
  g_assert_cmpint(st.problem_code, ==, SCAND_ERROR_COVER_OPEN);
  g_assert_cmpstr(st.problem, ==, "the feeder hatch is open");
  g_assert_cmpstr(scand_device_state_to_string(st.state), ==, "processing");
  /* no device there any more: the backend's error, one line */
  g_autofree char *gone = g_strdup(sim->uri);
  sim_stop(sim);
  g_assert_false(scand_device_get_status(gone, NULL, &st, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
  g_assert_null(strchr(error->message, '\n'));
}

/* A backend without the entry says so instead of guessing. */
static void test_unsupported(void) {
  ScandDeviceStatus st;
  g_autoptr(GError) error = NULL;
  g_assert_false(scand_device_get_status("sane:test:0", NULL, &st, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "sane devices do not report their state"));
  g_clear_error(&error);
  g_autoptr(GPtrArray) pressed = g_ptr_array_new_with_free_func(g_free);
  g_assert_false(scand_device_read_buttons("escl:http://127.0.0.1:9/eSCL", NULL, pressed, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED);
  g_assert_cmpuint(pressed->len, ==, 0);
  g_clear_error(&error);
  g_assert_false(scand_device_get_status("nothing:x", NULL, &st, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

/* A network scanner's URL may carry a password: no message names it, for
 * any backend and whichever request fails (here: nobody listens). */
static void test_password_not_shown(void) {
  static const char *const uris[] = {
    "escl:http://anna:s3cret@127.0.0.1:1/eSCL",
    "escl:https://anna:s3cret@127.0.0.1:1/eSCL",
    "wsd:http://anna:s3cret@127.0.0.1:1/wsd",
  };
  for (guint i = 0; i < G_N_ELEMENTS(uris); i++) {
    ScandOpenOptions options = { .timeout_ms = 2000 };
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandScanner) scanner = scand_scanner_open(uris[i], &options, &error);
    g_assert_null(scanner);
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_assert_null(strstr(error->message, "s3cret"));
    g_assert_nonnull(strstr(error->message, "anna@127.0.0.1:1"));
    ScandDeviceStatus st;
    g_clear_error(&error);
    if (!scand_device_get_status(uris[i], &options, &st, &error)) {
      g_test_message("%s", error->message);
      g_assert_null(strstr(error->message, "s3cret"));
    }
  }
}

/* Status clients kept between polls: one key, one client, taken out while in
 * use; never handed out for another key (another device, or the same with
 * another pin); no more than SCAND_DEVICE_HTTP_KEPT kept. */
static void test_http_kept(void) {
  g_autoptr(GError) error = NULL;
  ScandHttp *http = scand_device_http_new("escl:http://127.0.0.1:9/eSCL", NULL,
                                          &(ScandHttpOptions){ .shared_connections = TRUE }, &error);
  g_assert_no_error(error);
  g_assert_null(scand_device_http_reuse("kept-a"));
  scand_device_http_keep("kept-a", http);
  g_assert_null(scand_device_http_reuse("kept-a\x1fsha256:00"));
  g_assert_true(scand_device_http_reuse("kept-a") == http);
  g_assert_null(scand_device_http_reuse("kept-a")); /* in use */
  scand_device_http_keep("kept-a", http);
  for (guint i = 0; i < SCAND_DEVICE_HTTP_KEPT + 8; i++) {
    g_autofree char *key = g_strdup_printf("kept-%u", i);
    scand_device_http_keep(key,
                           scand_device_http_new("escl:http://127.0.0.1:9/eSCL", NULL, &(ScandHttpOptions){ 0 }, NULL));
  }
  guint back = 0;
  for (guint i = 0; i < SCAND_DEVICE_HTTP_KEPT + 8; i++) {
    g_autofree char *key = g_strdup_printf("kept-%u", i);
    ScandHttp *h = scand_device_http_reuse(key);
    back += h != NULL;
    scand_http_free(h);
  }
  g_assert_cmpuint(back, ==, SCAND_DEVICE_HTTP_KEPT - 1); /* "kept-a" holds one place */
  scand_http_free(scand_device_http_reuse("kept-a"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/backend/abilities", test_abilities);
  g_test_add_func("/backend/status", test_status);
  g_test_add_func("/backend/unsupported", test_unsupported);
  g_test_add_func("/backend/password-not-shown", test_password_not_shown);
  g_test_add_func("/backend/http-kept", test_http_kept);
  return g_test_run();
}
