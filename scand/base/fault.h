/* Test-only fault hook: kill the process at a named stage boundary.
 *
 * SCAND_FAULT=name[@N] in the environment makes the Nth (default first) call of
 * scand_fault_point(name) raise SIGKILL, so crash tests can stop scand exactly at
 * each durable step; SCAND_FAULT=name[@N]:stall blocks the calling thread for
 * good instead (a worker stuck as on a hung mount, for watchdog tests). Compiled out when the build option fault_hooks is false. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void scand_fault_point(const char *name);

G_END_DECLS
