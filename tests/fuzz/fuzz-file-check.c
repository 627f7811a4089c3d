/* Fuzzes the structural completeness checks (scand/core/file-check.h):
 * arbitrary bytes as a file. Whatever the verdict, it must come without a
 * crash, an endless loop or a read outside the file; a failure is one line
 * with the code its kind says; a file judged complete has a known type, and
 * the same bytes give the same verdict twice (no state kept between calls). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "scand/base/error.h"
#include "scand/core/file-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(gboolean ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz-file-check: %s\n", what);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("fuzz-file-check", MFD_CLOEXEC);
  if (fd < 0 || write(fd, data, size) != (ssize_t) size) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  GError *error = NULL;
  ScandFileType type = SCAND_FILE_UNKNOWN;
  gboolean ok = scand_file_check_complete(fd, &type, &error);
  require(type == scand_file_type_sniff(data, MIN(size, 8)), "type differs from the sniffed one");
  if (ok) {
    require(error == NULL, "error set on success");
    require(type != SCAND_FILE_UNKNOWN, "an unknown type judged complete");
  } else {
    require(error && error->domain == SCAND_ERROR, "no scand error");
    require(strchr(error->message, '\n') == NULL, "error of more than one line");
    require((error->code == SCAND_ERROR_UNSUPPORTED) == (type == SCAND_FILE_UNKNOWN), "code does not fit the type");
  }
  GError *again = NULL;
  require(scand_file_check_complete(fd, NULL, &again) == ok, "a second check says otherwise");
  require((again == NULL) == (error == NULL) && (!again || strcmp(again->message, error->message) == 0),
          "a second check says it differently");
  g_clear_error(&again);
  g_clear_error(&error);
  close(fd);
  return 0;
}
