#include "scand/base/log.h"

#include <stdio.h>

void scand_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_strdelimit(msg, "\r\n", ' ');
  fprintf(stderr, "scand: %s\n", msg);
}
