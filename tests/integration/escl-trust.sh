#!/bin/bash
# `scand trust` and `scand status` through the scand binary against an HTTPS
# eSCL simulator: declining changes nothing, --yes (or answering y) pins the
# certificate in the config, `scand config check` accepts the result, and
# `scand status` then reaches the device with the pin. The pin is written by
# editing the config in place (symbolic links, formatting and conf.d kept).
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

# The config is edited in place: one line added or changed, every other byte
# kept (comments, blank lines, spacing, order, CRLF); a symbolic link stays a
# link and its target gets the pin; the mode is kept.
mkdir -p "$tmp/etc"
printf '# office scanners\r\n\r\n[scanner hall]\r\ndevice=%s\r\nprofile=letter   # A4 soon\r\n\r\n[profile letter]\r\nresolution = 300\r\n' \
  "$uri" >"$tmp/etc/real.conf"
chmod 0640 "$tmp/etc/real.conf"
ln -s "$tmp/etc/real.conf" "$tmp/link.conf"
cp "$tmp/etc/real.conf" "$tmp/real.before"
"$SCAND" trust "$uri" --yes --config "$tmp/link.conf" >"$tmp/out" 2>&1 || fail "trust via a link: $(cat "$tmp/out")"
[ -L "$tmp/link.conf" ] || fail "the symbolic link was replaced by a file"
[ "$(stat -c %a "$tmp/etc/real.conf")" = 640 ] || fail "mode changed to $(stat -c %a "$tmp/etc/real.conf")"
printf '# office scanners\r\n\r\n[scanner hall]\r\ndevice=%s\r\nprofile=letter   # A4 soon\r\ntls-pin=%s\r\n\r\n[profile letter]\r\nresolution = 300\r\n' \
  "$uri" "$fp" >"$tmp/real.expected"
cmp -s "$tmp/real.expected" "$tmp/etc/real.conf" ||
  { diff "$tmp/real.expected" "$tmp/etc/real.conf" | cat -A >&2; fail "trust rewrote more than one line"; }
grep -q "in $tmp/link.conf (a link to $tmp/etc/real.conf)" "$tmp/out" || fail "trust does not say which file it edited: $(cat "$tmp/out")"

# A pin already there (with a note) is changed on its own line, the note kept.
sed -i "s/^tls-pin=.*\r\$/tls-pin=sha256:$(printf '00:%.0s' $(seq 31))00   # old MFP\r/" "$tmp/etc/real.conf"
"$SCAND" trust "$uri" --yes --config "$tmp/link.conf" >"$tmp/out" 2>&1 || fail "trust over an old pin: $(cat "$tmp/out")"
sed -i "s/^tls-pin=.*\r\$/tls-pin=$fp   # old MFP\r/" "$tmp/real.expected"
cmp -s "$tmp/real.expected" "$tmp/etc/real.conf" ||
  { diff "$tmp/real.expected" "$tmp/etc/real.conf" | cat -A >&2; fail "the old pin was not replaced in place"; }
"$SCAND" config check --config "$tmp/link.conf" >"$tmp/check" 2>&1 || fail "config check after trust: $(cat "$tmp/check")"

# Without --config: the section is found where scand reads it (conf.d), and
# the pin goes there, not into a new file that would hide the others.
mkdir -p "$tmp/confdir/conf.d"
printf '[scand]\nlog-level = info\n' >"$tmp/confdir/scand.conf"
printf '[scanner hall]\ndevice = %s\n' "$uri" >"$tmp/confdir/conf.d/10-hall.conf"
cp "$tmp/confdir/scand.conf" "$tmp/main.before"
SCAND_CONFIG_DIR=$tmp/confdir "$SCAND" trust "$uri" --yes >"$tmp/out" 2>&1 || fail "trust in conf.d: $(cat "$tmp/out")"
cmp -s "$tmp/main.before" "$tmp/confdir/scand.conf" || fail "the main file was changed"
printf '[scanner hall]\ndevice = %s\ntls-pin = %s\n' "$uri" "$fp" >"$tmp/hall.expected"
cmp -s "$tmp/hall.expected" "$tmp/confdir/conf.d/10-hall.conf" ||
  { diff "$tmp/hall.expected" "$tmp/confdir/conf.d/10-hall.conf" >&2; fail "the pin did not go to conf.d"; }
[ "$(find "$tmp/confdir" -type f | wc -l)" = 2 ] || fail "trust created a file: $(find "$tmp/confdir" -type f)"
SCAND_CONFIG_DIR=$tmp/confdir "$SCAND" status "$uri" >"$tmp/out" 2>&1 || fail "status with the conf.d pin: $(cat "$tmp/out")"

echo "ok: trust asks, pins, keeps comments; status works with the pin and is refused without"
