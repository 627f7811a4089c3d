/* What autoscan.c (the poller and the feeder rule) and buttons.c (the button
 * rule) share: one polled [scanner] section. */
#pragma once

#include "scand/service/autoscan.h"

G_BEGIN_DECLS

/* One [scanner] with auto-scan = feeder or button. Reference-counted
 * (g_atomic_rc_box): a poll or a scan under way keeps it alive across a
 * reload. Fields after the first block are main-thread only. */
typedef struct {
  ScandAutoscan *owner; /* NULL once the poller let go of it (reload, stop) */
  gboolean buttons;     /* auto-scan = button */
  char *section;
  char *uri;
  char *tls_pin;
  ScandConfig *config; /* the configuration it was made from */
  gint64 interval_us, settle_us, cooldown_us;
  gint polling;     /* atomic: a poll is under way */
  gint job_running; /* atomic: a scan it started is under way */
  /* main thread */
  gint64 next_poll;        /* monotonic µs */
  gboolean polls_blocking; /* no poll on the main loop for it (buttons, WSD): a thread polls it */
  gint64 loaded_since;
  gint64 cooldown_until;
  GStrv pressed;   /* buttons that read pressed at the last poll */
  char *last_note; /* the key of the last message noted, to log changes only */
} ScandAutoscanEntry;

/* One poll's outcome, made on a worker thread or, for a status poll on the
 * main loop, in the main thread. */
typedef struct {
  gboolean ok;
  char *error;        /* when !ok */
  gboolean idle;      /* feeder: the device is idle */
  gboolean loaded;    /* feeder: paper sits in the feeder */
  const char *word;   /* feeder: the state as logged (static) */
  gint64 at;          /* monotonic µs the request went out: the device's answer is from then on */
  const char *state;  /* for metrics: "idle", "busy", "offline", "problem" (static); NULL: by ok */
  GPtrArray *pressed; /* buttons: names that read pressed now */
} ScandAutoscanPoll;

/* Logs "scanner SECTION: MESSAGE" when key (the state it tells of) differs
 * from the last key noted for this scanner; key NULL forgets the last one
 * and logs nothing. Main thread. */
void scand_autoscan_note(ScandAutoscanEntry *entry, const char *key, const char *message);
/* Logs "scanner SECTION: MESSAGE" always. Main thread. */
void scand_autoscan_log(ScandAutoscanEntry *entry, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Whether a scan may start now: none runs for this scanner, the poller still
 * holds it and the host is not stopping. */
gboolean scand_autoscan_can_start(ScandAutoscanEntry *entry);
/* Starts a scan of the entry's scanner (profile NULL = the scanner's, source
 * NULL = the profile's) for trigger; on failure logs "scanner SECTION: WHAT:
 * reason", starts the cooldown and returns FALSE. Main thread. */
gboolean scand_autoscan_start(ScandAutoscanEntry *entry, const char *trigger, const char *profile, const char *source,
                              const char *what);

/* The button rule (buttons.c): reads the buttons (worker thread), then starts
 * the mapped profile's scan for each new press (main thread). */
void scand_buttons_poll(ScandAutoscanEntry *entry, ScandAutoscanPoll *poll);
void scand_buttons_decide(ScandAutoscanEntry *entry, ScandAutoscanPoll *poll);

G_END_DECLS
