# HP walk-up against the eSCL simulator's HP side (tests/escl-sim, --walkup):
# the daemon registers `panel = Finance:letter, Anna:photo` on the device; a
# person picking Finance gives exactly one PDF routed by `panel = Finance`
# within 1 s of the last page; two-sided chosen on the panel scans duplex; an
# event for somebody else's destination is ignored; a device answering every
# long poll at once is paced, not polled in a spin; a dropped long poll and a
# device restart (destinations forgotten) are survived without a duplicate;
# kill -9 and a restart adopt the same destinations; a clean stop removes
# them; a second daemon on the same device never takes the first's picks.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

/usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --model hp --walkup comp --port-file "$T/port" \
  --adf-pages 3 --lifetime 300 2>"$T/sim.log" &
on_exit "kill $! 2>/dev/null"
wait_for 20 test -s "$T/port" || fail "simulator did not start"
sim="http://127.0.0.1:$(cat "$T/port")"
control() { curl -sf -XPOST "$sim/sim/control" -d "$1" >"$T/control.out" || fail "simulator control $1"; }
# walkup FIELD: a field of the simulator's walk-up state (python expression on w)
walkup() {
  curl -sf "$sim/sim/state" | python3 -c "import json,sys; w=json.load(sys.stdin)['walkup']; print($1)"
}
scan_jobs() {
  curl -sf "$sim/sim/log" | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"].endswith("/ScanJobs")))'
}
registered() { [ "$(walkup "sorted(d['name'] for d in w['destinations'])")" = "$1" ]; }

write_config() { # write_config FILE OUTDIR
  cat >"$1" <<CONF
[scanner mfp]
device = escl:$sim/eSCL
profile = letter
panel = Finance:letter, Anna:photo

[profile letter]
source = feeder
mode = gray
resolution = 75

[profile photo]
source = feeder
mode = color
resolution = 75

[output finance]
type = folder
path = $2/finance
create = true

[output anna]
type = folder
path = $2/anna
create = true

[output other]
type = folder
path = $2/other
create = true

[rule finance]
trigger = panel
panel = Finance
deliver = finance
name = {device}-{seq}.pdf

[rule anna]
panel = Anna
deliver = anna
name = {device}-{seq}.pdf

[rule rest]
deliver = other
name = {device}-{seq}.pdf
CONF
}
write_config "$T/scand.conf" "$T/out"
daemon_start "$T/scand.conf" --no-bus --queue-interval 500
wait_for 20 registered "['Anna', 'Finance']" || { cat "$T/daemon.log"; fail "destinations not registered"; }
assert_eq "$(hostname)" "$(walkup "w['destinations'][0]['hostname']")" "hostname of the destination"
assert_contains "$T/daemon.log" 'panel: "Finance", "Anna" registered'

# Finance picked: one job, routed by panel = Finance, delivered within 1 s of the last page.
control '{"walkup": {"press": {"name": "Finance"}}}'
wait_for 30 test -f "$T/out/finance/mfp-0001.pdf" || { cat "$T/daemon.log"; fail "no PDF for Finance"; }
done_at=$(stat -c %.6Y "$T/out/finance/mfp-0001.pdf")
last_page=$(curl -sf "$sim/sim/log" | python3 -c 'import json,sys; print(max(r["time"] for r in json.load(sys.stdin) if r["path"].endswith("/NextDocument") and r["status"] == 200))')
python3 -c "import sys; d=$done_at-$last_page; print('delivered %.3f s after the last page' % d); sys.exit(0 if d < 1.0 else 1)" ||
  fail "delivery more than 1 s after the last page"
assert_eq 3 "$(pdf_pages "$T/out/finance/mfp-0001.pdf")" "pages of the Finance scan"
assert_contains "$T/daemon.log" 'panel: "Finance" picked'
sleep 2
assert_eq 1 "$(scan_jobs)" "scan jobs after one pick"
assert_eq 1 "$(count_files "$T/out")" "files after one pick"
grep -rq "^panel=Finance" "$SCAND_SPOOL" 2>/dev/null && fail "the delivered job stayed in the spool"

# Anna picked with two-sided on the panel: duplex, 2 sheets → 4 pages, Anna's route.
control '{"adf_pages": 2, "walkup": {"press": {"name": "Anna", "plex": "Duplex", "shortcut": "SaveJPEG"}}}'
wait_for 30 test -f "$T/out/anna/mfp-0002.pdf" || { cat "$T/daemon.log"; fail "no PDF for Anna"; }
assert_eq 4 "$(pdf_pages "$T/out/anna/mfp-0002.pdf")" "pages of the duplex Anna scan"

# A pick of a destination that is not ours (another computer's): nothing.
control '{"adf_pages": 1, "walkup": {"press": {"name": "Ghost", "unknown": true}}}'
sleep 3
assert_eq 2 "$(scan_jobs)" "scan jobs after someone else's pick"

# The device drops the long poll: the daemon polls again and still gets picks.
control '{"walkup": {"fault": "drop-poll"}}'
sleep 2
control '{"walkup": {"press": {"name": "Finance"}}}'
wait_for 30 test -f "$T/out/finance/mfp-0003.pdf" || { cat "$T/daemon.log"; fail "no PDF after a dropped poll"; }

# A device that sends no ETag: polled once a second, picks still served once.
control '{"adf_pages": 1, "walkup": {"fault": "no-etag"}}'
sleep 2
control '{"walkup": {"press": {"name": "Finance"}}}'
wait_for 30 test -f "$T/out/finance/mfp-0004.pdf" || { cat "$T/daemon.log"; fail "no PDF without ETags"; }
sleep 2
assert_eq 4 "$(scan_jobs)" "scan jobs without ETags"
control '{"walkup": {"clear_fault": "no-etag"}}'

# A device that answers every long poll at once with a new ETag: polled about
# once a second after a few quick answers, not in a spin.
polls0=$(walkup "w['polls']")
control '{"walkup": {"fault": "etag-churn"}}'
sleep 5
control '{"walkup": {"clear_fault": "etag-churn"}}'
churn=$(($(walkup "w['polls']") - polls0))
echo "an ETag that changes on every poll: $churn polls in 5 s"
[ "$churn" -ge 2 ] && [ "$churn" -le 20 ] || fail "an ETag that changes on every poll: $churn polls in 5 s"

# Device restart: destinations and events are gone; the daemon registers again
# and a pick after that is served once.
control '{"adf_pages": 2, "walkup": {"reboot": true}}'
wait_for 20 registered "['Anna', 'Finance']" || { cat "$T/daemon.log"; fail "destinations not back after a restart"; }
assert_contains "$T/daemon.log" "registering again"
control '{"walkup": {"press": {"name": "Finance"}}}'
wait_for 30 test -f "$T/out/finance/mfp-0005.pdf" || { cat "$T/daemon.log"; fail "no PDF after a restart"; }
sleep 2
assert_eq 5 "$(scan_jobs)" "scan jobs after the restart"
assert_eq 5 "$(count_files "$T/out")" "files after the restart"

# kill -9: the destinations stay on the device; the next start adopts them
# (still two, same ids) instead of adding more.
ids_before=$(walkup "sorted(d['id'] for d in w['destinations'])")
regs_before=$(grep -c 'panel: "Finance", "Anna" registered' "$T/daemon.log")
daemon_kill
assert_eq "$ids_before" "$(walkup "sorted(d['id'] for d in w['destinations'])")" "destinations after kill -9"
DAEMON_STARTS=2 daemon_start "$T/scand.conf" --no-bus --queue-interval 500
wait_for 20 sh -c "[ \$(grep -c 'panel: \"Finance\", \"Anna\" registered' '$T/daemon.log') -gt $regs_before ]" ||
  { cat "$T/daemon.log"; fail "not registered after the restart"; }
assert_eq "$ids_before" "$(walkup "sorted(d['id'] for d in w['destinations'])")" "destinations adopted after a restart"

# A second daemon (its own spool) on the same device with the same names: it
# registers its own destinations, and a pick of the first daemon's Finance is
# served by the first daemon only.
mkdir -p "$T/b" "$T/out-b"
write_config "$T/b.conf" "$T/out-b"
SCAND_SPOOL="$T/b/spool" "$SCAND" daemon --config "$T/b.conf" --no-bus --queue-interval 500 >>"$T/b.log" 2>&1 &
b_pid=$!
on_exit "kill -9 $b_pid 2>/dev/null; wait $b_pid 2>/dev/null"
wait_for 20 sh -c "[ \$(curl -sf '$sim/sim/state' | python3 -c \"import json,sys; print(len(json.load(sys.stdin)['walkup']['destinations']))\") = 4 ]" ||
  { cat "$T/b.log"; fail "second daemon did not register"; }
first=$(python3 -c "import sys; print(sys.argv[1].strip('[]').split(',')[0].strip(\" '\"))" "$ids_before")
first_name=$(walkup "[d['name'] for d in w['destinations'] if d['id'] == '$first'][0]")
control "{\"adf_pages\": 1, \"walkup\": {\"press\": {\"id\": \"$first\"}}}"
dir=$([ "$first_name" = Finance ] && echo finance || echo anna)
wait_for 30 test -f "$T/out/$dir/mfp-0006.pdf" || { cat "$T/daemon.log"; fail "first daemon did not serve its pick"; }
sleep 3
assert_eq 0 "$(count_files "$T/out-b")" "files of the second daemon"
assert_eq 6 "$(scan_jobs)" "scan jobs with two daemons"
kill -TERM "$b_pid"
wait "$b_pid" || true
wait_for 10 sh -c "[ \$(curl -sf '$sim/sim/state' | python3 -c \"import json,sys; print(len(json.load(sys.stdin)['walkup']['destinations']))\") = 2 ]" ||
  fail "second daemon left its destinations behind"

# A clean stop removes the destinations from the panel.
daemon_stop
registered "[]" || fail "destinations left on the device after a clean stop: $(walkup "w['destinations']")"

# The older generation (WalkupScan, 2009 schema, absolute resource URIs, no
# Start confirmation): same configuration, same result.
/usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --model hp --walkup legacy --port-file "$T/port2" \
  --adf-pages 2 --lifetime 300 2>"$T/sim2.log" &
on_exit "kill $! 2>/dev/null"
wait_for 20 test -s "$T/port2" || fail "second simulator did not start"
sim="http://127.0.0.1:$(cat "$T/port2")"
write_config "$T/legacy.conf" "$T/out-legacy"
SCAND_SPOOL="$T/legacy-spool" DAEMON_STARTS=3 daemon_start "$T/legacy.conf" --no-bus --queue-interval 500
wait_for 20 registered "['Anna', 'Finance']" || { cat "$T/daemon.log"; fail "legacy: destinations not registered"; }
assert_eq WalkupScan "$(curl -sf "$sim/sim/log" | python3 -c 'import json,sys; print([r["path"] for r in json.load(sys.stdin) if r["method"] == "POST"][0].split("/")[1])')" \
  "legacy: where destinations were registered"
control '{"walkup": {"press": {"name": "Anna"}}}'
wait_for 30 test -f "$T/out-legacy/anna/mfp-0001.pdf" || { cat "$T/daemon.log"; fail "legacy: no PDF for Anna"; }
assert_eq 2 "$(pdf_pages "$T/out-legacy/anna/mfp-0001.pdf")" "legacy: pages"
daemon_stop
registered "[]" || fail "legacy: destinations left after a clean stop"
echo ok
