/* A TCP listener in front of a libsoup server, for the daemon's HTTP
 * endpoints (the web page; device event endpoints). It accepts connections
 * itself so that what libsoup never sees can be refused first: a peer the
 * filter does not want, one connection too many (in all, or from one
 * address), a peer that goes quiet (idle timeout) or sends its headers
 * too slowly (header timeout). With a certificate every connection is TLS.
 * Each answer closes its connection (see http-listener.c). Runs in the
 * main context. */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct ScandHttpListener ScandHttpListener;

/* Whether a connection from peer (an IPv4-mapped IPv6 address already made
 * plain IPv4) is served at all; FALSE closes it before a byte is read. */
typedef gboolean (*ScandHttpPeerFilter)(GInetAddress *peer, gpointer user_data);

typedef struct {
  const char *name;           /* in log lines: "web", "panel listener" */
  const char *address;        /* an IP address; NULL or "": every address (IPv6 and IPv4) */
  guint port;                 /* 0: one the system picks */
  guint max_connections;      /* open at once, in all; 0 = 64 */
  guint max_per_peer;         /* open at once from one address other than loopback; 0 = no limit */
  guint idle_timeout_s;       /* a connection without traffic this long is closed; 0 = 30 */
  guint header_timeout_s;     /* a request's headers must all come within this; 0 = 20 */
  GTlsCertificate *tls;       /* NULL: plain HTTP; else every connection is TLS with it (borrowed) */
  ScandHttpPeerFilter filter; /* NULL: every peer */
  gpointer filter_data;
} ScandHttpListenerOptions;

/* Listens as options say and hands accepted connections to server (borrowed;
 * it must outlive the listener). */
ScandHttpListener *scand_http_listener_new(SoupServer *server, const ScandHttpListenerOptions *options, GError **error);
/* Stops listening; connections already handed to the server stay with it.
 * Accepts NULL. */
void scand_http_listener_free(ScandHttpListener *listener);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandHttpListener, scand_http_listener_free)

/* The port listened on. */
guint scand_http_listener_get_port(ScandHttpListener *listener);
/* Connections open now. */
guint scand_http_listener_get_open(ScandHttpListener *listener);
/* The socket under msg's connection when the listener accepted it, else
 * NULL. Borrowed: valid while the connection is open. */
GSocket *scand_http_listener_get_socket(ScandHttpListener *listener, SoupServerMessage *msg);

/* The address of remote as one compares it: ::ffff:a.b.c.d as a.b.c.d.
 * NULL for a non-IP address. New reference. */
GInetAddress *scand_http_peer_address(GSocketAddress *remote);
/* address as one compares it (::ffff:a.b.c.d as a.b.c.d). New reference. */
GInetAddress *scand_http_plain_address(GInetAddress *address);

/* Answers status on the bare connection of msg and closes it, so that a
 * body the request announced is never read (from an early handler).
 * extra_headers: whole "Name: value\r\n" lines, or NULL. */
void scand_http_refuse_early(SoupServerMessage *msg, guint status, const char *extra_headers);

G_END_DECLS
