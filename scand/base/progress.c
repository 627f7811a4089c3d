#include "scand/base/progress.h"

struct ScandHeartbeat {
  char *name;
  GMutex lock;
  gboolean busy;
  gint64 last; /* monotonic µs of the last beat */
  char *what;
};

/* The heartbeat the calling thread is busy on. */
static __thread ScandHeartbeat *current;

ScandHeartbeat *scand_heartbeat_new(const char *name) {
  ScandHeartbeat *hb = g_new0(ScandHeartbeat, 1);
  hb->name = g_strdup(name);
  g_mutex_init(&hb->lock);
  return hb;
}

void scand_heartbeat_free(ScandHeartbeat *hb) {
  if (!hb)
    return;
  g_mutex_clear(&hb->lock);
  g_free(hb->name);
  g_free(hb->what);
  g_free(hb);
}

void scand_heartbeat_busy(ScandHeartbeat *hb, const char *what) {
  g_mutex_lock(&hb->lock);
  hb->busy = TRUE;
  hb->last = g_get_monotonic_time();
  g_free(hb->what);
  hb->what = g_strdup(what);
  g_mutex_unlock(&hb->lock);
  current = hb;
}

void scand_heartbeat_idle(ScandHeartbeat *hb) {
  g_mutex_lock(&hb->lock);
  hb->busy = FALSE;
  g_mutex_unlock(&hb->lock);
  if (current == hb)
    current = NULL;
}

void scand_progress_beat(void) {
  ScandHeartbeat *hb = current;
  if (!hb)
    return;
  g_mutex_lock(&hb->lock);
  hb->last = g_get_monotonic_time();
  g_mutex_unlock(&hb->lock);
}

gint64 scand_heartbeat_stalled_for(ScandHeartbeat *hb, gint64 now, char **what) {
  g_mutex_lock(&hb->lock);
  gint64 stalled = hb->busy ? MAX(now - hb->last, 1) : 0;
  if (what)
    *what = hb->busy ? g_strdup_printf("%s: %s", hb->name, hb->what ? hb->what : "working") : NULL;
  g_mutex_unlock(&hb->lock);
  return stalled;
}
