#!/bin/bash
# Walk-up over WS-Scan against the WSD simulator, in a private network
# namespace (the simulator behind a veth pair; multicast never leaves it):
#  - the daemon subscribes to ScanAvailableEvent with `panel = Finance:letter,
#    Anna:photo` (ClientDisplayName, ClientContext), NotifyTo its listener;
#  - a person picking Finance gives exactly one PDF routed by `panel =
#    Finance`, within 1 s of the last page; CreateScanJob carries the event's
#    ScanIdentifier and Finance's DestinationToken; the same event sent twice
#    scans once;
#  - renewals keep the subscription (same id) and a dropped Renew is tried
#    again before it lapses; a subscription the device let lapse, and a
#    SubscriptionEnd, are replaced by a new one (a refused Subscribe is tried
#    again);
#  - a reboot (Bye, then Hello with a new instance) brings the subscription
#    back within a second of the Hello, well before the next renewal, with no
#    duplicated delivery;
#  - an event for a context that is not ours, and a post from an address that
#    is no device, are refused; a second daemon never gets the first's picks;
#  - a flood of distinct picks starts a person's few scans, not one per pick,
#    and a storm of Hellos a few subscription checks, not one per Hello;
#  - after kill -9 the next start takes its subscription over: one on the
#    device, one PDF per pick;
#  - `scand status` shows the subscription and its expiry;
#  - a clean stop unsubscribes, and is prompt while a Subscribe goes unanswered.
set -euo pipefail
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
. "$SCAND_SRCDIR/tests/lib/netns.sh"
netns_enter "$@"

netns_peer dev 10.77.0.2 fe80::2
netns_spawn dev /usr/bin/python3 "$SCAND_SRCDIR/tests/wsd-sim/wsd-sim.py" --listen 10.77.0.2 --interface wsd1 \
  --adf-pages 2 --reboot-delay 300 --port-file "$T/sim.port" --lifetime 300 2>"$T/sim.err"
simpid=$!
on_exit "kill $simpid 2>/dev/null; wait $simpid 2>/dev/null"
wait_for 20 test -s "$T/sim.port" || { cat "$T/sim.err"; fail "simulator did not start"; }
sim=http://10.77.0.2:$(cat "$T/sim.port")
control() { curl -sf -XPOST "$sim/sim/control" -d "$1" >"$T/control.out" || fail "simulator control $1"; }
# The device takes a walk-up scan only with a pick's identifier and token.
control '{"eventing": {"strict": true}}'
# ev EXPR: a python expression over the simulator's eventing state `e`
ev() { curl -sf "$sim/sim/state" | python3 -c "import json,sys; e=json.load(sys.stdin)['eventing']; print($1)"; }
# reply EXPR: over the last control reply's eventing_reply `r`
reply() { python3 -c "import json,sys; r=json.load(open('$T/control.out'))['eventing_reply']; print($1)"; }
creates() { curl -sf "$sim/sim/log" | python3 -c "import json,sys; print(sum(1 for r in json.load(sys.stdin) if r.get('action') == 'CreateScanJob' and r['status'] == 200))"; }
subscriptions() { ev "len(e['subscriptions'])"; }
sub_id() { ev "e['subscriptions'][${1:-0}]['id'] if len(e['subscriptions']) > ${1:-0} else ''"; }
renewals() { ev "e['subscriptions'][0]['renewals'] if e['subscriptions'] else -1"; }
# Predicates for wait_for (which runs its command again, but expands its words once).
subs_are() { [ "$(subscriptions)" = "$1" ]; }
no_faults() { [ "$(ev "e['faults']")" = "[]" ]; }
renewed_after() { [ "$(renewals)" -gt "$1" ]; }
subscribed_anew() { local id; id=$(sub_id); [ -n "$id" ] && [ "$id" != "$1" ]; }

write_config() { # write_config FILE OUTDIR
  cat >"$1" <<CONF
[scand]
panel-listen = 10.77.0.1
discovery-interfaces = wsd0

[scanner mfp]
device = wsd:$sim/wsd/scan
profile = letter
panel = Finance:letter, Anna:photo
panel-lifetime = 12s

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

[rule finance]
trigger = panel
panel = Finance
deliver = finance
name = {device}-{seq}.pdf

[rule anna]
panel = Anna
deliver = anna
name = {device}-{seq}.pdf
CONF
}
write_config "$T/scand.conf" "$T/out"
mkdir -p "$T/out"
daemon_start "$T/scand.conf" --no-bus --queue-interval 500
wait_for 20 subs_are 1 || { cat "$T/daemon.log"; fail "no subscription"; }
assert_eq "['Finance', 'Anna']" "$(ev "[d['name'] for d in e['subscriptions'][0]['destinations']]")" "destinations"
notify=$(ev "e['subscriptions'][0]['notify']")
case "$notify" in http://10.77.0.1:*/scand/panel/*) ;; *) fail "NotifyTo $notify" ;; esac
assert_eq "$notify" "$(ev "e['subscriptions'][0]['end_to']")" "EndTo"
assert_eq 12 "$(ev "e['subscriptions'][0]['lifetime']")" "lifetime asked for"
first=$(sub_id)

# Finance picked: one scan that carries the event's identifier and token.
control '{"eventing": {"press": {"name": "Finance", "repeat": 1}}}'
assert_eq 202 "$(reply "r['status']")" "the listener's answer to the event"
scan_id=$(reply "r['scan_identifier']")
wait_for 30 test -f "$T/out/finance/mfp-0001.pdf" || { cat "$T/daemon.log"; fail "no PDF for Finance"; }
done_at=$(stat -c %.6Y "$T/out/finance/mfp-0001.pdf")
last_page=$(curl -sf "$sim/sim/log" | python3 -c 'import json,sys; print(max(r["time"] for r in json.load(sys.stdin) if r.get("action") == "RetrieveImage" and r["status"] == 200))')
python3 -c "import sys; d=$done_at-$last_page; print('delivered %.3f s after the last page' % d); sys.exit(0 if d < 1.0 else 1)" ||
  fail "delivery more than 1 s after the last page"
assert_eq 2 "$(pdf_pages "$T/out/finance/mfp-0001.pdf")" "pages"
token=$(ev "[d['token'] for d in e['subscriptions'][0]['destinations'] if d['name'] == 'Finance'][0]")
curl -sf "$sim/sim/log" | python3 -c "
import json, sys
jobs = [r for r in json.load(sys.stdin) if r.get('action') == 'CreateScanJob']
assert len(jobs) == 1, jobs
assert jobs[0]['scan_identifier'] == '$scan_id', jobs[0]
assert jobs[0]['destination_token'] == '$token', jobs[0]
" || fail "CreateScanJob did not carry the event's ScanIdentifier and the destination's token"
sleep 2
assert_eq 1 "$(creates)" "scans after one pick sent twice"
assert_eq 1 "$(count_files "$T/out")" "files after one pick"

# `scand status` shows the device's state and the subscription's expiry.
"$SCAND" status --config "$T/scand.conf" "wsd:$sim/wsd/scan" >"$T/status.out" || { cat "$T/status.out"; fail "status"; }
cat "$T/status.out"
assert_contains "$T/status.out" "State:   idle"
grep -qE '^Panel:   "Finance" of \[scanner mfp\]: subscribed, expires in [0-9]+ s \(at [0-9:]+\) unless the daemon renews it$' \
  "$T/status.out" || fail "status: no Finance subscription with its expiry"
assert_contains "$T/status.out" '"Anna" of [scanner mfp]: subscribed, expires in'

# An event for a context that is not ours: refused, nothing scanned.
control '{"eventing": {"press": {"context": "scand-0000000000000000:7"}}}'
assert_eq 400 "$(reply "r['status']")" "the listener's answer to a foreign context"
assert_contains "$T/daemon.log" "a ScanAvailableEvent for a destination that is not ours"
# A post from an address that is no device (this namespace's own): not even read.
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST --data-binary '<x/>' "$notify" || true)
assert_eq 000 "$code" "a post from an address that is no device"
sleep 1
assert_eq 1 "$(creates)" "scans after refused events"

# Renewals keep the subscription; a dropped Renew is tried again in time.
control '{"eventing": {"fault": "drop-renew=1"}}'
wait_for 30 no_faults || { cat "$T/daemon.log"; fail "no Renew came"; }
before=$(renewals)
wait_for 15 renewed_after "$before" || { cat "$T/daemon.log"; fail "the dropped Renew was not tried again"; }
assert_eq "$first" "$(sub_id)" "subscription after a dropped Renew and its retry"

# The device lets the subscription lapse: the next renewal finds out and a
# new subscription replaces it; picks work again.
control '{"eventing": {"expire": true}}'
wait_for 20 subscribed_anew "$first" || { cat "$T/daemon.log"; fail "no new subscription after expiry"; }
second=$(sub_id)
[ "$second" != "$first" ] || fail "the lapsed subscription was not replaced"
control '{"adf_pages": 1, "eventing": {"press": {"name": "Anna"}}}'
wait_for 30 test -f "$T/out/anna/mfp-0002.pdf" || { cat "$T/daemon.log"; fail "no PDF for Anna"; }

# SubscriptionEnd: subscribed again at once — after one refusal, which is
# retried a second later.
control '{"eventing": {"fault": "refuse-subscribe=1", "end": true}}'
wait_for 10 subscribed_anew "$second" || { cat "$T/daemon.log"; fail "no subscription after SubscriptionEnd"; }
assert_contains "$T/daemon.log" "the device ended the subscription (SourceShuttingDown"
assert_contains "$T/daemon.log" "the device refused the subscription: EventSourceUnableToProcess (refused (fault)) (retrying)"
third=$(sub_id)

# Reboot: Bye, then Hello with a new instance; the subscription is back within
# a second of the Hello (the next renewal would be 6 s away), no duplicate.
control '{"adf_pages": 2, "reboot": true}'
hello_at=$(date +%s.%N)
wait_for 10 subscribed_anew "$third" || { cat "$T/daemon.log"; fail "no subscription after the reboot"; }
back_at=$(date +%s.%N)
python3 -c "import sys; d=$back_at-$hello_at; print('subscribed again %.2f s after the reboot' % d); sys.exit(0 if d < 3.0 else 1)" ||
  fail "the subscription took too long to come back after the Hello"
assert_contains "$T/daemon.log" "the device announced itself (WS-Discovery Hello)"
[ "$(sub_id)" != "$third" ] || fail "the subscription was not renewed after the reboot"
control '{"eventing": {"press": {"name": "Finance"}}}'
wait_for 30 test -f "$T/out/finance/mfp-0003.pdf" || { cat "$T/daemon.log"; fail "no PDF after the reboot"; }
sleep 2
assert_eq 3 "$(creates)" "scans after the reboot"
assert_eq 3 "$(count_files "$T/out")" "files after the reboot"

# A storm of Hellos (a device repeating itself, or anyone on the link speaking
# for it: WS-Discovery is unauthenticated multicast) costs the device one
# subscription check per 2 s, not one per Hello, and the log one line.
renews() { curl -sf "$sim/sim/log" | python3 -c "import json,sys; print(sum(1 for r in json.load(sys.stdin) if r.get('action') == 'Renew'))"; }
hellos_logged() { grep -c 'the device announced itself' "$T/daemon.log" || true; }
before=$(renews)
logged=$(hellos_logged)
t0=$(date +%s.%N)
for _ in $(seq 40); do control '{"hello": true}'; done
sleep 1
t1=$(date +%s.%N)
checks=$(($(renews) - before))
max=$(python3 -c "print(int(($t1 - $t0) / 2) + 3)")
echo "40 Hellos in $(python3 -c "print('%.1f' % ($t1 - $t0))") s: $checks subscription checks (at most $max)"
[ "$checks" -ge 1 ] && [ "$checks" -le "$max" ] || { cat "$T/daemon.log"; fail "40 Hellos gave $checks subscription checks"; }
[ $(($(hellos_logged) - logged)) -le 1 ] || fail "a Hello storm floods the log"
assert_eq "$(sub_id)" "$(ev "e['subscriptions'][0]['id']")" "subscription after a Hello storm"

# A second daemon, same names: its own subscription; the first daemon's pick
# is the first daemon's.
mkdir -p "$T/b" "$T/out-b"
write_config "$T/b.conf" "$T/out-b"
SCAND_SPOOL="$T/b/spool" "$SCAND" daemon --config "$T/b.conf" --no-bus --queue-interval 500 >>"$T/b.log" 2>&1 &
b_pid=$!
on_exit "kill -9 $b_pid 2>/dev/null; wait $b_pid 2>/dev/null"
wait_for 20 subs_are 2 || { cat "$T/b.log"; fail "second daemon did not subscribe"; }
mine=$(ev "[s['id'] for s in e['subscriptions'] if s['notify'] == '$notify'][0]")
control "{\"adf_pages\": 1, \"eventing\": {\"press\": {\"name\": \"Finance\", \"subscription\": \"$mine\"}}}"
wait_for 30 test -f "$T/out/finance/mfp-0004.pdf" || { cat "$T/daemon.log"; fail "first daemon did not serve its pick"; }
sleep 2
assert_eq 0 "$(count_files "$T/out-b")" "files of the second daemon"
assert_eq 4 "$(creates)" "scans with two daemons"
kill -TERM "$b_pid"
wait "$b_pid" || true
wait_for 10 subs_are 1 || fail "second daemon did not unsubscribe"

# kill -9: the subscription stays on the device, with a NotifyTo nobody
# listens on; the next start takes it over (unsubscribes what its spool
# recorded, subscribes anew), so the device never holds two subscriptions of
# this daemon, and a pick scans once.
old=$(sub_id)
daemon_kill
assert_eq 1 "$(subscriptions)" "subscriptions after kill -9"
DAEMON_STARTS=2 daemon_start "$T/scand.conf" --no-bus --queue-interval 500
has_new() { [ "$(ev "sum(1 for s in e['subscriptions'] if s['id'] != '$old')")" -ge 1 ]; }
wait_for 20 has_new || { cat "$T/daemon.log"; fail "no subscription after a restart"; }
# At once: the killed daemon's has seconds to live yet (renewed every 6 s).
assert_eq 1 "$(subscriptions)" "subscriptions on the device after kill -9 and a restart"
finance_files=$(count_files "$T/out/finance")
more_finance() { [ "$(count_files "$T/out/finance")" -gt "$finance_files" ]; }
control '{"adf_pages": 1, "eventing": {"press": {"name": "Finance"}}}'
wait_for 30 more_finance || { cat "$T/daemon.log"; fail "no PDF after kill -9 and a restart"; }
sleep 2
assert_eq $((finance_files + 1)) "$(count_files "$T/out/finance")" "PDFs of one pick after a restart"

# A flood of picks, each with a ScanIdentifier of its own (a broken device, or
# whoever speaks from its address): a person's few are scanned (a burst of 6,
# then one per 2 s), the rest ignored with one log line; the daemon goes on.
picked() { grep -c 'panel: "Anna" picked (event' "$T/daemon.log" || true; }
before=$(picked)
anna_files=$(count_files "$T/out/anna")
more_anna() { [ "$(count_files "$T/out/anna")" -gt "$anna_files" ]; }
control '{"adf_pages": 8, "eventing": {"press": {"name": "Anna", "repeat": 29, "distinct": true}}}'
assert_eq 30 "$(reply "len(r['statuses'])")" "events of the flood sent"
sleep 3
flood=$(($(picked) - before))
echo "a flood of 30 picks started $flood scans"
[ "$flood" -ge 1 ] && [ "$flood" -le 10 ] || { cat "$T/daemon.log"; fail "a flood of 30 picks started $flood scans"; }
assert_contains "$T/daemon.log" "panel: more picks than a person makes ("
wait_for 30 more_anna || { cat "$T/daemon.log"; fail "no PDF from the flood's first pick"; }
sleep 2

# A clean stop unsubscribes.
daemon_stop
assert_eq 0 "$(subscriptions)" "subscriptions after a clean stop"

# A device that does not answer the Subscribe (for 30 s): the daemon still
# stops at once, the request cancelled.
control '{"eventing": {"fault": "hang-subscribe=1"}}'
DAEMON_STARTS=3 daemon_start "$T/scand.conf" --no-bus --queue-interval 500
wait_for 20 no_faults || { cat "$T/daemon.log"; fail "no Subscribe came"; }
sleep 0.5
t0=$(date +%s.%N)
daemon_stop
python3 -c "import sys; d=$(date +%s.%N)-$t0; print('stopped %.2f s into a Subscribe the device did not answer' % d); sys.exit(0 if d < 3 else 1)" ||
  fail "the daemon waited on a device that does not answer"
echo ok
