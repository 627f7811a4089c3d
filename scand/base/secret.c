/* Secret files: one place checks their permissions and reads them, for the
 * configuration checker and for outputs reading their passwords at delivery. */
#include "scand/base/secret.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>

/* "readable by group and others, writable by group"; NULL when private. */
static char *mode_exposure(mode_t mode) {
  static const char *const who[] = { NULL, "others", "group", "group and others" };
  guint readers = (mode & S_IRGRP ? 2 : 0) | (mode & S_IROTH ? 1 : 0);
  guint writers = (mode & S_IWGRP ? 2 : 0) | (mode & S_IWOTH ? 1 : 0);
  if (!readers && !writers)
    return NULL;
  if (readers == writers)
    return g_strdup_printf("readable and writable by %s", who[readers]);
  if (readers && writers)
    return g_strdup_printf("readable by %s and writable by %s", who[readers], who[writers]);
  return readers ? g_strdup_printf("readable by %s", who[readers]) : g_strdup_printf("writable by %s", who[writers]);
}

/* The path of a secret: absolute as written, else in $CREDENTIALS_DIRECTORY. */
static char *secret_path(const char *value, char **problem) {
  if (g_path_is_absolute(value))
    return g_strdup(value);
  const char *dir = g_getenv("CREDENTIALS_DIRECTORY");
  if (!dir || !*dir) {
    *problem = g_strdup_printf("\"%s\" is a relative name but $CREDENTIALS_DIRECTORY is not set "
                               "(give an absolute path, or pass it with systemd LoadCredential=)",
                               value);
    return NULL;
  }
  if (strchr(value, '/') || strcmp(value, "..") == 0 || strcmp(value, ".") == 0 || !*value) {
    *problem = g_strdup_printf("\"%s\" is not a credential name", value);
    return NULL;
  }
  return g_build_filename(dir, value, NULL);
}

/* Problem with a secret file's stat, or NULL. */
static char *secret_stat_problem(const char *path, const struct stat *st) {
  if (!S_ISREG(st->st_mode))
    return g_strdup_printf("secret file %s is not a regular file", path);
  g_autofree char *exposure = mode_exposure(st->st_mode);
  if (exposure)
    return g_strdup_printf("secret file %s is %s (mode %04o): run chmod go-rwx %s", path, exposure,
                           (unsigned) (st->st_mode & 07777), path);
  return NULL;
}

char *scand_secret_problem(const char *value) {
  char *problem = NULL;
  g_autofree char *path = secret_path(value, &problem);
  if (!path)
    return problem;
  struct stat st;
  if (stat(path, &st) < 0)
    return g_strdup_printf("secret file %s: %s", path, g_strerror(errno));
  return secret_stat_problem(path, &st);
}

char *scand_secret_read(const char *value, GError **error) {
  g_autofree char *problem = NULL;
  g_autofree char *path = secret_path(value, &problem);
  if (!path) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s", problem);
    return NULL;
  }
  char *data = NULL;
  gsize len = 0;
  struct stat st;
  g_autoptr(GError) local = NULL;
  if (!scand_fs_read_limited(path, SCAND_SECRET_MAX, &data, &len, &st, &local)) {
    g_set_error(error, SCAND_ERROR,
                g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ? SCAND_ERROR_NOT_FOUND : SCAND_ERROR_DENIED,
                "secret file %s", local->message);
    return NULL;
  }
  problem = secret_stat_problem(path, &st);
  if (problem) {
    explicit_bzero(data, len);
    g_free(data);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_DENIED, "%s", problem);
    return NULL;
  }
  if (len > 0 && data[len - 1] == '\n') {
    data[--len] = '\0';
    if (len > 0 && data[len - 1] == '\r')
      data[--len] = '\0';
  }
  return data;
}
