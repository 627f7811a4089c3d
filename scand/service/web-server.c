/* The web page's server: the listener, the routes, the headers every answer
 * carries, and the page's files from the program's resources. */
#include "scand/service/web-private.h"
#include "scand/base/error.h"
#include "scand/base/listen-address.h"
#include "scand/base/log.h"
#include "scand-web-resources.h"

#include <string.h>

#define DEFAULT_LISTEN "127.0.0.1:8091"
#define DEFAULT_SESSION_IDLE_S (8 * 3600)
#define EXPIRE_EVERY_S 60

/* No inline script or style, nothing from any other origin, no framing. */
#define CSP                                                                                                            \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "                      \
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

void web_reply_json(SoupServerMessage *msg, guint status, JsonNode *body) {
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, body);
  gsize len = 0;
  char *text = json_generator_to_data(gen, &len);
  json_node_unref(body);
  soup_server_message_set_status(msg, status, NULL);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

JsonNode *web_empty_object(void) {
  g_autoptr(JsonObject) o = json_object_new();
  return json_node_init_object(json_node_alloc(), o);
}

void web_reply_error(SoupServerMessage *msg, guint status, const char *message) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "error");
  json_builder_add_string_value(b, message);
  json_builder_end_object(b);
  web_reply_json(msg, status, json_builder_get_root(b));
}

static void set_security_headers(SoupServerMessage *msg, gboolean tls) {
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Content-Security-Policy", CSP);
  soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace(h, "X-Frame-Options", "DENY");
  soup_message_headers_replace(h, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace(h, "Cross-Origin-Opener-Policy", "same-origin");
  soup_message_headers_replace(h, "Cross-Origin-Resource-Policy", "same-origin");
  soup_message_headers_replace(h, "Cache-Control", "no-store");
  if (tls)
    soup_message_headers_replace(h, "Strict-Transport-Security", "max-age=31536000");
}

/* The page's files: only these names, from the resources compiled in. */
static const struct {
  const char *path, *resource, *type;
} files[] = {
  { "/", "/org/scand/web/index.html", "text/html; charset=utf-8" },
  { "/login", "/org/scand/web/login.html", "text/html; charset=utf-8" },
  { "/static/app.js", "/org/scand/web/app.js", "text/javascript; charset=utf-8" },
  { "/static/login.js", "/org/scand/web/login.js", "text/javascript; charset=utf-8" },
  { "/static/style.css", "/org/scand/web/style.css", "text/css; charset=utf-8" },
  { "/static/icon.svg", "/org/scand/web/icon.svg", "image/svg+xml" },
};

static void serve_file(SoupServerMessage *msg, const char *resource, const char *type) {
  g_autoptr(GBytes) bytes = g_resource_lookup_data(scand_web_get_resource(), resource, 0, NULL);
  if (!bytes) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control", "no-cache");
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, data, len);
}

static void redirect(SoupServerMessage *msg, const char *to) {
  soup_server_message_set_redirect(msg, SOUP_STATUS_SEE_OTHER, to);
}

/* Whether the request's Host names this server: an IP address, localhost,
 * or one of [web] server-names. A page without login must not answer a
 * name that some other site's DNS turned into our address (DNS rebinding). */
static gboolean host_ok(ScandWeb *web, SoupServerMessage *msg) {
  if (web->accounts)
    return TRUE; /* a rebound origin has no session and cannot log in */
  const char *host = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Host");
  if (!host)
    return FALSE;
  g_autofree char *name = NULL;
  if (host[0] == '[') {
    const char *end = strchr(host, ']');
    name = end ? g_strndup(host + 1, (gsize) (end - host - 1)) : g_strdup(host);
  } else {
    const char *colon = strchr(host, ':');
    name = colon ? g_strndup(host, (gsize) (colon - host)) : g_strdup(host);
  }
  g_autoptr(GInetAddress) literal = g_inet_address_new_from_string(name);
  if (literal || g_ascii_strcasecmp(name, "localhost") == 0)
    return TRUE;
  for (guint i = 0; web->server_names && web->server_names[i]; i++)
    if (g_ascii_strcasecmp(name, web->server_names[i]) == 0)
      return TRUE;
  return FALSE;
}

/* A POST from a page of another origin is refused even before its token is
 * looked at (browsers send Origin with every POST). */
static gboolean origin_ok(SoupServerMessage *msg) {
  SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
  const char *origin = soup_message_headers_get_one(h, "Origin");
  const char *host = soup_message_headers_get_one(h, "Host");
  if (!origin)
    return TRUE;
  const char *sep = strstr(origin, "://");
  return host && sep && g_ascii_strcasecmp(sep + 3, host) == 0;
}

/* After the headers: what is not a GET, HEAD or small POST is refused before
 * a body is read. */
static void early_handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                          gpointer user_data) {
  const char *method = soup_server_message_get_method(msg);
  SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
  if (method == SOUP_METHOD_GET || method == SOUP_METHOD_HEAD) {
    if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CHUNKED || soup_message_headers_get_content_length(h) > 0)
      scand_http_refuse_early(msg, SOUP_STATUS_BAD_REQUEST, NULL);
  } else if (method != SOUP_METHOD_POST) {
    scand_http_refuse_early(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Allow: GET, HEAD, POST\r\n");
  } else if (soup_message_headers_get_encoding(h) != SOUP_ENCODING_CONTENT_LENGTH) {
    scand_http_refuse_early(msg, SOUP_STATUS_LENGTH_REQUIRED, NULL);
  } else if (soup_message_headers_get_content_length(h) > WEB_BODY_MAX) {
    scand_http_refuse_early(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
  }
}

static void handle_api(ScandWeb *web, SoupServerMessage *msg, const char *path, gboolean post) {
  WebSession *session = web_auth_session(web, msg);
  if (strcmp(path, "/api/session") == 0 && !post) {
    session = web_auth_session_ensure(web, msg);
    if (session)
      web_auth_handle_session(web, msg, session);
    return;
  }
  if (post && (!origin_ok(msg) || !web_auth_csrf_ok(session, msg))) {
    web_reply_error(msg, SOUP_STATUS_FORBIDDEN, "missing or wrong " WEB_CSRF_HEADER " (GET /api/session gives it)");
    return;
  }
  if (strcmp(path, "/api/login") == 0 && post) {
    web_auth_handle_login(web, msg, session);
    return;
  }
  if (!web_auth_allowed(web, session)) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                                 "Cookie realm=\"scand\"");
    web_reply_error(msg, SOUP_STATUS_UNAUTHORIZED, "log in first (POST /api/login)");
    return;
  }
  if (strcmp(path, "/api/logout") == 0 && post)
    web_auth_handle_logout(web, msg, session);
  else if (strcmp(path, "/api/events") == 0 && !post)
    web_events_handle(web, msg, session);
  else
    web_api_handle(web, msg, path);
}

static void handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer user_data) {
  ScandWeb *web = user_data;
  const char *method = soup_server_message_get_method(msg);
  gboolean post = method == SOUP_METHOD_POST;
  set_security_headers(msg, web->tls != NULL);
  if (!host_ok(web, msg)) {
    web_reply_error(msg, SOUP_STATUS_MISDIRECTED_REQUEST,
                    "this page answers only to its address, localhost and [web] server-names");
    return;
  }
  if (g_str_has_prefix(path, "/api/")) {
    handle_api(web, msg, path, post);
    return;
  }
  guint i = 0;
  while (i < G_N_ELEMENTS(files) && strcmp(path, files[i].path) != 0)
    i++;
  if (i == G_N_ELEMENTS(files)) {
    web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
    return;
  }
  if (post) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "GET, HEAD");
    soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  WebSession *session = web_auth_session(web, msg);
  if (strcmp(path, "/") == 0 && !web_auth_allowed(web, session))
    redirect(msg, "/login");
  else if (strcmp(path, "/login") == 0 && !web->accounts)
    redirect(msg, "/");
  else
    serve_file(msg, files[i].resource, files[i].type);
}

static gboolean on_expire(gpointer data) {
  ScandWeb *web = data;
  g_autoptr(GPtrArray) gone = web_auth_expire(web);
  for (guint i = 0; i < gone->len; i++)
    web_events_end_session(web, gone->pdata[i]);
  return G_SOURCE_CONTINUE;
}

/* --- settings --- */

typedef struct {
  char *address;
  guint port;
  const char *cert, *key, *accounts;
  gboolean downloads;
  gint64 session_idle_s;
  gint64 max_connections;
} Settings;

static gboolean read_settings(ScandConfig *config, Settings *s, GError **error) {
  const char *listen = scand_config_get(config, "web", NULL, "listen");
  g_autoptr(GError) bad = NULL;
  if (!scand_listen_address_parse(listen ? listen : DEFAULT_LISTEN, &s->address, &s->port, &bad)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "[web] listen: %s", bad->message);
    return FALSE;
  }
  s->cert = scand_config_get(config, "web", NULL, "tls-cert");
  s->key = scand_config_get(config, "web", NULL, "tls-key");
  s->accounts = scand_config_get(config, "web", NULL, "accounts");
  return scand_config_get_bool(config, "web", NULL, "downloads", FALSE, &s->downloads, error) &&
         scand_config_get_duration(config, "web", NULL, "session-timeout", DEFAULT_SESSION_IDLE_S, &s->session_idle_s,
                                   error) &&
         scand_config_get_int(config, "web", NULL, "max-connections", 512, &s->max_connections, error);
}

/* Everything in [web], to see a reload change it. */
static char *settings_key(ScandConfig *config) {
  GString *s = g_string_new(NULL);
  g_auto(GStrv) keys = scand_config_list_keys(config, "web", NULL);
  for (guint i = 0; keys && keys[i]; i++)
    g_string_append_printf(s, "%s=%s\n", keys[i], scand_config_get(config, "web", NULL, keys[i]));
  return g_string_free(s, FALSE);
}

gboolean scand_web_config_changed(ScandWeb *web, ScandConfig *config) {
  gboolean wanted = scand_config_has_section(config, "web", NULL);
  if (!web)
    return wanted;
  g_autofree char *key = settings_key(config);
  return !wanted || strcmp(key, web->settings) != 0;
}

ScandWeb *scand_web_new(const ScandWebHost *host, ScandConfig *config, GError **error) {
  if (!scand_config_has_section(config, "web", NULL))
    return NULL;
  Settings s = { 0 };
  g_autofree char *address = NULL;
  if (!read_settings(config, &s, error))
    return NULL;
  address = s.address;
  if (!scand_listen_address_is_loopback(address) && (!s.cert || !s.key || !s.accounts)) {
    /* config check says so too; this is the last line of defence. */
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_DENIED,
                "[web] listen %s reaches beyond this computer: it needs tls-cert, tls-key and accounts",
                *address ? address : "(every address)");
    return NULL;
  }
  g_autoptr(ScandWeb) web = g_new0(ScandWeb, 1);
  web->host = *host;
  web->settings = settings_key(config);
  web->accounts = g_strdup(s.accounts);
  web->downloads = s.downloads;
  web->session_idle_us = MAX(s.session_idle_s, 60) * G_USEC_PER_SEC;
  web->server_names = scand_config_split_list(scand_config_get(config, "web", NULL, "server-names"));
  if (s.cert || s.key) {
    web->tls = g_tls_certificate_new_from_files(s.cert ? s.cert : "", s.key ? s.key : "", error);
    if (!web->tls) {
      g_prefix_error(error, "[web] tls-cert/tls-key: ");
      return NULL;
    }
  }
  web->auth = web_auth_new();
  web->events = web_events_new(web);
  web->scanners = web_scanners_new(web);
  web->server = soup_server_new("server-header", "scand", NULL);
  soup_server_add_early_handler(web->server, NULL, early_handler, web, NULL);
  soup_server_add_handler(web->server, NULL, handler, web, NULL);
  const ScandHttpListenerOptions options = {
    .name = "web",
    .address = address,
    .port = s.port,
    .max_connections = (guint) s.max_connections,
    .max_per_peer = 64,
    .idle_timeout_s = 60,
    .tls = web->tls,
  };
  web->listener = scand_http_listener_new(web->server, &options, error);
  if (!web->listener)
    return NULL;
  web->expire_timer = g_timeout_add_seconds(EXPIRE_EVERY_S, on_expire, web);
  scand_log("web: the page is at %s://%s%s%s:%u/%s", web->tls ? "https" : "http", strchr(address, ':') ? "[" : "",
            *address ? address : "*", strchr(address, ':') ? "]" : "", scand_http_listener_get_port(web->listener),
            web->accounts ? " (login with an account)" : " (no login: this computer only)");
  return g_steal_pointer(&web);
}

guint scand_web_get_port(ScandWeb *web) {
  return scand_http_listener_get_port(web->listener);
}

void scand_web_free(ScandWeb *web) {
  if (!web)
    return;
  g_clear_handle_id(&web->expire_timer, g_source_remove);
  g_clear_pointer(&web->listener, scand_http_listener_free);
  web_events_free(web->events); /* ends the streams before the server goes */
  if (web->server) {
    soup_server_disconnect(web->server);
    g_object_unref(web->server);
  }
  web_scanners_free(web->scanners);
  web_auth_free(web->auth);
  g_clear_object(&web->tls);
  g_clear_pointer(&web->jobs_json, g_bytes_unref);
  g_strfreev(web->server_names);
  g_free(web->accounts);
  g_free(web->settings);
  g_free(web);
}
