/* The metrics endpoint (metrics-endpoint.h): a GSocketService that filters
 * peers and counts connections in front of a libsoup server with one route,
 * and the node-exporter textfile writer. */
#include "scand/service/metrics-endpoint.h"
#include "scand/service/http-listener.h"
#include "scand/base/error.h"
#include "scand/base/log.h"
#include "scand/base/metrics.h"

#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

#define CONNECTIONS_MAX 16
#define IDLE_TIMEOUT_S 10
#define LIFETIME_S 30
#define TEXTFILE_EVERY_S 15
#define REFUSAL_LOG_EVERY_US (60 * G_USEC_PER_SEC)
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Outlives the endpoint while connections it accepted are still open. */
typedef struct {
  guint open;
} Counter;

struct ScandMetricsEndpoint {
  ScandSpool *spool;
  SoupServer *server;
  GSocketService *service;
  guint port;
  GPtrArray *allow; /* GInetAddressMask* */
  Counter *counter; /* g_rc_box */
  gint64 last_refusal_log;
  char *textfile;
  guint textfile_timer;
};

gboolean scand_metrics_parse_listen(const char *value, GInetAddress **address, guint *port, GError **error) {
  g_autofree char *host = NULL;
  const char *colon = value ? strrchr(value, ':') : NULL;
  if (colon && value[0] == '[' && colon > value && colon[-1] == ']')
    host = g_strndup(value + 1, colon - value - 2);
  else if (colon && !memchr(value, ':', colon - value))
    host = g_strndup(value, colon - value);
  char *end = NULL;
  guint64 p = colon && colon[1] ? g_ascii_strtoull(colon + 1, &end, 10) : 0;
  GInetAddress *a = host ? g_inet_address_new_from_string(host) : NULL;
  if (!a || !end || *end || p > 65535) {
    g_clear_object(&a);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "metrics-listen \"%s\" is not ADDRESS:PORT with an IP address (127.0.0.1:9464, [::1]:9464)",
                value ? value : "");
    return FALSE;
  }
  *address = a;
  *port = (guint) p;
  return TRUE;
}

/* ---- peers and connections --------------------------------------------------- */

/* ::ffff:a.b.c.d (a dual-stack socket's view of an IPv4 peer) as a.b.c.d. */
static GInetAddress *peer_of(GSocketConnection *conn) {
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(conn, NULL);
  if (!remote || !G_IS_INET_SOCKET_ADDRESS(remote))
    return NULL;
  return scand_http_plain_address(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
}

static gboolean peer_allowed(ScandMetricsEndpoint *m, GInetAddress *peer) {
  if (!peer)
    return FALSE;
  if (g_inet_address_get_is_loopback(peer))
    return TRUE;
  for (guint i = 0; i < m->allow->len; i++)
    if (g_inet_address_mask_matches(m->allow->pdata[i], peer))
      return TRUE;
  return FALSE;
}

static void log_refusal(ScandMetricsEndpoint *m, GInetAddress *peer, const char *why) {
  gint64 now = g_get_monotonic_time();
  if (m->last_refusal_log && now - m->last_refusal_log < REFUSAL_LOG_EVERY_US)
    return;
  m->last_refusal_log = now;
  g_autofree char *who = peer ? g_inet_address_to_string(peer) : g_strdup("an unknown peer");
  scand_log("metrics: refused a connection from %s: %s", who, why);
}

static void connection_gone(gpointer data, GObject *where_the_object_was) {
  Counter *c = data;
  c->open--;
  g_rc_box_release(c);
}

/* A connection still open after LIFETIME_S is closed: a peer dripping one
 * byte a second never holds a slot for long. */
static gboolean on_lifetime_over(gpointer data) {
  GWeakRef *ref = data;
  g_autoptr(GIOStream) conn = g_weak_ref_get(ref);
  if (conn)
    g_io_stream_close(conn, NULL, NULL);
  return G_SOURCE_REMOVE;
}

static void weak_ref_free(gpointer data) {
  g_weak_ref_clear(data);
  g_free(data);
}

static gboolean on_incoming(GSocketService *service, GSocketConnection *conn, GObject *source, gpointer user_data) {
  ScandMetricsEndpoint *m = user_data;
  g_autoptr(GInetAddress) peer = peer_of(conn);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(conn, NULL);
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address(conn, NULL);
  const char *why = !peer_allowed(m, peer)                ? "not loopback and not in metrics-allow"
                    : m->counter->open >= CONNECTIONS_MAX ? "too many connections open"
                    : !local || !remote                   ? "no address"
                                                          : NULL;
  if (why) {
    log_refusal(m, peer, why);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    return TRUE;
  }
  g_socket_set_timeout(g_socket_connection_get_socket(conn), IDLE_TIMEOUT_S);
  m->counter->open++;
  g_object_weak_ref(G_OBJECT(conn), connection_gone, g_rc_box_acquire(m->counter));
  GWeakRef *ref = g_new0(GWeakRef, 1);
  g_weak_ref_init(ref, conn);
  g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, LIFETIME_S, on_lifetime_over, ref, weak_ref_free);
  g_autoptr(GError) error = NULL;
  if (!soup_server_accept_iostream(m->server, G_IO_STREAM(conn), local, remote, &error))
    scand_log("metrics: %s", error->message);
  return TRUE;
}

/* ---- the one route ----------------------------------------------------------- */

static void early_handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                          gpointer user_data) {
  const char *method = soup_server_message_get_method(msg);
  SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
  SoupEncoding enc = soup_message_headers_get_encoding(h);
  gboolean body = enc != SOUP_ENCODING_NONE &&
                  !(enc == SOUP_ENCODING_CONTENT_LENGTH && soup_message_headers_get_content_length(h) == 0);
  if (strcmp(method, SOUP_METHOD_GET) != 0 && strcmp(method, SOUP_METHOD_HEAD) != 0)
    scand_http_refuse_early(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Allow: GET, HEAD\r\n");
  else if (body)
    scand_http_refuse_early(msg, SOUP_STATUS_BAD_REQUEST, NULL);
}

/* The queue gauges, read from the spool now: job ids are UTC times. */
static void refresh_queue(ScandMetricsEndpoint *m) {
  g_auto(GStrv) ids = scand_spool_list_jobs(m->spool, NULL);
  guint n = ids ? g_strv_length(ids) : 0;
  double oldest = 0;
  int y, mo, d, h, mi, s;
  if (n && sscanf(ids[0], "%4d%2d%2d-%2d%2d%2d", &y, &mo, &d, &h, &mi, &s) == 6) {
    g_autoptr(GDateTime) t = g_date_time_new_utc(y, mo, d, h, mi, s);
    if (t)
      oldest = MAX(0.0, (double) (g_get_real_time() / G_USEC_PER_SEC - g_date_time_to_unix(t)));
  }
  scand_metrics_queue(n, oldest);
}

static void handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer user_data) {
  ScandMetricsEndpoint *m = user_data;
  if (strcmp(path, "/metrics") != 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  refresh_queue(m);
  char *text = scand_metrics_render();
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response(msg, CONTENT_TYPE, SOUP_MEMORY_TAKE, text, strlen(text));
}

/* ---- the textfile ------------------------------------------------------------ */

static gboolean on_textfile_timer(gpointer data) {
  ScandMetricsEndpoint *m = data;
  refresh_queue(m);
  g_autofree char *text = scand_metrics_render();
  g_autoptr(GError) error = NULL;
  /* Temporary file and rename: node-exporter never reads half a file. Not
   * fsynced: the next write replaces it in 15 s anyway. */
  if (!g_file_set_contents_full(m->textfile, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error)) {
    gint64 now = g_get_monotonic_time();
    if (!m->last_refusal_log || now - m->last_refusal_log >= REFUSAL_LOG_EVERY_US) {
      m->last_refusal_log = now;
      scand_log("metrics: cannot write %s: %s", m->textfile, error->message);
    }
  }
  return G_SOURCE_CONTINUE;
}

/* ---- life -------------------------------------------------------------------- */

static gboolean parse_allow(ScandMetricsEndpoint *m, const char *value, GError **error) {
  g_auto(GStrv) items = scand_config_split_list(value);
  for (guint i = 0; items[i]; i++) {
    GInetAddressMask *mask = g_inet_address_mask_new_from_string(items[i], NULL);
    if (!mask) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                  "metrics-allow: \"%s\" is not an IP address or network (192.0.2.7, 10.1.0.0/16)", items[i]);
      return FALSE;
    }
    g_ptr_array_add(m->allow, mask);
  }
  return TRUE;
}

static gboolean start_listening(ScandMetricsEndpoint *m, const char *listen, GError **error) {
  g_autoptr(GInetAddress) address = NULL;
  guint port = 0;
  if (!scand_metrics_parse_listen(listen, &address, &port, error))
    return FALSE;
  if (!g_inet_address_get_is_loopback(address) && m->allow->len == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "metrics-listen %s is reachable from other computers but metrics-allow names none: list the "
                "addresses of the Prometheus servers there",
                listen);
    return FALSE;
  }
  m->counter = g_rc_box_new0(Counter);
  m->server = soup_server_new("server-header", "scand", NULL);
  soup_server_add_early_handler(m->server, NULL, early_handler, m, NULL);
  soup_server_add_handler(m->server, NULL, handler, m, NULL);
  m->service = g_socket_service_new();
  g_signal_connect(m->service, "incoming", G_CALLBACK(on_incoming), m);
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new(address, (guint16) port);
  g_autoptr(GSocketAddress) got = NULL;
  g_autoptr(GError) local = NULL;
  if (!g_socket_listener_add_address(G_SOCKET_LISTENER(m->service), want, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                     NULL, &got, &local)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "metrics: cannot listen on %s: %s", listen, local->message);
    return FALSE;
  }
  m->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(got));
  g_socket_service_start(m->service);
  return TRUE;
}

ScandMetricsEndpoint *scand_metrics_endpoint_new(ScandConfig *config, ScandSpool *spool, GError **error) {
  const char *listen = scand_config_get(config, "scand", NULL, "metrics-listen");
  const char *allow = scand_config_get(config, "scand", NULL, "metrics-allow");
  const char *textfile = scand_config_get(config, "scand", NULL, "metrics-textfile");
  if ((!listen || !*listen) && (!textfile || !*textfile))
    return NULL;
  g_autoptr(ScandMetricsEndpoint) m = g_new0(ScandMetricsEndpoint, 1);
  m->spool = spool;
  m->allow = g_ptr_array_new_with_free_func(g_object_unref);
  if (allow && !parse_allow(m, allow, error))
    return NULL;
  if (listen && *listen && !start_listening(m, listen, error))
    return NULL;
  if (textfile && *textfile) {
    m->textfile = g_strdup(textfile);
    on_textfile_timer(m);
    m->textfile_timer = g_timeout_add_seconds(TEXTFILE_EVERY_S, on_textfile_timer, m);
  }
  return g_steal_pointer(&m);
}

void scand_metrics_endpoint_free(ScandMetricsEndpoint *m) {
  if (!m)
    return;
  g_clear_handle_id(&m->textfile_timer, g_source_remove);
  if (m->service) {
    g_socket_service_stop(m->service);
    g_socket_listener_close(G_SOCKET_LISTENER(m->service));
    g_signal_handlers_disconnect_by_data(m->service, m);
    g_object_unref(m->service);
  }
  if (m->server) {
    soup_server_disconnect(m->server);
    g_object_unref(m->server);
  }
  if (m->counter)
    g_rc_box_release(m->counter);
  g_clear_pointer(&m->allow, g_ptr_array_unref);
  g_free(m->textfile);
  g_free(m);
}

guint scand_metrics_endpoint_get_port(ScandMetricsEndpoint *m) {
  return m ? m->port : 0;
}
