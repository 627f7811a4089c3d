/* Test-only: the component-by-component walk that scand_fs_open_beneath()
 * falls back to on kernels without openat2, so that tests run it too. */
#pragma once

#include <sys/types.h>

int scand_fs_open_beneath_walk(int dirfd, const char *relpath, int flags, mode_t mode);
