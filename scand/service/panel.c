/* Walk-up scanning in the daemon: one thread per [scanner] with a panel key.
 *
 * The thread registers the names (scand_panel_register), then waits for picks
 * (scand_panel_wait, which also renews subscriptions). A device that forgot
 * the registrations (restart, subscription ended) is registered again at
 * once; an unreachable one is retried with a growing pause. Picks go to the
 * main context, which starts the scan. What is registered is saved in the
 * spool (panel-state.c) after every change, and removed from the device when
 * the daemon stops. */
#include "scand/service/panel.h"
#include "scand/base/error.h"
#include "scand/base/log.h"
#include "backends/ws-discovery.h"
#include "scand/service/panel-listener.h"
#include "scand/service/panel-state.h"

#include <string.h>

#define PANEL_WAIT_S 30          /* one wait, then the loop looks at stop and state again */
#define PANEL_RETRY_MIN_MS 1000  /* first pause after a failure */
#define PANEL_RETRY_MAX_MS 60000 /* longest pause */
#define PANEL_LIFETIME_S 3600    /* subscription lifetime asked of pushing devices */
/* Picks a device may hand out: a burst of PANEL_PICK_BURST, then one per
 * PANEL_PICK_EVERY_S. A person at the panel starts a scan every few seconds
 * at most; a device (or whoever speaks from its address) flooding picks must
 * not fill the spool with jobs. */
#define PANEL_PICK_BURST 6
#define PANEL_PICK_EVERY_S 2
#define PANEL_DROP_LOG_EVERY_S 10 /* one log line per this many seconds of dropped picks */

typedef struct {
  ScandPanels *owner;
  char *section;
  char *uri;
  char *tls_pin;
  char *default_profile;
  guint lifetime_s; /* subscription lifetime asked of pushing devices */
  GPtrArray *names; /* ScandPanelName* */
  ScandPanel *panel;
  char *notify_url; /* the listener's route for a pushing device, or NULL */
  GThread *thread;
  GMutex lock; /* guards the fields below and stop */
  GCond wake;
  gboolean stop;
  char *state_word;         /* "registering", "registered", "unreachable: …" */
  GPtrArray *registrations; /* ScandPanelRegistration*, copy for describe() */
  /* The pick budget (only the watch's thread touches these). */
  guint pick_tokens;
  gint64 pick_refill_at;  /* monotonic µs: the next token */
  guint picks_dropped;    /* since the last log line about them */
  gint64 drop_logged_at;  /* monotonic µs */
  gint64 hello_logged_at; /* monotonic µs; main context */
} PanelWatch;

struct ScandPanels {
  char *spool_dir;
  ScandPanelListener *listener; /* for devices that push events; made when one is configured */
  ScandWsddMonitor *monitor;    /* their WS-Discovery Hellos (a restart) */
  ScandPanelPickFunc pick;
  gpointer user_data;
  GPtrArray *watches; /* PanelWatch* */
};

/* ---- one scanner's thread ---------------------------------------------------------- */

static void set_state(PanelWatch *w, const char *word, GPtrArray *registrations) {
  g_mutex_lock(&w->lock);
  g_free(w->state_word);
  w->state_word = g_strdup(word);
  if (registrations) {
    g_clear_pointer(&w->registrations, g_ptr_array_unref);
    w->registrations = g_ptr_array_ref(registrations);
  }
  g_mutex_unlock(&w->lock);
}

/* Sleeps ms unless told to stop. FALSE when stopping. */
static gboolean pause_unless_stopped(PanelWatch *w, guint ms) {
  gint64 until = g_get_monotonic_time() + (gint64) ms * 1000;
  g_mutex_lock(&w->lock);
  while (!w->stop && g_cond_wait_until(&w->wake, &w->lock, until))
    ;
  gboolean go_on = !w->stop;
  g_mutex_unlock(&w->lock);
  return go_on;
}

static gboolean stopping(PanelWatch *w) {
  g_mutex_lock(&w->lock);
  gboolean stop = w->stop;
  g_mutex_unlock(&w->lock);
  return stop;
}

/* Whether two registration lists say the same (names, handles, expiry). */
static gboolean same_registrations(GPtrArray *a, GPtrArray *b) {
  if (!a || !b || a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++) {
    ScandPanelRegistration *x = a->pdata[i], *y = b->pdata[i];
    if (g_strcmp0(x->name, y->name) || g_strcmp0(x->handle, y->handle) || x->expires != y->expires)
      return FALSE;
  }
  return TRUE;
}

/* Saves what the device holds now when it changed since the last save. */
static void record(PanelWatch *w, GPtrArray **saved) {
  g_autoptr(GPtrArray) now = scand_panel_list(w->panel);
  if (same_registrations(now, *saved))
    return;
  g_autoptr(GError) error = NULL;
  if (!scand_panel_state_save(w->owner->spool_dir, w->section, w->uri, now, &error))
    scand_log("scanner %s: panel: cannot record the registrations: %s", w->section, error->message);
  set_state(w, "registered", now);
  g_clear_pointer(saved, g_ptr_array_unref);
  *saved = g_ptr_array_ref(now);
}

/* A pick on its way to the main context; owns copies of everything, so it
 * may outlive the watch (a daemon that stops refuses the scan). */
typedef struct {
  ScandPanelPickFunc pick;
  gpointer user_data;
  char *section;
  char *profile;
  ScandPanelEvent event;
} Pick;

static const ScandPanelName *name_for(PanelWatch *w, const char *name) {
  for (guint i = 0; i < w->names->len; i++)
    if (strcmp(((ScandPanelName *) w->names->pdata[i])->name, name) == 0)
      return w->names->pdata[i];
  return NULL;
}

static gboolean pick_in_main(gpointer data) {
  Pick *p = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *job = p->pick(p->section, p->event.name, p->profile, &p->event, p->user_data, &error);
  if (job)
    scand_log("scanner %s: panel: \"%s\" picked (event %s): job %s with profile %s", p->section, p->event.name,
              p->event.id ? p->event.id : "?", job, p->profile ? p->profile : "(default)");
  else
    scand_log("scanner %s: panel: \"%s\" picked, but the scan could not start: %s", p->section, p->event.name,
              error->message);
  scand_panel_event_clear(&p->event);
  g_free(p->section);
  g_free(p->profile);
  g_free(p);
  return G_SOURCE_REMOVE;
}

/* TRUE when the pick budget has a token left (and takes it). */
static gboolean pick_budget_take(PanelWatch *w, gint64 now) {
  const gint64 every = (gint64) PANEL_PICK_EVERY_S * G_USEC_PER_SEC;
  while (w->pick_tokens < PANEL_PICK_BURST && now >= w->pick_refill_at) {
    w->pick_tokens++;
    w->pick_refill_at += every;
  }
  if (w->pick_tokens == PANEL_PICK_BURST)
    w->pick_refill_at = now + every;
  if (w->pick_tokens == 0)
    return FALSE;
  w->pick_tokens--;
  return TRUE;
}

static void send_pick(PanelWatch *w, ScandPanelEvent *event) {
  const ScandPanelName *n = name_for(w, event->name);
  if (!n) {
    scand_log("scanner %s: panel: the device reported a pick of \"%s\", which is not ours; ignored", w->section,
              event->name);
    scand_panel_event_clear(event);
    return;
  }
  gint64 now = g_get_monotonic_time();
  if (!pick_budget_take(w, now)) {
    w->picks_dropped++;
    if (now - w->drop_logged_at >= (gint64) PANEL_DROP_LOG_EVERY_S * G_USEC_PER_SEC) {
      scand_log("scanner %s: panel: more picks than a person makes (%u ignored; at most %d, then one per %d s)",
                w->section, w->picks_dropped, PANEL_PICK_BURST, PANEL_PICK_EVERY_S);
      w->picks_dropped = 0;
      w->drop_logged_at = now;
    }
    scand_panel_event_clear(event);
    return;
  }
  Pick *p = g_new0(Pick, 1);
  p->pick = w->owner->pick;
  p->user_data = w->owner->user_data;
  p->section = g_strdup(w->section);
  p->profile = g_strdup(n->profile ? n->profile : w->default_profile);
  p->event = *event;
  g_main_context_invoke(NULL, pick_in_main, p);
}

/* Registers until it works or the daemon stops. FALSE when stopping. */
static gboolean register_names(PanelWatch *w, GPtrArray **saved) {
  guint pause = PANEL_RETRY_MIN_MS;
  g_autofree char *last_problem = NULL;
  while (!stopping(w)) {
    g_autoptr(GError) error = NULL;
    if (scand_panel_register(w->panel, &error)) {
      g_autoptr(GString) list = g_string_new(NULL);
      for (guint i = 0; i < w->names->len; i++)
        g_string_append_printf(list, "%s\"%s\"", i ? ", " : "", ((ScandPanelName *) w->names->pdata[i])->name);
      /* Recorded (state file, ListPanels) before it is said. */
      g_clear_pointer(saved, g_ptr_array_unref);
      record(w, saved);
      scand_log("scanner %s: panel: %s registered", w->section, list->str);
      return TRUE;
    }
    if (g_error_matches(error, SCAND_ERROR, SCAND_ERROR_CANCELLED))
      return FALSE;
    /* Log a problem once, not every retry. */
    if (g_strcmp0(last_problem, error->message) != 0) {
      scand_log("scanner %s: panel: %s (retrying)", w->section, error->message);
      g_free(last_problem);
      last_problem = g_strdup(error->message);
    }
    g_autofree char *word = g_strdup_printf("unreachable: %s", error->message);
    set_state(w, word, NULL);
    if (!pause_unless_stopped(w, pause))
      return FALSE;
    pause = MIN(pause * 2, PANEL_RETRY_MAX_MS);
  }
  return FALSE;
}

static gpointer watch_thread(gpointer data) {
  PanelWatch *w = data;
  g_autoptr(GPtrArray) saved = NULL;
  gboolean registered = FALSE;
  guint pause = PANEL_RETRY_MIN_MS;
  while (!stopping(w)) {
    if (!registered) {
      set_state(w, "registering", NULL);
      if (!register_names(w, &saved))
        break;
      registered = TRUE;
      pause = PANEL_RETRY_MIN_MS;
    }
    ScandPanelEvent event;
    gboolean got = FALSE;
    g_autoptr(GError) error = NULL;
    gint64 deadline = g_get_monotonic_time() + PANEL_WAIT_S * G_USEC_PER_SEC;
    if (scand_panel_wait(w->panel, deadline, &event, &got, &error)) {
      pause = PANEL_RETRY_MIN_MS;
      record(w, &saved);
      if (got)
        send_pick(w, &event);
      continue;
    }
    if (g_error_matches(error, SCAND_ERROR, SCAND_ERROR_CANCELLED))
      break;
    if (g_error_matches(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND)) {
      scand_log("scanner %s: panel: %s; registering again", w->section, error->message);
      registered = FALSE;
      continue;
    }
    scand_log("scanner %s: panel: %s (retrying in %u s)", w->section, error->message, pause / 1000);
    g_autofree char *word = g_strdup_printf("unreachable: %s", error->message);
    set_state(w, word, NULL);
    if (!pause_unless_stopped(w, pause))
      break;
    pause = MIN(pause * 2, PANEL_RETRY_MAX_MS);
  }
  return NULL;
}

/* ---- setup ------------------------------------------------------------------------ */

static void watch_free(PanelWatch *w) {
  g_free(w->notify_url);
  g_free(w->section);
  g_free(w->uri);
  g_free(w->tls_pin);
  g_free(w->default_profile);
  g_clear_pointer(&w->names, g_ptr_array_unref);
  g_free(w->state_word);
  g_clear_pointer(&w->registrations, g_ptr_array_unref);
  g_mutex_clear(&w->lock);
  g_cond_clear(&w->wake);
  g_free(w);
}

/* The host part of a device URI ("wsd:http://10.0.0.5:5357/x" → "10.0.0.5"). */
static char *device_host(const char *uri) {
  const char *rest = strchr(uri, ':');
  g_autoptr(GUri) u = rest ? g_uri_parse(rest + 1, G_URI_FLAGS_NON_DNS, NULL) : NULL;
  return u && g_uri_get_host(u) ? g_strdup(g_uri_get_host(u)) : NULL;
}

/* In the main context: a message the device pushed to its route. */
static gboolean on_pushed(GBytes *body, gpointer user_data, GError **error) {
  PanelWatch *w = user_data;
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  return scand_panel_push(w->panel, data, len, error);
}

/* In the main context: a device said Hello (or Bye). A Hello from a device we
 * keep a subscription with — a restart, typically — makes its panel check the
 * subscription at once instead of at the next renewal. */
static void on_discovery(const ScandWsddMessage *msg, gpointer user_data) {
  ScandPanels *panels = user_data;
  if (msg->kind != SCAND_WSDD_HELLO)
    return;
  for (guint i = 0; i < panels->watches->len; i++) {
    PanelWatch *w = panels->watches->pdata[i];
    g_autofree char *host = w->panel && w->notify_url ? device_host(w->uri) : NULL;
    for (guint j = 0; host && msg->xaddrs[j]; j++) {
      g_autoptr(GUri) u = g_uri_parse(msg->xaddrs[j], G_URI_FLAGS_NON_DNS, NULL);
      if (u && g_uri_get_host(u) && g_ascii_strcasecmp(g_uri_get_host(u), host) == 0) {
        /* One line per PANEL_DROP_LOG_EVERY_S however many Hellos come. */
        gint64 now = g_get_monotonic_time();
        if (!w->hello_logged_at || now - w->hello_logged_at >= (gint64) PANEL_DROP_LOG_EVERY_S * G_USEC_PER_SEC) {
          scand_log("scanner %s: panel: the device announced itself (WS-Discovery Hello); checking the subscription",
                    w->section);
          w->hello_logged_at = now;
        }
        scand_panel_device_seen(w->panel);
        break;
      }
    }
  }
}

/* Hears Hello from pushing devices (best effort: without multicast the
 * subscriptions are still checked at each renewal). */
static void start_monitor(ScandPanels *panels, ScandConfig *config) {
  if (panels->monitor)
    return;
  g_auto(GStrv) interfaces = scand_config_split_list(scand_config_get(config, "scand", NULL, "discovery-interfaces"));
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(GError) error = NULL;
  panels->monitor = scand_wsdd_monitor_new((const char *const *) interfaces, on_discovery, panels, &warnings, &error);
  if (!panels->monitor)
    scand_log("panel: not listening for WS-Discovery Hello (a device restart is noticed at the next renewal): %s",
              error->message);
}

/* A route on the listener (made on first use) for a device that pushes. */
static gboolean open_route(ScandPanels *panels, ScandConfig *config, PanelWatch *w, GError **error) {
  if (!panels->listener) {
    const char *address = scand_config_get(config, "scand", NULL, "panel-listen");
    gint64 port = 0;
    if (!scand_config_get_int(config, "scand", NULL, "panel-port", 0, &port, error))
      return FALSE;
    panels->listener = scand_panel_listener_new(address, (guint) port, error);
    if (!panels->listener)
      return FALSE;
    scand_log("panel listener: port %u", scand_panel_listener_get_port(panels->listener));
    start_monitor(panels, config);
  }
  g_autofree char *host = device_host(w->uri);
  if (!host) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "no host in %s", w->uri);
    return FALSE;
  }
  w->notify_url = scand_panel_listener_add(panels->listener, host, on_pushed, w, error);
  return w->notify_url != NULL;
}

static PanelWatch *watch_new(ScandPanels *panels, ScandConfig *config, const char *section, const char *client_id) {
  const char *value = scand_config_get(config, "scanner", section, "panel");
  const char *uri = scand_config_get(config, "scanner", section, "device");
  g_autoptr(GPtrArray) names = NULL;
  g_autofree char *problem = NULL;
  if (!uri || !scand_panel_names_parse(value, &names, &problem)) {
    scand_log("scanner %s: panel: %s; no walk-up for this scanner", section, problem ? problem : "no device");
    return NULL;
  }
  PanelWatch *w = g_new0(PanelWatch, 1);
  w->pick_tokens = PANEL_PICK_BURST;
  w->drop_logged_at = g_get_monotonic_time() - (gint64) PANEL_DROP_LOG_EVERY_S * G_USEC_PER_SEC;
  w->owner = panels;
  w->section = g_strdup(section);
  w->uri = g_strdup(uri);
  w->tls_pin = g_strdup(scand_config_get(config, "scanner", section, "tls-pin"));
  w->default_profile = g_strdup(scand_config_get(config, "scanner", section, "profile"));
  gint64 lifetime = PANEL_LIFETIME_S;
  scand_config_get_duration(config, "scanner", section, "panel-lifetime", PANEL_LIFETIME_S, &lifetime, NULL);
  w->lifetime_s = (guint) CLAMP(lifetime, 10, 24 * 3600);
  w->names = g_steal_pointer(&names);
  g_mutex_init(&w->lock);
  g_cond_init(&w->wake);
  w->state_word = g_strdup("registering");
  g_autoptr(GPtrArray) shown = g_ptr_array_new();
  for (guint i = 0; i < w->names->len; i++)
    g_ptr_array_add(shown, ((ScandPanelName *) w->names->pdata[i])->name);
  g_ptr_array_add(shown, NULL);
  g_auto(GStrv) previous = scand_panel_state_previous(panels->spool_dir, section, uri);
  g_autoptr(GError) error = NULL;
  if (scand_panel_pushes(uri) && !open_route(panels, config, w, &error)) {
    scand_log("scanner %s: panel: %s; no walk-up for this scanner", section, error->message);
    watch_free(w);
    return NULL;
  }
  ScandPanelSetup setup = {
    .names = (const char *const *) shown->pdata,
    .client_id = client_id,
    .hostname = g_get_host_name(),
    .notify_url = w->notify_url,
    .lifetime_s = w->lifetime_s,
    .previous = (const char *const *) previous,
  };
  ScandOpenOptions options = { .tls_pin = w->tls_pin };
  w->panel = scand_panel_open(uri, &options, &setup, &error);
  if (!w->panel) {
    scand_log("scanner %s: panel: %s; no walk-up for this scanner", section, error->message);
    scand_panel_listener_remove(panels->listener, w->notify_url);
    watch_free(w);
    return NULL;
  }
  return w;
}

ScandPanels *scand_panels_new(ScandConfig *config, const char *spool_dir, ScandPanelPickFunc pick, gpointer user_data) {
  ScandPanels *panels = g_new0(ScandPanels, 1);
  panels->spool_dir = g_strdup(spool_dir);
  panels->pick = pick;
  panels->user_data = user_data;
  panels->watches = g_ptr_array_new();
  g_auto(GStrv) scanners = scand_config_list_sections(config, "scanner");
  g_autofree char *client_id = NULL;
  for (guint i = 0; scanners && scanners[i]; i++) {
    if (!scand_config_get(config, "scanner", scanners[i], "panel"))
      continue;
    if (!client_id) {
      g_autoptr(GError) error = NULL;
      client_id = scand_panel_state_client_id(spool_dir, &error);
      if (!client_id) {
        scand_log("panel: %s; no walk-up scanning", error->message);
        break;
      }
    }
    PanelWatch *w = watch_new(panels, config, scanners[i], client_id);
    if (!w)
      continue;
    g_autofree char *thread_name = g_strdup_printf("panel-%u", i);
    w->thread = g_thread_new(thread_name, watch_thread, w);
    g_ptr_array_add(panels->watches, w);
  }
  return panels;
}

void scand_panels_free(ScandPanels *panels) {
  if (!panels)
    return;
  g_clear_pointer(&panels->monitor, scand_wsdd_monitor_free);
  for (guint i = 0; i < panels->watches->len; i++) {
    PanelWatch *w = panels->watches->pdata[i];
    /* Nothing pushed from now on reaches a panel that is going away. */
    scand_panel_listener_remove(panels->listener, w->notify_url);
    g_mutex_lock(&w->lock);
    w->stop = TRUE;
    g_cond_broadcast(&w->wake);
    g_mutex_unlock(&w->lock);
    scand_panel_cancel(w->panel);
  }
  for (guint i = 0; i < panels->watches->len; i++) {
    PanelWatch *w = panels->watches->pdata[i];
    g_thread_join(w->thread);
    /* The device stops listing us: a person at the panel must not pick a
     * destination nobody serves. */
    scand_panel_close(g_steal_pointer(&w->panel));
    g_autoptr(GError) error = NULL;
    if (!scand_panel_state_save(panels->spool_dir, w->section, w->uri, NULL, &error))
      scand_log("scanner %s: panel: %s", w->section, error->message);
    watch_free(w);
  }
  g_ptr_array_unref(panels->watches);
  scand_panel_listener_free(panels->listener);
  g_free(panels->spool_dir);
  g_free(panels);
}

GVariant *scand_panels_describe(ScandPanels *panels) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("a(sa(sx)s)"));
  for (guint i = 0; panels && i < panels->watches->len; i++) {
    PanelWatch *w = panels->watches->pdata[i];
    GVariantBuilder regs;
    g_variant_builder_init(&regs, G_VARIANT_TYPE("a(sx)"));
    g_mutex_lock(&w->lock);
    for (guint j = 0; w->registrations && j < w->registrations->len; j++) {
      ScandPanelRegistration *r = w->registrations->pdata[j];
      g_variant_builder_add(&regs, "(sx)", r->name, r->expires);
    }
    g_variant_builder_add(&b, "(sa(sx)s)", w->section, &regs, w->state_word ? w->state_word : "");
    g_mutex_unlock(&w->lock);
  }
  return g_variant_builder_end(&b);
}
