/* The SMTP listener: sockets (bound here or passed by systemd), connection
 * limits, one thread per session, and the reaper that enforces the
 * sessions' deadlines. */
#include "scand/service/smtp-listener-private.h"
#include "scand/service/http-listener.h"
#include "scand/core/config-intake.h"
#include "scand/base/error.h"
#include "scand/service/smtp-command.h"

#include <string.h>
#include <systemd/sd-daemon.h>

#define DEFAULT_MAX_SIZE (50 * 1024 * 1024)
#define REAPER_INTERVAL_MS 250

struct ScandSmtpListener {
  char *name;
  GSocketService *service;
  ScandMailSpool *mail_spool;
  const ScandSmtpHooks *hooks;
  GMutex lock;
  ScandSmtpPolicy *policy; /* under lock */
  GHashTable *per_ip;      /* client ip → count, under lock */
  GPtrArray *peers;        /* ScandSmtpPeer* alive, under lock */
  guint connections;       /* under lock */
  GThreadPool *pool;
  GThread *reaper;
  GCond reaper_wake;
  gboolean reaper_stop; /* under lock */
  guint port;
};

/* ---- the policy ---------------------------------------------------------- */

static void account_free(ScandSmtpAccount *a) {
  if (!a)
    return;
  if (a->password)
    memset(a->password, 0, strlen(a->password));
  g_free(a->password);
  g_free(a->name);
  g_ptr_array_unref(a->allow_from);
  g_free(a);
}

ScandSmtpPolicy *scand_smtp_policy_ref(ScandSmtpPolicy *policy) {
  g_atomic_int_inc(&policy->ref_count);
  return policy;
}

void scand_smtp_policy_unref(ScandSmtpPolicy *p) {
  if (!p || !g_atomic_int_dec_and_test(&p->ref_count))
    return;
  g_free(p->name);
  g_free(p->hostname);
  g_clear_object(&p->certificate);
  g_ptr_array_unref(p->allow_from);
  g_strfreev(p->accept_to);
  g_strfreev(p->accept_from);
  g_ptr_array_unref(p->accounts);
  g_free(p);
}

gboolean scand_smtp_address_in(GInetAddress *address, GPtrArray *masks) {
  for (guint i = 0; address && masks && i < masks->len; i++)
    if (g_inet_address_mask_matches(masks->pdata[i], address))
      return TRUE;
  return FALSE;
}

static GPtrArray *masks_from(ScandConfig *config, const char *kind, const char *name, GError **error) {
  g_autoptr(GPtrArray) masks = g_ptr_array_new_with_free_func(g_object_unref);
  g_auto(GStrv) items = scand_config_split_list(scand_config_get(config, kind, name, "allow-from"));
  for (guint i = 0; items[i]; i++) {
    GInetAddressMask *m = g_inet_address_mask_new_from_string(items[i], error);
    if (!m) {
      g_prefix_error(error, "[%s %s] allow-from: ", kind, name);
      return NULL;
    }
    g_ptr_array_add(masks, m);
  }
  return g_steal_pointer(&masks);
}

static GStrv globs_from(ScandConfig *config, const char *name, const char *key) {
  g_auto(GStrv) items = scand_config_split_list(scand_config_get(config, "intake", name, key));
  GStrv lower = g_new0(char *, g_strv_length(items) + 1);
  for (guint i = 0; items[i]; i++)
    lower[i] = g_ascii_strdown(items[i], -1);
  return lower;
}

static gboolean policy_accounts(ScandSmtpPolicy *p, ScandConfig *config, GError **error) {
  g_auto(GStrv) names = scand_config_split_list(scand_config_get(config, "intake", p->name, "accounts"));
  for (guint i = 0; names[i]; i++) {
    ScandSmtpAccount *a = g_new0(ScandSmtpAccount, 1);
    a->name = g_strdup(names[i]);
    g_ptr_array_add(p->accounts, a);
    a->password = scand_config_read_secret(config, "account", names[i], "password-file", error);
    a->allow_from = masks_from(config, "account", names[i], error);
    if (!a->password || !a->allow_from)
      return FALSE;
    if (!*a->password) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "[account %s]: the password file is empty", names[i]);
      return FALSE;
    }
  }
  return TRUE;
}

/* The certificate and its key (a secret file) as one GTlsCertificate. */
static gboolean policy_tls(ScandSmtpPolicy *p, ScandConfig *config, GError **error) {
  const char *cert_path = scand_config_get(config, "intake", p->name, "tls-certificate");
  if (!cert_path)
    return TRUE;
  if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                "[intake %s]: GLib has no TLS backend (install glib-networking)", p->name);
    return FALSE;
  }
  g_autofree char *cert = NULL;
  if (!g_file_get_contents(cert_path, &cert, NULL, error))
    return FALSE;
  g_autofree char *key = scand_config_read_secret(config, "intake", p->name, "tls-key", error);
  if (!key)
    return FALSE;
  g_autofree char *pem = g_strconcat(cert, "\n", key, NULL);
  memset(key, 0, strlen(key));
  p->certificate = g_tls_certificate_new_from_pem(pem, -1, error);
  memset(pem, 0, strlen(pem));
  if (!p->certificate)
    g_prefix_error(error, "[intake %s] tls-certificate/tls-key: ", p->name);
  return p->certificate != NULL;
}

static gboolean policy_limits(ScandSmtpPolicy *p, ScandConfig *config, GError **error) {
  const char *n = p->name;
  gint64 size, rcpts, conn, per_ip, line, timeout, data, idle, limit;
  if (!scand_config_get_size(config, "intake", n, "max-size", DEFAULT_MAX_SIZE, &size, error) ||
      !scand_config_get_int(config, "intake", n, "max-recipients", 100, &rcpts, error) ||
      !scand_config_get_int(config, "intake", n, "max-connections", 100, &conn, error) ||
      !scand_config_get_int(config, "intake", n, "max-connections-per-ip", 10, &per_ip, error) ||
      !scand_config_get_int(config, "intake", n, "max-line-length", 65536, &line, error) ||
      !scand_config_get_duration(config, "intake", n, "timeout", 300, &timeout, error) ||
      !scand_config_get_duration(config, "intake", n, "data-timeout", 180, &data, error) ||
      !scand_config_get_duration(config, "intake", n, "idle-timeout", 30, &idle, error) ||
      !scand_config_get_duration(config, "intake", n, "session-limit", 3600, &limit, error))
    return FALSE;
  p->max_size = (guint64) size;
  p->max_recipients = (guint) rcpts;
  p->max_connections = (guint) conn;
  p->max_connections_per_ip = (guint) per_ip;
  p->max_line = (guint) line;
  p->timeout_us = MAX(timeout, 1) * G_USEC_PER_SEC;
  p->data_timeout_us = MAX(data, 1) * G_USEC_PER_SEC;
  p->idle_timeout_us = MAX(idle, 1) * G_USEC_PER_SEC;
  p->session_limit_us = MAX(limit, 1) * G_USEC_PER_SEC;
  return TRUE;
}

ScandSmtpPolicy *scand_smtp_policy_new(ScandConfig *config, const char *name, GError **error) {
  g_autoptr(ScandSmtpPolicy) p = g_new0(ScandSmtpPolicy, 1);
  p->ref_count = 1;
  p->name = g_strdup(name);
  p->accounts = g_ptr_array_new_with_free_func((GDestroyNotify) account_free);
  p->accept_to = globs_from(config, name, "accept-to");
  p->accept_from = globs_from(config, name, "accept-from");
  const char *host = scand_config_get(config, "intake", name, "hostname");
  p->hostname = g_strdup(host ? host : g_get_host_name());
  if (!(p->allow_from = masks_from(config, "intake", name, error)) ||
      !scand_config_get_bool(config, "intake", name, "require-tls", FALSE, &p->require_tls, error) ||
      !scand_config_get_bool(config, "intake", name, "require-auth", FALSE, &p->require_auth, error) ||
      !scand_config_get_bool(config, "intake", name, "allow-cleartext-auth", FALSE, &p->cleartext_auth, error) ||
      !policy_limits(p, config, error) || !policy_tls(p, config, error) || !policy_accounts(p, config, error))
    return NULL;
  return g_steal_pointer(&p);
}

/* ---- sessions ------------------------------------------------------------ */

/* The client's address; an IPv4-mapped IPv6 address (a dual-stack socket)
 * as the IPv4 address it is, so that allow-from = 192.168.1.0/24 holds. */
static GInetAddress *client_address(GSocketConnection *connection) {
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(connection, NULL);
  if (!remote || !G_IS_INET_SOCKET_ADDRESS(remote))
    return NULL;
  return scand_http_plain_address(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
}

static void peer_free(ScandSmtpListener *l, ScandSmtpPeer *peer) {
  g_mutex_lock(&l->lock);
  g_ptr_array_remove_fast(l->peers, peer);
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(l->per_ip, peer->client_ip));
  if (n <= 1)
    g_hash_table_remove(l->per_ip, peer->client_ip);
  else
    g_hash_table_insert(l->per_ip, g_strdup(peer->client_ip), GUINT_TO_POINTER(n - 1));
  l->connections--;
  g_mutex_unlock(&l->lock);
  g_object_unref(peer->connection);
  g_object_unref(peer->client_address);
  g_free(peer->client_ip);
  scand_smtp_policy_unref(peer->policy);
  g_clear_object(&peer->clock.cancellable);
  g_mutex_clear(&peer->clock.lock);
  g_free(peer);
}

static void session_thread(gpointer data, gpointer user_data) {
  ScandSmtpPeer *peer = data;
  scand_smtp_session_run(peer);
  peer_free(user_data, peer);
}

/* Over a limit: one 421 line, then the connection closes. The socket's
 * buffer takes a line this short without blocking. */
static void refuse_connection(ScandSmtpListener *l, GSocketConnection *connection, const char *ip) {
  g_autofree char *text = scand_smtp_reply_build(SCAND_SMTP_R_TOO_MANY_CONN, ip);
  GSocket *socket = g_socket_connection_get_socket(connection);
  g_socket_set_blocking(socket, FALSE);
  g_socket_send(socket, text, strlen(text), NULL, NULL);
  g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  if (l->hooks->log) {
    g_autofree char *line = g_strdup_printf("intake %s: client %s: refused: too many connections", l->name, ip);
    l->hooks->log(line, l->hooks->user_data);
  }
}

static gboolean on_incoming(GSocketService *service, GSocketConnection *connection, GObject *source,
                            gpointer user_data) {
  ScandSmtpListener *l = user_data;
  g_autoptr(GInetAddress) address = client_address(connection);
  if (!address)
    return TRUE;
  g_autofree char *ip = g_inet_address_to_string(address);
  g_mutex_lock(&l->lock);
  ScandSmtpPolicy *policy = scand_smtp_policy_ref(l->policy);
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(l->per_ip, ip));
  gboolean over = n >= policy->max_connections_per_ip || l->connections >= policy->max_connections;
  ScandSmtpPeer *peer = NULL;
  if (!over) {
    g_hash_table_insert(l->per_ip, g_strdup(ip), GUINT_TO_POINTER(n + 1));
    l->connections++;
    peer = g_new0(ScandSmtpPeer, 1);
    peer->connection = g_object_ref(connection);
    peer->client_ip = g_strdup(ip);
    peer->client_address = g_object_ref(address);
    peer->policy = scand_smtp_policy_ref(policy);
    peer->mail_spool = l->mail_spool;
    peer->hooks = l->hooks;
    g_mutex_init(&peer->clock.lock);
    peer->clock.cancellable = g_cancellable_new();
    g_ptr_array_add(l->peers, peer);
  }
  g_mutex_unlock(&l->lock);
  scand_smtp_policy_unref(policy);
  if (over)
    refuse_connection(l, connection, ip);
  else
    g_thread_pool_push(l->pool, peer, NULL);
  return TRUE;
}

/* Cancels the I/O of sessions whose deadline passed, on a thread of its own
 * so that it also runs while the listener is being stopped. */
static gpointer reaper_thread(gpointer data) {
  ScandSmtpListener *l = data;
  g_mutex_lock(&l->lock);
  while (!l->reaper_stop) {
    gint64 now = g_get_monotonic_time();
    for (guint i = 0; i < l->peers->len; i++) {
      ScandSmtpClock *c = &((ScandSmtpPeer *) l->peers->pdata[i])->clock;
      g_mutex_lock(&c->lock);
      if (c->deadline && now > c->deadline) {
        c->timed_out = TRUE;
        g_cancellable_cancel(c->cancellable);
      }
      g_mutex_unlock(&c->lock);
    }
    g_cond_wait_until(&l->reaper_wake, &l->lock, now + REAPER_INTERVAL_MS * 1000);
  }
  g_mutex_unlock(&l->lock);
  return NULL;
}

/* ---- sockets ------------------------------------------------------------- */

/* Sockets systemd passed (LISTEN_FDS), by FileDescriptorName; read once per
 * process, since the environment is cleared after the first reading. */
static int systemd_socket(const char *name) {
  static gsize once = 0;
  static int n = 0;
  static char **names = NULL;
  if (g_once_init_enter(&once)) {
    n = sd_listen_fds_with_names(1, &names);
    g_once_init_leave(&once, 1);
  }
  for (int i = 0; i < n && names; i++)
    if (g_strcmp0(names[i], name) == 0)
      return SD_LISTEN_FDS_START + i;
  return -1;
}

static gboolean listen_systemd(ScandSmtpListener *l, const char *fd_name, GError **error) {
  int fd = systemd_socket(fd_name);
  if (fd < 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND,
                "[intake %s] listen: systemd passed no socket named \"%s\" (FileDescriptorName= in the .socket unit; "
                "is scand-smtp.socket active?)",
                l->name, fd_name);
    return FALSE;
  }
  g_autoptr(GSocket) socket = g_socket_new_from_fd(fd, error);
  return socket && g_socket_listener_add_socket(G_SOCKET_LISTENER(l->service), socket, NULL, error);
}

static gboolean listen_address(ScandSmtpListener *l, const char *host, guint port, GError **error) {
  if (!host) {
    /* Every address, IPv6 and IPv4. */
    return g_socket_listener_add_inet_port(G_SOCKET_LISTENER(l->service), (guint16) port, NULL, error);
  }
  g_autoptr(GResolver) resolver = g_resolver_get_default();
  g_autoptr(GInetAddress) literal = g_inet_address_new_from_string(host);
  GList *addresses =
      literal ? g_list_prepend(NULL, g_object_ref(literal)) : g_resolver_lookup_by_name(resolver, host, NULL, error);
  if (!addresses)
    return FALSE;
  gboolean ok = TRUE;
  for (GList *a = addresses; a && ok; a = a->next) {
    g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(a->data, (guint16) port);
    g_autoptr(GSocketAddress) effective = NULL;
    ok = g_socket_listener_add_address(G_SOCKET_LISTENER(l->service), sa, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                       NULL, &effective, error);
    if (ok && !l->port)
      l->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
  }
  g_resolver_free_addresses(addresses);
  return ok;
}

static gboolean listen_all(ScandSmtpListener *l, ScandConfig *config, GError **error) {
  g_auto(GStrv) items = scand_config_split_list(scand_config_get(config, "intake", l->name, "listen"));
  for (guint i = 0; items[i]; i++) {
    g_autofree char *host = NULL, *fd_name = NULL, *why = NULL;
    guint port = 0;
    if (!scand_intake_parse_listen(items[i], &host, &port, &fd_name, &why)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "[intake %s] listen: \"%s\": %s", l->name, items[i], why);
      return FALSE;
    }
    gboolean ok = fd_name ? listen_systemd(l, fd_name, error) : listen_address(l, host, port, error);
    if (!ok) {
      g_prefix_error(error, "[intake %s] listen %s: ", l->name, items[i]);
      return FALSE;
    }
    if (!host && !fd_name && !l->port)
      l->port = port;
  }
  if (!items[0]) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "[intake %s]: no listen address", l->name);
    return FALSE;
  }
  return TRUE;
}

/* ---- the listener -------------------------------------------------------- */

ScandSmtpListener *scand_smtp_listener_new(ScandConfig *config, const char *name, ScandMailSpool *mail_spool,
                                           const ScandSmtpHooks *hooks, GError **error) {
  g_autoptr(ScandSmtpPolicy) policy = scand_smtp_policy_new(config, name, error);
  if (!policy)
    return NULL;
  ScandSmtpListener *l = g_new0(ScandSmtpListener, 1);
  l->name = g_strdup(name);
  l->mail_spool = mail_spool;
  l->hooks = hooks;
  g_mutex_init(&l->lock);
  g_cond_init(&l->reaper_wake);
  l->policy = g_steal_pointer(&policy);
  l->per_ip = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  l->peers = g_ptr_array_new();
  l->service = g_socket_service_new();
  if (!listen_all(l, config, error)) {
    scand_smtp_listener_free(l);
    return NULL;
  }
  /* Room for every session the limit allows: the limit refuses, never a queue. */
  l->pool = g_thread_pool_new(session_thread, l, (gint) l->policy->max_connections + 1, FALSE, NULL);
  g_signal_connect(l->service, "incoming", G_CALLBACK(on_incoming), l);
  l->reaper = g_thread_new("smtp-reaper", reaper_thread, l);
  g_socket_service_start(l->service);
  return l;
}

gboolean scand_smtp_listener_reload(ScandSmtpListener *l, ScandConfig *config, GError **error) {
  ScandSmtpPolicy *policy = scand_smtp_policy_new(config, l->name, error);
  if (!policy)
    return FALSE;
  g_mutex_lock(&l->lock);
  ScandSmtpPolicy *old = l->policy;
  l->policy = policy;
  g_mutex_unlock(&l->lock);
  scand_smtp_policy_unref(old);
  return TRUE;
}

guint scand_smtp_listener_get_port(ScandSmtpListener *l) {
  return l->port;
}

void scand_smtp_listener_free(ScandSmtpListener *l) {
  if (!l)
    return;
  if (l->service) {
    g_socket_service_stop(l->service);
    g_socket_listener_close(G_SOCKET_LISTENER(l->service));
    g_signal_handlers_disconnect_by_data(l->service, l);
  }
  g_mutex_lock(&l->lock);
  for (guint i = 0; i < l->peers->len; i++) {
    ScandSmtpClock *c = &((ScandSmtpPeer *) l->peers->pdata[i])->clock;
    g_mutex_lock(&c->lock);
    c->stopping = TRUE;
    g_cancellable_cancel(c->cancellable);
    g_mutex_unlock(&c->lock);
  }
  g_mutex_unlock(&l->lock);
  /* The sessions say 421 and end (the reaper holds their last words to a
   * short deadline). */
  if (l->pool)
    g_thread_pool_free(l->pool, FALSE, TRUE);
  if (l->reaper) {
    g_mutex_lock(&l->lock);
    l->reaper_stop = TRUE;
    g_cond_signal(&l->reaper_wake);
    g_mutex_unlock(&l->lock);
    g_thread_join(l->reaper);
  }
  g_clear_object(&l->service);
  g_ptr_array_unref(l->peers);
  g_hash_table_unref(l->per_ip);
  scand_smtp_policy_unref(l->policy);
  g_cond_clear(&l->reaper_wake);
  g_mutex_clear(&l->lock);
  g_free(l->name);
  g_free(l);
}
