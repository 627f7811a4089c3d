/* The daemon's TCP listener in front of libsoup: a GSocketService accepts,
 * counts and filters connections, wraps them in TLS when asked, and hands
 * them to the SoupServer.
 *
 * Every answer closes its connection (no keep-alive): libsoup 3.2 (Debian
 * 12) never lets go of a kept-alive connection that the client closes while
 * it waits for the next request (fixed in libsoup 3.3.0, "server: do not
 * leak idle connections closed by the client"), so every curl or browser
 * that hung up would hold a connection slot and its memory for good. A
 * SoupServer with no listener of its own closes after each answer; this
 * one has none (connections come from the GSocketService), and the answers
 * say "Connection: close". */
#include "scand/service/http-listener.h"
#include "scand/base/error.h"
#include "scand/base/log.h"

#include <string.h>

#define DEFAULT_MAX_CONNECTIONS 64
#define DEFAULT_IDLE_TIMEOUT_S 30
#define DEFAULT_HEADER_TIMEOUT_S 20
#define DEADLINE_KEY "scand-http-deadline"
#define REFUSAL_LOG_EVERY_US (10 * G_USEC_PER_SEC)

/* What the open connections count against; outlives the listener while
 * connections it accepted are still open (they release it when they go). */
typedef struct {
  guint open;
  GHashTable *per_peer; /* address string → count (GUINT_TO_POINTER) */
  GHashTable *sockets;  /* "address:port" of the peer → GSocket* (borrowed) */
} Counts;

typedef struct {
  Counts *counts;
  char *peer;   /* NULL: not counted per peer (loopback) */
  char *remote; /* key in counts->sockets */
} Held;

struct ScandHttpListener {
  char *name;
  SoupServer *server;
  GSocketService *service;
  GTlsCertificate *tls;
  guint port, max_connections, max_per_peer, idle_timeout_s, header_timeout_s;
  ScandHttpPeerFilter filter;
  gpointer filter_data;
  Counts *counts; /* g_rc_box */
  gint64 last_refusal_log;
};

static void counts_clear(gpointer data) {
  Counts *c = data;
  g_hash_table_unref(c->per_peer);
  g_hash_table_unref(c->sockets);
}

GInetAddress *scand_http_peer_address(GSocketAddress *remote) {
  if (!remote || !G_IS_INET_SOCKET_ADDRESS(remote))
    return NULL;
  return scand_http_plain_address(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
}

GInetAddress *scand_http_plain_address(GInetAddress *a) {
  if (g_inet_address_get_family(a) == G_SOCKET_FAMILY_IPV6) {
    const guint8 *b = g_inet_address_to_bytes(a);
    static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(b, mapped, 12) == 0)
      return g_inet_address_new_from_bytes(b + 12, G_SOCKET_FAMILY_IPV4);
  }
  return g_object_ref(a);
}

static void log_refusal(ScandHttpListener *l, GInetAddress *peer, const char *why) {
  gint64 now = g_get_monotonic_time();
  if (l->last_refusal_log && now - l->last_refusal_log < REFUSAL_LOG_EVERY_US)
    return;
  l->last_refusal_log = now;
  g_autofree char *who = peer ? g_inet_address_to_string(peer) : g_strdup("an unknown peer");
  scand_log("%s: refused a connection from %s: %s", l->name, who, why);
}

static void connection_gone(gpointer data, GObject *where_the_object_was) {
  Held *h = data;
  h->counts->open--;
  if (h->peer) {
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(h->counts->per_peer, h->peer));
    if (n <= 1)
      g_hash_table_remove(h->counts->per_peer, h->peer);
    else
      g_hash_table_insert(h->counts->per_peer, g_strdup(h->peer), GUINT_TO_POINTER(n - 1));
  }
  g_hash_table_remove(h->counts->sockets, h->remote);
  g_rc_box_release_full(h->counts, counts_clear);
  g_free(h->peer);
  g_free(h->remote);
  g_free(h);
}

/* Why a connection from peer is refused, or NULL; *key gets the per-peer
 * key to count it under (NULL for loopback). */
static const char *refusal(ScandHttpListener *l, GInetAddress *peer, char **key) {
  *key = NULL;
  if (!peer)
    return "not an IP peer";
  if (l->filter && !l->filter(peer, l->filter_data))
    return "not a peer this endpoint serves";
  if (l->counts->open >= l->max_connections)
    return "too many connections open";
  if (l->max_per_peer && !g_inet_address_get_is_loopback(peer)) {
    *key = g_inet_address_to_string(peer);
    if (GPOINTER_TO_UINT(g_hash_table_lookup(l->counts->per_peer, *key)) >= l->max_per_peer) {
      g_clear_pointer(key, g_free);
      return "too many connections from this address";
    }
  }
  return NULL;
}

static gboolean on_incoming(GSocketService *service, GSocketConnection *conn, GObject *source, gpointer user_data) {
  ScandHttpListener *l = user_data;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(conn, NULL);
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address(conn, NULL);
  g_autoptr(GInetAddress) peer = scand_http_peer_address(remote);
  g_autofree char *key = NULL;
  const char *why = local ? refusal(l, peer, &key) : "no local address";
  if (why) {
    log_refusal(l, peer, why);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    return TRUE;
  }
  /* A peer that opens a connection and goes quiet does not keep it. */
  g_socket_set_timeout(g_socket_connection_get_socket(conn), l->idle_timeout_s);
  g_autoptr(GIOStream) stream = G_IO_STREAM(g_object_ref(conn));
  if (l->tls) {
    g_autoptr(GError) error = NULL;
    GIOStream *tls = g_tls_server_connection_new(G_IO_STREAM(conn), l->tls, &error);
    if (!tls) {
      log_refusal(l, peer, error->message);
      g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
      return TRUE;
    }
    g_object_unref(stream);
    stream = tls;
  }
  Held *h = g_new0(Held, 1);
  h->counts = g_rc_box_acquire(l->counts);
  h->peer = g_steal_pointer(&key);
  h->remote = g_socket_connectable_to_string(G_SOCKET_CONNECTABLE(remote));
  g_hash_table_insert(h->counts->sockets, g_strdup(h->remote), g_socket_connection_get_socket(conn));
  h->counts->open++;
  if (h->peer) {
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(h->counts->per_peer, h->peer));
    g_hash_table_insert(h->counts->per_peer, g_strdup(h->peer), GUINT_TO_POINTER(n + 1));
  }
  g_object_weak_ref(G_OBJECT(conn), connection_gone, h);
  g_autoptr(GError) error = NULL;
  if (!soup_server_accept_iostream(l->server, stream, local, remote, &error))
    scand_log("%s: %s", l->name, error->message);
  return TRUE;
}

/* ---- the deadline for a request's headers (slow peers) ---- */

/* A request whose headers have not all come within header_timeout_s of the
 * start of its connection, or of the end of the response before it on a
 * kept-alive connection, loses its connection: a peer trickling a byte at
 * a time (slowloris) holds a connection for that long only, whatever the
 * idle timeout. */
typedef struct {
  GSocket *socket;
  guint timer;
} Deadline;

static void deadline_free(gpointer data) {
  Deadline *d = data;
  if (d->timer)
    g_source_remove(d->timer);
  g_object_unref(d->socket);
  g_free(d);
}

static gboolean deadline_passed(gpointer data) {
  Deadline *d = data;
  d->timer = 0;
  /* libsoup's pending read ends and it drops the connection and message. */
  g_socket_shutdown(d->socket, TRUE, TRUE, NULL);
  return G_SOURCE_REMOVE;
}

static void on_got_headers(SoupServerMessage *msg, gpointer data) {
  g_object_set_data(G_OBJECT(msg), DEADLINE_KEY, NULL);
}

GSocket *scand_http_listener_get_socket(ScandHttpListener *l, SoupServerMessage *msg) {
  GSocketAddress *remote = soup_server_message_get_remote_address(msg);
  g_autofree char *key = remote ? g_socket_connectable_to_string(G_SOCKET_CONNECTABLE(remote)) : NULL;
  return key ? g_hash_table_lookup(l->counts->sockets, key) : NULL;
}

static void on_request_started(SoupServer *server, SoupServerMessage *msg, gpointer user_data) {
  ScandHttpListener *l = user_data;
  GSocket *socket = scand_http_listener_get_socket(l, msg);
  if (!socket)
    return; /* not a connection of this listener */
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection", "close");
  Deadline *d = g_new0(Deadline, 1);
  d->socket = g_object_ref(socket);
  d->timer = g_timeout_add_seconds(l->header_timeout_s, deadline_passed, d);
  g_object_set_data_full(G_OBJECT(msg), DEADLINE_KEY, d, deadline_free);
  g_signal_connect(msg, "got-headers", G_CALLBACK(on_got_headers), NULL);
}

static gboolean listen_on(ScandHttpListener *l, GInetAddress *address, guint port, GError **error) {
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new(address, (guint16) port);
  g_autoptr(GSocketAddress) got = NULL;
  if (!g_socket_listener_add_address(G_SOCKET_LISTENER(l->service), want, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                     NULL, &got, error))
    return FALSE;
  l->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(got));
  return TRUE;
}

ScandHttpListener *scand_http_listener_new(SoupServer *server, const ScandHttpListenerOptions *o, GError **error) {
  g_autoptr(ScandHttpListener) l = g_new0(ScandHttpListener, 1);
  l->name = g_strdup(o->name ? o->name : "http");
  l->server = g_object_ref(server);
  l->tls = o->tls ? g_object_ref(o->tls) : NULL;
  l->max_connections = o->max_connections ? o->max_connections : DEFAULT_MAX_CONNECTIONS;
  l->max_per_peer = o->max_per_peer;
  l->idle_timeout_s = o->idle_timeout_s ? o->idle_timeout_s : DEFAULT_IDLE_TIMEOUT_S;
  l->filter = o->filter;
  l->filter_data = o->filter_data;
  l->counts = g_rc_box_new0(Counts);
  l->counts->per_peer = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  l->counts->sockets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  l->header_timeout_s = o->header_timeout_s ? o->header_timeout_s : DEFAULT_HEADER_TIMEOUT_S;
  g_signal_connect(server, "request-started", G_CALLBACK(on_request_started), l);
  g_autoptr(GError) local = NULL;
  l->service = g_socket_service_new();
  /* GLib's default backlog is 10: a burst of new connections (one per
   * answer, see above) would have its SYNs dropped and retried a second
   * later. The kernel caps it at net.core.somaxconn. */
  g_socket_listener_set_backlog(G_SOCKET_LISTENER(l->service), (int) MAX(l->max_connections, 128));
  g_signal_connect(l->service, "incoming", G_CALLBACK(on_incoming), l);
  if (o->address && *o->address) {
    g_autoptr(GInetAddress) bound = g_inet_address_new_from_string(o->address);
    if (!bound) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: \"%s\" is not an IP address", l->name, o->address);
      return NULL;
    }
    if (!listen_on(l, bound, o->port, &local)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: cannot listen on %s port %u: %s", l->name, o->address,
                  o->port, local->message);
      return NULL;
    }
  } else {
    /* Every address: IPv6 with IPv4 mapped, or IPv4 alone where there is no IPv6. */
    g_autoptr(GInetAddress) any6 = g_inet_address_new_any(G_SOCKET_FAMILY_IPV6);
    g_autoptr(GInetAddress) any4 = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
    if (!listen_on(l, any6, o->port, NULL) && !listen_on(l, any4, o->port, &local)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: cannot listen on port %u: %s", l->name, o->port,
                  local->message);
      return NULL;
    }
  }
  g_socket_service_start(l->service);
  return g_steal_pointer(&l);
}

void scand_http_listener_free(ScandHttpListener *l) {
  if (!l)
    return;
  if (l->service) {
    g_socket_service_stop(l->service);
    g_socket_listener_close(G_SOCKET_LISTENER(l->service));
    g_signal_handlers_disconnect_by_data(l->service, l);
    g_object_unref(l->service);
  }
  if (l->server)
    g_signal_handlers_disconnect_by_data(l->server, l);
  g_clear_object(&l->server);
  g_clear_object(&l->tls);
  if (l->counts)
    g_rc_box_release_full(l->counts, counts_clear);
  g_free(l->name);
  g_free(l);
}

guint scand_http_listener_get_port(ScandHttpListener *l) {
  return l->port;
}

guint scand_http_listener_get_open(ScandHttpListener *l) {
  return l->counts->open;
}

void scand_http_refuse_early(SoupServerMessage *msg, guint status, const char *extra_headers) {
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection(msg);
  if (!stream)
    return;
  g_autofree char *head = g_strdup_printf("HTTP/1.1 %u %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n", status,
                                          soup_status_get_phrase(status), extra_headers ? extra_headers : "");
  GOutputStream *out = g_io_stream_get_output_stream(stream);
  /* A few bytes into an empty socket buffer; never wait for a peer that does not read. */
  if (G_IS_POLLABLE_OUTPUT_STREAM(out))
    g_pollable_output_stream_write_nonblocking(G_POLLABLE_OUTPUT_STREAM(out), head, strlen(head), NULL, NULL);
  g_io_stream_close(stream, NULL, NULL);
}
