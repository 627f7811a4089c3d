# Exactly once across crashes, for files taken together (group commit): 40
# files dropped at once are taken in batches, and the daemon is killed (test
# fault hook SCAND_FAULT) in the middle of one — while a batch is staged and
# not durable, after it was committed, after some of its files were disposed
# of, while its deliveries were under way, and while finished jobs were being
# removed — then started again. Each time: every file delivered exactly once
# under its own name (a second copy would get a "-2" name), with its bytes,
# every file moved to the done folder, nothing left in the spool.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

N=40
"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
cases=(
  "watch-staged@2"
  "watch-taken@20"
  "watch-disposed@10"
  "folder-written@12"
  "folder-renamed@25"
  "job-done@30"
)

expected_names() { for i in $(seq -w 1 $N); do echo "f$i.pdf"; done; }

for c in "${cases[@]}"; do
  rm -rf "$T/in" "$T/out" "$T/done" "$T/stage" "$T/spool" "$T/daemon.log"
  mkdir -p "$T/in" "$T/out" "$T/stage"
  export SCAND_SPOOL="$T/spool"
  watch_conf
  for i in $(seq -w 1 $N); do cp "$T/doc.pdf" "$T/stage/f$i.pdf"; done
  SCAND_FAULT=$c "$SCAND" daemon --config "$T/scand.conf" --no-bus --queue-interval 300 >>"$T/daemon.log" 2>&1 &
  pid=$!
  on_exit "kill -9 $pid 2>/dev/null"
  wait_for 30 grep -q "scand: ready" "$T/daemon.log" || { cat "$T/daemon.log"; fail "$c: not ready"; }
  mv "$T/stage"/* "$T/in/"
  wait_for 60 sh -c "! kill -0 $pid 2>/dev/null" || { cat "$T/daemon.log"; fail "$c: the fault point was not reached"; }
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 137 ] || { cat "$T/daemon.log"; fail "$c: exit $rc, expected SIGKILL"; }
  if [ "$c" = "watch-staged@2" ]; then
    # The second batch was staged whole, several files at once, when the
    # daemon died: group commit, and nothing of it durable yet.
    staged=$(find "$T/spool" -mindepth 1 -maxdepth 1 -name '.new-*' | wc -l)
    [ "$staged" -ge 2 ] || fail "$c: $staged jobs staged in the killed batch, expected several"
    echo "$c: killed with $staged files staged in one batch"
  fi
  DAEMON_STARTS=2 daemon_start "$T/scand.conf" --no-bus --queue-interval 300
  all_done() {
    [ "$(count_files "$T/out")" -ge $N ] && [ "$(count_files "$T/done")" -ge $N ] &&
      [ -z "$(find "$T/spool" -name job.ini)" ] && [ "$(count_files "$T/in")" -eq 0 ]
  }
  wait_for 60 all_done || {
    cat "$T/daemon.log"
    find "$T/spool" -name job.ini -exec sh -c 'echo "--- $1"; cat "$1"' sh {} \;
    fail "$c: out $(count_files "$T/out"), done $(count_files "$T/done"), in $(count_files "$T/in")"
  }
  sleep 1.5 # one more stable-for: nothing is taken again
  daemon_stop
  assert_eq "$(expected_names)" "$(ls "$T/out")" "$c: delivered names"
  assert_eq "$(expected_names)" "$(ls "$T/done")" "$c: files moved to done"
  for f in "$T/out"/*; do cmp -s "$T/doc.pdf" "$f" || fail "$c: $(basename "$f") differs"; done
  [ -z "$(find "$T/spool" -mindepth 1 -maxdepth 1 -name '.new-*' -o -mindepth 1 -maxdepth 1 -name '.gone-*')" ] ||
    fail "$c: staged or removed jobs left in the spool"
  [ -z "$(find "$T/out" -name '.scand-*')" ] || fail "$c: a partial delivery is left in the output"
  echo "ok $c"
done
echo ok
