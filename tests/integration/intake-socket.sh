# systemd socket activation for the mail intake: the port comes from the
# shipped data/scand-smtp.socket's settings through systemd-socket-activate
# (LISTEN_FDS + LISTEN_FDNAMES, as systemd passes them), scand takes it with
# `listen = systemd` and binds nothing itself; a reload keeps the socket; the
# sandboxed unit keeps an empty capability set. Without the socket, the
# daemon says what is missing and does not start.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

unit="$SCAND_SRCDIR/data/scand-smtp.socket"
service="$SCAND_SRCDIR/data/scand.service"
fdname=$(sed -n 's/^FileDescriptorName=//p' "$unit")
assert_eq smtp "$fdname" "the socket's FileDescriptorName"
grep -qx 'Service=scand.service' "$unit" || fail "the socket does not activate scand.service"
grep -qx 'ListenStream=25' "$unit" || fail "the socket does not listen on port 25"
grep -qx 'CapabilityBoundingSet=' "$service" || fail "scand.service must keep an empty capability set"
! grep -q '^AmbientCapabilities' "$service" || fail "scand.service must not ask for capabilities"

port=$(free_port)
mkdir -p "$T/out"
cat >"$T/scand.conf" <<CONF
[intake mfp]
type = smtp
listen = systemd
allow-from = 127.0.0.1
accept-to = *@scan.example

[output out]
type = folder
path = $T/out

[rule all]
source = mail
deliver = out
CONF
"$SCAND" config check --config "$T/scand.conf"

# No socket from systemd: a clear error, no daemon.
if "$SCAND" daemon --config "$T/scand.conf" --no-bus >"$T/nosocket.log" 2>&1; then
  fail "the daemon started without its socket"
fi
assert_contains "$T/nosocket.log" 'systemd passed no socket named "smtp"'

"$SCAND" assemble -o "$T/scan.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
send() {
  swaks --server "127.0.0.1:$port" --from scanner@copier.example --to "$1@${2:-scan.example}" \
    --attach-type application/pdf --attach-name "$1.pdf" --attach "@$T/scan.pdf" >"$T/swaks-$1.log" 2>&1
}
send_ok() { send "$@" || { cat "$T/swaks-$1.log"; fail "swaks $1"; }; }

systemd-socket-activate -l "127.0.0.1:$port" --fdname="$fdname" \
  "$SCAND" daemon --config "$T/scand.conf" --no-bus >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
on_exit "kill -9 $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null"
# Like systemd, systemd-socket-activate starts scand on the first connection,
# which waits in the socket's backlog meanwhile.
send_ok first
daemon_wait_ready
assert_contains "$T/daemon.log" "intake mfp: listening for mail on systemd"
wait_for 30 at_least 1 "$T/out" -name 'first.pdf' || { cat "$T/daemon.log"; fail "first not delivered"; }
# scand listens only on what systemd gave it: fd 3, the first passed socket.
[ "$(readlink "/proc/$DAEMON_PID/fd/3")" != "" ] || fail "fd 3 is gone"
listening=$(ss -Hltn "sport = :$port" | wc -l)
assert_eq 1 "$listening" "listening sockets on the port"

# A reload keeps the socket, and the new policy holds for new sessions.
sed -i 's/^accept-to = .*/accept-to = *@other.example/' "$T/scand.conf"
kill -HUP "$DAEMON_PID"
wait_for 20 grep -q "configuration reloaded" "$T/daemon.log" || fail "no reload"
if send refused; then fail "scan.example still accepted after the reload"; fi
assert_contains "$T/swaks-refused.log" "550 5.7.1"
send_ok second other.example
wait_for 30 at_least 1 "$T/out" -name 'second.pdf' || { cat "$T/daemon.log"; fail "second not delivered"; }
daemon_stop
cmp "$T/scan.pdf" "$T/out/first.pdf" || fail "first.pdf differs"
cmp "$T/scan.pdf" "$T/out/second.pdf" || fail "second.pdf differs"
echo ok
