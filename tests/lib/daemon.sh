# Starting and stopping `scand daemon` in tests (bash; source after common.sh).
#   daemon_start CONFIG [ARGS…]   starts it in the background, logs to $T/daemon.log
#   daemon_wait_ready             waits for its "ready" line
#   daemon_stop                   SIGTERM and wait
#   daemon_kill                   SIGKILL and wait
#   watch_conf                    the usual watched-folder config in $T/scand.conf

DAEMON_PID=""

daemon_start() {
  local config=$1; shift
  "$SCAND" daemon --config "$config" "$@" >>"$T/daemon.log" 2>&1 &
  DAEMON_PID=$!
  on_exit "kill -9 $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null"
  daemon_wait_ready
}

daemon_wait_ready() {
  local n=0
  until grep -q "scand: ready" "$T/daemon.log" 2>/dev/null && [ "$(grep -c 'scand: ready' "$T/daemon.log")" -ge "${DAEMON_STARTS:-1}" ]; do
    kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$T/daemon.log"; fail "daemon died"; }
    n=$((n + 1)); [ $n -lt 300 ] || { cat "$T/daemon.log"; fail "daemon not ready"; }
    sleep 0.1
  done
}

daemon_stop() {
  kill -TERM "$DAEMON_PID"
  wait "$DAEMON_PID" || true
}

daemon_kill() {
  kill -KILL "$DAEMON_PID" 2>/dev/null || true
  wait "$DAEMON_PID" 2>/dev/null || true
}

# wait_for SECONDS COMMAND…: polls until COMMAND succeeds
wait_for() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.2
  done
}

# bus_start: a private session bus for this test (never the user's).
bus_start() {
  dbus-daemon --session --nofork --nopidfile --print-address=1 >"$T/bus.addr" 2>"$T/bus.log" &
  local pid=$!
  on_exit "kill $pid 2>/dev/null"
  wait_for 10 test -s "$T/bus.addr" || fail "dbus-daemon did not start"
  DBUS_SESSION_BUS_ADDRESS=$(head -1 "$T/bus.addr")
  export DBUS_SESSION_BUS_ADDRESS
  unset DBUS_SYSTEM_BUS_ADDRESS
}

# scand_call METHOD ARGS…: calls org.scand.Daemon1 on the private bus
scand_call() {
  local method=$1; shift
  gdbus call --session --dest org.scand.Daemon1 --object-path /org/scand/Daemon1 \
    --method "org.scand.Daemon1.$method" "$@"
}

daemon_wait_bus() {
  wait_for 20 sh -c 'gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.NameHasOwner org.scand.Daemon1 | grep -q true' || fail "daemon not on the bus"
}

# out_conf: appends to $T/scand.conf an [output out], the folder $T/out, and
# a [rule all] that delivers everything there: how the watch tests end their
# config after their own [watch] section.
out_conf() {
  cat >>"$T/scand.conf" <<CONF

[output out]
type = folder
path = $T/out

[rule all]
deliver = out
CONF
}

# watch_conf: $T/scand.conf watching $T/in (stable-for 1 s), a file moved to
# $T/done once taken and delivered to the folder $T/out: the config of the
# exactly-once tests.
watch_conf() {
  cat >"$T/scand.conf" <<CONF
[watch drop]
path = $T/in
stable-for = 1s
after = move:$T/done
CONF
  out_conf
}
