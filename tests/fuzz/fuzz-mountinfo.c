/* Fuzzes the USB output's mountinfo reader: any bytes give a list of mounts
 * or a one-line error naming the input, never a crash; every mount it returns
 * has absolute paths and can be asked whether it is a candidate. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/usb-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(gboolean ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz-mountinfo: %s\n", what);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) mounts = scand_usb_mountinfo_parse((const char *) data, size, "mountinfo", &error);
  if (!mounts) {
    require(error != NULL && g_str_has_prefix(error->message, "mountinfo"), "error without the input's name");
    require(strchr(error->message, '\n') == NULL, "error on more than one line");
    return 0;
  }
  for (guint i = 0; i < mounts->len; i++) {
    const ScandUsbMount *m = g_ptr_array_index(mounts, i);
    require(m->mount_point[0] == '/' && m->root[0] == '/', "relative path in a parsed mount");
    scand_usb_mount_is_candidate(m, NULL);
    scand_usb_mount_is_candidate(m, "/media");
    scand_usb_mount_is_candidate(m, "/");
  }
  return 0;
}
