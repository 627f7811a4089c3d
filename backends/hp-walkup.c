/* HP walk-up ("Scan to Computer" on an HP panel) for eSCL devices: the panel
 * entry of the escl backend.
 *
 * register: take the event table's ETag as a baseline, then make sure each
 * configured name is a destination on the device (adopting the one a previous
 * run recorded, POSTing the others). wait: long-poll the event table
 * (GET /EventMgmt/EventTable?timeout=DECISECONDS with If-None-Match); a
 * ScanEvent naming one of our destinations is a person's choice. On
 * WalkupScanToComp devices the panel then says HostSelected until Start is
 * pressed (ScanRequested); the destination then carries the settings chosen
 * (ScanPlexMode, Shortcut). A PowerUpEvent means the device restarted and may
 * have forgotten its destinations. close: DELETE our destinations.
 * The messages themselves are pure functions in hp-walkup-xml.c. */
#include "backends/device-http.h"
#include "backends/hp-walkup-xml.h"
#include "backends/panel-private.h"
#include "scand/base/error.h"
#include "scand/base/http.h"

#include <string.h>

#define HP_MAX_DOC (1024 * 1024)
#define HP_POLL_MAX_DS 1200 /* longest long poll asked for: 2 min, as HP's own software */
#define HP_POLL_SLACK_S 20  /* a long poll may take this much longer than asked */
#define HP_CONNECT_TIMEOUT_MS 10000
#define HP_REQUEST_TIMEOUT_MS 20000 /* any request but the long poll */
#define HP_CLOSE_TIMEOUT_MS 3000    /* each DELETE when closing */
#define HP_USER_ACTION_MS 60000     /* HostSelected may last this long (WalkupScanToCompCaps UserActionTimeout) */
#define HP_SETTINGS_TRIES 20        /* GETs of the destination until the panel's choice shows */
#define HP_STEP_MS 250              /* between those GETs */
#define HP_PENDING_MAX 8            /* picks waiting to be handed out */
#define HP_NO_ETAG_PAUSE_MS 1000    /* between polls of a device that sends no ETag */
#define HP_QUICK_POLL_MS 1000       /* a long poll answered sooner than this is "quick" */
#define HP_QUICK_POLLS_MAX 5        /* quick ones in a row without a pick, then paced */

typedef struct {
  char *name;
  char *path; /* the destination's resource path on the device */
} HpDest;

typedef struct {
  ScandPanel base;
  char *device; /* "escl:http://…" for messages */
  char *root;   /* "http://host:port", no path */
  ScandHttp *http;
  GStrv names;
  char *hostname;
  GStrv previous; /* "name\tpath" of an earlier run */
  const HpWalkupApi *api;
  GPtrArray *dests; /* HpDest*; empty until registered */
  gboolean registered;
  char *etag;        /* of the last event table seen */
  GHashTable *seen;  /* aging stamps of ScanEvents already looked at */
  GQueue pending;    /* HpEvent* of ours not handed out yet */
  gint seen_hello;   /* atomic: the device announced itself */
  guint quick_polls; /* long polls in a row answered at once with nothing for us */
} HpPanel;

static void dest_free(HpDest *d) {
  g_free(d->name);
  g_free(d->path);
  g_free(d);
}

/* ---- HTTP ------------------------------------------------------------------ */

/* One request to path (under the device root; an absolute URL of the device
 * counts by its path). if_none_match adds a conditional GET. Returns the
 * reply whatever its status, or NULL when none arrived. */
static ScandHttpReply *hp_http(HpPanel *p, const char *method, const char *path, const char *body,
                               const char *if_none_match, guint timeout_ms, GError **error) {
  g_autofree char *rel = hp_walkup_uri_path(path);
  const char *query = strchr(path, '?');
  g_autofree char *url = g_strconcat(p->root, rel ? rel : "/", query ? query : "", NULL);
  g_autofree char *inm = if_none_match ? g_strdup_printf("If-None-Match: \"%s\"", if_none_match) : NULL;
  const char *headers[3] = { NULL };
  guint n = 0;
  if (body)
    headers[n++] = "Content-Type: text/xml";
  if (inm)
    headers[n++] = inm;
  ScandHttpRequest request = {
    .method = method,
    .url = url,
    .headers = headers,
    .body = body,
    .body_len = body ? strlen(body) : 0,
    .timeout_ms = timeout_ms,
  };
  return scand_http_perform(p->http, &request, error);
}

/* A GET that must answer 200 with a document; NOT_FOUND for a 404. */
static ScandHttpReply *hp_get(HpPanel *p, const char *path, GError **error) {
  g_autoptr(ScandHttpReply) r = hp_http(p, "GET", path, NULL, NULL, HP_REQUEST_TIMEOUT_MS, error);
  if (!r)
    return NULL;
  if (r->status == 200 && r->body->len)
    return g_steal_pointer(&r);
  g_autofree char *rel = hp_walkup_uri_path(path);
  g_set_error(error, SCAND_ERROR, r->status == 404 ? SCAND_ERROR_NOT_FOUND : SCAND_ERROR_IO,
              "%s: walk-up: GET %s: HTTP %ld%s", p->device, rel ? rel : path, r->status,
              r->status == 200 ? " with an empty body" : "");
  return NULL;
}

/* Errors of the HTTP client that mean "the device cannot be reached" are
 * I/O for the walk-up loop: NOT_FOUND is kept for "the device forgot". */
static gboolean unreachable(GError **error) {
  if (error && *error && (*error)->domain == SCAND_ERROR && (*error)->code == SCAND_ERROR_NOT_FOUND)
    (*error)->code = SCAND_ERROR_IO;
  return FALSE;
}

static const char *body_of(ScandHttpReply *r, gsize *len) {
  *len = r->body->len;
  return (const char *) r->body->data;
}

/* ---- open ------------------------------------------------------------------ */

static void hp_free(HpPanel *p) {
  scand_http_free(p->http);
  g_free(p->device);
  g_free(p->root);
  g_strfreev(p->names);
  g_free(p->hostname);
  g_strfreev(p->previous);
  g_clear_pointer(&p->dests, g_ptr_array_unref);
  g_free(p->etag);
  g_clear_pointer(&p->seen, g_hash_table_unref);
  g_queue_clear_full(&p->pending, (GDestroyNotify) hp_event_free);
  g_free(p);
}

/* "http[s]://host[:port]" of an eSCL URI, dropping the eSCL root path. */
static char *device_root(const char *rest) {
  g_autoptr(GUri) u = g_uri_parse(rest, G_URI_FLAGS_NON_DNS, NULL);
  if (!u || !g_uri_get_host(u) || !*g_uri_get_host(u))
    return NULL;
  const char *scheme = g_uri_get_scheme(u);
  if (g_strcmp0(scheme, "http") != 0 && g_strcmp0(scheme, "https") != 0)
    return NULL;
  const char *host = g_uri_get_host(u);
  gboolean v6 = strchr(host, ':') != NULL;
  int port = g_uri_get_port(u);
  return port > 0 ? g_strdup_printf("%s://%s%s%s:%d", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port)
                  : g_strdup_printf("%s://%s%s%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "");
}

static ScandPanel *hp_open(const char *rest, const ScandOpenOptions *options, const ScandPanelSetup *setup,
                           GError **error) {
  g_autofree char *root = device_root(rest);
  if (!root) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "device \"escl:%s\": not an eSCL URI (expected escl:http[s]://HOST[:PORT]/eSCL)", rest);
    return NULL;
  }
  g_autofree char *device = g_strdup_printf("escl:%s", rest);
  const ScandHttpOptions limits = {
    .connect_timeout_ms = HP_CONNECT_TIMEOUT_MS,
    .timeout_ms = HP_REQUEST_TIMEOUT_MS,
    /* A long poll is silent until the device has news. */
    .stall_s = HP_POLL_MAX_DS / 10 + HP_POLL_SLACK_S,
    .max_reply = HP_MAX_DOC,
  };
  ScandHttp *http = scand_device_http_new(device, options, &limits, error);
  if (!http)
    return NULL;
  HpPanel *p = g_new0(HpPanel, 1);
  p->http = http;
  p->device = g_steal_pointer(&device);
  p->root = g_steal_pointer(&root);
  p->names = g_strdupv((char **) setup->names);
  p->hostname = g_strdup(setup->hostname && *setup->hostname ? setup->hostname : g_get_host_name());
  p->previous = setup->previous ? g_strdupv((char **) setup->previous) : NULL;
  p->dests = g_ptr_array_new_with_free_func((GDestroyNotify) dest_free);
  p->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init(&p->pending);
  return &p->base;
}

/* ---- register ---------------------------------------------------------------- */

/* Which walk-up generation the device speaks. */
static gboolean detect_api(HpPanel *p, GError **error) {
  if (p->api)
    return TRUE;
  for (guint i = 0; hp_walkup_apis[i].name; i++) {
    g_autoptr(GError) local = NULL;
    g_autoptr(ScandHttpReply) r = hp_get(p, hp_walkup_apis[i].caps_path, &local);
    if (r) {
      p->api = &hp_walkup_apis[i];
      return TRUE;
    }
    /* 404: not this generation; anything else: the device is not answering. */
    if (!g_error_matches(local, SCAND_ERROR, SCAND_ERROR_NOT_FOUND) ||
        scand_http_last_outcome(p->http) != SCAND_HTTP_OK) {
      g_propagate_error(error, g_steal_pointer(&local));
      return unreachable(error);
    }
  }
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
              "%s: the device offers no HP walk-up scanning (neither %s nor %s answers)", p->device,
              hp_walkup_apis[0].caps_path, hp_walkup_apis[1].caps_path);
  return FALSE;
}

/* Records the ScanEvents of a table as seen (dropping older ones) and notes a
 * restart. Returns the events of ours not seen before (HpEvent*). */
static GPtrArray *take_table(HpPanel *p, const char *xml, gsize len, gboolean *restarted, GError **error) {
  g_autoptr(GPtrArray) events = NULL;
  if (!hp_event_table_decode(xml, len, &events, error))
    return NULL;
  GPtrArray *ours = g_ptr_array_new_with_free_func((GDestroyNotify) hp_event_free);
  GHashTable *now_seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < events->len; i++) {
    HpEvent *e = events->pdata[i];
    if (!e->aging_stamp)
      continue;
    gboolean fresh = !g_hash_table_contains(p->seen, e->aging_stamp);
    g_hash_table_add(now_seen, g_strdup(e->aging_stamp));
    if (!fresh)
      continue;
    if (strcmp(e->category, "PowerUpEvent") == 0 && restarted)
      *restarted = TRUE;
    if (strcmp(e->category, "ScanEvent") != 0 || !e->destination_uri)
      continue;
    for (guint j = 0; j < p->dests->len; j++) {
      HpDest *d = p->dests->pdata[j];
      if (hp_walkup_uri_same(d->path, e->destination_uri)) {
        g_ptr_array_add(ours, g_steal_pointer(&events->pdata[i]));
        break;
      }
    }
  }
  g_hash_table_unref(p->seen);
  p->seen = now_seen;
  return ours;
}

/* The current event table becomes the baseline: what is in it now is old. */
static gboolean take_baseline(HpPanel *p, GError **error) {
  g_autoptr(ScandHttpReply) r = hp_get(p, HP_EVENT_TABLE_PATH, error);
  if (!r)
    return unreachable(error);
  gsize len;
  const char *xml = body_of(r, &len);
  g_hash_table_remove_all(p->seen);
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) ours = take_table(p, xml, len, NULL, &local);
  if (!ours) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: walk-up: %s", p->device, local->message);
    return FALSE;
  }
  g_free(p->etag);
  p->etag = hp_etag_parse(scand_http_reply_header(r, "ETag"));
  return TRUE;
}

/* The path a previous run recorded for name, or NULL. */
static const char *previous_path(HpPanel *p, const char *name) {
  gsize n = strlen(name);
  for (guint i = 0; p->previous && p->previous[i]; i++)
    if (strncmp(p->previous[i], name, n) == 0 && p->previous[i][n] == '\t')
      return p->previous[i] + n + 1;
  return NULL;
}

static void delete_destination(HpPanel *p, const char *path) {
  g_autoptr(GError) ignored = NULL;
  g_autoptr(ScandHttpReply) r = hp_http(p, "DELETE", path, NULL, NULL, HP_CLOSE_TIMEOUT_MS, &ignored);
}

/* Previous registrations whose name is no longer configured go away. */
static void drop_unconfigured(HpPanel *p, GPtrArray *on_device) {
  for (guint i = 0; p->previous && p->previous[i]; i++) {
    g_auto(GStrv) kv = g_strsplit(p->previous[i], "\t", 2);
    if (!kv[0] || !kv[1] || g_strv_contains((const char *const *) p->names, kv[0]))
      continue;
    for (guint j = 0; j < on_device->len; j++)
      if (hp_walkup_uri_same(((HpWalkupDestination *) on_device->pdata[j])->uri, kv[1]))
        delete_destination(p, kv[1]);
  }
}

/* POSTs a destination; returns its path (newly allocated) or NULL. */
static char *post_destination(HpPanel *p, const char *name, GError **error) {
  g_autofree char *xml = hp_walkup_destination_build(p->api, name, p->hostname);
  g_autoptr(ScandHttpReply) r = hp_http(p, "POST", p->api->destinations_path, xml, NULL, HP_REQUEST_TIMEOUT_MS, error);
  if (!r) {
    unreachable(error);
    return NULL;
  }
  char *path = r->status == 201 ? hp_walkup_uri_path(scand_http_reply_header(r, "Location")) : NULL;
  if (!path)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s: walk-up: the device refused destination \"%s\" (POST %s: HTTP %ld%s)", p->device, name,
                p->api->destinations_path, r->status, r->status == 201 ? " without a usable Location" : "");
  return path;
}

/* The destinations the device lists now (HpWalkupDestination*), or NULL. */
static GPtrArray *list_destinations(HpPanel *p, GError **error) {
  g_autoptr(ScandHttpReply) r = hp_get(p, p->api->destinations_path, error);
  if (!r) {
    unreachable(error);
    return NULL;
  }
  gsize len;
  const char *xml = body_of(r, &len);
  GPtrArray *list = NULL;
  g_autoptr(GError) local = NULL;
  if (!hp_walkup_destinations_decode(xml, len, &list, &local))
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: walk-up: %s", p->device, local->message);
  return list;
}

/* Remembers what this run holds: the next run may adopt it. */
static void keep_as_previous(HpPanel *p) {
  g_strfreev(p->previous);
  GStrvBuilder *b = g_strv_builder_new();
  for (guint i = 0; i < p->dests->len; i++) {
    HpDest *d = p->dests->pdata[i];
    g_autofree char *entry = g_strdup_printf("%s\t%s", d->name, d->path);
    g_strv_builder_add(b, entry);
  }
  p->previous = g_strv_builder_end(b);
  g_strv_builder_unref(b);
}

static gboolean hp_register(ScandPanel *panel, GError **error) {
  HpPanel *p = (HpPanel *) panel;
  p->registered = FALSE;
  g_atomic_int_set(&p->seen_hello, 0);
  if (!detect_api(p, error) || !take_baseline(p, error))
    return FALSE;
  g_autoptr(GPtrArray) on_device = list_destinations(p, error);
  if (!on_device)
    return FALSE;
  drop_unconfigured(p, on_device);
  g_ptr_array_set_size(p->dests, 0);
  for (guint i = 0; p->names[i]; i++) {
    /* Adopt our own registration of an earlier run if the device still has
     * it under the same name; another computer's is never taken over. */
    const char *prev = previous_path(p, p->names[i]);
    char *path = NULL;
    for (guint j = 0; prev && !path && j < on_device->len; j++) {
      HpWalkupDestination *d = on_device->pdata[j];
      if (hp_walkup_uri_same(d->uri, prev) && g_strcmp0(d->name, p->names[i]) == 0)
        path = hp_walkup_uri_path(d->uri);
    }
    if (!path)
      path = post_destination(p, p->names[i], error);
    if (!path)
      return FALSE;
    HpDest *d = g_new0(HpDest, 1);
    d->name = g_strdup(p->names[i]);
    d->path = path;
    g_ptr_array_add(p->dests, d);
  }
  keep_as_previous(p);
  p->registered = TRUE;
  return TRUE;
}

/* ---- wait ---------------------------------------------------------------------- */

static HpDest *dest_for(HpPanel *p, const char *uri) {
  for (guint i = 0; i < p->dests->len; i++)
    if (hp_walkup_uri_same(((HpDest *) p->dests->pdata[i])->path, uri))
      return p->dests->pdata[i];
  return NULL;
}

/* WalkupScanToComp: waits while the panel says HostSelected. TRUE with *go
 * when Start was pressed, *go FALSE when the person gave up. */
static gboolean await_start(HpPanel *p, const char *comp_uri, gboolean *go, GError **error) {
  *go = FALSE;
  gint64 until = g_get_monotonic_time() + (gint64) HP_USER_ACTION_MS * 1000;
  for (;;) {
    g_autoptr(ScandHttpReply) r = hp_get(p, comp_uri, error);
    if (!r)
      return unreachable(error);
    gsize len;
    const char *xml = body_of(r, &len);
    HpCompEvent ev;
    g_autoptr(GError) local = NULL;
    if (!hp_comp_event_decode(xml, len, &ev, NULL, &local)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: walk-up: %s", p->device, local->message);
      return FALSE;
    }
    if (ev == HP_COMP_EVENT_SCAN_REQUESTED || ev == HP_COMP_EVENT_SCAN_NEW_PAGE_REQUESTED) {
      *go = TRUE;
      return TRUE;
    }
    if (ev != HP_COMP_EVENT_HOST_SELECTED || g_get_monotonic_time() > until)
      return TRUE;
    if (!scand_http_sleep(p->http, HP_STEP_MS, error))
      return FALSE;
  }
}

/* Reads what the person chose (duplex, shortcut) from our destination; the
 * choice may take a moment to appear there. Fills event. */
static gboolean read_choice(HpPanel *p, HpDest *d, ScandPanelEvent *event, GError **error) {
  for (guint attempt = 0; attempt < HP_SETTINGS_TRIES; attempt++) {
    g_autoptr(ScandHttpReply) r = hp_get(p, d->path, error);
    if (!r)
      return unreachable(error);
    gsize len;
    const char *xml = body_of(r, &len);
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GError) local = NULL;
    if (!hp_walkup_destinations_decode(xml, len, &list, &local)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: walk-up: %s", p->device, local->message);
      return FALSE;
    }
    HpWalkupDestination *mine = list->len ? list->pdata[0] : NULL;
    if (mine && mine->shortcut) {
      event->duplex = mine->duplex;
      event->shortcut = g_strdup(mine->shortcut);
      return TRUE;
    }
    if (!scand_http_sleep(p->http, HP_STEP_MS, error))
      return FALSE;
  }
  return TRUE; /* no choice shown: the profile alone decides */
}

/* Turns a pending ScanEvent of ours into an event for the caller. *got FALSE
 * when the person gave up before pressing Start. */
static gboolean resolve(HpPanel *p, HpEvent *e, ScandPanelEvent *event, gboolean *got, GError **error) {
  HpDest *d = dest_for(p, e->destination_uri);
  if (!d)
    return TRUE;
  if (e->comp_event_uri) {
    gboolean go;
    if (!await_start(p, e->comp_event_uri, &go, error))
      return FALSE;
    if (!go)
      return TRUE;
  }
  if (!read_choice(p, d, event, error))
    return FALSE;
  event->name = g_strdup(d->name);
  event->id = g_strdup(e->aging_stamp);
  *got = TRUE;
  return TRUE;
}

static gboolean lost(HpPanel *p, GError **error) {
  p->registered = FALSE;
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND,
              "%s: walk-up: the device restarted and forgot our destinations", p->device);
  return FALSE;
}

/* TRUE when every destination of ours is still on the device; FALSE with
 * NOT_FOUND (forgotten) or IO. */
static gboolean check_registered(HpPanel *p, GError **error) {
  for (guint i = 0; i < p->dests->len; i++) {
    g_autoptr(GError) local = NULL;
    g_autoptr(ScandHttpReply) r = hp_get(p, ((HpDest *) p->dests->pdata[i])->path, &local);
    if (r)
      continue;
    if (g_error_matches(local, SCAND_ERROR, SCAND_ERROR_NOT_FOUND) && scand_http_last_outcome(p->http) == SCAND_HTTP_OK)
      return lost(p, error);
    g_propagate_error(error, g_steal_pointer(&local));
    return unreachable(error);
  }
  return TRUE;
}

/* After a long poll that began at started: a device that answers at once
 * every time (no ETag, the same one, a new one each time, an immediate 304)
 * must not make us spin; after HP_QUICK_POLLS_MAX quick answers in a row
 * without a pick, or at once when the answer cannot be news (unchanged),
 * the next poll waits HP_NO_ETAG_PAUSE_MS. */
static gboolean pace(HpPanel *p, gint64 started, gboolean unchanged, GError **error) {
  if (!g_queue_is_empty(&p->pending)) {
    p->quick_polls = 0;
    return TRUE;
  }
  if (g_get_monotonic_time() - started < (gint64) HP_QUICK_POLL_MS * 1000)
    p->quick_polls++;
  else
    p->quick_polls = 0;
  if (unchanged || p->quick_polls >= HP_QUICK_POLLS_MAX)
    return scand_http_sleep(p->http, HP_NO_ETAG_PAUSE_MS, error);
  return TRUE;
}

/* One long poll of the event table; queues our new ScanEvents. */
static gboolean poll_once(HpPanel *p, gint64 deadline, GError **error) {
  gint64 started = g_get_monotonic_time();
  gint64 left_ds = (deadline - started) / 100000;
  long ds = (long) CLAMP(left_ds, 1, HP_POLL_MAX_DS);
  g_autofree char *path = g_strdup_printf("%s?timeout=%ld", HP_EVENT_TABLE_PATH, ds);
  guint timeout_ms = (guint) (ds * 100 + HP_POLL_SLACK_S * 1000);
  g_autoptr(ScandHttpReply) r = hp_http(p, "GET", path, NULL, p->etag, timeout_ms, error);
  if (!r)
    return unreachable(error);
  if (r->status == 304)
    return pace(p, started, FALSE, error);
  if (r->status != 200) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: walk-up: GET %s: HTTP %ld", p->device, HP_EVENT_TABLE_PATH,
                r->status);
    return FALSE;
  }
  gsize len;
  const char *xml = body_of(r, &len);
  gboolean restarted = FALSE;
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) ours = take_table(p, xml, len, &restarted, &local);
  if (!ours) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: walk-up: %s", p->device, local->message);
    return FALSE;
  }
  g_autofree char *etag = hp_etag_parse(scand_http_reply_header(r, "ETag"));
  gboolean etag_same = etag && p->etag && strcmp(etag, p->etag) == 0;
  g_free(p->etag);
  p->etag = g_steal_pointer(&etag);
  if (restarted && !check_registered(p, error))
    return FALSE;
  /* A table full of "picks" is a broken device, not a queue of people. */
  for (guint i = 0; i < ours->len && p->pending.length < HP_PENDING_MAX; i++)
    g_queue_push_tail(&p->pending, g_steal_pointer(&ours->pdata[i]));
  /* Without an ETag (or with the same one) the device answers at once every time. */
  return pace(p, started, !p->etag || etag_same, error);
}

static gboolean hp_wait(ScandPanel *panel, gint64 deadline, ScandPanelEvent *event, gboolean *got, GError **error) {
  HpPanel *p = (HpPanel *) panel;
  if (!p->registered)
    return lost(p, error);
  if (g_atomic_int_compare_and_exchange(&p->seen_hello, 1, 0) && !check_registered(p, error))
    return FALSE;
  while (!*got) {
    g_autoptr(HpEvent) e = g_queue_pop_head(&p->pending);
    if (e) {
      if (!resolve(p, e, event, got, error))
        return FALSE;
      continue;
    }
    if (g_get_monotonic_time() >= deadline)
      break;
    if (!poll_once(p, deadline, error))
      return FALSE;
  }
  return TRUE;
}

/* ---- the rest ------------------------------------------------------------------ */

static void hp_device_seen(ScandPanel *panel) {
  g_atomic_int_set(&((HpPanel *) panel)->seen_hello, 1);
}

static GPtrArray *hp_list(ScandPanel *panel) {
  HpPanel *p = (HpPanel *) panel;
  GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) scand_panel_registration_free);
  for (guint i = 0; p->registered && i < p->dests->len; i++) {
    HpDest *d = p->dests->pdata[i];
    ScandPanelRegistration *r = g_new0(ScandPanelRegistration, 1);
    r->name = g_strdup(d->name);
    r->handle = g_strdup(d->path);
    g_ptr_array_add(list, r);
  }
  return list;
}

static void hp_cancel(ScandPanel *panel) {
  scand_http_cancel(((HpPanel *) panel)->http);
}

static void hp_close(ScandPanel *panel) {
  HpPanel *p = (HpPanel *) panel;
  /* Unregistering is the last word, also after a cancel. */
  scand_http_reset_cancel(p->http);
  for (guint i = 0; p->registered && i < p->dests->len; i++)
    delete_destination(p, ((HpDest *) p->dests->pdata[i])->path);
  hp_free(p);
}

const ScandPanelDriver scand_panel_hp_walkup = {
  .open = hp_open,
  .register_names = hp_register,
  .wait = hp_wait,
  .push = NULL,
  .device_seen = hp_device_seen,
  .list = hp_list,
  .cancel = hp_cancel,
  .close = hp_close,
};
