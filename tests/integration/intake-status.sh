# Mail jobs are shown with their sender and subject: `scand jobs` and the
# D-Bus API (ListJobs, GetJob) while the destination is down, then the
# delivery once it is back; the daemon's log has one line per message.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
bus_start

port=$(free_port)
cat >"$T/scand.conf" <<CONF
[scand]
metrics-listen = 127.0.0.1:0

[intake mfp]
type = smtp
listen = 127.0.0.1:$port
allow-from = 127.0.0.1
accept-to = *@scan.example

[output later]
type = folder
path = $T/not-yet

[rule mail]
source = mail
deliver = later
name = {recipient}/{subject}-{attachment}.pdf
CONF
daemon_start "$T/scand.conf" --queue-interval 500
daemon_wait_bus

"$SCAND" assemble -o "$T/scan.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
swaks --server "127.0.0.1:$port" --from scanner@copier.example --to finance@scan.example \
  --header "Subject: Invoice 4711" --attach-type application/pdf --attach-name "scan0042.pdf" \
  --attach "@$T/scan.pdf" >"$T/swaks.log" 2>&1 || { cat "$T/swaks.log"; fail "swaks"; }
wait_for 30 grep -q "output later" "$T/daemon.log" || { cat "$T/daemon.log"; fail "no delivery attempt"; }

# A message without a document is refused (550); the metrics count both messages by verdict.
if swaks --server "127.0.0.1:$port" --from scanner@copier.example --to finance@scan.example \
  --header "Subject: nothing" --body "no scan" >"$T/swaks2.log" 2>&1; then fail "a mail without a document was accepted"; fi
wait_for 10 grep -q "metrics on port" "$T/daemon.log" || { cat "$T/daemon.log"; fail "no metrics port logged"; }
mport=$(sed -n 's/.*metrics on port \([0-9]*\).*/\1/p' "$T/daemon.log" | head -1)
curl -sf "http://127.0.0.1:$mport/metrics" >"$T/metrics" || fail "no metrics"
grep scand_intake "$T/metrics"
assert_contains "$T/metrics" 'scand_intake_messages_total{intake="mfp",outcome="accepted"} 1'
assert_contains "$T/metrics" 'scand_intake_messages_total{intake="mfp",outcome="refused"} 1'

"$SCAND" jobs --config "$T/scand.conf" >"$T/jobs"
cat "$T/jobs"
assert_contains "$T/jobs" "mail via mfp"
assert_contains "$T/jobs" 'mail from <scanner@copier.example> to finance@scan.example: "Invoice 4711" (scan0042.pdf)'
id=$(awk 'NR==1 {print $1}' "$T/jobs")

scand_call ListJobs >"$T/list"
assert_contains "$T/list" "'$id'"
scand_call GetJob "$id" >"$T/job"
cat "$T/job"
assert_contains "$T/job" "'mail-from': 'scanner@copier.example'"
assert_contains "$T/job" "'mail-to': 'finance@scan.example'"
assert_contains "$T/job" "'subject': 'Invoice 4711'"
assert_contains "$T/job" "'attachment': 'scan0042'"
assert_contains "$T/job" "'attachment-file': 'scan0042.pdf'"
assert_contains "$T/job" "'intake': 'mfp'"
assert_contains "$T/job" "'client-ip': '127.0.0.1'"
if scand_call GetJob "no-such-job" >"$T/nojob" 2>&1; then fail "GetJob of a missing job succeeded"; fi

# The destination comes back: the queue delivers under the template's name.
mkdir -p "$T/not-yet"
wait_for 60 test -f "$T/not-yet/finance@scan.example/Invoice 4711-scan0042.pdf" || { ls -R "$T/not-yet"; cat "$T/daemon.log"; fail "not delivered"; }
cmp "$T/scan.pdf" "$T/not-yet/finance@scan.example/Invoice 4711-scan0042.pdf" || fail "the PDF differs"
daemon_stop
[ "$(grep -c 'intake mfp: client 127.0.0.1' "$T/daemon.log")" = 2 ] || fail "not one log line for each message"
assert_contains "$T/daemon.log" "from <scanner@copier.example>, to <finance@scan.example>, "
echo ok
