/* The web page's accounts file: one "user:hash" line per person, the hash a
 * crypt(3) string of libxcrypt (yescrypt "$y$…" as written by `scand web
 * passwd`, or argon2id "$argon2id$…" where libxcrypt has it; nothing weaker
 * is accepted). The file is a secret: only its owner may read it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Largest accounts file read. */
#define SCAND_WEB_ACCOUNTS_MAX (64 * 1024) /* as any secret file (scand/base/secret.h) */
/* Longest user name and password accepted. */
#define SCAND_WEB_USER_MAX 64
#define SCAND_WEB_PASSWORD_MAX 1024

/* Whether user is a name an accounts file can hold: 1 to 64 bytes of
 * letters, digits, '.', '_', '-' and '@', not starting with '-'. */
gboolean scand_web_user_valid(const char *user);

/* The hash of user in the accounts file text (data, len bytes), newly
 * allocated; NULL with SCAND_ERROR_NOT_FOUND when there is no such user, or
 * SCAND_ERROR_INVAL naming the line that is malformed (a line that is not
 * "user:hash", a user repeated, a hash of a kind not accepted). Blank lines
 * and lines starting with '#' are skipped. Pure. */
char *scand_web_accounts_lookup(const char *data, gsize len, const char *user, GError **error);

/* Checks the whole accounts text: FALSE with the first problem. Pure. */
gboolean scand_web_accounts_check(const char *data, gsize len, GError **error);

/* The accounts text with user's line set to hash (replaced where it was,
 * else appended), comments and other lines kept. Newly allocated. Pure. */
char *scand_web_accounts_set(const char *data, gsize len, const char *user, const char *hash, GError **error);

/* A new yescrypt hash of password (crypt_gensalt with the system's random
 * bytes). Newly allocated. */
char *scand_web_password_hash(const char *password, GError **error);

/* Whether password matches hash (a yescrypt or argon2id crypt string).
 * Takes tens of milliseconds by design: call it off the main thread. */
gboolean scand_web_password_verify(const char *password, const char *hash);

G_END_DECLS
