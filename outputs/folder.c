#include "outputs/folder.h"
#include "scand/base/progress.h"
#include "outputs/output-private.h"
#include "scand/base/error.h"
#include "scand/base/fault.h"
#include "scand/base/fs.h"

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

/* The output's mode, no wider than the source file's (a watched file's: a
 * private file stays private wherever it is delivered). */
static mode_t delivery_mode(ScandDelivery *d) {
  mode_t mode = DEFAULT_MODE, source;
  parse_mode(scand_delivery_get_config(d, "mode"), &mode);
  if (parse_mode(scand_delivery_get_fact(d, "source-mode"), &source))
    mode &= source;
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

static int copy_file(const char *src, const char *dst, mode_t mode) {
  int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return errno;
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (out < 0) {
    int errsv = errno;
    close(in);
    return errsv;
  }
  /* Exactly the mode asked for, whatever the umask (file systems without
   * modes, such as vfat, refuse: that is fine). */
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
    unlink(dst);
  return errsv;
}

/* "a/scan.pdf", 3 → "a/scan-3.pdf" */
static char *candidate_name(const char *path, guint n) {
  if (n <= 1)
    return g_strdup(path);
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base)
    return g_strdup_printf("%s-%u", path, n);
  return g_strdup_printf("%.*s-%u%s", (int) (dot - path), path, n, dot);
}

static gboolean same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static gboolean same_size(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_size == sb.st_size;
}

ScandDeliveryResult scand_folder_deliver_to(ScandDelivery *d, const char *dir, gboolean create, GError **error) {
  const char *name = scand_delivery_get_name(d);
  const char *pdf = scand_delivery_get_file(d);
  if (!name || !*name || name[0] == '/') {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output %s: job has no valid file name",
                scand_delivery_get_output_name(d));
    return SCAND_DELIVERY_FAILED;
  }
  struct stat st;
  if (!create && stat(dir, &st) < 0)
    return fail_errno(d, dir, errno, error, "the folder is not there (not mounted?)");
  g_autofree char *final_path = g_build_filename(dir, name, NULL);
  g_autofree char *final_dir = g_path_get_dirname(final_path);
  g_autoptr(GError) local = NULL;
  if (!scand_fs_mkdir_p(final_dir, 0755, &local)) {
    int errsv = local->domain == G_IO_ERROR && local->code == G_IO_ERROR_NOT_DIRECTORY ? ENOTDIR : errno;
    return fail_errno(d, dir, errsv ? errsv : EIO, error, "cannot create %s", final_dir);
  }
  /* Hidden (watchers skip it), unique per job and output, and found again by a
   * retry. Output names can be paths (--to DIR), so only their hash goes in. */
  g_autofree char *tmp = g_strdup_printf("%s/.scand-%s-%08x.part", final_dir, scand_delivery_get_job_id(d),
                                         g_str_hash(scand_delivery_get_output_name(d)));

  /* Finish an attempt that a crash interrupted. */
  const char *target = scand_delivery_get_state(d, "target");
  gboolean have_tmp = access(tmp, F_OK) == 0;
  if (target && !have_tmp && access(target, F_OK) == 0 && same_size(target, pdf)) {
    scand_delivery_note_state(d, "delivered", target);
    return SCAND_DELIVERY_DONE;
  }
  if (target && have_tmp && same_file(tmp, target)) {
    /* link() fallback got as far as the link. */
    unlink(tmp);
    scand_fs_fsync_dir(final_dir, NULL);
    scand_delivery_note_state(d, "delivered", target);
    return SCAND_DELIVERY_DONE;
  }
  if (!have_tmp || !same_size(tmp, pdf)) {
    int errsv = copy_file(pdf, tmp, delivery_mode(d));
    if (errsv)
      return fail_errno(d, dir, errsv, error, "cannot write %s", tmp);
    scand_fault_point("folder-written");
  }

  for (guint n = 1; n <= MAX_SUFFIX; n++) {
    g_autofree char *candidate = candidate_name(final_path, n);
    if (access(candidate, F_OK) == 0)
      continue;
    if (!scand_delivery_set_state(d, "target", candidate, error))
      return SCAND_DELIVERY_RETRY;
    scand_fault_point("folder-target-recorded");
    g_clear_error(&local);
    if (!scand_fs_rename_noreplace(tmp, candidate, &local)) {
      if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_EXISTS))
        continue;
      return fail_errno(d, dir, errno ? errno : EIO, error, "cannot rename into %s", candidate);
    }
    g_clear_error(&local);
    if (!scand_fs_fsync_dir(final_dir, &local))
      return fail_errno(d, dir, EIO, error, "cannot fsync %s", final_dir);
    scand_fault_point("folder-renamed");
    scand_delivery_note_state(d, "delivered", candidate);
    return SCAND_DELIVERY_DONE;
  }
  unlink(tmp);
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "output %s (folder %s): %s and %u others like it exist already",
              scand_delivery_get_output_name(d), dir, name, MAX_SUFFIX - 1);
  return SCAND_DELIVERY_FAILED;
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
  return scand_folder_deliver_to(d, path, do_create, error);
}

static void folder_check(ScandConfig *config, const char *name, GPtrArray *problems) {
  scand_folder_check_mode(config, name, problems);
  if (!scand_config_get(config, "output", name, "path")) {
    g_autofree char *where = scand_config_where(config, "output", name, NULL);
    g_ptr_array_add(problems, g_strdup_printf("%s: [output %s] path: missing (the folder to write to)", where, name));
  }
}

const ScandOutputDriver scand_output_folder = {
  .type = "folder",
  .keys = folder_keys,
  .check = folder_check,
  .deliver = folder_deliver,
};
