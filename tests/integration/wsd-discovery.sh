#!/bin/bash
# WS-Discovery in a private network namespace (never the real network): the
# WSD simulator and Debian's wsdd (an independent WS-Discovery speaker) live
# in a peer namespace behind a veth pair.
#  - scand's probe finds the simulator over IPv4 and IPv6 with its scanner
#    service URL, model and UUID; finds wsdd (a computer, not a scanner) only
#    when asked for every endpoint, through Resolve since wsdd's ProbeMatch
#    has no address; finds the simulator through Resolve too when it leaves
#    its address out;
#  - scand's monitor hears the simulator's Bye and its Hello with a new
#    instance when it reboots;
#  - `scand list` shows the simulator as a wsd: device, merged by UUID with
#    the eSCL entry of the same device (the eSCL simulator, its UUID) found
#    through a CUPS queue, and `scand scan` scans from the URI it lists, and
#    over IPv6 link-local;
#  - wsdd in discovery mode (an independent client) finds the simulator over
#    IPv4 and IPv6 and fetches its metadata again after the reboot's Hello.
set -euo pipefail
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/netns.sh"
netns_enter "$@"
. "$SCAND_SRCDIR/tests/lib/cupsd.sh"

TOOL=${SCAND_WSDD_TOOL:?run me through meson test}
SIM=$SCAND_SRCDIR/tests/wsd-sim/wsd-sim.py
# The simulator takes the UUID of the eSCL simulator's generic model: one
# device with an eSCL and a WSD side.
UUID=$(/usr/bin/python3 -c 'import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "escl-sim:generic"))')
HOST_UUID=11111111-2222-4333-8444-555555555555
netns_peer dev 10.77.0.2 fe80::2

netns_spawn dev /usr/bin/python3 "$SIM" --listen :: --interface wsd1 --uuid $UUID --adf-pages 2 \
  --page-dir "$T" --port-file "$T/sim.port" --lifetime 300 2>"$T/sim.err"
simpid=$!
on_exit "kill $simpid 2>/dev/null; wait $simpid 2>/dev/null"
for _ in $(seq 200); do [ -s "$T/sim.port" ] && break; sleep 0.05; done
[ -s "$T/sim.port" ] || { cat "$T/sim.err" >&2; fail "simulator did not start"; }
port=$(cat "$T/sim.port")
base=http://10.77.0.2:$port
ctl() { curl -sf -XPOST "$base/sim/control" -d "$1" >/dev/null || fail "control $1 refused"; }

# Debian's wsdd as a host (a Windows-style computer) in the peer namespace.
netns_spawn dev wsdd --interface wsd1 --uuid $HOST_UUID --hostname wsddhost --verbose >"$T/wsdd-host.log" 2>&1
hostpid=$!
on_exit "kill $hostpid 2>/dev/null; wait $hostpid 2>/dev/null"

# wait_log FILE PATTERN SECONDS
wait_log() {
  for _ in $(seq $(($3 * 10))); do
    grep -q -- "$2" "$1" && return 0
    sleep 0.1
  done
  cat "$1" >&2
  fail "\"$2\" not in $1 after $3 s"
}
wait_log "$T/wsdd-host.log" "joined multicast group" 10

# json FILE EXPR: a python expression over the JSON lines of FILE as `lines`.
json() {
  /usr/bin/python3 -c "import json, sys; lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print($2)" "$1"
}

# --- scand's probe ---------------------------------------------------------------
"$TOOL" probe --timeout 2000 wsd0 >"$T/probe" 2>"$T/probe.err" || fail "probe failed: $(cat "$T/probe.err")"
[ "$(json "$T/probe" 'len(lines)')" = 1 ] || fail "probe: not exactly the simulator: $(cat "$T/probe")"
[ "$(json "$T/probe" 'lines[0]["uuid"], lines[0]["name"], lines[0]["manufacturer"], lines[0]["model"]')" = \
  "$UUID wsd-sim Generic MFP wsd-sim Generic MFP" ] || fail "probe: wrong device: $(cat "$T/probe")"
[ "$(json "$T/probe" 'lines[0]["scan_urls"]')" = "['$base/wsd/scan']" ] || fail "probe: scan URL: $(cat "$T/probe")"
[ "$(json "$T/probe" 'sorted(lines[0]["xaddrs"])')" = \
  "['http://10.77.0.2:$port/wsd/device', 'http://[fe80::2%25wsd0]:$port/wsd/device']" ] ||
  fail "probe: not found over both IPv4 and IPv6 (link-local with its zone): $(cat "$T/probe")"

"$TOOL" probe --all --timeout 2000 wsd0 >"$T/probe-all" 2>"$T/probe-all.err" || fail "probe --all failed"
[ "$(json "$T/probe-all" '[(l["uuid"], l["resolved"], l["types"], l["name"]) for l in lines if l["uuid"] == "'$HOST_UUID'"]')" = \
  "[('$HOST_UUID', True, 'wsdp:Device pub:Computer', 'WSD Device wsddhost')]" ] ||
  fail "probe --all: wsdd's computer not found through Resolve: $(cat "$T/probe-all")"

ctl '{"fault": "no-xaddrs"}'
"$TOOL" probe --timeout 2000 wsd0 >"$T/probe-resolve" 2>/dev/null
[ "$(json "$T/probe-resolve" '[l["resolved"] for l in lines]')" = "[True]" ] ||
  fail "a ProbeMatch without XAddrs was not resolved: $(cat "$T/probe-resolve")"
ctl '{"clear": true, "fault": "mute"}'
"$TOOL" probe --timeout 1000 wsd0 >"$T/probe-mute" 2>/dev/null
[ ! -s "$T/probe-mute" ] || fail "a mute device was listed: $(cat "$T/probe-mute")"
ctl '{"clear": true}'

# --- scand's monitor: Bye, then Hello with a new instance, on reboot -----------------
"$TOOL" monitor --seconds 4 wsd0 >"$T/monitor" 2>"$T/monitor.err" &
monpid=$!
on_exit "kill $monpid 2>/dev/null; wait $monpid 2>/dev/null"
wait_log "$T/monitor.err" "listening" 5
before=$(curl -sf "$base/sim/state" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["instance_id"])')
ctl '{"reboot": true}'
wait "$monpid" || fail "monitor failed: $(cat "$T/monitor.err")"
[ "$(json "$T/monitor" '[l["kind"] for l in lines]')" = "['Bye', 'Bye', 'Hello', 'Hello']" ] ||
  fail "monitor: not Bye then Hello over both families, each once: $(cat "$T/monitor")"
[ "$(json "$T/monitor" 'set(l["instance_id"] for l in lines if l["kind"] == "Hello") == {'$((before + 1))'} and all(l["uuid"] == "'$UUID'" for l in lines)')" = True ] ||
  fail "monitor: the Hello does not carry the new instance: $(cat "$T/monitor")"

# --- scand list: merged by UUID with the device's eSCL side (a CUPS queue) ----------
/usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$T/escl.port" --lifetime 300 \
  2>"$T/escl.err" &
esclpid=$!
on_exit "kill $esclpid 2>/dev/null; wait $esclpid 2>/dev/null"
for _ in $(seq 200); do [ -s "$T/escl.port" ] && break; sleep 0.05; done
[ -s "$T/escl.port" ] || { cat "$T/escl.err" >&2; fail "eSCL simulator did not start"; }
eport=$(cat "$T/escl.port")
cupsd_start "$T"
on_exit cupsd_stop
lpadmin -h "$CUPS_SERVER" -p mfp -E -v "ipp://127.0.0.1:$eport/ipp/print" -m raw 2>&1 | grep -v deprecated >&2 || true
"$SCAND" list --json --timeout 2 --interface wsd0 >"$T/list.json" 2>"$T/list.err" ||
  fail "scand list failed: $(cat "$T/list.err")"
/usr/bin/python3 - "$T/list.json" "$UUID" "$base" "$eport" <<'EOF' || fail "scand list: $(cat "$T/list.json")"
import json, sys
path, uuid, base, eport = sys.argv[1:]
devs = [d for d in json.load(open(path))["devices"] if d["uuid"] == uuid]
assert len(devs) == 1, "the device is not listed exactly once"
d = devs[0]
assert "wsd:%s/wsd/scan" % base in d["uris"], d
escl = "escl:http://127.0.0.1:%s/eSCL" % eport
assert escl in d["uris"], d
assert d["uris"].index(escl) < d["uris"].index("wsd:%s/wsd/scan" % base), d
assert "ws-discovery" in d["found_by"] and "cups:mfp" in d["found_by"], d
assert d["model"] == "wsd-sim Generic MFP", d
EOF
uri=$(/usr/bin/python3 -c 'import json, sys; print([u for d in json.load(open(sys.argv[1]))["devices"] for u in d["uris"] if u.startswith("wsd:")][0])' "$T/list.json")
touch "$T/empty.conf"
"$SCAND" scan --config "$T/empty.conf" --spool "$T/spool" --no-daemon -q --device "$uri" --source feeder --resolution 75 \
  --to "$T/out" --name scan.pdf >/dev/null 2>"$T/scan.err" || fail "scan from the listed URI failed: $(cat "$T/scan.err")"
[ "$(pdf_pages "$T/out/scan.pdf")" = 2 ] || fail "the listed device did not give 2 pages"
# The same scanner over IPv6 link-local, its zone in the URI.
ctl '{"adf_pages": 1}'
"$SCAND" scan --config "$T/empty.conf" --spool "$T/spool6" --no-daemon -q \
  --device "wsd:http://[fe80::2%25wsd0]:$port/wsd/scan" --source feeder --resolution 75 \
  --to "$T/out6" --name scan.pdf >/dev/null 2>"$T/scan6.err" || fail "IPv6 link-local scan failed: $(cat "$T/scan6.err")"
[ "$(pdf_pages "$T/out6/scan.pdf")" = 1 ] || fail "the IPv6 link-local scan did not give 1 page"

# --- wsdd (discovery mode) finds the simulator over IPv4 and IPv6 ------------------------
wsdd --discovery --no-host --interface wsd0 --verbose >"$T/wsdd.log" 2>&1 &
wsddpid=$!
on_exit "kill $wsddpid 2>/dev/null; wait $wsddpid 2>/dev/null"
wait_log "$T/wsdd.log" "discovered wsd-sim Generic MFP on 10.77.0.2%wsd0" 15
wait_log "$T/wsdd.log" "discovered wsd-sim Generic MFP on \[fe80::2\]%wsd0" 15
curl -sf -XDELETE "$base/sim/log" >/dev/null
ctl '{"reboot": true}'
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
