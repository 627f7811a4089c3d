#!/bin/bash
# --source auto takes the feeder when the device reports paper in it, else
# the flatbed (issue 10 item 18): against the eSCL simulator, whose
# ScannerStatus says ScannerAdfLoaded while it has sheets. The old code took
# the flatbed whenever the device had one.
. "$SCAND_SRCDIR/tests/lib/common.sh"

start_sim() {
  /usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$T/sim.port" --lifetime 300 "$@" \
    2>"$T/sim.log" &
  local pid=$!
  on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
  for _ in $(seq 200); do
    [ -s "$T/sim.port" ] && break
    sleep 0.05
  done
  [ -s "$T/sim.port" ] || { cat "$T/sim.log"; fail "simulator did not start"; }
  port=$(cat "$T/sim.port")
}

# last_source: the InputSource of the simulator's last job
last_source() {
  curl -s "http://127.0.0.1:$port/sim/state" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][-1]["source"])'
}

scan_auto() {
  "$SCAND" scan --config "$T/empty.conf" --spool "$T/spool" --no-daemon -q \
    --device "escl:http://127.0.0.1:$port/eSCL" --source auto --to "$T/$1" --name scan.pdf ||
    fail "$1: scan exited with $?"
}

: >"$T/empty.conf"
start_sim --adf-pages 3

# Paper in the feeder: the feeder, every sheet.
scan_auto loaded
assert_eq Feeder "$(last_source)" "paper loaded: source"
assert_eq 3 "$(qpdf --show-npages "$T/loaded/scan.pdf")" "paper loaded: pages"

# Feeder empty: the flatbed, one page.
curl -s -XPOST "http://127.0.0.1:$port/sim/control" -d '{"paper": "empty"}' >/dev/null
scan_auto empty
assert_eq Platen "$(last_source)" "feeder empty: source"
assert_eq 1 "$(qpdf --show-npages "$T/empty/scan.pdf")" "feeder empty: pages"
echo ok
