#include "outputs/folder.h"
#include "outputs/output-private.h"
#include "scand/base/error.h"
#include "scand/base/fault.h"
#include "scand/base/fs.h"
#include "scand/base/progress.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SUFFIX 9999

static const ScandConfigKey folder_keys[] = {
  { "path", SCAND_KEY_PATH },
  { "create", SCAND_KEY_BOOL },
  { "mode", SCAND_KEY_STRING }, /* of the delivered file, octal; default 0640 */
  { NULL },
};

/* Errors a person fixes by waiting (a disk fills less, a mount comes back) are
 * retried; those that need someone to change permissions or config are not. */
static ScandDeliveryResult classify_errno(int errsv) {
  switch (errsv) {
    case ENOSPC:
    case EDQUOT:
    case ENOENT:
    case EIO:
    case ENOTCONN:
    case ESTALE:
    case EHOSTDOWN:
    case EHOSTUNREACH:
    case ETIMEDOUT:
    case EAGAIN:
    case EBUSY:
    case ENOMEDIUM:
      return SCAND_DELIVERY_RETRY;
    default:
      return SCAND_DELIVERY_FAILED;
  }
}

static ScandDeliveryResult fail_errno(ScandDelivery *d, const char *dir, int errsv, GError **error, const char *fmt,
                                      ...) G_GNUC_PRINTF(5, 6);

static ScandDeliveryResult fail_errno(ScandDelivery *d, const char *dir, int errsv, GError **error, const char *fmt,
                                      ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  ScandDeliveryResult result = classify_errno(errsv);
  g_set_error(error, SCAND_ERROR, result == SCAND_DELIVERY_RETRY ? SCAND_ERROR_RETRY : SCAND_ERROR_IO,
              "output %s (folder %s): %s: %s%s", scand_delivery_get_output_name(d), dir, what, g_strerror(errsv),
              result == SCAND_DELIVERY_RETRY ? " — will retry" : "");
  return result;
}

#define DEFAULT_MODE 0640

/* "0640" → 0640; FALSE unless an octal mode up to 0777. */
static gboolean parse_mode(const char *text, mode_t *mode) {
  char *end = NULL;
  guint64 v = text && *text ? g_ascii_strtoull(text, &end, 8) : G_MAXUINT64;
  if (!end || *end || v > 0777)
    return FALSE;
  *mode = (mode_t) v;
  return TRUE;
}

/* The output's mode, for group and others no wider than the source file's
 * (a watched file's: a private file stays private wherever it is
 * delivered). The owner's bits are the output's own: the copy belongs to
 * scand, not to whoever owned the source (a drop's uploads are 0240, which
 * their writer may not read back). */
static mode_t delivery_mode(ScandDelivery *d) {
  mode_t mode = DEFAULT_MODE, source;
  parse_mode(scand_delivery_get_config(d, "mode"), &mode);
  if (parse_mode(scand_delivery_get_fact(d, "source-mode"), &source))
    mode &= source | 0700;
  return mode;
}

void scand_folder_check_mode(ScandConfig *config, const char *name, GPtrArray *problems) {
  const char *text = scand_config_get(config, "output", name, "mode");
  mode_t mode;
  if (text && !parse_mode(text, &mode)) {
    g_autofree char *where = scand_config_where(config, "output", name, "mode");
    g_ptr_array_add(problems, g_strdup_printf("%s: [output %s] mode: \"%s\" is not an octal file mode (e.g. 0640)",
                                              where, name, text));
  }
}

/* Copies src into a new file dst in the directory dfd (a link in its place
 * is never followed), with exactly mode whatever the umask (file systems
 * without modes, such as vfat, refuse the fchmod: that is fine). Returns 0 or
 * an errno. */
static int copy_file(const char *src, int dfd, const char *dst, mode_t mode) {
  int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return errno;
  int out = openat(dfd, dst, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (out < 0) {
    int errsv = errno;
    close(in);
    return errsv;
  }
  (void) fchmod(out, mode);
  char buf[65536];
  int errsv = 0;
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      errsv = errno;
      break;
    }
    if (n == 0)
      break;
    scand_progress_beat();
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t) (n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0) {
        errsv = errno;
        goto out;
      }
      off += w;
    }
  }
out:
  if (!errsv && fsync(out) < 0)
    errsv = errno;
  if (close(out) < 0 && !errsv)
    errsv = errno;
  close(in);
  if (errsv)
    unlinkat(dfd, dst, 0);
  return errsv;
}

/* The hidden name a delivery writes under in its folder: unique per job and
 * output, the same on every attempt. Output names can be paths (--to DIR),
 * so only their hash goes in. */
static char *hidden_name(ScandDelivery *d) {
  return g_strdup_printf(".scand-%s-%08x.part", scand_delivery_get_job_id(d),
                         g_str_hash(scand_delivery_get_output_name(d)));
}

/* "scan.pdf", 3 → "scan-3.pdf" */
static char *candidate_name(const char *base, guint n) {
  if (n <= 1)
    return g_strdup(base);
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base)
    return g_strdup_printf("%s-%u", base, n);
  return g_strdup_printf("%.*s-%u%s", (int) (dot - base), base, n, dot);
}

/* A regular file (not a link) in dfd. */
static gboolean file_stat(int dfd, const char *name, struct stat *st) {
  return fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st->st_mode);
}

static gboolean same_file(int dfd, const char *a, const char *b) {
  struct stat sa, sb;
  return file_stat(dfd, a, &sa) && file_stat(dfd, b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static gboolean same_size(int dfd, const char *name, const char *pdf) {
  struct stat sa, sb;
  return file_stat(dfd, name, &sa) && stat(pdf, &sb) == 0 && sa.st_size == sb.st_size;
}

/* The recorded target of an earlier attempt, as a name in final_dir; NULL
 * when there is none or it is anywhere else. */
static const char *recorded_target(ScandDelivery *d, const char *final_dir) {
  const char *target = scand_delivery_get_state(d, "target");
  gsize len = strlen(final_dir);
  if (!target || strncmp(target, final_dir, len) != 0 || target[len] != '/' || strchr(target + len + 1, '/') ||
      !scand_fs_name_check(target + len + 1, NULL))
    return NULL;
  return target + len + 1;
}

/* The first of base, base-2, … in dfd that is the file st describes (a
 * hard link of it); newly allocated, or NULL. */
static char *find_link(int dfd, const char *base, const struct stat *st) {
  for (guint n = 1; n <= MAX_SUFFIX; n++) {
    g_autofree char *candidate = candidate_name(base, n);
    struct stat cst;
    if (fstatat(dfd, candidate, &cst, AT_SYMLINK_NOFOLLOW) == 0 && cst.st_dev == st->st_dev && cst.st_ino == st->st_ino)
      return g_steal_pointer(&candidate);
  }
  return NULL;
}

/* The document has its name (candidate in dfd, final_dir): made durable. */
static ScandDeliveryResult named(ScandDelivery *d, const char *dir, int dfd, const char *final_dir,
                                 const char *candidate, GError **error) {
  if (fsync(dfd) < 0 && errno != EINVAL && errno != ENOTSUP)
    return fail_errno(d, dir, errno, error, "cannot fsync %s", final_dir);
  scand_fault_point("folder-renamed");
  g_autofree char *path = g_build_filename(final_dir, candidate, NULL);
  scand_delivery_note_state(d, "delivered", path);
  return SCAND_DELIVERY_DONE;
}

/* Every name from base on is taken: the hidden file goes, for good. */
static ScandDeliveryResult no_free_name(ScandDelivery *d, const char *dir, int dfd, const char *tmp, const char *base,
                                        GError **error) {
  unlinkat(dfd, tmp, 0);
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "output %s (folder %s): %s and %u others like it exist already",
              scand_delivery_get_output_name(d), dir, base, MAX_SUFFIX - 1);
  return SCAND_DELIVERY_FAILED;
}

/* Group commit (scand_delivery_is_deferred()): the hidden file gets its name
 * as a hard link and stays until the job's outcome is durable (folder_settle).
 * A retry after a crash finds the delivery by the hidden file's link count
 * and inode, so no record needs saving first: one fsync fewer per file, and
 * no rewrite of job.ini. FALSE (nothing done) where the file system has no
 * hard links: then the caller renames, with a record. */
static gboolean link_into(ScandDelivery *d, const char *dir, int dfd, const char *final_dir, const char *tmp,
                          const char *base, ScandDeliveryResult *result, GError **error) {
  for (guint n = 1; n <= MAX_SUFFIX; n++) {
    g_autofree char *candidate = candidate_name(base, n);
    if (linkat(dfd, tmp, dfd, candidate, 0) < 0) {
      if (errno == EEXIST)
        continue;
      if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == EMLINK || errno == ENOSYS)
        return FALSE;
      *result = fail_errno(d, dir, errno, error, "cannot link %s/%s", final_dir, candidate);
      return TRUE;
    }
    *result = named(d, dir, dfd, final_dir, candidate, error);
    return TRUE;
  }
  *result = no_free_name(d, dir, dfd, tmp, base, error);
  return TRUE;
}

/* A hidden file tmp (described by st) with more than one link: a linked
 * delivery (link_into) whose outcome a crash kept from being saved has its
 * name already. TRUE with *result when found; else the hidden file (linked by
 * someone else) is removed, to start afresh. */
static gboolean find_linked(ScandDelivery *d, int dfd, const char *final_dir, const char *tmp, const char *base,
                            const struct stat *st, ScandDeliveryResult *result, GError **error) {
  g_autofree char *found = find_link(dfd, base, st);
  if (!found) {
    unlinkat(dfd, tmp, 0);
    return FALSE;
  }
  g_autofree char *path = g_build_filename(final_dir, found, NULL);
  if (!scand_delivery_is_deferred(d)) {
    /* Recorded first: the hidden file is all a later retry could find it by. */
    *result = SCAND_DELIVERY_RETRY;
    if (!scand_delivery_set_state(d, "target", path, error))
      return TRUE;
    unlinkat(dfd, tmp, 0);
    fsync(dfd);
  }
  scand_delivery_note_state(d, "delivered", path);
  *result = SCAND_DELIVERY_DONE;
  return TRUE;
}

/* Writes the document under a hidden name in dfd (final_dir), then renames it
 * to the first free name from base on. */
static ScandDeliveryResult deliver_into(ScandDelivery *d, const char *dir, int dfd, const char *final_dir,
                                        const char *base, GError **error) {
  const char *pdf = scand_delivery_get_file(d);
  /* Hidden (watchers skip it) and found again by a retry. */
  g_autofree char *tmp = hidden_name(d);
  /* Finish an attempt that a crash interrupted. */
  const char *target = recorded_target(d, final_dir);
  struct stat st;
  gboolean have_tmp = fstatat(dfd, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (have_tmp && !S_ISREG(st.st_mode)) {
    unlinkat(dfd, tmp, 0); /* not ours: a regular file is all scand writes there */
    have_tmp = FALSE;
  }
  if (target && !have_tmp && same_size(dfd, target, pdf)) {
    g_autofree char *path = g_build_filename(final_dir, target, NULL);
    scand_delivery_note_state(d, "delivered", path);
    return SCAND_DELIVERY_DONE;
  }
  if (target && have_tmp && same_file(dfd, tmp, target)) {
    /* link() fallback got as far as the link. */
    unlinkat(dfd, tmp, 0);
    fsync(dfd);
    g_autofree char *path = g_build_filename(final_dir, target, NULL);
    scand_delivery_note_state(d, "delivered", path);
    return SCAND_DELIVERY_DONE;
  }
  ScandDeliveryResult found;
  if (!target && have_tmp && st.st_nlink > 1) {
    if (find_linked(d, dfd, final_dir, tmp, base, &st, &found, error))
      return found;
    have_tmp = FALSE;
  }
  if (!have_tmp || !same_size(dfd, tmp, pdf)) {
    int errsv = copy_file(pdf, dfd, tmp, delivery_mode(d));
    if (errsv)
      return fail_errno(d, dir, errsv, error, "cannot write %s/%s", final_dir, tmp);
    scand_fault_point("folder-written");
  }
  /* Only where settle runs next: a USB stick is unmounted before that. */
  gboolean settles = g_strcmp0(scand_delivery_get_config(d, "type"), "folder") == 0;
  if (!target && settles && scand_delivery_is_deferred(d) &&
      link_into(d, dir, dfd, final_dir, tmp, base, &found, error))
    return found;
  for (guint n = 1; n <= MAX_SUFFIX; n++) {
    g_autofree char *candidate = candidate_name(base, n);
    if (fstatat(dfd, candidate, &st, AT_SYMLINK_NOFOLLOW) == 0)
      continue;
    g_autofree char *path = g_build_filename(final_dir, candidate, NULL);
    if (!scand_delivery_set_state(d, "target", path, error))
      return SCAND_DELIVERY_RETRY;
    scand_fault_point("folder-target-recorded");
    g_autoptr(GError) local = NULL;
    if (!scand_fs_rename_noreplace_at(dfd, tmp, candidate, &local)) {
      if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_EXISTS))
        continue;
      return fail_errno(d, dir, errno ? errno : EIO, error, "cannot rename into %s", path);
    }
    return named(d, dir, dfd, final_dir, candidate, error);
  }
  return no_free_name(d, dir, dfd, tmp, base, error);
}

ScandDeliveryResult scand_folder_deliver_to(ScandDelivery *d, const char *dir, const char *subdir, gboolean create,
                                            GError **error) {
  const char *name = scand_delivery_get_name(d);
  g_autoptr(GError) bad = NULL;
  if (!name || !scand_fs_name_check(name, &bad) || (subdir && *subdir && !scand_fs_name_check(subdir, &bad))) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output %s (folder %s): refusing the job's file name: %s",
                scand_delivery_get_output_name(d), dir, bad ? bad->message : "it has none");
    return SCAND_DELIVERY_FAILED;
  }
  struct stat st;
  if (!create && stat(dir, &st) < 0)
    return fail_errno(d, dir, errno, error, "the folder is not there (not mounted?)");
  g_autoptr(GError) local = NULL;
  if (create && !scand_fs_mkdir_p(dir, 0755, &local)) {
    int errsv = local->domain == G_IO_ERROR && local->code == G_IO_ERROR_NOT_DIRECTORY ? ENOTDIR : errno;
    return fail_errno(d, dir, errsv ? errsv : EIO, error, "cannot create it");
  }
  /* Everything below the configured folder is walked without following a
   * link, so the file lands beneath it whatever the name or the folder's
   * content says. */
  const char *slash = strrchr(name, '/');
  g_autofree char *rel_name_dir = slash ? g_strndup(name, (gsize) (slash - name)) : g_strdup("");
  const char *base = slash ? slash + 1 : name;
  g_autofree char *rel = subdir && *subdir
                             ? (*rel_name_dir ? g_strconcat(subdir, "/", rel_name_dir, NULL) : g_strdup(subdir))
                             : g_strdup(rel_name_dir);
  g_autofree char *final_dir = *rel ? g_build_filename(dir, rel, NULL) : g_strdup(dir);
  int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return fail_errno(d, dir, errno, error, "cannot open the folder");
  int dfd = scand_fs_open_dir_beneath(root, rel, TRUE, 0755, &local);
  int errsv = errno;
  close(root);
  if (dfd < 0) {
    if (errsv == ELOOP || errsv == ENOTDIR || errsv == EINVAL) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "output %s (folder %s): %s",
                  scand_delivery_get_output_name(d), dir, local->message);
      return SCAND_DELIVERY_FAILED;
    }
    return fail_errno(d, dir, errsv, error, "cannot create %s", final_dir);
  }
  ScandDeliveryResult result = deliver_into(d, dir, dfd, final_dir, base, error);
  close(dfd);
  return result;
}

static ScandDeliveryResult folder_deliver(ScandDelivery *d, GError **error) {
  const char *path = scand_delivery_get_config(d, "path");
  if (!path || !*path) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output %s: no path is configured",
                scand_delivery_get_output_name(d));
    return SCAND_DELIVERY_FAILED;
  }
  const char *create = scand_delivery_get_config(d, "create");
  gboolean do_create = create && (g_ascii_strcasecmp(create, "true") == 0 || g_ascii_strcasecmp(create, "yes") == 0 ||
                                  strcmp(create, "1") == 0);
  return scand_folder_deliver_to(d, path, NULL, do_create, error);
}

static void folder_check(ScandConfig *config, const char *name, GPtrArray *problems) {
  scand_folder_check_mode(config, name, problems);
  if (!scand_config_get(config, "output", name, "path")) {
    g_autofree char *where = scand_config_where(config, "output", name, NULL);
    g_ptr_array_add(problems, g_strdup_printf("%s: [output %s] path: missing (the folder to write to)", where, name));
  }
}

/* Once a delivery's outcome is durable, the hidden file goes: for a linked
 * delivery (link_into) it was what a retry would have found the delivery by.
 * Found from the job's own durable facts (folder, name) as deliver found
 * it, beneath the folder and never through a link, so that it works also
 * for a job brought back by a crash. */
void scand_folder_settle(ScandDelivery *d) {
  const char *dir = scand_delivery_get_config(d, "path");
  const char *name = scand_delivery_get_name(d);
  if (!dir || !*dir || !name || !scand_fs_name_check(name, NULL))
    return;
  const char *slash = strrchr(name, '/');
  g_autofree char *rel = slash ? g_strndup(name, (gsize) (slash - name)) : g_strdup("");
  g_autofree char *tmp = hidden_name(d);
  int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return;
  int dfd = scand_fs_open_dir_beneath(root, rel, FALSE, 0755, NULL);
  close(root);
  if (dfd < 0)
    return;
  struct stat st;
  if (fstatat(dfd, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
    unlinkat(dfd, tmp, 0);
  close(dfd);
}

const ScandOutputDriver scand_output_folder = {
  .type = "folder",
  .keys = folder_keys,
  .check = folder_check,
  .deliver = folder_deliver,
  .finds_own_attempt = TRUE,
  .settle = scand_folder_settle,
};
