/* The metrics registry (metrics.h): one table of families, one lock. */
#include "scand/base/metrics.h"
#include "scand-build.h"

#include <string.h>

#define OTHER "_other"

/* Upper bounds of the delivery histogram's buckets, in seconds (+Inf after). */
static const double buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300 };
#define N_BUCKETS G_N_ELEMENTS(buckets)

typedef enum {
  COUNTER,
  GAUGE,
  HISTOGRAM
} Kind;

typedef struct {
  const char *name;
  /* free: "NULL" — a configuration name; else the words allowed ("a|b|c"),
   * anything else counted as "other". */
  const char *words;
} Label;

typedef struct {
  const char *name; /* without _total for counters */
  Kind kind;
  const char *help;
  guint n_labels;
  Label labels[2];
} Family;

enum {
  JOBS,
  PAGES,
  ATTEMPTS,
  LATENCY,
  INTAKE,
  SCANNER,
  FEEDER,
  N_FAMILIES
};

#define SOURCES "scan|watch|file|mail"
static const Family families[N_FAMILIES] = {
  [JOBS] = { "scand_jobs",
             COUNTER,
             "Jobs that left scand, by where they came from and how they ended.",
             2,
             { { "source", SOURCES }, { "outcome", "done|failed|cancelled|partial" } } },
  [PAGES] = { "scand_pages", COUNTER, "Pages of the jobs that left scand.", 1, { { "source", SOURCES } } },
  [ATTEMPTS] = { "scand_delivery_attempts",
                 COUNTER,
                 "Delivery attempts, by output and outcome.",
                 2,
                 { { "output", NULL }, { "outcome", "done|retry|failed" } } },
  [LATENCY] = { "scand_delivery_duration_seconds",
                HISTOGRAM,
                "How long one delivery attempt took, by output.",
                1,
                { { "output", NULL } } },
  [INTAKE] = { "scand_intake_messages",
               COUNTER,
               "Inbound messages, by intake and whether they were accepted.",
               2,
               { { "intake", NULL }, { "outcome", "accepted|refused" } } },
  [SCANNER] = { "scand_scanner_state",
                GAUGE,
                "1 for the state a polled scanner was last seen in, 0 for the others.",
                2,
                { { "scanner", NULL }, { "state", "idle|busy|offline|problem" } } },
  [FEEDER] = { "scand_scanner_feeder_loaded",
               GAUGE,
               "1 when paper sits in a polled scanner's feeder.",
               1,
               { { "scanner", NULL } } },
};

typedef struct {
  char *labels; /* rendered: source="scan",outcome="done" */
  double value;
  guint64 bucket[N_BUCKETS]; /* histograms: not cumulative here */
  double sum;
  guint64 count;
} Series;

static GMutex lock;
static GHashTable *series[N_FAMILIES]; /* label key → Series* */
static guint queue_jobs;
static double queue_oldest;

static void series_free(gpointer data) {
  Series *s = data;
  g_free(s->labels);
  g_free(s);
}

char *scand_metrics_escape(const char *value) {
  GString *out = g_string_new(NULL);
  for (const char *p = value ? value : ""; *p; p++) {
    if (*p == '\\')
      g_string_append(out, "\\\\");
    else if (*p == '"')
      g_string_append(out, "\\\"");
    else if (*p == '\n')
      g_string_append(out, "\\n");
    else
      g_string_append_c(out, *p);
  }
  return g_string_free(out, FALSE);
}

static gboolean word_allowed(const char *words, const char *value) {
  g_auto(GStrv) list = g_strsplit(words, "|", -1);
  return value && g_strv_contains((const char *const *) list, value);
}

/* The series of family f for values, made when new; NULL never. Locked. */
static Series *series_get(guint f, const char *const *values) {
  const Family *fam = &families[f];
  if (!series[f])
    series[f] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, series_free);
  const char *v[2];
  for (guint i = 0; i < fam->n_labels; i++) {
    const char *w = fam->labels[i].words;
    v[i] = w ? (word_allowed(w, values[i]) ? values[i] : "other") : (values[i] && *values[i] ? values[i] : OTHER);
  }
  for (guint round = 0; round < 2; round++) {
    g_autofree char *key = fam->n_labels == 2 ? g_strjoin("\x1f", v[0], v[1], NULL) : g_strdup(v[0]);
    Series *s = g_hash_table_lookup(series[f], key);
    if (s)
      return s;
    if (g_hash_table_size(series[f]) < SCAND_METRICS_SERIES_MAX || round == 1) {
      s = g_new0(Series, 1);
      GString *l = g_string_new(NULL);
      for (guint i = 0; i < fam->n_labels; i++) {
        g_autofree char *e = scand_metrics_escape(v[i]);
        g_string_append_printf(l, "%s%s=\"%s\"", i ? "," : "", fam->labels[i].name, e);
      }
      s->labels = g_string_free(l, FALSE);
      g_hash_table_insert(series[f], g_steal_pointer(&key), s);
      return s;
    }
    /* Full: the free label's value is counted as "_other" (one more series
     * per fixed-word combination at most). */
    for (guint i = 0; i < fam->n_labels; i++)
      if (!fam->labels[i].words)
        v[i] = OTHER;
  }
  g_assert_not_reached();
}

static void add(guint f, const char *a, const char *b, double by) {
  const char *values[2] = { a, b };
  g_mutex_lock(&lock);
  series_get(f, values)->value += by;
  g_mutex_unlock(&lock);
}

void scand_metrics_job_finished(const char *source, const char *outcome, guint pages) {
  add(JOBS, source, outcome, 1);
  add(PAGES, source, NULL, pages);
}

void scand_metrics_delivery(const char *output, const char *outcome, double seconds) {
  add(ATTEMPTS, output, outcome, 1);
  const char *values[1] = { output };
  g_mutex_lock(&lock);
  Series *s = series_get(LATENCY, values);
  guint i = 0;
  while (i < N_BUCKETS && seconds > buckets[i])
    i++;
  if (i < N_BUCKETS)
    s->bucket[i]++;
  s->sum += MAX(seconds, 0);
  s->count++;
  g_mutex_unlock(&lock);
}

void scand_metrics_intake(const char *intake, gboolean accepted) {
  add(INTAKE, intake, accepted ? "accepted" : "refused", 1);
}

void scand_metrics_scanner_state(const char *scanner, const char *state, gboolean feeder_loaded) {
  static const char *const states[] = { "idle", "busy", "offline", "problem" };
  g_mutex_lock(&lock);
  for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
    const char *values[2] = { scanner, states[i] };
    series_get(SCANNER, values)->value = g_strcmp0(state, states[i]) == 0;
  }
  const char *values[1] = { scanner };
  series_get(FEEDER, values)->value = feeder_loaded;
  g_mutex_unlock(&lock);
}

void scand_metrics_scanners_forget(void) {
  g_mutex_lock(&lock);
  g_clear_pointer(&series[SCANNER], g_hash_table_unref);
  g_clear_pointer(&series[FEEDER], g_hash_table_unref);
  g_mutex_unlock(&lock);
}

void scand_metrics_queue(guint jobs, double oldest_seconds) {
  g_mutex_lock(&lock);
  queue_jobs = jobs;
  queue_oldest = oldest_seconds;
  g_mutex_unlock(&lock);
}

static void render_number(GString *out, double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append(out, g_ascii_formatd(buf, sizeof buf, "%.15g", v));
}

static void render_family(GString *out, guint f) {
  const Family *fam = &families[f];
  static const char *const kinds[] = { "counter", "gauge", "histogram" };
  const char *suffix = fam->kind == COUNTER ? "_total" : "";
  g_string_append_printf(out, "# HELP %s%s %s\n# TYPE %s%s %s\n", fam->name, suffix, fam->help, fam->name, suffix,
                         kinds[fam->kind]);
  if (!series[f])
    return;
  g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(series[f]), (GCompareFunc) strcmp);
  for (GList *k = keys; k; k = k->next) {
    const Series *s = g_hash_table_lookup(series[f], k->data);
    if (fam->kind != HISTOGRAM) {
      g_string_append_printf(out, "%s%s{%s} ", fam->name, suffix, s->labels);
      render_number(out, s->value);
      g_string_append_c(out, '\n');
      continue;
    }
    guint64 cumulative = 0;
    for (guint i = 0; i < N_BUCKETS; i++) {
      cumulative += s->bucket[i];
      g_string_append_printf(out, "%s_bucket{%s,le=\"", fam->name, s->labels);
      render_number(out, buckets[i]);
      g_string_append_printf(out, "\"} %" G_GUINT64_FORMAT "\n", cumulative);
    }
    g_string_append_printf(out, "%s_bucket{%s,le=\"+Inf\"} %" G_GUINT64_FORMAT "\n%s_sum{%s} ", fam->name, s->labels,
                           s->count, fam->name, s->labels);
    render_number(out, s->sum);
    g_string_append_printf(out, "\n%s_count{%s} %" G_GUINT64_FORMAT "\n", fam->name, s->labels, s->count);
  }
}

char *scand_metrics_render(void) {
  GString *out = g_string_new(NULL);
  g_mutex_lock(&lock);
  for (guint f = 0; f < N_FAMILIES; f++)
    render_family(out, f);
  g_string_append(out, "# HELP scand_queue_jobs Jobs in the spool: waiting, under way, or failed and kept.\n"
                       "# TYPE scand_queue_jobs gauge\n");
  g_string_append_printf(out, "scand_queue_jobs %u\n", queue_jobs);
  g_string_append(out, "# HELP scand_queue_oldest_seconds Age of the oldest job in the spool (0: none).\n"
                       "# TYPE scand_queue_oldest_seconds gauge\nscand_queue_oldest_seconds ");
  render_number(out, queue_oldest);
  g_mutex_unlock(&lock);
  g_string_append(out, "\n# HELP scand_build_info The scand that answers.\n# TYPE scand_build_info gauge\n");
  g_string_append_printf(out, "scand_build_info{version=\"%s\"} 1\n", SCAND_VERSION);
  return g_string_free(out, FALSE);
}

void scand_metrics_reset(void) {
  g_mutex_lock(&lock);
  for (guint f = 0; f < N_FAMILIES; f++)
    g_clear_pointer(&series[f], g_hash_table_unref);
  queue_jobs = 0;
  queue_oldest = 0;
  g_mutex_unlock(&lock);
}
