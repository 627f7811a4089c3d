/* The service's numbers for the monitoring people already run: counters,
 * gauges and one histogram, rendered as Prometheus text (exposition format
 * 0.0.4, which OpenMetrics scrapers read too).
 *
 * Cardinality is bounded by construction: label values are fixed words
 * (sources, outcomes, states) or names of configuration sections (outputs,
 * scanners, intakes), never job ids, file names or addresses; and a family
 * holds at most SCAND_METRICS_SERIES_MAX label sets; a name beyond that is
 * counted under "_other". Every function is safe from any thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SCAND_METRICS_SERIES_MAX 256

/* A job left scand: source is its source_kind ("scan", "watch", "file",
 * "mail"), outcome "done", "failed", "cancelled" or "partial"; pages its
 * page count (0: none known). */
void scand_metrics_job_finished(const char *source, const char *outcome, guint pages);

/* One attempt to deliver to output ended with outcome ("done", "retry",
 * "failed") after seconds. */
void scand_metrics_delivery(const char *output, const char *outcome, double seconds);

/* One inbound message (mail intake NAME) was accepted or refused. */
void scand_metrics_intake(const char *intake, gboolean accepted);

/* The state of [scanner NAME] as its last poll saw it: "idle", "busy",
 * "offline" or "problem"; whether paper sits in its feeder. */
void scand_metrics_scanner_state(const char *scanner, const char *state, gboolean feeder_loaded);

/* Forgets every scanner's state (a reload may have removed scanners). */
void scand_metrics_scanners_forget(void);

/* The spool's queue: jobs in it and the age of the oldest, in seconds. */
void scand_metrics_queue(guint jobs, double oldest_seconds);

/* Everything as Prometheus text, newly allocated. */
char *scand_metrics_render(void);

/* Back to zero, for tests. */
void scand_metrics_reset(void);

/* A label value escaped for the text format (\\, \", \n), newly allocated. */
char *scand_metrics_escape(const char *value);

G_END_DECLS
