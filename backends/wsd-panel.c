/* WS-Scan walk-up: the panel entry of the wsd backend.
 *
 * register: one WS-Eventing subscription to ScanAvailableEvent listing every
 * configured name as a ScanDestination (ClientDisplayName = the name,
 * ClientContext = this scand's client id and the name's index), NotifyTo and
 * EndTo = the daemon's listener; the device answers a DestinationToken per
 * destination. wait: renews before Expires (a dropped Renew is tried again
 * until the subscription would lapse), and hands out the ScanAvailableEvents
 * the listener pushed: CreateScanJob must then carry the event's
 * ScanIdentifier and the destination's token (extra options
 * wsd-scan-identifier and wsd-destination-token). A SubscriptionEnd, a
 * refused Renew or a lapsed subscription asks the caller to register again; a
 * WS-Discovery Hello of the device (a restart) makes the next wait check the
 * subscription with a Renew at once. close: Unsubscribe. The messages are
 * pure functions in wsd-eventing.c. */
#include "backends/device-http.h"
#include "backends/panel-private.h"
#include "backends/wsd-eventing.h"
#include "scand/base/error.h"
#include "scand/base/http.h"

#include <string.h>

#define WSD_PANEL_CONNECT_TIMEOUT_MS 10000
#define WSD_PANEL_TIMEOUT_MS 15000      /* each Subscribe/Renew/Unsubscribe */
#define WSD_PANEL_CLOSE_TIMEOUT_MS 3000 /* the Unsubscribe when closing */
#define WSD_PANEL_MAX_REPLY (256 * 1024)
#define WSD_PANEL_DEFAULT_LIFETIME_S 3600
#define WSD_PANEL_RENEW_MIN_S 5   /* never renew more often */
#define WSD_PANEL_RENEW_RETRY_S 5 /* after a Renew that got no answer */
#define WSD_PANEL_INBOX_MAX 16    /* pushed events waiting for the panel's thread */
#define WSD_PANEL_SEEN_MAX 256    /* ScanIdentifiers remembered against duplicates */
/* Hellos are unauthenticated multicast (anyone on the link can send the
 * device's): however many come, the subscription is checked at most once
 * per this many seconds; a Hello is never forgotten, only its check delayed. */
#define WSD_PANEL_HELLO_GAP_S 2

typedef struct {
  char *name;
  char *context;
  char *token; /* DestinationToken, once subscribed */
} WsdDest;

typedef struct {
  ScandPanel base;
  char *device;      /* "wsd:http://…" for messages */
  char *service_url; /* the scan service (wsa:To of Subscribe) */
  ScandHttp *http;
  char *notify_url;
  guint lifetime_s;
  GPtrArray *dests;     /* WsdDest* */
  GStrv previous;       /* handles an earlier run recorded */
  GAsyncQueue *inbox;   /* WsdEvNotification* pushed by the listener, or &wake */
  GQueue seen;          /* ScanIdentifiers handed out, oldest first */
  gint hello;           /* atomic: the device announced itself */
  gint64 hello_checked; /* monotonic µs of the last check a Hello asked for (wait's thread) */
  gint cancelled;       /* atomic */
  /* The subscription; the lock guards it against push() from the listener. */
  GMutex lock;
  gboolean subscribed;
  char *identifier;
  char *manager;
  gint64 expires_real; /* wall clock µs; 0: the device set no end */
  gint64 expires_mono; /* monotonic µs; 0: none */
  gint64 renew_at;     /* monotonic µs */
} WsdPanel;

/* Pushed into the inbox to wake a wait (cancel). */
static WsdEvNotification wake;

static void dest_free(WsdDest *d) {
  g_free(d->name);
  g_free(d->context);
  g_free(d->token);
  g_free(d);
}

static void notification_free(gpointer p) {
  if (p == &wake)
    return;
  wsd_ev_notification_clear(p);
  g_free(p);
}

static gboolean cancelled_error(WsdPanel *p, GError **error) {
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED, "%s: walk-up: cancelled", p->device);
  return FALSE;
}

/* ---- one SOAP exchange --------------------------------------------------------- */

/* POSTs envelope to url and decodes the reply as kind (a fault is a decoded
 * reply). FALSE with SCAND_ERROR_IO when no usable answer came. */
static gboolean exchange(WsdPanel *p, const char *url, const char *envelope, WsdEvReplyKind kind, guint timeout_ms,
                         WsdEvReply *out, GError **error) {
  static const char *const names[] = { "Subscribe", "Renew", "Unsubscribe" };
  const char *headers[] = { "Content-Type: application/soap+xml; charset=utf-8", NULL };
  ScandHttpRequest request = {
    .method = "POST",
    .url = url,
    .headers = headers,
    .body = envelope,
    .body_len = strlen(envelope),
    .timeout_ms = timeout_ms,
  };
  g_autoptr(GError) local = NULL;
  g_autoptr(ScandHttpReply) reply = scand_http_perform(p->http, &request, &local);
  if (!reply) {
    if (g_error_matches(local, SCAND_ERROR, SCAND_ERROR_CANCELLED))
      return cancelled_error(p, error);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: walk-up: %s: %s", p->device, names[kind], local->message);
    return FALSE;
  }
  if (!wsd_ev_reply_decode(kind, (const char *) reply->body->data, reply->body->len, g_get_real_time(), out, &local)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: walk-up: HTTP %ld: %s", p->device, reply->status,
                local->message);
    return FALSE;
  }
  return TRUE;
}

/* "UnableToRenew (no such subscription)". Newly allocated. */
static char *fault_text(const WsdEvFault *f) {
  const char *what = f->subcode ? f->subcode : f->code ? f->code : "a SOAP fault";
  return f->reason ? g_strdup_printf("%s (%s)", what, f->reason) : g_strdup(what);
}

/* ---- open -------------------------------------------------------------------- */

static void wsd_panel_free(WsdPanel *p) {
  scand_http_free(p->http);
  g_free(p->device);
  g_free(p->service_url);
  g_free(p->notify_url);
  g_clear_pointer(&p->dests, g_ptr_array_unref);
  g_strfreev(p->previous);
  if (p->inbox)
    g_async_queue_unref(p->inbox);
  g_queue_clear_full(&p->seen, g_free);
  g_free(p->identifier);
  g_free(p->manager);
  g_mutex_clear(&p->lock);
  g_free(p);
}

static ScandPanel *wsd_panel_open(const char *rest, const ScandOpenOptions *options, const ScandPanelSetup *setup,
                                  GError **error) {
  g_autoptr(GUri) u = g_uri_parse(rest, G_URI_FLAGS_NONE, NULL);
  const char *scheme = u ? g_uri_get_scheme(u) : NULL;
  if (!u || (g_strcmp0(scheme, "http") != 0 && g_strcmp0(scheme, "https") != 0)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "device \"wsd:%s\": not a WSD URI (expected wsd:http[s]://HOST[:PORT]/PATH)", rest);
    return NULL;
  }
  if (!setup->notify_url || !setup->client_id) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "wsd:%s: walk-up needs the daemon's listener", rest);
    return NULL;
  }
  g_autofree char *device = g_strdup_printf("wsd:%s", rest);
  const ScandHttpOptions limits = {
    .connect_timeout_ms = WSD_PANEL_CONNECT_TIMEOUT_MS,
    .timeout_ms = WSD_PANEL_TIMEOUT_MS,
    .max_reply = WSD_PANEL_MAX_REPLY,
  };
  ScandHttp *http = scand_device_http_new(device, options, &limits, error);
  if (!http)
    return NULL;
  WsdPanel *p = g_new0(WsdPanel, 1);
  g_mutex_init(&p->lock);
  p->http = http;
  p->device = g_steal_pointer(&device);
  p->service_url = g_strdup(rest);
  p->notify_url = g_strdup(setup->notify_url);
  p->lifetime_s = setup->lifetime_s ? setup->lifetime_s : WSD_PANEL_DEFAULT_LIFETIME_S;
  p->dests = g_ptr_array_new_with_free_func((GDestroyNotify) dest_free);
  for (guint i = 0; setup->names[i]; i++) {
    WsdDest *d = g_new0(WsdDest, 1);
    d->name = g_strdup(setup->names[i]);
    d->context = g_strdup_printf("%s:%u", setup->client_id, i);
    g_ptr_array_add(p->dests, d);
  }
  p->previous = setup->previous ? g_strdupv((char **) setup->previous) : NULL;
  p->inbox = g_async_queue_new_full(notification_free);
  g_queue_init(&p->seen);
  return &p->base;
}

/* ---- subscribe, renew, unsubscribe --------------------------------------------------- */

/* Sets the subscription's end and when to renew it (lock held). */
static void set_expiry(WsdPanel *p, gint64 expires_s) {
  gint64 now = g_get_monotonic_time();
  gint64 life = expires_s > 0 ? expires_s : p->lifetime_s;
  p->expires_mono = expires_s >= 0 ? now + expires_s * G_USEC_PER_SEC : 0;
  p->expires_real = expires_s >= 0 ? g_get_real_time() + expires_s * G_USEC_PER_SEC : 0;
  /* Half-way, so that a Renew that goes unanswered has the other half to be
   * tried again; a device that set no end is renewed too, which also tells
   * us it still knows the subscription. */
  gint64 wait_s = MAX(life / 2, WSD_PANEL_RENEW_MIN_S);
  p->renew_at = now + wait_s * G_USEC_PER_SEC;
}

/* Best-effort Unsubscribe of a subscription (of this or an earlier run). */
static void unsubscribe(WsdPanel *p, const char *identifier, const char *manager) {
  g_autofree char *env = wsd_ev_unsubscribe_build(manager, identifier, NULL);
  WsdEvReply r;
  g_autoptr(GError) ignored = NULL;
  exchange(p, manager, env, WSD_EV_REPLY_UNSUBSCRIBE, WSD_PANEL_CLOSE_TIMEOUT_MS, &r, &ignored);
  wsd_ev_reply_clear(&r);
}

/* A handle of scand_panel_list(): "IDENTIFIER MANAGER-URL". */
static void unsubscribe_previous(WsdPanel *p) {
  g_autoptr(GHashTable) done = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; p->previous && p->previous[i]; i++) {
    const char *handle = strchr(p->previous[i], '\t');
    const char *space = handle ? strchr(handle + 1, ' ') : NULL;
    if (!space || g_hash_table_contains(done, handle))
      continue;
    g_hash_table_add(done, (gpointer) handle);
    g_autofree char *identifier = g_strndup(handle + 1, space - handle - 1);
    unsubscribe(p, identifier, space + 1);
  }
  g_clear_pointer(&p->previous, g_strfreev);
}

/* Takes the tokens of a SubscribeResponse; FALSE when none is ours. */
static gboolean take_tokens(WsdPanel *p, const WsdEvReply *r) {
  guint matched = 0;
  for (guint i = 0; i < p->dests->len; i++) {
    WsdDest *d = p->dests->pdata[i];
    g_clear_pointer(&d->token, g_free);
    for (guint j = 0; j < r->responses->len; j++) {
      const WsdEvDestinationResponse *resp = &g_array_index(r->responses, WsdEvDestinationResponse, j);
      if (strcmp(resp->context, d->context) == 0) {
        d->token = g_strdup(resp->token);
        matched++;
      }
    }
  }
  return matched > 0;
}

static gboolean wsd_panel_register(ScandPanel *panel, GError **error) {
  WsdPanel *p = (WsdPanel *) panel;
  if (g_atomic_int_get(&p->cancelled))
    return cancelled_error(p, error);
  g_mutex_lock(&p->lock);
  g_autofree char *old_id = g_steal_pointer(&p->identifier);
  g_autofree char *old_manager = g_steal_pointer(&p->manager);
  p->subscribed = FALSE;
  g_mutex_unlock(&p->lock);
  g_atomic_int_set(&p->hello, 0);
  /* What an earlier run or subscription left on the device goes first. */
  if (old_id && old_manager)
    unsubscribe(p, old_id, old_manager);
  unsubscribe_previous(p);
  g_autofree WsdEvDestination *dests = g_new0(WsdEvDestination, p->dests->len);
  for (guint i = 0; i < p->dests->len; i++) {
    WsdDest *d = p->dests->pdata[i];
    dests[i] = (WsdEvDestination){ d->name, d->context };
  }
  WsdEvSubscribe args = {
    .to = p->service_url,
    .notify_to = p->notify_url,
    .expires_s = p->lifetime_s,
    .destinations = dests,
    .n_destinations = p->dests->len,
  };
  g_autofree char *env = wsd_ev_subscribe_build(&args);
  WsdEvReply r;
  gboolean ok = exchange(p, p->service_url, env, WSD_EV_REPLY_SUBSCRIBE, 0, &r, error);
  if (ok && r.is_fault) {
    g_autofree char *what = fault_text(&r.fault);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: walk-up: the device refused the subscription: %s", p->device,
                what);
    ok = FALSE;
  } else if (ok && !take_tokens(p, &r)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "%s: walk-up: the device answered the subscription without tokens for our destinations", p->device);
    ok = FALSE;
  }
  if (ok) {
    g_mutex_lock(&p->lock);
    p->identifier = g_strdup(r.identifier);
    p->manager = g_strdup(r.manager);
    p->subscribed = TRUE;
    set_expiry(p, r.expires_s);
    g_mutex_unlock(&p->lock);
  }
  wsd_ev_reply_clear(&r);
  return ok;
}

static gboolean lost(WsdPanel *p, const char *why, GError **error) {
  g_mutex_lock(&p->lock);
  p->subscribed = FALSE;
  g_mutex_unlock(&p->lock);
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "%s: walk-up: %s", p->device, why);
  return FALSE;
}

/* Renews now. FALSE with NOT_FOUND when the device no longer knows the
 * subscription (or it lapsed), CANCELLED; TRUE otherwise — also when the
 * Renew got no answer but there is still time to try again. */
static gboolean renew(WsdPanel *p, GError **error) {
  g_mutex_lock(&p->lock);
  g_autofree char *identifier = g_strdup(p->identifier);
  g_autofree char *manager = g_strdup(p->manager);
  g_mutex_unlock(&p->lock);
  g_autofree char *env = wsd_ev_renew_build(manager, identifier, p->lifetime_s, NULL);
  WsdEvReply r;
  g_autoptr(GError) local = NULL;
  gboolean answered = exchange(p, manager, env, WSD_EV_REPLY_RENEW, 0, &r, &local);
  if (answered && r.is_fault) {
    g_autofree char *what = fault_text(&r.fault);
    g_autofree char *why = g_strdup_printf("the device refused to renew the subscription: %s", what);
    wsd_ev_reply_clear(&r);
    return lost(p, why, error);
  }
  if (answered) {
    g_mutex_lock(&p->lock);
    set_expiry(p, r.expires_s);
    g_mutex_unlock(&p->lock);
    wsd_ev_reply_clear(&r);
    return TRUE;
  }
  wsd_ev_reply_clear(&r);
  if (g_error_matches(local, SCAND_ERROR, SCAND_ERROR_CANCELLED)) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  gint64 now = g_get_monotonic_time();
  if (p->expires_mono && now + WSD_PANEL_RENEW_RETRY_S * G_USEC_PER_SEC >= p->expires_mono)
    return lost(p, "the subscription lapsed: the device did not answer its renewal", error);
  g_mutex_lock(&p->lock);
  p->renew_at = now + WSD_PANEL_RENEW_RETRY_S * G_USEC_PER_SEC;
  g_mutex_unlock(&p->lock);
  return TRUE;
}

/* ---- events -------------------------------------------------------------------- */

static WsdDest *dest_by_context(WsdPanel *p, const char *context) {
  for (guint i = 0; i < p->dests->len; i++)
    if (strcmp(((WsdDest *) p->dests->pdata[i])->context, context) == 0)
      return p->dests->pdata[i];
  return NULL;
}

/* Called by the listener: decodes, checks it is ours, queues it. */
static gboolean wsd_panel_push(ScandPanel *panel, const char *body, gsize len, GError **error) {
  WsdPanel *p = (WsdPanel *) panel;
  WsdEvNotification n;
  g_autoptr(GError) local = NULL;
  if (!wsd_ev_notification_decode(body, len, &n, &local)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", p->device, local->message);
    return FALSE;
  }
  const char *problem = NULL;
  g_mutex_lock(&p->lock);
  if (n.identifier && p->identifier && strcmp(n.identifier, p->identifier) != 0)
    problem = "an event of another subscription";
  else if (n.kind == WSD_EV_SCAN_AVAILABLE && !dest_by_context(p, n.context))
    problem = "a ScanAvailableEvent for a destination that is not ours";
  g_mutex_unlock(&p->lock);
  if (problem) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s (context %s, subscription %s); ignored", p->device,
                problem, n.context ? n.context : "-", n.identifier ? n.identifier : "-");
    wsd_ev_notification_clear(&n);
    return FALSE;
  }
  /* A device that floods us is not queued without end: a person cannot
   * press Start that often. */
  if (g_async_queue_length(p->inbox) >= WSD_PANEL_INBOX_MAX) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: too many events waiting; ignored", p->device);
    wsd_ev_notification_clear(&n);
    return FALSE;
  }
  g_async_queue_push(p->inbox, g_memdup2(&n, sizeof n));
  return TRUE;
}

/* TRUE (and remembers it) when the device's ScanIdentifier is new. */
static gboolean first_time(WsdPanel *p, const char *scan_identifier) {
  for (GList *l = p->seen.head; l; l = l->next)
    if (strcmp(l->data, scan_identifier) == 0)
      return FALSE;
  g_queue_push_tail(&p->seen, g_strdup(scan_identifier));
  while (p->seen.length > WSD_PANEL_SEEN_MAX)
    g_free(g_queue_pop_head(&p->seen));
  return TRUE;
}

/* Acts on one pushed message. *got for a pick; FALSE with NOT_FOUND when the
 * device ended the subscription. */
static gboolean take(WsdPanel *p, WsdEvNotification *n, ScandPanelEvent *event, gboolean *got, GError **error) {
  if (n->kind == WSD_EV_SUBSCRIPTION_END) {
    g_autofree char *why =
        g_strdup_printf("the device ended the subscription (%s%s%s)", n->status ? n->status : "no status",
                        n->reason ? ": " : "", n->reason ? n->reason : "");
    return lost(p, why, error);
  }
  WsdDest *d = dest_by_context(p, n->context);
  /* A device that repeats an event (a retry after a lost answer) gets one scan. */
  if (!d || !first_time(p, n->scan_identifier))
    return TRUE;
  event->name = g_strdup(d->name);
  event->id = g_strdup(n->scan_identifier);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_autofree char *id_option = g_strdup_printf("wsd-scan-identifier=%s", n->scan_identifier);
  g_strv_builder_add(b, id_option);
  if (d->token) {
    g_autofree char *token_option = g_strdup_printf("wsd-destination-token=%s", d->token);
    g_strv_builder_add(b, token_option);
  }
  event->options = g_strv_builder_end(b);
  *got = TRUE;
  return TRUE;
}

static gboolean wsd_panel_wait(ScandPanel *panel, gint64 deadline, ScandPanelEvent *event, gboolean *got,
                               GError **error) {
  WsdPanel *p = (WsdPanel *) panel;
  while (!*got) {
    if (g_atomic_int_get(&p->cancelled))
      return cancelled_error(p, error);
    g_mutex_lock(&p->lock);
    gboolean subscribed = p->subscribed;
    gint64 renew_at = p->renew_at;
    g_mutex_unlock(&p->lock);
    if (!subscribed)
      return lost(p, "not subscribed", error);
    gint64 now = g_get_monotonic_time();
    /* After a Hello the device may have restarted: ask it at once (or as soon
     * as the last such check is WSD_PANEL_HELLO_GAP_S old). */
    gint64 hello_at = p->hello_checked + (gint64) WSD_PANEL_HELLO_GAP_S * G_USEC_PER_SEC;
    gboolean hello = g_atomic_int_get(&p->hello) && now >= hello_at;
    if (hello || now >= renew_at) {
      if (hello) {
        g_atomic_int_set(&p->hello, 0);
        p->hello_checked = now;
      }
      if (!renew(p, error))
        return FALSE;
      continue;
    }
    if (now >= deadline)
      break;
    gint64 until = MIN(deadline, renew_at);
    if (g_atomic_int_get(&p->hello))
      until = MIN(until, hello_at);
    WsdEvNotification *n = g_async_queue_timeout_pop(p->inbox, until - now);
    if (!n || n == &wake)
      continue;
    gboolean ok = take(p, n, event, got, error);
    notification_free(n);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

/* ---- the rest ---------------------------------------------------------------------- */

static void wsd_panel_device_seen(ScandPanel *panel) {
  WsdPanel *p = (WsdPanel *) panel;
  g_atomic_int_set(&p->hello, 1);
  g_async_queue_push(p->inbox, &wake);
}

static GPtrArray *wsd_panel_list(ScandPanel *panel) {
  WsdPanel *p = (WsdPanel *) panel;
  GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) scand_panel_registration_free);
  g_mutex_lock(&p->lock);
  for (guint i = 0; p->subscribed && i < p->dests->len; i++) {
    WsdDest *d = p->dests->pdata[i];
    if (!d->token)
      continue;
    ScandPanelRegistration *r = g_new0(ScandPanelRegistration, 1);
    r->name = g_strdup(d->name);
    r->handle = g_strdup_printf("%s %s", p->identifier, p->manager);
    r->expires = p->expires_real;
    r->token = g_strdup(d->token);
    g_ptr_array_add(list, r);
  }
  g_mutex_unlock(&p->lock);
  return list;
}

static void wsd_panel_cancel(ScandPanel *panel) {
  WsdPanel *p = (WsdPanel *) panel;
  g_atomic_int_set(&p->cancelled, 1);
  scand_http_cancel(p->http);
  g_async_queue_push(p->inbox, &wake);
}

static void wsd_panel_close(ScandPanel *panel) {
  WsdPanel *p = (WsdPanel *) panel;
  /* Unsubscribing is the last word, also after a cancel. */
  scand_http_reset_cancel(p->http);
  if (p->subscribed && p->identifier && p->manager)
    unsubscribe(p, p->identifier, p->manager);
  wsd_panel_free(p);
}

const ScandPanelDriver scand_panel_wsd = {
  .open = wsd_panel_open,
  .register_names = wsd_panel_register,
  .wait = wsd_panel_wait,
  .push = wsd_panel_push,
  .device_seen = wsd_panel_device_seen,
  .list = wsd_panel_list,
  .cancel = wsd_panel_cancel,
  .close = wsd_panel_close,
};
