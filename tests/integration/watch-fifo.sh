# A FIFO renamed over a watched file never blocks the worker: not while the
# name flips between a file and a FIFO many times a second, not when the
# FIFO replaces a stable file already queued for taking (it is opened
# non-blocking and its type checked after opening). Files dropped afterwards
# are delivered, and SIGTERM stops the daemon at once.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

mkdir -p "$T/in" "$T/out" "$T/batch"
"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
cat >"$T/scand.conf" <<CONF
[watch drop]
path = $T/in
stable-for = 1s
after = delete
CONF
out_conf
daemon_start "$T/scand.conf" --no-bus --queue-interval 500
for i in $(seq 1 400); do cp "$T/doc.pdf" "$T/batch/b$i.pdf"; done

# A backlog for the worker; behind it a stable file over which a FIFO is
# renamed while it waits in the queue.
mv "$T/batch"/* "$T/in/"
sleep 0.3
cp "$T/doc.pdf" "$T/in/swap.pdf"
cp "$T/doc.pdf" "$T/in/.file" && mkfifo "$T/in/.fifo" "$T/in/.fifo2"
sleep 1.2
mv "$T/in/.fifo2" "$T/in/swap.pdf"
# Meanwhile a name that flips between a file and a FIFO (hidden names are
# ignored by the watcher).
python3 - "$T/in" <<'PY'
import os, sys, time
d = sys.argv[1]
end = time.monotonic() + 4
names = [".file", ".fifo"]
i = 0
while time.monotonic() < end:
    os.rename(os.path.join(d, names[i % 2]), os.path.join(d, "flip.pdf"))
    os.rename(os.path.join(d, "flip.pdf"), os.path.join(d, names[i % 2]))
    i += 1
PY
cp "$T/doc.pdf" "$T/in/after.pdf"
wait_for 120 test -f "$T/out/after.pdf" || { tail "$T/daemon.log"; fail "the worker is stuck"; }
wait_for 60 at_least 400 "$T/out" -name 'b*.pdf' || fail "the backlog was not delivered"
[ -p "$T/in/swap.pdf" ] || fail "the FIFO was moved or removed"
start=$SECONDS
kill -TERM "$DAEMON_PID"
wait_for 10 sh -c "! kill -0 $DAEMON_PID 2>/dev/null" || fail "SIGTERM did not stop the daemon within 10 s"
wait "$DAEMON_PID" || true
assert_contains "$T/daemon.log" "swap.pdf is not a regular file (a FIFO, a device or a socket): not taken"
echo "stopped in $((SECONDS - start)) s"
echo ok
