/* Protects scand's SIGTERM/SIGINT/SIGHUP handling from libraries that reset
 * it (see signal-guard.c). */
#pragma once

/* From now on, attempts by anyone to change the disposition of SIGTERM, SIGINT
 * and SIGHUP are ignored (they still read the current one). */
void scand_signal_guard_lock(void);
