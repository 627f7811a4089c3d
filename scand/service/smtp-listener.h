/* The SMTP listener of an [intake NAME] with type = smtp: copiers that can
 * only send mail deliver their scans to it, and scand routes the
 * attachments like any other job.
 *
 * ESMTP with PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES, STARTTLS and
 * AUTH PLAIN/LOGIN (per-device [account] logins, never offered before TLS
 * unless allow-cleartext-auth). Never an open relay: a recipient outside
 * accept-to is refused whoever asks. A message is durable in the spool
 * (mail-spool.h) before the 250 that accepts it; it is streamed to disk, so
 * memory does not grow with its size. Limits: per-IP and total connections,
 * line length, recipients, size; RFC 5321 timeouts plus a short idle limit.
 * Port 25 comes from systemd socket activation (listen = systemd). */
#pragma once

#include <glib.h>
#include "scand/base/config.h"
#include "scand/core/mail-spool.h"

G_BEGIN_DECLS

typedef struct ScandSmtpListener ScandSmtpListener;

typedef struct {
  /* A message was accepted (durable, about to get its 250); any thread. */
  void (*accepted)(const char *queue_id, gpointer user_data);
  /* One log line: a message accepted or refused (client, sender,
   * recipients, size, verdict; never content or passwords), a connection
   * refused, the listener starting. Any thread. */
  void (*log)(const char *line, gpointer user_data);
  gpointer user_data;
} ScandSmtpHooks;

/* Starts [intake name]: binds its listen addresses (or takes the sockets
 * systemd passed), loads its certificate and account passwords. Connections
 * are accepted in the thread-default main context; each session runs on a
 * thread of its own. hooks must outlive the listener. */
ScandSmtpListener *scand_smtp_listener_new(ScandConfig *config, const char *name, ScandMailSpool *mail_spool,
                                           const ScandSmtpHooks *hooks, GError **error);

/* Takes the section's new policy (accounts, addresses, limits, TLS files)
 * for the sessions that start from now on; listen addresses stay as they
 * are until a restart. On FALSE the old policy stays. */
gboolean scand_smtp_listener_reload(ScandSmtpListener *listener, ScandConfig *config, GError **error);

/* The local port of the first listening socket (for tests and logs). */
guint scand_smtp_listener_get_port(ScandSmtpListener *listener);

/* Stops accepting, ends every session (421 to the client; a message not yet
 * accepted is not kept: the client sends it again) and waits for them.
 * Accepts NULL. */
void scand_smtp_listener_free(ScandSmtpListener *listener);

G_END_DECLS
