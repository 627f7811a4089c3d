# Exactly once across crashes, point by point: the daemon is killed (test-only
# fault hook SCAND_FAULT) at each step of taking a watched file and
# delivering it, then started again, also killed a second time at the steps
# where the first crash left work for the next start (the window where a job
# made just before a crash was delivered and left the spool while its file was
# still in the folder, and a second crash let the third start take the file
# again). Each time: one delivery, the file gone from the folder, no job left.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
cases=(
  "watch-staged"
  "watch-taken"
  "watch-taken delivery-recorded"
  "watch-taken job-done"
  "watch-taken watch-recovered"
  "watch-disposed"
  "watch-disposed delivery-recorded"
  "folder-written"
  "folder-renamed"
  "delivery-recorded"
  "job-done"
)

# start_until_killed POINT: starts the daemon with the fault hook at POINT and
# waits for the hook to kill it.
start_until_killed() {
  SCAND_FAULT=$1 "$SCAND" daemon --config "$T/scand.conf" --no-bus --queue-interval 300 >>"$T/daemon.log" 2>&1 &
  local pid=$!
  on_exit "kill -9 $pid 2>/dev/null"
  wait_for 60 sh -c "! kill -0 $pid 2>/dev/null" || { cat "$T/daemon.log"; fail "$1: the fault point was not reached"; }
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 137 ] || { cat "$T/daemon.log"; fail "$1: exit $rc, expected SIGKILL"; }
}

n=0
for c in "${cases[@]}"; do
  n=$((n + 1))
  read -r first second <<<"$c"
  rm -rf "$T/in" "$T/out" "$T/done" "$T/spool" "$T/daemon.log"
  mkdir -p "$T/in" "$T/out"
  export SCAND_SPOOL="$T/spool"
  watch_conf
  cp "$T/doc.pdf" "$T/in/f.pdf"
  start_until_killed "$first"
  [ -z "$second" ] || start_until_killed "$second"
  DAEMON_STARTS=$(($(grep -c 'scand: ready' "$T/daemon.log") + 1)) daemon_start "$T/scand.conf" --no-bus --queue-interval 300
  wait_for 30 test -f "$T/out/f.pdf" || { cat "$T/daemon.log"; fail "$c: not delivered"; }
  wait_for 30 test -f "$T/done/f.pdf" || { cat "$T/daemon.log"; fail "$c: not moved to done"; }
  wait_for 30 sh -c "[ -z \"\$(find '$T/spool' -name job.ini)\" ]" || {
    cat "$T/daemon.log"
    find "$T/spool" -name job.ini -exec sh -c 'echo "--- $1"; cat "$1"; ls -la "$(dirname "$1")"' sh {} \;
    fail "$c: a job is left"
  }
  sleep 1.5 # one more stable-for: nothing is taken again
  daemon_stop
  assert_eq 1 "$(count_files "$T/out")" "$c: deliveries"
  assert_eq 0 "$(count_files "$T/in")" "$c: files left in the folder"
  cmp -s "$T/doc.pdf" "$T/out/f.pdf" || fail "$c: the delivered file differs"
  echo "ok $c"
done
echo ok
