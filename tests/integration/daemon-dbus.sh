# The D-Bus API on a private session bus: profiles, a scan started by Scan()
# with progress and completion signals, the PDF at the rule's destination,
# jobs listed and retried, and `scand scan` going through the running daemon.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
bus_start
/usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$T/port" --adf-pages 2 --lifetime 120 2>/dev/null &
on_exit "kill $! 2>/dev/null"
wait_for 20 test -s "$T/port" || fail "simulator did not start"

cat >"$T/scand.conf" <<CONF
[scanner virtual]
device = sane:test:0
profile = quick

[scanner mfp]
device = escl:http://127.0.0.1:$(cat "$T/port")/eSCL

[scanner down]
device = escl:http://127.0.0.1:1/eSCL

[profile quick]
source = feeder
pages = 2
resolution = 50

[output out]
type = folder
path = $T/out
create = true

[output gone]
type = folder
path = $T/not-mounted

[rule gone]
profile = broken-share
deliver = gone

[profile broken-share]
source = flatbed
resolution = 50

[rule all]
deliver = out
name = {device}-{seq}.pdf
CONF
daemon_start "$T/scand.conf" --queue-interval 500
daemon_wait_bus
gdbus monitor --session --dest org.scand.Daemon1 >"$T/monitor" 2>&1 &
on_exit "kill $! 2>/dev/null"
sleep 0.5

scand_call ListProfiles >"$T/profiles"
assert_contains "$T/profiles" "'quick'"
assert_contains "$T/profiles" "'broken-share'"
scand_call ListDevices >"$T/devices"
assert_contains "$T/devices" "sane:test:0"

# What a scanner is doing: a SANE device is ready (free to open); an eSCL
# device says paper in feeder, busy, offline. (Configured ones: D-Bus takes
# no made-up addresses, see daemon-dbus-access.)
scand_call GetDeviceState virtual >"$T/state"
assert_contains "$T/state" "('ready',"
scand_call GetDeviceState mfp >"$T/state"
assert_contains "$T/state" "('paper-in-feeder',"
curl -sf -XPOST "http://127.0.0.1:$(cat "$T/port")/sim/control" -d '{"state": "Processing"}' >/dev/null
scand_call GetDeviceState mfp >"$T/state"
assert_contains "$T/state" "('busy',"
scand_call GetDeviceState down >"$T/state"
assert_contains "$T/state" "('offline',"

job=$(scand_call Scan "virtual" "")
case "$job" in "(objectpath '/org/scand/Daemon1/jobs/"*) ;; *) fail "Scan returned $job" ;; esac
wait_for 60 grep -q "JobFinished" "$T/monitor" || { cat "$T/daemon.log"; fail "no JobFinished signal"; }
grep "JobFinished" "$T/monitor" | grep -q "'done'" || { cat "$T/monitor"; fail "job did not finish as done"; }
grep -q "JobProgress.*'page-saved', uint32 2" "$T/monitor" || { cat "$T/monitor"; fail "no progress signal for page 2"; }
grep -q "JobProgress.*'delivering'" "$T/monitor" || fail "no delivering stage"
pdf="$T/out/virtual-0001.pdf"
[ -f "$pdf" ] || { ls -la "$T/out" "$T"; fail "PDF not at the rule's destination"; }
grep "JobFinished" "$T/monitor" | grep -qF "$pdf" || fail "JobFinished does not say where the file went"
assert_eq 2 "$(pdf_pages "$pdf")" "pages"

# A destination that is down: the job is queued, listed, and delivered once
# the folder is there (the daemon's queue retries it).
: >"$T/monitor"
scand_call Scan "virtual" "broken-share" >/dev/null
wait_for 60 grep -q "JobFinished.*'queued'" "$T/monitor" || { cat "$T/monitor" "$T/daemon.log"; fail "no queued result"; }
scand_call ListJobs >"$T/jobs"
assert_contains "$T/jobs" "gone:retry:1:"
id=$(sed -n "s/.*\[('\([0-9-]*\)'.*/\1/p" "$T/jobs")
[ -n "$id" ] || fail "no job id in $(cat "$T/jobs")"
mkdir "$T/not-mounted"
scand_call RetryJob "$id" >/dev/null
wait_for 30 at_least 1 "$T/not-mounted" || fail "queued job not delivered after retry"
wait_for 10 sh -c "! gdbus call --session --dest org.scand.Daemon1 --object-path /org/scand/Daemon1 --method org.scand.Daemon1.ListJobs | grep -q '$id'" \
  || fail "delivered job still listed"

# Errors come back as D-Bus errors with a clear message.
if scand_call Scan "virtual" "no-such-profile" 2>"$T/err"; then fail "Scan with a missing profile succeeded"; fi
assert_contains "$T/err" "no [profile no-such-profile]"

# `scand scan` uses the running daemon: the job shows up in its signals.
: >"$T/monitor"
"$SCAND" scan --config "$T/scand.conf" --device virtual >"$T/stdout" 2>"$T/stderr" || { cat "$T/stderr"; fail "scand scan via the daemon"; }
assert_contains "$T/stdout" "$T/out/virtual-"
grep -q "JobFinished" "$T/monitor" || fail "scand scan did not go through the daemon"
daemon_stop
echo ok
