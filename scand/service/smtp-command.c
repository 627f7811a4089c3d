/* SMTP commands and replies as data: one row a command (name, verb, parser),
 * one row a reply (code, enhanced status, text). Nothing here reads or
 * writes a socket. */
#include "scand/service/smtp-command.h"

#include <gio/gio.h>

#include <string.h>

/* ---- replies ------------------------------------------------------------ */

/* text may hold one "%s", replaced by the (sanitised) argument. */
static const struct {
  guint code;
  const char *status; /* RFC 3463; NULL where a status does not belong (220, 334, 354) */
  const char *text;
} replies[] = {
  [SCAND_SMTP_R_GREETING] = { 220, NULL, "%s ESMTP scand" },
  [SCAND_SMTP_R_BYE] = { 221, "2.0.0", "closing connection" },
  [SCAND_SMTP_R_HELO] = { 250, NULL, "%s" },
  [SCAND_SMTP_R_OK] = { 250, "2.0.0", "Ok" },
  [SCAND_SMTP_R_SENDER_OK] = { 250, "2.1.0", "<%s>: sender ok" },
  [SCAND_SMTP_R_RCPT_OK] = { 250, "2.1.5", "<%s>: recipient ok" },
  [SCAND_SMTP_R_QUEUED] = { 250, "2.0.0", "Ok: queued as %s" },
  [SCAND_SMTP_R_DUPLICATE] = { 250, "2.0.0", "Ok: already queued as %s" },
  [SCAND_SMTP_R_VRFY] = { 252, "2.1.5", "cannot verify users; send some mail and see" },
  [SCAND_SMTP_R_HELP] = { 214, "2.0.0", "scand receives scans by mail: see RFC 5321" },
  [SCAND_SMTP_R_TLS_GO] = { 220, "2.0.0", "ready to start TLS" },
  [SCAND_SMTP_R_AUTH_OK] = { 235, "2.7.0", "authentication successful" },
  [SCAND_SMTP_R_AUTH_CHALLENGE] = { 334, NULL, "%s" },
  [SCAND_SMTP_R_DATA_GO] = { 354, NULL, "end data with <CR><LF>.<CR><LF>" },
  [SCAND_SMTP_R_TIMEOUT] = { 421, "4.4.2", "%s: timeout exceeded, closing connection" },
  [SCAND_SMTP_R_TOO_MANY_CONN] = { 421, "4.7.0", "%s: too many connections, try again later" },
  [SCAND_SMTP_R_SHUTDOWN] = { 421, "4.3.2", "service shutting down, try again later" },
  [SCAND_SMTP_R_TOO_MANY_ERRORS] = { 421, "4.7.0", "too many errors, closing connection" },
  [SCAND_SMTP_R_LOCAL_ERROR] = { 451, "4.3.0", "local error: the message could not be stored, try again later" },
  [SCAND_SMTP_R_NO_SPACE] = { 452, "4.3.1", "insufficient system storage, try again later" },
  [SCAND_SMTP_R_TOO_MANY_RCPT] = { 452, "4.5.3", "too many recipients (at most %s per message)" },
  [SCAND_SMTP_R_TLS_UNAVAILABLE] = { 454, "4.7.0", "TLS not available" },
  [SCAND_SMTP_R_LINE_TOO_LONG] = { 500, "5.5.2", "line too long" },
  [SCAND_SMTP_R_UNKNOWN] = { 500, "5.5.2", "command not recognized" },
  [SCAND_SMTP_R_AUTH_LINE_LONG] = { 500, "5.5.6", "authentication exchange line is too long" },
  [SCAND_SMTP_R_SYNTAX] = { 501, "5.5.4", "%s" },
  [SCAND_SMTP_R_AUTH_CANCELLED] = { 501, "5.0.0", "authentication cancelled" },
  [SCAND_SMTP_R_AUTH_BAD_BASE64] = { 501, "5.5.2", "cannot decode the authentication response" },
  [SCAND_SMTP_R_NOT_IMPLEMENTED] = { 502, "5.5.1", "%s: command not implemented" },
  [SCAND_SMTP_R_BAD_SEQUENCE] = { 503, "5.5.1", "%s" },
  [SCAND_SMTP_R_AUTH_MECHANISM] = { 504, "5.5.4", "unrecognized authentication type (PLAIN and LOGIN are offered)" },
  [SCAND_SMTP_R_TLS_REQUIRED] = { 530, "5.7.0", "must issue a STARTTLS command first" },
  [SCAND_SMTP_R_AUTH_REQUIRED] = { 530, "5.7.0", "authentication required" },
  [SCAND_SMTP_R_AUTH_FAILED] = { 535, "5.7.8", "authentication credentials invalid" },
  [SCAND_SMTP_R_AUTH_NEEDS_TLS] = { 538, "5.7.11", "encryption required for requested authentication mechanism" },
  [SCAND_SMTP_R_RELAY_DENIED] = { 550, "5.7.1", "<%s>: relay access denied" },
  [SCAND_SMTP_R_SENDER_DENIED] = { 550, "5.7.1", "<%s>: sender not accepted here" },
  [SCAND_SMTP_R_NO_ATTACHMENT] = { 550, "5.6.0", "no usable attachment: %s" },
  [SCAND_SMTP_R_MESSAGE_REFUSED] = { 554, "5.6.0", "message refused: %s" },
  [SCAND_SMTP_R_TOO_BIG] = { 552, "5.3.4", "message size exceeds fixed limit of %s bytes" },
  [SCAND_SMTP_R_BAD_ADDRESS] = { 553, "5.1.3", "%s" },
  [SCAND_SMTP_R_ACCESS_DENIED] = { 554, "5.7.1", "%s: access denied" },
  [SCAND_SMTP_R_NO_RECIPIENTS] = { 554, "5.5.1", "no valid recipients" },
  [SCAND_SMTP_R_PARAM_UNKNOWN] = { 555, "5.5.4", "%s: parameter not recognized" },
  [SCAND_SMTP_R_TLS_IN_TLS] = { 503, "5.5.1", "TLS already active" },
};

guint scand_smtp_reply_code(ScandSmtpReplyKind kind) {
  g_return_val_if_fail((guint) kind < G_N_ELEMENTS(replies), 451);
  return replies[kind].code;
}

char *scand_smtp_printable(const char *arg) {
  GString *s = g_string_new(NULL);
  for (const char *p = arg ? arg : ""; *p && s->len < 200; p++)
    g_string_append_c(s, (guchar) *p >= 0x20 && (guchar) *p < 0x7f ? *p : '?');
  if (arg && strlen(arg) > 200)
    g_string_append(s, "...");
  return g_string_free(s, FALSE);
}

char *scand_smtp_reply_build(ScandSmtpReplyKind kind, const char *arg) {
  g_return_val_if_fail((guint) kind < G_N_ELEMENTS(replies), NULL);
  const char *text = replies[kind].text;
  const char *hole = strstr(text, "%s");
  g_autofree char *safe = scand_smtp_printable(arg);
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "%u ", replies[kind].code);
  if (replies[kind].status)
    g_string_append_printf(s, "%s ", replies[kind].status);
  if (hole) {
    g_string_append_len(s, text, hole - text);
    g_string_append(s, safe);
    g_string_append(s, hole + 2);
  } else {
    g_string_append(s, text);
  }
  g_string_append(s, "\r\n");
  return g_string_free(s, FALSE);
}

char *scand_smtp_reply_ehlo(const ScandSmtpFeatures *f) {
  g_autofree char *host = scand_smtp_printable(f->host);
  g_autofree char *client = scand_smtp_printable(f->client);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(lines, g_strdup_printf("%s greets %s", host, client));
  g_ptr_array_add(lines, g_strdup("PIPELINING"));
  g_ptr_array_add(lines, f->max_size ? g_strdup_printf("SIZE %" G_GUINT64_FORMAT, f->max_size) : g_strdup("SIZE"));
  g_ptr_array_add(lines, g_strdup("8BITMIME"));
  g_ptr_array_add(lines, g_strdup("ENHANCEDSTATUSCODES"));
  if (f->starttls)
    g_ptr_array_add(lines, g_strdup("STARTTLS"));
  if (f->auth)
    g_ptr_array_add(lines, g_strdup("AUTH PLAIN LOGIN"));
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf(s, "250%c%s\r\n", i + 1 < lines->len ? '-' : ' ', (const char *) lines->pdata[i]);
  return g_string_free(s, FALSE);
}

/* ---- addresses ---------------------------------------------------------- */

/* RFC 5322 atext minus '%' and '!', which old relays read as routing. */
static gboolean is_atext(char c) {
  return g_ascii_isalnum(c) || (c && strchr("#$&'*+-/=?^_`{|}~", c) != NULL);
}

static gboolean domain_label_ok(const char *label, gsize len) {
  if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum(label[i]) && label[i] != '-')
      return FALSE;
  return TRUE;
}

static gboolean domain_ok(const char *domain, char **why) {
  gsize len = strlen(domain);
  if (len == 0 || len > SCAND_SMTP_MAX_DOMAIN) {
    *why = g_strdup(len ? "domain too long" : "no domain after @");
    return FALSE;
  }
  if (domain[0] == '[') {
    /* address literal: [192.0.2.1] or [IPv6:2001:db8::1] */
    if (domain[len - 1] != ']') {
      *why = g_strdup("unterminated address literal");
      return FALSE;
    }
    g_autofree char *inner = g_strndup(domain + 1, len - 2);
    const char *ip = g_ascii_strncasecmp(inner, "IPv6:", 5) == 0 ? inner + 5 : inner;
    g_autoptr(GInetAddress) addr = NULL;
    gboolean v6 = ip != inner;
    if (!*ip || (v6 ? strchr(ip, ':') == NULL : strchr(ip, ':') != NULL) ||
        !(addr = g_inet_address_new_from_string(ip))) {
      *why = g_strdup("bad address literal");
      return FALSE;
    }
    return TRUE;
  }
  for (const char *p = domain;;) {
    const char *dot = strchr(p, '.');
    gsize n = dot ? (gsize) (dot - p) : strlen(p);
    if (!domain_label_ok(p, n)) {
      *why = g_strdup("bad domain");
      return FALSE;
    }
    if (!dot)
      return TRUE;
    p = dot + 1;
  }
}

gboolean scand_smtp_address_check(const char *address, char **why) {
  *why = NULL;
  for (const char *p = address; *p; p++)
    if ((guchar) *p >= 0x80) {
      *why = g_strdup("non-ASCII address (SMTPUTF8 is not offered)");
      return FALSE;
    }
  if (strlen(address) > SCAND_SMTP_MAX_PATH - 2) {
    *why = g_strdup("address too long");
    return FALSE;
  }
  if (address[0] == '"') {
    *why = g_strdup("quoted local parts are not accepted");
    return FALSE;
  }
  const char *at = strrchr(address, '@');
  if (!at) {
    *why = g_strdup("no @ in the address");
    return FALSE;
  }
  gsize local_len = (gsize) (at - address);
  if (local_len == 0 || local_len > SCAND_SMTP_MAX_LOCAL_PART) {
    *why = g_strdup(local_len ? "local part too long" : "empty local part");
    return FALSE;
  }
  for (gsize i = 0; i < local_len; i++) {
    char c = address[i];
    if (c == '%' || c == '!' || c == '@') {
      *why = g_strdup_printf("'%c' in the local part is not accepted (no relaying)", c);
      return FALSE;
    }
    gboolean dot_ok = c == '.' && i > 0 && i + 1 < local_len && address[i + 1] != '.';
    if (!is_atext(c) && !dot_ok) {
      *why = g_strdup("bad character in the local part");
      return FALSE;
    }
  }
  return domain_ok(at + 1, why);
}

/* ---- command lines ------------------------------------------------------ */

static void refuse(ScandSmtpRefusal *r, ScandSmtpReplyKind kind, const char *arg) {
  r->kind = kind;
  g_free(r->arg);
  r->arg = g_strdup(arg);
}

static const char *skip_spaces(const char *p) {
  while (*p == ' ')
    p++;
  return p;
}

/* A path "<local@domain>" (or a bare address, which old clients send) at p;
 * *end is set after it. null_ok: "<>" is allowed (the reverse path of a
 * bounce). RCPT TO:<Postmaster> has no domain and is allowed too. */
static gboolean parse_path(const char *p, const char **end, gboolean null_ok, char **address, ScandSmtpRefusal *r) {
  g_autofree char *inner = NULL;
  if (*p == '<') {
    if (p[1] == '"') {
      refuse(r, SCAND_SMTP_R_BAD_ADDRESS, "quoted local parts are not accepted");
      return FALSE;
    }
    const char *close = strchr(p, '>');
    if (!close) {
      refuse(r, SCAND_SMTP_R_SYNTAX, "missing '>' after the address");
      return FALSE;
    }
    inner = g_strndup(p + 1, (gsize) (close - p - 1));
    *end = close + 1;
  } else {
    gsize n = strcspn(p, " ");
    inner = g_strndup(p, n);
    *end = p + n;
    if (!*inner) {
      refuse(r, SCAND_SMTP_R_SYNTAX, "missing address");
      return FALSE;
    }
  }
  if (**end && **end != ' ') {
    refuse(r, SCAND_SMTP_R_SYNTAX, "garbage after the address");
    return FALSE;
  }
  if (!*inner) {
    if (!null_ok) {
      refuse(r, SCAND_SMTP_R_SYNTAX, "empty recipient address");
      return FALSE;
    }
    *address = g_strdup("");
    return TRUE;
  }
  if (inner[0] == '@') {
    refuse(r, SCAND_SMTP_R_BAD_ADDRESS, "source routes are not accepted (no relaying)");
    return FALSE;
  }
  if (!null_ok && g_ascii_strcasecmp(inner, "postmaster") == 0) {
    *address = g_strdup("postmaster");
    return TRUE;
  }
  char *why = NULL;
  if (!scand_smtp_address_check(inner, &why)) {
    g_autofree char *text = g_strdup_printf("<%s>: %s", inner, why);
    g_free(why);
    refuse(r, SCAND_SMTP_R_BAD_ADDRESS, text);
    return FALSE;
  }
  *address = g_steal_pointer(&inner);
  return TRUE;
}

/* "KEY" or "KEY=VALUE" per RFC 5321 esmtp-param. */
static gboolean param_split(const char *param, char **key, char **value) {
  const char *eq = strchr(param, '=');
  gsize klen = eq ? (gsize) (eq - param) : strlen(param);
  if (klen == 0 || !g_ascii_isalnum(param[0]))
    return FALSE;
  for (gsize i = 0; i < klen; i++)
    if (!g_ascii_isalnum(param[i]) && param[i] != '-')
      return FALSE;
  if (eq) {
    if (!eq[1])
      return FALSE;
    for (const char *v = eq + 1; *v; v++)
      if (*v == '=' || (guchar) *v < 33 || (guchar) *v > 126)
        return FALSE;
  }
  *key = g_ascii_strup(param, (gssize) klen);
  *value = eq ? g_strdup(eq + 1) : NULL;
  return TRUE;
}

static gboolean mail_param(ScandSmtpCommand *cmd, const char *key, const char *value, ScandSmtpRefusal *r) {
  if (strcmp(key, "SIZE") == 0) {
    if (cmd->size >= 0) {
      refuse(r, SCAND_SMTP_R_SYNTAX, "SIZE= given twice");
      return FALSE;
    }
    if (!value || strlen(value) > 15 || strspn(value, "0123456789") != strlen(value)) {
      refuse(r, SCAND_SMTP_R_SYNTAX, "SIZE= needs one decimal number");
      return FALSE;
    }
    cmd->size = (gint64) g_ascii_strtoull(value, NULL, 10);
    return TRUE;
  }
  if (strcmp(key, "BODY") == 0) {
    if (value && g_ascii_strcasecmp(value, "8BITMIME") == 0) {
      cmd->body8 = TRUE;
      return TRUE;
    }
    if (value && g_ascii_strcasecmp(value, "7BIT") == 0)
      return TRUE;
    refuse(r, SCAND_SMTP_R_PARAM_UNKNOWN, "BODY (7BIT and 8BITMIME are offered)");
    return FALSE;
  }
  if (strcmp(key, "AUTH") == 0 && value)
    return TRUE; /* RFC 4954 5: the submitter's identity; scand has no use for it */
  refuse(r, SCAND_SMTP_R_PARAM_UNKNOWN, key);
  return FALSE;
}

static gboolean parse_params(const char *p, ScandSmtpCommand *cmd, ScandSmtpRefusal *r) {
  g_auto(GStrv) params = g_strsplit(p, " ", -1);
  for (guint i = 0; params[i]; i++) {
    if (!*params[i])
      continue;
    g_autofree char *key = NULL, *value = NULL;
    if (!param_split(params[i], &key, &value)) {
      refuse(r, SCAND_SMTP_R_SYNTAX, "malformed parameter");
      return FALSE;
    }
    if (cmd->verb == SCAND_SMTP_RCPT) {
      refuse(r, SCAND_SMTP_R_PARAM_UNKNOWN, key);
      return FALSE;
    }
    if (!mail_param(cmd, key, value, r))
      return FALSE;
  }
  return TRUE;
}

/* "FROM:" / "TO:" then a path and parameters. */
static gboolean parse_envelope(const char *args, const char *word, ScandSmtpCommand *cmd, ScandSmtpRefusal *r) {
  gsize n = strlen(word);
  if (g_ascii_strncasecmp(args, word, n) != 0) {
    g_autofree char *text = g_strdup_printf("Syntax: %s %s<address>", scand_smtp_verb_name(cmd->verb), word);
    refuse(r, SCAND_SMTP_R_SYNTAX, text);
    return FALSE;
  }
  const char *end = NULL;
  if (!parse_path(skip_spaces(args + n), &end, cmd->verb == SCAND_SMTP_MAIL, &cmd->address, r))
    return FALSE;
  return parse_params(end, cmd, r);
}

static gboolean parse_mail(const char *args, ScandSmtpCommand *cmd, ScandSmtpRefusal *r) {
  return parse_envelope(args, "FROM:", cmd, r);
}

static gboolean parse_rcpt(const char *args, ScandSmtpCommand *cmd, ScandSmtpRefusal *r) {
  return parse_envelope(args, "TO:", cmd, r);
}

static gboolean parse_hello(const char *args, ScandSmtpCommand *cmd, ScandSmtpRefusal *r) {
  gsize n = strcspn(args, " ");
  if (n == 0 || n > SCAND_SMTP_MAX_DOMAIN) {
    g_autofree char *text = g_strdup_printf("Syntax: %s hostname", scand_smtp_verb_name(cmd->verb));
    refuse(r, SCAND_SMTP_R_SYNTAX, text);
    return FALSE;
  }
  for (gsize i = 0; i < n; i++)
    if ((guchar) args[i] >= 0x7f) {
      refuse(r, SCAND_SMTP_R_SYNTAX, "non-ASCII host name");
      return FALSE;
    }
  cmd->domain = g_strndup(args, n);
  return TRUE;
}

static gboolean parse_none(const char *args, ScandSmtpCommand *cmd, ScandSmtpRefusal *r) {
  if (!*args)
    return TRUE;
  g_autofree char *text = g_strdup_printf("Syntax: %s (no arguments)", scand_smtp_verb_name(cmd->verb));
  refuse(r, SCAND_SMTP_R_SYNTAX, text);
  return FALSE;
}

static gboolean parse_any(const char *args, ScandSmtpCommand *cmd, ScandSmtpRefusal *r) {
  return TRUE;
}

static gboolean parse_required(const char *args, ScandSmtpCommand *cmd, ScandSmtpRefusal *r) {
  if (*args)
    return TRUE;
  g_autofree char *text = g_strdup_printf("Syntax: %s argument", scand_smtp_verb_name(cmd->verb));
  refuse(r, SCAND_SMTP_R_SYNTAX, text);
  return FALSE;
}

static gboolean base64_ok(const char *s) {
  gsize n = strlen(s);
  if (strcmp(s, "=") == 0)
    return TRUE;
  if (n == 0 || n % 4 != 0)
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    gboolean pad = s[i] == '=' && i >= n - 2 && (i == n - 1 || s[n - 1] == '=');
    if (!g_ascii_isalnum(s[i]) && s[i] != '+' && s[i] != '/' && !pad)
      return FALSE;
  }
  return TRUE;
}

static gboolean parse_auth(const char *args, ScandSmtpCommand *cmd, ScandSmtpRefusal *r) {
  g_auto(GStrv) words = g_strsplit(args, " ", -1);
  guint n = g_strv_length(words);
  if (n == 0 || n > 2 || !*words[0] || strlen(words[0]) > 20 || (n == 2 && !*words[1])) {
    refuse(r, SCAND_SMTP_R_SYNTAX, "Syntax: AUTH mechanism [initial-response]");
    return FALSE;
  }
  for (const char *p = words[0]; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_') {
      refuse(r, SCAND_SMTP_R_SYNTAX, "bad mechanism name");
      return FALSE;
    }
  if (n == 2 && !base64_ok(words[1])) {
    refuse(r, SCAND_SMTP_R_AUTH_BAD_BASE64, NULL);
    return FALSE;
  }
  cmd->mechanism = g_ascii_strup(words[0], -1);
  cmd->initial = n == 2 ? g_strdup(words[1]) : NULL;
  return TRUE;
}

typedef gboolean (*ParseFunc)(const char *args, ScandSmtpCommand *cmd, ScandSmtpRefusal *r);

/* The commands of an SMTP server (RFC 5321 4.1, 3207, 4954). */
static const struct {
  const char *name;
  ScandSmtpVerb verb;
  ParseFunc parse;
} commands[] = {
  { "HELO", SCAND_SMTP_HELO, parse_hello },    { "EHLO", SCAND_SMTP_EHLO, parse_hello },
  { "MAIL", SCAND_SMTP_MAIL, parse_mail },     { "RCPT", SCAND_SMTP_RCPT, parse_rcpt },
  { "DATA", SCAND_SMTP_DATA, parse_none },     { "RSET", SCAND_SMTP_RSET, parse_none },
  { "NOOP", SCAND_SMTP_NOOP, parse_any },      { "QUIT", SCAND_SMTP_QUIT, parse_none },
  { "VRFY", SCAND_SMTP_VRFY, parse_required }, { "EXPN", SCAND_SMTP_EXPN, parse_required },
  { "HELP", SCAND_SMTP_HELP, parse_any },      { "STARTTLS", SCAND_SMTP_STARTTLS, parse_none },
  { "AUTH", SCAND_SMTP_AUTH, parse_auth },     { "BDAT", SCAND_SMTP_BDAT, parse_any },
  { "TURN", SCAND_SMTP_TURN, parse_any },
};

const char *scand_smtp_verb_name(ScandSmtpVerb verb) {
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
    if (commands[i].verb == verb)
      return commands[i].name;
  return "?";
}

gboolean scand_smtp_command_parse(const char *line, gsize len, ScandSmtpCommand *cmd, ScandSmtpRefusal *refusal) {
  memset(cmd, 0, sizeof *cmd);
  cmd->size = -1;
  if (len > SCAND_SMTP_MAX_COMMAND_LINE) {
    refuse(refusal, SCAND_SMTP_R_LINE_TOO_LONG, NULL);
    return FALSE;
  }
  for (gsize i = 0; i < len; i++)
    if ((guchar) line[i] < 0x20 || line[i] == 0x7f) {
      refuse(refusal, SCAND_SMTP_R_SYNTAX, "control character in the command");
      return FALSE;
    }
  g_autofree char *text = g_strndup(line, len);
  g_strchomp(text); /* clients that end a line with blanks */
  gsize verb_len = strcspn(text, " ");
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
    if (strlen(commands[i].name) != verb_len || g_ascii_strncasecmp(text, commands[i].name, verb_len) != 0)
      continue;
    cmd->verb = commands[i].verb;
    const char *args = text[verb_len] ? text + verb_len + 1 : "";
    if (commands[i].parse(args, cmd, refusal))
      return TRUE;
    scand_smtp_command_clear(cmd);
    return FALSE;
  }
  refuse(refusal, SCAND_SMTP_R_UNKNOWN, NULL);
  return FALSE;
}

void scand_smtp_command_clear(ScandSmtpCommand *cmd) {
  g_clear_pointer(&cmd->domain, g_free);
  g_clear_pointer(&cmd->address, g_free);
  g_clear_pointer(&cmd->mechanism, g_free);
  g_clear_pointer(&cmd->initial, g_free);
}

void scand_smtp_refusal_clear(ScandSmtpRefusal *refusal) {
  g_clear_pointer(&refusal->arg, g_free);
}

/* ---- AUTH --------------------------------------------------------------- */

gboolean scand_smtp_auth_decode_line(const char *base64, char **out) {
  *out = NULL;
  if (!base64_ok(base64))
    return FALSE;
  if (strcmp(base64, "=") == 0) {
    *out = g_strdup("");
    return TRUE;
  }
  gsize n = 0;
  guchar *raw = g_base64_decode(base64, &n);
  if (memchr(raw, '\0', n)) {
    memset(raw, 0, n);
    g_free(raw);
    return FALSE;
  }
  *out = g_strndup((const char *) raw, n);
  memset(raw, 0, n);
  g_free(raw);
  return TRUE;
}

gboolean scand_smtp_auth_plain_decode(const char *base64, char **user, char **password) {
  *user = *password = NULL;
  if (!base64_ok(base64) || strcmp(base64, "=") == 0)
    return FALSE;
  gsize n = 0;
  guchar *raw = g_base64_decode(base64, &n);
  /* authzid NUL authcid NUL passwd, exactly two NULs (RFC 4616). */
  const char *p = (const char *) raw, *end = p + n;
  const char *nul1 = memchr(p, '\0', n);
  const char *nul2 = nul1 ? memchr(nul1 + 1, '\0', (gsize) (end - nul1 - 1)) : NULL;
  gboolean ok = nul2 && !memchr(nul2 + 1, '\0', (gsize) (end - nul2 - 1)) && nul2 > nul1 + 1 && end > nul2 + 1;
  if (ok) {
    g_autofree char *authz = g_strndup(p, (gsize) (nul1 - p));
    *user = g_strndup(nul1 + 1, (gsize) (nul2 - nul1 - 1));
    ok = !*authz || strcmp(authz, *user) == 0;
    if (ok)
      *password = g_strndup(nul2 + 1, (gsize) (end - nul2 - 1));
    else
      g_clear_pointer(user, g_free);
  }
  memset(raw, 0, n);
  g_free(raw);
  return ok;
}
