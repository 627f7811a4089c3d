/* The SMTP command parser and reply table: one row a line a client may send,
 * with the verb and address it parses to or the reply code it gets. */
#include <glib.h>
#include <string.h>

#include "scand/service/smtp-command.h"

typedef struct {
  const char *line;
  int verb;            /* -1: refused */
  const char *address; /* expected address (MAIL/RCPT), or domain (HELO/EHLO) */
  guint code;          /* reply code of a refusal */
} Row;

static const Row rows[] = {
  { "EHLO copier.example", SCAND_SMTP_EHLO, "copier.example", 0 },
  { "helo KM-C308", SCAND_SMTP_HELO, "KM-C308", 0 },
  { "EHLO", -1, NULL, 501 },
  { "MAIL FROM:<scanner@copier.example>", SCAND_SMTP_MAIL, "scanner@copier.example", 0 },
  { "mail from: <scanner@copier.example>", SCAND_SMTP_MAIL, "scanner@copier.example", 0 },
  { "MAIL FROM:scanner@copier.example", SCAND_SMTP_MAIL, "scanner@copier.example", 0 },
  { "MAIL FROM:<>", SCAND_SMTP_MAIL, "", 0 },
  { "MAIL FROM:<a@b.example> AUTH=<>", SCAND_SMTP_MAIL, "a@b.example", 0 },
  { "MAIL FROM:<a@b.example> SMTPUTF8", -1, NULL, 555 },
  { "MAIL FROM:<a@b.example> SIZE=x", -1, NULL, 501 },
  { "MAIL TO:<a@b.example>", -1, NULL, 501 },
  { "RCPT TO:<finance@scan.example>", SCAND_SMTP_RCPT, "finance@scan.example", 0 },
  { "RCPT TO:<Postmaster>", SCAND_SMTP_RCPT, "postmaster", 0 },
  { "RCPT TO:<a@[192.0.2.1]>", SCAND_SMTP_RCPT, "a@[192.0.2.1]", 0 },
  { "RCPT TO:<a@[IPv6:2001:db8::1]>", SCAND_SMTP_RCPT, "a@[IPv6:2001:db8::1]", 0 },
  /* the relay tricks: refused by the parser whatever the policy says */
  { "RCPT TO:<user%external.example@scan.example>", -1, NULL, 553 },
  { "RCPT TO:<\"user@external.example\"@scan.example>", -1, NULL, 553 },
  { "RCPT TO:<@scan.example:user@external.example>", -1, NULL, 553 },
  { "RCPT TO:<@a.example,@b.example:user@c.example>", -1, NULL, 553 },
  { "RCPT TO:<external.example!user@scan.example>", -1, NULL, 553 },
  { "RCPT TO:<external!user>", -1, NULL, 553 },
  { "RCPT TO:<user@external.example@scan.example>", -1, NULL, 553 },
  { "RCPT TO:<j\xc3\xbcrgen@scan.example>", -1, NULL, 553 },
  { "RCPT TO:<a..b@scan.example>", -1, NULL, 553 },
  { "RCPT TO:<.a@scan.example>", -1, NULL, 553 },
  { "RCPT TO:<a@-scan.example>", -1, NULL, 553 },
  { "RCPT TO:<a@[999.1.1.1]>", -1, NULL, 553 },
  { "RCPT TO:<a@scan.example> NOTIFY=NEVER", -1, NULL, 555 },
  { "RCPT TO:<>", -1, NULL, 501 },
  { "RCPT TO:<a@scan.example", -1, NULL, 501 },
  { "RCPT TO:<a@scan.example>x", -1, NULL, 501 },
  { "DATA", SCAND_SMTP_DATA, NULL, 0 },
  { "DATA now", -1, NULL, 501 },
  { "QUIT  ", SCAND_SMTP_QUIT, NULL, 0 },
  { "STARTTLS", SCAND_SMTP_STARTTLS, NULL, 0 },
  { "VRFY root", SCAND_SMTP_VRFY, NULL, 0 },
  { "AUTH PLAIN !!!!", -1, NULL, 501 },
  { "AUTH", -1, NULL, 501 },
  { "XCLIENT ADDR=1.2.3.4", -1, NULL, 500 },
  { "MAIL FROM:<a@b>\rRCPT TO:<c@d>", -1, NULL, 501 },
};

static void test_command_table(void) {
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    ScandSmtpCommand cmd;
    ScandSmtpRefusal refusal = { 0 };
    gboolean ok = scand_smtp_command_parse(rows[i].line, strlen(rows[i].line), &cmd, &refusal);
    if (rows[i].verb < 0) {
      if (ok)
        g_error("\"%s\" parsed, expected refusal %u", rows[i].line, rows[i].code);
      g_assert_cmpuint(scand_smtp_reply_code(refusal.kind), ==, rows[i].code);
    } else {
      if (!ok)
        g_error("\"%s\" refused with %u (%s)", rows[i].line, scand_smtp_reply_code(refusal.kind), refusal.arg);
      g_assert_cmpint(cmd.verb, ==, rows[i].verb);
      const char *got = cmd.verb == SCAND_SMTP_HELO || cmd.verb == SCAND_SMTP_EHLO ? cmd.domain : cmd.address;
      g_assert_cmpstr(got, ==, rows[i].address);
    }
    scand_smtp_command_clear(&cmd);
    scand_smtp_refusal_clear(&refusal);
  }
}

static void test_mail_parameters(void) {
  ScandSmtpCommand cmd;
  ScandSmtpRefusal refusal = { 0 };
  const char *line = "MAIL FROM:<s@copier.example> SIZE=41943040 BODY=8BITMIME";
  g_assert_true(scand_smtp_command_parse(line, strlen(line), &cmd, &refusal));
  g_assert_cmpint(cmd.size, ==, 41943040);
  g_assert_true(cmd.body8);
  scand_smtp_command_clear(&cmd);
  line = "MAIL FROM:<s@copier.example>";
  g_assert_true(scand_smtp_command_parse(line, strlen(line), &cmd, &refusal));
  g_assert_cmpint(cmd.size, ==, -1);
  g_assert_false(cmd.body8);
  scand_smtp_command_clear(&cmd);
}

static void test_line_limits(void) {
  ScandSmtpCommand cmd;
  ScandSmtpRefusal refusal = { 0 };
  gsize n = SCAND_SMTP_MAX_COMMAND_LINE + 1;
  g_autofree char *line = g_malloc(n);
  memset(line, 'A', n);
  g_assert_false(scand_smtp_command_parse(line, n, &cmd, &refusal));
  g_assert_cmpuint(scand_smtp_reply_code(refusal.kind), ==, 500);
  scand_smtp_refusal_clear(&refusal);
  /* an embedded NUL is refused, not read as the end of the line */
  g_assert_false(scand_smtp_command_parse("QUIT\0RSET", 9, &cmd, &refusal));
  scand_smtp_refusal_clear(&refusal);
}

static void test_replies(void) {
  g_autofree char *relay = scand_smtp_reply_build(SCAND_SMTP_R_RELAY_DENIED, "evil@x\r\n250 ok");
  g_assert_cmpstr(relay, ==, "550 5.7.1 <evil@x??250 ok>: relay access denied\r\n");
  g_autofree char *greeting = scand_smtp_reply_build(SCAND_SMTP_R_GREETING, "scand.test");
  g_assert_cmpstr(greeting, ==, "220 scand.test ESMTP scand\r\n");
  ScandSmtpFeatures f = { .host = "scand.test", .client = "mfp", .max_size = 1000, .starttls = TRUE, .auth = FALSE };
  g_autofree char *ehlo = scand_smtp_reply_ehlo(&f);
  g_assert_cmpstr(ehlo, ==,
                  "250-scand.test greets mfp\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n"
                  "250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n");
  f.starttls = FALSE;
  f.auth = TRUE;
  g_autofree char *ehlo_tls = scand_smtp_reply_ehlo(&f);
  g_assert_true(g_str_has_suffix(ehlo_tls, "250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n"));
  g_autofree char *long_arg = g_strnfill(1000, 'x');
  g_autofree char *cut = scand_smtp_reply_build(SCAND_SMTP_R_SYNTAX, long_arg);
  g_assert_cmpuint(strlen(cut), <, 230);
}

static void test_auth_plain(void) {
  g_autofree char *user = NULL, *password = NULL;
  /* "\0copier\0s3cret" */
  g_assert_true(scand_smtp_auth_plain_decode("AGNvcGllcgBzM2NyZXQ=", &user, &password));
  g_assert_cmpstr(user, ==, "copier");
  g_assert_cmpstr(password, ==, "s3cret");
  g_clear_pointer(&user, g_free);
  g_clear_pointer(&password, g_free);
  /* "other\0copier\0s3cret": acting for someone else is refused */
  g_assert_false(scand_smtp_auth_plain_decode("b3RoZXIAY29waWVyAHMzY3JldA==", &user, &password));
  g_assert_null(user);
  /* "copier\0copier\0s3cret": acting as oneself is fine */
  g_assert_true(scand_smtp_auth_plain_decode("Y29waWVyAGNvcGllcgBzM2NyZXQ=", &user, &password));
  g_clear_pointer(&user, g_free);
  g_clear_pointer(&password, g_free);
  /* "\0copier\0" (no password) and "\0copier\0a\0b" */
  g_assert_false(scand_smtp_auth_plain_decode("AGNvcGllcgA=", &user, &password));
  g_assert_false(scand_smtp_auth_plain_decode("AGNvcGllcgBhAGI=", &user, &password));
  g_autofree char *line = NULL;
  g_assert_true(scand_smtp_auth_decode_line("Y29waWVy", &line));
  g_assert_cmpstr(line, ==, "copier");
  g_clear_pointer(&line, g_free);
  g_assert_false(scand_smtp_auth_decode_line("AGI=", &line)); /* "\0b" */
  g_assert_false(scand_smtp_auth_decode_line("abc", &line));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/smtp-command/table", test_command_table);
  g_test_add_func("/smtp-command/mail-parameters", test_mail_parameters);
  g_test_add_func("/smtp-command/line-limits", test_line_limits);
  g_test_add_func("/smtp-command/replies", test_replies);
  g_test_add_func("/smtp-command/auth-plain", test_auth_plain);
  return g_test_run();
}
