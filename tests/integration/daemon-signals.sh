# Signals: SIGHUP with a broken config keeps the old one and says why; with a
# good one it switches; SIGTERM during a feeder batch finishes the page under
# way, exits cleanly, and the next start delivers the pages already scanned.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
bus_start

# The scanner is tests/sane-button's SANE backend: a feeder of 10 pages at
# about 0.5 s each, and no reader thread that cancelling could leave in a bad
# state (SANE's `test` backend cancels its thread asynchronously).
mkdir -p "$T/sane"
echo scandtest >"$T/sane/dll.conf"
export SANE_CONFIG_DIR="$T/sane" LD_LIBRARY_PATH="$SCANDTEST_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export SCANDTEST_BUTTONS="$T/buttons" SCANDTEST_ADF_PAGES=10 SCANDTEST_DELAY_MS=25
: >"$SCANDTEST_BUTTONS"

write_config() {
  cat >"$T/scand.conf" <<CONF
[scanner virtual]
device = sane:scandtest:0
profile = slow

[profile slow]
source = feeder

[output out]
type = folder
path = $1
create = true

[rule all]
deliver = out
name = batch.pdf
CONF
}
write_config "$T/out1"
daemon_start "$T/scand.conf" --queue-interval 500
daemon_wait_bus

# A broken edit: the daemon keeps running on the old configuration.
cp "$T/scand.conf" "$T/good.conf"
printf '[output out]\ntype = floppy\n' >>"$T/scand.conf"
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q "reload refused" "$T/daemon.log" || { cat "$T/daemon.log"; fail "bad reload not refused"; }
grep "reload refused" "$T/daemon.log" | grep -q "floppy" || fail "the refusal does not say why"
kill -0 "$DAEMON_PID" || fail "daemon died on a bad reload"

# A good edit takes effect.
write_config "$T/out2"
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q "configuration reloaded" "$T/daemon.log" || fail "good reload not applied"

gdbus monitor --session --dest org.scand.Daemon1 >"$T/monitor" 2>&1 &
on_exit "kill $! 2>/dev/null"
sleep 0.3

# CancelJob during a batch stops the scanner and drops the job.
scand_call Scan "virtual" "" >/dev/null
wait_for 30 grep -q "'page-saved', uint32 1" "$T/monitor" || { cat "$T/daemon.log"; fail "scan did not start"; }
id=$(sed -n "s/.*JobProgress (objectpath '[^']*', '\([0-9-]*\)'.*/\1/p" "$T/monitor" | head -1)
[ -n "$id" ] || fail "no job id in the progress signals"
scand_call CancelJob "$id" >/dev/null
wait_for 30 grep -q "JobFinished.*'cancelled'" "$T/monitor" || { cat "$T/monitor"; fail "no cancelled result"; }
[ ! -e "$T/out2/batch.pdf" ] || fail "a cancelled scan was delivered"
[ -z "$(find "$SCAND_SPOOL" -mindepth 1 -maxdepth 1 -type d -not -name '.*')" ] || fail "cancelled job left in the spool"
grep -q "'page-saved', uint32 10" "$T/monitor" && fail "the scan went on after CancelJob"
: >"$T/monitor"

# SIGTERM in the middle of a 10-page batch.
scand_call Scan "virtual" "" >/dev/null
wait_for 30 grep -q "'page-saved', uint32 2" "$T/monitor" || { cat "$T/daemon.log"; fail "scan did not start"; }
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"; rc=$?
assert_eq 0 "$rc" "exit status after SIGTERM"
grep -q "scand: stopped" "$T/daemon.log" || fail "no clean stop"
[ ! -e "$T/out2/batch.pdf" ] || fail "delivered a batch that was stopped"
jobs=$(find "$SCAND_SPOOL" -mindepth 1 -maxdepth 1 -type d -not -name '.*' | wc -l)
assert_eq 1 "$jobs" "jobs kept in the spool"
pages=$(find "$SCAND_SPOOL" -name 'page-*' | wc -l)
[ "$pages" -ge 2 ] && [ "$pages" -lt 10 ] || fail "$pages pages kept, expected the ones scanned before SIGTERM"
grep -q "\.part" <(find "$SCAND_SPOOL") && fail "a half-written page was kept"

# The next start delivers what was scanned, to the new destination.
DAEMON_STARTS=2 daemon_start "$T/scand.conf" --queue-interval 500
wait_for 30 test -f "$T/out2/batch.pdf" || {
  cat "$T/daemon.log"
  # What the next start read (seen once: a kept job quarantined as corrupt).
  find "$SCAND_SPOOL" -name 'job.ini*' -exec sh -c 'echo "--- $1"; cat -A "$1"' _ {} \; >&2
  fail "kept pages not delivered after restart"
}
assert_eq "$pages" "$(pdf_pages "$T/out2/batch.pdf")" "pages delivered after restart"
daemon_stop
echo ok
