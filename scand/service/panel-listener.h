/* The daemon's HTTP endpoint for events that devices push (WS-Scan's
 * ScanAvailableEvent, WS-Eventing's SubscriptionEnd).
 *
 * It is reachable only from the devices it was told about: a connection from
 * any other address is closed before a byte is read, and a device may post
 * only to its own route (/scand/panel/<random token>). Requests are POSTs
 * with a Content-Length of at most 256 KiB; an idle connection is closed
 * after 30 s and at most 32 are open at once. Runs in the main context. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct ScandPanelListener ScandPanelListener;

/* Handles one message posted to a route; FALSE with an error (answered 400)
 * when the message is not acceptable. Called in the main context. */
typedef gboolean (*ScandPanelListenerFunc)(GBytes *body, gpointer user_data, GError **error);

/* Listens on address (NULL or "": every address, IPv6 and IPv4) and port
 * (0: one the system picks). */
ScandPanelListener *scand_panel_listener_new(const char *address, guint port, GError **error);

/* Stops listening and drops every route. Accepts NULL. */
void scand_panel_listener_free(ScandPanelListener *listener);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandPanelListener, scand_panel_listener_free)

/* The port listened on. */
guint scand_panel_listener_get_port(ScandPanelListener *listener);

/* Opens a route for the device at host (a name or an address, as in its
 * URI): only the host's addresses may post to it, and func gets what they
 * post. Returns the URL to give the device (http://<this computer's address
 * towards the device>:<port>/scand/panel/<token>), newly allocated, or NULL
 * when host cannot be resolved or reached. */
char *scand_panel_listener_add(ScandPanelListener *listener, const char *host, ScandPanelListenerFunc func,
                               gpointer user_data, GError **error);

/* Closes the route of url; posts to it are refused from then on. */
void scand_panel_listener_remove(ScandPanelListener *listener, const char *url);

G_END_DECLS
