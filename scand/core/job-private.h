/* Internals shared by job.c and delivery.c. */
#pragma once

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
  GKeyFile *state;
  GPtrArray *deliveries; /* ScandDelivery*, one per destination */
  GHashTable *strings;   /* "group\x1fkey" -> value: keeps returned strings alive */
  GPtrArray *retired;    /* earlier values of those, alive until the job is freed */
  /* page sink state */
  ScandPageSink sink;
  ScandPageWriter *writer;
};

/* Returns value (taken) through a per-job cache so that getters can return
 * const strings that live as long as the job. */
const char *scand_job_keep_string(ScandJob *job, const char *group, const char *key, char *value);

/* Retry-After seconds a driver asked for on the last attempt, kept per job. */
void scand_job_set_retry_after(ScandJob *job, guint index, gint64 seconds);

G_END_DECLS
