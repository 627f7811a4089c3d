/* The metrics registry: counters add, label values are escaped, words
 * outside a label's list count as "other", a family never grows past its
 * bound, histograms are cumulative, and the listen value is parsed strictly. */
#include "scand/base/metrics.h"
#include "scand/service/metrics-endpoint.h"

#include <string.h>

static guint count_lines(const char *text, const char *prefix) {
  guint n = 0;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    n += g_str_has_prefix(lines[i], prefix);
  return n;
}

static void test_counters_add(void) {
  scand_metrics_reset();
  scand_metrics_job_finished("scan", "done", 3);
  scand_metrics_job_finished("scan", "done", 2);
  scand_metrics_job_finished("watch", "failed", 0);
  g_autofree char *text = scand_metrics_render();
  g_assert_nonnull(strstr(text, "# TYPE scand_jobs_total counter\n"));
  g_assert_nonnull(strstr(text, "scand_jobs_total{source=\"scan\",outcome=\"done\"} 2\n"));
  g_assert_nonnull(strstr(text, "scand_jobs_total{source=\"watch\",outcome=\"failed\"} 1\n"));
  g_assert_nonnull(strstr(text, "scand_pages_total{source=\"scan\"} 5\n"));
  g_assert_nonnull(strstr(text, "scand_build_info{version=\""));
}

static void test_unknown_words_are_other(void) {
  scand_metrics_reset();
  scand_metrics_job_finished("20260101-120000-123456", "exploded", 1);
  g_autofree char *text = scand_metrics_render();
  g_assert_nonnull(strstr(text, "scand_jobs_total{source=\"other\",outcome=\"other\"} 1\n"));
  g_assert_null(strstr(text, "20260101"));
}

static void test_label_values_escaped(void) {
  scand_metrics_reset();
  scand_metrics_delivery("a\"b\\c\nd", "done", 0.2);
  g_autofree char *text = scand_metrics_render();
  g_assert_nonnull(strstr(text, "scand_delivery_attempts_total{output=\"a\\\"b\\\\c\\nd\",outcome=\"done\"} 1\n"));
}

static void test_cardinality_bounded(void) {
  scand_metrics_reset();
  for (guint i = 0; i < 5000; i++) {
    g_autofree char *name = g_strdup_printf("out%u", i);
    scand_metrics_delivery(name, "retry", 1);
  }
  g_autofree char *text = scand_metrics_render();
  guint attempts = count_lines(text, "scand_delivery_attempts_total{");
  g_assert_cmpuint(attempts, <=, SCAND_METRICS_SERIES_MAX + 1);
  g_assert_nonnull(strstr(text, "scand_delivery_attempts_total{output=\"_other\",outcome=\"retry\"} "));
  g_assert_cmpuint(count_lines(text, "scand_delivery_duration_seconds_count{"), <=, SCAND_METRICS_SERIES_MAX + 1);
  /* Everything counted somewhere: 5000 in all. */
  double sum = 0;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix(lines[i], "scand_delivery_attempts_total{"))
      sum += g_ascii_strtod(strrchr(lines[i], ' ') + 1, NULL);
  g_assert_cmpfloat(sum, ==, 5000);
}

static void test_histogram_cumulative(void) {
  scand_metrics_reset();
  scand_metrics_delivery("share", "done", 0.01);
  scand_metrics_delivery("share", "done", 3);
  scand_metrics_delivery("share", "retry", 1000);
  g_autofree char *text = scand_metrics_render();
  g_assert_nonnull(strstr(text, "scand_delivery_duration_seconds_bucket{output=\"share\",le=\"0.05\"} 1\n"));
  g_assert_nonnull(strstr(text, "scand_delivery_duration_seconds_bucket{output=\"share\",le=\"5\"} 2\n"));
  g_assert_nonnull(strstr(text, "scand_delivery_duration_seconds_bucket{output=\"share\",le=\"300\"} 2\n"));
  g_assert_nonnull(strstr(text, "scand_delivery_duration_seconds_bucket{output=\"share\",le=\"+Inf\"} 3\n"));
  g_assert_nonnull(strstr(text, "scand_delivery_duration_seconds_count{output=\"share\"} 3\n"));
  g_assert_nonnull(strstr(text, "scand_delivery_duration_seconds_sum{output=\"share\"} 1003.01\n"));
}

static void test_scanner_state_one_hot(void) {
  scand_metrics_reset();
  scand_metrics_scanner_state("mfp", "busy", TRUE);
  scand_metrics_scanner_state("mfp", "offline", FALSE);
  g_autofree char *text = scand_metrics_render();
  g_assert_nonnull(strstr(text, "scand_scanner_state{scanner=\"mfp\",state=\"offline\"} 1\n"));
  g_assert_nonnull(strstr(text, "scand_scanner_state{scanner=\"mfp\",state=\"busy\"} 0\n"));
  g_assert_nonnull(strstr(text, "scand_scanner_feeder_loaded{scanner=\"mfp\"} 0\n"));
  scand_metrics_scanners_forget();
  g_autofree char *after = scand_metrics_render();
  g_assert_null(strstr(after, "scanner=\"mfp\""));
}

static void test_parse_listen(void) {
  static const struct {
    const char *text;
    guint port; /* 0 with ok FALSE: refused */
    gboolean ok;
  } rows[] = {
    { "127.0.0.1:9464", 9464, TRUE }, { "[::1]:9464", 9464, TRUE },  { "0.0.0.0:0", 0, TRUE },
    { "localhost:9464", 0, FALSE },   { "127.0.0.1", 0, FALSE },     { "127.0.0.1:70000", 0, FALSE },
    { "::1:9464", 0, FALSE },         { "127.0.0.1:94x", 0, FALSE }, { "", 0, FALSE },
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    g_autoptr(GInetAddress) a = NULL;
    g_autoptr(GError) error = NULL;
    guint port = 1;
    gboolean ok = scand_metrics_parse_listen(rows[i].text, &a, &port, &error);
    g_assert_cmpint(ok, ==, rows[i].ok);
    if (ok)
      g_assert_cmpuint(port, ==, rows[i].port);
    else
      g_assert_nonnull(strstr(error->message, "metrics-listen"));
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/metrics/counters-add", test_counters_add);
  g_test_add_func("/metrics/unknown-words-are-other", test_unknown_words_are_other);
  g_test_add_func("/metrics/label-values-escaped", test_label_values_escaped);
  g_test_add_func("/metrics/cardinality-bounded", test_cardinality_bounded);
  g_test_add_func("/metrics/histogram-cumulative", test_histogram_cumulative);
  g_test_add_func("/metrics/scanner-state-one-hot", test_scanner_state_one_hot);
  g_test_add_func("/metrics/parse-listen", test_parse_listen);
  return g_test_run();
}
