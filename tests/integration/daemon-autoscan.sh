# Feeder auto-scan against the eSCL simulator: nothing while the feeder is
# empty; nothing while paper sits in the feeder of a device that is busy with
# a job started at its panel; exactly one job when paper is loaded on an idle
# device; and one more when paper is loaded again after the cool-down.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

/usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$T/port" --adf-pages 0 --lifetime 300 \
  2>"$T/sim.log" &
on_exit "kill $! 2>/dev/null"
wait_for 20 test -s "$T/port" || fail "simulator did not start"
port=$(cat "$T/port")
sim="http://127.0.0.1:$port"
control() { curl -sf -XPOST "$sim/sim/control" -d "$1" >/dev/null || fail "simulator control $1"; }
scan_jobs() {
  curl -sf "$sim/sim/log" | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"].endswith("/ScanJobs")))'
}

cat >"$T/scand.conf" <<CONF
[scanner mfp]
device = escl:$sim/eSCL
auto-scan = feeder
poll-interval = 1s
settle = 1s
cooldown = 2s
profile = fast

[profile fast]
source = feeder
mode = gray
resolution = 75

[output out]
type = folder
path = $T/out
create = true

[rule all]
deliver = out
name = {device}-{seq}.pdf
CONF
daemon_start "$T/scand.conf" --no-bus --queue-interval 500

sleep 4
assert_eq 0 "$(scan_jobs)" "jobs while the feeder is empty"

# eSCL status polls are requests on the main loop: they take no thread. The
# daemon has its main thread, GLib's and one of GLib's shared pool; a
# poller with threads had four more.
threads=$(for t in /proc/$DAEMON_PID/task/*; do cat "$t/comm"; done | tr '\n' ' ')
[ "$(ls /proc/$DAEMON_PID/task | wc -l)" -le 3 ] || fail "threads while polling one eSCL scanner: $threads"

# Paper in the feeder, but the device is busy with a job from its panel.
control '{"state": "Processing", "adf_pages": 3}'
sleep 5
assert_eq 0 "$(scan_jobs)" "jobs while the device is busy"

# The device becomes idle with paper loaded: one job takes the 3 sheets.
control '{"state": null}'
wait_for 30 test -f "$T/out/mfp-0001.pdf" || { cat "$T/daemon.log"; fail "no auto-scan job"; }
assert_eq 3 "$(pdf_pages "$T/out/mfp-0001.pdf")" "pages of the auto-scan"
sleep 5
assert_eq 1 "$(scan_jobs)" "jobs after one batch"
assert_eq 1 "$(count_files "$T/out")" "files after one batch"

# Paper again, after the cool-down: a second job.
control '{"adf_pages": 2}'
wait_for 30 test -f "$T/out/mfp-0002.pdf" || { cat "$T/daemon.log"; fail "no second auto-scan job"; }
assert_eq 2 "$(pdf_pages "$T/out/mfp-0002.pdf")" "pages of the second auto-scan"
sleep 3
assert_eq 2 "$(scan_jobs)" "jobs after two batches"
daemon_stop
echo ok
