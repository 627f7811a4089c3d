/* SMTP output (libcurl smtp/smtps through scand's HTTP client's transport
 * policy: timeouts, TLS verification, cancellation): the PDF as a base64 MIME
 * attachment.
 *
 * Transport security is never negotiated down: "starttls" (submission, 587)
 * requires STARTTLS (CURLUSESSL_ALL), "tls" is implicit TLS (smtps://, 465),
 * and plain SMTP happens only with an explicit "security = none", which then
 * refuses to log in unless `allow-cleartext-auth = true` says the network is
 * trusted. Credentials never sit in the URL (refused, like SMB's). Certificates
 * are always verified.
 *
 * A delivery is load (keys, mail, recipients still missing, credentials) →
 * build (the libcurl transfer and the MIME message) → send → classify (what
 * the server's replies mean: done, retry, failed).
 *
 * Recipients are tracked one by one: the addresses the server accepted are
 * recorded durably (state "sent-to"), so that a later attempt only mails the
 * ones still missing (a 4xx for one recipient does not resend to the others).
 * The Message-ID is derived from the job so that a copy sent twice after a
 * crash between the server's "250" and the state write is recognisable. */
#include "outputs/output-private.h"
#include "outputs/m365-auth.h"
#include "outputs/mail.h"
#include "scand/base/error.h"
#include "scand/base/http.h"

#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>

#define SMTP_CONNECT_TIMEOUT_MS 60000
#define SMTP_STALL_S 120                 /* a transaction without progress */
#define SMTP_TIMEOUT_MS (30 * 60 * 1000) /* a whole transaction, a large attachment included */

static const ScandConfigKey smtp_keys[] = {
  { "url", SCAND_KEY_URL },
  { "security", SCAND_KEY_ENUM, "starttls|tls|none" },
  { "ca-file", SCAND_KEY_FILE },
  { "username", SCAND_KEY_STRING },
  { "password-file", SCAND_KEY_SECRET_FILE },
  { "auth", SCAND_KEY_ENUM, "plain|login|xoauth2" },
  { "authority", SCAND_KEY_URL },
  { "tenant", SCAND_KEY_STRING },
  { "client-id", SCAND_KEY_STRING },
  { "client-secret-file", SCAND_KEY_SECRET_FILE },
  { "client-certificate", SCAND_KEY_FILE },
  { "client-key", SCAND_KEY_SECRET_FILE },
  { "from", SCAND_KEY_STRING },
  { "to", SCAND_KEY_LIST },
  { "envelope-to", SCAND_KEY_BOOL }, /* a job from mail goes to its envelope's recipients */
  { "subject", SCAND_KEY_STRING },
  { "body", SCAND_KEY_STRING },
  { "max-size", SCAND_KEY_SIZE },
  { "allow-cleartext-auth", SCAND_KEY_BOOL },
  { NULL },
};

typedef enum {
  SEC_STARTTLS,
  SEC_TLS,
  SEC_NONE
} Security;

/* ---- pure parts ---------------------------------------------------------- */

/* The effective security of url + security key; FALSE with a message when
 * they contradict each other. */
static gboolean smtp_security(const char *url, const char *security, Security *out, GError **error) {
  gboolean smtps = url && g_ascii_strncasecmp(url, "smtps://", 8) == 0;
  if (!url || (!smtps && g_ascii_strncasecmp(url, "smtp://", 7) != 0)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "url must be smtp://host[:port] or smtps://host[:port]");
    return FALSE;
  }
  if (scand_http_url_has_userinfo(url)) {
    /* libcurl would log in with them, in clear with security = none. */
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "the url must not contain a user name or password: use username = and password-file =");
    return FALSE;
  }
  if (!security)
    *out = smtps ? SEC_TLS : SEC_STARTTLS;
  else if (strcmp(security, "tls") == 0)
    *out = SEC_TLS;
  else if (strcmp(security, "none") == 0)
    *out = SEC_NONE;
  else
    *out = SEC_STARTTLS;
  if (*out == SEC_TLS && !smtps) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "security = tls needs an smtps:// url (implicit TLS, port 465)");
    return FALSE;
  }
  if (*out != SEC_TLS && smtps) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "an smtps:// url is implicit TLS: use security = tls");
    return FALSE;
  }
  return TRUE;
}

/* An RFC 2047 encoded-word sequence for non-ASCII header text (words of at
 * most 45 bytes, never splitting a UTF-8 character). */
static char *header_encode(const char *text) {
  gboolean ascii = TRUE;
  for (const char *p = text; *p; p++)
    if ((guchar) *p >= 0x80 || (guchar) *p < 0x20)
      ascii = FALSE;
  if (ascii)
    return g_strdup(text);
  GString *s = g_string_new(NULL);
  const char *p = g_utf8_validate(text, -1, NULL) ? text : "(invalid UTF-8)";
  while (*p) {
    const char *q = p;
    while (*q) {
      const char *n = g_utf8_next_char(q);
      if (n - p > 45)
        break;
      q = n;
    }
    g_autofree char *b64 = g_base64_encode((const guchar *) p, q - p);
    g_string_append_printf(s, "%s=?UTF-8?B?%s?=", s->len ? " " : "", b64);
    p = q;
  }
  return g_string_free(s, FALSE);
}

/* RFC 5322 date; month and day names are fixed English, never the locale's. */
static char *rfc5322_date(GDateTime *t) {
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autofree char *rest = g_date_time_format(t, "%Y %H:%M:%S %z");
  return g_strdup_printf("%s, %02d %s %s", days[g_date_time_get_day_of_week(t) - 1], g_date_time_get_day_of_month(t),
                         months[g_date_time_get_month(t) - 1], rest);
}

/* Size on the wire of the message: base64 grows by 4/3 plus CRLF per 76
 * characters; headers and body are counted with a margin. */
static gint64 smtp_estimate_size(gint64 attachment, gsize text_len) {
  gint64 b64 = (attachment + 2) / 3 * 4;
  return b64 + (b64 + 75) / 76 * 2 + (gint64) text_len * 3 + 2048;
}

/* What the server said, recorded from libcurl's protocol trace. */
typedef struct {
  char *command;    /* the last command sent (first line) */
  GString *reply;   /* the reply being collected (multi-line) */
  char *last_reply; /* the last complete reply: "451 4.3.0 text" */
  int last_code;
  guint replies;        /* complete replies so far */
  guint tls_replies;    /* value of replies when STARTTLS was answered 220 */
  GPtrArray *rcpt_addr; /* recipients, in order */
  GArray *rcpt_code;    /* their reply codes (0 while pending) */
  GPtrArray *rcpt_reply;
} Transcript;

static void transcript_clear(Transcript *t) {
  g_free(t->command);
  if (t->reply)
    g_string_free(t->reply, TRUE);
  g_free(t->last_reply);
  if (t->rcpt_addr)
    g_ptr_array_unref(t->rcpt_addr);
  if (t->rcpt_code)
    g_array_unref(t->rcpt_code);
  if (t->rcpt_reply)
    g_ptr_array_unref(t->rcpt_reply);
}

static void transcript_init(Transcript *t) {
  memset(t, 0, sizeof *t);
  t->reply = g_string_new(NULL);
  t->rcpt_addr = g_ptr_array_new_with_free_func(g_free);
  t->rcpt_code = g_array_new(FALSE, TRUE, sizeof(int));
  t->rcpt_reply = g_ptr_array_new_with_free_func(g_free);
}

static void transcript_command(Transcript *t, const char *data, gsize len) {
  g_free(t->command);
  t->command = g_strndup(data, strcspn(data, "\r\n") < len ? strcspn(data, "\r\n") : len);
  if (g_ascii_strncasecmp(t->command, "RCPT TO:", 8) == 0) {
    const char *a = t->command + 8;
    gsize n = strcspn(a, " ");
    g_autofree char *addr = g_strndup(a, n);
    if (addr[0] == '<' && n >= 2 && addr[n - 1] == '>') {
      addr[n - 1] = '\0';
      g_ptr_array_add(t->rcpt_addr, g_strdup(addr + 1));
    } else {
      g_ptr_array_add(t->rcpt_addr, g_strdup(addr));
    }
    int zero = 0;
    g_array_append_val(t->rcpt_code, zero);
    g_ptr_array_add(t->rcpt_reply, NULL);
  }
}

static void transcript_reply_line(Transcript *t, const char *line) {
  gsize n = strlen(line);
  if (n < 3 || !g_ascii_isdigit(line[0]) || !g_ascii_isdigit(line[1]) || !g_ascii_isdigit(line[2]))
    return;
  if (t->reply->len)
    g_string_append_c(t->reply, ' ');
  g_string_append(t->reply, n > 4 ? line + 4 : "");
  if (n > 3 && line[3] == '-')
    return;
  int code = atoi(line);
  g_free(t->last_reply);
  t->last_reply = g_strdup_printf("%d %s", code, t->reply->str);
  t->last_code = code;
  t->replies++;
  if (code == 220 && t->command && g_ascii_strcasecmp(t->command, "STARTTLS") == 0)
    t->tls_replies = t->replies;
  g_string_truncate(t->reply, 0);
  if (t->command && g_ascii_strncasecmp(t->command, "RCPT TO:", 8) == 0 && t->rcpt_code->len &&
      g_array_index(t->rcpt_code, int, t->rcpt_code->len - 1) == 0) {
    g_array_index(t->rcpt_code, int, t->rcpt_code->len - 1) = code;
    g_free(t->rcpt_reply->pdata[t->rcpt_reply->len - 1]);
    t->rcpt_reply->pdata[t->rcpt_reply->len - 1] = g_strdup(t->last_reply);
  }
}

static int on_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *user) {
  Transcript *t = user;
  if (type == CURLINFO_HEADER_OUT) {
    transcript_command(t, data, size);
  } else if (type == CURLINFO_HEADER_IN) {
    g_autofree char *text = g_strndup(data, size);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
      g_strchomp(lines[i]);
      if (*lines[i])
        transcript_reply_line(t, lines[i]);
    }
  }
  return 0;
}

/* A hint for replies that mean "this server wants another kind of login". */
static const char *reply_hint(const char *reply) {
  if (!reply)
    return NULL;
  if (strstr(reply, "5.7.30") || strstr(reply, "5.7.139") || strstr(reply, "5.7.57") ||
      strcasestr(reply, "basic authentication"))
    return " — this server no longer accepts passwords: use auth = xoauth2, or a graph-mail output";
  if (strstr(reply, "5.7.60"))
    return " — the user may not send as this sender: check from and the mailbox's SendAs rights";
  return NULL;
}

/* ---- the driver ------------------------------------------------------------ */

/* What credentials the output would send, and whether it may send them in clear. */
static gboolean has_credentials(const char *auth, gboolean password_file) {
  return password_file || (auth && strcmp(auth, "xoauth2") == 0);
}

static void smtp_check_security(ScandConfig *config, const char *name, GPtrArray *problems) {
  const char *url = scand_config_get(config, "output", name, "url");
  const char *auth = scand_config_get(config, "output", name, "auth");
  g_autoptr(GError) error = NULL;
  Security sec;
  if (!smtp_security(url, scand_config_get(config, "output", name, "security"), &sec, &error)) {
    scand_config_add_problem(problems, config, "output", name,
                             url && !scand_http_url_has_userinfo(url) ? "security" : "url", "%s", error->message);
    return;
  }
  if (sec != SEC_NONE || !has_credentials(auth, scand_config_get(config, "output", name, "password-file") != NULL))
    return;
  const char *allow = scand_config_get(config, "output", name, "allow-cleartext-auth");
  if (allow && g_ascii_strcasecmp(allow, "true") == 0)
    scand_config_add_warning(config, "output", name, "allow-cleartext-auth",
                             "security = none with credentials: the password crosses the network in clear; "
                             "use this only on a network you trust");
  else
    scand_config_add_problem(problems, config, "output", name, "security",
                             "security = none would send credentials in clear: use starttls or tls "
                             "(or allow-cleartext-auth = true on a network you trust)");
}

static void smtp_check(ScandConfig *config, const char *name, GPtrArray *problems) {
  const char *auth = scand_config_get(config, "output", name, "auth");
  smtp_check_security(config, name, problems);
  scand_mail_check(config, name, "from", problems);
  if (auth && strcmp(auth, "xoauth2") == 0) {
    if (!scand_config_get(config, "output", name, "username"))
      scand_config_add_problem(problems, config, "output", name, "username", "xoauth2 needs the mailbox as username");
    if (!scand_config_get(config, "output", name, "tenant") || !scand_config_get(config, "output", name, "client-id"))
      scand_config_add_problem(problems, config, "output", name, "auth", "xoauth2 needs tenant and client-id");
    if (!scand_config_get(config, "output", name, "client-secret-file") &&
        !scand_config_get(config, "output", name, "client-certificate"))
      scand_config_add_problem(problems, config, "output", name, "auth",
                               "xoauth2 needs client-secret-file or client-certificate");
  } else if (scand_config_get(config, "output", name, "username") &&
             !scand_config_get(config, "output", name, "password-file")) {
    scand_config_add_problem(problems, config, "output", name, "password-file",
                             "username is set without a password-file");
  }
}

/* One delivery, from its keys to the server's verdict. */
typedef struct {
  ScandDelivery *d;
  char *out;
  ScandMail *mail;
  char *url;
  Security sec;
  char *auth;
  char *username;
  char *ca_file;
  char *cert; /* client certificate for the TLS session (not the token's) */
  char *key;
  gboolean xoauth2;
  GStrv done;       /* recipients that have the mail from an earlier attempt */
  curl_slist *rcpt; /* the ones still missing, as "<addr>" */
  /* secrets, wiped when the context is cleared */
  char *password;
  char *bearer;
  char *key_pem;
  /* the transfer */
  ScandHttp *http;
  curl_mime *mime;
  curl_slist *headers;
  Transcript t;
  char errbuf[CURL_ERROR_SIZE];
} SmtpCtx;

static void wipe(char *secret) {
  if (secret) {
    explicit_bzero(secret, strlen(secret));
    g_free(secret);
  }
}

static void smtp_ctx_clear(SmtpCtx *c) {
  g_free(c->out);
  scand_mail_free(c->mail);
  g_free(c->url);
  g_free(c->auth);
  g_free(c->username);
  g_free(c->ca_file);
  g_free(c->cert);
  g_free(c->key);
  g_strfreev(c->done);
  curl_slist_free_all(c->rcpt);
  wipe(c->password);
  wipe(c->bearer);
  wipe(c->key_pem);
  /* The MIME tree first: it belongs to the client's handle. */
  curl_mime_free(c->mime);
  curl_slist_free_all(c->headers);
  scand_http_free(c->http);
  transcript_clear(&c->t);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SmtpCtx, smtp_ctx_clear)

static ScandDeliveryResult smtp_fail(GError **error, ScandDeliveryResult r, gint code, const char *out, const char *fmt,
                                     ...) G_GNUC_PRINTF(5, 6);
static ScandDeliveryResult smtp_fail(GError **error, ScandDeliveryResult r, gint code, const char *out, const char *fmt,
                                     ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, SCAND_ERROR, code, "output %s: %s", out, msg);
  return r;
}

/* A copy of a config value: the accessor's string lives only until its next call. */
static char *config_dup(ScandDelivery *d, const char *key) {
  return g_strdup(scand_delivery_get_config(d, key));
}

static gboolean config_true(ScandDelivery *d, const char *key) {
  const char *v = scand_delivery_get_config(d, key);
  return v && g_ascii_strcasecmp(v, "true") == 0;
}

/* Reads the output's keys and the mail; FALSE with a FAILED-worthy error when
 * they cannot work (what `config check` would have said). */
static gboolean smtp_load(ScandDelivery *d, SmtpCtx *c, GError **error) {
  c->d = d;
  c->out = g_strdup(scand_delivery_get_output_name(d));
  c->url = config_dup(d, "url");
  c->auth = config_dup(d, "auth");
  c->username = config_dup(d, "username");
  c->ca_file = config_dup(d, "ca-file");
  c->xoauth2 = c->auth && strcmp(c->auth, "xoauth2") == 0;
  g_autoptr(GError) local = NULL;
  if (!smtp_security(c->url, scand_delivery_get_config(d, "security"), &c->sec, &local)) {
    smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_INVAL, c->out, "%s", local->message);
    return FALSE;
  }
  if (c->sec == SEC_NONE && has_credentials(c->auth, scand_delivery_get_config(d, "password-file") != NULL) &&
      !config_true(d, "allow-cleartext-auth")) {
    smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_INVAL, c->out,
              "security = none would send credentials in clear: use starttls or tls "
              "(or allow-cleartext-auth = true on a network you trust)");
    return FALSE;
  }
  if (c->xoauth2 && !c->username) {
    smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_INVAL, c->out, "xoauth2 needs the mailbox as username");
    return FALSE;
  }
  c->mail = scand_mail_load(d, "from", 0, &local);
  if (!c->mail) {
    smtp_fail(error, SCAND_DELIVERY_FAILED, local->code, c->out, "%s", local->message);
    return FALSE;
  }
  /* A client certificate for a partner connector (with xoauth2 and no secret
   * the certificate signs the token request instead). */
  if (!(c->xoauth2 && !scand_delivery_get_config(d, "client-secret-file"))) {
    c->cert = config_dup(d, "client-certificate");
    c->key = c->cert ? config_dup(d, "client-key") : NULL;
  }
  return TRUE;
}

/* The recipients still missing; FALSE when every one has the mail. */
static gboolean smtp_pending(SmtpCtx *c) {
  c->done = scand_config_split_list(scand_delivery_get_state(c->d, "sent-to"));
  for (guint i = 0; c->mail->to[i]; i++)
    if (!g_strv_contains((const char *const *) c->done, c->mail->to[i])) {
      g_autofree char *a = g_strdup_printf("<%s>", c->mail->to[i]);
      c->rcpt = curl_slist_append(c->rcpt, a);
    }
  return c->rcpt != NULL;
}

/* The mail's size on the wire against max-size. */
static ScandDeliveryResult smtp_check_size(SmtpCtx *c, GError **error) {
  ScandMail *m = c->mail;
  gint64 estimate = smtp_estimate_size((gint64) m->size, strlen(m->body) + strlen(m->subject));
  if (m->max_size > 0 && estimate > m->max_size)
    return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_FAILED, c->out,
                     "the mail would be about %" G_GINT64_FORMAT " bytes, more than max-size (%" G_GINT64_FORMAT
                     " bytes); deliver large scans to a share or an m365-drive output instead",
                     estimate, m->max_size);
  return SCAND_DELIVERY_DONE;
}

/* The password, the XOAUTH2 token and the client key, each read through the
 * secret-file checks. */
static ScandDeliveryResult smtp_credentials(SmtpCtx *c, GError **error) {
  g_autoptr(GError) local = NULL;
  if (c->xoauth2) {
    g_autoptr(ScandM365Credentials) creds = scand_m365_credentials_load(c->d, SCAND_M365_SCOPE_SMTP, error);
    if (!creds)
      return SCAND_DELIVERY_FAILED;
    gint64 retry_after = 0;
    c->bearer = scand_m365_token_get(creds, &retry_after, &local);
    if (!c->bearer) {
      if (retry_after > 0)
        scand_delivery_set_retry_after(c->d, retry_after);
      gboolean retry = g_error_matches(local, SCAND_ERROR, SCAND_ERROR_RETRY) ||
                       g_error_matches(local, SCAND_ERROR, SCAND_ERROR_IO) ||
                       g_error_matches(local, SCAND_ERROR, SCAND_ERROR_CANCELLED);
      return smtp_fail(error, retry ? SCAND_DELIVERY_RETRY : SCAND_DELIVERY_FAILED, local->code, c->out, "%s",
                       local->message);
    }
  } else if (scand_delivery_get_config(c->d, "password-file")) {
    c->password = scand_delivery_read_secret(c->d, "password-file", error);
    if (!c->password)
      return SCAND_DELIVERY_FAILED;
  }
  if (c->cert && c->key) {
    c->key_pem = scand_delivery_read_secret(c->d, "client-key", &local);
    if (!c->key_pem)
      return smtp_fail(error, SCAND_DELIVERY_FAILED, local->code, c->out, "%s", local->message);
  }
  return SCAND_DELIVERY_DONE;
}

/* Who logs in and how. */
static void smtp_build_login(SmtpCtx *c, CURL *curl) {
  if (c->cert) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, c->cert);
    if (c->key_pem) {
      /* The key is a secret: handed to libcurl from memory, never by path. */
      struct curl_blob blob = { .data = c->key_pem, .len = strlen(c->key_pem), .flags = CURL_BLOB_COPY };
      curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &blob);
      curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
    }
  }
  if (c->username)
    curl_easy_setopt(curl, CURLOPT_USERNAME, c->username);
  if (c->password)
    curl_easy_setopt(curl, CURLOPT_PASSWORD, c->password);
  if (c->bearer) {
    curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, c->bearer);
    curl_easy_setopt(curl, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
  } else if (c->auth && strcmp(c->auth, "login") == 0) {
    curl_easy_setopt(curl, CURLOPT_LOGIN_OPTIONS, "AUTH=LOGIN");
  } else if (c->auth && strcmp(c->auth, "plain") == 0) {
    curl_easy_setopt(curl, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN");
  }
}

/* A forwarded mail's Reply-To header: the original sender, its cleaned
 * display name quoted (ASCII) or encoded (RFC 2047); NULL for other mail. */
static char *smtp_reply_to(const ScandMail *m) {
  if (!m->reply_to)
    return NULL;
  if (!m->reply_to_name)
    return g_strdup_printf("Reply-To: <%s>", m->reply_to);
  g_autofree char *name = header_encode(m->reply_to_name);
  gboolean encoded = strcmp(name, m->reply_to_name) != 0;
  return g_strdup_printf(encoded ? "Reply-To: %s <%s>" : "Reply-To: \"%s\" <%s>", name, m->reply_to);
}

/* The message: headers (all recipients in To:, the same on every attempt, a
 * Message-ID derived from the job) and the MIME body with the PDF. */
static CURLcode smtp_build_message(SmtpCtx *c, CURL *curl) {
  ScandMail *m = c->mail;
  g_autofree char *to_joined = g_strjoinv(", ", m->to);
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree char *date = rfc5322_date(now);
  const char *at = strrchr(m->from, '@');
  g_autofree char *mid_seed = g_strdup_printf("%s\n%s", scand_delivery_get_job_id(c->d), c->out);
  g_autofree char *mid_hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, mid_seed, -1);
  g_autofree char *subject = header_encode(m->subject);
  g_autofree char *lines[] = {
    g_strdup_printf("Date: %s", date),
    g_strdup_printf("From: %s", m->from),
    g_strdup_printf("To: %s", to_joined),
    g_strdup_printf("Subject: %s", subject),
    g_strdup_printf("Message-ID: <scand.%.32s@%s>", mid_hash, at && at[1] ? at + 1 : "scand"),
  };
  for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
    c->headers = curl_slist_append(c->headers, lines[i]);
    g_free(lines[i]);
    lines[i] = NULL;
  }
  g_autofree char *reply_to = smtp_reply_to(m);
  if (reply_to)
    c->headers = curl_slist_append(c->headers, reply_to);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, c->headers);
  c->mime = curl_mime_init(curl);
  curl_mimepart *part = curl_mime_addpart(c->mime);
  curl_mime_data(part, m->body, CURL_ZERO_TERMINATED);
  curl_mime_type(part, "text/plain; charset=utf-8");
  curl_mime_encoder(part, "quoted-printable");
  part = curl_mime_addpart(c->mime);
  CURLcode rc = curl_mime_filedata(part, m->file);
  curl_mime_filename(part, m->attachment_name);
  curl_mime_type(part, "application/pdf");
  curl_mime_encoder(part, "base64");
  curl_easy_setopt(curl, CURLOPT_MIMEPOST, c->mime);
  return rc;
}

/* The transfer on a client with scand's transport policy. */
static CURLcode smtp_build(SmtpCtx *c, GError **error) {
  ScandHttpOptions options = {
    .protocols = "smtp,smtps",
    .connect_timeout_ms = SMTP_CONNECT_TIMEOUT_MS,
    .timeout_ms = SMTP_TIMEOUT_MS,
    .stall_s = SMTP_STALL_S,
    .ca_file = c->ca_file,
  };
  c->http = scand_http_new(&options, error);
  if (!c->http)
    return CURLE_FAILED_INIT;
  CURL *curl = scand_http_prepare_raw(c->http, c->url);
  transcript_init(&c->t);
  g_autoptr(GUri) uri = g_uri_parse(c->url, G_URI_FLAGS_NONE, NULL);
  if (uri && g_uri_get_port(uri) < 0)
    curl_easy_setopt(curl, CURLOPT_PORT, c->sec == SEC_TLS ? 465L : c->sec == SEC_STARTTLS ? 587L : 25L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, c->errbuf);
  curl_easy_setopt(curl, CURLOPT_USE_SSL, c->sec == SEC_NONE ? (long) CURLUSESSL_NONE : (long) CURLUSESSL_ALL);
  smtp_build_login(c, curl);
  g_autofree char *mail_from = g_strdup_printf("<%s>", c->mail->from);
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from);
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, c->rcpt);
  /* Go on when some recipients are refused; the transcript says which. */
#if LIBCURL_VERSION_NUM >= 0x080200
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
  curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &c->t);
  return smtp_build_message(c, curl);
}

/* The server accepted the mail for the recipients that got 2xx: recorded, so
 * that a retry mails only the others. */
static ScandDeliveryResult smtp_classify_sent(SmtpCtx *c, GError **error) {
  Transcript *t = &c->t;
  g_autoptr(GStrvBuilder) sent = g_strv_builder_new();
  g_strv_builder_addv(sent, (const char **) c->done);
  g_autoptr(GString) refused = g_string_new(NULL);
  gboolean temporary = FALSE;
  for (guint i = 0; i < t->rcpt_addr->len; i++) {
    int code = g_array_index(t->rcpt_code, int, i);
    if (code >= 200 && code < 300) {
      g_strv_builder_add(sent, t->rcpt_addr->pdata[i]);
    } else {
      g_string_append_printf(refused, "%s%s: %s", refused->len ? "; " : "", (char *) t->rcpt_addr->pdata[i],
                             t->rcpt_reply->pdata[i] ? (char *) t->rcpt_reply->pdata[i] : "no reply");
      temporary |= code >= 400 && code < 500;
    }
  }
  g_auto(GStrv) sent_v = g_strv_builder_end(sent);
  g_autofree char *sent_s = g_strjoinv(",", sent_v);
  g_autoptr(GError) local = NULL;
  if (!scand_delivery_set_state(c->d, "sent-to", sent_s, &local))
    return smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_IO, c->out, "mail sent, but its state: %s",
                     local->message);
  if (!refused->len)
    return SCAND_DELIVERY_DONE;
  return smtp_fail(error, temporary ? SCAND_DELIVERY_RETRY : SCAND_DELIVERY_FAILED,
                   temporary ? SCAND_ERROR_RETRY : SCAND_ERROR_FAILED, c->out,
                   "sent, but the server refused some recipients: %s", refused->str);
}

/* The server ended the session right after the TLS handshake, before any
 * reply over TLS: servers that require a client certificate do that. */
static gboolean ended_after_handshake(SmtpCtx *c, CURLcode rc) {
  const Transcript *t = &c->t;
  return (rc == CURLE_RECV_ERROR || rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_GOT_NOTHING) &&
         (c->sec == SEC_TLS ? t->replies == 0 : t->tls_replies && t->tls_replies == t->replies);
}

/* What the server's last replies say when nothing libcurl-specific does. */
static ScandDeliveryResult smtp_classify_replies(SmtpCtx *c, CURLcode rc, const char *why, GError **error) {
  const Transcript *t = &c->t;
  const char *reply = t->last_reply;
  const char *hint = reply_hint(reply);
  /* Every recipient refused: their replies decide. */
  gboolean all_rcpt_refused = t->rcpt_addr->len > 0;
  gboolean rcpt_temporary = FALSE;
  for (guint i = 0; i < t->rcpt_code->len; i++) {
    int code = g_array_index(t->rcpt_code, int, i);
    all_rcpt_refused &= code >= 400;
    rcpt_temporary |= code >= 400 && code < 500;
  }
  if (all_rcpt_refused && !rcpt_temporary)
    return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_FAILED, c->out, "every recipient was refused: %s",
                     reply);
  if (t->last_code >= 500)
    return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_FAILED, c->out, "the server refused the mail: %s%s",
                     reply, hint ? hint : "");
  if (t->last_code >= 400)
    return smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_RETRY, c->out, "the server said: %s", reply);
  if (rc == CURLE_SSL_CONNECT_ERROR)
    return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_DENIED, c->out,
                     "TLS handshake failed (%s); does the server require a client-certificate?", why);
  return smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_RETRY, c->out, "%s", why);
}

/* What a failed transaction means: done never, retry or failed. */
static ScandDeliveryResult smtp_classify_failure(SmtpCtx *c, CURLcode rc, const GError *transport, GError **error) {
  const char *why = *c->errbuf ? c->errbuf : curl_easy_strerror(rc);
  const Transcript *t = &c->t;
  if (transport && transport->code == SCAND_ERROR_CANCELLED)
    return smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_CANCELLED, c->out, "%s", transport->message);
  if (ended_after_handshake(c, rc)) {
    gboolean have_cert = c->cert != NULL;
    return smtp_fail(error, have_cert ? SCAND_DELIVERY_RETRY : SCAND_DELIVERY_FAILED,
                     have_cert ? SCAND_ERROR_RETRY : SCAND_ERROR_DENIED, c->out,
                     "the server closed the TLS session right after the handshake (%s)%s", why,
                     have_cert ? ""
                               : "; it probably requires a client certificate: set client-certificate and client-key");
  }
  switch (rc) {
    case CURLE_USE_SSL_FAILED:
      return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_DENIED, c->out,
                       "the server does not offer STARTTLS; nothing was sent in clear (security = starttls)");
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_DENIED, c->out,
                       "the server's TLS certificate is not trusted (%s); set ca-file for a private CA", why);
    case CURLE_SSL_CERTPROBLEM:
      return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_INVAL, c->out,
                       "client-certificate or client-key cannot be used: %s", why);
    case CURLE_LOGIN_DENIED:
      /* 454 "temporary authentication failure" is worth another try; 535 is not. */
      if (t->last_code >= 400 && t->last_code < 500)
        return smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_RETRY, c->out, "login failed for now: %s",
                         t->last_reply);
      return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_DENIED, c->out, "login refused: %s%s",
                       t->last_reply ? t->last_reply : (*c->errbuf ? c->errbuf : "no reason given"),
                       reply_hint(t->last_reply) ? reply_hint(t->last_reply) : "");
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
      return smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_RETRY, c->out, "%s", why);
    case CURLE_READ_ERROR:
      return smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_IO, c->out, "cannot read %s", c->mail->file);
    default:
      return smtp_classify_replies(c, rc, why, error);
  }
}

static ScandDeliveryResult smtp_deliver(ScandDelivery *d, GError **error) {
  g_auto(SmtpCtx) c = { 0 };
  if (!smtp_load(d, &c, error))
    return SCAND_DELIVERY_FAILED;
  if (!smtp_pending(&c))
    return SCAND_DELIVERY_DONE;
  ScandDeliveryResult r = smtp_check_size(&c, error);
  if (r == SCAND_DELIVERY_DONE)
    r = smtp_credentials(&c, error);
  if (r != SCAND_DELIVERY_DONE)
    return r;
  g_autoptr(GError) transport = NULL;
  CURLcode rc = smtp_build(&c, &transport);
  if (!c.http)
    return smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_RETRY, c.out, "%s", transport->message);
  if (rc == CURLE_OK)
    rc = scand_http_perform_raw(c.http, &transport);
  if (rc == CURLE_OK)
    return smtp_classify_sent(&c, error);
  return smtp_classify_failure(&c, rc, transport, error);
}

const ScandOutputDriver scand_output_smtp = {
  .type = "smtp",
  .keys = smtp_keys,
  .check = smtp_check,
  .deliver = smtp_deliver,
};
