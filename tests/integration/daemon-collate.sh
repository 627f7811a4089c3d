# Double-sided collation of a simplex feeder's two passes in a watched folder:
# the fronts file, then the backs file (stack turned over, so in reverse
# order) become one document f1 b1 f2 b2 f3 b3; a lone first pass goes out
# alone after collate-wait; passes with different page counts go to the error
# folder with the reason.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

# Pages told apart by their pixel width: front k is 10+2k wide, back k 11+2k.
page() { python3 -c "
import sys; w=int(sys.argv[1]); h=20
open(sys.argv[2],'wb').write(b'P5\n%d %d\n255\n' % (w, h) + bytes([128]) * (w * h))" "$1" "$2"; }
for k in 1 2 3; do page $((10 + 2 * k)) "$T/f$k.pgm"; page $((11 + 2 * k)) "$T/b$k.pgm"; done
"$SCAND" assemble -o "$T/fronts.pdf" "$T/f1.pgm" "$T/f2.pgm" "$T/f3.pgm" >/dev/null
"$SCAND" assemble -o "$T/backs.pdf" "$T/b3.pgm" "$T/b2.pgm" "$T/b1.pgm" >/dev/null
"$SCAND" assemble -o "$T/short.pdf" "$T/b1.pgm" >/dev/null

mkdir -p "$T/in" "$T/out"
cat >"$T/scand.conf" <<CONF
[watch duplex]
path = $T/in
stable-for = 1s
collate = double-sided
collate-wait = 4s
after = delete
CONF
out_conf
daemon_start "$T/scand.conf" --no-bus --queue-interval 300

widths() { pdfimages -list "$1" | awk 'NR > 2 {printf "%s ", $4}'; }

cp "$T/fronts.pdf" "$T/in/scan-a.pdf"
sleep 1.5
cp "$T/backs.pdf" "$T/in/scan-b.pdf"
wait_for 30 test -f "$T/out/scan-a.pdf" || { cat "$T/daemon.log"; fail "collated document not delivered"; }
assert_eq "12 13 14 15 16 17 " "$(widths "$T/out/scan-a.pdf")" "page order (widths) of the collated document"
qpdf --check "$T/out/scan-a.pdf" >/dev/null || fail "qpdf --check"
assert_eq 1 "$(count_files "$T/out")" "documents delivered for two passes"

# A lone first pass: delivered alone once collate-wait is over, not before.
cp "$T/fronts.pdf" "$T/in/lone.pdf"
sleep 2.5
[ ! -e "$T/out/lone.pdf" ] || fail "the first pass did not wait for its partner"
wait_for 20 test -f "$T/out/lone.pdf" || fail "lone pass not delivered after collate-wait"
assert_eq "12 14 16 " "$(widths "$T/out/lone.pdf")" "lone pass pages"

# Passes that do not match: both to the error folder, with the reason.
cp "$T/fronts.pdf" "$T/in/odd-a.pdf"
sleep 1.5
cp "$T/short.pdf" "$T/in/odd-b.pdf"
wait_for 30 test -f "$T/in/.scand-error/odd-b.pdf.reason.txt" || { cat "$T/daemon.log"; fail "mismatched passes not set aside"; }
grep -q "3" "$T/in/.scand-error/odd-a.pdf.reason.txt" || fail "reason does not give the page counts"
[ ! -e "$T/out/odd-a.pdf" ] || fail "mismatched passes were delivered"
daemon_stop
echo ok
