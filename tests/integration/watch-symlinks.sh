# Nothing outside a watched folder is ever opened, delivered, moved or
# deleted: symbolic links to files and folders outside (there at start-up or
# made at run time), a subdirectory swapped for a link at run time, a
# subdirectory renamed out of the folder, a hard link to an outside file,
# .scand-error and .scand-done made links (one into the spool itself), a
# watched path that is itself a link. The delivered copy is never more readable than its
# source (a 0600 file stays 0600; the default is 0640).
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
mkdir -p "$T/in" "$T/in2" "$T/out" "$T/outside" "$T/outside2" "$T/outside3" "$T/errtarget" "$T/donetarget"
for f in private other hardsrc; do cp "$T/doc.pdf" "$T/outside/$f.pdf"; done
chmod 0600 "$T/outside/private.pdf" "$T/outside/hardsrc.pdf"
cp "$T/doc.pdf" "$T/outside2/o1.pdf"
cp "$T/doc.pdf" "$T/outside3/l1.pdf"
ln -s "$T/outside3" "$T/linkroot"

cat >"$T/scand.conf" <<CONF
[watch drop]
path = $T/in
stable-for = 1s
incomplete-wait = 2s
after = delete

[watch keep]
path = $T/in2
stable-for = 1s

[watch linked]
path = $T/linkroot
stable-for = 1s
after = delete
CONF
out_conf

# At start-up: links to a file and to a folder outside, a hard link.
ln -s "$T/outside/private.pdf" "$T/in/link.pdf"
ln -s "$T/outside" "$T/in/linkdir"
ln "$T/outside/hardsrc.pdf" "$T/in/hard.pdf"
# .scand-error is a link into the spool (an attacker's way to plant a job).
mkdir -p "$SCAND_SPOOL"
ln -s "$SCAND_SPOOL" "$T/in/.scand-error"
# .scand-done of the second watch is a link somewhere else.
ln -s "$T/donetarget" "$T/in2/.scand-done"

daemon_start "$T/scand.conf" --no-bus --queue-interval 500
cp "$T/doc.pdf" "$T/in/ok1.pdf"
wait_for 30 test -f "$T/out/ok1.pdf" || { cat "$T/daemon.log"; fail "a plain file was not delivered"; }

# At run time: a file link, a subdirectory that works, then swapped for a
# link to a folder outside into which a new file comes.
ln -s "$T/outside/other.pdf" "$T/in/rt-link.pdf"
mkdir "$T/in/sub"
sleep 0.5
cp "$T/doc.pdf" "$T/in/sub/s1.pdf"
wait_for 30 test -f "$T/out/s1.pdf" || fail "a file in a subdirectory was not delivered"
rm -rf "$T/in/sub"
ln -s "$T/outside2" "$T/in/sub"
cp "$T/doc.pdf" "$T/outside2/o2.pdf"
# A subdirectory renamed out of the folder is no longer watched.
mkdir "$T/in/sub2"
sleep 0.5
mv "$T/in/sub2" "$T/moved-away"
cp "$T/doc.pdf" "$T/moved-away/m.pdf"
# A private file of the folder's own keeps its mode.
cp "$T/doc.pdf" "$T/in/.private.tmp" && chmod 0600 "$T/in/.private.tmp" && mv "$T/in/.private.tmp" "$T/in/private-real.pdf"
wait_for 30 test -f "$T/out/private-real.pdf" || fail "the private file was not delivered"
# A broken file whose quarantine would write through the .scand-error link.
printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00' >"$T/in/broken.jpg"
# The second watch: delivered once, but its .scand-done is refused, so the
# job keeps the file and it is not taken again, also after a restart.
cp "$T/doc.pdf" "$T/in2/d.pdf"
wait_for 30 test -f "$T/out/d.pdf" || fail "d.pdf not delivered"
wait_for 30 grep -q "broken.jpg.*could not be set aside" "$T/daemon.log" || { cat "$T/daemon.log"; fail "broken.jpg not refused"; }
sleep 3
daemon_stop
DAEMON_STARTS=2 daemon_start "$T/scand.conf" --no-bus --queue-interval 500
cp "$T/doc.pdf" "$T/in/ok2.pdf"
wait_for 30 test -f "$T/out/ok2.pdf" || fail "nothing delivered after the restart"
sleep 3
daemon_stop

echo "--- delivered:"; ls -l "$T/out"
for f in link.pdf linkdir rt-link.pdf hard.pdf o1.pdf o2.pdf m.pdf private.pdf other.pdf broken.pdf d-2.pdf l1.pdf; do
  [ ! -e "$T/out/$f" ] || fail "$f was delivered"
done
assert_eq 5 "$(count_files "$T/out")" "files delivered (ok1 s1 private-real d ok2)"
for f in private other hardsrc; do cmp -s "$T/doc.pdf" "$T/outside/$f.pdf" || fail "outside/$f.pdf was touched"; done
cmp -s "$T/doc.pdf" "$T/outside3/l1.pdf" || fail "outside3/l1.pdf (behind a watched path that is a link) was touched"
for f in o1 o2; do cmp -s "$T/doc.pdf" "$T/outside2/$f.pdf" || fail "outside2/$f.pdf was touched"; done
cmp -s "$T/doc.pdf" "$T/moved-away/m.pdf" || fail "a file in the renamed-away folder was taken"
[ -L "$T/in/link.pdf" ] && [ -L "$T/in/rt-link.pdf" ] && [ -L "$T/in/sub" ] || fail "a link was removed"
[ -f "$T/in/hard.pdf" ] || fail "the hard link was removed"
[ -f "$T/in/broken.jpg" ] || fail "broken.jpg was moved through the link"
[ -z "$(ls -A "$T/donetarget")" ] || fail "something was moved into the .scand-done link's target"
[ -f "$T/in2/d.pdf" ] || fail "d.pdf is gone although its .scand-done was refused"
[ -z "$(find "$SCAND_SPOOL" -name 'broken*')" ] || fail "the quarantine wrote into the spool"
assert_eq 600 "$(stat -c %a "$T/out/private-real.pdf")" "mode of a delivered 0600 file"
assert_eq 640 "$(stat -c %a "$T/out/ok1.pdf")" "mode of a delivered 0644 file"
assert_contains "$T/daemon.log" "link.pdf is a symbolic link"
assert_contains "$T/daemon.log" "linkdir is a symbolic link"
assert_contains "$T/daemon.log" "rt-link.pdf is a symbolic link"
assert_contains "$T/daemon.log" "hard.pdf has other hard links"
assert_contains "$T/daemon.log" ".scand-done is not a real directory"
assert_contains "$T/daemon.log" "linkroot is a symbolic link: not watched"
echo ok
