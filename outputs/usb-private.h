/* The USB-stick output's pure parts, exposed for unit tests and fuzzing:
 * reading /proc/self/mountinfo and deciding which mounts are candidates. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
  int mount_id;
  dev_t devno;       /* st_dev of the mounted file system (major:minor) */
  char *root;        /* path inside the file system that is mounted */
  char *mount_point; /* unescaped ("\040" → " ") */
  char *fstype;
  char *source;       /* e.g. "/dev/sdb1", unescaped */
  gboolean read_only; /* the per-mount "ro" option */
} ScandUsbMount;

/* Parses the text of /proc/<pid>/mountinfo. Returns a newly allocated array
 * of ScandUsbMount (freed with the array), or NULL with a one-line
 * SCAND_ERROR_INVAL error naming the line that is malformed. */
GPtrArray *scand_usb_mountinfo_parse(const char *text, gsize len, const char *where, GError **error);

/* Undoes the octal escapes (\040, \011, \012, \134) the kernel uses in
 * mountinfo paths. Caller frees. */
char *scand_usb_mountinfo_unescape(const char *field);

/* Whether a mount can hold a USB stick's file system: a block device
 * (major != 0) mounted at its own root, and, with media_root set, mounted
 * strictly below media_root. */
gboolean scand_usb_mount_is_candidate(const ScandUsbMount *mount, const char *media_root);

/* Checks a "subdir" value: relative or absolute inside the stick, no "..",
 * no control characters. Returns the relative form (newly allocated, "" for
 * the root) or NULL with an error. */
char *scand_usb_subdir_normalize(const char *subdir, GError **error);

G_END_DECLS
