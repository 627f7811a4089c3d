/* Durable file-system primitives: every state change scand makes goes through these. */
#pragma once

#include <glib.h>
#include <sys/stat.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Writes data to a temporary file beside path, fsyncs it, renames it over path and
 * fsyncs the directory. After TRUE the content survives a power cut. */
gboolean scand_fs_write_atomic(const char *path, const void *data, gsize len, mode_t mode, GError **error);

/* Like scand_fs_write_atomic() but without any fsync: only for files in a
 * directory nobody relies on yet (a staged job, see job.h), which
 * scand_fs_sync_file_system() makes durable, together with everything else
 * written there, before it is published. */
gboolean scand_fs_write_unsynced(const char *path, const void *data, gsize len, mode_t mode, GError **error);

/* Makes everything written on the file system of fd durable at once
 * (syncfs): one barrier for many files instead of an fsync each. FALSE when
 * a write-back failed since fd was opened (Linux 5.8 on), so open fd before
 * the writes it is to cover: a failure the kernel's own write-back met
 * earlier would go unreported otherwise. what names it in the error. */
gboolean scand_fs_sync_file_system(int fd, const char *what, GError **error);

/* Writes all len bytes of data to fd (again after EINTR and short writes).
 * Returns 0, or the errno of the write that failed. */
int scand_fs_write_all(int fd, const void *data, gsize len);

/* fsyncs a directory so that renames and creations inside it are durable. */
gboolean scand_fs_fsync_dir(const char *dir, GError **error);

/* fsyncs an already written file by path. */
gboolean scand_fs_fsync_path(const char *path, GError **error);

/* Creates dir and missing parents (mode for new ones) and fsyncs each parent that
 * gained an entry. */
gboolean scand_fs_mkdir_p(const char *dir, mode_t mode, GError **error);

/* fsyncs tmp, renames it to final (replacing) and fsyncs the directory of final. */
gboolean scand_fs_commit(const char *tmp, const char *final, GError **error);

/* Renames tmp to final only if final does not exist (renameat2 RENAME_NOREPLACE,
 * falling back to link+unlink where the file system lacks it). Sets errno-style
 * G_IO_ERROR_EXISTS when final exists. Does not fsync. */
gboolean scand_fs_rename_noreplace(const char *tmp, const char *final, GError **error);

/* Like scand_fs_rename_noreplace(), for names relative to the directory dfd. */
gboolean scand_fs_rename_noreplace_at(int dfd, const char *tmp, const char *final, GError **error);

/* Whether name is a relative path that cannot leave the directory it is
 * joined to: not absolute, no empty, "." or ".." component, no control
 * character, valid UTF-8, at most PATH_MAX bytes. FALSE with SCAND_ERROR_INVAL
 * saying which part and why. */
gboolean scand_fs_name_check(const char *name, GError **error);

/* Opens the directory rel beneath the directory root_fd ("" is root_fd's own
 * directory), one component at a time and never following a symbolic link,
 * so that nothing planted below root can lead out of it. With create,
 * missing components are made (mode) and made durable. rel must pass
 * scand_fs_name_check(). Returns a new descriptor, or -1 with error (a
 * G_IO_ERROR from errno: a link or a file in the way is ELOOP or ENOTDIR,
 * named in the message). */
int scand_fs_open_dir_beneath(int root_fd, const char *rel, gboolean create, mode_t mode, GError **error);

/* Reads a whole regular file of at most max bytes (opened without following a
 * FIFO's writer: O_NONBLOCK, then fstat). *data is NUL-terminated and newly
 * allocated; a buffer given up on is cleared first (secrets pass through
 * here). With st_out, reports the fstat of the very file read. Errors are
 * G_IO_ERROR codes with "path: reason". */
gboolean scand_fs_read_limited(const char *path, gsize max, char **data, gsize *len, struct stat *st_out,
                               GError **error);

/* Deletes a directory tree (best effort; symlinks are removed, not followed). */
void scand_fs_remove_tree(const char *path);

/* Sets a GError from errno with "what: strerror" and returns FALSE. The GError
 * code is a GIOErrorEnum from g_io_error_from_errno(); errno is left set to
 * errsv, as it is after every failing function of this module. */
gboolean scand_fs_error_errno(GError **error, int errsv, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

G_END_DECLS
