/* The poller of self-starting scans (autoscan.h) and its feeder rule; the
 * button rule is buttons.c. */
#include "scand/service/autoscan-private.h"
#include "backends/backend.h"
#include "scand/base/metrics.h"

#include <string.h>

struct ScandAutoscan {
  ScandAutoscanHost host;
  GPtrArray *entries; /* ScandAutoscanEntry* (references) */
  /* eSCL status polls: requests on the main loop, without a thread (NULL:
   * the system refused it; every poll then takes a thread). */
  ScandHttpLoop *http_loop;
  guint loop_polls; /* under way on it */
  /* Polls that block (SANE buttons, WSD, and eSCL answers only the full poll
   * handles): made when first needed. */
  GThreadPool *pool;
  gint pool_max;
  guint timer;
  gint64 timer_due; /* monotonic µs the timer fires at */
};

static void schedule(ScandAutoscan *a);

/* --- entries --- */

static void entry_clear(gpointer data) {
  ScandAutoscanEntry *e = data;
  g_free(e->section);
  g_free(e->uri);
  g_free(e->tls_pin);
  scand_config_free(e->config);
  g_strfreev(e->pressed);
  g_free(e->last_note);
}

static ScandAutoscanEntry *entry_ref(ScandAutoscanEntry *e) {
  return g_atomic_rc_box_acquire(e);
}

static void entry_unref(ScandAutoscanEntry *e) {
  g_atomic_rc_box_release_full(e, entry_clear);
}

void scand_autoscan_log(ScandAutoscanEntry *entry, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *line = g_strdup_printf("scanner %s: %s", entry->section, message);
  if (entry->owner)
    entry->owner->host.log(entry->owner->host.user_data, line);
}

void scand_autoscan_note(ScandAutoscanEntry *entry, const char *key, const char *message) {
  if (!key) {
    g_clear_pointer(&entry->last_note, g_free);
    return;
  }
  if (g_strcmp0(entry->last_note, key) == 0)
    return;
  g_free(entry->last_note);
  entry->last_note = g_strdup(key);
  scand_autoscan_log(entry, "%s", message);
}

gboolean scand_autoscan_can_start(ScandAutoscanEntry *entry) {
  ScandAutoscan *a = entry->owner;
  return a && !g_atomic_int_get(&entry->job_running) && !a->host.stopping(a->host.user_data);
}

/* The host's done callback: back to the main thread, where the cooldown is. */
static gboolean scan_done_in_main(gpointer data) {
  ScandAutoscanEntry *e = data;
  e->cooldown_until = g_get_monotonic_time() + e->cooldown_us;
  g_atomic_int_set(&e->job_running, 0);
  if (e->owner)
    schedule(e->owner);
  entry_unref(e);
  return G_SOURCE_REMOVE;
}

static void scan_done(gpointer data) {
  g_main_context_invoke(NULL, scan_done_in_main, data);
}

gboolean scand_autoscan_start(ScandAutoscanEntry *entry, const char *trigger, const char *profile, const char *source,
                              const char *what) {
  ScandAutoscan *a = entry->owner;
  ScandScanRequest request = { .device = entry->section, .profile = profile, .trigger = trigger, .source = source };
  g_autoptr(GError) error = NULL;
  g_atomic_int_set(&entry->job_running, 1);
  g_autofree char *id = a->host.start_scan(a->host.user_data, &request, scan_done, entry_ref(entry), &error);
  if (id) {
    scand_metrics_scanner_state(entry->section, "busy", FALSE);
    return TRUE;
  }
  entry_unref(entry);
  scand_autoscan_log(entry, "%s: %s", what, error->message);
  entry->cooldown_until = g_get_monotonic_time() + entry->cooldown_us;
  g_atomic_int_set(&entry->job_running, 0);
  return FALSE;
}

/* --- the feeder rule --- */

/* Fills poll from a status (ok) or error (not ok). */
static void feeder_poll_fill(ScandAutoscanPoll *poll, gboolean ok, const ScandDeviceStatus *s, const GError *error) {
  const ScandDeviceStatus status = ok ? *s : (ScandDeviceStatus){ 0 };
  poll->ok = ok;
  if (!poll->ok) {
    poll->error = g_strdup(error->message);
    poll->word = "unreachable";
    return;
  }
  poll->idle = status.state == SCAND_DEVICE_IDLE;
  poll->loaded = status.feeder == SCAND_FEEDER_LOADED;
  poll->state =
      status.feeder == SCAND_FEEDER_PROBLEM || status.state == SCAND_DEVICE_STOPPED || status.state == SCAND_DEVICE_DOWN
          ? "problem"
      : status.state == SCAND_DEVICE_PROCESSING ? "busy"
                                                : "idle";
  poll->word = status.feeder_word;
}

static void feeder_poll(ScandAutoscanEntry *entry, ScandAutoscanPoll *poll) {
  ScandOpenOptions options = { .tls_pin = entry->tls_pin };
  ScandDeviceStatus status;
  g_autoptr(GError) error = NULL;
  gboolean ok = scand_device_get_status(entry->uri, &options, &status, &error);
  feeder_poll_fill(poll, ok, &status, error);
}

/* Paper counts as placed only while the device is idle: a job started at the
 * panel makes it busy, and scand must not steal it. It must sit for `settle`
 * (a stack being straightened), and not within `cooldown` of the last scan. */
static void feeder_decide(ScandAutoscanEntry *entry, ScandAutoscanPoll *poll) {
  /* Paper the device reported sat there from (at the latest) the moment the
   * request went out: time it from then, not from when the answer came
   * back through a busy queue. */
  gint64 now = poll->at;
  g_autofree char *line =
      g_strdup_printf("%s%s%s", poll->word, poll->error ? ": " : "", poll->error ? poll->error : "");
  scand_autoscan_note(entry, poll->word, line);
  if (!poll->ok || !poll->idle || !poll->loaded) {
    entry->loaded_since = 0;
  } else if (entry->loaded_since == 0) {
    entry->loaded_since = now;
    /* Look again as soon as the paper has settled, not a whole interval
     * later: paper loaded starts its job within poll-interval + settle. */
    if (entry->settle_us > 0)
      entry->next_poll = MIN(entry->next_poll, now + entry->settle_us);
  }
  if (entry->loaded_since && now - entry->loaded_since >= entry->settle_us &&
      g_get_monotonic_time() >= entry->cooldown_until && scand_autoscan_can_start(entry)) {
    entry->loaded_since = 0;
    scand_autoscan_start(entry, "feeder", NULL, "feeder", "auto-scan");
  }
}

/* --- polling: a worker reads the device, the main thread decides --- */

typedef struct {
  ScandAutoscanEntry *entry; /* a reference */
  ScandAutoscanPoll poll;
  ScandAutoscan *on_loop; /* the poller whose main loop runs it; NULL: a thread */
} PollWork;

static gboolean poll_done(gpointer data) {
  PollWork *w = data;
  ScandAutoscanEntry *e = w->entry;
  g_atomic_int_set(&e->polling, 0);
  /* An entry the poller let go of (reload, stop) decides nothing. */
  if (e->owner) {
    const char *state = g_atomic_int_get(&e->job_running) ? "busy"
                        : w->poll.state                   ? w->poll.state
                        : w->poll.ok                      ? "idle"
                                                          : "offline";
    scand_metrics_scanner_state(e->section, state, w->poll.loaded);
    if (e->buttons)
      scand_buttons_decide(e, &w->poll);
    else
      feeder_decide(e, &w->poll);
  }
  if (e->owner)
    schedule(e->owner);
  if (w->poll.pressed)
    g_ptr_array_unref(w->poll.pressed);
  g_free(w->poll.error);
  entry_unref(e);
  g_free(w);
  return G_SOURCE_REMOVE;
}

static void poll_worker(gpointer data, gpointer user_data) {
  PollWork *w = data;
  w->poll.at = g_get_monotonic_time();
  if (w->entry->buttons)
    scand_buttons_poll(w->entry, &w->poll);
  else
    feeder_poll(w->entry, &w->poll);
  g_main_context_invoke(NULL, poll_done, w);
}

/* Polls under way on the main loop at once: a fleet's round is spread over
 * a few milliseconds instead of holding 500 transfers in memory together. */
#define AUTOSCAN_LOOP_POLLS_MAX 32

static void pool_push(ScandAutoscan *a, PollWork *w) {
  /* Exclusive: its threads stay, rather than one made and ended every round. */
  if (!a->pool)
    a->pool = g_thread_pool_new(poll_worker, a, a->pool_max, TRUE, NULL);
  g_thread_pool_push(a->pool, w, NULL);
}

/* The end of a status poll on the main loop. */
static void feeder_polled(ScandStatusPollResult result, const ScandDeviceStatus *status, const GError *error,
                          gpointer user) {
  PollWork *w = user;
  ScandAutoscanEntry *e = w->entry;
  /* Valid: scand_autoscan_free() ends the loop's polls before it frees a. */
  ScandAutoscan *a = g_steal_pointer(&w->on_loop);
  a->loop_polls--;
  if (result == SCAND_STATUS_POLL_ASK_AGAIN && e->owner) {
    w->poll.at = 0;
    pool_push(a, w);
  } else {
    /* Handed back after the poller let go of the entry: it decides nothing. */
    if (result != SCAND_STATUS_POLL_ASK_AGAIN)
      feeder_poll_fill(&w->poll, result == SCAND_STATUS_POLL_OK, status, error);
    poll_done(w);
  }
  /* A place on the loop is free again, also for a reloaded poller's entries. */
  schedule(a);
}

/* A scanner waiting for a place on a full loop (see schedule()). */
static gboolean waits_for_loop(ScandAutoscan *a, ScandAutoscanEntry *e) {
  return a->http_loop && !e->buttons && !e->polls_blocking && a->loop_polls >= AUTOSCAN_LOOP_POLLS_MAX;
}

static gboolean on_poll_timer(gpointer data) {
  ScandAutoscan *a = data;
  a->timer = 0;
  gint64 now = g_get_monotonic_time();
  for (guint i = 0; i < a->entries->len; i++) {
    ScandAutoscanEntry *e = a->entries->pdata[i];
    if (now < e->next_poll || g_atomic_int_get(&e->job_running) || waits_for_loop(a, e) ||
        !g_atomic_int_compare_and_exchange(&e->polling, 0, 1))
      continue;
    /* On its grid: a poll that waited for a place on the loop does not push
     * every later one back. */
    e->next_poll += e->interval_us;
    if (e->next_poll <= now)
      e->next_poll = now + e->interval_us;
    PollWork *w = g_new0(PollWork, 1);
    w->entry = entry_ref(e);
    w->poll.at = now;
    w->on_loop = a;
    ScandOpenOptions options = { .tls_pin = e->tls_pin };
    if (!e->buttons && !e->polls_blocking &&
        scand_device_poll_status(e->uri, &options, a->http_loop, feeder_polled, w)) {
      a->loop_polls++;
      continue;
    }
    /* Its backend asks only with a blocking call: from now on in a thread. */
    e->polls_blocking = TRUE;
    w->on_loop = NULL;
    w->poll.at = 0;
    pool_push(a, w);
  }
  schedule(a);
  return G_SOURCE_REMOVE;
}

/* One timer, due when the next scanner is: no wakeup while nothing is due
 * (a scanner being polled or scanning is looked at again when that ends). */
static void schedule(ScandAutoscan *a) {
  gint64 next = G_MAXINT64;
  for (guint i = 0; i < a->entries->len; i++) {
    ScandAutoscanEntry *e = a->entries->pdata[i];
    if (!g_atomic_int_get(&e->polling) && !g_atomic_int_get(&e->job_running) && !waits_for_loop(a, e))
      next = MIN(next, e->next_poll);
  }
  /* A timer that fires by then already does. */
  if (a->timer && a->timer_due <= next)
    return;
  g_clear_handle_id(&a->timer, g_source_remove);
  if (next == G_MAXINT64)
    return;
  a->timer_due = next;
  gint64 wait_us = MAX(next - g_get_monotonic_time(), 0);
  a->timer = g_timeout_add((guint) ((wait_us + 999) / 1000), on_poll_timer, a);
}

/* --- sections --- */

/* The entry for a [scanner] section, or NULL when it does not auto-scan (or
 * cannot: logged). */
static ScandAutoscanEntry *entry_new(ScandAutoscan *a, ScandConfig *config, const char *section) {
  const char *mode = scand_config_get(config, "scanner", section, "auto-scan");
  const char *uri = scand_config_get(config, "scanner", section, "device");
  gboolean buttons = g_strcmp0(mode, "button") == 0;
  if ((!buttons && g_strcmp0(mode, "feeder") != 0) || !uri)
    return NULL;
  guint need = buttons ? SCAND_DEVICE_CAN_BUTTONS : SCAND_DEVICE_CAN_STATUS;
  if (!(scand_device_abilities(uri) & need)) {
    g_autofree char *line =
        g_strdup_printf("scanner %s: auto-scan = %s needs a device that reports %s (%s); ignored", section, mode,
                        buttons ? "its buttons, such as a SANE one" : "its feeder, such as an eSCL one", uri);
    a->host.log(a->host.user_data, line);
    return NULL;
  }
  ScandAutoscanEntry *e = g_atomic_rc_box_new0(ScandAutoscanEntry);
  e->owner = a;
  e->buttons = buttons;
  e->section = g_strdup(section);
  e->uri = g_strdup(uri);
  e->tls_pin = g_strdup(scand_config_get(config, "scanner", section, "tls-pin"));
  e->config = scand_config_ref(config);
  gint64 interval = 2, settle = 2, cooldown = 10;
  scand_config_get_duration(config, "scanner", section, "poll-interval", 2, &interval, NULL);
  scand_config_get_duration(config, "scanner", section, "settle", 2, &settle, NULL);
  scand_config_get_duration(config, "scanner", section, "cooldown", 10, &cooldown, NULL);
  e->interval_us = MAX(interval, 1) * G_USEC_PER_SEC;
  e->settle_us = settle * G_USEC_PER_SEC;
  e->cooldown_us = cooldown * G_USEC_PER_SEC;
  return e;
}

static void entry_release(gpointer data) {
  ScandAutoscanEntry *e = data;
  e->owner = NULL;
  entry_unref(e);
}

void scand_autoscan_reload(ScandAutoscan *a, ScandConfig *config) {
  g_clear_handle_id(&a->timer, g_source_remove);
  g_ptr_array_set_size(a->entries, 0);
  scand_metrics_scanners_forget();
  g_auto(GStrv) scanners = scand_config_list_sections(config, "scanner");
  for (guint i = 0; scanners && scanners[i]; i++) {
    ScandAutoscanEntry *e = entry_new(a, config, scanners[i]);
    if (e)
      g_ptr_array_add(a->entries, e);
  }
  /* Polls mostly wait on the network: a large fleet gets more of them at
   * once (4 up to 128 scanners, at most 16), so that one poll round fits in
   * the interval with room to spare. */
  a->pool_max = (gint) CLAMP(a->entries->len / 32, 4, 16);
  if (a->pool)
    g_thread_pool_set_max_threads(a->pool, a->pool_max, NULL);
  schedule(a);
}

ScandAutoscan *scand_autoscan_new(const ScandAutoscanHost *host, ScandConfig *config) {
  ScandAutoscan *a = g_new0(ScandAutoscan, 1);
  a->host = *host;
  a->entries = g_ptr_array_new_with_free_func(entry_release);
  g_autoptr(GError) error = NULL;
  a->http_loop = scand_http_loop_new(NULL, &error);
  if (!a->http_loop) {
    g_autofree char *line = g_strdup_printf("scanner polls: %s; each poll takes a thread", error->message);
    a->host.log(a->host.user_data, line);
  }
  scand_autoscan_reload(a, config);
  return a;
}

void scand_autoscan_free(ScandAutoscan *a) {
  if (!a)
    return;
  g_clear_handle_id(&a->timer, g_source_remove);
  g_ptr_array_unref(a->entries);
  /* Polls under way end; their results find their entry let go of. */
  scand_http_loop_free(a->http_loop);
  if (a->pool)
    g_thread_pool_free(a->pool, TRUE, TRUE);
  g_free(a);
}
