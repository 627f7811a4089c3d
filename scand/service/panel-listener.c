/* The daemon's endpoint for pushed device events: a GSocketService accepts
 * connections and hands only those from known device addresses to a
 * libsoup server; routes are /scand/panel/<token>, one per device. */
#include "scand/service/panel-listener.h"
#include "scand/base/error.h"
#include "scand/base/log.h"

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

/* Outlives the listener while connections it accepted are still open. */
typedef struct {
  guint open;
} Counter;

struct ScandPanelListener {
  SoupServer *server;
  GSocketService *service;
  GInetAddress *bound; /* NULL: every address */
  guint port;
  GHashTable *routes; /* token → Route* */
  Counter *counter;   /* g_rc_box */
  gint64 last_refusal_log;
};

static void route_free(Route *r) {
  g_free(r->token);
  g_free(r->url);
  g_ptr_array_unref(r->addresses);
  g_free(r);
}

/* ::ffff:a.b.c.d (a dual-stack socket's view of an IPv4 peer) as a.b.c.d. */
static GInetAddress *plain_address(GInetAddress *a) {
  if (g_inet_address_get_family(a) == G_SOCKET_FAMILY_IPV6) {
    const guint8 *b = g_inet_address_to_bytes(a);
    static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(b, mapped, 12) == 0)
      return g_inet_address_new_from_bytes(b + 12, G_SOCKET_FAMILY_IPV4);
  }
  return g_object_ref(a);
}

static GInetAddress *peer_of(GSocketAddress *remote) {
  if (!G_IS_INET_SOCKET_ADDRESS(remote))
    return NULL;
  return plain_address(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
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

/* ---- connections ------------------------------------------------------------ */

static void connection_gone(gpointer data, GObject *where_the_object_was) {
  Counter *c = data;
  c->open--;
  g_rc_box_release(c);
}

static gboolean on_incoming(GSocketService *service, GSocketConnection *conn, GObject *source, gpointer user_data) {
  ScandPanelListener *l = user_data;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(conn, NULL);
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address(conn, NULL);
  g_autoptr(GInetAddress) peer = remote ? peer_of(remote) : NULL;
  const char *why = !peer || !any_route_allows(l, peer)   ? "not a device with panel destinations"
                    : l->counter->open >= CONNECTIONS_MAX ? "too many connections open"
                                                          : NULL;
  if (why || !local) {
    log_refusal(l, peer, why ? why : "no local address");
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    return TRUE;
  }
  /* A peer that opens a connection and goes quiet does not keep it. */
  g_socket_set_timeout(g_socket_connection_get_socket(conn), IDLE_TIMEOUT_S);
  l->counter->open++;
  g_object_weak_ref(G_OBJECT(conn), connection_gone, g_rc_box_acquire(l->counter));
  g_autoptr(GError) error = NULL;
  if (!soup_server_accept_iostream(l->server, G_IO_STREAM(conn), local, remote, &error))
    scand_log("panel listener: %s", error->message);
  return TRUE;
}

/* ---- requests -------------------------------------------------------------- */

/* Answers status on the bare connection and closes it: the body a refused
 * request announced is never read. */
static void refuse_early(SoupServerMessage *msg, guint status, const char *extra) {
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection(msg);
  if (!stream)
    return;
  g_autofree char *head = g_strdup_printf("HTTP/1.1 %u %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n", status,
                                          soup_status_get_phrase(status), extra ? extra : "");
  GOutputStream *out = g_io_stream_get_output_stream(stream);
  /* A few bytes into an empty socket buffer; never wait for a peer that does not read. */
  if (G_IS_POLLABLE_OUTPUT_STREAM(out))
    g_pollable_output_stream_write_nonblocking(G_POLLABLE_OUTPUT_STREAM(out), head, strlen(head), NULL, NULL);
  g_io_stream_close(stream, NULL, NULL);
}

/* After the headers: refuse what is not a small POST before reading a body. */
static void early_handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                          gpointer user_data) {
  SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
  if (strcmp(soup_server_message_get_method(msg), SOUP_METHOD_POST) != 0)
    refuse_early(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Allow: POST\r\n");
  else if (soup_message_headers_get_encoding(h) != SOUP_ENCODING_CONTENT_LENGTH)
    refuse_early(msg, SOUP_STATUS_LENGTH_REQUIRED, NULL);
  else if (soup_message_headers_get_content_length(h) > BODY_MAX)
    refuse_early(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
}

static void handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer user_data) {
  ScandPanelListener *l = user_data;
  Route *r = g_str_has_prefix(path, ROUTE_PREFIX) ? g_hash_table_lookup(l->routes, path + strlen(ROUTE_PREFIX)) : NULL;
  g_autoptr(GInetAddress) peer = peer_of(soup_server_message_get_remote_address(msg));
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

static gboolean listen_on(ScandPanelListener *l, GInetAddress *address, guint port, GError **error) {
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new(address, (guint16) port);
  g_autoptr(GSocketAddress) got = NULL;
  if (!g_socket_listener_add_address(G_SOCKET_LISTENER(l->service), want, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                     NULL, &got, error))
    return FALSE;
  l->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(got));
  return TRUE;
}

ScandPanelListener *scand_panel_listener_new(const char *address, guint port, GError **error) {
  g_autoptr(ScandPanelListener) l = g_new0(ScandPanelListener, 1);
  l->routes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) route_free);
  l->counter = g_rc_box_new0(Counter);
  l->server = soup_server_new("server-header", "scand", NULL);
  soup_server_add_early_handler(l->server, NULL, early_handler, l, NULL);
  soup_server_add_handler(l->server, NULL, handler, l, NULL);
  l->service = g_socket_service_new();
  g_signal_connect(l->service, "incoming", G_CALLBACK(on_incoming), l);
  g_autoptr(GError) local = NULL;
  if (address && *address) {
    l->bound = g_inet_address_new_from_string(address);
    if (!l->bound) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "panel-listen \"%s\" is not an IP address", address);
      return NULL;
    }
    if (!listen_on(l, l->bound, port, &local)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "panel listener: cannot listen on %s port %u: %s", address, port,
                  local->message);
      return NULL;
    }
  } else {
    /* Every address: IPv6 with IPv4 mapped, or IPv4 alone where there is no IPv6. */
    g_autoptr(GInetAddress) any6 = g_inet_address_new_any(G_SOCKET_FAMILY_IPV6);
    g_autoptr(GInetAddress) any4 = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
    if (!listen_on(l, any6, port, NULL) && !listen_on(l, any4, port, &local)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "panel listener: cannot listen on port %u: %s", port,
                  local->message);
      return NULL;
    }
  }
  g_socket_service_start(l->service);
  return g_steal_pointer(&l);
}

void scand_panel_listener_free(ScandPanelListener *l) {
  if (!l)
    return;
  if (l->service) {
    g_socket_service_stop(l->service);
    g_socket_listener_close(G_SOCKET_LISTENER(l->service));
    g_signal_handlers_disconnect_by_data(l->service, l);
    g_object_unref(l->service);
  }
  if (l->server) {
    soup_server_disconnect(l->server);
    g_object_unref(l->server);
  }
  g_clear_pointer(&l->routes, g_hash_table_unref);
  g_clear_object(&l->bound);
  if (l->counter)
    g_rc_box_release(l->counter);
  g_free(l);
}

guint scand_panel_listener_get_port(ScandPanelListener *l) {
  return l->port;
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
    g_ptr_array_add(out, plain_address(i->data));
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
  r->url = g_strdup_printf("http://%s%s%s:%u" ROUTE_PREFIX "%s", v6 ? "[" : "", ip, v6 ? "]" : "", l->port, r->token);
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
