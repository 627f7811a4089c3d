/* Fuzzes the SMTP server's command parser and reply builder: every line a
 * client can send. Invariants: a parse either succeeds or names a reply; a
 * parsed MAIL/RCPT address passes the relay checks; every reply is one or
 * more "DDD[ -]…\r\n" lines of printable ASCII. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scand/service/smtp-command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(gboolean ok, const char *what, const char *text) {
  if (!ok) {
    fprintf(stderr, "fuzz-smtp-command: %s: \"%s\"\n", what, text ? text : "(null)");
    abort();
  }
}

/* A reply as RFC 5321 4.2 shapes it, with nothing a client sent that could
 * break the framing (CR, LF, NUL, non-ASCII). */
static void require_reply(const char *reply) {
  require(reply && *reply, "empty reply", reply);
  g_auto(GStrv) lines = g_strsplit(reply, "\r\n", -1);
  guint n = g_strv_length(lines);
  require(n >= 2 && *lines[n - 1] == '\0', "reply not CRLF terminated", reply);
  for (guint i = 0; i + 1 < n; i++) {
    const char *l = lines[i];
    require(strlen(l) >= 4 && g_ascii_isdigit(l[0]) && g_ascii_isdigit(l[1]) && g_ascii_isdigit(l[2]), "bad code", l);
    require(l[3] == (i + 2 < n ? '-' : ' '), "bad continuation mark", l);
    for (const char *p = l; *p; p++)
      require((guchar) *p >= 0x20 && (guchar) *p < 0x7f, "unprintable reply", l);
  }
}

static void check_address(const char *address, ScandSmtpVerb verb) {
  require(address != NULL, "MAIL/RCPT without an address", NULL);
  if (!*address) {
    require(verb == SCAND_SMTP_MAIL, "empty forward path", address);
    return;
  }
  if (strcmp(address, "postmaster") == 0)
    return;
  char *why = NULL;
  require(scand_smtp_address_check(address, &why), "parsed address fails the check", address);
  require(why == NULL, "why set on success", address);
  const char *at = strrchr(address, '@');
  require(at != NULL, "no @", address);
  for (const char *p = address; p < at; p++)
    require(*p != '%' && *p != '!' && *p != '"' && *p != '@', "relay character in the local part", address);
  require(address[0] != '@', "source route", address);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ScandSmtpCommand cmd;
  ScandSmtpRefusal refusal = { 0 };
  const char *line = (const char *) data;
  if (scand_smtp_command_parse(line, size, &cmd, &refusal)) {
    if (cmd.verb == SCAND_SMTP_MAIL || cmd.verb == SCAND_SMTP_RCPT)
      check_address(cmd.address, cmd.verb);
    if (cmd.verb == SCAND_SMTP_HELO || cmd.verb == SCAND_SMTP_EHLO)
      require(cmd.domain && *cmd.domain && !strchr(cmd.domain, ' '), "bad HELO domain", cmd.domain);
    if (cmd.verb == SCAND_SMTP_AUTH) {
      require(cmd.mechanism && *cmd.mechanism, "AUTH without mechanism", NULL);
      if (cmd.initial) {
        g_autofree char *user = NULL, *password = NULL, *decoded = NULL;
        if (scand_smtp_auth_plain_decode(cmd.initial, &user, &password))
          require(*user && *password, "PLAIN decoded an empty user or password", NULL);
        else
          require(!user && !password, "PLAIN failure leaks values", NULL);
        if (scand_smtp_auth_decode_line(cmd.initial, &decoded))
          require(decoded != NULL, "decoded line missing", NULL);
      }
    }
    g_autofree char *echo = scand_smtp_reply_build(SCAND_SMTP_R_RCPT_OK, cmd.address ? cmd.address : cmd.domain);
    require_reply(echo);
    ScandSmtpFeatures f = { .host = "scand.test", .client = cmd.domain ? cmd.domain : "x", .max_size = 1 };
    g_autofree char *ehlo = scand_smtp_reply_ehlo(&f);
    require_reply(ehlo);
  } else {
    require(scand_smtp_reply_code(refusal.kind) >= 400, "refusal with a success code", refusal.arg);
    g_autofree char *reply = scand_smtp_reply_build(refusal.kind, refusal.arg);
    require_reply(reply);
  }
  scand_smtp_command_clear(&cmd);
  scand_smtp_refusal_clear(&refusal);
  /* The input as an argument of every reply. */
  g_autofree char *arg = g_strndup(line, size);
  for (guint k = SCAND_SMTP_R_GREETING; k <= SCAND_SMTP_R_TLS_IN_TLS; k++) {
    g_autofree char *reply = scand_smtp_reply_build((ScandSmtpReplyKind) k, arg);
    require_reply(reply);
  }
  return 0;
}
