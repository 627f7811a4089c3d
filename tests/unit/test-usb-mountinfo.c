/* The USB output's pure parts: reading mountinfo, choosing candidate mounts,
 * and checking the subdir key. */
#include "outputs/usb-private.h"
#include "scand/base/error.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static const char sample[] =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "27 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n"
    "90 27 8:17 / /media/anna/SCANS\\040STICK rw,nosuid,nodev,relatime shared:50 - vfat /dev/sdb1 rw,fmask=0022\n"
    "91 27 7:0 / /tmp/media/stick ro,relatime - ext4 /dev/loop0 rw\n"
    "92 27 8:17 /sub /srv/bind rw,relatime - vfat /dev/sdb1 rw\n";

static const ScandUsbMount *find(GPtrArray *mounts, const char *mount_point) {
  for (guint i = 0; i < mounts->len; i++) {
    const ScandUsbMount *m = g_ptr_array_index(mounts, i);
    if (strcmp(m->mount_point, mount_point) == 0)
      return m;
  }
  return NULL;
}

static void test_parse(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) mounts = scand_usb_mountinfo_parse(sample, strlen(sample), "sample", &error);
  g_assert_no_error(error);
  g_assert_nonnull(mounts);
  g_assert_cmpuint(mounts->len, ==, 5);

  const ScandUsbMount *stick = find(mounts, "/media/anna/SCANS STICK");
  g_assert_nonnull(stick);
  g_assert_cmpint(stick->mount_id, ==, 90);
  g_assert_cmpuint(major(stick->devno), ==, 8);
  g_assert_cmpuint(minor(stick->devno), ==, 17);
  g_assert_cmpstr(stick->fstype, ==, "vfat");
  g_assert_cmpstr(stick->source, ==, "/dev/sdb1");
  g_assert_cmpstr(stick->root, ==, "/");
  g_assert_false(stick->read_only);

  const ScandUsbMount *loop = find(mounts, "/tmp/media/stick");
  g_assert_nonnull(loop);
  g_assert_true(loop->read_only);
}

static void test_unescape(void) {
  g_autofree char *a = scand_usb_mountinfo_unescape("/a\\040b\\011c\\134d\\012e");
  g_assert_cmpstr(a, ==, "/a b\tc\\d\ne");
  /* Not an escape: kept as is. */
  g_autofree char *b = scand_usb_mountinfo_unescape("/x\\9y\\");
  g_assert_cmpstr(b, ==, "/x\\9y\\");
  /* \000 would cut the path short: replaced. */
  g_autofree char *c = scand_usb_mountinfo_unescape("/p\\000q");
  g_assert_cmpstr(c, ==, "/p?q");
}

static void test_malformed(void) {
  static const char *const bad[] = {
    "22 27 0:21 / /proc rw,relatime proc proc rw\n",          /* no "-" separator */
    "x 27 0:21 / /proc rw - proc proc rw\n",                  /* id not a number */
    "22 27 021 / /proc rw,relatime - proc proc rw\n",         /* no major:minor */
    "22 27 0:21 / /proc rw,relatime shared:1 - proc\n",       /* truncated after "-" */
    "22 27 0:21 relative /proc rw,relatime - proc proc rw\n", /* root not absolute */
    "22\n",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) mounts = scand_usb_mountinfo_parse(bad[i], strlen(bad[i]), "bad", &error);
    g_assert_null(mounts);
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    g_assert_true(g_str_has_prefix(error->message, "bad:1: "));
    g_assert_null(strchr(error->message, '\n'));
  }
  /* A NUL inside the text is refused, not silently cut. */
  static const char nul[] = "22 27 0:21 / /proc rw - proc proc rw\n\0garbage";
  g_autoptr(GError) error = NULL;
  g_assert_null(scand_usb_mountinfo_parse(nul, sizeof nul - 1, "nul", &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

static void test_candidates(void) {
  g_autoptr(GPtrArray) mounts = scand_usb_mountinfo_parse(sample, strlen(sample), "sample", NULL);
  g_assert_nonnull(mounts);
  /* proc is no block device; a bind mount of a subdirectory is not the stick. */
  g_assert_false(scand_usb_mount_is_candidate(find(mounts, "/proc"), NULL));
  g_assert_false(scand_usb_mount_is_candidate(find(mounts, "/srv/bind"), NULL));
  g_assert_true(scand_usb_mount_is_candidate(find(mounts, "/media/anna/SCANS STICK"), NULL));
  g_assert_true(scand_usb_mount_is_candidate(find(mounts, "/"), NULL));

  /* With media-root, only mounts strictly below it. */
  g_assert_true(scand_usb_mount_is_candidate(find(mounts, "/tmp/media/stick"), "/tmp/media"));
  g_assert_true(scand_usb_mount_is_candidate(find(mounts, "/tmp/media/stick"), "/tmp/media/"));
  g_assert_false(scand_usb_mount_is_candidate(find(mounts, "/tmp/media/stick"), "/tmp/med"));
  g_assert_false(scand_usb_mount_is_candidate(find(mounts, "/tmp/media/stick"), "/tmp/media/stick"));
  g_assert_false(scand_usb_mount_is_candidate(find(mounts, "/media/anna/SCANS STICK"), "/tmp/media"));
  g_assert_false(scand_usb_mount_is_candidate(find(mounts, "/"), "/"));
  g_assert_true(scand_usb_mount_is_candidate(find(mounts, "/media/anna/SCANS STICK"), "/"));
}

static void test_subdir(void) {
  struct {
    const char *in, *out;
  } ok[] = {
    { NULL, "" },          { "", "" }, { "/", "" }, { "Scans", "Scans" }, { "/Scans/2026/", "Scans/2026" },
    { "./a//b/.", "a/b" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *norm = scand_usb_subdir_normalize(ok[i].in, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(norm, ==, ok[i].out);
  }
  static const char *const bad[] = { "..", "a/../..", "/../etc", "a\nb" };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(scand_usb_subdir_normalize(bad[i], &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  }
}

/* The real table of this process parses, and its root file system is in it. */
static void test_self(void) {
  g_autofree char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents("/proc/self/mountinfo", &text, &len, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) mounts = scand_usb_mountinfo_parse(text, len, "/proc/self/mountinfo", &error);
  g_assert_no_error(error);
  g_assert_nonnull(find(mounts, "/"));
  g_assert_nonnull(find(mounts, "/proc"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/usb/mountinfo/parse", test_parse);
  g_test_add_func("/usb/mountinfo/unescape", test_unescape);
  g_test_add_func("/usb/mountinfo/malformed", test_malformed);
  g_test_add_func("/usb/mountinfo/self", test_self);
  g_test_add_func("/usb/candidates", test_candidates);
  g_test_add_func("/usb/subdir", test_subdir);
  return g_test_run();
}
