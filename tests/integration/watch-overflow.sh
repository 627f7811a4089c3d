# When inotify's queue overflows (the daemon stalled while files poured in),
# the events lost do not lose files: the overflow is logged and every folder
# rescanned at once (poll-interval is an hour here, so the periodic rescan
# does not stand in for it).
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

mkdir -p "$T/in" "$T/out"
"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
cat >"$T/scand.conf" <<CONF
[watch drop]
path = $T/in
stable-for = 1s
after = delete
poll-interval = 1h
CONF
out_conf
daemon_start "$T/scand.conf" --no-bus --queue-interval 500
touch "$T/in/.a" "$T/in/.b"
limit=$(cat /proc/sys/fs/inotify/max_queued_events)
kill -STOP "$DAEMON_PID"
on_exit "kill -CONT $DAEMON_PID 2>/dev/null"
# More events than the queue holds (alternating, so that none are merged),
# then the files that matter.
python3 - "$T/in" "$((limit + 1000))" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    os.utime(os.path.join(d, ".a" if i % 2 else ".b"))
PY
for i in $(seq 1 40); do cp "$T/doc.pdf" "$T/in/f$i.pdf"; done
kill -CONT "$DAEMON_PID"
wait_for 120 at_least 40 "$T/out" -name 'f*.pdf' || { tail "$T/daemon.log"; fail "only $(count_files "$T/out") of 40 delivered after the overflow"; }
assert_contains "$T/daemon.log" "inotify lost events (its queue overflowed); rescanning every folder"
daemon_stop
assert_eq 40 "$(count_files "$T/out")" "files delivered"
echo ok
