#include "escl-sim-helper.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* A failed assertion aborts the test: its simulators must not outlive it. */
static void die_with_parent(gpointer data) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

Sim *sim_start_v(gboolean tls, int port, const char *const *args) {
  Sim *sim = g_new0(Sim, 1);
  sim->tls = tls;
  g_autoptr(GError) error = NULL;
  sim->dir = g_dir_make_tmp("test-escl-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *script = g_build_filename(g_getenv("SCAND_SRCDIR"), "tests", "escl-sim", "escl-sim.py", NULL);
  g_autofree char *port_file = g_build_filename(sim->dir, "port", NULL);
  sim->cert = g_build_filename(sim->dir, "cert.pem", NULL);
  g_autofree char *port_arg = g_strdup_printf("%d", port);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_strv_builder_add_many(b, "/usr/bin/python3", script, "--port-file", port_file, "--port", port_arg, "--lifetime",
                          "300", NULL);
  if (tls)
    g_strv_builder_add_many(b, "--tls", "--cert-out", sim->cert, NULL);
  for (guint i = 0; args && args[i]; i++)
    g_strv_builder_add(b, args[i]);
  g_auto(GStrv) argv = g_strv_builder_end(b);
  g_assert_true(
      g_spawn_async(sim->dir, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL, &sim->pid, &error));
  g_assert_no_error(error);
  for (int i = 0; i < 600; i++) {
    g_autofree char *text = NULL;
    if (g_file_get_contents(port_file, &text, NULL, NULL) && *text) {
      sim->port = atoi(text);
      break;
    }
    g_usleep(50000);
  }
  g_assert_cmpint(sim->port, >, 0);
  sim->http = g_strdup_printf("http://127.0.0.1:%d", sim->port);
  g_autofree char *port_part = sim->port == 80 ? g_strdup("") : g_strdup_printf(":%d", sim->port);
  sim->uri = g_strdup_printf("escl:%s://127.0.0.1%s/eSCL", tls ? "https" : "http", port_part);
  return sim;
}

void sim_stop(Sim *sim) {
  kill(sim->pid, SIGTERM);
  int status;
  waitpid(sim->pid, &status, 0);
  g_spawn_close_pid(sim->pid);
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", sim->dir);
  g_assert_cmpint(system(cmd), ==, 0);
  g_free(sim->dir);
  g_free(sim->http);
  g_free(sim->uri);
  g_free(sim->cert);
  g_free(sim);
}

static size_t collect_cb(char *data, size_t size, size_t nmemb, void *user) {
  g_string_append_len(user, data, (gssize) (size * nmemb));
  return size * nmemb;
}

/* Plain HTTP to the simulator's control API; returns the body. */
char *sim_http(Sim *sim, const char *method, const char *path, const char *body) {
  CURL *c = curl_easy_init();
  GString *out = g_string_new(NULL);
  /* With --tls the control API speaks HTTPS too: trust exactly the
   * simulator's own certificate. */
  g_autofree char *url = g_strdup_printf("%s://127.0.0.1:%d%s", sim->tls ? "https" : "http", sim->port, path);
  curl_easy_setopt(c, CURLOPT_URL, url);
  if (sim->tls)
    curl_easy_setopt(c, CURLOPT_CAINFO, sim->cert);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (body)
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  g_assert_cmpint(curl_easy_perform(c), ==, CURLE_OK);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  if (status != 200)
    g_error("%s %s → %ld: %s", method, path, status, out->str);
  return g_string_free(out, FALSE);
}

void sim_control(Sim *sim, const char *json) {
  g_free(sim_http(sim, "POST", "/sim/control", json));
}

static int cmp_time(gconstpointer a, gconstpointer b) {
  double d = ((const LogEntry *) a)->time - ((const LogEntry *) b)->time;
  return d < 0 ? -1 : d > 0;
}

static GArray *sim_log_once(Sim *sim);

/* The simulator's request log, in time order. The simulator writes an entry
 * just after sending its reply, so the log is read until it stops growing. */
GArray *sim_log(Sim *sim) {
  GArray *log = sim_log_once(sim);
  for (int i = 0; i < 100; i++) {
    g_usleep(50000);
    GArray *again = sim_log_once(sim);
    gboolean same = again->len == log->len;
    g_array_unref(log);
    log = again;
    if (same)
      break;
  }
  g_array_sort(log, cmp_time);
  return log;
}

static GArray *sim_log_once(Sim *sim) {
  g_autofree char *json = sim_http(sim, "GET", "/sim/log", NULL);
  GArray *entries = g_array_new(FALSE, TRUE, sizeof(LogEntry));
  g_autoptr(GRegex) re = g_regex_new("\"time\": ([0-9.]+),\\s*\"method\": \"(\\w+)\",\\s*\"path\": \"([^\"]*)\",\\s*"
                                     "\"host\": (?:null|\"([^\"]*)\"),.*?\"status\": (\\d+)",
                                     G_REGEX_DOTALL, 0, NULL);
  g_autoptr(GMatchInfo) mi = NULL;
  g_regex_match(re, json, 0, &mi);
  while (g_match_info_matches(mi)) {
    LogEntry e = { 0 };
    g_autofree char *t = g_match_info_fetch(mi, 1);
    g_autofree char *m = g_match_info_fetch(mi, 2);
    g_autofree char *p = g_match_info_fetch(mi, 3);
    g_autofree char *h = g_match_info_fetch(mi, 4);
    g_autofree char *s = g_match_info_fetch(mi, 5);
    e.time = g_ascii_strtod(t, NULL);
    g_strlcpy(e.method, m, sizeof e.method);
    g_strlcpy(e.path, p, sizeof e.path);
    g_strlcpy(e.host, h ? h : "", sizeof e.host);
    e.status = atoi(s);
    g_array_append_val(entries, e);
    g_match_info_next(mi, NULL);
  }
  return entries;
}

/* Number of log entries with this method, path suffix and status (0 = any). */
guint log_count(GArray *log, const char *method, const char *suffix, int status) {
  guint n = 0;
  for (guint i = 0; i < log->len; i++) {
    LogEntry *e = &g_array_index(log, LogEntry, i);
    if (strcmp(e->method, method) == 0 && g_str_has_suffix(e->path, suffix) && (!status || e->status == status))
      n++;
  }
  return n;
}