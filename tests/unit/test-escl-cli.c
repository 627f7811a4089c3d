/* `scand trust` and `scand status` (scand/cli/cli-escl.c) against the eSCL
 * simulator, run as the scand program ($SCAND) the way a person runs them.
 * Each command runs under a test subprocess so that its output and exit
 * status can be checked; its arguments come through the environment. */
#include "backends/backend.h"
#include "scand/base/http.h"
#include "escl-sim-helper.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* Child side: runs `$SCAND` with the arguments in TEST_CLI_ARGS
 * ("\x1f"-separated), its stdin, stdout and stderr this subprocess's own,
 * and prints its exit status. */
static void run_child(void) {
  if (!g_test_subprocess())
    return;
  g_auto(GStrv) args = g_strsplit(g_getenv("TEST_CLI_ARGS"), "\x1f", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
  g_strv_builder_add(builder, g_getenv("SCAND"));
  g_strv_builder_addv(builder, (const char **) args);
  g_auto(GStrv) argv = g_strv_builder_end(builder);
  int wait_status = 0;
  g_autoptr(GError) error = NULL;
  fflush(stdout);
  g_assert_true(
      g_spawn_sync(NULL, argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL, NULL, &wait_status, &error));
  g_assert_no_error(error);
  g_assert_true(WIFEXITED(wait_status));
  printf("\nexit=%d\n", WEXITSTATUS(wait_status));
  fflush(stdout);
  exit(0);
}

/* Runs a command in a subprocess; check with g_test_trap_assert_*(). */
static void run_cli(const char *const *args) {
  g_autofree char *joined = g_strjoinv("\x1f", (char **) args);
  g_setenv("TEST_CLI_ARGS", joined, TRUE);
  g_test_trap_subprocess("/escl-cli/child", 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
}

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

static char *read_file(const char *path) {
  char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  return text;
}

static void test_trust_and_status(void) {
  Sim *sim = sim_start(TRUE, "--adf-pages", "2");
  g_autofree char *fp = cert_fingerprint(sim->cert);
  g_autofree char *dir = g_dir_make_tmp("test-escl-cli-XXXXXX", NULL);
  g_autofree char *conf = g_build_filename(dir, "scand.conf", NULL);
  g_autofree char *initial = g_strdup_printf("# office scanners\n"
                                             "[scanner office]\n"
                                             "device = %s   # the MFP in the hall\n"
                                             "profile = letter\n"
                                             "\n"
                                             "# settings for letters\n"
                                             "[profile letter]\n"
                                             "source = feeder\n",
                                             sim->uri);
  g_assert_true(g_file_set_contents(conf, initial, -1, NULL));

  /* Without a pin the device is refused, naming its certificate. */
  const char *status_args[] = { "status", sim->uri, "--config", conf, NULL };
  run_cli(status_args);
  g_test_trap_assert_stdout("*exit=1*");
  g_autofree char *refused = g_strdup_printf("*%s*scand trust*", fp);
  g_test_trap_assert_stderr(refused);

  /* Declining (stdin is /dev/null: no answer) changes nothing. */
  const char *ask_args[] = { "trust", sim->uri, "--config", conf, NULL };
  run_cli(ask_args);
  g_test_trap_assert_stdout("*Subject:*CN=localhost*Trust this certificate? [y/N]*Not trusted*exit=1*");
  g_autofree char *unchanged = read_file(conf);
  g_assert_cmpstr(unchanged, ==, initial);

  /* --yes pins it in the section whose device is the URI, keeping comments. */
  const char *yes_args[] = { "trust", sim->uri, "--yes", "--config", conf, NULL };
  run_cli(yes_args);
  g_autofree char *shown = g_strdup_printf("*Fingerprint: %s*[scanner office]*exit=0*", fp);
  g_test_trap_assert_stdout(shown);
  g_autofree char *after = read_file(conf);
  g_assert_nonnull(strstr(after, "# office scanners"));
  g_assert_nonnull(strstr(after, "# settings for letters"));
  g_assert_nonnull(strstr(after, "# the MFP in the hall"));
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, after, -1, G_KEY_FILE_NONE, NULL));
  g_autofree char *pin = g_key_file_get_value(kf, "scanner office", "tls-pin", NULL);
  g_assert_cmpstr(pin, ==, fp);
  g_autofree char *source = g_key_file_get_value(kf, "profile letter", "source", NULL);
  g_assert_cmpstr(source, ==, "feeder");
  g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
  g_assert_cmpuint(g_strv_length(groups), ==, 2);

  /* Now status goes through with the pin from the config. */
  run_cli(status_args);
  g_test_trap_assert_stdout("*State:   idle*Feeder:  loaded (ScannerAdfLoaded)*Jobs:    none*exit=0*");

  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  g_assert_cmpint(system(cmd), ==, 0);
  sim_stop(sim);
}

static void test_trust_new_section(void) {
  Sim *sim = sim_start(TRUE, "--adf-pages", "1");
  g_autofree char *fp = cert_fingerprint(sim->cert);
  g_autofree char *dir = g_dir_make_tmp("test-escl-cli-XXXXXX", NULL);
  g_autofree char *conf = g_build_filename(dir, "sub", "scand.conf", NULL);
  /* the URI without "escl:" is accepted too */
  const char *args[] = { "trust", sim->uri + 5, "--yes", "--config", conf, NULL };
  run_cli(args);
  g_test_trap_assert_stdout("*[scanner 127.0.0.1]*exit=0*");
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_file(kf, conf, G_KEY_FILE_NONE, NULL));
  g_autofree char *device = g_key_file_get_value(kf, "scanner 127.0.0.1", "device", NULL);
  g_autofree char *pin = g_key_file_get_value(kf, "scanner 127.0.0.1", "tls-pin", NULL);
  g_assert_cmpstr(device, ==, sim->uri);
  g_assert_cmpstr(pin, ==, fp);
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  g_assert_cmpint(system(cmd), ==, 0);
  sim_stop(sim);
}

static void test_status_jam_and_jobs(void) {
  Sim *sim = sim_start(FALSE, "--adf-pages", "3", "--fault", "jam-after=1");
  g_autofree char *dir = g_dir_make_tmp("test-escl-cli-XXXXXX", NULL);
  g_autofree char *conf = g_build_filename(dir, "none.conf", NULL);
  /* make a job that jams after its first page */
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandScanner) scanner = scand_scanner_open(sim->uri, NULL, &error);
  g_assert_no_error(error);
  ScandScanSettings s = { .source = SCAND_SOURCE_FEEDER };
  g_assert_true(scand_scanner_start(scanner, &s, NULL, &error));
  g_assert_no_error(error);
  g_free(sim_http(sim, "GET", "/sim/state", NULL));
  const char *args[] = { "status", sim->uri, "--config", conf, NULL };
  run_cli(args);
  g_test_trap_assert_stdout("*Feeder:  loaded*Jobs:    /eSCL/ScanJobs/*Processing*exit=0*");
  sim_control(sim, "{\"adf_state\": \"ScannerAdfJam\", \"state\": \"Stopped\"}");
  run_cli(args);
  g_test_trap_assert_stdout("*State:   stopped*Feeder:  jammed (ScannerAdfJam)*exit=0*");
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  g_assert_cmpint(system(cmd), ==, 0);
  sim_stop(sim);
}

static void test_usage(void) {
  const char *help[] = { "trust", "--help", NULL };
  run_cli(help);
  g_test_trap_assert_stdout("*Usage:*trust*URI*--yes*--config*");
  const char *http[] = { "trust", "escl:http://127.0.0.1:9/eSCL", NULL };
  run_cli(http);
  g_test_trap_assert_stdout("*exit=2*");
  g_test_trap_assert_stderr("*only escl:https://*");
  const char *none[] = { "status", NULL };
  run_cli(none);
  g_test_trap_assert_stdout("*exit=2*");
  const char *shelp[] = { "status", "--help", NULL };
  run_cli(shelp);
  g_test_trap_assert_stdout("*Usage:*status*URI*");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  /* registered in both, run only as a subprocess (see run_cli()) */
  g_test_add_func("/escl-cli/child", run_child);
  if (!g_test_subprocess()) {
    g_test_add_func("/escl-cli/trust-and-status", test_trust_and_status);
    g_test_add_func("/escl-cli/trust-new-section", test_trust_new_section);
    g_test_add_func("/escl-cli/status-jam-and-jobs", test_status_jam_and_jobs);
    g_test_add_func("/escl-cli/usage", test_usage);
  }
  return g_test_run();
}
