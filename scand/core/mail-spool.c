/* Received mail in the spool: drafts, the commit that accepts a message
 * exactly once, and the envelopes that routing reads and updates. */
#include "scand/core/mail-spool.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define INTAKE_DIR ".intake"
#define DRAFT_PREFIX ".draft-"
#define WRITE_BUFFER (256 * 1024)
#define HEADER_CAP 4096 /* a header line longer than this is not looked into */

struct ScandMailSpool {
  char *dir;
};

struct ScandMailDraft {
  ScandMailSpool *spool;
  char *dir;
  char *path;
  int dir_fd; /* holds the lock that tells a restart this draft is alive */
  int fd;
  GString *buffer;
  guint64 size;
  GChecksum *all;
  GChecksum *body;
  /* header scanning */
  gboolean in_body;
  GString *line;   /* the current line while in the header (capped) */
  GString *header; /* the current header field, unfolded (capped) */
  char *message_id;
  /* the current line's first two bytes, for boundary counting */
  char prefix[2];
  gsize line_len;
  guint boundary_lines;
  gboolean committed;
};

/* ---- the spool ---------------------------------------------------------- */

/* A directory whose lock nobody holds is a draft of a receiver that died. */
static void remove_dead_drafts(const char *dir) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    if (!g_str_has_prefix(name, DRAFT_PREFIX))
      continue;
    g_autofree char *path = g_build_filename(dir, name, NULL);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
      scand_fs_remove_tree(path);
    if (fd >= 0)
      close(fd);
  }
}

ScandMailSpool *scand_mail_spool_open(const char *spool_dir, GError **error) {
  g_autofree char *dir = g_build_filename(spool_dir, INTAKE_DIR, NULL);
  if (!scand_fs_mkdir_p(dir, 0700, error))
    return NULL;
  struct stat st;
  if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s is not a directory", dir);
    return NULL;
  }
  remove_dead_drafts(dir);
  ScandMailSpool *spool = g_new0(ScandMailSpool, 1);
  spool->dir = g_steal_pointer(&dir);
  return spool;
}

void scand_mail_spool_free(ScandMailSpool *spool) {
  if (!spool)
    return;
  g_free(spool->dir);
  g_free(spool);
}

const char *scand_mail_spool_get_dir(ScandMailSpool *spool) {
  return spool->dir;
}

char *scand_mail_spool_message_dir(ScandMailSpool *spool, const char *queue_id) {
  return g_build_filename(spool->dir, queue_id, NULL);
}

gboolean scand_mail_spool_has_room(ScandMailSpool *spool, guint64 bytes) {
  struct statvfs vfs;
  if (statvfs(spool->dir, &vfs) < 0)
    return TRUE; /* the write will tell */
  return (guint64) vfs.f_bavail * vfs.f_frsize / 2 >= bytes;
}

/* ---- drafts ------------------------------------------------------------- */

ScandMailDraft *scand_mail_draft_new(ScandMailSpool *spool, GError **error) {
  g_autofree char *tmpl = g_build_filename(spool->dir, DRAFT_PREFIX "XXXXXX", NULL);
  if (!g_mkdtemp_full(tmpl, 0700)) {
    scand_fs_error_errno(error, errno, "cannot create a draft in %s", spool->dir);
    return NULL;
  }
  g_autoptr(ScandMailDraft) d = g_new0(ScandMailDraft, 1);
  d->spool = spool;
  d->dir = g_steal_pointer(&tmpl);
  d->fd = -1;
  d->dir_fd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d->dir_fd < 0 || flock(d->dir_fd, LOCK_EX | LOCK_NB) < 0) {
    scand_fs_error_errno(error, errno, "cannot lock %s", d->dir);
    return NULL;
  }
  d->path = g_build_filename(d->dir, "message.eml", NULL);
  d->fd = open(d->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (d->fd < 0) {
    scand_fs_error_errno(error, errno, "cannot create %s", d->path);
    return NULL;
  }
  d->buffer = g_string_sized_new(WRITE_BUFFER);
  d->all = g_checksum_new(G_CHECKSUM_SHA256);
  d->body = g_checksum_new(G_CHECKSUM_SHA256);
  d->line = g_string_new(NULL);
  d->header = g_string_new(NULL);
  return g_steal_pointer(&d);
}

void scand_mail_draft_free(ScandMailDraft *d) {
  if (!d)
    return;
  if (d->fd >= 0)
    close(d->fd);
  if (!d->committed && d->dir)
    scand_fs_remove_tree(d->dir);
  if (d->dir_fd >= 0)
    close(d->dir_fd);
  if (d->buffer)
    g_string_free(d->buffer, TRUE);
  if (d->line)
    g_string_free(d->line, TRUE);
  if (d->header)
    g_string_free(d->header, TRUE);
  if (d->all)
    g_checksum_free(d->all);
  if (d->body)
    g_checksum_free(d->body);
  g_free(d->message_id);
  g_free(d->dir);
  g_free(d->path);
  g_free(d);
}

/* A header field is complete: keep the Message-ID (RFC 5322 3.6.4). */
static void header_done(ScandMailDraft *d) {
  const char *h = d->header->str;
  if (!d->message_id && g_ascii_strncasecmp(h, "Message-ID:", 11) == 0) {
    g_autofree char *value = g_strstrip(g_strdup(h + 11));
    if (*value)
      d->message_id = g_strndup(value, 998);
  }
  g_string_truncate(d->header, 0);
}

/* One line of the header is complete (in d->line, with its line end). */
static void header_line_done(ScandMailDraft *d) {
  gsize n = d->line->len;
  while (n && (d->line->str[n - 1] == '\n' || d->line->str[n - 1] == '\r'))
    n--;
  if (n == 0) {
    header_done(d);
    d->in_body = TRUE;
  } else if (d->line->str[0] == ' ' || d->line->str[0] == '\t') {
    if (d->header->len + n <= HEADER_CAP)
      g_string_append_len(d->header, d->line->str, (gssize) n);
  } else {
    header_done(d);
    g_string_append_len(d->header, d->line->str, (gssize) MIN(n, HEADER_CAP));
  }
  g_string_truncate(d->line, 0);
}

/* A piece of one line (ends_line: it holds the line's '\n'). */
static void scan_piece(ScandMailDraft *d, const char *p, gsize n, gboolean ends_line) {
  g_checksum_update(d->all, (const guchar *) p, (gssize) n);
  if (d->in_body)
    g_checksum_update(d->body, (const guchar *) p, (gssize) n);
  for (gsize i = 0; d->line_len + i < 2 && i < n; i++)
    d->prefix[d->line_len + i] = p[i];
  d->line_len += n;
  if (!d->in_body && d->line->len < HEADER_CAP)
    g_string_append_len(d->line, p, (gssize) MIN(n, HEADER_CAP - d->line->len));
  if (!ends_line)
    return;
  if (d->line_len >= 2 && d->prefix[0] == '-' && d->prefix[1] == '-')
    d->boundary_lines++;
  if (!d->in_body)
    header_line_done(d);
  d->line_len = 0;
}

static gboolean write_all(ScandMailDraft *d, const char *p, gsize left, GError **error) {
  while (left > 0) {
    ssize_t w = write(d->fd, p, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return scand_fs_error_errno(error, errno, "cannot write %s", d->path);
    p += w;
    left -= (gsize) w;
  }
  return TRUE;
}

static gboolean flush_buffer(ScandMailDraft *d, GError **error) {
  gboolean ok = write_all(d, d->buffer->str, d->buffer->len, error);
  g_string_truncate(d->buffer, 0);
  return ok;
}

gboolean scand_mail_draft_write(ScandMailDraft *d, const char *data, gsize len, GError **error) {
  for (const char *p = data, *end = data + len; p < end;) {
    const char *nl = memchr(p, '\n', (gsize) (end - p));
    const char *stop = nl ? nl + 1 : end;
    scan_piece(d, p, (gsize) (stop - p), nl != NULL);
    p = stop;
  }
  d->size += len;
  if (d->buffer->len + len > WRITE_BUFFER && !flush_buffer(d, error))
    return FALSE;
  if (len >= WRITE_BUFFER)
    return write_all(d, data, len, error); /* large pieces go straight through */
  g_string_append_len(d->buffer, data, (gssize) len);
  return TRUE;
}

guint64 scand_mail_draft_get_size(ScandMailDraft *d) {
  return d->size;
}

guint scand_mail_draft_get_boundary_lines(ScandMailDraft *d) {
  return d->boundary_lines;
}

const char *scand_mail_draft_get_path(ScandMailDraft *d) {
  return d->path;
}

gboolean scand_mail_draft_sync(ScandMailDraft *d, GError **error) {
  if (!flush_buffer(d, error))
    return FALSE;
  if (fsync(d->fd) < 0)
    return scand_fs_error_errno(error, errno, "cannot fsync %s", d->path);
  return TRUE;
}

static int compare_strings(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The dedup key: same envelope, same Message-ID and body (or same bytes). */
static char *draft_key(ScandMailDraft *d, const ScandMailEnvelope *env) {
  g_autoptr(GChecksum) key = g_checksum_new(G_CHECKSUM_SHA256);
  g_autoptr(GPtrArray) rcpts = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; env->rcpt_to[i]; i++)
    g_ptr_array_add(rcpts, g_ascii_strdown(env->rcpt_to[i], -1));
  g_ptr_array_sort(rcpts, compare_strings);
  g_autofree char *from = g_ascii_strdown(env->mail_from, -1);
  g_autoptr(GString) text = g_string_new("scand-mail-v1\n");
  g_string_append_printf(text, "from:%s\n", from);
  for (guint i = 0; i < rcpts->len; i++)
    g_string_append_printf(text, "to:%s\n", (const char *) rcpts->pdata[i]);
  if (d->message_id)
    g_string_append_printf(text, "message-id:%s\nbody:%s\n", d->message_id, g_checksum_get_string(d->body));
  else
    g_string_append_printf(text, "message:%s\n", g_checksum_get_string(d->all));
  g_checksum_update(key, (const guchar *) text->str, (gssize) text->len);
  return g_strdup(g_checksum_get_string(key));
}

static GKeyFile *draft_envelope(ScandMailDraft *d, const ScandMailEnvelope *env) {
  GKeyFile *kf = g_key_file_new();
  g_key_file_set_string(kf, "message", "intake", env->intake ? env->intake : "");
  g_key_file_set_string(kf, "message", "client-ip", env->client_ip ? env->client_ip : "");
  g_key_file_set_string(kf, "message", "helo", env->helo ? env->helo : "");
  if (env->auth_user)
    g_key_file_set_string(kf, "message", "auth-user", env->auth_user);
  g_key_file_set_boolean(kf, "message", "tls", env->tls);
  g_key_file_set_string(kf, "message", "mail-from", env->mail_from);
  g_key_file_set_string_list(kf, "message", "rcpt-to", env->rcpt_to, g_strv_length((char **) env->rcpt_to));
  g_key_file_set_uint64(kf, "message", "size", d->size);
  g_key_file_set_string(kf, "message", "sha256", g_checksum_get_string(d->all));
  if (d->message_id)
    g_key_file_set_string(kf, "message", "message-id", d->message_id);
  g_key_file_set_int64(kf, "message", "received", g_get_real_time());
  g_key_file_set_string(kf, "routing", "state", "pending");
  return kf;
}

static gboolean write_keyfile(const char *path, GKeyFile *kf, GError **error) {
  gsize len = 0;
  g_autofree char *data = g_key_file_to_data(kf, &len, NULL);
  return scand_fs_write_atomic(path, data, len, 0600, error);
}

gboolean scand_mail_draft_commit(ScandMailDraft *d, const ScandMailEnvelope *env, char **queue_id, gboolean *duplicate,
                                 GError **error) {
  g_return_val_if_fail(env->rcpt_to && env->rcpt_to[0], FALSE);
  *duplicate = FALSE;
  header_done(d); /* a message that is all header */
  g_autofree char *key = draft_key(d, env);
  g_autoptr(GKeyFile) envelope = draft_envelope(d, env);
  g_autofree char *env_path = g_build_filename(d->dir, "envelope.ini", NULL);
  if (!write_keyfile(env_path, envelope, error))
    return FALSE;
  g_autofree char *final = g_build_filename(d->spool->dir, key, NULL);
  /* An accepted message's directory is never empty, so the rename fails
   * when the same message was accepted before: that is the dedup. */
  if (rename(d->dir, final) < 0) {
    if (errno != ENOTEMPTY && errno != EEXIST)
      return scand_fs_error_errno(error, errno, "cannot commit %s", final);
    *duplicate = TRUE;
    *queue_id = g_steal_pointer(&key);
    return TRUE;
  }
  d->committed = TRUE;
  if (!scand_fs_fsync_dir(d->spool->dir, error))
    return FALSE;
  *queue_id = g_steal_pointer(&key);
  return TRUE;
}

char *scand_mail_queue_id_short(const char *queue_id) {
  return g_strndup(queue_id, 12);
}

/* ---- accepted messages -------------------------------------------------- */

GKeyFile *scand_mail_spool_read_envelope(ScandMailSpool *spool, const char *queue_id, GError **error) {
  g_autofree char *path = g_build_filename(spool->dir, queue_id, "envelope.ini", NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error)) {
    g_prefix_error(error, "%s: ", path);
    return NULL;
  }
  return g_steal_pointer(&kf);
}

gboolean scand_mail_spool_write_envelope(ScandMailSpool *spool, const char *queue_id, GKeyFile *envelope,
                                         GError **error) {
  g_autofree char *path = g_build_filename(spool->dir, queue_id, "envelope.ini", NULL);
  return write_keyfile(path, envelope, error);
}

typedef struct {
  char *id;
  gint64 received;
} Pending;

/* A routed message whose jobs were not all moved into the spool yet (its
 * message file goes last). */
static gboolean unfinished(ScandMailSpool *spool, const char *queue_id) {
  g_autofree char *eml = g_build_filename(spool->dir, queue_id, "message.eml", NULL);
  return g_file_test(eml, G_FILE_TEST_EXISTS);
}

static int compare_pending(gconstpointer a, gconstpointer b) {
  const Pending *x = a, *y = b;
  return x->received < y->received ? -1 : x->received > y->received ? 1 : strcmp(x->id, y->id);
}

GStrv scand_mail_spool_list_pending(ScandMailSpool *spool, GError **error) {
  g_autoptr(GDir) d = g_dir_open(spool->dir, 0, error);
  if (!d)
    return NULL;
  g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(Pending));
  const char *name;
  while ((name = g_dir_read_name(d))) {
    if (name[0] == '.')
      continue;
    g_autoptr(GKeyFile) kf = scand_mail_spool_read_envelope(spool, name, NULL);
    g_autofree char *state = kf ? g_key_file_get_string(kf, "routing", "state", NULL) : NULL;
    if (!kf || g_strcmp0(state, "error") == 0 || (g_strcmp0(state, "routed") == 0 && !unfinished(spool, name)))
      continue;
    Pending p = { g_strdup(name), g_key_file_get_int64(kf, "message", "received", NULL) };
    g_array_append_val(found, p);
  }
  g_array_sort(found, compare_pending);
  GStrv ids = g_new0(char *, found->len + 1);
  for (guint i = 0; i < found->len; i++)
    ids[i] = g_array_index(found, Pending, i).id;
  return ids;
}

guint scand_mail_spool_prune(ScandMailSpool *spool, gint64 max_age) {
  g_autoptr(GDir) d = g_dir_open(spool->dir, 0, NULL);
  gint64 now = g_get_real_time();
  guint removed = 0;
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    if (name[0] == '.')
      continue;
    g_autoptr(GKeyFile) kf = scand_mail_spool_read_envelope(spool, name, NULL);
    g_autofree char *state = kf ? g_key_file_get_string(kf, "routing", "state", NULL) : NULL;
    gint64 done = kf ? g_key_file_get_int64(kf, "routing", "done", NULL) : 0;
    gboolean finished = g_strcmp0(state, "routed") == 0 || g_strcmp0(state, "error") == 0;
    if (!finished || done <= 0 || now - done < max_age * G_USEC_PER_SEC || unfinished(spool, name))
      continue;
    g_autofree char *path = g_build_filename(spool->dir, name, NULL);
    scand_fs_remove_tree(path);
    removed++;
  }
  if (removed)
    scand_fs_fsync_dir(spool->dir, NULL);
  return removed;
}
