#include "scand/base/fault.h"
#include "scand-build.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void scand_fault_point(const char *name) {
#if SCAND_FAULT_HOOKS
  static GHashTable *counts;
  const char *spec = g_getenv("SCAND_FAULT");
  if (!spec || !*spec)
    return;
  g_auto(GStrv) parts = g_strsplit(spec, "@", 2);
  if (strcmp(parts[0], name) != 0)
    return;
  guint64 wanted = parts[1] ? g_ascii_strtoull(parts[1], NULL, 10) : 1;
  if (!counts)
    counts = g_hash_table_new(g_str_hash, g_str_equal);
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, name)) + 1;
  g_hash_table_insert(counts, (gpointer) name, GUINT_TO_POINTER(n));
  if (n == wanted) {
    /* Tests look for this line to know the fault was reached. */
    static const char msg[] = "scand: fault hook: SIGKILL\n";
    (void) !write(STDERR_FILENO, msg, sizeof msg - 1);
    kill(getpid(), SIGKILL);
  }
#else
  (void) name;
#endif
}
