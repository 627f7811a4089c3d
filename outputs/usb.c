/* The USB-stick output: finds a mounted stick by file-system label or UUID
 * (or any removable one), and writes the PDF onto it so that it can be pulled
 * safely the moment the delivery is done.
 *
 * Normally the desktop (udisks) or an automounter mounts the stick; on a
 * headless box "mount = true" lets scand (as root) mount a matching stick
 * itself, nosuid/nodev/noexec, and unmount it again after writing. A stick
 * that is not plugged in yet is a RETRY until "wait" has passed since the
 * first attempt that found none; while a delivery runs it watches
 * /proc/self/mountinfo (poll() with POLLPRI) so that a stick plugged in a
 * moment later is used at once. */
#include "outputs/folder.h"
#include "outputs/output-private.h"
#include "outputs/usb-private.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"

#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define USB_WAIT_DEFAULT_S (10 * 60)
/* How long one delivery attempt watches for a stick before handing a RETRY
 * back to the queue; the queue's backoff covers the rest of "wait". */
#define USB_WATCH_SLICE_S 5
#define USB_STATE_FIRST_MISSING "usb-first-missing"
/* The directory scand mounted the stick on (only while it is mounted). */
#define USB_STATE_MOUNTED "usb-mounted"
#define USB_MOUNT_ROOT_DEFAULT "/run/scand/media"
/* How often a delivery that may mount looks for newly plugged devices; those
 * do not change the mount table, so poll() cannot tell. */
#define USB_DEVICE_RESCAN_MS 1000

static const ScandConfigKey usb_keys[] = {
  { "label", SCAND_KEY_STRING, NULL, 0, 0 },
  { "uuid", SCAND_KEY_STRING, NULL, 0, 0 },
  { "any-removable", SCAND_KEY_BOOL, NULL, 0, 0 },
  { "media-root", SCAND_KEY_PATH, NULL, 0, 0 },
  { "subdir", SCAND_KEY_STRING, NULL, 0, 0 },
  { "wait", SCAND_KEY_DURATION, NULL, 0, 0 },
  { "allow-non-removable", SCAND_KEY_BOOL, NULL, 0, 0 },
  { "mount", SCAND_KEY_BOOL, NULL, 0, 0 },
  { "unmount-after", SCAND_KEY_BOOL, NULL, 0, 0 },
  { "mode", SCAND_KEY_STRING, NULL, 0, 0 }, /* of the delivered file (ext4 sticks), octal; default 0640 */
  { NULL, 0, NULL, 0, 0 },
};

static void usb_mount_free(gpointer p) {
  ScandUsbMount *m = p;
  if (!m)
    return;
  g_free(m->root);
  g_free(m->mount_point);
  g_free(m->fstype);
  g_free(m->source);
  g_free(m);
}

char *scand_usb_mountinfo_unescape(const char *field) {
  GString *out = g_string_sized_new(strlen(field));
  for (const char *p = field; *p; p++) {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
      char c = (char) (((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
      /* A NUL would cut the path short and make it name another directory. */
      g_string_append_c(out, c ? c : '?');
      p += 3;
    } else {
      g_string_append_c(out, *p);
    }
  }
  return g_string_free(out, FALSE);
}

/* Parses one mountinfo line into a newly allocated mount, or NULL if malformed. */
static ScandUsbMount *usb_mountinfo_parse_line(const char *line) {
  g_auto(GStrv) f = g_strsplit(line, " ", -1);
  guint n = g_strv_length(f);
  /* id parent major:minor root mount-point options [optional…] - fstype source super-options */
  if (n < 10)
    return NULL;
  guint sep = 0;
  for (guint i = 6; i < n; i++)
    if (strcmp(f[i], "-") == 0) {
      sep = i;
      break;
    }
  if (sep == 0 || sep + 2 >= n)
    return NULL;
  guint64 id, major, minor;
  char *end;
  if (!g_ascii_string_to_unsigned(f[0], 10, 0, G_MAXINT, &id, NULL))
    return NULL;
  major = g_ascii_strtoull(f[2], &end, 10);
  if (end == f[2] || *end != ':' || major > 0xfffff)
    return NULL;
  const char *mp = end + 1;
  minor = g_ascii_strtoull(mp, &end, 10);
  if (end == mp || *end != '\0' || minor > 0xfffff)
    return NULL;
  if (f[3][0] != '/' || f[4][0] != '/')
    return NULL;

  ScandUsbMount *m = g_new0(ScandUsbMount, 1);
  m->mount_id = (int) id;
  m->devno = makedev((unsigned) major, (unsigned) minor);
  m->root = scand_usb_mountinfo_unescape(f[3]);
  m->mount_point = scand_usb_mountinfo_unescape(f[4]);
  m->fstype = scand_usb_mountinfo_unescape(f[sep + 1]);
  m->source = scand_usb_mountinfo_unescape(f[sep + 2]);
  g_auto(GStrv) opts = g_strsplit(f[5], ",", -1);
  m->read_only = g_strv_contains((const char *const *) opts, "ro");
  return m;
}

GPtrArray *scand_usb_mountinfo_parse(const char *text, gsize len, const char *where, GError **error) {
  g_autoptr(GPtrArray) mounts = g_ptr_array_new_with_free_func(usb_mount_free);
  g_autofree char *copy = g_strndup(text, len);
  if (strlen(copy) != len) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: contains a NUL byte", where);
    return NULL;
  }
  g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    if (lines[i][0] == '\0')
      continue;
    ScandUsbMount *m = usb_mountinfo_parse_line(lines[i]);
    if (!m) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s:%u: malformed mountinfo line", where, i + 1);
      return NULL;
    }
    g_ptr_array_add(mounts, m);
  }
  return g_steal_pointer(&mounts);
}

gboolean scand_usb_mount_is_candidate(const ScandUsbMount *mount, const char *media_root) {
  /* Only whole file systems on block devices; bind mounts of a subdirectory
   * would make the same stick show up twice with different contents. */
  if (major(mount->devno) == 0 || strcmp(mount->root, "/") != 0)
    return FALSE;
  if (!media_root)
    return TRUE;
  gsize n = strlen(media_root);
  while (n > 1 && media_root[n - 1] == '/')
    n--;
  if (n == 1 && media_root[0] == '/')
    return strcmp(mount->mount_point, "/") != 0;
  return strncmp(mount->mount_point, media_root, n) == 0 && mount->mount_point[n] == '/' &&
         mount->mount_point[n + 1] != '\0';
}

char *scand_usb_subdir_normalize(const char *subdir, GError **error) {
  if (!subdir)
    return g_strdup("");
  for (const char *p = subdir; *p; p++)
    if ((unsigned char) *p < 0x20 || *p == 0x7f) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "contains a control character");
      return NULL;
    }
  g_auto(GStrv) parts = g_strsplit(subdir, "/", -1);
  g_autoptr(GPtrArray) kept = g_ptr_array_new();
  for (guint i = 0; parts[i]; i++) {
    if (parts[i][0] == '\0' || strcmp(parts[i], ".") == 0)
      continue;
    if (strcmp(parts[i], "..") == 0) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "'%s' climbs out of the stick with '..'", subdir);
      return NULL;
    }
    g_ptr_array_add(kept, parts[i]);
  }
  g_ptr_array_add(kept, NULL);
  return g_strjoinv("/", (char **) kept->pdata);
}

/* What sysfs and the file system say about the device behind a mount. */
typedef struct {
  char *devnode; /* "/dev/sdb1" */
  char *label;   /* NULL when unknown */
  char *uuid;
  char *fstype;       /* "vfat", "ext4"…; NULL unless a file system was found */
  gboolean removable; /* the disk's removable flag, or attached through USB */
  gboolean probed;    /* label/uuid come from reading the superblock */
} UsbDevice;

static void usb_device_clear(UsbDevice *dev) {
  g_clear_pointer(&dev->devnode, g_free);
  g_clear_pointer(&dev->label, g_free);
  g_clear_pointer(&dev->uuid, g_free);
  g_clear_pointer(&dev->fstype, g_free);
}

/* Whether the sysfs attribute dir/name reads "1". */
static gboolean usb_read_sysfs_flag(const char *dir, const char *name) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return FALSE;
  return g_strstrip(text)[0] == '1';
}

/* Fills dev from /sys/dev/block/M:m and the superblock. FALSE when the
 * number is not a block device known to sysfs (e.g. a network file system). */
static gboolean usb_device_probe(dev_t devno, UsbDevice *dev) {
  memset(dev, 0, sizeof *dev);
  g_autofree char *link = g_strdup_printf("/sys/dev/block/%u:%u", major(devno), minor(devno));
  g_autofree char *sys = realpath(link, NULL);
  if (!sys)
    return FALSE;

  g_autofree char *uevent_path = g_build_filename(sys, "uevent", NULL);
  g_autofree char *uevent = NULL;
  if (g_file_get_contents(uevent_path, &uevent, NULL, NULL)) {
    g_auto(GStrv) lines = g_strsplit(uevent, "\n", -1);
    for (guint i = 0; lines[i]; i++)
      if (g_str_has_prefix(lines[i], "DEVNAME="))
        dev->devnode = g_strconcat("/dev/", lines[i] + strlen("DEVNAME="), NULL);
  }
  if (!dev->devnode) {
    char *name = blkid_devno_to_devname(devno);
    dev->devnode = g_strdup(name ? name : "");
    free(name);
  }

  /* The removable flag belongs to the disk, not to its partitions. */
  g_autofree char *partition = g_build_filename(sys, "partition", NULL);
  g_autofree char *disk = g_file_test(partition, G_FILE_TEST_EXISTS) ? g_path_get_dirname(sys) : g_strdup(sys);
  /* Many USB sticks and card readers report removable=0; being on a USB bus
   * is the better sign of something a person can pull out. */
  dev->removable = usb_read_sysfs_flag(disk, "removable") || strstr(disk, "/usb") != NULL;

  blkid_probe pr = dev->devnode[0] ? blkid_new_probe_from_filename(dev->devnode) : NULL;
  if (pr) {
    blkid_probe_enable_superblocks(pr, 1);
    blkid_probe_set_superblocks_flags(pr,
                                      BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
    if (blkid_do_safeprobe(pr) == 0) {
      const char *value = NULL;
      dev->probed = TRUE;
      if (blkid_probe_lookup_value(pr, "LABEL", &value, NULL) == 0)
        dev->label = g_strdup(value);
      if (blkid_probe_lookup_value(pr, "UUID", &value, NULL) == 0)
        dev->uuid = g_strdup(value);
      const char *usage = NULL;
      if (blkid_probe_lookup_value(pr, "USAGE", &usage, NULL) == 0 && strcmp(usage, "filesystem") == 0 &&
          blkid_probe_lookup_value(pr, "TYPE", &value, NULL) == 0)
        dev->fstype = g_strdup(value);
    }
    blkid_free_probe(pr);
  }
  return TRUE;
}

/* udev's encoding of a label in /dev/disk/by-label: anything but
 * alphanumerics and "#+-.:=@_" becomes \xNN. Caller frees. */
static char *usb_udev_encode(const char *s) {
  GString *out = g_string_new(NULL);
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    if (g_ascii_isalnum(*p) || strchr("#+-.:=@_", *p) || *p >= 0x80)
      g_string_append_c(out, (char) *p);
    else
      g_string_append_printf(out, "\\x%02x", *p);
  }
  return g_string_free(out, FALSE);
}

/* Whether /dev/disk/<dir>/<value> (maintained by udev) names devno; used when
 * the superblock cannot be read (no permission on the device node). */
static gboolean usb_udev_link_matches(const char *dir, const char *value, dev_t devno) {
  g_autofree char *enc = usb_udev_encode(value);
  g_autofree char *path = g_build_filename("/dev/disk", dir, enc, NULL);
  struct stat st;
  return stat(path, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devno;
}

static gboolean usb_device_matches(const UsbDevice *dev, dev_t devno, const char *label, const char *uuid) {
  if (label) {
    if (dev->probed ? g_strcmp0(dev->label, label) != 0 : !usb_udev_link_matches("by-label", label, devno))
      return FALSE;
  }
  if (uuid) {
    if (dev->probed ? (!dev->uuid || g_ascii_strcasecmp(dev->uuid, uuid) != 0)
                    : !usb_udev_link_matches("by-uuid", uuid, devno))
      return FALSE;
  }
  return TRUE;
}

/* A bool key as GKeyFile writes it (config check has already vetted it). */
static gboolean usb_parse_bool(const char *text, gboolean def) {
  if (!text)
    return def;
  if (g_ascii_strcasecmp(text, "true") == 0 || g_ascii_strcasecmp(text, "yes") == 0 ||
      g_ascii_strcasecmp(text, "on") == 0 || strcmp(text, "1") == 0)
    return TRUE;
  if (g_ascii_strcasecmp(text, "false") == 0 || g_ascii_strcasecmp(text, "no") == 0 ||
      g_ascii_strcasecmp(text, "off") == 0 || strcmp(text, "0") == 0)
    return FALSE;
  return def;
}

/* The output's settings for one delivery. */
typedef struct {
  const char *output;
  const char *label;
  const char *uuid;
  gboolean any_removable;
  const char *media_root;
  gboolean allow_non_removable;
  gboolean mount;         /* mount a matching stick that nobody mounted */
  gboolean unmount_after; /* unmount it again once written (only if scand mounted it) */
  gint64 wait_s;
  char *subdir; /* relative, "" for the stick's root */
  char *wanted; /* "USB stick labelled SCANS", for messages */
} UsbSettings;

static void usb_settings_clear(UsbSettings *s) {
  g_clear_pointer(&s->subdir, g_free);
  g_clear_pointer(&s->wanted, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(UsbSettings, usb_settings_clear)

/* Reads and checks the output's keys for one delivery. */
static gboolean usb_settings_load(ScandDelivery *d, UsbSettings *s, GError **error) {
  memset(s, 0, sizeof *s);
  s->output = scand_delivery_get_output_name(d);
  s->label = scand_delivery_get_config(d, "label");
  s->uuid = scand_delivery_get_config(d, "uuid");
  if (s->label && !s->label[0])
    s->label = NULL;
  if (s->uuid && !s->uuid[0])
    s->uuid = NULL;
  s->any_removable = usb_parse_bool(scand_delivery_get_config(d, "any-removable"), FALSE);
  s->media_root = scand_delivery_get_config(d, "media-root");
  s->allow_non_removable = usb_parse_bool(scand_delivery_get_config(d, "allow-non-removable"), FALSE);
  s->mount = usb_parse_bool(scand_delivery_get_config(d, "mount"), FALSE);
  /* A stick scand mounted and left mounted would stay mounted, stale, after
   * it is pulled: unmounting is the default. */
  s->unmount_after = usb_parse_bool(scand_delivery_get_config(d, "unmount-after"), TRUE);
  const char *wait = scand_delivery_get_config(d, "wait");
  s->wait_s = USB_WAIT_DEFAULT_S;
  if (wait && !scand_config_parse_duration(wait, &s->wait_s)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output '%s': wait = '%s' is not a duration", s->output, wait);
    return FALSE;
  }
  if (!s->label && !s->uuid && !s->any_removable) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "output '%s': set label, uuid or any-removable = true to say which USB stick to use", s->output);
    return FALSE;
  }
  g_autoptr(GError) local = NULL;
  s->subdir = scand_usb_subdir_normalize(scand_delivery_get_config(d, "subdir"), &local);
  if (!s->subdir) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output '%s': subdir %s", s->output, local->message);
    return FALSE;
  }
  if (s->label && s->uuid)
    s->wanted = g_strdup_printf("USB stick labelled %s with file-system UUID %s", s->label, s->uuid);
  else if (s->label)
    s->wanted = g_strdup_printf("USB stick labelled %s", s->label);
  else if (s->uuid)
    s->wanted = g_strdup_printf("USB stick with file-system UUID %s", s->uuid);
  else
    s->wanted = g_strdup("removable USB stick");
  return TRUE;
}

typedef enum {
  USB_NO_MATCH,
  USB_REFUSED,
  USB_USABLE,
} UsbVerdict;

/* Decides whether dev (mounted at where, or not mounted with where NULL) is
 * the stick the output wants. A match that may not be used sets *refusal
 * (newly allocated; the first one wins). */
static UsbVerdict usb_judge(const UsbSettings *s, const UsbDevice *dev, dev_t devno, const char *where,
                            gboolean read_only, char **refusal) {
  if (!usb_device_matches(dev, devno, s->label, s->uuid))
    return USB_NO_MATCH;
  /* any-removable alone: fixed disks are simply not candidates, unless a
   * media-root narrows the search to mounts made for this purpose (the root
   * file system must never "match"). */
  if (!s->label && !s->uuid && !dev->removable && !(s->allow_non_removable && s->media_root))
    return USB_NO_MATCH;
  if (!dev->removable && !s->allow_non_removable) {
    if (!*refusal) {
      g_autofree char *what =
          where ? g_strdup_printf("%s is on %s, which", where, dev->devnode) : g_strdup(dev->devnode);
      *refusal = g_strdup_printf("%s is not a removable device — refusing it "
                                 "(set allow-non-removable = true to use it anyway)",
                                 what);
    }
    return USB_REFUSED;
  }
  if (read_only) {
    if (!*refusal)
      *refusal = g_strdup_printf("%s (%s) is mounted read-only", where, dev->devnode);
    return USB_REFUSED;
  }
  return USB_USABLE;
}

/* Looks through the mounts for the stick. Returns the mount point (newly
 * allocated) or NULL. */
static char *usb_find_stick(const UsbSettings *s, GPtrArray *mounts, dev_t *devno, char **refusal) {
  for (guint i = 0; i < mounts->len; i++) {
    const ScandUsbMount *m = g_ptr_array_index(mounts, i);
    if (!scand_usb_mount_is_candidate(m, s->media_root))
      continue;
    UsbDevice dev;
    if (!usb_device_probe(m->devno, &dev))
      continue;
    UsbVerdict verdict = usb_judge(s, &dev, m->devno, m->mount_point, m->read_only, refusal);
    usb_device_clear(&dev);
    if (verdict == USB_USABLE) {
      *devno = m->devno;
      return g_strdup(m->mount_point);
    }
  }
  return NULL;
}

/* Whether any mount is of the file system on devno. */
static gboolean usb_devno_mounted(GPtrArray *mounts, dev_t devno) {
  for (guint i = 0; i < mounts->len; i++)
    if (((const ScandUsbMount *) g_ptr_array_index(mounts, i))->devno == devno)
      return TRUE;
  return FALSE;
}

/* Whether something is mounted on path. */
static gboolean usb_is_mount_point(GPtrArray *mounts, const char *path) {
  for (guint i = 0; i < mounts->len; i++)
    if (strcmp(((const ScandUsbMount *) g_ptr_array_index(mounts, i))->mount_point, path) == 0)
      return TRUE;
  return FALSE;
}

/* A directory for the stick below the mount root, named after its label (or
 * UUID, or device), that nothing is mounted on. Newly allocated. */
static char *usb_mount_target(const UsbSettings *s, const UsbDevice *dev, GPtrArray *mounts) {
  const char *root = s->media_root ? s->media_root : USB_MOUNT_ROOT_DEFAULT;
  g_autofree char *node = g_path_get_basename(dev->devnode);
  const char *name = dev->label && *dev->label ? dev->label : dev->uuid && *dev->uuid ? dev->uuid : node;
  g_autofree char *base = g_strdup(name);
  for (char *p = base; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("._-", *p))
      *p = '_';
  if (base[0] == '.' || base[0] == '\0') {
    g_autofree char *old = g_steal_pointer(&base);
    base = g_strconcat("stick", old, NULL);
  }
  for (guint n = 1;; n++) {
    g_autofree char *leaf = n == 1 ? g_strdup(base) : g_strdup_printf("%s-%u", base, n);
    char *target = g_build_filename(root, leaf, NULL);
    if (!usb_is_mount_point(mounts, target))
      return target;
    g_free(target);
  }
}

/* Looks for the stick among the block devices nobody mounted and mounts it
 * (nosuid, nodev, noexec). Returns the mount point (newly allocated) or NULL;
 * a mount that failed for good is a refusal, one worth retrying an error. */
static char *usb_mount_stick(ScandDelivery *d, const UsbSettings *s, GPtrArray *mounts, dev_t *devno, char **refusal,
                             GError **error) {
  g_autoptr(GDir) dir = g_dir_open("/sys/class/block", 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name(dir))) {
    g_autofree char *dev_path = g_build_filename("/sys/class/block", name, "dev", NULL);
    g_autofree char *text = NULL;
    unsigned maj, min;
    if (!g_file_get_contents(dev_path, &text, NULL, NULL) || sscanf(text, "%u:%u", &maj, &min) != 2)
      continue;
    dev_t number = makedev(maj, min);
    if (usb_devno_mounted(mounts, number))
      continue;
    UsbDevice dev;
    if (!usb_device_probe(number, &dev))
      continue;
    if (!dev.fstype || usb_judge(s, &dev, number, NULL, FALSE, refusal) != USB_USABLE) {
      usb_device_clear(&dev);
      continue;
    }
    g_autofree char *target = usb_mount_target(s, &dev, mounts);
    g_autoptr(GError) local = NULL;
    /* Recorded first: after a crash the next attempt knows it may unmount. */
    if (!scand_fs_mkdir_p(target, 0755, &local) || !scand_delivery_set_state(d, USB_STATE_MOUNTED, target, &local)) {
      usb_device_clear(&dev);
      g_propagate_error(error, g_steal_pointer(&local));
      return NULL;
    }
    if (mount(dev.devnode, target, dev.fstype, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME, NULL) < 0) {
      int errsv = errno;
      scand_delivery_set_state(d, USB_STATE_MOUNTED, NULL, NULL);
      rmdir(target);
      g_autofree char *what =
          g_strdup_printf("cannot mount %s (%s) on %s: %s%s", dev.devnode, dev.fstype, target, g_strerror(errsv),
                          errsv == EPERM    ? " (mounting needs root; or let the desktop mount it)"
                          : errsv == ENODEV ? " (this kernel has no driver for that file system)"
                                            : "");
      usb_device_clear(&dev);
      if (errsv == EBUSY || errsv == EIO || errsv == ENXIO || errsv == ENOENT || errsv == ENOMEDIUM)
        g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_RETRY, what);
      else if (!*refusal)
        *refusal = g_steal_pointer(&what);
      return NULL;
    }
    usb_device_clear(&dev);
    *devno = number;
    return g_steal_pointer(&target);
  }
  return NULL;
}

/* Reads mountinfo from fd (rewinding it). Newly allocated. */
static GPtrArray *usb_read_mounts(int fd, GError **error) {
  if (lseek(fd, 0, SEEK_SET) < 0)
    return scand_fs_error_errno(error, errno, "cannot rewind /proc/self/mountinfo"), NULL;
  g_autoptr(GString) text = g_string_new(NULL);
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return scand_fs_error_errno(error, errno, "cannot read /proc/self/mountinfo"), NULL;
    if (n == 0)
      break;
    g_string_append_len(text, buf, n);
  }
  return scand_usb_mountinfo_parse(text->str, text->len, "/proc/self/mountinfo", error);
}

/* Finds the stick among the mounts, or, with mount = true, among the block
 * devices nobody mounted. Returns its mount point (newly allocated) or NULL. */
static char *usb_locate(ScandDelivery *d, const UsbSettings *s, int fd, dev_t *devno, char **refusal, GError **error) {
  g_autoptr(GPtrArray) mounts = usb_read_mounts(fd, error);
  if (!mounts)
    return NULL;
  char *mount_point = usb_find_stick(s, mounts, devno, refusal);
  if (mount_point || *refusal || !s->mount)
    return mount_point;
  return usb_mount_stick(d, s, mounts, devno, refusal, error);
}

/* Writes onto the stick mounted at mount_point (device devno) with the
 * folder output's atomic never-overwrite write, then makes sure the file
 * really landed on the stick and that all of it is on the medium. */
static ScandDeliveryResult usb_write(ScandDelivery *d, const UsbSettings *s, const char *mount_point, dev_t devno,
                                     GError **error) {
  /* A stick pulled since it was found leaves an empty mount-point directory
   * on the root file system; nothing may be written there. */
  struct stat st;
  if (stat(mount_point, &st) < 0 || st.st_dev != devno) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_RETRY, "output '%s': the %s at %s was removed — will retry", s->output,
                s->wanted, mount_point);
    return SCAND_DELIVERY_RETRY;
  }
  /* The stick's content is not ours: the subdirectory is walked from the
   * mount point without following links (a link on the stick could point
   * anywhere on this machine). */
  ScandDeliveryResult result = scand_folder_deliver_to(d, mount_point, s->subdir, FALSE, error);
  if (result != SCAND_DELIVERY_DONE)
    return result;

  /* Pulled while writing: the file must not stay on the root file system. */
  const char *delivered = scand_delivery_get_state(d, "delivered");
  if (delivered && stat(delivered, &st) == 0 && st.st_dev != devno) {
    unlink(delivered);
    scand_delivery_set_state(d, "delivered", NULL, NULL);
    scand_delivery_set_state(d, "target", NULL, NULL);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_RETRY,
                "output '%s': the %s at %s was removed while writing — will retry", s->output, s->wanted, mount_point);
    return SCAND_DELIVERY_RETRY;
  }
  int dfd = open(mount_point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || syncfs(dfd) < 0) {
    int errsv = errno;
    if (dfd >= 0)
      close(dfd);
    scand_fs_error_errno(error, errsv, "output '%s': cannot flush the stick at %s", s->output, mount_point);
    return SCAND_DELIVERY_RETRY;
  }
  close(dfd);
  return SCAND_DELIVERY_DONE;
}

/* Seconds since the first attempt that found no stick, recording now as that
 * first attempt if there was none. */
static gboolean usb_missing_since(ScandDelivery *d, gint64 now, gint64 *elapsed, GError **error) {
  const char *first = scand_delivery_get_state(d, USB_STATE_FIRST_MISSING);
  gint64 t;
  if (first && g_ascii_string_to_signed(first, 10, 0, G_MAXINT64, &t, NULL) && t <= now) {
    *elapsed = now - t;
    return TRUE;
  }
  g_autofree char *value = g_strdup_printf("%" G_GINT64_FORMAT, now);
  *elapsed = 0;
  return scand_delivery_set_state(d, USB_STATE_FIRST_MISSING, value, error);
}

/* Seconds as the shortest config-style duration ("10m", "2s"); newly allocated. */
static char *usb_format_duration(gint64 s) {
  if (s % 86400 == 0 && s >= 86400)
    return g_strdup_printf("%" G_GINT64_FORMAT "d", s / 86400);
  if (s % 3600 == 0 && s >= 3600)
    return g_strdup_printf("%" G_GINT64_FORMAT "h", s / 3600);
  if (s % 60 == 0 && s >= 60)
    return g_strdup_printf("%" G_GINT64_FORMAT "m", s / 60);
  return g_strdup_printf("%" G_GINT64_FORMAT "s", s);
}

/* Delivers onto the stick, waiting a few seconds for it to appear. */
static ScandDeliveryResult usb_deliver(ScandDelivery *d, GError **error) {
  g_auto(UsbSettings) s;
  if (!usb_settings_load(d, &s, error))
    return SCAND_DELIVERY_FAILED;

  int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    scand_fs_error_errno(error, errno, "output '%s': cannot open /proc/self/mountinfo", s.output);
    return SCAND_DELIVERY_FAILED;
  }
  g_autofree char *refusal = NULL;
  g_autofree char *mount_point = NULL;
  g_autoptr(GError) local = NULL;
  gint64 elapsed = 0;
  dev_t devno = 0;
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;

  mount_point = usb_locate(d, &s, fd, &devno, &refusal, &local);
  if (!mount_point && !local && !refusal) {
    if (!usb_missing_since(d, now, &elapsed, &local))
      goto out;
    /* Watch the mount table until the stick appears or this slice is over. */
    gint64 remaining = s.wait_s - elapsed;
    gint64 deadline = g_get_monotonic_time() + MIN(remaining, USB_WATCH_SLICE_S) * G_USEC_PER_SEC;
    while (!mount_point && !local && !refusal && remaining > 0) {
      gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
      if (left_ms <= 0)
        break;
      struct pollfd pfd = { .fd = fd, .events = POLLPRI };
      int r = poll(&pfd, 1, (int) MIN(left_ms, s.mount ? USB_DEVICE_RESCAN_MS : G_MAXINT));
      if (r < 0 && errno != EINTR) {
        scand_fs_error_errno(&local, errno, "cannot watch /proc/self/mountinfo");
        break;
      }
      if (r > 0 || (r == 0 && s.mount))
        mount_point = usb_locate(d, &s, fd, &devno, &refusal, &local);
    }
  }

out:
  close(fd);
  if (local) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "output '%s': %s", s.output, local->message);
    return SCAND_DELIVERY_RETRY;
  }
  if (refusal) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_DENIED, "output '%s': %s", s.output, refusal);
    return SCAND_DELIVERY_FAILED;
  }
  if (!mount_point) {
    g_autofree char *wait = usb_format_duration(s.wait_s);
    g_autofree char *where = s.media_root ? g_strdup_printf(" under %s", s.media_root) : g_strdup("");
    if (elapsed >= s.wait_s) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND,
                  "output '%s': no %s was plugged in%s within %s — giving up", s.output, s.wanted, where, wait);
      return SCAND_DELIVERY_FAILED;
    }
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_RETRY, "output '%s': no %s is plugged in%s — waiting (up to %s)",
                s.output, s.wanted, where, wait);
    return SCAND_DELIVERY_RETRY;
  }

  /* Found: a later absence starts a new wait (losing this in a crash only
   * makes that wait shorter). */
  scand_delivery_note_state(d, USB_STATE_FIRST_MISSING, NULL);
  ScandDeliveryResult result = usb_write(d, &s, mount_point, devno, error);

  /* Only what scand mounted itself, and only once nothing of it is left in
   * memory (usb_write() synced the file system). A busy mount (someone
   * opened it meanwhile) stays; the delivery is done either way. */
  const char *mounted = scand_delivery_get_state(d, USB_STATE_MOUNTED);
  if (s.unmount_after && mounted && strcmp(mounted, mount_point) == 0 && umount2(mount_point, 0) == 0) {
    rmdir(mount_point);
    scand_delivery_set_state(d, USB_STATE_MOUNTED, NULL, NULL);
  }
  return result;
}

/* Extra checks for `scand config check`. */
static void usb_check(ScandConfig *config, const char *name, GPtrArray *problems) {
  scand_folder_check_mode(config, name, problems);
  const char *label = scand_config_get(config, "output", name, "label");
  const char *uuid = scand_config_get(config, "output", name, "uuid");
  const char *any = scand_config_get(config, "output", name, "any-removable");
  if (!label && !uuid && !usb_parse_bool(any, FALSE)) {
    g_autofree char *where = scand_config_where(config, "output", name, NULL);
    g_ptr_array_add(problems, g_strdup_printf("%s: [output %s] set label, uuid or any-removable = true to say "
                                              "which USB stick to use",
                                              where, name));
  }
  const char *unmount = scand_config_get(config, "output", name, "unmount-after");
  if (unmount && !usb_parse_bool(scand_config_get(config, "output", name, "mount"), FALSE)) {
    g_autofree char *where = scand_config_where(config, "output", name, "unmount-after");
    g_ptr_array_add(problems, g_strdup_printf("%s: [output %s] unmount-after: only sticks scand mounted itself are "
                                              "unmounted; set mount = true too",
                                              where, name));
  }
  const char *subdir = scand_config_get(config, "output", name, "subdir");
  g_autoptr(GError) error = NULL;
  g_autofree char *norm = scand_usb_subdir_normalize(subdir, &error);
  if (!norm) {
    g_autofree char *where = scand_config_where(config, "output", name, "subdir");
    g_ptr_array_add(problems, g_strdup_printf("%s: [output %s] subdir: %s", where, name, error->message));
  }
}

const ScandOutputDriver scand_output_usb = {
  .type = "usb",
  .keys = usb_keys,
  .check = usb_check,
  .deliver = usb_deliver,
  .finds_own_attempt = TRUE,
};
