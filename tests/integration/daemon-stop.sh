#!/bin/bash
# SIGTERM at any instant stops the daemon cleanly: with the delivery queue
# looked at every millisecond, a stop that lands while the queue timer fires
# must not remove an unknown main-loop source (a GLib critical, fatal here:
# G_DEBUG=fatal-criticals). 30 stops at random instants after ready.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

: >"$T/scand.conf"
for i in $(seq 1 30); do
  : >"$T/daemon.log"
  daemon_start "$T/scand.conf" --no-bus --queue-interval 1
  sleep "0.0$((RANDOM % 10))"
  kill -TERM "$DAEMON_PID"
  rc=0
  wait "$DAEMON_PID" || rc=$?
  grep -q "scand: stopped" "$T/daemon.log" || { cat "$T/daemon.log" >&2; fail "stop $i: not clean (exit $rc)"; }
  assert_eq 0 "$rc" "stop $i: exit status"
done
echo ok
