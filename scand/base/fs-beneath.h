/* Opening files and folders beneath a directory that other people can write
 * to (a watched folder): relative to a directory file descriptor, never
 * through a symbolic link, never onto another file system, never above the
 * directory. Nothing here takes a path that is resolved from "/" again. */
#pragma once

#include <glib.h>
#include <sys/stat.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Opens relpath (one or more components separated by "/"; not absolute, no
 * "." or "..") beneath dirfd with flags as for openat(2) (O_NOFOLLOW and
 * O_CLOEXEC are added; O_CREAT is allowed with mode). No component may be a
 * symbolic link (ELOOP) and every component must be on dirfd's file system
 * (EXDEV). Uses openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) where the kernel has it, else
 * walks one component at a time with O_NOFOLLOW and compares devices. Returns
 * a new file descriptor, or -1 with errno set (EINVAL for a bad relpath). */
int scand_fs_open_beneath(int dirfd, const char *relpath, int flags, mode_t mode);

/* Opens the directory relpath beneath dirfd (rules as above), creating the
 * missing components with mkdirat(mode). With must_own, every component must
 * be owned by the effective user and writable by no one else (not group- or
 * world-writable), so that nobody else can swap entries inside it. Returns an
 * O_DIRECTORY file descriptor, or -1 with error naming what is wrong (where is
 * how the caller names dirfd in messages). Does not fsync: the caller fsyncs
 * what must be durable. */
int scand_fs_mkdir_beneath(int dirfd, const char *where, const char *relpath, mode_t mode, gboolean must_own,
                           GError **error);

/* Copies the whole of from_fd (read with pread from offset 0) into a new file
 * name of dirfd (O_EXCL, O_NOFOLLOW; mode before the umask) and fsyncs it
 * when sync (not: a staged job's file, see scand_fs_write_unsynced()).
 * Returns 0 or an errno (EEXIST when name exists); on failure nothing is
 * left. */
int scand_fs_copy_into(int from_fd, int dirfd, const char *name, mode_t mode, gboolean sync);

/* Whether st is a directory that the effective user owns and that neither
 * group nor others can write to. */
gboolean scand_fs_stat_is_private_dir(const struct stat *st);

G_END_DECLS
