/* One SMTP session, blocking on its own thread: read a line, parse it
 * (smtp-command.c), check it against the intake's policy, reply. Replies are
 * collected and written when no further command is already waiting
 * (PIPELINING). Every read and write runs against a deadline that the
 * listener's reaper enforces by cancelling the I/O. */
#include "scand/service/smtp-listener-private.h"
#include "scand/base/error.h"
#include "scand/base/fault.h"
#include "scand/base/metrics.h"
#include "scand/core/mail-attachments.h"
#include "scand/service/smtp-command.h"

#include <string.h>

#define MAX_ERRORS 10                      /* bad commands before the connection is closed */
#define MAX_AUTH_FAILURES 3                /* failed logins before the connection is closed */
#define MAX_BOUNDARY_LINES 1000            /* "--" lines: more parts than any scan has */
#define MAX_ATTACHMENTS 100                /* documents in one message */
#define MAX_JOBS 1000                      /* documents times recipients: what one message may make */
#define LAST_WORDS_US (2 * G_USEC_PER_SEC) /* writing the final 421 */

typedef enum {
  LINE_OK,
  LINE_TOO_LONG,
  LINE_EOF,
  LINE_FAILED, /* timeout, stop or I/O error: the session ends */
} LineStatus;

typedef struct {
  ScandSmtpPeer *peer;
  ScandSmtpPolicy *policy;
  GIOStream *stream; /* the connection, or TLS over it */
  char *buf;
  gsize cap, start, end;
  gboolean discarding; /* inside a line that was too long */
  GString *replies;    /* not yet written */
  gint64 started;
  gboolean tls, trusted, quit, failed;
  char *helo;
  gboolean esmtp;
  char *auth_user;
  guint errors, auth_failures;
  /* the transaction */
  gboolean in_mail;
  char *mail_from;
  GPtrArray *rcpts;   /* accepted addresses */
  GPtrArray *refused; /* "<addr> (550 …)" */
} Session;

/* ---- the clock and the streams ------------------------------------------ */

/* The cancellable for the next I/O, due within timeout_us (and within the
 * session limit). last_words: the final reply after a timeout or a stop
 * gets a short deadline of its own. Caller unrefs. */
static GCancellable *clock_arm(Session *s, gint64 timeout_us, const char *what, gboolean last_words) {
  ScandSmtpClock *c = &s->peer->clock;
  g_mutex_lock(&c->lock);
  if (g_cancellable_is_cancelled(c->cancellable) && (last_words || (!c->timed_out && !c->stopping))) {
    g_object_unref(c->cancellable);
    c->cancellable = g_cancellable_new();
  }
  gint64 now = g_get_monotonic_time();
  c->deadline = last_words ? now + LAST_WORDS_US : MIN(now + timeout_us, s->started + s->policy->session_limit_us);
  c->waiting_for = what;
  GCancellable *cancellable = g_object_ref(c->cancellable);
  g_mutex_unlock(&c->lock);
  return cancellable;
}

/* The I/O finished: no deadline while the session thinks. */
static void clock_disarm(Session *s) {
  g_mutex_lock(&s->peer->clock.lock);
  s->peer->clock.deadline = 0;
  g_mutex_unlock(&s->peer->clock.lock);
}

static gboolean clock_flag(Session *s, gboolean timed_out) {
  g_mutex_lock(&s->peer->clock.lock);
  gboolean v = timed_out ? s->peer->clock.timed_out : s->peer->clock.stopping;
  g_mutex_unlock(&s->peer->clock.lock);
  return v;
}

static void reply(Session *s, ScandSmtpReplyKind kind, const char *arg) {
  g_autofree char *text = scand_smtp_reply_build(kind, arg);
  g_string_append(s->replies, text);
}

static gboolean write_replies(Session *s, gboolean last_words) {
  if (!s->replies->len)
    return TRUE;
  g_autoptr(GCancellable) cancel = clock_arm(s, s->policy->timeout_us, "reply", last_words);
  GOutputStream *out = g_io_stream_get_output_stream(s->stream);
  gboolean ok = g_output_stream_write_all(out, s->replies->str, s->replies->len, NULL, cancel, NULL);
  clock_disarm(s);
  g_string_truncate(s->replies, 0);
  if (!ok)
    s->failed = TRUE;
  return ok;
}

/* Reads more input; FALSE at the end of input or on a failure. */
static gboolean fill(Session *s, gint64 timeout_us, const char *what) {
  if (s->start > 0) {
    memmove(s->buf, s->buf + s->start, s->end - s->start);
    s->end -= s->start;
    s->start = 0;
  }
  g_autoptr(GCancellable) cancel = clock_arm(s, timeout_us, what, FALSE);
  GInputStream *in = g_io_stream_get_input_stream(s->stream);
  gssize n = g_input_stream_read(in, s->buf + s->end, s->cap - s->end, cancel, NULL);
  clock_disarm(s);
  if (n <= 0) {
    if (n < 0)
      s->failed = TRUE;
    return FALSE;
  }
  s->end += (gsize) n;
  return TRUE;
}

/* The next line (with its line end) within max bytes. Replies are written
 * first when no complete line is waiting (PIPELINING, RFC 2920 3.2). */
static LineStatus read_line(Session *s, gsize max, gint64 timeout_us, const char *what, char **line, gsize *len) {
  for (;;) {
    char *nl = memchr(s->buf + s->start, '\n', s->end - s->start);
    if (nl) {
      *line = s->buf + s->start;
      *len = (gsize) (nl - *line) + 1;
      s->start += *len;
      if (s->discarding || *len > max) {
        s->discarding = FALSE;
        return LINE_TOO_LONG;
      }
      return LINE_OK;
    }
    if (s->end - s->start >= max) {
      s->discarding = TRUE; /* drop what is there, keep reading to the line end */
      s->start = s->end = 0;
    }
    if (!write_replies(s, FALSE))
      return LINE_FAILED;
    if (!fill(s, timeout_us, what))
      return s->failed ? LINE_FAILED : LINE_EOF;
  }
}

/* ---- logging ------------------------------------------------------------- */

static void log_line(Session *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void log_line(Session *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *text = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *line = g_strdup_printf("intake %s: %s", s->policy->name, text);
  if (s->peer->hooks->log)
    s->peer->hooks->log(line, s->peer->hooks->user_data);
}

/* The one line a message gets: client, sender, recipients, size, verdict. */
static void log_message(Session *s, guint64 size, const char *verdict) {
  g_autoptr(GString) who = g_string_new(s->peer->client_ip);
  if (s->auth_user)
    g_string_append_printf(who, " (login %s)", s->auth_user);
  if (s->tls)
    g_string_append(who, " TLS");
  g_autoptr(GString) to = g_string_new(NULL);
  for (guint i = 0; i < s->rcpts->len; i++)
    g_string_append_printf(to, "%s<%s>", to->len ? ", " : "", (const char *) s->rcpts->pdata[i]);
  for (guint i = 0; i < s->refused->len; i++)
    g_string_append_printf(to, "%s%s", to->len ? ", " : "", (const char *) s->refused->pdata[i]);
  g_autofree char *from = scand_smtp_printable(s->mail_from);
  log_line(s, "client %s, from <%s>, to %s, %" G_GUINT64_FORMAT " bytes: %s", who->str, from,
           to->len ? to->str : "(none)", size, verdict);
  /* Every message gets exactly this one line, so it is also where the message is counted; the verdicts are
   * this file's own words, and only acceptances begin with "accepted". */
  scand_metrics_intake(s->policy->name, g_str_has_prefix(verdict, "accepted"));
}

static void transaction_reset(Session *s) {
  s->in_mail = FALSE;
  g_clear_pointer(&s->mail_from, g_free);
  g_ptr_array_set_size(s->rcpts, 0);
  g_ptr_array_set_size(s->refused, 0);
}

/* A transaction that ends without DATA but refused something is logged too. */
static void transaction_abandon(Session *s, const char *why) {
  if (s->in_mail && s->refused->len)
    log_message(s, 0, why);
  transaction_reset(s);
}

/* ---- who may do what ----------------------------------------------------- */

static gboolean glob_any(GStrv globs, const char *address) {
  g_autofree char *lower = g_ascii_strdown(address, -1);
  for (guint i = 0; globs && globs[i]; i++)
    if (g_pattern_match_simple(globs[i], lower))
      return TRUE;
  return FALSE;
}

/* Logins are offered with accounts, over TLS (or in clear when allowed). */
static gboolean auth_offered(Session *s) {
  return s->policy->accounts->len > 0 && (s->tls || s->policy->cleartext_auth);
}

static gboolean may_send(Session *s) {
  return s->auth_user || (s->trusted && !s->policy->require_auth);
}

/* ---- commands ------------------------------------------------------------ */

static void do_hello(Session *s, ScandSmtpCommand *cmd) {
  transaction_abandon(s, "abandoned by a new greeting");
  g_free(s->helo);
  s->helo = g_strdup(cmd->domain);
  s->esmtp = cmd->verb == SCAND_SMTP_EHLO;
  if (!s->esmtp) {
    reply(s, SCAND_SMTP_R_HELO, s->policy->hostname);
    return;
  }
  ScandSmtpFeatures f = {
    .host = s->policy->hostname,
    .client = cmd->domain,
    .max_size = s->policy->max_size,
    .starttls = s->policy->certificate && !s->tls,
    .auth = auth_offered(s),
  };
  g_autofree char *text = scand_smtp_reply_ehlo(&f);
  g_string_append(s->replies, text);
}

static void do_mail(Session *s, ScandSmtpCommand *cmd) {
  if (!s->helo) {
    reply(s, SCAND_SMTP_R_BAD_SEQUENCE, "send HELO or EHLO first");
    return;
  }
  if (s->in_mail) {
    reply(s, SCAND_SMTP_R_BAD_SEQUENCE, "nested MAIL command");
    return;
  }
  g_free(s->mail_from);
  s->mail_from = g_strdup(cmd->address);
  if (!may_send(s)) {
    reply(s, SCAND_SMTP_R_AUTH_REQUIRED, NULL);
    log_message(s, 0, "refused: not in allow-from and not logged in (530)");
    transaction_reset(s);
    return;
  }
  if (cmd->size >= 0 && s->policy->max_size && (guint64) cmd->size > s->policy->max_size) {
    g_autofree char *limit = g_strdup_printf("%" G_GUINT64_FORMAT, s->policy->max_size);
    reply(s, SCAND_SMTP_R_TOO_BIG, limit);
    log_message(s, (guint64) cmd->size, "refused: SIZE over the limit (552)");
    transaction_reset(s);
    return;
  }
  if (cmd->size > 0 && !scand_mail_spool_has_room(s->peer->mail_spool, (guint64) cmd->size)) {
    reply(s, SCAND_SMTP_R_NO_SPACE, NULL);
    log_message(s, (guint64) cmd->size, "refused: no room for SIZE in the spool (452)");
    transaction_reset(s);
    return;
  }
  if (s->policy->accept_from && s->policy->accept_from[0] && !glob_any(s->policy->accept_from, cmd->address)) {
    reply(s, SCAND_SMTP_R_SENDER_DENIED, cmd->address);
    log_message(s, 0, "refused: sender not in accept-from (550)");
    transaction_reset(s);
    return;
  }
  s->in_mail = TRUE;
  reply(s, SCAND_SMTP_R_SENDER_OK, cmd->address);
}

static void do_rcpt(Session *s, ScandSmtpCommand *cmd) {
  if (!s->in_mail) {
    reply(s, SCAND_SMTP_R_BAD_SEQUENCE, "need MAIL before RCPT");
    return;
  }
  if (s->rcpts->len >= s->policy->max_recipients) {
    g_autofree char *limit = g_strdup_printf("%u", s->policy->max_recipients);
    if (s->refused->len < 20)
      g_ptr_array_add(s->refused, g_strdup_printf("<%s> (452 too many)", cmd->address));
    reply(s, SCAND_SMTP_R_TOO_MANY_RCPT, limit);
    return;
  }
  /* Never an open relay: outside accept-to is refused, logged in or not. */
  if (!glob_any(s->policy->accept_to, cmd->address)) {
    if (s->refused->len < 20)
      g_ptr_array_add(s->refused, g_strdup_printf("<%s> (550 relay)", cmd->address));
    reply(s, SCAND_SMTP_R_RELAY_DENIED, cmd->address);
    return;
  }
  gboolean known = FALSE; /* the same recipient twice counts once */
  for (guint i = 0; i < s->rcpts->len; i++)
    known |= g_ascii_strcasecmp(s->rcpts->pdata[i], cmd->address) == 0;
  if (!known)
    g_ptr_array_add(s->rcpts, g_strdup(cmd->address));
  reply(s, SCAND_SMTP_R_RCPT_OK, cmd->address);
}

/* ---- DATA ---------------------------------------------------------------- */

typedef struct {
  ScandMailDraft *draft;
  guint64 size;
  gboolean too_big, line_too_long;
  GError *write_error;
} Incoming;

/* Reads the message to its end (".", RFC 5321 4.1.1.4: only CR LF . CR LF
 * ends it), dot-unstuffed, into the draft. FALSE when the session must end
 * (the client went away, a timeout, a stop, an endless message). */
static gboolean data_receive(Session *s, Incoming *m) {
  guint64 hard_limit = s->policy->max_size ? 2 * s->policy->max_size + (1 << 20) : G_MAXUINT64;
  for (;;) {
    char *line;
    gsize len;
    LineStatus st = read_line(s, s->policy->max_line, s->policy->data_timeout_us, "data", &line, &len);
    if (st == LINE_EOF || st == LINE_FAILED)
      return FALSE;
    if (st == LINE_TOO_LONG) {
      m->line_too_long = TRUE;
      continue;
    }
    if (len == 3 && memcmp(line, ".\r\n", 3) == 0)
      return TRUE;
    if (line[0] == '.') {
      line++;
      len--;
    }
    m->size += len;
    if (s->policy->max_size && m->size > s->policy->max_size)
      m->too_big = TRUE;
    if (m->size > hard_limit) {
      g_autofree char *limit = g_strdup_printf("%" G_GUINT64_FORMAT, s->policy->max_size);
      reply(s, SCAND_SMTP_R_TOO_BIG, limit);
      log_message(s, m->size, "refused: endless message, connection closed (552)");
      return FALSE;
    }
    if (!m->too_big && !m->line_too_long && !m->write_error)
      scand_mail_draft_write(m->draft, line, len, &m->write_error);
  }
}

/* The spool could not take the message: 452 when the disk is full (the
 * client tries again later), else 451. */
static void refuse_unstored(Session *s, guint64 size, const GError *error) {
  gboolean full = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  reply(s, full ? SCAND_SMTP_R_NO_SPACE : SCAND_SMTP_R_LOCAL_ERROR, NULL);
  g_autofree char *why = g_strdup_printf("not stored: %s (%s)", error->message, full ? "452" : "451");
  log_message(s, size, why);
}

/* Refuses a received message that cannot be accepted (reply and log line);
 * FALSE when nothing stands in its way. */
static gboolean data_refusal(Session *s, Incoming *m) {
  if (m->too_big) {
    g_autofree char *limit = g_strdup_printf("%" G_GUINT64_FORMAT, s->policy->max_size);
    reply(s, SCAND_SMTP_R_TOO_BIG, limit);
    log_message(s, m->size, "refused: over max-size (552)");
  } else if (m->line_too_long) {
    g_autofree char *why = g_strdup_printf("a line is longer than %u bytes", s->policy->max_line);
    reply(s, SCAND_SMTP_R_MESSAGE_REFUSED, why);
    log_message(s, m->size, "refused: line too long (554)");
  } else if (m->write_error) {
    refuse_unstored(s, m->size, m->write_error);
  } else if (scand_mail_draft_get_boundary_lines(m->draft) > MAX_BOUNDARY_LINES) {
    reply(s, SCAND_SMTP_R_MESSAGE_REFUSED, "too many MIME parts");
    log_message(s, m->size, "refused: too many MIME parts (554)");
  } else {
    return FALSE;
  }
  return TRUE;
}

/* A message with no usable attachment is refused before the 250 (550). */
static gboolean data_has_documents(Session *s, Incoming *m) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandReceivedMail) mail = scand_received_mail_open(scand_mail_draft_get_path(m->draft), &error);
  guint n = mail ? scand_received_mail_get_attachments(mail)->len : 0;
  if (n > MAX_ATTACHMENTS || n * s->rcpts->len > MAX_JOBS) {
    g_autofree char *why =
        g_strdup_printf("%u documents for %u recipients: more than one message may bring", n, s->rcpts->len);
    reply(s, SCAND_SMTP_R_MESSAGE_REFUSED, why);
    g_autofree char *verdict = g_strdup_printf("refused: %s (554)", why);
    log_message(s, m->size, verdict);
    return FALSE;
  }
  if (n > 0)
    return TRUE;
  GPtrArray *skipped = mail ? scand_received_mail_get_skipped(mail) : NULL;
  const char *why = !mail                     ? error->message
                    : skipped && skipped->len ? (const char *) skipped->pdata[0]
                                              : "no attachment (PDF, JPEG, PNG or TIFF)";
  reply(s, SCAND_SMTP_R_NO_ATTACHMENT, why);
  g_autofree char *verdict = g_strdup_printf("refused: no usable attachment: %s (550)", why);
  log_message(s, m->size, verdict);
  return FALSE;
}

/* Commits and answers. The order is the rule of mail-spool.h: fsync, commit
 * (the message is accepted), 250. */
static void data_accept(Session *s, Incoming *m) {
  g_autoptr(GError) error = NULL;
  scand_fault_point("intake-data");
  if (!scand_mail_draft_sync(m->draft, &error)) {
    refuse_unstored(s, m->size, error);
    return;
  }
  if (!data_has_documents(s, m))
    return;
  g_ptr_array_add(s->rcpts, NULL);
  ScandMailEnvelope env = {
    .intake = s->policy->name,
    .client_ip = s->peer->client_ip,
    .helo = s->helo,
    .auth_user = s->auth_user,
    .tls = s->tls,
    .mail_from = s->mail_from,
    .rcpt_to = (const char *const *) s->rcpts->pdata,
  };
  g_autofree char *queue_id = NULL;
  gboolean duplicate = FALSE;
  gboolean ok = scand_mail_draft_commit(m->draft, &env, &queue_id, &duplicate, &error);
  g_ptr_array_remove_index(s->rcpts, s->rcpts->len - 1);
  if (!ok) {
    refuse_unstored(s, m->size, error);
    return;
  }
  scand_fault_point("intake-committed");
  g_autofree char *id = scand_mail_queue_id_short(queue_id);
  reply(s, duplicate ? SCAND_SMTP_R_DUPLICATE : SCAND_SMTP_R_QUEUED, id);
  write_replies(s, FALSE);
  scand_fault_point("intake-replied");
  g_autofree char *verdict =
      g_strdup_printf("%s as %s", duplicate ? "accepted again (a resend), already queued" : "accepted, queued", id);
  log_message(s, m->size, verdict);
  if (!duplicate && s->peer->hooks->accepted)
    s->peer->hooks->accepted(queue_id, s->peer->hooks->user_data);
}

static void do_data(Session *s, ScandSmtpCommand *cmd) {
  if (!s->in_mail) {
    reply(s, SCAND_SMTP_R_BAD_SEQUENCE, "need MAIL before DATA");
    return;
  }
  if (s->rcpts->len == 0) {
    reply(s, SCAND_SMTP_R_NO_RECIPIENTS, NULL);
    return;
  }
  g_autoptr(GError) error = NULL;
  Incoming m = { .draft = scand_mail_draft_new(s->peer->mail_spool, &error) };
  if (!m.draft) {
    refuse_unstored(s, 0, error);
    transaction_reset(s);
    return;
  }
  reply(s, SCAND_SMTP_R_DATA_GO, NULL);
  if (!write_replies(s, FALSE) || !data_receive(s, &m)) {
    log_message(s, m.size,
                clock_flag(s, TRUE)    ? "not accepted: timeout during DATA"
                : clock_flag(s, FALSE) ? "not accepted: scand is stopping"
                                       : "not accepted: the client went away during DATA");
    s->quit = TRUE;
  } else if (!data_refusal(s, &m)) {
    data_accept(s, &m);
  }
  g_clear_error(&m.write_error);
  scand_mail_draft_free(m.draft);
  transaction_reset(s);
}

/* ---- STARTTLS and AUTH --------------------------------------------------- */

static void do_starttls(Session *s, ScandSmtpCommand *cmd) {
  if (!s->policy->certificate) {
    reply(s, SCAND_SMTP_R_NOT_IMPLEMENTED, "STARTTLS");
    return;
  }
  if (s->tls) {
    reply(s, SCAND_SMTP_R_TLS_IN_TLS, NULL);
    return;
  }
  reply(s, SCAND_SMTP_R_TLS_GO, NULL);
  if (!write_replies(s, FALSE)) {
    s->quit = TRUE;
    return;
  }
  /* Commands sent after STARTTLS in the clear must not run inside TLS
   * (CVE-2011-0411): whatever is buffered is dropped. */
  s->start = s->end = 0;
  g_autoptr(GError) error = NULL;
  GIOStream *tls = g_tls_server_connection_new(s->stream, s->policy->certificate, &error);
  g_autoptr(GCancellable) cancel = clock_arm(s, s->policy->timeout_us, "TLS handshake", FALSE);
  gboolean shook = tls && g_tls_connection_handshake(G_TLS_CONNECTION(tls), cancel, &error);
  clock_disarm(s);
  if (!shook) {
    log_line(s, "client %s: TLS handshake failed: %s", s->peer->client_ip, error->message);
    g_clear_object(&tls);
    s->quit = s->failed = TRUE;
    return;
  }
  g_object_unref(s->stream);
  s->stream = tls;
  s->tls = TRUE;
  /* RFC 3207 4.2: the client starts over. */
  transaction_reset(s);
  g_clear_pointer(&s->helo, g_free);
}

/* Constant time in the length of what was typed. */
static gboolean secret_equal(const char *a, const char *b) {
  gsize la = strlen(a), lb = strlen(b);
  guchar diff = la != lb;
  for (gsize i = 0; i < la; i++)
    diff |= (guchar) a[i] ^ (guchar) b[i % (lb ? lb : 1)];
  return diff == 0;
}

static ScandSmtpAccount *account_check(Session *s, const char *user, const char *password) {
  for (guint i = 0; i < s->policy->accounts->len; i++) {
    ScandSmtpAccount *a = s->policy->accounts->pdata[i];
    if (strcmp(a->name, user) != 0)
      continue;
    gboolean from_ok = a->allow_from->len == 0 || scand_smtp_address_in(s->peer->client_address, a->allow_from);
    return secret_equal(password, a->password) && from_ok ? a : NULL;
  }
  secret_equal(password, "no such account, same time");
  return NULL;
}

/* One round of an AUTH exchange: challenge out, decoded answer in. NULL
 * when the exchange ended (the reply is set). */
static char *auth_ask(Session *s, const char *challenge) {
  reply(s, SCAND_SMTP_R_AUTH_CHALLENGE, challenge);
  char *line;
  gsize len;
  LineStatus st = read_line(s, SCAND_SMTP_MAX_COMMAND_LINE + 2, s->policy->timeout_us, "login", &line, &len);
  if (st == LINE_EOF || st == LINE_FAILED) {
    s->quit = TRUE;
    return NULL;
  }
  if (st == LINE_TOO_LONG) {
    reply(s, SCAND_SMTP_R_AUTH_LINE_LONG, NULL);
    return NULL;
  }
  g_autofree char *text = g_strndup(line, len);
  g_strchomp(text);
  if (strcmp(text, "*") == 0) {
    reply(s, SCAND_SMTP_R_AUTH_CANCELLED, NULL);
    return NULL;
  }
  char *decoded = NULL;
  if (!scand_smtp_auth_decode_line(text, &decoded))
    reply(s, SCAND_SMTP_R_AUTH_BAD_BASE64, NULL);
  return decoded;
}

/* user and password of PLAIN (RFC 4616) or LOGIN; FALSE when the exchange
 * ended without them (the reply is set). */
static gboolean auth_exchange(Session *s, ScandSmtpCommand *cmd, char **user, char **password) {
  if (strcmp(cmd->mechanism, "PLAIN") == 0) {
    g_autofree char *initial = cmd->initial ? g_strdup(cmd->initial) : NULL;
    if (!initial) {
      g_autofree char *raw = auth_ask(s, "");
      if (!raw)
        return FALSE;
      initial = g_base64_encode((const guchar *) raw, strlen(raw));
    }
    if (scand_smtp_auth_plain_decode(initial, user, password))
      return TRUE;
    reply(s, SCAND_SMTP_R_AUTH_FAILED, NULL);
    return FALSE;
  }
  if (strcmp(cmd->mechanism, "LOGIN") == 0) {
    if (cmd->initial && !scand_smtp_auth_decode_line(cmd->initial, user)) {
      reply(s, SCAND_SMTP_R_AUTH_BAD_BASE64, NULL);
      return FALSE;
    }
    if (!*user && !(*user = auth_ask(s, "VXNlcm5hbWU6"))) /* "Username:" */
      return FALSE;
    return (*password = auth_ask(s, "UGFzc3dvcmQ6")) != NULL; /* "Password:" */
  }
  reply(s, SCAND_SMTP_R_AUTH_MECHANISM, NULL);
  return FALSE;
}

static void do_auth(Session *s, ScandSmtpCommand *cmd) {
  if (s->policy->accounts->len == 0) {
    reply(s, SCAND_SMTP_R_NOT_IMPLEMENTED, "AUTH");
    return;
  }
  if (!auth_offered(s)) {
    reply(s, SCAND_SMTP_R_AUTH_NEEDS_TLS, NULL);
    return;
  }
  if (s->auth_user) {
    reply(s, SCAND_SMTP_R_BAD_SEQUENCE, "already logged in");
    return;
  }
  if (s->in_mail) {
    reply(s, SCAND_SMTP_R_BAD_SEQUENCE, "AUTH is not allowed during a mail transaction");
    return;
  }
  g_autofree char *user = NULL, *password = NULL;
  if (!auth_exchange(s, cmd, &user, &password))
    return;
  ScandSmtpAccount *a = account_check(s, user, password);
  memset(password, 0, strlen(password));
  if (a) {
    s->auth_user = g_strdup(a->name);
    log_line(s, "client %s: logged in as %s", s->peer->client_ip, a->name);
    reply(s, SCAND_SMTP_R_AUTH_OK, NULL);
    return;
  }
  g_autofree char *who = scand_smtp_printable(user);
  log_line(s, "client %s: login as \"%s\" refused", s->peer->client_ip, who);
  g_usleep(G_USEC_PER_SEC); /* slows guessing down */
  reply(s, SCAND_SMTP_R_AUTH_FAILED, NULL);
  if (++s->auth_failures >= MAX_AUTH_FAILURES) {
    reply(s, SCAND_SMTP_R_TOO_MANY_ERRORS, NULL);
    s->quit = TRUE;
  }
}

/* ---- the rest, and the table --------------------------------------------- */

static void do_rset(Session *s, ScandSmtpCommand *cmd) {
  transaction_abandon(s, "abandoned (RSET)");
  reply(s, SCAND_SMTP_R_OK, NULL);
}

static void do_noop(Session *s, ScandSmtpCommand *cmd) {
  reply(s, SCAND_SMTP_R_OK, NULL);
}

static void do_quit(Session *s, ScandSmtpCommand *cmd) {
  transaction_abandon(s, "abandoned (QUIT)");
  reply(s, SCAND_SMTP_R_BYE, NULL);
  s->quit = TRUE;
}

static void do_vrfy(Session *s, ScandSmtpCommand *cmd) {
  reply(s, SCAND_SMTP_R_VRFY, NULL);
}

static void do_help(Session *s, ScandSmtpCommand *cmd) {
  reply(s, SCAND_SMTP_R_HELP, NULL);
}

static void do_not_offered(Session *s, ScandSmtpCommand *cmd) {
  reply(s, SCAND_SMTP_R_NOT_IMPLEMENTED, scand_smtp_verb_name(cmd->verb));
}

/* before_tls: allowed before STARTTLS when require-tls is set. */
static const struct {
  ScandSmtpVerb verb;
  void (*handle)(Session *s, ScandSmtpCommand *cmd);
  gboolean before_tls;
} handlers[] = {
  { SCAND_SMTP_HELO, do_hello, TRUE },        { SCAND_SMTP_EHLO, do_hello, TRUE },
  { SCAND_SMTP_MAIL, do_mail, FALSE },        { SCAND_SMTP_RCPT, do_rcpt, FALSE },
  { SCAND_SMTP_DATA, do_data, FALSE },        { SCAND_SMTP_RSET, do_rset, TRUE },
  { SCAND_SMTP_NOOP, do_noop, TRUE },         { SCAND_SMTP_QUIT, do_quit, TRUE },
  { SCAND_SMTP_VRFY, do_vrfy, FALSE },        { SCAND_SMTP_EXPN, do_not_offered, FALSE },
  { SCAND_SMTP_HELP, do_help, TRUE },         { SCAND_SMTP_STARTTLS, do_starttls, TRUE },
  { SCAND_SMTP_AUTH, do_auth, FALSE },        { SCAND_SMTP_BDAT, do_not_offered, FALSE },
  { SCAND_SMTP_TURN, do_not_offered, FALSE },
};

static void handle_line(Session *s, const char *line, gsize len) {
  while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    len--;
  ScandSmtpCommand cmd;
  ScandSmtpRefusal refusal = { 0 };
  if (!scand_smtp_command_parse(line, len, &cmd, &refusal)) {
    reply(s, refusal.kind, refusal.arg);
    scand_smtp_refusal_clear(&refusal);
    s->errors++;
    return;
  }
  for (guint i = 0; i < G_N_ELEMENTS(handlers); i++) {
    if (handlers[i].verb != cmd.verb)
      continue;
    if (s->policy->require_tls && !s->tls && !handlers[i].before_tls)
      reply(s, SCAND_SMTP_R_TLS_REQUIRED, NULL);
    else
      handlers[i].handle(s, &cmd);
    break;
  }
  scand_smtp_command_clear(&cmd);
}

/* ---- the session --------------------------------------------------------- */

/* A client that may neither send nor log in gets no service (RFC 5321 3.1:
 * 554 greeting, then 503 to all but QUIT). */
static void serve_refused(Session *s) {
  reply(s, SCAND_SMTP_R_ACCESS_DENIED, s->peer->client_ip);
  log_line(s, "client %s: refused: not in allow-from, and no logins are offered", s->peer->client_ip);
  while (!s->quit && s->errors < 3) {
    char *line;
    gsize len;
    LineStatus st = read_line(s, SCAND_SMTP_MAX_COMMAND_LINE + 2, s->policy->idle_timeout_us, "command", &line, &len);
    if (st == LINE_EOF || st == LINE_FAILED)
      return;
    if (len >= 4 && g_ascii_strncasecmp(line, "QUIT", 4) == 0) {
      reply(s, SCAND_SMTP_R_BYE, NULL);
      return;
    }
    reply(s, SCAND_SMTP_R_BAD_SEQUENCE, "no service");
    s->errors++;
  }
}

static void serve(Session *s) {
  reply(s, SCAND_SMTP_R_GREETING, s->policy->hostname);
  while (!s->quit) {
    char *line;
    gsize len;
    gint64 timeout = s->in_mail ? s->policy->timeout_us : s->policy->idle_timeout_us;
    LineStatus st = read_line(s, SCAND_SMTP_MAX_COMMAND_LINE + 2, timeout, "command", &line, &len);
    if (st == LINE_EOF || st == LINE_FAILED)
      break;
    if (st == LINE_TOO_LONG) {
      reply(s, SCAND_SMTP_R_LINE_TOO_LONG, NULL);
      s->errors++;
    } else {
      handle_line(s, line, len);
    }
    if (s->errors >= MAX_ERRORS) {
      reply(s, SCAND_SMTP_R_TOO_MANY_ERRORS, NULL);
      break;
    }
  }
}

/* The last words after a timeout or a stop. */
static void say_goodbye(Session *s) {
  g_autofree char *what = NULL;
  g_mutex_lock(&s->peer->clock.lock);
  gboolean timed_out = s->peer->clock.timed_out, stopping = s->peer->clock.stopping;
  what = g_strdup(s->peer->clock.waiting_for ? s->peer->clock.waiting_for : "session");
  g_mutex_unlock(&s->peer->clock.lock);
  if (stopping)
    reply(s, SCAND_SMTP_R_SHUTDOWN, NULL);
  else if (timed_out)
    reply(s, SCAND_SMTP_R_TIMEOUT, what);
  if (timed_out && !stopping)
    log_line(s, "client %s: %s timeout, connection closed", s->peer->client_ip, what);
  transaction_abandon(s, timed_out ? "abandoned (timeout)" : "abandoned (connection closed)");
  write_replies(s, TRUE);
}

void scand_smtp_session_run(ScandSmtpPeer *peer) {
  Session s = {
    .peer = peer,
    .policy = peer->policy,
    .stream = G_IO_STREAM(g_object_ref(peer->connection)),
    .replies = g_string_new(NULL),
    .started = g_get_monotonic_time(),
    .rcpts = g_ptr_array_new_with_free_func(g_free),
    .refused = g_ptr_array_new_with_free_func(g_free),
  };
  s.cap = MAX(s.policy->max_line, SCAND_SMTP_MAX_COMMAND_LINE + 2) + 1;
  s.buf = g_malloc(s.cap);
  s.trusted = scand_smtp_address_in(peer->client_address, s.policy->allow_from);
  if (!s.trusted && s.policy->accounts->len == 0)
    serve_refused(&s);
  else
    serve(&s);
  say_goodbye(&s);
  g_autoptr(GCancellable) cancel = clock_arm(&s, 0, "close", TRUE);
  g_io_stream_close(s.stream, cancel, NULL);
  g_object_unref(s.stream);
  g_string_free(s.replies, TRUE);
  g_free(s.buf);
  g_free(s.helo);
  g_free(s.auth_user);
  g_free(s.mail_from);
  g_ptr_array_unref(s.rcpts);
  g_ptr_array_unref(s.refused);
}
