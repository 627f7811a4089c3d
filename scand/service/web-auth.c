/* Who may use the web page: sessions (a random cookie, HttpOnly and
 * SameSite=Strict), a CSRF token per session for every POST, and logins
 * checked against the accounts file off the main thread, throttled per
 * address. Sessions live in memory: a restart logs everyone out. */
#include "scand/service/web-private.h"
#include "scand/base/error.h"
#include "scand/base/log.h"
#include "scand/base/secret.h"
#include "scand/service/web-accounts.h"

#include <string.h>
#include <sys/random.h>

#define TOKEN_BYTES 32
#define SESSIONS_MAX 4096     /* a flood of new sessions evicts the oldest of those nobody logged in to */
#define LOGINS_PENDING_MAX 8  /* password checks queued; more are answered 429 at once */
#define FREE_FAILURES 5       /* failed logins from one address before it must wait */
#define WAIT_MAX_S 300        /* the longest wait after failures */
#define FAILURES_FORGET_S 900 /* an address quiet this long starts again */
#define ADDRESSES_MAX 4096    /* addresses with failures remembered */

typedef struct {
  guint failures;
  gint64 last_us; /* monotonic, of the last failure */
} Failures;

struct WebAuth {
  GHashTable *sessions; /* token → WebSession* */
  GHashTable *failures; /* address → Failures* */
  GThreadPool *checks;  /* password checks, one at a time */
  GPtrArray *pending;   /* Check* under way (their replies come back to the main loop) */
};

/* A login's password check, from the request to its reply. */
typedef struct Check Check;
struct Check {
  ScandWeb *web; /* NULL once the web is gone */
  SoupServerMessage *msg;
  gboolean msg_gone;
  char *session_token;
  char *address;
  char *accounts;
  char *user;
  char *password;
  gboolean ok;
  char *problem; /* the accounts file cannot be read */
};

static void session_free(WebSession *s) {
  g_free(s->token);
  g_free(s->csrf);
  g_free(s->user);
  g_free(s);
}

char *web_random_hex(gsize n) {
  g_autofree guint8 *bytes = g_malloc(n);
  gsize got = 0;
  while (got < n) {
    ssize_t r = getrandom(bytes + got, n - got, 0);
    if (r <= 0)
      g_error("getrandom: %s", g_strerror(errno)); /* no session without real randomness */
    got += (gsize) r;
  }
  GString *s = g_string_sized_new(2 * n);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf(s, "%02x", bytes[i]);
  return g_string_free(s, FALSE);
}

/* Compares without stopping at the first difference. */
static gboolean same_secret(const char *a, const char *b) {
  gsize n = strlen(a);
  if (strlen(b) != n)
    return FALSE;
  guint8 diff = 0;
  for (gsize i = 0; i < n; i++)
    diff |= (guint8) (a[i] ^ b[i]);
  return diff == 0;
}

static void check_password(gpointer data, gpointer user_data);

WebAuth *web_auth_new(void) {
  WebAuth *a = g_new0(WebAuth, 1);
  a->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) session_free);
  a->failures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  a->checks = g_thread_pool_new(check_password, NULL, 1, FALSE, NULL);
  a->pending = g_ptr_array_new();
  return a;
}

void web_auth_free(WebAuth *a) {
  if (!a)
    return;
  /* Waits for the checks queued; their replies find the web gone. */
  g_thread_pool_free(a->checks, FALSE, TRUE);
  for (guint i = 0; i < a->pending->len; i++)
    ((Check *) a->pending->pdata[i])->web = NULL;
  g_ptr_array_unref(a->pending);
  g_hash_table_unref(a->sessions);
  g_hash_table_unref(a->failures);
  g_free(a);
}

/* The session token in the request's Cookie header, if it has the shape of
 * one (64 hex digits); anything else is no session. */
static char *cookie_token(SoupServerMessage *msg) {
  const char *header = soup_message_headers_get_list(soup_server_message_get_request_headers(msg), "Cookie");
  if (!header || strlen(header) > 8192)
    return NULL;
  g_auto(GStrv) parts = g_strsplit(header, ";", 64);
  for (guint i = 0; parts[i]; i++) {
    char *p = g_strstrip(parts[i]);
    if (!g_str_has_prefix(p, WEB_COOKIE "="))
      continue;
    const char *v = p + strlen(WEB_COOKIE "=");
    if (strlen(v) != 2 * TOKEN_BYTES)
      return NULL;
    for (const char *c = v; *c; c++)
      if (!g_ascii_isxdigit(*c) || g_ascii_isupper(*c))
        return NULL;
    return g_strdup(v);
  }
  return NULL;
}

WebSession *web_auth_session(ScandWeb *web, SoupServerMessage *msg) {
  g_autofree char *token = cookie_token(msg);
  WebSession *s = token ? g_hash_table_lookup(web->auth->sessions, token) : NULL;
  gint64 now = g_get_monotonic_time();
  if (!s || s->expires_us < now)
    return NULL;
  s->expires_us = now + web->session_idle_us;
  return s;
}

static void set_cookie(ScandWeb *web, SoupServerMessage *msg, const char *token) {
  g_autofree char *cookie =
      g_strdup_printf(WEB_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", token, web->tls ? "; Secure" : "");
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
}

/* Makes room for one more session: drops expired ones, then the oldest one
 * nobody logged in to. FALSE when every session is a logged-in one. */
static gboolean make_room(ScandWeb *web) {
  GHashTable *sessions = web->auth->sessions;
  if (g_hash_table_size(sessions) < SESSIONS_MAX)
    return TRUE;
  G_GNUC_UNUSED g_autoptr(GPtrArray) gone = web_auth_expire(web);
  if (g_hash_table_size(sessions) < SESSIONS_MAX)
    return TRUE;
  WebSession *oldest = NULL;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, sessions);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    WebSession *s = value;
    if (!s->user && (!oldest || s->expires_us < oldest->expires_us))
      oldest = s;
  }
  if (!oldest)
    return FALSE;
  g_hash_table_remove(sessions, oldest->token);
  return TRUE;
}

static WebSession *session_new(ScandWeb *web, SoupServerMessage *msg, const char *user) {
  if (!make_room(web))
    return NULL;
  WebSession *s = g_new0(WebSession, 1);
  s->token = web_random_hex(TOKEN_BYTES);
  s->csrf = web_random_hex(TOKEN_BYTES);
  s->user = g_strdup(user);
  s->expires_us = g_get_monotonic_time() + web->session_idle_us;
  g_hash_table_insert(web->auth->sessions, s->token, s);
  set_cookie(web, msg, s->token);
  return s;
}

WebSession *web_auth_session_ensure(ScandWeb *web, SoupServerMessage *msg) {
  WebSession *s = web_auth_session(web, msg);
  if (!s)
    s = session_new(web, msg, NULL);
  if (!s)
    web_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too many sessions open; try again later");
  return s;
}

gboolean web_auth_allowed(ScandWeb *web, WebSession *session) {
  return !web->accounts || (session && session->user);
}

gboolean web_auth_csrf_ok(WebSession *session, SoupServerMessage *msg) {
  const char *sent = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), WEB_CSRF_HEADER);
  return session && sent && same_secret(sent, session->csrf);
}

GPtrArray *web_auth_expire(ScandWeb *web) {
  GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
  gint64 now = g_get_monotonic_time();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, web->auth->sessions);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    WebSession *s = value;
    if (s->expires_us >= now)
      continue;
    g_ptr_array_add(gone, g_strdup(s->token));
    g_hash_table_iter_remove(&it);
  }
  /* Failures of addresses long quiet are forgotten. */
  g_hash_table_iter_init(&it, web->auth->failures);
  while (g_hash_table_iter_next(&it, NULL, &value))
    if (now - ((Failures *) value)->last_us > FAILURES_FORGET_S * G_USEC_PER_SEC)
      g_hash_table_iter_remove(&it);
  return gone;
}

static JsonNode *session_json(ScandWeb *web, WebSession *s) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "user");
  if (s && s->user)
    json_builder_add_string_value(b, s->user);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "login_required");
  json_builder_add_boolean_value(b, web->accounts != NULL);
  json_builder_set_member_name(b, "csrf");
  json_builder_add_string_value(b, s ? s->csrf : "");
  json_builder_set_member_name(b, "downloads");
  json_builder_add_boolean_value(b, web->downloads);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

void web_auth_handle_session(ScandWeb *web, SoupServerMessage *msg, WebSession *session) {
  web_reply_json(msg, SOUP_STATUS_OK, session_json(web, session));
}

void web_auth_handle_logout(ScandWeb *web, SoupServerMessage *msg, WebSession *session) {
  g_autofree char *token = g_strdup(session->token);
  web_events_end_session(web, token);
  g_hash_table_remove(web->auth->sessions, token);
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie",
                              WEB_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* --- logins --- */

/* Seconds the address must still wait before it may try again; 0: now. */
static gint64 wait_for(ScandWeb *web, const char *address) {
  Failures *f = g_hash_table_lookup(web->auth->failures, address);
  if (!f || f->failures < FREE_FAILURES)
    return 0;
  gint64 wait_s = MIN((gint64) 1 << MIN(f->failures - FREE_FAILURES, 20), WAIT_MAX_S);
  gint64 left_us = f->last_us + wait_s * G_USEC_PER_SEC - g_get_monotonic_time();
  return left_us > 0 ? (left_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC : 0;
}

static void note_failure(ScandWeb *web, const char *address) {
  Failures *f = g_hash_table_lookup(web->auth->failures, address);
  if (!f) {
    if (g_hash_table_size(web->auth->failures) >= ADDRESSES_MAX)
      g_hash_table_remove_all(web->auth->failures); /* a flood of addresses: start again */
    f = g_new0(Failures, 1);
    g_hash_table_insert(web->auth->failures, g_strdup(address), f);
  }
  f->failures++;
  f->last_us = g_get_monotonic_time();
}

static void check_free(Check *c) {
  if (c->password) {
    explicit_bzero(c->password, strlen(c->password));
    g_free(c->password);
  }
  g_free(c->session_token);
  g_free(c->address);
  g_free(c->accounts);
  g_free(c->user);
  g_free(c->problem);
  g_object_unref(c->msg);
  g_free(c);
}

/* A hash to check unknown users against, so that they take as long. */
static const char *dummy_hash(void) {
  static char *hash;
  if (g_once_init_enter(&hash)) {
    char *h = scand_web_password_hash("scand-no-such-user", NULL);
    g_once_init_leave(&hash,
                      h ? h : g_strdup("$y$j9T$AAAAAAAAAAAAAAAAAAAAA.$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
  }
  return hash;
}

static gboolean check_done(gpointer data);

/* In the pool's thread: reads the accounts file (again each time, so that
 * `scand web passwd` needs no reload) and checks the password. */
static void check_password(gpointer data, gpointer user_data) {
  Check *c = data;
  g_autoptr(GError) error = NULL;
  char *text = scand_secret_read(c->accounts, &error);
  g_autofree char *hash = NULL;
  if (text) {
    hash = scand_web_accounts_lookup(text, strlen(text), c->user, &error);
    explicit_bzero(text, strlen(text));
    g_free(text);
  }
  if (!hash && error && !g_error_matches(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND))
    c->problem = g_strdup(error->message);
  gboolean ok = scand_web_password_verify(c->password, hash ? hash : dummy_hash());
  c->ok = ok && hash != NULL;
  g_main_context_invoke(NULL, check_done, c);
}

static void on_check_msg_finished(SoupServerMessage *msg, gpointer data) {
  ((Check *) data)->msg_gone = TRUE;
}

static gboolean check_done(gpointer data) {
  Check *c = data;
  ScandWeb *web = c->web;
  g_signal_handlers_disconnect_by_data(c->msg, c);
  if (web) {
    g_ptr_array_remove_fast(web->auth->pending, c);
    if (c->problem)
      scand_log("web: logins fail: the accounts file %s: %s", c->accounts, c->problem);
    if (!c->ok)
      note_failure(web, c->address);
  }
  if (!web || c->msg_gone) {
    check_free(c);
    return G_SOURCE_REMOVE;
  }
  if (!c->ok) {
    scand_log("web: failed login for \"%s\" from %s", scand_web_user_valid(c->user) ? c->user : "?", c->address);
    web_reply_error(c->msg, SOUP_STATUS_UNAUTHORIZED, "wrong user name or password");
  } else {
    /* A new session for the person: a token seen before the login is worth nothing after it. */
    web_events_end_session(web, c->session_token);
    g_hash_table_remove(web->auth->sessions, c->session_token);
    WebSession *s = session_new(web, c->msg, c->user);
    if (s) {
      scand_log("web: %s logged in from %s", c->user, c->address);
      web_reply_json(c->msg, SOUP_STATUS_OK, session_json(web, s));
    } else {
      web_reply_error(c->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too many sessions open; try again later");
    }
  }
  soup_server_message_unpause(c->msg);
  check_free(c);
  return G_SOURCE_REMOVE;
}

static char *peer_string(SoupServerMessage *msg) {
  g_autoptr(GInetAddress) peer = scand_http_peer_address(soup_server_message_get_remote_address(msg));
  return peer ? g_inet_address_to_string(peer) : g_strdup("?");
}

void web_auth_handle_login(ScandWeb *web, SoupServerMessage *msg, WebSession *session) {
  if (!web->accounts) {
    web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no login here: this page has no accounts");
    return;
  }
  g_autofree char *address = peer_string(msg);
  gint64 wait_s = wait_for(web, address);
  if (wait_s > 0 || web->auth->pending->len >= LOGINS_PENDING_MAX) {
    g_autofree char *after = g_strdup_printf("%" G_GINT64_FORMAT, MAX(wait_s, 1));
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", after);
    web_reply_error(msg, WEB_STATUS_TOO_MANY_REQUESTS, "too many failed logins; wait and try again");
    return;
  }
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
  const char *const names[] = { "user", "password", NULL };
  char *values[2] = { NULL, NULL };
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  if (!web_json_strings(data, len, names, values, &error) || !values[0] || !values[1]) {
    g_free(values[0]);
    if (values[1])
      explicit_bzero(values[1], strlen(values[1]));
    g_free(values[1]);
    web_reply_error(msg, SOUP_STATUS_BAD_REQUEST, error ? error->message : "expected {\"user\": …, \"password\": …}");
    return;
  }
  Check *c = g_new0(Check, 1);
  c->web = web;
  c->msg = g_object_ref(msg);
  c->session_token = g_strdup(session->token);
  c->address = g_steal_pointer(&address);
  c->accounts = g_strdup(web->accounts);
  c->user = values[0];
  c->password = values[1];
  g_signal_connect(msg, "finished", G_CALLBACK(on_check_msg_finished), c);
  g_ptr_array_add(web->auth->pending, c);
  soup_server_message_pause(msg);
  g_thread_pool_push(web->auth->checks, c, NULL);
}
