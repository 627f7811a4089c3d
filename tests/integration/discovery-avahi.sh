# `scand list` finds eSCL scanners by DNS-SD (a private avahi-daemon), merges
# one device's _uscan and _uscans services by UUID, adds a CUPS queue whose
# device answers eSCL, keeps SANE devices, and survives hostile TXT records.
#
# Confinement (see tests/lib/avahi.sh): the whole script re-runs under
# `unshare --net --mount --pid --fork --mount-proc --kill-child`: a new network
# namespace whose only interfaces are its own loopback (MULTICAST set there,
# not on the host's lo) and a veth pair with both ends inside it (IPv6
# link-local), avahi-daemon limited to allow-interfaces=lo,scand0 without
# wide-area, a tmpfs over /run (avahi's fixed /run/avahi-daemon paths, no clash
# with a system avahi-daemon; the host's /run/cups and /run/dbus hidden), a
# private D-Bus system bus in $T, and a PID namespace so every process started
# here dies with the script. Must not run in parallel with itself (meson
# table: not parallel) although the namespaces would allow it.
set -euo pipefail
: "${SCAND_SRCDIR:?run me through meson test}" "${SCAND:?run me through meson test}"
. "$SCAND_SRCDIR/tests/lib/avahi.sh"
avahi_confine "$@"
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/cupsd.sh"

on_exit avahi_stop
on_exit cupsd_stop
on_exit 'kill $(jobs -p) 2>/dev/null'

SIM=$SCAND_SRCDIR/tests/escl-sim/escl-sim.py
start_sim() { # start_sim NAME ARGS…: port in $T/NAME.port
  local name=$1
  shift
  /usr/bin/python3 "$SIM" --port-file "$T/$name.port" --lifetime 300 "$@" 2>"$T/$name.log" &
  local i
  for i in $(seq 1 200); do
    [ -s "$T/$name.port" ] && return 0
    sleep 0.05
  done
  cat "$T/$name.log" >&2
  fail "simulator $name did not start"
}

start_sim http --ipv6
start_sim tls --tls
start_sim cups --model brother
P1=$(cat "$T/http.port")
P2=$(cat "$T/tls.port")
P3=$(cat "$T/cups.port")
# The simulator's UUID, as its ScannerCapabilities says (uuid5 of the model).
U=$(/usr/bin/python3 -c 'import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "escl-sim:generic"))')
UB=$(/usr/bin/python3 -c 'import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "escl-sim:brother"))')
curl -sf "http://127.0.0.1:$P1/eSCL/ScannerCapabilities" >"$T/caps.xml" || fail "simulator does not answer"
assert_contains "$T/caps.xml" "$U"

avahi_start "$T" || fail "avahi-daemon did not start"
# One device, two services (plain and TLS), same UUID, as real MFPs do.
avahi_publish "Sim MFP" _uscan._tcp "$P1" "txtvers=1" "rs=eSCL" "ty=Sim MFP" "uuid=$U" \
  "is=platen,adf" "cs=color,grayscale" "duplex=T" "note=Test lab" "pdl=image/jpeg,application/pdf"
avahi_publish "Sim MFP" _uscans._tcp "$P2" "txtvers=1" "rs=/eSCL/" "ty=Sim MFP" "uuid=URN:UUID:${U^^}" \
  "is=platen,adf" "cs=color,grayscale" "duplex=T"
# Hostile records: an rs that tries to leave the path (dropped with a note),
# and one with characters to encode and terminal escapes in its model name.
avahi_publish "Evil" _uscan._tcp "$P1" "rs=../../etc?x#y" "ty=Evil" "uuid=00000000-0000-0000-0000-00000000e0e0"
avahi_publish "Scan Me" _uscan._tcp "$P1" "rs=scan me?x=1" $'ty=Scan\e[2J\e]0;owned\a Me' \
  "uuid=00000000-0000-0000-0000-0000000000a1" "cs=binary"
avahi-browse -rtp _uscan._tcp >"$T/browse" 2>&1 || true
grep -q "Sim\\\\032MFP" "$T/browse" || { cat "$T/browse" >&2; avahi_dump_log; fail "avahi-browse does not see the service"; }

# A CUPS queue for a printer whose host also answers eSCL (on the IPP port).
cupsd_start "$T" || fail "cupsd did not start"
lpadmin -h "$CUPS_SERVER" -p officejet -E -v "ipp://127.0.0.1:$P3/ipp/print" -m raw 2>&1 | grep -v deprecated >&2 || true
lpstat -h "$CUPS_SERVER" -v officejet >"$T/lpstat" 2>&1 || true
assert_contains "$T/lpstat" "127.0.0.1:$P3"
# A driverless queue for the MFP itself: its dnssd: device URI carries the
# UUID, so the queue is named on the MFP's line (no probe needed).
lpadmin -h "$CUPS_SERVER" -p simqueue -E -v "dnssd://Sim%20MFP._ipp._tcp.local/?uuid=$U" -m raw 2>&1 | grep -v deprecated >&2 || true
lpstat -h "$CUPS_SERVER" -v simqueue >"$T/lpstat" 2>&1 || true
assert_contains "$T/lpstat" "uuid=$U"
# cupsGetDests finds the private cupsd through CUPS_SERVER (exported by cupsd_start).
start=$(date +%s.%N)

"$SCAND" list --timeout 5 >"$T/list" 2>"$T/list.err" || { cat "$T/list" "$T/list.err" >&2; fail "scand list failed"; }
end=$(date +%s.%N)
cat "$T/list" "$T/list.err"
echo "scand list --timeout 5 took $(echo "$end - $start" | bc) s (information only)"

# Listed once (UUID dedup), with both URIs and its capabilities.
[ "$(grep -c '^Sim MFP' "$T/list")" -eq 1 ] || fail "Sim MFP is not listed exactly once"
line=$(grep '^Sim MFP' "$T/list")
grep -qF "escl:https://127.0.0.1:$P2/eSCL" <<<"$line" || fail "no https URI: $line"
grep -qF "escl:http://127.0.0.1:$P1/eSCL" <<<"$line" || fail "no http URI: $line"
for word in platen feeder duplex color gray; do
  grep -qw "$word" <<<"$line" || fail "capability $word missing: $line"
done
# The IPv6 link-local sighting (veth scand0) carries its interface scope.
grep -qE "escl:http://\[fe80::[0-9a-f:]+%25scand0\]:$P1/eSCL" <<<"$line" || fail "no scoped IPv6 link-local URI: $line"
# https is preferred: it comes first.
# The line starts with the IPv4 https URI, the link-local ones come last.
grep -qE "^Sim MFP  escl:https://127.0.0.1:$P2/eSCL " <<<"$line" || fail "IPv4 https URI not first: $line"
before_https=${line%%escl:https://*}
before_http=${line%%escl:http://*}
[ "${#before_https}" -lt "${#before_http}" ] || fail "https URIs not before http ones: $line"
# SANE devices are still there.
assert_contains "$T/list" "sane:test:0"
# The hostile records: no URI leaves the path, no escape reaches the terminal.
grep -q "^Evil" "$T/list" && fail "device with an unusable rs is listed"
assert_contains "$T/list.err" "unusable rs"
grep -qF "escl:http://127.0.0.1:$P1/scan%20me%3Fx%3D1" "$T/list" || fail "rs not percent-encoded"
grep -q $'\e' "$T/list" && fail "escape character printed"
grep -q $'\a' "$T/list" && fail "bell character printed"
# The CUPS printer that scans.
grep -F "escl:http://127.0.0.1:$P3/eSCL" "$T/list" >"$T/cups-line" || true
grep -q "^officejet" "$T/cups-line" || fail "CUPS queue officejet not listed with its eSCL URI"

# JSON for programs.
"$SCAND" list --timeout 5 --json >"$T/list.json" 2>"$T/json.err" || fail "scand list --json failed"
/usr/bin/python3 - "$T/list.json" "$U" "$UB" "$P1" "$P2" "$P3" <<'EOF' || fail "JSON check failed"
import json, sys
path, u, ub, p1, p2, p3 = sys.argv[1:]
doc = json.load(open(path))
devs = doc["devices"]
sim = [d for d in devs if d["uuid"] == u]
assert len(sim) == 1, sim
sim = sim[0]
assert sim["name"] == "Sim MFP", sim
assert sim["model"] == "Sim MFP", sim
assert sim["note"] == "Test lab", sim
assert f"escl:https://127.0.0.1:{p2}/eSCL" in sim["uris"], sim
assert f"escl:http://127.0.0.1:{p1}/eSCL" in sim["uris"], sim
assert sim["uris"][0].startswith("escl:https://"), sim
assert "dns-sd" in sim["found_by"], sim
assert "cups:simqueue" in sim["found_by"], sim
assert {"platen", "feeder", "duplex"} <= set(sim["sources"]), sim
assert {"color", "gray"} <= set(sim["color_modes"]), sim
cups = [d for d in devs if "cups:officejet" in d["found_by"]]
assert len(cups) == 1 and cups[0]["uuid"] == ub, cups
assert cups[0]["uris"] == [f"escl:http://127.0.0.1:{p3}/eSCL"], cups
assert any(d["uris"] == ["sane:test:0"] for d in devs), devs
assert not any(d["name"] == "Evil" for d in devs), devs
assert any("unusable rs" in w for w in doc["warnings"]), doc["warnings"]
assert doc["configured"] == [], doc["configured"]
EOF

# Every URI listed for the MFP that is reachable here works with scand itself
# (the link-local ones lead to an interface the simulator does not listen on).
/usr/bin/python3 -c 'import json,sys; [print(u) for d in json.load(open(sys.argv[1]))["devices"] if d["name"] == "Sim MFP" for u in d["uris"] if u.startswith("escl:http://127.")]' \
  "$T/list.json" >"$T/uris"
[ -s "$T/uris" ] || fail "no plain IPv4 URI in the JSON"
while read -r uri; do
  "$SCAND" status "$uri" >"$T/status" 2>&1 || { cat "$T/status" >&2; fail "scand status $uri failed"; }
  assert_contains "$T/status" "State:   idle"
done <"$T/uris"

# Bad --timeout values are usage errors.
for bad in 0 -1 nan 601 x; do
  set +e
  "$SCAND" list --timeout "$bad" >/dev/null 2>"$T/usage"
  rc=$?
  set -e
  assert_eq 2 "$rc" "scand list --timeout $bad exit status"
done

# --no-network: SANE and configuration only.
"$SCAND" list --no-network >"$T/local" 2>&1 || fail "scand list --no-network failed"
assert_contains "$T/local" "sane:test:0"
grep -q "escl:" "$T/local" && fail "--no-network still lists network devices"
# Configured scanners come first, in text and JSON.
cat >"$T/c.conf" <<CONF
[scanner office]
device = escl:http://127.0.0.1:$P1/eSCL
CONF
"$SCAND" list --no-network --config "$T/c.conf" >"$T/conf-list" 2>&1 || fail "scand list --config failed"
head -1 "$T/conf-list" | grep -qF "configured as [scanner office]" || { cat "$T/conf-list" >&2; fail "configured scanner not first"; }
"$SCAND" list --no-network --json --config "$T/c.conf" >"$T/conf.json" || fail "scand list --json --config failed"
/usr/bin/python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["configured"]; assert c == [{"section": "office", "device": sys.argv[2]}], c' \
  "$T/conf.json" "escl:http://127.0.0.1:$P1/eSCL" || fail "configured scanner missing from JSON"
echo "ok"
