# A file is taken exactly once, but the same file dropped again is new: moved
# back from .scand-done, or copied in again with cp -p (same size and mtime,
# maybe the same inode number) after its job was done, it is delivered again.
# A file whose job could not move it away is held (logged, not taken again,
# also after a restart) until it can be moved away; then its job goes. A
# move:/dir inside the watched folder is not watched (its files would come
# round again).
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

mkdir -p "$T/in" "$T/in2" "$T/in3" "$T/out" "$T/src"
"$SCAND" assemble -o "$T/src/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
touch -d '2026-01-02 03:04:05' "$T/src/doc.pdf"
cat >"$T/scand.conf" <<CONF
[watch moving]
path = $T/in
stable-for = 1s

[watch deleting]
path = $T/in2
stable-for = 1s
after = delete
poll-interval = 2s

[watch inner-done]
path = $T/in3
stable-for = 1s
after = move:$T/in3/done
CONF
out_conf
daemon_start "$T/scand.conf" --no-bus --queue-interval 500

# Moved back from .scand-done: the same inode, size, mtime and content.
cp -p "$T/src/doc.pdf" "$T/in/a.pdf"
wait_for 30 test -f "$T/in/.scand-done/a.pdf" || { cat "$T/daemon.log"; fail "a.pdf not moved to .scand-done"; }
mv "$T/in/.scand-done/a.pdf" "$T/in/a.pdf"
wait_for 30 test -f "$T/out/a-2.pdf" || { ls -la "$T/out" "$T/in"; cat "$T/daemon.log"; fail "a.pdf moved back was not delivered again"; }

# cp -p again after the first was deleted: its inode number may be reused.
for round in 1 2 3; do
  cp -p "$T/src/doc.pdf" "$T/in2/c.pdf"
  wait_for 30 at_least "$round" "$T/out" -name 'c*.pdf' || fail "c.pdf copied in again (round $round) not delivered"
  wait_for 10 test ! -e "$T/in2/c.pdf" || fail "c.pdf not deleted"
done

# Moved into a folder inside the watched one: taken once.
cp -p "$T/src/doc.pdf" "$T/in3/x.pdf"
wait_for 30 test -f "$T/in3/done/x.pdf" || fail "x.pdf not moved into in3/done"
sleep 3
[ ! -e "$T/out/x-2.pdf" ] || fail "a file moved inside the watched folder was taken again"
assert_contains "$T/daemon.log" "in3/done is where files are moved"

# A job that cannot move its file away holds it.
touch "$T/in/.scand-done.blocker" && rm -rf "$T/in/.scand-done" && mv "$T/in/.scand-done.blocker" "$T/in/.scand-done"
cp -p "$T/src/doc.pdf" "$T/in/e.pdf"
wait_for 30 test -f "$T/out/e.pdf" || fail "e.pdf not delivered"
wait_for 10 grep -q "e.pdf is in job .* the job keeps it" "$T/daemon.log" || fail "the kept file was not logged"
daemon_stop
DAEMON_STARTS=2 daemon_start "$T/scand.conf" --no-bus --queue-interval 500
wait_for 30 grep -q "e.pdf is the file of job .*not taken again" "$T/daemon.log" || { cat "$T/daemon.log"; fail "the skip was not logged"; }
sleep 2
[ ! -e "$T/out/e-2.pdf" ] || fail "the held file was taken twice"
[ -n "$(ls "$SCAND_SPOOL")" ] || fail "the job holding e.pdf is gone"
# Once the way is free the file is moved away and its job goes.
rm "$T/in/.scand-done"
wait_for 90 test -f "$T/in/.scand-done/e.pdf" || { cat "$T/daemon.log"; fail "the held file was not moved away later"; }
wait_for 30 sh -c "[ -z \"\$(find '$SCAND_SPOOL' -name job.ini)\" ]" || fail "the job was not let go"
daemon_stop
[ ! -e "$T/out/e-2.pdf" ] || fail "the held file was delivered twice"
assert_eq 7 "$(count_files "$T/out")" "deliveries (a, a-2, c, c-2, c-3, x, e)"
echo ok
