# Page processing in scan jobs: `scand scan` from the eSCL simulator serving
# pages the test rendered (a feeder batch: letter, barcode separator, two
# text pages, a blank back). The profile asks for OCR, blank = flag and
# split = barcode:INV-*; a rule routes the document whose barcode is an
# invoice number and names it by {barcode} and {blanks}. The pages' analyses
# are kept in the spool while the scan goes on.
. "$SCAND_SRCDIR/tests/lib/common.sh"

PY=/usr/bin/python3
"$PY" "$SCAND_SRCDIR/tests/lib/page-corpus.py" "$T/c" clean 2 feature
mkdir -p "$T/feed" "$T/out" "$T/invoices"
cp "$T/c/letter.jpg" "$T/feed/1.jpg"
cp "$T/c/barcode.jpg" "$T/feed/2.jpg"
cp "$T/c/clean-01.jpg" "$T/feed/3.jpg"
"$PY" -c "from PIL import Image; Image.open('$T/c/blank.pnm').save('$T/feed/4.jpg', quality=85, dpi=(300, 300))"
cp "$T/c/clean-02.jpg" "$T/feed/5.jpg"

"$PY" "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$T/port" --pages-dir "$T/feed" --lifetime 300 \
  2>"$T/sim.log" &
on_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || fail "simulator did not start"

cat >"$T/scand.conf" <<CONF
[profile office]
source = feeder
resolution = 300
ocr = eng
blank = flag
split = barcode:INV-*

[output desk]
type = folder
path = $T/out

[output invoices]
type = folder
path = $T/invoices

[rule invoice]
barcode = INV-*
deliver = invoices
name = {barcode}-blanks-{blanks}.pdf

[rule default]
deliver = desk
name = letter-{pages}.pdf
CONF
"$SCAND" --config "$T/scand.conf" scan --no-daemon --device "escl:http://127.0.0.1:$(cat "$T/port")/eSCL" \
  --profile office >"$T/stdout" 2>"$T/stderr" || { cat "$T/stderr"; fail "scan"; }
cat "$T/stdout"
assert_eq 2 "$(wc -l <"$T/stdout")" "delivered documents"
assert_eq 1 "$(pdf_pages "$T/out/letter-1.pdf")" "pages of the document before the separator"
doc="$T/invoices/INV-2024-0042-blanks-2.pdf"
[ -f "$doc" ] || { ls -R "$T/out" "$T/invoices" >&2; fail "no $doc"; }
assert_eq 3 "$(pdf_pages "$doc")" "pages after the separator (separator removed, blank page flagged and kept)"
pdftotext -f 1 -l 1 "$doc" "$T/p1.txt"
acc=$("$PY" "$SCAND_SRCDIR/tests/lib/word-accuracy.py" "$T/c/clean-01.txt" "$T/p1.txt")
echo "word accuracy of the scanned page: $acc %"
awk -v v="$acc" 'BEGIN {exit !(v >= 98)}' || fail "word accuracy $acc %"
qpdf --check "$doc" >/dev/null || fail "qpdf --check"
# The JPEG pages went in as the scanner sent them.
row=$(pdfimages -list "$doc" | awk 'NR == 3')
pdf_jpeg_stream "$doc" "$(echo "$row" | awk '{print $11}')" >"$T/stream.jpg"
cmp -s "$T/feed/3.jpg" "$T/stream.jpg" || fail "the scanned JPEG was re-encoded"
assert_eq 0 "$(find "$SCAND_SPOOL" -mindepth 1 -maxdepth 1 -type d ! -name quarantine | wc -l)" "jobs left in the spool"
echo "scan processing: all checks passed"
