/* The daemon's web page and JSON API ([web] in the configuration).
 *
 * Served by libsoup from the daemon's main loop; the page's files are
 * compiled in (GResource, data/web/). It shows the configured scanners with
 * their state and one button per profile, the progress of scans (server-sent
 * events from the same job events as D-Bus JobProgress/JobFinished), where
 * the last documents went, and the queue with Retry and Cancel. The page can
 * name only configured scanners and profiles and jobs by id: never a device
 * URI or a path.
 *
 * Like the D-Bus API, the web knows nothing of the daemon's insides: the
 * daemon hands it a table of what it may ask (ScandWebHost). */
#pragma once

#include <glib.h>
#include "scand/base/config.h"
#include "scand/core/spool.h"

G_BEGIN_DECLS

typedef struct ScandWeb ScandWeb;

typedef struct {
  gpointer user_data;
  ScandSpool *spool; /* borrowed; outlives the web */
  /* A reference to the current configuration; caller frees. */
  ScandConfig *(*get_config)(gpointer user_data);
  /* Starts a scan of the configured scanner with the profile ("" = the
   * scanner's); the job id (newly allocated) or NULL with error. */
  char *(*start_scan)(gpointer user_data, const char *scanner, const char *profile, GError **error);
  /* Cancels job id: stops its scan, or drops it from the spool. FALSE with
   * SCAND_ERROR_NOT_FOUND when there is no such job. */
  gboolean (*cancel_job)(gpointer user_data, const char *id, GError **error);
  /* Tries job id's destinations again now (serialised with the deliveries);
   * its end comes as a finished event. */
  void (*retry_job)(gpointer user_data, const char *id);
  /* Whether the daemon is scanning from device uri now. Any thread. */
  gboolean (*device_busy)(gpointer user_data, const char *uri);
} ScandWebHost;

/* Starts the web page as config's [web] section says; NULL without error
 * when there is none (the page is off). Main thread. */
ScandWeb *scand_web_new(const ScandWebHost *host, ScandConfig *config, GError **error);
/* Stops listening and ends every event stream. Accepts NULL. */
void scand_web_free(ScandWeb *web);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandWeb, scand_web_free)

/* Whether config's [web] listener settings differ from the running web's
 * (a reload must start it again). */
gboolean scand_web_config_changed(ScandWeb *web, ScandConfig *config);

/* The port listened on. */
guint scand_web_get_port(ScandWeb *web);

/* Job events, as D-Bus JobProgress and JobFinished; any thread (they are
 * sent from the main loop). web may be NULL. */
void scand_web_emit_progress(ScandWeb *web, const char *id, const char *stage, guint pages);
void scand_web_emit_finished(ScandWeb *web, const char *id, const char *result, GPtrArray *delivered,
                             GPtrArray *errors);

G_END_DECLS
