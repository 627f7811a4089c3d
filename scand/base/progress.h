/* Is a worker thread moving? A watchdog must tell a worker that is stuck (a
 * read that never returns, a FIFO opened by mistake, a hung mount) from one
 * that is busy with a long job, so that it can stop telling systemd that all
 * is well in the first case only.
 *
 * A worker thread marks itself busy on a heartbeat while it works on an item;
 * code anywhere below it (core, outputs) calls scand_progress_beat() whenever
 * it moves forward (a block copied, a page stored, a job done), without
 * knowing whether anyone listens. The watchdog asks each heartbeat how long
 * its thread has gone without a beat. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct ScandHeartbeat ScandHeartbeat;

/* A heartbeat for the worker called name ("delivery queue"). Free with
 * scand_heartbeat_free() once its thread is gone. */
ScandHeartbeat *scand_heartbeat_new(const char *name);
void scand_heartbeat_free(ScandHeartbeat *hb);

/* The calling thread works on what (copied) for hb from now until
 * scand_heartbeat_idle(); its beats go to hb. */
void scand_heartbeat_busy(ScandHeartbeat *hb, const char *what);
void scand_heartbeat_idle(ScandHeartbeat *hb);

/* Notes that the calling thread moved forward. Any thread; nothing happens
 * in a thread without a busy heartbeat. Cheap enough for every block copied. */
void scand_progress_beat(void);

/* How long (µs) hb's thread has been busy without a beat at monotonic time
 * now; 0 when it is idle. *what (may be NULL) gets "NAME: WHAT" (newly
 * allocated) when it is busy. Any thread. */
gint64 scand_heartbeat_stalled_for(ScandHeartbeat *hb, gint64 now, char **what);

G_END_DECLS
