# Private network namespaces for tests that multicast (WS-Discovery): the
# real network is never touched. Source it after common.sh:
#   . "$SCAND_SRCDIR/tests/lib/netns.sh"
#   netns_enter "$@"           # re-runs the script in a new network namespace
#   netns_peer dev 10.77.0.2 fe80::2   # a second namespace "dev" behind a veth
#   netns_run dev CMD…         # runs CMD inside "dev"
#   netns_spawn dev CMD…; pid=$!   # starts CMD inside "dev" in the background
# This namespace gets veth "wsd0" (10.77.0.1/24, fe80::1); the peer namespace
# "wsd1" with the addresses given. IPv6 link-local addresses are fixed and
# set without duplicate address detection, so they work at once.
# Without root, a user namespace maps the caller to root inside (unshare -r).

# netns_enter ARGS…: unless already inside, re-executes "$0" ARGS… in a new
# network namespace (lo up). The caller's traps do not run in the parent.
netns_enter() {
  if [ -z "${SCAND_IN_NETNS:-}" ]; then
    local userns=()
    [ "$(id -u)" -eq 0 ] || userns=(--map-root-user)
    command -v unshare >/dev/null || fail "unshare (util-linux) is needed"
    SCAND_IN_NETNS=1 exec unshare --net "${userns[@]}" -- "$BASH" "$0" "$@"
  fi
  ip link set lo up
}

declare -A _netns_pids=()

# netns_peer NAME ADDR4 LL6: creates namespace NAME joined to this one by the
# veth pair wsd0 (here, 10.77.0.1/24, fe80::1/64) / wsd1 (there, ADDR4/24,
# LL6/64). A holder process keeps it alive until the test ends.
netns_peer() {
  local name=$1 addr4=$2 ll6=$3
  unshare --net -- sleep 900 &
  local holder=$!
  _netns_pids[$name]=$holder
  on_exit "kill $holder 2>/dev/null; wait $holder 2>/dev/null"
  local ns=/proc/$holder/ns/net here
  here=$(readlink /proc/self/ns/net)
  # Until unshare has run, the holder is still in this namespace.
  local there=
  for _ in $(seq 250); do
    there=$(readlink "$ns" 2>/dev/null || true)
    [ -n "$there" ] && [ "$there" != "$here" ] && break
    sleep 0.02
  done
  [ -n "$there" ] && [ "$there" != "$here" ] || fail "namespace $name did not come up"
  ip link add wsd0 type veth peer name wsd1 netns "$holder" || fail "cannot create a veth pair"
  ip link set dev wsd0 addrgenmode none
  ip addr add 10.77.0.1/24 dev wsd0
  ip -6 addr add fe80::1/64 dev wsd0 nodad
  ip link set wsd0 up
  nsenter --net="$ns" -- sh -c "
    ip link set lo up &&
    ip link set dev wsd1 addrgenmode none &&
    ip addr add $addr4/24 dev wsd1 &&
    ip -6 addr add $ll6/64 dev wsd1 nodad &&
    ip link set wsd1 up" || fail "cannot configure namespace $name"
}

# netns_run NAME CMD…: runs CMD inside namespace NAME (made by netns_peer).
netns_run() {
  local name=$1
  shift
  nsenter --net="/proc/${_netns_pids[$name]}/ns/net" -- "$@"
}

# netns_spawn NAME CMD…: starts CMD inside namespace NAME in the background;
# $! is CMD's own pid (nsenter execs it), so killing $! stops CMD.
netns_spawn() {
  local name=$1
  shift
  nsenter --net="/proc/${_netns_pids[$name]}/ns/net" -- "$@" &
}
