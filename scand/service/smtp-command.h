/* The SMTP server's protocol as pure functions: a command line parsed into a
 * value (RFC 5321 section 4.1, with the ESMTP parameters scand offers: SIZE,
 * BODY=8BITMIME, AUTH=; RFC 1870, 6152, 4954), the address checks that keep
 * the listener from ever being a relay, and every reply built from one table
 * (RFC 3463 enhanced status codes). No I/O here: the session
 * (smtp-session.c) reads lines and writes what these functions build, and a
 * fuzzer (tests/fuzz/fuzz-smtp-command.c) drives them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Longest command line accepted (RFC 5321 4.5.3.1.4 says 512 octets; RFC
 * 4954 lets AUTH lines reach 12288). */
#define SCAND_SMTP_MAX_COMMAND_LINE 12288
/* RFC 5321 4.5.3.1: local part 64, domain 255, path 256 octets. */
#define SCAND_SMTP_MAX_LOCAL_PART 64
#define SCAND_SMTP_MAX_DOMAIN 255
#define SCAND_SMTP_MAX_PATH 256

typedef enum {
  SCAND_SMTP_HELO,
  SCAND_SMTP_EHLO,
  SCAND_SMTP_MAIL,
  SCAND_SMTP_RCPT,
  SCAND_SMTP_DATA,
  SCAND_SMTP_RSET,
  SCAND_SMTP_NOOP,
  SCAND_SMTP_QUIT,
  SCAND_SMTP_VRFY,
  SCAND_SMTP_EXPN,
  SCAND_SMTP_HELP,
  SCAND_SMTP_STARTTLS,
  SCAND_SMTP_AUTH,
  SCAND_SMTP_BDAT, /* known, not offered: refused with 502 */
  SCAND_SMTP_TURN, /* known, not offered: refused with 502 */
} ScandSmtpVerb;

/* Every reply the server sends, one row each in smtp-command.c. */
typedef enum {
  SCAND_SMTP_R_GREETING,        /* 220, arg: host name */
  SCAND_SMTP_R_BYE,             /* 221 2.0.0 */
  SCAND_SMTP_R_HELO,            /* 250, arg: host name */
  SCAND_SMTP_R_OK,              /* 250 2.0.0 */
  SCAND_SMTP_R_SENDER_OK,       /* 250 2.1.0, arg: address */
  SCAND_SMTP_R_RCPT_OK,         /* 250 2.1.5, arg: address */
  SCAND_SMTP_R_QUEUED,          /* 250 2.0.0, arg: queue id */
  SCAND_SMTP_R_DUPLICATE,       /* 250 2.0.0, arg: queue id of the first copy */
  SCAND_SMTP_R_VRFY,            /* 252 2.1.5 */
  SCAND_SMTP_R_HELP,            /* 214 2.0.0 */
  SCAND_SMTP_R_TLS_GO,          /* 220 2.0.0 */
  SCAND_SMTP_R_AUTH_OK,         /* 235 2.7.0 */
  SCAND_SMTP_R_AUTH_CHALLENGE,  /* 334, arg: base64 challenge */
  SCAND_SMTP_R_DATA_GO,         /* 354 */
  SCAND_SMTP_R_TIMEOUT,         /* 421 4.4.2, arg: what timed out */
  SCAND_SMTP_R_TOO_MANY_CONN,   /* 421 4.7.0, arg: client address */
  SCAND_SMTP_R_SHUTDOWN,        /* 421 4.3.2 */
  SCAND_SMTP_R_TOO_MANY_ERRORS, /* 421 4.7.0 */
  SCAND_SMTP_R_LOCAL_ERROR,     /* 451 4.3.0 */
  SCAND_SMTP_R_NO_SPACE,        /* 452 4.3.1 */
  SCAND_SMTP_R_TOO_MANY_RCPT,   /* 452 4.5.3, arg: the limit */
  SCAND_SMTP_R_TLS_UNAVAILABLE, /* 454 4.7.0 */
  SCAND_SMTP_R_LINE_TOO_LONG,   /* 500 5.5.2 */
  SCAND_SMTP_R_UNKNOWN,         /* 500 5.5.2 */
  SCAND_SMTP_R_AUTH_LINE_LONG,  /* 500 5.5.6 */
  SCAND_SMTP_R_SYNTAX,          /* 501 5.5.4, arg: what is wrong */
  SCAND_SMTP_R_AUTH_CANCELLED,  /* 501 5.0.0 */
  SCAND_SMTP_R_AUTH_BAD_BASE64, /* 501 5.5.2 */
  SCAND_SMTP_R_NOT_IMPLEMENTED, /* 502 5.5.1, arg: the command */
  SCAND_SMTP_R_BAD_SEQUENCE,    /* 503 5.5.1, arg: what must come first */
  SCAND_SMTP_R_AUTH_MECHANISM,  /* 504 5.5.4 */
  SCAND_SMTP_R_TLS_REQUIRED,    /* 530 5.7.0 */
  SCAND_SMTP_R_AUTH_REQUIRED,   /* 530 5.7.0 */
  SCAND_SMTP_R_AUTH_FAILED,     /* 535 5.7.8 */
  SCAND_SMTP_R_AUTH_NEEDS_TLS,  /* 538 5.7.11 */
  SCAND_SMTP_R_RELAY_DENIED,    /* 550 5.7.1, arg: address */
  SCAND_SMTP_R_SENDER_DENIED,   /* 550 5.7.1, arg: address */
  SCAND_SMTP_R_NO_ATTACHMENT,   /* 550 5.6.0, arg: why */
  SCAND_SMTP_R_MESSAGE_REFUSED, /* 554 5.6.0, arg: why */
  SCAND_SMTP_R_TOO_BIG,         /* 552 5.3.4, arg: the limit in bytes */
  SCAND_SMTP_R_BAD_ADDRESS,     /* 553 5.1.3, arg: why */
  SCAND_SMTP_R_ACCESS_DENIED,   /* 554 5.7.1, arg: client address */
  SCAND_SMTP_R_NO_RECIPIENTS,   /* 554 5.5.1 */
  SCAND_SMTP_R_PARAM_UNKNOWN,   /* 555 5.5.4, arg: the parameter */
  SCAND_SMTP_R_TLS_IN_TLS,      /* 503 5.5.1 */
} ScandSmtpReplyKind;

/* One parsed command line. Strings are owned by the value
 * (scand_smtp_command_clear() frees them). */
typedef struct {
  ScandSmtpVerb verb;
  char *domain;    /* HELO, EHLO: what the client calls itself */
  char *address;   /* MAIL: reverse path ("" for <>); RCPT: forward path; lower case domain */
  gint64 size;     /* MAIL SIZE=, -1 when absent */
  gboolean body8;  /* MAIL BODY=8BITMIME */
  char *mechanism; /* AUTH: upper case */
  char *initial;   /* AUTH initial response (base64 text, "=" for empty), NULL if none */
} ScandSmtpCommand;

/* A refusal: which reply, with its argument (owned). */
typedef struct {
  ScandSmtpReplyKind kind;
  char *arg;
} ScandSmtpRefusal;

/* Parses one command line (without its CR LF; any bytes, any length). On
 * success fills cmd and returns TRUE; otherwise fills refusal with the reply
 * the client gets. Either way the caller clears what was filled. Addresses
 * that could make a relay (source routes, '%' or '!' in the local part,
 * quoted local parts, non-ASCII) are refused here, before any policy. */
gboolean scand_smtp_command_parse(const char *line, gsize len, ScandSmtpCommand *cmd, ScandSmtpRefusal *refusal);
void scand_smtp_command_clear(ScandSmtpCommand *cmd);
void scand_smtp_refusal_clear(ScandSmtpRefusal *refusal);

/* The name of a verb ("MAIL"). */
const char *scand_smtp_verb_name(ScandSmtpVerb verb);

/* Checks an address (local@domain, no angle brackets) as scand accepts it:
 * dot-atom local part without '%' or '!', a domain or an address literal,
 * ASCII, within the RFC 5321 lengths. FALSE with *why (newly allocated). */
gboolean scand_smtp_address_check(const char *address, char **why);

/* What a client sent, safe for a reply or a log line: printable ASCII only
 * (anything else becomes '?'), at most 200 characters. Newly allocated. */
char *scand_smtp_printable(const char *text);

/* The reply line(s) for kind, CR LF terminated, newly allocated. arg is
 * made printable ASCII and cut to 200 characters before it is used. */
char *scand_smtp_reply_build(ScandSmtpReplyKind kind, const char *arg);
/* The three-digit code of a reply kind. */
guint scand_smtp_reply_code(ScandSmtpReplyKind kind);

/* What the server offers after EHLO. */
typedef struct {
  const char *host;   /* our name */
  const char *client; /* what the client called itself */
  guint64 max_size;   /* SIZE; 0 = no limit announced */
  gboolean starttls;  /* STARTTLS offered (TLS configured, not yet active) */
  gboolean auth;      /* AUTH PLAIN LOGIN offered */
} ScandSmtpFeatures;

/* The multi-line 250 reply to EHLO, newly allocated. */
char *scand_smtp_reply_ehlo(const ScandSmtpFeatures *features);

/* AUTH PLAIN: decodes the base64 initial response "authzid\0authcid\0passwd".
 * The authorisation identity must be empty or the user itself. TRUE with
 * *user and *password newly allocated (the caller clears the password). */
gboolean scand_smtp_auth_plain_decode(const char *base64, char **user, char **password);
/* Decodes one base64 line of an AUTH exchange into a NUL-free string; FALSE
 * on bad base64 or an embedded NUL. */
gboolean scand_smtp_auth_decode_line(const char *base64, char **out);

G_END_DECLS
