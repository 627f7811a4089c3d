/* Internals of the web page shared by web-server.c (listener, routing,
 * headers, files), web-auth.c (sessions, CSRF, logins), web-api.c (the JSON
 * API), web-events.c (server-sent events, the last documents) and
 * web-scanners.c (scanner states). All of it runs in the main context. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <sys/types.h>
#include "scand/service/http-listener.h"
#include "scand/service/web.h"

G_BEGIN_DECLS

#define WEB_COOKIE "scand_session"
#define WEB_CSRF_HEADER "X-CSRF-Token"
#define WEB_BODY_MAX (16 * 1024)
#define WEB_STATUS_TOO_MANY_REQUESTS 429 /* libsoup 3.2 names no 429 */

typedef struct WebAuth WebAuth;
typedef struct WebEvents WebEvents;
typedef struct WebScanners WebScanners;

typedef struct {
  char *token;       /* the cookie's value */
  char *csrf;        /* sent back in X-CSRF-Token on every POST */
  char *user;        /* NULL: not logged in */
  gint64 expires_us; /* monotonic */
} WebSession;

struct ScandWeb {
  ScandWebHost host;
  SoupServer *server;
  ScandHttpListener *listener;
  GTlsCertificate *tls;
  char *settings; /* the listener's settings, to see a reload change them */
  char *accounts; /* the accounts file ([web] accounts), NULL: no login */
  gboolean downloads;
  GStrv server_names; /* Host names accepted besides IP addresses and localhost */
  gint64 session_idle_us;
  WebAuth *auth;
  WebEvents *events;
  WebScanners *scanners;
  GBytes *jobs_json; /* /api/jobs as last built, NULL: build again */
  gint64 jobs_json_at;
  guint expire_timer;
};

/* --- web-server.c --- */
/* Answers with a JSON body (taken) and status. */
void web_reply_json(SoupServerMessage *msg, guint status, JsonNode *body);
/* {} as a new node. */
JsonNode *web_empty_object(void);
/* Answers {"error": message} with status. */
void web_reply_error(SoupServerMessage *msg, guint status, const char *message);

/* --- web-auth.c --- */
WebAuth *web_auth_new(void);
void web_auth_free(WebAuth *auth);
/* The request's live session, or NULL. Renews its idle time. */
WebSession *web_auth_session(ScandWeb *web, SoupServerMessage *msg);
/* The request's session, made (not logged in) when it has none; sets the
 * cookie on msg. NULL when too many sessions are open (answered 503). */
WebSession *web_auth_session_ensure(ScandWeb *web, SoupServerMessage *msg);
/* Whether the request may see and do what a logged-in person may: a session
 * with a user, or any session when no login is needed. */
gboolean web_auth_allowed(ScandWeb *web, WebSession *session);
/* Whether a POST carries the session's CSRF token (constant-time compare). */
gboolean web_auth_csrf_ok(WebSession *session, SoupServerMessage *msg);
/* POST /api/login, /api/logout; GET /api/session. */
void web_auth_handle_login(ScandWeb *web, SoupServerMessage *msg, WebSession *session);
void web_auth_handle_logout(ScandWeb *web, SoupServerMessage *msg, WebSession *session);
void web_auth_handle_session(ScandWeb *web, SoupServerMessage *msg, WebSession *session);
/* Drops sessions idle too long; returns the tokens dropped (newly allocated). */
GPtrArray *web_auth_expire(ScandWeb *web);
/* Random bytes as hex, 2 * n characters. */
char *web_random_hex(gsize n);

/* --- web-api.c --- */
/* The JSON API under /api/ (after authentication and CSRF checks). */
void web_api_handle(ScandWeb *web, SoupServerMessage *msg, const char *path);
/* The string members names[i] of a JSON object in data (values[i] newly
 * allocated, NULL when absent). FALSE with SCAND_ERROR_INVAL when data is not
 * a JSON object of at most WEB_BODY_MAX bytes, or a member named is not a
 * string of at most 1024 bytes without control characters. Pure. */
gboolean web_json_strings(const char *data, gsize len, const char *const *names, char **values, GError **error);
/* Forgets /api/jobs as built (a job changed). */
void web_api_jobs_changed(ScandWeb *web);

/* --- web-events.c --- */
WebEvents *web_events_new(ScandWeb *web);
void web_events_free(WebEvents *events);
/* GET /api/events for the session (token kept to end it on logout). */
void web_events_handle(ScandWeb *web, SoupServerMessage *msg, WebSession *session);
/* Sends event (name) with data (JSON, taken) to every stream. */
void web_events_broadcast(ScandWeb *web, const char *event, JsonNode *data);
/* Ends the streams of the session with token. */
void web_events_end_session(ScandWeb *web, const char *token);
/* The last finished jobs, newest first, as a JSON array (new node). */
JsonNode *web_events_recent(ScandWeb *web);
/* The local file a recent job was delivered to, if it is still the very file
 * (same device and inode); newly allocated, or NULL. */
char *web_events_recent_file(ScandWeb *web, const char *id, guint index, dev_t *dev, ino_t *ino);
guint web_events_count(ScandWeb *web);

/* --- web-scanners.c --- */
WebScanners *web_scanners_new(ScandWeb *web);
void web_scanners_free(WebScanners *scanners);
/* GET /api/scanners: the configured scanners, their state (as last read;
 * a read is started when it is old) and the profiles. */
JsonNode *web_scanners_list(ScandWeb *web);

G_END_DECLS
