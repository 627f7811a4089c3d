/* SMB share output (libsmbclient).
 *
 * A delivery uploads the spool file under a hidden temporary name in the
 * target directory (".scand-<job>-<output>.part", the same on every attempt),
 * then renames it to the first free name among "scan.pdf", "scan-2.pdf", … .
 * The chosen name is recorded durably (state "target") before the rename, so
 * an attempt after a crash either finishes the rename, or finds the renamed
 * file with the right size and reports done; it never writes a second copy.
 *
 * libsmbclient keeps part of its configuration process-wide (the loadparm
 * tables that smbc_setOptionProtocols() writes, logging, the count of live
 * contexts that decides when the module is torn down) and Debian's build
 * exports no smbc_thread_posix() to lock them, so SMB deliveries in one process
 * take turns: each runs with its own context under smb_lock. */
#include "outputs/smb-private.h"
#include "outputs/dl-smbclient.h"
#include "outputs/output-private.h"
#include "scand/base/error.h"
#include "scand/base/fault.h"
#include "scand/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libsmbclient.h>

#define SMB_CHUNK (1024 * 1024) /* bytes per write: memory stays flat */
#define SMB_DEFAULT_TIMEOUT 30  /* seconds, per request */
#define SMB_MAX_SUFFIX 10000

static GMutex smb_lock;

static const ScandConfigKey smb_keys[] = {
  { "url", SCAND_KEY_URL },
  { "username", SCAND_KEY_STRING },
  { "domain", SCAND_KEY_STRING },
  { "password-file", SCAND_KEY_SECRET_FILE },
  { "min-protocol", SCAND_KEY_ENUM, "SMB2|SMB3" },
  { "encrypt", SCAND_KEY_BOOL },
  { "sign", SCAND_KEY_BOOL },
  { "timeout", SCAND_KEY_DURATION },
  { NULL },
};

/* ---- pure parts ---------------------------------------------------------- */

void scand_smb_url_free(ScandSmbUrl *url) {
  if (!url)
    return;
  g_free(url->host);
  g_free(url->share);
  g_free(url->dir);
  g_free(url);
}

/* Whether the path of the URL text has a "." or ".." segment, escaped or not. */
static gboolean has_dot_segment(const char *text) {
  const char *after = strstr(text, "://");
  const char *path = after ? strchr(after + 3, '/') : NULL;
  if (!path)
    return FALSE;
  g_auto(GStrv) raw_segs = g_strsplit(path, "/", -1);
  for (guint i = 0; raw_segs[i]; i++) {
    g_autofree char *seg = g_uri_unescape_string(raw_segs[i], NULL);
    if (seg && (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0))
      return TRUE;
  }
  return FALSE;
}

/* Names (DNS or NetBIOS) and IP literals only: anything else would change the
 * meaning of the libsmbclient URL built from it. */
static gboolean host_name_valid(const char *host) {
  gboolean v6 = strchr(host, ':') != NULL;
  for (const char *p = host; *p; p++) {
    gboolean zone = v6 && strchr(host, '%') && p > strchr(host, '%');
    if (!(g_ascii_isalnum(*p) || *p == '-' || *p == '.' || (!v6 && *p == '_') || (v6 && *p == ':') ||
          (v6 && *p == '%' && !zone) || (zone && *p == '_')))
      return FALSE;
  }
  return TRUE;
}

/* The unescaped, non-empty segments of an encoded path (the share first);
 * NULL with error for one SMB cannot name (shown names the URL). */
static GPtrArray *path_segments(const char *path, const char *shown, GError **error) {
  g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) raw = g_strsplit(path, "/", -1);
  for (guint i = 0; raw[i]; i++) {
    if (!*raw[i])
      continue;
    g_autofree char *seg = g_uri_unescape_string(raw[i], "/");
    if (!seg) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "'%s' has an invalid path segment '%s'", shown, raw[i]);
      return NULL;
    }
    /* Characters SMB gives a meaning to (see scand_smb_safe_name()). */
    gboolean special = FALSE;
    for (const char *p = seg; *p; p++)
      special |= (guchar) *p < 0x20 || *p == 0x7f || strchr("\\:*?\"<>|", *p) != NULL;
    if (special || strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "'%s' has a path segment that is not allowed", shown);
      return NULL;
    }
    g_ptr_array_add(segs, g_steal_pointer(&seg));
  }
  return g_steal_pointer(&segs);
}

ScandSmbUrl *scand_smb_url_parse(const char *text, GError **error) {
  static const char expect[] = "expected smb://host[:port]/share[/path]";
  /* Never echo a URL that may carry a password. */
  const char *shown = !text ? "" : strchr(text, '@') ? "the URL" : text;
  g_autoptr(GError) local = NULL;
  g_autoptr(GUri) uri = g_uri_parse(text ? text : "", G_URI_FLAGS_ENCODED_PATH | G_URI_FLAGS_NON_DNS, &local);
  if (!uri) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "'%s' is not a URL", shown);
    return NULL;
  }
  if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "smb") != 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "'%s' is not an smb:// URL: %s", shown, expect);
    return NULL;
  }
  if (g_uri_get_userinfo(uri)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "the URL must not contain a user name or password: use username = and password-file =");
    return NULL;
  }
  if (g_uri_get_query(uri) || g_uri_get_fragment(uri)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "'%s' has a query or fragment: %s", shown, expect);
    return NULL;
  }
  /* GUri resolves "." and ".." segments; refuse them instead of guessing. */
  if (has_dot_segment(text)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "'%s' has a '.' or '..' path segment", shown);
    return NULL;
  }
  const char *host = g_uri_get_host(uri);
  if (!host || !*host) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "'%s' has no host: %s", shown, expect);
    return NULL;
  }
  if (!host_name_valid(host)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "'%s' has an invalid host name", shown);
    return NULL;
  }
  int port = g_uri_get_port(uri);
  if (port == 0 || port > 65535) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "'%s' has an invalid port", shown);
    return NULL;
  }

  g_autoptr(GPtrArray) segs = path_segments(g_uri_get_path(uri), shown, error);
  if (!segs)
    return NULL;
  if (segs->len == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "'%s' names no share: %s", shown, expect);
    return NULL;
  }

  ScandSmbUrl *url = g_new0(ScandSmbUrl, 1);
  /* GUri keeps IPv6 literals without brackets. */
  url->host = g_strdup(host);
  url->port = port < 0 ? 0 : (guint16) port;
  url->share = g_strdup(segs->pdata[0]);
  g_ptr_array_add(segs, NULL);
  url->dir = g_strjoinv("/", (char **) segs->pdata + 1);
  return url;
}

static char *smb_host_port(const ScandSmbUrl *url) {
  gboolean v6 = strchr(url->host, ':') != NULL;
  if (url->port)
    return g_strdup_printf(v6 ? "[%s]:%u" : "%s:%u", url->host, url->port);
  return g_strdup_printf(v6 ? "[%s]" : "%s", url->host);
}

char *scand_smb_url_display(const ScandSmbUrl *url) {
  g_autofree char *hp = smb_host_port(url);
  return g_strdup_printf("smb://%s/%s%s%s", hp, url->share, *url->dir ? "/" : "", url->dir);
}

static void smb_append_escaped(GString *s, const char *path) {
  g_auto(GStrv) segs = g_strsplit(path, "/", -1);
  for (guint i = 0; segs[i]; i++) {
    if (!*segs[i])
      continue;
    g_string_append_c(s, '/');
    g_string_append_uri_escaped(s, segs[i], NULL, FALSE);
  }
}

char *scand_smb_url_for(const ScandSmbUrl *url, const char *path) {
  GString *s = g_string_new("smb://");
  if (strchr(url->host, ':')) {
    /* libsmbclient refuses "[::1]" but resolves the Windows UNC spelling of
     * an IPv6 literal: ':' → '-', '%' (zone) → 's', ".ipv6-literal.net". */
    if (url->host[0] == ':')
      g_string_append_c(s, '0');
    for (const char *p = url->host; *p; p++)
      g_string_append_c(s, *p == ':' ? '-' : *p == '%' ? 's' : *p);
    if (s->str[s->len - 1] == '-')
      g_string_append_c(s, '0');
    g_string_append(s, ".ipv6-literal.net");
  } else {
    g_string_append(s, url->host);
  }
  smb_append_escaped(s, url->share);
  smb_append_escaped(s, path ? path : "");
  return g_string_free(s, FALSE);
}

char *scand_smb_name_with_suffix(const char *name, guint n) {
  if (n <= 1)
    return g_strdup(name);
  const char *dot = strrchr(name, '.');
  /* A leading dot starts a hidden name, not an extension. */
  if (!dot || dot == name)
    return g_strdup_printf("%s-%u", name, n);
  return g_strdup_printf("%.*s-%u%s", (int) (dot - name), name, n, dot);
}

char *scand_smb_safe_name(const char *name) {
  g_autofree char *s = g_strdup(name);
  for (char *p = s; *p; p++)
    if (strchr("\\:*?\"<>|", *p) || (guchar) *p < 0x20 || *p == 0x7f)
      *p = '_';
  return g_steal_pointer(&s);
}

char *scand_smb_temp_name(const char *job_id, const char *output_name) {
  /* Bounded, so that a long ad-hoc "--to smb://…" name still fits in 255 bytes. */
  g_autofree char *s =
      g_strdup_printf(".scand-%.64s-%.64s.part", job_id ? job_id : "job", output_name ? output_name : "smb");
  for (char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != '_')
      *p = '_';
  return g_steal_pointer(&s);
}

/* The failures worth another try whatever the stage (the network, a busy
 * file, a full share); NULL for the others. */
static char *classify_transient(int errsv, ScandSmbStage stage, const ScandSmbUrl *url, const char *hp,
                                const char *what, ScandDeliveryResult *result) {
  switch (errsv) {
    case ECONNRESET:
    case ECONNABORTED:
    case ENETRESET:
    case ESHUTDOWN:
    case EPIPE:
    case ENOTCONN:
      if (stage != SCAND_SMB_STAGE_CONNECT) {
        *result = SCAND_DELIVERY_RETRY;
        return g_strdup_printf("connection to server %s lost (%s) — will retry", hp, g_strerror(errsv));
      }
      /* fall through */
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case ETIMEDOUT:
    case EAGAIN:
    case ENOTSOCK:
    case EADDRNOTAVAIL:
      *result = SCAND_DELIVERY_RETRY;
      return g_strdup_printf("server %s not reachable (%s) — will retry", hp, g_strerror(errsv));
    case EBUSY:
    case ETXTBSY:
      *result = SCAND_DELIVERY_RETRY;
      return g_strdup_printf("'%s' is in use on the server (%s) — will retry", what, g_strerror(errsv));
    case ENOSPC:
    case EDQUOT:
      *result = SCAND_DELIVERY_RETRY;
      return g_strdup_printf("share '%s' is full (%s) — will retry", url->share, g_strerror(errsv));
    default:
      return NULL;
  }
}

/* A failure while connecting to the share (logon, share, dialect). */
static char *classify_connect(int errsv, const ScandSmbUrl *url, const char *username, const char *hp, const char *what,
                              ScandDeliveryResult *result) {
  switch (errsv) {
    case EPERM:
      /* libsmbclient reports a refused session setup as EPERM. */
      if (username && *username)
        return g_strdup_printf("wrong user name or password for user '%s'", username);
      return g_strdup("the server refused an anonymous logon: set username and password-file");
    case EACCES:
      if (username && *username)
        return g_strdup_printf("access to share '%s' denied for user '%s'", url->share, username);
      return g_strdup_printf("access to share '%s' denied to anonymous users", url->share);
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return g_strdup_printf("share '%s' does not exist on %s", url->share, hp);
    case EINVAL:
      /* libsmbclient's answer to a host it cannot resolve or parse as well. */
      return g_strdup_printf("cannot connect to %s: unknown host, or no SMB dialect in common (%s)", hp,
                             g_strerror(errsv));
    case ENOSYS:
    case ENOTSUP:
    case EPROTONOSUPPORT:
    case EPROTO:
      return g_strdup_printf("server %s does not offer the SMB dialect, signing or encryption required by "
                             "min-protocol, sign or encrypt (%s)",
                             hp, g_strerror(errsv));
    case ENOTDIR:
      return g_strdup_printf("'%s' on share '%s' is not a directory", what, url->share);
    case EIO:
      *result = SCAND_DELIVERY_RETRY;
      return g_strdup_printf("server %s failed (%s) — will retry", hp, g_strerror(errsv));
    default:
      return g_strdup_printf("cannot connect to share '%s' on %s: %s", url->share, hp, g_strerror(errsv));
  }
}

/* A failure while writing, renaming or making directories on the share. */
static char *classify_transfer(int errsv, ScandSmbStage stage, const char *what, ScandDeliveryResult *result) {
  switch (errsv) {
    case EACCES:
    case EPERM:
    case EROFS:
      return g_strdup_printf("permission denied on '%s' (%s)", what, g_strerror(errsv));
    case ENOTDIR:
    case EISDIR:
    case EEXIST:
      return g_strdup_printf("'%s' is in the way (%s)", what, g_strerror(errsv));
    case ENAMETOOLONG:
    case EILSEQ:
    case EINVAL:
      return g_strdup_printf("the server refused the name '%s' (%s)", what, g_strerror(errsv));
    case EFBIG:
      return g_strdup_printf("the file is too large for the share (%s)", g_strerror(errsv));
    case EIO:
      /* Dropped sessions surface as EIO from libsmbclient: worth another try. */
      *result = SCAND_DELIVERY_RETRY;
      return g_strdup_printf("I/O error on '%s' (%s) — will retry", what, g_strerror(errsv));
    default:
      return g_strdup_printf("%s '%s' failed: %s",
                             stage == SCAND_SMB_STAGE_MKDIR    ? "creating directory"
                             : stage == SCAND_SMB_STAGE_RENAME ? "renaming into"
                             : stage == SCAND_SMB_STAGE_STAT   ? "looking up"
                                                               : "writing",
                             what, g_strerror(errsv));
  }
}

char *scand_smb_classify(int errsv, ScandSmbStage stage, const ScandSmbUrl *url, const char *username, const char *path,
                         ScandDeliveryResult *result) {
  g_autofree char *hp = smb_host_port(url);
  const char *what = path && *path ? path : url->share;
  char *message = classify_transient(errsv, stage, url, hp, what, result);
  if (message)
    return message;
  *result = SCAND_DELIVERY_FAILED;
  if (stage == SCAND_SMB_STAGE_CONNECT)
    return classify_connect(errsv, url, username, hp, what, result);
  return classify_transfer(errsv, stage, what, result);
}

/* ---- one delivery -------------------------------------------------------- */

typedef struct {
  ScandDelivery *d;
  ScandSmbUrl *url;
  char *dest; /* "output NAME (smb://host/share/dir)", as the folder output says it */
  char *username;
  char *domain;
  char *password; /* cleared before it is freed */
  SMBCCTX *ctx;
  int last_errno; /* of the last classified failure */
} SmbJob;

static void smb_job_clear(SmbJob *job) {
  if (job->ctx)
    sym_smbc_free_context(job->ctx, TRUE);
  scand_smb_url_free(job->url);
  g_free(job->dest);
  g_free(job->username);
  g_free(job->domain);
  if (job->password) {
    explicit_bzero(job->password, strlen(job->password));
    g_free(job->password);
  }
}

static ScandDeliveryResult smb_fail(SmbJob *job, GError **error, ScandDeliveryResult result, const char *cause) {
  g_set_error(error, SCAND_ERROR, result == SCAND_DELIVERY_RETRY ? SCAND_ERROR_RETRY : SCAND_ERROR_FAILED, "%s: %s",
              job->dest, cause);
  return result;
}

/* Classifies errsv of a stage and sets error; returns RETRY or FAILED. */
static ScandDeliveryResult smb_errno(SmbJob *job, GError **error, int errsv, ScandSmbStage stage, const char *path) {
  ScandDeliveryResult result;
  g_autofree char *cause = scand_smb_classify(errsv, stage, job->url, job->username, path, &result);
  job->last_errno = errsv;
  return smb_fail(job, error, result, cause);
}

static void smb_auth(SMBCCTX *ctx, const char *srv, const char *shr, char *wg, int wglen, char *un, int unlen, char *pw,
                     int pwlen) {
  SmbJob *job = sym_smbc_getOptionUserData(ctx);
  g_strlcpy(wg, job->domain ? job->domain : "", wglen);
  g_strlcpy(un, job->username ? job->username : "", unlen);
  g_strlcpy(pw, job->password ? job->password : "", pwlen);
}

/* libsmbclient logs through Samba's debug system (stdout by default); library
 * code never prints, so its messages are dropped. */
static void smb_log_discard(void *private_ptr, int level, const char *msg) {
}

static gboolean smb_parse_bool(const char *text, gboolean def) {
  if (!text)
    return def;
  return g_ascii_strcasecmp(text, "true") == 0 || g_ascii_strcasecmp(text, "yes") == 0 ||
         g_ascii_strcasecmp(text, "on") == 0 || strcmp(text, "1") == 0;
}

/* Reads the output's settings into job; FALSE with error on bad configuration. */
static gboolean smb_job_setup(SmbJob *job, GError **error) {
  ScandDelivery *d = job->d;
  const char *output = scand_delivery_get_output_name(d);
  g_autoptr(GError) local = NULL;

  job->url = scand_smb_url_parse(scand_delivery_get_config(d, "url"), &local);
  if (!job->url) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output %s (smb): url: %s", output, local->message);
    return FALSE;
  }
  g_autofree char *shown = scand_smb_url_display(job->url);
  job->dest = g_strdup_printf("output %s (%s)", output, shown);
  job->username = g_strdup(scand_delivery_get_config(d, "username"));
  job->domain = g_strdup(scand_delivery_get_config(d, "domain"));
  if (scand_delivery_get_config(d, "password-file")) {
    job->password = scand_delivery_read_secret(d, "password-file", &local);
    if (!job->password) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: password-file: %s", job->dest, local->message);
      return FALSE;
    }
  } else if (job->username && *job->username) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: username is set but password-file is not", job->dest);
    return FALSE;
  }

  gint64 timeout = SMB_DEFAULT_TIMEOUT;
  const char *t = scand_delivery_get_config(d, "timeout");
  if (t && (!scand_config_parse_duration(t, &timeout) || timeout <= 0 || timeout > G_MAXINT / 1000)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: timeout: '%s' is not a duration", job->dest, t);
    return FALSE;
  }
  const char *min = scand_delivery_get_config(d, "min-protocol");
  if (min && g_ascii_strcasecmp(min, "SMB2") != 0 && g_ascii_strcasecmp(min, "SMB3") != 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: min-protocol: '%s' is not SMB2 or SMB3", job->dest, min);
    return FALSE;
  }
  gboolean encrypt = smb_parse_bool(scand_delivery_get_config(d, "encrypt"), FALSE);
  gboolean sign = smb_parse_bool(scand_delivery_get_config(d, "sign"), FALSE);

  job->ctx = sym_smbc_new_context();
  if (!job->ctx) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s: cannot create an SMB client context: %s", job->dest,
                g_strerror(errno));
    return FALSE;
  }
  sym_smbc_setLogCallback(job->ctx, NULL, smb_log_discard);
  sym_smbc_setDebug(job->ctx, 0);
  sym_smbc_setOptionUserData(job->ctx, job);
  sym_smbc_setFunctionAuthDataWithContext(job->ctx, smb_auth);
  if (job->username)
    sym_smbc_setUser(job->ctx, job->username);
  if (job->domain)
    sym_smbc_setWorkgroup(job->ctx, job->domain);
  sym_smbc_setPort(job->ctx, job->url->port);
  sym_smbc_setTimeout(job->ctx, (int) (timeout * 1000));
  /* Credentials come from the configuration only: no Kerberos ticket or
   * winbind cache of whoever runs scand, and a refused logon must not turn
   * into a guest session that writes somewhere else. */
  sym_smbc_setOptionUseKerberos(job->ctx, FALSE);
  sym_smbc_setOptionFallbackAfterKerberos(job->ctx, TRUE);
  sym_smbc_setOptionUseCCache(job->ctx, FALSE);
  sym_smbc_setOptionNoAutoAnonymousLogin(job->ctx, job->username && *job->username);
  sym_smbc_setOptionOneSharePerServer(job->ctx, TRUE);
  /* libsmbclient requires signing for every encryption level but NONE. */
  sym_smbc_setOptionSmbEncryptionLevel(job->ctx, encrypt ? SMBC_ENCRYPTLEVEL_REQUIRE
                                                 : sign  ? SMBC_ENCRYPTLEVEL_DEFAULT
                                                         : SMBC_ENCRYPTLEVEL_NONE);
  if (!sym_smbc_init_context(job->ctx)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s: cannot initialise the SMB client: %s", job->dest,
                g_strerror(errno));
    return FALSE;
  }
  /* After init: these write the process-wide loadparm that negotiation reads.
   * libsmbclient 4.17 asks for encryption at SMBC_ENCRYPTLEVEL_REQUIRE but
   * still connects when the server cannot encrypt (it only prints a warning),
   * so encrypt = true also insists on SMB3, the dialects that can. */
  gboolean smb3 = encrypt || (min && g_ascii_strcasecmp(min, "SMB3") == 0);
  sym_smbc_setOptionProtocols(job->ctx, smb3 ? "SMB3_00" : "SMB2_02", "SMB3");
  return TRUE;
}

/* stat() of a path inside the share; 0 or an errno. */
static int smb_stat(SmbJob *job, const char *path, struct stat *st) {
  g_autofree char *u = scand_smb_url_for(job->url, path);
  errno = 0;
  if (sym_smbc_getFunctionStat(job->ctx)(job->ctx, u, st) == 0)
    return 0;
  return errno ? errno : EIO;
}

/* Creates dir and its missing parents inside the share. */
static ScandDeliveryResult smb_mkdir_p(SmbJob *job, const char *dir, GError **error) {
  g_auto(GStrv) segs = g_strsplit(dir, "/", -1);
  g_autoptr(GString) path = g_string_new(NULL);
  for (guint i = 0; segs[i]; i++) {
    if (!*segs[i])
      continue;
    if (path->len)
      g_string_append_c(path, '/');
    g_string_append(path, segs[i]);
    g_autofree char *u = scand_smb_url_for(job->url, path->str);
    errno = 0;
    if (sym_smbc_getFunctionMkdir(job->ctx)(job->ctx, u, 0755) == 0)
      continue;
    int errsv = errno ? errno : EIO;
    struct stat st;
    if (errsv == EEXIST && smb_stat(job, path->str, &st) == 0 && S_ISDIR(st.st_mode))
      continue;
    return smb_errno(job, error, errsv, SCAND_SMB_STAGE_MKDIR, path->str);
  }
  return SCAND_DELIVERY_DONE;
}

/* Streams the local file (fd, size bytes) into temp, creating its directory
 * when it is missing. */
static ScandDeliveryResult smb_upload(SmbJob *job, int fd, goffset size, const char *dir, const char *temp,
                                      GError **error) {
  g_autofree char *u = scand_smb_url_for(job->url, temp);
  SMBCFILE *f = NULL;
  for (int attempt = 0; !f; attempt++) {
    errno = 0;
    f = sym_smbc_getFunctionOpen(job->ctx)(job->ctx, u, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (f)
      break;
    int errsv = errno ? errno : EIO;
    if (errsv != ENOENT || attempt > 0 || !*dir)
      return smb_errno(job, error, errsv, SCAND_SMB_STAGE_UPLOAD, temp);
    ScandDeliveryResult r = smb_mkdir_p(job, dir, error);
    if (r != SCAND_DELIVERY_DONE)
      return r;
  }

  g_autofree char *buf = g_malloc(SMB_CHUNK);
  goffset done = 0;
  int errsv = 0;
  if (lseek(fd, 0, SEEK_SET) < 0)
    errsv = errno;
  while (!errsv) {
    ssize_t n = read(fd, buf, SMB_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int lerr = errno;
      sym_smbc_getFunctionClose(job->ctx)(job->ctx, f);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: reading %s: %s", job->dest, scand_delivery_get_file(job->d),
                  g_strerror(lerr));
      return SCAND_DELIVERY_RETRY;
    }
    if (n == 0)
      break;
    for (ssize_t off = 0; off < n;) {
      errno = 0;
      ssize_t w = sym_smbc_getFunctionWrite(job->ctx)(job->ctx, f, buf + off, (size_t) (n - off));
      if (w <= 0) {
        errsv = errno ? errno : EIO;
        break;
      }
      off += w;
      done += w;
    }
  }
  errno = 0;
  if (sym_smbc_getFunctionClose(job->ctx)(job->ctx, f) != 0 && !errsv)
    errsv = errno ? errno : EIO;
  if (errsv)
    return smb_errno(job, error, errsv, SCAND_SMB_STAGE_UPLOAD, temp);
  if (done != size) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s changed while it was uploaded", job->dest,
                scand_delivery_get_file(job->d));
    return SCAND_DELIVERY_FAILED;
  }
  struct stat st;
  int serr = smb_stat(job, temp, &st);
  if (serr)
    return smb_errno(job, error, serr, SCAND_SMB_STAGE_STAT, temp);
  if (st.st_size != size) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_RETRY,
                "%s: '%s' has %" G_GOFFSET_FORMAT " bytes on the share after writing %" G_GOFFSET_FORMAT
                " — will retry",
                job->dest, temp, (goffset) st.st_size, size);
    return SCAND_DELIVERY_RETRY;
  }
  return SCAND_DELIVERY_DONE;
}

/* Whether errsv means the server is out of reach, so that cleaning up there
 * would only wait for another timeout. */
static gboolean smb_errno_is_network(int errsv) {
  switch (errsv) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case ETIMEDOUT:
    case ECONNRESET:
    case ECONNABORTED:
    case ENETRESET:
    case ESHUTDOWN:
    case EPIPE:
    case ENOTCONN:
    case EAGAIN:
      return TRUE;
    default:
      return FALSE;
  }
}

/* Best effort: removes a temporary upload that failed. */
static void smb_unlink_quiet(SmbJob *job, const char *path) {
  g_autofree char *u = scand_smb_url_for(job->url, path);
  sym_smbc_getFunctionUnlink(job->ctx)(job->ctx, u);
}

static char *smb_join(const char *a, const char *b) {
  if (!*a)
    return g_strdup(b);
  if (!*b)
    return g_strdup(a);
  return g_strconcat(a, "/", b, NULL);
}

/* Tells the job where the file went ("smb://host/share/dir/scan-2.pdf"), for
 * `scand deliver` and the daemon to show; a later attempt finds it again. */
static void smb_note_delivered(SmbJob *job, const char *path) {
  g_autofree char *hp = smb_host_port(job->url);
  g_autofree char *where = g_strdup_printf("smb://%s/%s/%s", hp, job->url->share, path);
  scand_delivery_note_state(job->d, "delivered", where);
}

/* Negotiates, logs on and connects the share; 0, or the errno, with EACCES
 * for a refused share and EPERM for a refused logon. */
static int smb_first_contact(SmbJob *job) {
  struct stat st;
  int errsv = smb_stat(job, "", &st);
  if (errsv == EACCES || errsv == EPERM) {
    /* A refused logon and a refused share both come back as EACCES. A share
     * that cannot exist tells them apart: with good credentials the server
     * gets as far as "no such share". */
    g_autofree char *missing = g_strdup_printf("scand-probe-%08x", g_random_int());
    ScandSmbUrl other = { .host = job->url->host, .port = job->url->port, .share = missing, .dir = (char *) "" };
    g_autofree char *probe = scand_smb_url_for(&other, "");
    errno = 0;
    int probe_err = sym_smbc_getFunctionStat(job->ctx)(job->ctx, probe, &st) == 0 ? 0 : errno;
    errsv = probe_err == ENOENT || probe_err == ENODEV || probe_err == ENXIO ? EACCES : EPERM;
  }
  return errsv;
}

/* Renames the complete upload temp into dir under base, or the first free
 * "base (n)" name, recording the name first so that a later attempt finds
 * it (recorded: the name recorded now, or NULL). */
static ScandDeliveryResult smb_rename_free(SmbJob *job, const char *dir, const char *base, const char *temp,
                                           const char *recorded, GError **error) {
  ScandDelivery *d = job->d;
  struct stat st;
  int errsv;
  for (guint n = 1;; n++) {
    if (n > SMB_MAX_SUFFIX) {
      smb_unlink_quiet(job, temp);
      return smb_fail(job, error, SCAND_DELIVERY_FAILED, "no free file name: too many copies of it already");
    }
    g_autofree char *cand_base = scand_smb_name_with_suffix(base, n);
    g_autofree char *cand = smb_join(dir, cand_base);
    errsv = smb_stat(job, cand, &st);
    if (errsv == 0)
      continue;
    if (errsv != ENOENT)
      return smb_errno(job, error, errsv, SCAND_SMB_STAGE_STAT, cand);
    if (g_strcmp0(recorded, cand) != 0 && !scand_delivery_set_state(d, "target", cand, error)) {
      g_prefix_error(error, "%s: recording the target name: ", job->dest);
      return SCAND_DELIVERY_RETRY;
    }
    recorded = scand_delivery_get_state(d, "target");
    scand_fault_point("smb-target-recorded");
    /* smbc_rename() would unlink an existing target and retry, so the name
     * was checked free just above; a writer racing us in between is the one
     * window left. */
    g_autofree char *from = scand_smb_url_for(job->url, temp);
    g_autofree char *to = scand_smb_url_for(job->url, cand);
    errno = 0;
    if (sym_smbc_getFunctionRename(job->ctx)(job->ctx, from, job->ctx, to) == 0) {
      scand_fault_point("smb-renamed");
      smb_note_delivered(job, cand);
      return SCAND_DELIVERY_DONE;
    }
    errsv = errno ? errno : EIO;
    if (errsv == EEXIST)
      continue;
    ScandDeliveryResult r = smb_errno(job, error, errsv, SCAND_SMB_STAGE_RENAME, cand);
    if (r == SCAND_DELIVERY_FAILED)
      smb_unlink_quiet(job, temp);
    return r;
  }
}

/* One delivery under smb_lock: the file (fd, size bytes) uploaded under a
 * temporary name, then renamed to the first free name; an earlier attempt's
 * complete upload or finished rename is found again, never repeated. */
static ScandDeliveryResult smb_deliver_locked(SmbJob *job, int fd, goffset size, GError **error) {
  ScandDelivery *d = job->d;
  const char *given = scand_delivery_get_name(d);
  g_autofree char *fallback = NULL;
  if (!given || !*given)
    given = fallback = g_path_get_basename(scand_delivery_get_file(d));
  g_autoptr(GError) bad = NULL;
  if (!scand_fs_name_check(given, &bad)) {
    g_autofree char *cause = g_strdup_printf("refusing the job's file name: %s", bad->message);
    return smb_fail(job, error, SCAND_DELIVERY_FAILED, cause);
  }
  g_autofree char *name = scand_smb_safe_name(given);
  g_autofree char *name_dir = g_path_get_dirname(name);
  g_autofree char *base = g_path_get_basename(name);
  g_autofree char *dir = smb_join(job->url->dir, strcmp(name_dir, ".") == 0 ? "" : name_dir);
  g_autofree char *temp_base = scand_smb_temp_name(scand_delivery_get_job_id(d), scand_delivery_get_output_name(d));
  g_autofree char *temp = smb_join(dir, temp_base);

  /* First contact: negotiate, log on and connect the share, so that
   * connection and logon problems are told apart from file problems. */
  struct stat st;
  int errsv = smb_first_contact(job);
  if (errsv)
    return smb_errno(job, error, errsv, SCAND_SMB_STAGE_CONNECT, NULL);

  const char *recorded = scand_delivery_get_state(d, "target");
  struct stat tst;
  errsv = smb_stat(job, temp, &tst);
  if (errsv && errsv != ENOENT && errsv != ENOTDIR)
    return smb_errno(job, error, errsv, SCAND_SMB_STAGE_STAT, temp);
  gboolean have_temp = errsv == 0;

  if (!have_temp && recorded) {
    /* The upload was renamed into place before the earlier attempt stopped. */
    errsv = smb_stat(job, recorded, &st);
    if (errsv == 0 && S_ISREG(st.st_mode) && st.st_size == size) {
      smb_note_delivered(job, recorded);
      return SCAND_DELIVERY_DONE;
    }
    if (errsv && errsv != ENOENT && errsv != ENOTDIR)
      return smb_errno(job, error, errsv, SCAND_SMB_STAGE_STAT, recorded);
    /* Gone or replaced since: deliver afresh under a new free name. */
    if (!scand_delivery_set_state(d, "target", NULL, error)) {
      g_prefix_error(error, "%s: ", job->dest);
      return SCAND_DELIVERY_RETRY;
    }
    recorded = NULL;
  }

  /* A complete upload from an earlier attempt is kept; a partial one is
   * overwritten. */
  if (!have_temp || !S_ISREG(tst.st_mode) || tst.st_size != size) {
    ScandDeliveryResult r = smb_upload(job, fd, size, dir, temp, error);
    if (r != SCAND_DELIVERY_DONE) {
      /* A partial upload is useless (the next attempt truncates it) and may
       * be what filled the share. */
      if (!smb_errno_is_network(job->last_errno))
        smb_unlink_quiet(job, temp);
      return r;
    }
  }

  scand_fault_point("smb-uploaded");
  return smb_rename_free(job, dir, base, temp, recorded, error);
}

/* libsmbclient tears its module down when the last context is freed, and
 * every set-up after that leaks a little (116 bytes with 4.17) and reads
 * smb.conf again; one idle context kept for the life of the process (never
 * connected, owned here) avoids both. Called under smb_lock. */
static void smb_keep_module(void) {
  static SMBCCTX *anchor;
  if (anchor)
    return;
  anchor = sym_smbc_new_context();
  if (!anchor)
    return;
  sym_smbc_setLogCallback(anchor, NULL, smb_log_discard);
  if (!sym_smbc_init_context(anchor)) {
    sym_smbc_free_context(anchor, TRUE);
    anchor = NULL;
  }
}

static ScandDeliveryResult smb_deliver(ScandDelivery *d, GError **error) {
  const char *file = scand_delivery_get_file(d);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) {
    int errsv = errno;
    if (fd >= 0)
      close(fd);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "output %s (smb): cannot read %s: %s",
                scand_delivery_get_output_name(d), file, g_strerror(errsv));
    return SCAND_DELIVERY_FAILED;
  }

  g_mutex_lock(&smb_lock);
  SmbJob job = { .d = d };
  ScandDeliveryResult r = SCAND_DELIVERY_FAILED;
  gboolean loaded = dl_smbclient_load(error);
  if (loaded)
    smb_keep_module();
  if (loaded && smb_job_setup(&job, error))
    r = smb_deliver_locked(&job, fd, st.st_size, error);
  smb_job_clear(&job);
  g_mutex_unlock(&smb_lock);
  close(fd);
  return r;
}

/* ---- scand config check ------------------------------------------------- */

static void smb_problem(ScandConfig *config, const char *name, const char *key, GPtrArray *problems, const char *fmt,
                        ...) G_GNUC_PRINTF(5, 6);

static void smb_problem(ScandConfig *config, const char *name, const char *key, GPtrArray *problems, const char *fmt,
                        ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *where = scand_config_where(config, "output", name, key);
  g_ptr_array_add(problems, g_strdup_printf("%s: [output %s]%s%s: %s", where ? where : "?", name, key ? " " : "",
                                            key ? key : "", msg));
}

static void smb_check(ScandConfig *config, const char *name, GPtrArray *problems) {
  const char *url = scand_config_get(config, "output", name, "url");
  if (!url) {
    smb_problem(config, name, NULL, problems, "url is missing (smb://host/share/path)");
  } else {
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandSmbUrl) parsed = scand_smb_url_parse(url, &error);
    if (!parsed)
      smb_problem(config, name, "url", problems, "%s", error->message);
  }
  const char *user = scand_config_get(config, "output", name, "username");
  const char *pw = scand_config_get(config, "output", name, "password-file");
  if (user && *user && !pw)
    smb_problem(config, name, "username", problems, "username is set but password-file is not");
  if (pw && !(user && *user))
    smb_problem(config, name, "password-file", problems, "password-file is set but username is not");
  const char *t = scand_config_get(config, "output", name, "timeout");
  gint64 secs;
  if (t && scand_config_parse_duration(t, &secs) && (secs <= 0 || secs > G_MAXINT / 1000))
    smb_problem(config, name, "timeout", problems, "must be between 1s and 24d");
}

const ScandOutputDriver scand_output_smb = {
  .type = "smb",
  .keys = smb_keys,
  .check = smb_check,
  .deliver = smb_deliver,
  .finds_own_attempt = TRUE,
};
