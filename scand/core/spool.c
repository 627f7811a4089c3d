#include "scand/core/spool.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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

GStrv scand_spool_list_jobs(ScandSpool *spool, GError **error) {
  g_autoptr(GDir) d = g_dir_open(spool->dir, 0, error);
  if (!d)
    return NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d))) {
    if (name[0] == '.')
      continue;
    g_autofree char *ini = g_build_filename(spool->dir, name, "job.ini", NULL);
    if (g_file_test(ini, G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add(ids, g_strdup(name));
  }
  /* Ids start with the creation time, so name order is age order. */
  g_ptr_array_sort(ids, compare_ids);
  g_ptr_array_add(ids, NULL);
  return (GStrv) g_ptr_array_free(g_steal_pointer(&ids), FALSE);
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
