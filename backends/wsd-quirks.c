/* WSD device quirks as data: one row per model family with the reason, matched
 * on the ScannerName of the device's ScannerDescription. Behaviour seen on
 * many devices is not a row but the rule (backends/wsd-soap.c): sizes with
 * width and height swapped (Kyocera), a described ADFBack meaning duplex
 * although ADFSupportsDuplex says 0 (Brother MFC-9340CDW), JobInformation
 * always sent (Canon TR7500), faults recognised whatever the HTTP status
 * (Lexmark MB2236adw, Xerox WorkCentre 3225). */
#include "backends/quirk-match.h"
#include "backends/wsd-private.h"

#include <string.h>

typedef struct {
  const char *name;            /* for messages */
  const char *model_substring; /* ScannerName contains this (any case) */
  const char *reason;
  int images_all;
  gboolean job_id_not_found_means_empty;
  gboolean not_accepting_idle_means_empty;
  const char *not_accepting_hint;
  int max_resolution;
} WsdQuirkEntry;

static const WsdQuirkEntry quirk_table[] = {
  {
      .name = "RICOH Aficio MP 201",
      .model_substring = "Aficio MP 201",
      .reason = "takes ImagesToTransfer 0 literally (no image at all) and answers ClientErrorJobIdNotFound when "
                "its feeder is empty",
      .images_all = 100,
      .job_id_not_found_means_empty = TRUE,
  },
  {
      .name = "Canon MF410",
      .model_substring = "MF410",
      .reason = "refuses CreateScanJob for an empty feeder with ServerErrorNotAcceptingJobs while it is Idle",
      .not_accepting_idle_means_empty = TRUE,
  },
  {
      .name = "KYOCERA",
      .model_substring = "KYOCERA",
      .reason = "in WSD mode accepts a scan only after WSD Scan was chosen at its panel "
                "(ServerErrorNotAcceptingJobs otherwise)",
      .not_accepting_hint = "choose WSD Scan (or \"Scan to PC\") at the device's panel first",
  },
};

void wsd_quirks_lookup(const char *scanner_name, WsdQuirks *q) {
  memset(q, 0, sizeof *q);
  GString *names = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(quirk_table); i++) {
    const WsdQuirkEntry *e = &quirk_table[i];
    if (!scand_quirk_text_contains(scanner_name, e->model_substring))
      continue;
    q->images_all = MAX(q->images_all, e->images_all);
    q->job_id_not_found_means_empty |= e->job_id_not_found_means_empty;
    q->not_accepting_idle_means_empty |= e->not_accepting_idle_means_empty;
    if (e->not_accepting_hint)
      q->not_accepting_hint = e->not_accepting_hint;
    if (e->max_resolution > 0)
      q->max_resolution = q->max_resolution ? MIN(q->max_resolution, e->max_resolution) : e->max_resolution;
    g_string_append_printf(names, "%s%s", names->len ? ", " : "", e->name);
  }
  q->names = g_string_free(names, FALSE);
}

void wsd_quirks_clear(WsdQuirks *q) {
  if (!q)
    return;
  g_free(q->names);
  memset(q, 0, sizeof *q);
}
