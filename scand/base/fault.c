#include "scand/base/fault.h"
#include "scand-build.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if SCAND_FAULT_HOOKS
/* Blocks the calling thread for good (":stall"): a worker stuck the way a
 * read from a hung mount would leave it. */
static void stall_forever(void) {
  static const char msg[] = "scand: fault hook: stall\n";
  (void) !write(STDERR_FILENO, msg, sizeof msg - 1);
  for (;;)
    pause();
}
#endif

void scand_fault_point(const char *name) {
#if SCAND_FAULT_HOOKS
  static GHashTable *counts;
  G_LOCK_DEFINE_STATIC(counts);
  const char *spec = g_getenv("SCAND_FAULT");
  if (!spec || !*spec)
    return;
  g_auto(GStrv) action = g_strsplit(spec, ":", 2);
  g_auto(GStrv) parts = g_strsplit(action[0], "@", 2);
  if (strcmp(parts[0], name) != 0)
    return;
  guint64 wanted = parts[1] ? g_ascii_strtoull(parts[1], NULL, 10) : 1;
  G_LOCK(counts);
  if (!counts)
    counts = g_hash_table_new(g_str_hash, g_str_equal);
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, name)) + 1;
  g_hash_table_insert(counts, (gpointer) name, GUINT_TO_POINTER(n));
  G_UNLOCK(counts);
  if (n != wanted)
    return;
  if (g_strcmp0(action[1], "stall") == 0)
    stall_forever();
  /* Tests look for this line to know the fault was reached. */
  static const char msg[] = "scand: fault hook: SIGKILL\n";
  (void) !write(STDERR_FILENO, msg, sizeof msg - 1);
  kill(getpid(), SIGKILL);
#else
  (void) name;
#endif
}
