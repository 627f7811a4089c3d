#!/bin/bash
# `scand trust` and `scand status` through the scand binary against an HTTPS
# eSCL simulator: declining changes nothing, --yes (or answering y) pins the
# certificate in the config, `scand config check` accepts the result, and
# `scand status` then reaches the device with the pin.
set -euo pipefail

tmp=$(mktemp -d)
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

/usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$tmp/port" --lifetime 300 \
  --tls --cert-out "$tmp/cert.pem" --adf-pages 3 2>"$tmp/sim.log" &
sim_pid=$!
for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || fail "simulator did not start: $(cat "$tmp/sim.log")"
port=$(cat "$tmp/port")
uri="escl:https://127.0.0.1:$port/eSCL"
fp="sha256:$(openssl x509 -in "$tmp/cert.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')"

conf=$tmp/scand.conf
cat >"$conf" <<EOF
# the hall MFP
[scanner hall]
device = $uri
EOF
cp "$conf" "$tmp/before.conf"

# unpinned: status is refused and names the certificate
set +e
"$SCAND" status "$uri" --config "$conf" >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" != 0 ] || fail "status of an unpinned HTTPS device succeeded"
grep -q "$fp" "$tmp/err" || fail "refusal does not name $fp: $(cat "$tmp/err")"

# declining changes nothing
set +e
echo n | "$SCAND" trust "$uri" --config "$conf" >"$tmp/out" 2>&1; rc=$?
set -e
[ "$rc" != 0 ] || fail "declined trust exited 0"
grep -q "Fingerprint: $fp" "$tmp/out" || fail "trust did not show the fingerprint: $(cat "$tmp/out")"
grep -q 'Trust this certificate? \[y/N\]' "$tmp/out" || fail "trust did not ask"
cmp -s "$conf" "$tmp/before.conf" || fail "declined trust changed the config"

# answering y pins it in [scanner hall]
echo y | "$SCAND" trust "$uri" --config "$conf" >"$tmp/out" 2>&1 || fail "trust failed: $(cat "$tmp/out")"
grep -q "^tls-pin=$fp\$\|^tls-pin = $fp\$" "$conf" || fail "no tls-pin in config: $(cat "$conf")"
grep -q '^# the hall MFP' "$conf" || fail "comment lost: $(cat "$conf")"
[ "$(grep -c '^\[' "$conf")" = 1 ] || fail "a section was added: $(cat "$conf")"
"$SCAND" config check --config "$conf" >"$tmp/check" 2>&1 || fail "config check refused the pin: $(cat "$tmp/check")"

# with the pin, status reaches the device
"$SCAND" status "$uri" --config "$conf" >"$tmp/out" 2>&1 || fail "pinned status failed: $(cat "$tmp/out")"
grep -q 'Feeder:  loaded' "$tmp/out" || fail "unexpected status: $(cat "$tmp/out")"

# --yes on an unknown device creates its section
"$SCAND" trust "$uri" --yes --config "$tmp/new/scand.conf" >"$tmp/out" 2>&1 || fail "trust --yes failed: $(cat "$tmp/out")"
grep -q '^\[scanner 127.0.0.1\]' "$tmp/new/scand.conf" || fail "no new section: $(cat "$tmp/new/scand.conf")"

echo "ok: trust asks, pins, keeps comments; status works with the pin and is refused without"
