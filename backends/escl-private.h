/* eSCL backend internals shared by escl.c, escl-quirks.c and their unit tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ---- quirks (escl-quirks.c) ---------------------------------------------- */

/* What one or more matching quirk entries ask for, merged. */
typedef struct {
  const char *host_override;    /* send "Host: <this>" (keeping no port) */
  gboolean host_with_port;      /* always put the port in Host, even 80/443 */
  guint first_page_delay_ms;    /* feeder: wait this long after ScanJobs before NextDocument */
  guint early_404_window_ms;    /* feeder: a 404 before the first page within this window is "not yet" */
  gboolean retry_404_410;       /* 404/410 on NextDocument while the job is still processing = "not yet" */
  gboolean adf_jam_means_empty; /* AdfState Jam with no job running = feeder empty */
  int max_resolution;           /* cap on advertised resolutions; 0 = none */
  char *names;                  /* "HP (Compact Server), …" for messages; newly allocated */
} EsclQuirks;

/* Fills q from every table entry matching the Server header and/or
 * MakeAndModel (either may be NULL). Clear with escl_quirks_clear(). */
void escl_quirks_lookup(const char *server, const char *make_and_model, EsclQuirks *q);
void escl_quirks_clear(EsclQuirks *q);

/* The Host header value for quirks q, host ("127.0.0.1", "[::1]") and port
 * (0 = scheme default) with https or not; NULL when curl's own is right.
 * Newly allocated. */
char *escl_quirks_host_header(const EsclQuirks *q, const char *host, int port, gboolean https);

G_END_DECLS
