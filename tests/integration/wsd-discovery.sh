#!/bin/bash
# WS-Discovery in a private network namespace (never the real network): the
# WSD simulator in a peer namespace behind a veth pair answers Probe over IPv4
# and IPv6 and says Hello again after a reboot, as Debian's wsdd (discovery
# mode, an independent WS-Discovery client) sees it.
set -euo pipefail
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/netns.sh"
netns_enter "$@"

SIM=$SCAND_SRCDIR/tests/wsd-sim/wsd-sim.py
UUID=5b0c3b8e-2f4e-4a57-9d07-3f1b6a6c0d11
netns_peer dev 10.77.0.2 fe80::2

netns_spawn dev /usr/bin/python3 "$SIM" --listen :: --interface wsd1 --uuid $UUID \
  --port-file "$T/sim.port" --lifetime 300 2>"$T/sim.err"
simpid=$!
on_exit "kill $simpid 2>/dev/null; wait $simpid 2>/dev/null"
for _ in $(seq 200); do [ -s "$T/sim.port" ] && break; sleep 0.05; done
[ -s "$T/sim.port" ] || { cat "$T/sim.err" >&2; fail "simulator did not start"; }
base=http://10.77.0.2:$(cat "$T/sim.port")

# wait_log FILE PATTERN SECONDS
wait_log() {
  for _ in $(seq $(($3 * 10))); do
    grep -q -- "$2" "$1" && return 0
    sleep 0.1
  done
  cat "$1" >&2
  fail "\"$2\" not in $1 after $3 s"
}

# --- wsdd (discovery mode) finds the simulator over IPv4 and IPv6 ---------------
wsdd --discovery --no-host --interface wsd0 --verbose >"$T/wsdd.log" 2>&1 &
wsddpid=$!
on_exit "kill $wsddpid 2>/dev/null; wait $wsddpid 2>/dev/null"
wait_log "$T/wsdd.log" "discovered wsd-sim Generic MFP on 10.77.0.2%wsd0" 15
wait_log "$T/wsdd.log" "discovered wsd-sim Generic MFP on \[fe80::2\]%wsd0" 15

# --- a reboot: Bye, then Hello with a new instance; wsdd fetches metadata again --
curl -sf -XDELETE "$base/sim/log" >/dev/null
curl -sf -XPOST "$base/sim/control" -d '{"reboot": true}' >/dev/null
wait_log "$T/wsdd.log" "Hello from urn:uuid:$UUID on http://10.77.0.2:" 10
for _ in $(seq 50); do
  n=$(curl -sf "$base/sim/log" | /usr/bin/python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin) if e.get("action") == "Get"))')
  [ "$n" -ge 1 ] && break
  sleep 0.1
done
[ "$n" -ge 1 ] || fail "wsdd did not fetch the metadata after the Hello"

echo "wsd-discovery: all checks passed"
