# Printer output idempotence across crashes (SCAND_FAULT kills scand at a
# named point): killed after the document was sent, the resumed delivery
# waits for the recorded CUPS job and prints nothing more; killed after
# Create-Job but before the document, the empty job is cancelled and the
# document printed exactly once.
set -euo pipefail

. "$SCAND_SRCDIR/tests/lib/cupsd.sh"

tmp=$(mktemp -d)
cleanup() {
  cupsd_stop
  printer_stop
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  cupsd_dump_log
  exit 1
}

cupsd_start "$tmp" || fail "cupsd did not start"
printed=$tmp/printed
printer_start "$printed" || fail "printer listener did not start"
cupsd_add_queue q "$PRINTER_PORT" || fail "could not add queue q"

pdf=$tmp/in.pdf
{ printf '%%PDF-1.4\n%% scand print crash test\n'; head -c 30000 /dev/urandom | base64; printf '\n%%%%EOF\n'; } >"$pdf"
cat >"$tmp/scand.conf" <<EOF
[output printer]
type = print
queue = q
timeout = 60s
EOF

wait_printed() {
  local i
  for i in $(seq 1 200); do
    [ -e "$printed/job-$1.bin" ] && return 0
    sleep 0.05
  done
  fail "the printer never received job $1"
}

# Kills scand at fault point $1 during a delivery; then resumes it.
crash_then_resume() {
  export SCAND_SPOOL=$tmp/spool-$1
  set +e
  SCAND_FAULT=$1 "$SCAND" deliver "$pdf" --config "$tmp/scand.conf" --to printer --name scan.pdf 2>"$tmp/err"
  status=$?
  set -e
  cat "$tmp/err" >&2
  grep -q "fault hook: SIGKILL" "$tmp/err" || fail "$1: scand was not killed at the fault point (exit $status)"
  set +e
  "$SCAND" resume --config "$tmp/scand.conf" 2>"$tmp/err"
  status=$?
  set -e
  cat "$tmp/err" >&2
  [ "$status" = 0 ] || fail "$1: resume exited $status, expected 0"
}

# Jobs CUPS has finished with (completed, cancelled or aborted).
completed() {
  lpstat -h "$CUPS_SERVER" -W completed -o q | wc -l
}

# 1. Killed after the whole document reached CUPS: one print, no second job.
crash_then_resume print-sent
wait_printed 1
cmp "$pdf" "$printed/job-1.bin" || fail "print-sent: printed bytes differ"
[ "$(completed)" = 1 ] || fail "print-sent: $(completed) completed CUPS jobs, expected 1"
"$SCAND" resume --config "$tmp/scand.conf" || fail "print-sent: second resume exited $?"

# 2. Killed after Create-Job, before any byte of the document: that job is
#    cancelled, a new one prints the document once.
crash_then_resume print-job-created
wait_printed 2
cmp "$pdf" "$printed/job-2.bin" || fail "print-job-created: printed bytes differ"
# Finished jobs: the first print, the cancelled empty job, the reprint.
[ "$(completed)" = 3 ] || fail "print-job-created: $(completed) finished CUPS jobs, expected 3"
grep -q "\[Job 2\] .*[Cc]ancel" "$CUPSD_DIR/log/error_log" || fail "print-job-created: the empty job 2 was not cancelled"
lpstat -h "$CUPS_SERVER" -o q | grep -q . && fail "print-job-created: a job is left in the queue"
sleep 0.5
[ "$(ls "$printed" | grep -c '^job-')" = 2 ] || fail "the printer received $(ls "$printed" | grep -c '^job-') jobs, expected 2"

echo "print-crash: ok"
