# SIGKILL of the daemon at random points while it takes watched files and
# delivers them, 30 runs: every file is delivered exactly once — 0 lost, 0
# duplicated. The kills fall mostly while files are being taken (just after
# stable-for), where a job made durable just before a kill meets the next
# start: its file must be moved away before the job may leave the spool, or
# a kill in between makes the start after that take the file again.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

mkdir -p "$T/in" "$T/out"
watch_conf
"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null

runs=30 per_run=20 total=0
for run in $(seq 1 $runs); do
  for i in $(seq 1 $per_run); do
    cp "$T/doc.pdf" "$T/in/r${run}_f$i.pdf"
  done
  total=$((total + per_run))
  DAEMON_STARTS=$(( ${DAEMON_STARTS:-0} + 1 ))
  daemon_start "$T/scand.conf" --no-bus --queue-interval 300
  # Mostly among the takes, which start once stable-for has passed.
  sleep "$(python3 -c "import random; print(round(random.uniform(0.9, 1.8), 2))")"
  daemon_kill
done
# A last, uninterrupted run finishes what is left.
DAEMON_STARTS=$((DAEMON_STARTS + 1))
daemon_start "$T/scand.conf" --no-bus --queue-interval 300
wait_for 120 at_least $total "$T/out" -name '*.pdf' || true
sleep 3
daemon_stop

delivered=$(count_files "$T/out" -name '*.pdf')
dupes=$(find "$T/out" -name '*-2.pdf' | wc -l)
left=$(count_files "$T/in")
echo "files: $total, delivered: $delivered, duplicated: $dupes, left in the folder: $left"
assert_eq 0 "$dupes" "duplicated deliveries"
assert_eq "$total" "$delivered" "delivered files"
assert_eq 0 "$left" "files left in the watch folder"
for run in $(seq 1 $runs); do
  for i in $(seq 1 $per_run); do
    cmp -s "$T/doc.pdf" "$T/out/r${run}_f$i.pdf" || fail "r${run}_f$i.pdf missing or not complete"
  done
done
[ -z "$(find "$T/out" -name '.scand-*')" ] || fail "temporary files left in the destination"
[ -z "$(find "$SCAND_SPOOL" -name job.ini)" ] || fail "jobs left in the spool"
echo ok
