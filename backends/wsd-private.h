/* WSD backend internals shared by wsd.c and wsd-quirks.c. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ---- quirks (wsd-quirks.c) ---------------------------------------------- */

/* What the quirk entries matching a device ask for, merged. */
typedef struct {
  int images_all;                          /* ImagesToTransfer for "the whole feeder"; 0 = the standard 0 */
  gboolean job_id_not_found_means_empty;   /* ClientErrorJobIdNotFound on a feeder job = the feeder is empty */
  gboolean not_accepting_idle_means_empty; /* ServerErrorNotAcceptingJobs for the feeder while Idle = empty */
  const char *not_accepting_hint;          /* what to tell the person when jobs are refused, or NULL */
  int max_resolution;                      /* cap on offered resolutions; 0 = none */
  char *names;                             /* "RICOH Aficio MP 201, …" for messages; newly allocated */
} WsdQuirks;

/* Fills q from every table entry whose model text occurs (any case) in
 * scanner_name (the ScannerName of the device's ScannerDescription; may be
 * NULL). Clear with wsd_quirks_clear(). */
void wsd_quirks_lookup(const char *scanner_name, WsdQuirks *q);
void wsd_quirks_clear(WsdQuirks *q);

G_END_DECLS
