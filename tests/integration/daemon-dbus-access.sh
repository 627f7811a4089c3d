# Who may ask what over D-Bus, on a private bus that any local user may join
# (as the system bus is, for the "scanner" group):
# - Scan and GetDeviceState name configured or discovered devices only: an
#   address a caller makes up (eSCL, plain HTTP, a SANE device nobody
#   listed) is refused without any request reaching it (no SSRF), and a
#   configured device's reply body never comes back in an error;
# - CancelJob and RetryJob act on a job only for the user whose Scan made
#   it, root and scand's own user; another user is refused and the job stays.
# Needs root to call as other users (CI runs as root).
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
[ "$(id -u)" -eq 0 ] || fail "this test calls the daemon as other users and must run as root"
nobody=65534 other=1

# The bus: its socket reachable by every user, every user allowed on it.
mkdir -p "$T/bus"
chmod 711 "$T"
chmod 755 "$T/bus"
cat >"$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$T/bus/socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile 2>"$T/bus.log" &
bus_pid=$!
on_exit "kill $bus_pid 2>/dev/null"
wait_for 10 test -S "$T/bus/socket" || fail "dbus-daemon did not start"
export DBUS_SESSION_BUS_ADDRESS="unix:path=$T/bus/socket"
unset DBUS_SYSTEM_BUS_ADDRESS

# as UID METHOD ARGS…: calls org.scand.Daemon1 as user UID.
as() {
  local uid=$1 method=$2
  shift 2
  setpriv --reuid="$uid" --regid="$uid" --clear-groups \
    gdbus call --session --dest org.scand.Daemon1 --object-path /org/scand/Daemon1 \
    --method "org.scand.Daemon1.$method" "$@"
}

# A web server that records every request and answers each with a secret
# in a text/plain body (an internal service a caller would like to read).
cat >"$T/server.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        with open(sys.argv[2], "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
        body = b"SECRET-7f3a internal reply body\n"
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = answer
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
: >"$T/requests"
/usr/bin/python3 "$T/server.py" "$T/port" "$T/requests" &
on_exit "kill $! 2>/dev/null"
wait_for 10 test -s "$T/port" || fail "server did not start"
port=$(cat "$T/port")

cat >"$T/scand.conf" <<CONF
[scanner virtual]
device = sane:test:0
profile = quick

[scanner internal]
device = escl:http://127.0.0.1:$port/eSCL

[profile quick]
source = feeder
pages = 1
resolution = 50

[output gone]
type = folder
path = $T/not-mounted

[rule all]
deliver = gone
CONF
daemon_start "$T/scand.conf" --queue-interval 60000
daemon_wait_bus

# Devices: made-up addresses are refused and never contacted.
# (The configured "internal" is .../eSCL on the same server.)
for device in "escl:http://127.0.0.1:$port/other/eSCL" "escl:http://127.0.0.1:$port/eSCL/" "escl:http://127.0.0.1:$port/x?y=1" \
  "http://127.0.0.1:$port/eSCL" "escl:https://127.0.0.1:$port/eSCL" "wsd:http://127.0.0.1:$port/wsd" \
  "sane:escl:http://127.0.0.1:$port" "sane:test:9" "virtual " "../virtual" "internal/"; do
  if as $nobody GetDeviceState "$device" >"$T/out" 2>"$T/err"; then
    fail "GetDeviceState $device answered: $(cat "$T/out")"
  fi
  assert_contains "$T/err" "no scanner"
  if as $nobody Scan "$device" "" >"$T/out" 2>"$T/err"; then fail "Scan $device started: $(cat "$T/out")"; fi
  assert_contains "$T/err" "no scanner"
done
assert_eq 0 "$(wc -l <"$T/requests")" "requests that reached the made-up address"

# A discovered device (SANE's second test device, not configured) and a
# configured one, by name or by its URI, are fine.
as $nobody ListDevices >"$T/devices"
assert_contains "$T/devices" "sane:test:1"
as $nobody GetDeviceState "sane:test:1" >"$T/state"
assert_contains "$T/state" "('ready',"
as $nobody GetDeviceState virtual >"$T/state"
assert_contains "$T/state" "('ready',"
as $nobody GetDeviceState sane:test:0 >"$T/state"
assert_contains "$T/state" "('ready',"

# A configured device's reply body stays out of what the caller sees.
as $nobody GetDeviceState internal >"$T/state"
assert_contains "$T/state" "('offline',"
assert_contains "$T/state" "HTTP 500"
if grep -q SECRET "$T/state"; then fail "the device's reply body came back: $(cat "$T/state")"; fi
[ "$(wc -l <"$T/requests")" -ge 1 ] || fail "the configured device was not asked"

# Jobs: one made by nobody's Scan (queued: its folder is not there).
gdbus monitor --session --dest org.scand.Daemon1 >"$T/monitor" 2>&1 &
on_exit "kill $! 2>/dev/null"
sleep 0.5
job_of() { sed -n "s/.*jobs\/j\([0-9_]*\)'.*/\1/p" "$1" | tr _ -; }
as $nobody Scan virtual "" >"$T/scan1"
id1=$(job_of "$T/scan1")
[ -n "$id1" ] || fail "no job from $(cat "$T/scan1")"
wait_for 60 grep -q "JobFinished.*'$id1', 'queued'" "$T/monitor" || { cat "$T/monitor" "$T/daemon.log"; fail "no queued result"; }
assert_contains "$SCAND_SPOOL/$id1/job.ini" "owner-uid=$nobody"

# Another user may neither retry nor cancel it.
for method in RetryJob CancelJob; do
  if as $other $method "$id1" 2>"$T/err"; then fail "$method by another user succeeded"; fi
  assert_contains "$T/err" "AccessDenied"
  assert_contains "$T/err" "belongs to another user"
done
[ -f "$SCAND_SPOOL/$id1/job.ini" ] || fail "the job went after a refused CancelJob"
# Its owner may.
as $nobody RetryJob "$id1" >/dev/null
wait_for 30 sh -c "grep -c \"JobFinished.*'$id1', 'queued'\" '$T/monitor' | grep -qx 2" || fail "owner's RetryJob did not run"
as $nobody CancelJob "$id1" >/dev/null
[ ! -e "$SCAND_SPOOL/$id1" ] || fail "owner's CancelJob left the job"

# A job root made: nobody may not touch it; root may.
: >"$T/monitor"
as 0 Scan virtual "" >"$T/scan2"
id2=$(job_of "$T/scan2")
wait_for 60 grep -q "JobFinished.*'$id2', 'queued'" "$T/monitor" || fail "no queued result for root's job"
assert_contains "$SCAND_SPOOL/$id2/job.ini" "owner-uid=0"
if as $nobody CancelJob "$id2" 2>"$T/err"; then fail "CancelJob of root's job by nobody succeeded"; fi
assert_contains "$T/err" "AccessDenied"
as 0 CancelJob "$id2" >/dev/null
[ ! -e "$SCAND_SPOOL/$id2" ] || fail "root's CancelJob left the job"

# A job nobody made, cancelled while it scans by root (the daemon's user).
: >"$T/monitor"
as $nobody Scan virtual "" >"$T/scan3"
id3=$(job_of "$T/scan3")
if as $other CancelJob "$id3" 2>"$T/err"; then fail "CancelJob of a running scan by another user succeeded"; fi
assert_contains "$T/err" "AccessDenied"
as 0 CancelJob "$id3" >/dev/null
# Unknown and malformed ids say so, to anyone.
for id in no-such-job ../../etc "" .hidden; do
  if as $nobody CancelJob "$id" 2>"$T/err"; then fail "CancelJob '$id' succeeded"; fi
done
daemon_stop
echo ok
