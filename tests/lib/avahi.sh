# A private avahi-daemon (and the private D-Bus system bus it needs) for
# tests, confined so that nothing reaches a real network or the host's own
# avahi/D-Bus. Use from a bash test, before anything else:
#
#   . "$SCAND_SRCDIR/tests/lib/avahi.sh"
#   avahi_confine "$@"            # re-runs this script confined (see below)
#   . "$SCAND_SRCDIR/tests/lib/common.sh"
#   avahi_start "$T"              # exports DBUS_SYSTEM_BUS_ADDRESS
#   avahi_publish "Name" _uscan._tcp PORT "key=value"…   # waits until registered
#   …                              # avahi-browse / scand list see it
#   (everything started here dies with the script; avahi_stop is optional)
#
# How it is confined. avahi_confine re-executes the calling script under
#   unshare --net --mount --pid --fork --mount-proc --kill-child
# so the script and all it starts run in
#  * a new network namespace: its only interface is a fresh loopback "lo"
#    (brought up, and given the MULTICAST flag avahi needs, inside the
#    namespace only; the host's lo and real interfaces are untouched and
#    unreachable) plus a veth pair scand0/scand1 with both ends inside it
#    (for an IPv6 link-local address); avahi-daemon is further told
#    allow-interfaces=lo,scand0 and no wide-area DNS-SD. mDNS packets cannot
#    leave the namespace.
#  * a new mount namespace (private propagation) with a tmpfs over /run: the
#    fixed /run/avahi-daemon/{pid,socket} of avahi-daemon do not clash with a
#    system avahi-daemon, and the host's /run/dbus, /run/cups, … are hidden;
#    the tmpfs vanishes with the namespace.
#  * a new PID namespace whose init is the script: when it exits (or is
#    killed, or unshare is killed: --kill-child), the kernel kills every
#    process left in it (dbus-daemon, avahi-daemon, avahi-publish, simulators).
# The private bus runs from a copy of /usr/share/dbus-1/system.conf listening
# on $dir/system_bus_socket (DBUS_SYSTEM_BUS_ADDRESS points there), with its
# pid file in $dir and the system.d policy directories (avahi's policy lets
# root own org.freedesktop.Avahi). Needs root (unshare, mount, ip).

AVAHI_PID=
AVAHI_DBUS_PID=
AVAHI_PUBLISH_PIDS=()
AVAHI_DIR=

# Re-executes the calling script confined as described above, unless already.
avahi_confine() {
  if [ "${SCAND_AVAHI_CONFINED:-}" != 1 ]; then
    export SCAND_AVAHI_CONFINED=1
    exec unshare --net --mount --pid --fork --mount-proc --kill-child -- bash "$0" "$@"
  fi
  mount -t tmpfs -o mode=0755 scand-test-run /run
  ip link set lo up
  ip link set lo multicast on
  # A veth pair with both ends in this namespace gives an interface with an
  # IPv6 link-local address (fe80::…%scand0), which lo never has.
  sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip link add scand0 type veth peer name scand1
  ip link set scand0 up
  ip link set scand1 up
  # Only the namespace's own interfaces may exist here.
  if [ "$(ip -o link show | wc -l)" -ne 3 ]; then
    echo "avahi_confine: unexpected interfaces in the test namespace" >&2
    ip -o link show >&2
    exit 1
  fi
}

# Starts the private system bus and avahi-daemon with their files in $1/avahi.
avahi_start() {
  [ "${SCAND_AVAHI_CONFINED:-}" = 1 ] || { echo "avahi_start: call avahi_confine first" >&2; return 1; }
  AVAHI_DIR=$1/avahi
  mkdir -p "$AVAHI_DIR"
  chmod 0755 "$1" "$AVAHI_DIR"   # dbus-daemon drops to messagebus
  sed -e "s|<listen>.*</listen>|<listen>unix:path=$AVAHI_DIR/system_bus_socket</listen>|" \
      -e "s|<pidfile>.*</pidfile>|<pidfile>$AVAHI_DIR/dbus.pid</pidfile>|" \
      -e "s|<includedir>system.d</includedir>|<includedir>/usr/share/dbus-1/system.d</includedir>|" \
      /usr/share/dbus-1/system.conf >"$AVAHI_DIR/bus.conf"
  grep -q "unix:path=$AVAHI_DIR/system_bus_socket" "$AVAHI_DIR/bus.conf" ||
    { echo "avahi_start: could not rewrite the bus config" >&2; return 1; }
  dbus-daemon --config-file="$AVAHI_DIR/bus.conf" --nofork --nosyslog >"$AVAHI_DIR/dbus.log" 2>&1 &
  AVAHI_DBUS_PID=$!
  export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$AVAHI_DIR/system_bus_socket
  local i
  for i in $(seq 1 100); do
    [ -S "$AVAHI_DIR/system_bus_socket" ] && break
    sleep 0.05
  done
  [ -S "$AVAHI_DIR/system_bus_socket" ] || { cat "$AVAHI_DIR/dbus.log" >&2; return 1; }

  cat >"$AVAHI_DIR/avahi-daemon.conf" <<EOF
[server]
host-name=scand-test
domain-name=local
use-ipv4=yes
use-ipv6=yes
allow-interfaces=lo,scand0
enable-dbus=yes
disallow-other-stacks=no
ratelimit-interval-usec=0
[wide-area]
enable-wide-area=no
[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
publish-domain=no
[reflector]
enable-reflector=no
[rlimits]
EOF
  avahi-daemon -f "$AVAHI_DIR/avahi-daemon.conf" --no-drop-root --no-chroot --no-rlimits \
    >"$AVAHI_DIR/avahi.log" 2>&1 &
  AVAHI_PID=$!
  for i in $(seq 1 200); do
    grep -q "Server startup complete" "$AVAHI_DIR/avahi.log" && return 0
    if ! kill -0 "$AVAHI_PID" 2>/dev/null; then
      echo "avahi-daemon exited during start-up:" >&2
      cat "$AVAHI_DIR/avahi.log" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "avahi-daemon did not start:" >&2
  cat "$AVAHI_DIR/avahi.log" >&2
  return 1
}

# avahi_publish NAME TYPE PORT [TXT…]: publishes a service until the test
# ends; returns once avahi has registered it.
avahi_publish() {
  local name=$1 n=${#AVAHI_PUBLISH_PIDS[@]}
  local out=$AVAHI_DIR/publish-$n.log
  avahi-publish -s "$@" >"$out" 2>&1 &
  AVAHI_PUBLISH_PIDS+=($!)
  local i
  for i in $(seq 1 200); do
    grep -q "Established under name" "$out" && return 0
    if ! kill -0 "${AVAHI_PUBLISH_PIDS[$n]}" 2>/dev/null; then
      echo "avahi-publish $name failed:" >&2
      cat "$out" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "avahi-publish $name: not registered:" >&2
  cat "$out" >&2
  return 1
}

# Prints the daemon's log (for failing tests).
avahi_dump_log() {
  [ -n "$AVAHI_DIR" ] && cat "$AVAHI_DIR/avahi.log" "$AVAHI_DIR"/publish-*.log >&2 2>/dev/null || true
}

# Stops what avahi_start/avahi_publish started (the PID namespace would too).
avahi_stop() {
  local p
  for p in "${AVAHI_PUBLISH_PIDS[@]}" $AVAHI_PID $AVAHI_DBUS_PID; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${AVAHI_PUBLISH_PIDS[@]}" $AVAHI_PID $AVAHI_DBUS_PID; do
    wait "$p" 2>/dev/null || true
  done
  AVAHI_PUBLISH_PIDS=()
  AVAHI_PID=
  AVAHI_DBUS_PID=
}
