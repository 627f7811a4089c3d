/* Keeps scand's own handling of SIGTERM, SIGINT and SIGHUP once it is set up.
 *
 * Some SANE backends reset signal dispositions from their reader thread: the
 * `test` backend's reader_task() sets SIGTERM to SIG_DFL with sigaction(),
 * which under pthreads changes it for the whole process, so a SIGTERM sent to
 * the daemon mid-scan would kill it instead of letting it finish the page.
 * The executable's sigaction() and signal() come before libc's in symbol
 * lookup, so these wrappers see every such call; after
 * scand_signal_guard_lock() they leave the guarded signals alone. */
#include "scand/base/signal-guard.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

static volatile int locked;

static int guarded(int signum) {
  return locked && (signum == SIGTERM || signum == SIGINT || signum == SIGHUP);
}

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static int real_sigaction(int signum, const struct sigaction *act, struct sigaction *oldact) {
  static sigaction_fn real;
  if (!real)
    real = (sigaction_fn) dlsym(RTLD_NEXT, "sigaction");
  return real(signum, act, oldact);
}

int sigaction(int signum, const struct sigaction *act, struct sigaction *oldact) {
  if (act && guarded(signum))
    return real_sigaction(signum, NULL, oldact);
  return real_sigaction(signum, act, oldact);
}

sighandler_t signal(int signum, sighandler_t handler) {
  struct sigaction act, old;
  memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  act.sa_flags = SA_RESTART;
  sigemptyset(&act.sa_mask);
  if (sigaction(signum, &act, &old) < 0)
    return SIG_ERR;
  return old.sa_handler;
}

void scand_signal_guard_lock(void) {
  locked = 1;
}
