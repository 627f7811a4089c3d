# A watched folder removed and made again, or renamed away and made again,
# is watched again (its parent is watched meanwhile) and it is logged; files
# dropped into the renamed-away folder are not taken (it is not the watched
# folder any more). A folder whose parent went too is found again by the
# periodic rescan (poll-interval).
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

mkdir -p "$T/base/in" "$T/p/q/in2" "$T/out"
"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
cat >"$T/scand.conf" <<CONF
[watch a]
path = $T/base/in
stable-for = 1s
after = delete

[watch b]
path = $T/p/q/in2
stable-for = 1s
after = delete
poll-interval = 2s
CONF
out_conf
daemon_start "$T/scand.conf" --no-bus --queue-interval 500
drop() { cp "$T/doc.pdf" "$1"; wait_for 30 test -f "$T/out/$2" || { cat "$T/daemon.log"; fail "$2 not delivered"; }; }

drop "$T/base/in/f1.pdf" f1.pdf
# Removed and made again.
rm -rf "$T/base/in"
wait_for 10 grep -q "watch a: $T/base/in is removed" "$T/daemon.log" || { cat "$T/daemon.log"; fail "removal not logged"; }
mkdir "$T/base/in"
wait_for 10 grep -q "watch a: $T/base/in is back" "$T/daemon.log" || { cat "$T/daemon.log"; fail "return not logged"; }
drop "$T/base/in/f2.pdf" f2.pdf
# Renamed away and made again: the old one is no longer watched.
mv "$T/base/in" "$T/base/in.old"
mkdir "$T/base/in"
drop "$T/base/in/f3.pdf" f3.pdf
cp "$T/doc.pdf" "$T/base/in.old/g.pdf"
# The parent went too: found again by the rescan every 2 s.
rm -rf "$T/p"
sleep 1
mkdir -p "$T/p/q/in2"
drop "$T/p/q/in2/f4.pdf" f4.pdf
sleep 2
daemon_stop
[ -f "$T/base/in.old/g.pdf" ] || fail "a file in the renamed-away folder was taken"
[ ! -e "$T/out/g.pdf" ] || fail "a file in the renamed-away folder was delivered"
assert_eq 4 "$(count_files "$T/out")" "files delivered"
assert_contains "$T/daemon.log" "watch b: $T/p/q/in2 is back"
echo ok
