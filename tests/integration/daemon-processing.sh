# Page processing in the daemon's scan jobs: a D-Bus Scan() of a duplex
# feeder batch from the eSCL simulator (pages the test rendered), with a
# profile asking for mode = auto-detect, rotate-backs = 180 (this device
# delivers backs upside down), OCR and split = barcode:INV-*. Three sheets:
#   1 front: an office letter (black and white)  2 back: a text page upside down
#   3 front: the barcode separator               4 back: its blank back
#   5 front: a colour page                       6 back: a gray photo scanned in colour
# Two documents come out: the letter (pages 1-2, the back turned upright:
# its OCR reads) and the invoice (pages 5-6, routed by its barcode and named
# by it); the whole separator sheet is gone; each page got its colour class
# (1-bit G4, colour JPEG kept byte for byte, gray JPEG).
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
bus_start

PY=/usr/bin/python3
"$PY" "$SCAND_SRCDIR/tests/lib/page-corpus.py" "$T/c" clean 1 feature
C="$T/c"
mkdir -p "$T/feed" "$T/desk" "$T/invoices"
cp "$C/letter.jpg" "$T/feed/1.jpg"
cp "$C/rot180.jpg" "$T/feed/2.jpg"
cp "$C/barcode.jpg" "$T/feed/3.jpg"
"$PY" -c "from PIL import Image; Image.open('$C/blank.pnm').save('$T/feed/4.jpg', quality=85, dpi=(300, 300))"
cp "$C/color.jpg" "$T/feed/5.jpg"
"$PY" -c "from PIL import Image; Image.open('$C/photo.pnm').convert('RGB').save('$T/feed/6.jpg', quality=85, dpi=(300, 300))"

"$PY" "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$T/port" --pages-dir "$T/feed" --lifetime 600 \
  2>"$T/sim.log" &
on_exit "kill $! 2>/dev/null"
wait_for 20 test -s "$T/port" || fail "simulator did not start"
# Six page files, three sheets (the simulator counts a file per sheet).
curl -sf -XPOST "http://127.0.0.1:$(cat "$T/port")/sim/control" -d '{"adf_pages": 3}' >/dev/null ||
  fail "cannot load the simulator's feeder"

cat >"$T/scand.conf" <<CONF
[scanner mfp]
device = escl:http://127.0.0.1:$(cat "$T/port")/eSCL
profile = office

[profile office]
source = feeder
duplex = true
resolution = 300
mode = auto-detect
rotate-backs = 180
ocr = eng
split = barcode:INV-*

[output desk]
type = folder
path = $T/desk

[output invoices]
type = folder
path = $T/invoices

[rule invoice]
barcode = INV-*
deliver = invoices
name = {barcode}.pdf

[rule default]
deliver = desk
name = letter-{pages}.pdf
CONF
daemon_start "$T/scand.conf" --queue-interval 500
daemon_wait_bus
gdbus monitor --session --dest org.scand.Daemon1 >"$T/monitor" 2>&1 &
on_exit "kill $! 2>/dev/null"
sleep 0.5

job=$(scand_call Scan mfp "")
case "$job" in "(objectpath '/org/scand/Daemon1/jobs/"*) ;; *) fail "Scan returned $job" ;; esac
wait_for 300 grep -q "JobFinished" "$T/monitor" || { cat "$T/daemon.log"; fail "no JobFinished signal"; }
grep "JobFinished" "$T/monitor" | grep -q "'done'" || { cat "$T/monitor" "$T/daemon.log"; fail "job not done"; }
letter="$T/desk/letter-2.pdf"
invoice="$T/invoices/INV-2024-0042.pdf"
for f in "$letter" "$invoice"; do
  [ -f "$f" ] || { ls -R "$T/desk" "$T/invoices" >&2; cat "$T/daemon.log"; fail "no $f"; }
done
grep "JobFinished" "$T/monitor" | grep -qF "$letter" || fail "JobFinished does not name the letter"
grep "JobFinished" "$T/monitor" | grep -qF "$invoice" || fail "JobFinished does not name the invoice"
assert_eq 2 "$(pdf_pages "$letter")" "pages of the letter"
assert_eq 2 "$(pdf_pages "$invoice")" "pages of the invoice (the separator sheet removed, both sides)"
assert_eq 2 "$(find "$T/desk" "$T/invoices" -type f | wc -l)" "documents delivered"

# The back was upside down: turned, its text reads.
pdftotext -f 2 -l 2 "$letter" "$T/back.txt"
acc=$("$PY" "$SCAND_SRCDIR/tests/lib/word-accuracy.py" "$C/rot.txt" "$T/back.txt")
echo "word accuracy of the turned back: $acc %"
awk -v v="$acc" 'BEGIN {exit !(v >= 98)}' || fail "the back was not turned upright: word accuracy $acc %"

# Colour classes: the letter and its back 1-bit, the colour page kept as the
# device sent it, the photo gray.
classes() { pdfimages -list "$1" | awk 'NR > 2 {print $6 "/" $8 "/" $9}' | paste -sd' '; }
assert_eq "gray/1/ccitt gray/1/ccitt" "$(classes "$letter")" "encodings of the letter's pages"
assert_eq "rgb/8/jpeg gray/8/jpeg" "$(classes "$invoice")" "encodings of the invoice's pages"
pdf_jpeg_stream "$invoice" "$(pdfimages -list "$invoice" | awk 'NR == 3 {print $11}')" >"$T/stream.jpg"
cmp -s "$C/color.jpg" "$T/stream.jpg" || fail "the colour page was re-encoded"
qpdf --check "$invoice" >/dev/null || fail "qpdf --check"
assert_eq 0 "$(find "$SCAND_SPOOL" -mindepth 1 -maxdepth 1 -type d ! -name quarantine | wc -l)" "jobs left in the spool"
daemon_stop
echo "daemon processing: all checks passed"
