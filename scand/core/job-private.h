/* Internals shared by job.c and delivery.c, and the test-only setters
 * tests/unit/test-job.c uses (never the key-file layout itself). */
#pragma once

#include "scand/base/facts.h"
#include "scand/core/job.h"

G_BEGIN_DECLS

struct ScandDelivery {
  ScandJob *job;
  guint index;
  char *group; /* "dest N" in job.ini */
};

struct ScandJob {
  ScandSpool *spool;
  char *id;
  char *dir;
  char *ini_path;
  char *pdf_path;
  int lock_fd;
  gboolean staged;   /* under ".new-ID", not published yet: its files are written without fsync */
  gboolean deferred; /* scand_job_defer_durability() */
  GKeyFile *state;
  GPtrArray *deliveries;    /* ScandDelivery*, one per destination */
  GHashTable *strings;      /* "group\x1fkey" -> value: keeps returned strings alive */
  GPtrArray *retired;       /* earlier values of those, alive until the job is freed */
  ScandJobFacts facts;      /* the view scand_job_get_facts() hands out */
  GDateTime *created_local; /* facts.time */
  /* page sink state */
  ScandPageSink sink;
  ScandPageWriter *writer;
};

/* Returns value (taken) through a per-job cache so that getters can return
 * const strings that live as long as the job. */
const char *scand_job_keep_string(ScandJob *job, const char *group, const char *key, char *value);

/* Retry-After seconds a driver asked for on the last attempt, kept per job. */
void scand_job_set_retry_after(ScandJob *job, guint index, gint64 seconds);

/* When a destination was tried and is to be tried next (unix seconds; 0 =
 * not yet), and the Retry-After its driver asked for. */
typedef struct {
  gint64 first, last, next, retry_after;
} ScandDestTimes;
void scand_job_get_destination_times(ScandJob *job, guint index, ScandDestTimes *out);
/* Memory only until the next save. */
void scand_job_set_destination_next_attempt(ScandJob *job, guint index, gint64 when);
void scand_job_set_destination_first_attempt(ScandJob *job, guint index, gint64 when);
/* A destination the delivered fallback stands in for. Memory only. */
void scand_job_supersede_destination(ScandJob *job, guint index);

/* The destination's output configuration (the snapshot taken when it was
 * added) and the state its driver keeps (outputs/output.h); strings owned by
 * the job. set is memory only until the next save. */
const char *scand_job_get_destination_config(ScandJob *job, guint index, const char *key);
const char *scand_job_get_delivery_state(ScandJob *job, guint index, const char *key);
void scand_job_set_delivery_state(ScandJob *job, guint index, const char *key, const char *value);

/* The rule's fallback as the job holds it. */
typedef struct {
  gboolean set;    /* the job has one */
  gboolean used;   /* it was added as a destination */
  guint index;     /* then: its destination's index */
  gint64 after;    /* seconds of retrying before it is used; 0 = not by time */
  gint64 attempts; /* failed attempts before it is used; 0 = not by count */
} ScandJobFallback;
void scand_job_get_fallback(ScandJob *job, ScandJobFallback *out);
/* Adds the fallback as the last destination, marks it used, and saves. */
gboolean scand_job_use_fallback(ScandJob *job, GError **error);

G_END_DECLS
