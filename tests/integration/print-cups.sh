# Printer output against a private cupsd with a raw queue whose device is an
# AppSocket printer started here (tests/lib/cupsd.sh): the bytes printed are
# the PDF, copies = 2 prints it twice, print:QUEUE works, job options reach
# CUPS, a stopped queue is a retry (with its reason) and prints exactly once
# when it is enabled again, a missing queue and an aborted job fail, and an
# unreachable cupsd is a retry. Every message names the output and the cause.
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
{ printf '%%PDF-1.4\n%% scand print test\n'; head -c 30000 /dev/urandom | base64; printf '\n%%%%EOF\n'; } >"$pdf"

cat >"$tmp/scand.conf" <<EOF
[output printer]
type = print
queue = q
timeout = 60s

[output twice]
type = print
queue = q
copies = 2
duplex = two-sided-long-edge
media = iso_a4_210x297mm
timeout = 60s

[output default]
type = print
timeout = 60s

[output nowhere]
type = print
queue = nosuch
EOF
export SCAND_SPOOL=$tmp/spool-1

# Waits for the printer to have received job N (its file appears once the
# connection is closed).
wait_printed() {
  local i
  for i in $(seq 1 200); do
    [ -e "$printed/job-$1.bin" ] && return 0
    sleep 0.05
  done
  fail "the printer never received job $1"
}

# Exits with the status of scand deliver, stderr in $tmp/err.
deliver() {
  set +e
  "$SCAND" deliver "$pdf" --config "$tmp/scand.conf" --name scan.pdf "$@" 2>"$tmp/err"
  status=$?
  set -e
  cat "$tmp/err" >&2
}

# 1. The bytes that reach the printer are the PDF.
deliver --to printer
[ "$status" = 0 ] || fail "print: exit $status, expected 0"
wait_printed 1
cmp "$pdf" "$printed/job-1.bin" || fail "printed bytes differ from the PDF"

# 2. copies = 2: the raw queue sends the document twice; the job also carries
#    the options.
deliver --to twice
[ "$status" = 0 ] || fail "copies=2: exit $status, expected 0"
wait_printed 2
cat "$pdf" "$pdf" | cmp - "$printed/job-2.bin" || fail "copies=2 did not print two copies"
# cupsd logs the backend's command line: argv[4] is the copies, argv[5] the
# job options.
job2=$(sed -n 's/.*\[Job \([0-9]*\)\] argv\[4\]="2".*/\1/p' "$CUPSD_DIR/log/error_log" | tail -n 1)
[ -n "$job2" ] || fail "no job with copies=2 in the cupsd log"
for want in sides=two-sided-long-edge media=iso_a4_210x297mm; do
  grep "\[Job $job2\] argv\[5\]=" "$CUPSD_DIR/log/error_log" | grep -q "$want" ||
    fail "job options: $want did not reach CUPS"
done

# 3. --to print:QUEUE.
deliver --to print:q
[ "$status" = 0 ] || fail "--to print:q: exit $status, expected 0"
wait_printed 3
cmp "$pdf" "$printed/job-3.bin" || fail "print:q printed bytes differ"

# 3b. No queue configured: CUPS's default destination, and a clear failure
#     while there is none.
unset LPDEST PRINTER
deliver --to default
[ "$status" = 1 ] || fail "no default printer: exit $status, expected 1"
grep -q "output 'default': no queue is configured and CUPS at $CUPS_SERVER has no default printer" "$tmp/err" ||
  fail "no-default message unclear"
lpadmin -h "$CUPS_SERVER" -d q
deliver --to default
[ "$status" = 0 ] || fail "default printer: exit $status, expected 0"
wait_printed 4
cmp "$pdf" "$printed/job-4.bin" || fail "default printer: printed bytes differ"

# 4. A missing queue fails at once.
deliver --to nowhere
[ "$status" = 1 ] || fail "missing queue: exit $status, expected 1"
grep -q "output 'nowhere': printer queue 'nosuch' does not exist" "$tmp/err" || fail "missing-queue message unclear"

# 5. A stopped queue is a retry with its reason; nothing is sent to it.
export SCAND_SPOOL=$tmp/spool-5
cupsdisable -h "$CUPS_SERVER" -r "out of paper in tray 2" q
deliver --to printer
[ "$status" = 75 ] || fail "stopped queue: exit $status, expected 75"
grep -q "output 'printer': printer queue 'q' is stopped: out of paper in tray 2 — will retry" "$tmp/err" ||
  fail "stopped-queue message does not give the reason"
[ "$(lpstat -h "$CUPS_SERVER" -o q | wc -l)" = 0 ] || fail "a job was queued on the stopped printer"

# ... enabled again, the queued job prints exactly once.
cupsenable -h "$CUPS_SERVER" q
set +e
"$SCAND" resume --config "$tmp/scand.conf" 2>"$tmp/err"
status=$?
set -e
cat "$tmp/err" >&2
[ "$status" = 0 ] || fail "resume after enabling: exit $status, expected 0"
wait_printed 5
cmp "$pdf" "$printed/job-5.bin" || fail "resumed job printed different bytes"
"$SCAND" resume --config "$tmp/scand.conf" || fail "second resume exited $?"
sleep 0.5
[ ! -e "$printed/job-6.bin" ] || fail "the resumed job was printed twice"

export SCAND_SPOOL=$tmp/spool-6
# 6. A printer that does not answer: the backend gives up after contimeout,
#    the job is aborted (error policy abort-job), and that is a failure.
lpadmin -h "$CUPS_SERVER" -p dead -E -v "socket://127.0.0.1:1/?contimeout=1" -m raw \
  -o printer-error-policy=abort-job 2>/dev/null
cat >>"$tmp/scand.conf" <<EOF

[output dead]
type = print
queue = dead
timeout = 60s
EOF
deliver --to dead
[ "$status" = 1 ] || fail "aborted job: exit $status, expected 1"
grep -q "output 'dead': printer queue 'dead': job [0-9]* was aborted by the printer" "$tmp/err" ||
  fail "aborted-job message unclear"

# 7. cupsd unreachable: retry.
set +e
CUPS_SERVER=$tmp/no-such.sock "$SCAND" deliver "$pdf" --config "$tmp/scand.conf" --to printer --name x.pdf \
  2>"$tmp/err"
status=$?
set -e
cat "$tmp/err" >&2
[ "$status" = 75 ] || fail "unreachable cupsd: exit $status, expected 75"
grep -q "output 'printer': cannot reach the CUPS server at $tmp/no-such.sock" "$tmp/err" ||
  fail "unreachable-server message unclear"

# 8. The printer is switched off while the job is on its way: CUPS stops the
#    queue (error policy stop-printer) and keeps the job; scand reports a
#    retry with the reason and the job it waits for. Once the printer is back
#    the same job prints, and the retried delivery prints nothing more.
export SCAND_SPOOL=$tmp/spool-8
lpadmin -h "$CUPS_SERVER" -p off -E -v "socket://127.0.0.1:1/?contimeout=1" -m raw \
  -o printer-error-policy=stop-printer 2>/dev/null
cat >>"$tmp/scand.conf" <<EOF

[output off]
type = print
queue = off
timeout = 60s
EOF
deliver --to off
[ "$status" = 75 ] || fail "printer off: exit $status, expected 75"
grep -q "output 'off': printer queue 'off' is stopped: .* — job [0-9]* stays queued, will retry" "$tmp/err" ||
  fail "printer-off message does not say it is stopped and which job waits"
job=$(sed -n 's/.*job \([^ ]*\) is queued in the spool.*/\1/p' "$tmp/err")
before=$(ls "$printed" | grep -c '^job-')
lpadmin -h "$CUPS_SERVER" -p off -v "socket://127.0.0.1:$PRINTER_PORT"
cupsenable -h "$CUPS_SERVER" off
"$SCAND" retry "$job" --config "$tmp/scand.conf" || fail "retry after the printer came back exited $?"
wait_printed $((before + 1))
cmp "$pdf" "$printed/job-$((before + 1)).bin" || fail "printer off: printed bytes differ"
sleep 0.5
[ "$(ls "$printed" | grep -c '^job-')" = $((before + 1)) ] || fail "printer off: the document was printed twice"
[ "$(lpstat -h "$CUPS_SERVER" -W completed -o off | wc -l)" = 1 ] || fail "printer off: more than one CUPS job"

# 9. scand config check knows the printer keys.
cat >"$tmp/bad.conf" <<EOF
[output p]
type = print
queue = two words
duplex = sideways
EOF
set +e
"$SCAND" config check --config "$tmp/bad.conf" >"$tmp/check.out" 2>&1
status=$?
set -e
cat "$tmp/check.out" >&2
[ "$status" != 0 ] || fail "config check accepted a bad printer output"
grep -q "bad.conf:3: \[output p\] queue: 'two words' is not a valid CUPS queue name" "$tmp/check.out" ||
  fail "config check: bad queue name not reported"
grep -q "bad.conf:4: \[output p\] duplex:" "$tmp/check.out" || fail "config check: bad duplex not reported"

echo "print-cups: ok"
