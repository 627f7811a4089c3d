/* The daemon's endpoint for pushed device events: the daemon's HTTP
 * listener (http-listener.h) hands only connections from known device
 * addresses to a libsoup server; routes are /scand/panel/<token>, one per
 * device. */
#include "scand/service/panel-listener.h"
#include "scand/base/error.h"
#include "scand/base/log.h"
#include "scand/service/http-listener.h"

#include <libsoup/soup.h>
#include <string.h>
#include <sys/random.h>

#define ROUTE_PREFIX "/scand/panel/"
#define BODY_MAX (256 * 1024)
#define IDLE_TIMEOUT_S 30
#define CONNECTIONS_MAX 32
#define REFUSAL_LOG_EVERY_US (10 * G_USEC_PER_SEC)

typedef struct {
  char *token;
  char *url;
  GPtrArray *addresses; /* GInetAddress* allowed to post here */
  ScandPanelListenerFunc func;
  gpointer user_data;
} Route;

struct ScandPanelListener {
  SoupServer *server;
  ScandHttpListener *http;
  GInetAddress *bound; /* NULL: every address */
  GHashTable *routes;  /* token → Route* */
  gint64 last_refusal_log;
};

static void route_free(Route *r) {
  g_free(r->token);
  g_free(r->url);
  g_ptr_array_unref(r->addresses);
  g_free(r);
}

static gboolean route_allows(const Route *r, GInetAddress *peer) {
  for (guint i = 0; peer && i < r->addresses->len; i++)
    if (g_inet_address_equal(r->addresses->pdata[i], peer))
      return TRUE;
  return FALSE;
}

static gboolean any_route_allows(ScandPanelListener *l, GInetAddress *peer) {
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, l->routes);
  while (g_hash_table_iter_next(&it, NULL, &value))
    if (route_allows(value, peer))
      return TRUE;
  return FALSE;
}

static void log_refusal(ScandPanelListener *l, GInetAddress *peer, const char *why) {
  gint64 now = g_get_monotonic_time();
  if (now - l->last_refusal_log < REFUSAL_LOG_EVERY_US)
    return;
  l->last_refusal_log = now;
  g_autofree char *who = peer ? g_inet_address_to_string(peer) : g_strdup("an unknown peer");
  scand_log("panel listener: refused a connection from %s: %s", who, why);
}

/* Only a device with a route may connect at all. */
static gboolean peer_allowed(GInetAddress *peer, gpointer data) {
  return any_route_allows(data, peer);
}

/* ---- requests -------------------------------------------------------------- */

/* After the headers: refuse what is not a small POST before reading a body. */
static void early_handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                          gpointer user_data) {
  SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
  if (strcmp(soup_server_message_get_method(msg), SOUP_METHOD_POST) != 0)
    scand_http_refuse_early(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Allow: POST\r\n");
  else if (soup_message_headers_get_encoding(h) != SOUP_ENCODING_CONTENT_LENGTH)
    scand_http_refuse_early(msg, SOUP_STATUS_LENGTH_REQUIRED, NULL);
  else if (soup_message_headers_get_content_length(h) > BODY_MAX)
    scand_http_refuse_early(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
}

static void handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer user_data) {
  ScandPanelListener *l = user_data;
  Route *r = g_str_has_prefix(path, ROUTE_PREFIX) ? g_hash_table_lookup(l->routes, path + strlen(ROUTE_PREFIX)) : NULL;
  g_autoptr(GInetAddress) peer = scand_http_peer_address(soup_server_message_get_remote_address(msg));
  if (!r) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  if (!route_allows(r, peer)) {
    /* A device may post to its own route only. */
    log_refusal(l, peer, "posted to another device's route");
    soup_server_message_set_status(msg, SOUP_STATUS_FORBIDDEN, NULL);
    return;
  }
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
  g_autoptr(GError) error = NULL;
  if (g_bytes_get_size(bytes) > BODY_MAX || !r->func(bytes, r->user_data, &error)) {
    g_autofree char *who = peer ? g_inet_address_to_string(peer) : g_strdup("?");
    scand_log("panel listener: a message from %s was refused: %s", who, error ? error->message : "too large");
    soup_server_message_set_status(msg, SOUP_STATUS_BAD_REQUEST, NULL);
    return;
  }
  /* One-way SOAP over HTTP: accepted, no reply envelope. */
  soup_server_message_set_status(msg, SOUP_STATUS_ACCEPTED, NULL);
}

/* ---- life ------------------------------------------------------------------------ */

ScandPanelListener *scand_panel_listener_new(const char *address, guint port, GError **error) {
  g_autoptr(ScandPanelListener) l = g_new0(ScandPanelListener, 1);
  l->routes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) route_free);
  if (address && *address) {
    l->bound = g_inet_address_new_from_string(address);
    if (!l->bound) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "panel-listen \"%s\" is not an IP address", address);
      return NULL;
    }
  }
  l->server = soup_server_new("server-header", "scand", NULL);
  soup_server_add_early_handler(l->server, NULL, early_handler, l, NULL);
  soup_server_add_handler(l->server, NULL, handler, l, NULL);
  ScandHttpListenerOptions o = {
    .name = "panel listener",
    .address = address,
    .port = port,
    .max_connections = CONNECTIONS_MAX,
    .idle_timeout_s = IDLE_TIMEOUT_S,
    .filter = peer_allowed,
    .filter_data = l,
  };
  l->http = scand_http_listener_new(l->server, &o, error);
  if (!l->http)
    return NULL;
  return g_steal_pointer(&l);
}

void scand_panel_listener_free(ScandPanelListener *l) {
  if (!l)
    return;
  scand_http_listener_free(l->http);
  if (l->server) {
    soup_server_disconnect(l->server);
    g_object_unref(l->server);
  }
  g_clear_pointer(&l->routes, g_hash_table_unref);
  g_clear_object(&l->bound);
  g_free(l);
}

guint scand_panel_listener_get_port(ScandPanelListener *l) {
  return scand_http_listener_get_port(l->http);
}

/* The addresses of host (literal, or resolved now). */
static GPtrArray *resolve(const char *host, GError **error) {
  g_autofree char *bare = g_strdup(host[0] == '[' ? host + 1 : host);
  char *end = strchr(bare, ']');
  if (end)
    *end = '\0';
  char *zone = strchr(bare, '%');
  if (zone)
    *zone = '\0';
  GPtrArray *out = g_ptr_array_new_with_free_func(g_object_unref);
  GInetAddress *literal = g_inet_address_new_from_string(bare);
  if (literal) {
    g_ptr_array_add(out, literal);
    return out;
  }
  g_autoptr(GResolver) resolver = g_resolver_get_default();
  GList *list = g_resolver_lookup_by_name(resolver, bare, NULL, error);
  if (!list) {
    g_ptr_array_unref(out);
    return NULL;
  }
  for (GList *i = list; i; i = i->next)
    g_ptr_array_add(out, scand_http_plain_address(i->data));
  g_resolver_free_addresses(list);
  return out;
}

/* This computer's address on the way to device: what a UDP socket
 * connected there would send from. */
static GInetAddress *local_towards(GInetAddress *device, GError **error) {
  g_autoptr(GSocket) s =
      g_socket_new(g_inet_address_get_family(device), G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  g_autoptr(GSocketAddress) there = g_inet_socket_address_new(device, 9);
  if (!s || !g_socket_connect(s, there, NULL, error))
    return NULL;
  g_autoptr(GSocketAddress) here = g_socket_get_local_address(s, error);
  if (!here)
    return NULL;
  return g_object_ref(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(here)));
}

static char *new_token(void) {
  guint8 bytes[16];
  if (getrandom(bytes, sizeof bytes, 0) != (ssize_t) sizeof bytes)
    for (guint i = 0; i < sizeof bytes; i++)
      bytes[i] = (guint8) g_random_int();
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < sizeof bytes; i++)
    g_string_append_printf(s, "%02x", bytes[i]);
  return g_string_free(s, FALSE);
}

char *scand_panel_listener_add(ScandPanelListener *l, const char *host, ScandPanelListenerFunc func, gpointer user_data,
                               GError **error) {
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) addresses = resolve(host, &local);
  if (!addresses || addresses->len == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "panel listener: cannot resolve %s: %s", host,
                local ? local->message : "no address");
    return NULL;
  }
  g_autoptr(GInetAddress) here = l->bound && !g_inet_address_get_is_any(l->bound)
                                     ? g_object_ref(l->bound)
                                     : local_towards(addresses->pdata[0], &local);
  if (!here) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "panel listener: no way to %s: %s", host, local->message);
    return NULL;
  }
  g_autofree char *ip = g_inet_address_to_string(here);
  char *zone = strchr(ip, '%'); /* a device cannot use our zone id */
  if (zone)
    *zone = '\0';
  gboolean v6 = g_inet_address_get_family(here) == G_SOCKET_FAMILY_IPV6;
  Route *r = g_new0(Route, 1);
  r->token = new_token();
  r->url = g_strdup_printf("http://%s%s%s:%u" ROUTE_PREFIX "%s", v6 ? "[" : "", ip, v6 ? "]" : "",
                           scand_panel_listener_get_port(l), r->token);
  r->addresses = g_steal_pointer(&addresses);
  r->func = func;
  r->user_data = user_data;
  g_hash_table_insert(l->routes, r->token, r);
  return g_strdup(r->url);
}

void scand_panel_listener_remove(ScandPanelListener *l, const char *url) {
  const char *at = url ? strstr(url, ROUTE_PREFIX) : NULL;
  if (l && at)
    g_hash_table_remove(l->routes, at + strlen(ROUTE_PREFIX));
}
