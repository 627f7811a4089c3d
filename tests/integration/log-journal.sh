# Logs under systemd: with stderr being the stream $JOURNAL_STREAM names,
# every event goes to journald with JOB=, DEVICE=, OUTPUT=, RULE= fields
# (a feeder auto-scan whose delivery to one output fails), and not also as a
# line on stderr; without it (or with a stale $JOURNAL_STREAM) one line per
# event on stderr. journald is a datagram socket at the real path,
# /run/systemd/journal/socket, inside a private mount namespace (a tmpfs on
# /run) that this test creates; the host's /run is never touched.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
if [ -z "${SCAND_IN_MOUNTNS:-}" ]; then
  userns=()
  [ "$(id -u)" -eq 0 ] || userns=(--map-root-user)
  SCAND_IN_MOUNTNS=1 exec unshare --mount "${userns[@]}" -- "$BASH" "$0" "$@"
fi
mount --make-rprivate / 2>/dev/null || true
mount -t tmpfs tmpfs /run || fail "cannot mount a private /run"
mkdir -p /run/systemd/journal

/usr/bin/python3 - "$T/journal.jsonl" <<'PY' &
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
out = open(sys.argv[1], "a")
while True:
    data = s.recv(1 << 20)
    entry, rest = {}, data
    while rest:
        line, sep, rest = rest.partition(b"\n")
        if b"=" in line:
            k, _, v = line.partition(b"=")
            entry[k.decode()] = v.decode("utf-8", "replace")
        else:  # binary-safe form: NAME\n<le64 size><value>\n
            n = int.from_bytes(rest[:8], "little")
            entry[line.decode()] = rest[8:8 + n].decode("utf-8", "replace")
            rest = rest[8 + n + 1:]
    out.write(json.dumps(entry) + "\n")
    out.flush()
PY
on_exit "kill $! 2>/dev/null"
wait_for 10 test -S /run/systemd/journal/socket || fail "journal socket did not appear"

/usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$T/port" --adf-pages 0 --lifetime 300 \
  2>"$T/sim.log" &
on_exit "kill $! 2>/dev/null"
wait_for 20 test -s "$T/port" || fail "simulator did not start"
sim="http://127.0.0.1:$(cat "$T/port")"
: >"$T/not-a-dir"
cat >"$T/scand.conf" <<CONF
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
[rule main]
deliver = good, broken
CONF

: >"$T/stderr"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/stderr") "$SCAND" daemon --config "$T/scand.conf" --no-bus 2>>"$T/stderr" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
wait_for 20 grep -q '"MESSAGE": "ready' "$T/journal.jsonl" || { cat "$T/stderr" "$T/journal.jsonl"; fail "no ready in the journal"; }
curl -sf -XPOST "$sim/sim/control" -d '{"adf_pages": 1}' >/dev/null || fail "simulator control"
wait_for 60 grep -q '"MESSAGE": "job [0-9-]*: failed' "$T/journal.jsonl" || { cat "$T/journal.jsonl"; fail "job did not end"; }
kill -TERM $pid; wait $pid || true

/usr/bin/python3 - "$T/journal.jsonl" <<'PY' || { cat "$T/journal.jsonl"; fail "journal fields"; }
import json, re, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
assert all(e.get("SYSLOG_IDENTIFIER") == "scand" and e.get("PRIORITY") == "6" for e in entries), entries
start = [e for e in entries if "scanning from" in e["MESSAGE"]]
assert len(start) == 1, start
job = re.match(r"job (\S+):", start[0]["MESSAGE"]).group(1)
assert start[0].get("JOB") == job and start[0].get("DEVICE") == "mfp", start[0]
end = [e for e in entries if e["MESSAGE"].startswith("job %s: failed" % job)]
assert len(end) == 1, end
e = end[0]
assert (e.get("JOB"), e.get("DEVICE"), e.get("RULE"), e.get("OUTPUT")) == (job, "mfp", "main", "broken"), e
polls = [e for e in entries if e["MESSAGE"].startswith("scanner mfp: ")]
assert polls and all(p.get("DEVICE") == "mfp" for p in polls), polls
PY
if grep -q "scand: job" "$T/stderr"; then cat "$T/stderr"; fail "events went to stderr too"; fi

# A stale $JOURNAL_STREAM (not this stderr): plain lines.
n=$(wc -l <"$T/journal.jsonl")
JOURNAL_STREAM=1:1 "$SCAND" daemon --config "$T/scand.conf" --no-bus 2>"$T/plain" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
wait_for 20 grep -q "^scand: ready" "$T/plain" || { cat "$T/plain"; fail "no ready line on stderr"; }
kill -TERM $pid; wait $pid || true
assert_eq "$n" "$(wc -l <"$T/journal.jsonl")" "journal entries from a daemon whose stderr is no journal stream"
echo ok
