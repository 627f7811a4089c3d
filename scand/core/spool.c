#include "scand/core/spool.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"

#include <errno.h>
#include <gio/gio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Jobs whose state cannot be understood are moved here, never deleted. */
#define SPOOL_QUARANTINE "quarantine"

struct ScandSpool {
  char *dir;
};

char *scand_spool_default_dir(ScandConfig *config) {
  const char *configured = config ? scand_config_get(config, "scand", NULL, "spool") : NULL;
  if (configured && *configured)
    return g_strdup(configured);
  const char *env = g_getenv("SCAND_SPOOL");
  if (env && *env)
    return g_strdup(env);
  return g_build_filename(g_get_user_state_dir(), "scand", "spool", NULL);
}

ScandSpool *scand_spool_open(const char *dir, GError **error) {
  if (!scand_fs_mkdir_p(dir, 0700, error))
    return NULL;
  g_autoptr(ScandSpool) spool = g_new0(ScandSpool, 1);
  spool->dir = g_strdup(dir);
  /* ".new-*" never got its job.ini renamed into place; ".gone-*" was finished
   * and half deleted. Neither holds anything that was accepted. */
  g_autoptr(GDir) d = g_dir_open(dir, 0, error);
  if (!d)
    return NULL;
  const char *name;
  while ((name = g_dir_read_name(d))) {
    if (g_str_has_prefix(name, ".new-") || g_str_has_prefix(name, ".gone-")) {
      g_autofree char *path = g_build_filename(dir, name, NULL);
      int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        scand_fs_remove_tree(path);
      if (fd >= 0)
        close(fd);
    }
  }
  return g_steal_pointer(&spool);
}

void scand_spool_free(ScandSpool *spool) {
  if (!spool)
    return;
  g_free(spool->dir);
  g_free(spool);
}

const char *scand_spool_get_dir(ScandSpool *spool) {
  return spool->dir;
}

static int compare_ids(gconstpointer a, gconstpointer b) {
  return g_strcmp0(*(char *const *) a, *(char *const *) b);
}

/* Whether name has the shape of a job id: "20260101-120000-123456". */
static gboolean id_shaped(const char *name) {
  static const char shape[] = "dddddddd-dddddd-dddddd";
  if (strlen(name) != sizeof shape - 1)
    return FALSE;
  for (guint i = 0; shape[i]; i++)
    if (shape[i] == 'd' ? !g_ascii_isdigit(name[i]) : name[i] != shape[i])
      return FALSE;
  return TRUE;
}

GStrv scand_spool_list_finished(ScandSpool *spool) {
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) d = g_dir_open(spool->dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)))
    if (g_str_has_prefix(name, ".done-") && id_shaped(name + strlen(".done-")))
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_add(names, NULL);
  return (GStrv) g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

GStrv scand_spool_list_jobs(ScandSpool *spool, GError **error) {
  g_autoptr(GDir) d = g_dir_open(spool->dir, 0, error);
  if (!d)
    return NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d))) {
    if (name[0] == '.' || strcmp(name, SPOOL_QUARANTINE) == 0)
      continue;
    /* A job is a directory with a job.ini, or anything named like one
     * (whose state scand_job_open() then finds unreadable). */
    g_autofree char *path = g_build_filename(spool->dir, name, NULL);
    g_autofree char *ini = g_build_filename(path, "job.ini", NULL);
    struct stat st;
    if (lstat(ini, &st) == 0 ||
        (id_shaped(name) && lstat(path, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))))
      g_ptr_array_add(ids, g_strdup(name));
  }
  /* Ids start with the creation time, so name order is age order. */
  g_ptr_array_sort(ids, compare_ids);
  g_ptr_array_add(ids, NULL);
  return (GStrv) g_ptr_array_free(g_steal_pointer(&ids), FALSE);
}

/* spool/quarantine, created on first use; a real directory, never a link. */
static char *quarantine_dir(ScandSpool *spool, gboolean create, GError **error) {
  g_autofree char *dir = g_build_filename(spool->dir, SPOOL_QUARANTINE, NULL);
  if (create && mkdir(dir, 0700) == 0) {
    if (!scand_fs_fsync_dir(spool->dir, error))
      return NULL;
  } else if (create && errno != EEXIST) {
    scand_fs_error_errno(error, errno, "cannot create %s", dir);
    return NULL;
  }
  struct stat st;
  if (lstat(dir, &st) < 0) {
    if (create)
      scand_fs_error_errno(error, errno, "cannot use %s", dir);
    return NULL;
  }
  if (!S_ISDIR(st.st_mode)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_CORRUPT, "%s is not a directory", dir);
    return NULL;
  }
  return g_steal_pointer(&dir);
}

char *scand_spool_get_quarantine_dir(ScandSpool *spool) {
  return g_build_filename(spool->dir, SPOOL_QUARANTINE, NULL);
}

gboolean scand_spool_quarantine(ScandSpool *spool, const char *id, const char *reason, char **where, GError **error) {
  if (!id || !*id || id[0] == '.' || strchr(id, '/') || strcmp(id, SPOOL_QUARANTINE) == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "\"%s\" is not a job id", id ? id : "");
    return FALSE;
  }
  g_autofree char *path = g_build_filename(spool->dir, id, NULL);
  /* The job's lock: a process working on it keeps it (a link or a file in a
   * job's place has no lock to take and is moved as it is). */
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
    int errsv = errno;
    close(fd);
    if (errsv == EWOULDBLOCK) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_BUSY, "job %s is being processed by another scand process", id);
      return FALSE;
    }
    return scand_fs_error_errno(error, errsv, "cannot lock job %s", path);
  }
  g_autofree char *qdir = quarantine_dir(spool, TRUE, error);
  g_autofree char *target = NULL;
  gboolean ok = qdir != NULL;
  for (guint n = 1; ok; n++) {
    g_free(target);
    target = n == 1 ? g_build_filename(qdir, id, NULL) : g_strdup_printf("%s/%s-%u", qdir, id, n);
    g_autoptr(GError) local = NULL;
    if (scand_fs_rename_noreplace(path, target, &local))
      break;
    if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_EXISTS) || n >= 1000) {
      g_propagate_error(error, g_steal_pointer(&local));
      ok = FALSE;
    }
  }
  if (fd >= 0)
    close(fd);
  if (!ok || !scand_fs_fsync_dir(qdir, error) || !scand_fs_fsync_dir(spool->dir, error))
    return FALSE;
  /* Beside the job, not in it: a link in a job's place must not be written through. */
  g_autofree char *reason_path = g_strdup_printf("%s.reason", target);
  g_autofree char *text = g_strdup_printf("%s\n", reason);
  if (!scand_fs_write_atomic(reason_path, text, strlen(text), 0600, error))
    return FALSE;
  if (where)
    *where = g_steal_pointer(&target);
  return TRUE;
}

GStrv scand_spool_list_quarantined(ScandSpool *spool) {
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_autofree char *qdir = quarantine_dir(spool, FALSE, NULL);
  g_autoptr(GDir) d = qdir ? g_dir_open(qdir, 0, NULL) : NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while (d && (name = g_dir_read_name(d)))
    if (name[0] != '.' && !g_str_has_suffix(name, ".reason"))
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, compare_ids);
  for (guint i = 0; i < names->len; i++)
    g_strv_builder_add(b, names->pdata[i]);
  return g_strv_builder_end(b);
}

char *scand_spool_get_quarantine_reason(ScandSpool *spool, const char *name) {
  g_autofree char *path = g_strdup_printf("%s/%s/%s.reason", spool->dir, SPOOL_QUARANTINE, name);
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &text, &len, NULL) || len > 64 * 1024)
    return g_strdup("(no reason recorded)");
  g_strchomp(text);
  return g_steal_pointer(&text);
}

gboolean scand_spool_next_seq(ScandSpool *spool, guint *seq, GError **error) {
  g_autofree char *path = g_build_filename(spool->dir, "seq", NULL);
  g_autofree char *lock_path = g_build_filename(spool->dir, ".seq.lock", NULL);
  int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return scand_fs_error_errno(error, errno, "cannot open %s", lock_path);
  while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
    ;
  g_autofree char *text = NULL;
  guint64 n = 0;
  if (g_file_get_contents(path, &text, NULL, NULL))
    n = g_ascii_strtoull(text, NULL, 10);
  n++;
  g_autofree char *out = g_strdup_printf("%" G_GUINT64_FORMAT "\n", n);
  gboolean ok = scand_fs_write_atomic(path, out, strlen(out), 0600, error);
  close(fd);
  if (ok)
    *seq = (guint) n;
  return ok;
}
