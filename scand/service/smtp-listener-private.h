/* What the SMTP listener (smtp-listener.c) hands each session
 * (smtp-session.c): the intake's policy, read once from the configuration,
 * and the session's clock that the listener's reaper watches. */
#pragma once

#include <gio/gio.h>
#include "scand/core/mail-spool.h"
#include "scand/service/smtp-listener.h"

G_BEGIN_DECLS

typedef struct {
  char *name;
  char *password;        /* from the account's password-file; cleared when freed */
  GPtrArray *allow_from; /* GInetAddressMask*; empty: anywhere */
} ScandSmtpAccount;

/* One [intake] section, immutable once built; sessions hold a reference so
 * that a reload never changes a session under way. */
typedef struct {
  gint ref_count;
  char *name;
  char *hostname;
  GTlsCertificate *certificate; /* NULL: no STARTTLS */
  gboolean require_tls;
  gboolean require_auth;
  gboolean cleartext_auth;
  GPtrArray *allow_from; /* GInetAddressMask* */
  GStrv accept_to;       /* lower-case globs */
  GStrv accept_from;     /* lower-case globs; empty: any sender */
  GPtrArray *accounts;   /* ScandSmtpAccount* */
  guint64 max_size;
  guint max_recipients;
  guint max_connections;
  guint max_connections_per_ip;
  guint max_line;
  gint64 timeout_us;
  gint64 data_timeout_us;
  gint64 idle_timeout_us;
  gint64 session_limit_us;
} ScandSmtpPolicy;

/* Builds the policy of [intake name], reading its secrets. Caller unrefs. */
ScandSmtpPolicy *scand_smtp_policy_new(ScandConfig *config, const char *name, GError **error);
ScandSmtpPolicy *scand_smtp_policy_ref(ScandSmtpPolicy *policy);
void scand_smtp_policy_unref(ScandSmtpPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandSmtpPolicy, scand_smtp_policy_unref)

/* Whether address is inside one of masks. */
gboolean scand_smtp_address_in(GInetAddress *address, GPtrArray *masks);

/* A session's clock: the listener's reaper cancels the current I/O of a
 * session whose deadline passed, or of every session when stopping. */
typedef struct {
  GMutex lock;
  GCancellable *cancellable; /* of the current I/O */
  gint64 deadline;           /* monotonic µs; 0 = none */
  const char *waiting_for;   /* what the deadline is for ("command", "data") */
  gboolean timed_out;
  gboolean stopping;
} ScandSmtpClock;

/* The connection a session serves, with what the listener knows. */
typedef struct {
  GSocketConnection *connection;
  char *client_ip; /* IPv4-mapped IPv6 addresses shown as IPv4 */
  GInetAddress *client_address;
  ScandSmtpPolicy *policy;
  ScandMailSpool *mail_spool;
  const ScandSmtpHooks *hooks;
  ScandSmtpClock clock;
} ScandSmtpPeer;

/* Serves one connection until QUIT, a timeout, an error or stop; blocking,
 * on its own thread. */
void scand_smtp_session_run(ScandSmtpPeer *peer);

G_END_DECLS
