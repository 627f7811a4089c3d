# Metrics: /metrics scraped with curl while a feeder auto-scan runs and one
# of its two destinations fails, parsed by python3-prometheus-client's text
# parser; the counters move as they must (jobs, pages, delivery attempts and
# their histogram, queue, scanner state). Requests that are not a GET of
# /metrics are answered without reading further; a listener reachable from
# other computers without metrics-allow is refused; the textfile is written.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

/usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$T/port" --adf-pages 0 --lifetime 300 \
  2>"$T/sim.log" &
on_exit "kill $! 2>/dev/null"
wait_for 20 test -s "$T/port" || fail "simulator did not start"
sim="http://127.0.0.1:$(cat "$T/port")"
control() { curl -sf -XPOST "$sim/sim/control" -d "$1" >/dev/null || fail "simulator control $1"; }

: >"$T/not-a-dir"
cat >"$T/scand.conf" <<CONF
[scand]
metrics-listen = 127.0.0.1:0
metrics-textfile = $T/scand.prom

[scanner mfp]
device = escl:$sim/eSCL
auto-scan = feeder
poll-interval = 1s
settle = 1s
profile = fast

[profile fast]
source = feeder
mode = gray
resolution = 75

[output good]
type = folder
path = $T/out
create = true

[output broken]
type = folder
path = $T/not-a-dir/sub

[rule all]
deliver = good, broken
CONF
daemon_start "$T/scand.conf" --no-bus --queue-interval 500
wait_for 10 grep -q "metrics on port" "$T/daemon.log" || { cat "$T/daemon.log"; fail "no metrics port logged"; }
mport=$(sed -n 's/.*metrics on port \([0-9]*\).*/\1/p' "$T/daemon.log" | head -1)
url="http://127.0.0.1:$mport/metrics"

# value NAME 'LABELS as python dict' → the sample's value, or "absent"
scrape() { curl -sf -D "$T/headers" "$url" >"$T/metrics.txt" || fail "scrape failed"; }
value() {
  /usr/bin/python3 - "$T/metrics.txt" "$1" "$2" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
want_name, want_labels = sys.argv[2], eval(sys.argv[3])
found = [s.value for fam in text_string_to_metric_families(text) for s in fam.samples
         if s.name == want_name and s.labels == want_labels]
print("absent" if not found else ("%g" % found[0]))
PY
}

# Idle, before any job: the scanner polled idle, nothing counted.
wait_for 15 sh -c "curl -sf '$url' | grep -q 'scand_scanner_state{scanner=\"mfp\",state=\"idle\"} 1'" ||
  { curl -s "$url"; fail "scanner never idle in metrics"; }
scrape
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" || fail "content type: $(cat "$T/headers")"
version=$("$SCAND" --version | awk '{print $NF}')
assert_eq 1 "$(value scand_build_info "{'version': '$version'}")" "build info"
assert_eq 0 "$(value scand_scanner_feeder_loaded "{'scanner': 'mfp'}")" "feeder empty"
assert_eq absent "$(value scand_jobs_total "{'source': 'scan', 'outcome': 'failed'}")" "no job yet"
assert_eq 0 "$(value scand_queue_jobs '{}')" "queue empty"

# Paper in the feeder; pages come slowly, so the scrape lands mid-scan.
control '{"fault": "slow=2500", "adf_pages": 2}'
wait_for 20 sh -c "curl -sf '$url' | grep -q 'scand_scanner_state{scanner=\"mfp\",state=\"busy\"} 1'" ||
  { cat "$T/daemon.log"; fail "scanner never busy in metrics"; }
scrape
assert_eq 1 "$(value scand_queue_jobs '{}')" "the job under way is in the queue"
assert_eq absent "$(value scand_jobs_total "{'source': 'scan', 'outcome': 'failed'}")" "no job finished mid-scan"
assert_eq absent "$(value scand_delivery_attempts_total "{'output': 'good', 'outcome': 'done'}")" "no attempt mid-scan"

# The job ends: good delivered, broken failed, so the job failed (and is kept).
wait_for 60 sh -c "grep -q 'job .*: failed' '$T/daemon.log'" || { cat "$T/daemon.log"; fail "job did not end"; }
scrape
assert_eq 1 "$(value scand_jobs_total "{'source': 'scan', 'outcome': 'failed'}")" "jobs failed"
assert_eq absent "$(value scand_jobs_total "{'source': 'scan', 'outcome': 'done'}")" "jobs done"
assert_eq 2 "$(value scand_pages_total "{'source': 'scan'}")" "pages"
assert_eq 1 "$(value scand_delivery_attempts_total "{'output': 'good', 'outcome': 'done'}")" "good: done"
assert_eq 1 "$(value scand_delivery_attempts_total "{'output': 'broken', 'outcome': 'failed'}")" "broken: failed"
assert_eq 1 "$(value scand_delivery_duration_seconds_count "{'output': 'good'}")" "histogram count"
assert_eq 1 "$(value scand_delivery_duration_seconds_bucket "{'output': 'good', 'le': '+Inf'}")" "histogram +Inf"
assert_eq 1 "$(value scand_queue_jobs '{}')" "the failed job is kept in the spool"
[ "$(value scand_queue_oldest_seconds '{}')" != 0 ] || sleep 1.1
scrape
python3 -c "import sys; sys.exit(0 if float('$(value scand_queue_oldest_seconds '{}')') > 0 else 1)" ||
  fail "oldest job age not > 0"
count_files "$T/out" | grep -qx 1 || fail "good output did not get the file"

# Only GET/HEAD of /metrics; a body is never read.
# A POST announcing 10 GB gets its answer after the headers alone.
status=$(/usr/bin/python3 - "$mport" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n" + b"x" * 4096)
print(s.recv(200).split(b" ")[1].decode())
PY
)
assert_eq 405 "$status" "POST refused before its body"
assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/")" "other path"
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' -I "$url")" "HEAD"
# The textfile is the same text format.
wait_for 20 test -s "$T/scand.prom" || fail "no textfile"
/usr/bin/python3 -c "
from prometheus_client.parser import text_string_to_metric_families as p
names = {f.name for f in p(open('$T/scand.prom').read())}
assert 'scand_queue_jobs' in names, names" || fail "textfile does not parse"
daemon_stop

# Reachable from other computers without metrics-allow: refused, said why.
sed -i 's/^metrics-listen = .*/metrics-listen = 0.0.0.0:0/' "$T/scand.conf"
: >"$T/daemon.log"
daemon_start "$T/scand.conf" --no-bus
grep -q "metrics: metrics-listen 0.0.0.0:0 is reachable from other computers but metrics-allow names none" \
  "$T/daemon.log" || { cat "$T/daemon.log"; fail "open listener not refused"; }
daemon_stop
echo ok
