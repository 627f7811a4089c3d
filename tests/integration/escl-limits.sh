#!/bin/bash
# Hostile eSCL devices (the simulator's drip, endless and huge faults) cannot
# hold scand: every request has a total timeout, SIGTERM ends transfers within
# seconds (CLI and daemon), and max-pages / max-page-bytes refuse an endless
# feeder and a huge page with a clear error, keeping the pages that came before.
#   1. `scand status` on a device dripping its ScannerStatus 1 byte/s, and on
#      one whose ScannerStatus is 5 MB (over the 4 MB cap: a clear message)
#   2. `scand scan` on a device dripping page 2: page-timeout, page 1 delivered
#   3. `scand scan` on the same device, SIGTERM: out within seconds, page 1
#      delivered; and SIGTERM while a delivery stalls on a silent mail server
#   4. the daemon auto-scanning it, SIGTERM: out within seconds, page 1 kept
#      in the spool and delivered by the next start
#   5. an endless feeder: max-pages, the pages before delivered
#   6. a 300 MB page: max-page-bytes, the page before delivered
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

# start_sim NAME ARGS…: a simulator; sets $port and $sim
start_sim() {
  local name=$1; shift
  /usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$T/$name.port" --lifetime 300 "$@" \
    2>"$T/$name.log" &
  on_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
  wait_for 20 test -s "$T/$name.port" || { cat "$T/$name.log"; fail "simulator $name did not start"; }
  port=$(cat "$T/$name.port")
  sim="http://127.0.0.1:$port"
}

# run_bounded SECONDS OUT ERR CMD…: runs CMD, killing it after SECONDS; sets
# $rc and $took (whole seconds). A command still running then is a failure of
# this test, not a hang of the suite.
run_bounded() {
  local limit=$1 out=$2 err=$3; shift 3
  local start=$SECONDS
  set +e
  timeout -s KILL "$limit" "$@" >"$out" 2>"$err"
  rc=$?
  set -e
  took=$((SECONDS - start))
  [ "$rc" != 137 ] || { cat "$err"; fail "$* still running after ${limit}s"; }
}

# scanner_conf NAME EXTRA: a config whose scanner "mfp" is the current simulator
scanner_conf() {
  cat >"$T/$1.conf" <<CONF
[scanner mfp]
device = escl:$sim/eSCL
profile = fast
$2

[profile fast]
source = feeder
mode = gray
resolution = 75

[output out]
type = folder
path = $T/$1-out
create = true

[rule all]
deliver = out
name = scan.pdf
CONF
}

# sim_served: pages the current simulator has started to send
sim_served() {
  curl -sf "$sim/sim/state" | python3 -c 'import json, sys; print(json.load(sys.stdin)["pages_served"])'
}
served_at_least() { [ "$(sim_served)" -ge "$1" ]; }


# --- 1. scand status against a dripping ScannerStatus --------------------------------
start_sim status --fault drip-status=1000
scanner_conf status "timeout = 3s"
run_bounded 40 "$T/status.out" "$T/status.err" "$SCAND" status --config "$T/status.conf" "escl:$sim/eSCL"
[ "$rc" = 1 ] || fail "scand status exited $rc"
[ "$took" -le 10 ] || fail "scand status took ${took}s with timeout = 3s"
assert_contains "$T/status.err" "timed out"
# The default bound (30 s) holds without any configuration.
run_bounded 60 "$T/status2.out" "$T/status2.err" "$SCAND" status "escl:$sim/eSCL"
[ "$rc" = 1 ] && [ "$took" -le 40 ] || fail "scand status without config: exit $rc after ${took}s"
assert_contains "$T/status2.err" "timed out"

# A status document over the 4 MB cap is refused saying so (not "Failed
# writing received data").
curl -sf -XPOST "$sim/sim/control" -d '{"clear": true, "fault": "bloated-status"}' >/dev/null
run_bounded 60 "$T/status3.out" "$T/status3.err" "$SCAND" status "escl:$sim/eSCL"
[ "$rc" = 1 ] || fail "scand status with a 5 MB status exited $rc"
assert_contains "$T/status3.err" "larger than 4096 KiB"
! grep -q "Failed writing" "$T/status3.err" || fail "curl's message instead of ours: $(cat "$T/status3.err")"

# --- 2. a scan whose second page drips: page-timeout, page 1 delivered ---------------
start_sim drip --adf-pages 3 --fault drip=2
scanner_conf drip "page-timeout = 4s"
run_bounded 60 "$T/drip.out" "$T/drip.err" "$SCAND" scan --config "$T/drip.conf" --no-daemon -q --device mfp
[ "$rc" = 3 ] || { cat "$T/drip.err"; fail "dripping scan exited $rc, expected 3"; }
[ "$took" -le 20 ] || fail "dripping scan took ${took}s with page-timeout = 4s"
assert_contains "$T/drip.err" "timed out"
assert_contains "$T/drip.err" "1 page kept"
assert_eq 1 "$(pdf_pages "$T/drip-out/scan.pdf")" "pages delivered before the drip"

# term_within SECONDS PID: SIGTERM, then wait for PID; sets $rc and $took
term_within() {
  local limit=$1 pid=$2 start=$SECONDS
  kill -TERM "$pid"
  set +e
  timeout "$limit" tail --pid="$pid" -f /dev/null
  kill -9 "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  set -e
  took=$((SECONDS - start))
}

# --- 3. the CLI, SIGTERM while page 2 drips, and while a delivery stalls ---------------
curl -sf -XPOST "$sim/sim/control" -d '{"adf_pages": 3}' >/dev/null
base=$(sim_served)
scanner_conf term ""
"$SCAND" scan --config "$T/term.conf" --no-daemon -q --device mfp 2>"$T/term.err" &
scan_pid=$!
on_exit "kill -9 $scan_pid 2>/dev/null"
wait_for 30 served_at_least $((base + 2)) || fail "page 2 never started dripping"
sleep 1
term_within 30 "$scan_pid"
[ "$took" -le 8 ] || fail "scand scan took ${took}s to stop after SIGTERM"
[ "$rc" = 3 ] || { cat "$T/term.err"; fail "scand scan after SIGTERM exited $rc, expected 3 (page 1 delivered)"; }
assert_eq 1 "$(pdf_pages "$T/term-out/scan.pdf")" "pages delivered after SIGTERM"

drip_sim=$sim

# A mail server that takes the connection and never says a word.
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
open(sys.argv[1] + ".part", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".part", sys.argv[1])
conns = [s.accept() for _ in range(4)]
time.sleep(300)' "$T/silent.port" &
on_exit "kill $! 2>/dev/null"
wait_for 20 test -s "$T/silent.port" || fail "silent server did not start"
start_sim plain --adf-pages 1
scanner_conf stall "[output mail]
type = smtp
url = smtp://127.0.0.1:$(cat "$T/silent.port")
security = none
from = scanner@example.com
to = office@example.com"
"$SCAND" scan --config "$T/stall.conf" --no-daemon -q --device mfp --to mail 2>"$T/stall.err" &
scan_pid=$!
on_exit "kill -9 $scan_pid 2>/dev/null"
wait_for 30 served_at_least 1 || fail "the stalled-delivery scan did not start"
sleep 2
term_within 30 "$scan_pid"
[ "$took" -le 8 ] || fail "scand scan took ${took}s to stop a stalled delivery after SIGTERM"
[ "$rc" = 75 ] || { cat "$T/stall.err"; fail "stalled delivery after SIGTERM exited $rc, expected 75 (queued)"; }

# --- 4. the daemon auto-scanning it, SIGTERM while page 2 drips ---------------------
sim=$drip_sim
curl -sf -XPOST "$sim/sim/control" -d '{"adf_pages": 0}' >/dev/null
curl -sf -XDELETE "$sim/sim/log" >/dev/null
scanner_conf daemon "auto-scan = feeder
poll-interval = 1s
settle = 1s"
daemon_start "$T/daemon.conf" --no-bus --queue-interval 500
base=$(sim_served)
curl -sf -XPOST "$sim/sim/control" -d '{"adf_pages": 3}' >/dev/null
wait_for 30 served_at_least $((base + 2)) || { cat "$T/daemon.log"; fail "no dripping auto-scan"; }
sleep 1
term_within 40 "$DAEMON_PID"
[ "$took" -le 12 ] || { cat "$T/daemon.log"; fail "the daemon took ${took}s to stop after SIGTERM"; }
assert_eq 0 "$rc" "daemon exit status after SIGTERM"
# The page that arrived is in the spool; the next start delivers it.
curl -sf -XPOST "$sim/sim/control" -d '{"clear": true, "adf_pages": 0}' >/dev/null
DAEMON_STARTS=2 daemon_start "$T/daemon.conf" --no-bus --queue-interval 500
wait_for 30 test -f "$T/daemon-out/scan.pdf" || { cat "$T/daemon.log"; fail "kept page not delivered"; }
assert_eq 1 "$(pdf_pages "$T/daemon-out/scan.pdf")" "pages kept across SIGTERM"
daemon_stop

# --- 5. an endless feeder: max-pages ---------------------------------------------------
start_sim endless --fault endless
scanner_conf endless "max-pages = 4"
run_bounded 120 "$T/endless.out" "$T/endless.err" "$SCAND" scan --config "$T/endless.conf" --no-daemon -q --device mfp
[ "$rc" = 3 ] || { cat "$T/endless.err"; fail "endless feeder scan exited $rc, expected 3"; }
assert_contains "$T/endless.err" "max-pages = 4"
assert_eq 4 "$(pdf_pages "$T/endless-out/scan.pdf")" "pages delivered from the endless feeder"
# The device was told to stop: its job is not left running.
curl -sf "$sim/sim/log" | grep -q '"method": "DELETE"' || fail "the endless job was not cancelled on the device"

# --- 6. a huge page: max-page-bytes ------------------------------------------------------
start_sim huge --adf-pages 3 --fault huge=2
scanner_conf huge "max-page-bytes = 1M"
run_bounded 60 "$T/huge.out" "$T/huge.err" "$SCAND" scan --config "$T/huge.conf" --no-daemon -q --device mfp
[ "$rc" = 3 ] || { cat "$T/huge.err"; fail "huge page scan exited $rc, expected 3"; }
assert_contains "$T/huge.err" "larger than max-page-bytes"
assert_eq 1 "$(pdf_pages "$T/huge-out/scan.pdf")" "pages delivered before the huge one"
leftover=$(find "$SCAND_SPOOL" -type f -size +2M | wc -l)
assert_eq 0 "$leftover" "files over 2 MB left in the spool"
echo ok
