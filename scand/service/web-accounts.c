/* The accounts file of the web page: "user:hash" lines, hashes by libxcrypt. */
#include "scand/service/web-accounts.h"
#include "scand/base/error.h"

#include <crypt.h>
#include <string.h>

gboolean scand_web_user_valid(const char *user) {
  gsize n = user ? strlen(user) : 0;
  if (n == 0 || n > SCAND_WEB_USER_MAX || user[0] == '-')
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum(user[i]) && !strchr("._-@", user[i]))
      return FALSE;
  return TRUE;
}

/* Whether a yescrypt string has its whole shape, $y$PARAMS$SALT$HASH with
 * each part in crypt's alphabet and a 43-character hash: crypt_checksalt()
 * looks at the prefix only, and a truncated line would otherwise be taken
 * and then match no password. */
static gboolean yescrypt_shape_ok(const char *hash) {
  g_auto(GStrv) part = g_strsplit(hash, "$", -1);
  if (g_strv_length(part) != 5 || strlen(part[4]) != 43)
    return FALSE;
  for (guint i = 2; i < 5; i++) {
    if (!*part[i])
      return FALSE;
    for (const char *c = part[i]; *c; c++)
      if (!g_ascii_isalnum(*c) && *c != '.' && *c != '/')
        return FALSE;
  }
  return TRUE;
}

/* Whether hash is a crypt string of a kind accepted: yescrypt or argon2id,
 * and one this system's libxcrypt computes. */
static gboolean hash_kind_ok(const char *hash, GError **error) {
  if (!g_str_has_prefix(hash, "$y$") && !g_str_has_prefix(hash, "$argon2id$")) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "the hash is not yescrypt ($y$…) or argon2id ($argon2id$…): write it with scand web passwd");
    return FALSE;
  }
  if (crypt_checksalt(hash) != CRYPT_SALT_OK || (g_str_has_prefix(hash, "$y$") && !yescrypt_shape_ok(hash))) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "this system's libxcrypt cannot check that hash (malformed, or a method it lacks): write it "
                "with scand web passwd");
    return FALSE;
  }
  return TRUE;
}

/* Calls func for each account line; stops at the first problem. */
typedef gboolean (*LineFunc)(const char *user, const char *hash, guint line, gpointer data);

static gboolean for_each_line(const char *data, gsize len, LineFunc func, gpointer fdata, GError **error) {
  if (len > SCAND_WEB_ACCOUNTS_MAX) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "larger than %u bytes", SCAND_WEB_ACCOUNTS_MAX);
    return FALSE;
  }
  if (memchr(data, '\0', len)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "holds a NUL byte: not an accounts file");
    return FALSE;
  }
  g_autofree char *text = g_strndup(data, len);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; lines[i]; i++) {
    char *line = lines[i];
    gsize n = strlen(line);
    if (n && line[n - 1] == '\r')
      line[n - 1] = '\0';
    if (!*line || line[0] == '#')
      continue;
    char *colon = strchr(line, ':');
    if (!colon) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "line %u: not user:hash", i + 1);
      return FALSE;
    }
    *colon = '\0';
    const char *hash = colon + 1;
    if (!scand_web_user_valid(line)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                  "line %u: not a user name (1 to %u letters, digits, '.', '_', '-', '@')", i + 1, SCAND_WEB_USER_MAX);
      return FALSE;
    }
    if (!g_hash_table_add(seen, line)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "line %u: user %s is there twice", i + 1, line);
      return FALSE;
    }
    g_autoptr(GError) bad = NULL;
    if (!hash_kind_ok(hash, &bad)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "line %u (user %s): %s", i + 1, line, bad->message);
      return FALSE;
    }
    if (func && !func(line, hash, i + 1, fdata))
      return TRUE;
  }
  return TRUE;
}

typedef struct {
  const char *user;
  char *hash;
} Lookup;

/* The whole file is read even after the user's line: a file with a bad line
 * anywhere is refused as a whole, never half used. */
static gboolean lookup_line(const char *user, const char *hash, guint line, gpointer data) {
  Lookup *l = data;
  if (strcmp(user, l->user) == 0)
    l->hash = g_strdup(hash);
  return TRUE;
}

char *scand_web_accounts_lookup(const char *data, gsize len, const char *user, GError **error) {
  Lookup l = { .user = user };
  if (!for_each_line(data, len, lookup_line, &l, error)) {
    g_free(l.hash);
    return NULL;
  }
  if (!l.hash)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "no such user");
  return l.hash;
}

gboolean scand_web_accounts_check(const char *data, gsize len, GError **error) {
  return for_each_line(data, len, NULL, NULL, error);
}

char *scand_web_accounts_set(const char *data, gsize len, const char *user, const char *hash, GError **error) {
  if (!scand_web_user_valid(user)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "\"%s\" is not a user name (1 to %u letters, digits, '.', '_', '-', '@')", user, SCAND_WEB_USER_MAX);
    return NULL;
  }
  if (!hash_kind_ok(hash, error) || !scand_web_accounts_check(data, len, error))
    return NULL;
  g_autofree char *text = g_strndup(data, len);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  GString *out = g_string_new(NULL);
  gboolean replaced = FALSE;
  for (guint i = 0; lines[i]; i++) {
    if (!lines[i + 1] && !*lines[i])
      break; /* the text's final newline */
    gsize n = strlen(user);
    if (strncmp(lines[i], user, n) == 0 && lines[i][n] == ':') {
      g_string_append_printf(out, "%s:%s\n", user, hash);
      replaced = TRUE;
    } else {
      g_string_append_printf(out, "%s\n", lines[i]);
    }
  }
  if (!replaced)
    g_string_append_printf(out, "%s:%s\n", user, hash);
  return g_string_free(out, FALSE);
}

char *scand_web_password_hash(const char *password, GError **error) {
  if (!password || !*password || strlen(password) > SCAND_WEB_PASSWORD_MAX) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "a password is 1 to %u bytes", SCAND_WEB_PASSWORD_MAX);
    return NULL;
  }
  /* NULL random bytes: libxcrypt takes them from the system (getrandom). */
  char *salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
  if (!salt) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "libxcrypt cannot make a yescrypt salt: %s", g_strerror(errno));
    return NULL;
  }
  struct crypt_data *cd = g_new0(struct crypt_data, 1);
  const char *h = crypt_rn(password, salt, cd, sizeof *cd);
  char *out = h && h[0] != '*' ? g_strdup(h) : NULL;
  if (!out)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "libxcrypt cannot hash with yescrypt");
  explicit_bzero(cd, sizeof *cd);
  g_free(cd);
  free(salt);
  return out;
}

gboolean scand_web_password_verify(const char *password, const char *hash) {
  if (!password || !hash || strlen(password) > SCAND_WEB_PASSWORD_MAX || crypt_checksalt(hash) != CRYPT_SALT_OK)
    return FALSE;
  struct crypt_data *cd = g_new0(struct crypt_data, 1);
  const char *h = crypt_rn(password, hash, cd, sizeof *cd);
  gsize n = strlen(hash);
  /* Compare every byte whatever the first difference (no timing hint). */
  gboolean ok = h && h[0] != '*' && strlen(h) == n;
  guint8 diff = 0;
  for (gsize i = 0; ok && i < n; i++)
    diff |= (guint8) (h[i] ^ hash[i]);
  ok = ok && diff == 0;
  explicit_bzero(cd, sizeof *cd);
  g_free(cd);
  return ok;
}
