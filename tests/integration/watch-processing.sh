# Page processing of watched files through the daemon: the watch's profile
# asks for OCR and blank = drop. An image gets its text layer; a PDF made of
# JPEG pages (img2pdf) is read and put back with a text layer, its JPEG bytes
# unchanged and its blank page dropped; a PDF that is not made of plain JPEG
# pages goes through as it is.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

PY=/usr/bin/python3
"$PY" "$SCAND_SRCDIR/tests/lib/page-corpus.py" "$T/c" clean 2 feature
mkdir -p "$T/in" "$T/out" "$T/stage"
"$PY" -c "from PIL import Image; Image.open('$T/c/blank.pnm').save('$T/c/blank.jpg', quality=85, dpi=(300, 300))"
img2pdf "$T/c/clean-02.jpg" "$T/c/blank.jpg" -o "$T/stage/images.pdf"
"$PY" -c "from PIL import Image; Image.open('$T/c/stroke.pnm').convert('1').save('$T/c/stroke-bw.pnm')"
"$SCAND" assemble "$T/c/stroke-bw.pnm" -o "$T/stage/other.pdf" >/dev/null # a CCITT G4 page
cp "$T/stage/other.pdf" "$T/other-source.pdf"
cat >"$T/scand.conf" <<CONF
[profile archive]
ocr = eng
blank = drop

[watch drop]
path = $T/in
stable-for = 1s
after = delete
profile = archive
CONF
out_conf
daemon_start "$T/scand.conf" --no-bus --queue-interval 500
cp "$T/c/clean-01.jpg" "$T/stage/image.jpg"
for f in image.jpg images.pdf other.pdf; do mv "$T/stage/$f" "$T/in/$f"; done
for f in image images other; do
  wait_for 240 test -f "$T/out/$f.pdf" || { cat "$T/daemon.log"; fail "$f not delivered"; }
done
accuracy() { "$PY" "$SCAND_SRCDIR/tests/lib/word-accuracy.py" "$@"; }
pdftotext "$T/out/image.pdf" "$T/image.txt"
a1=$(accuracy "$T/c/clean-01.txt" "$T/image.txt")
assert_eq 1 "$(pdf_pages "$T/out/images.pdf")" "pages of the PDF of images (blank page dropped)"
pdftotext "$T/out/images.pdf" "$T/images.txt"
a2=$(accuracy "$T/c/clean-02.txt" "$T/images.txt")
echo "word accuracy: watched image $a1 %, watched PDF of images $a2 %"
for a in "$a1" "$a2"; do awk -v v="$a" 'BEGIN {exit !(v >= 98)}' || fail "word accuracy $a %"; done
obj=$(pdfimages -list "$T/out/images.pdf" | awk 'NR == 3 {print $11}')
pdf_jpeg_stream "$T/out/images.pdf" "$obj" >"$T/stream.jpg"
cmp -s "$T/c/clean-02.jpg" "$T/stream.jpg" || fail "the PDF's JPEG page was re-encoded"
assert_eq "595.2 841.92" "$(pdfinfo "$T/out/images.pdf" | awk '/^Page size/ {print $3, $5}')" "page size kept"
cmp "$T/other-source.pdf" "$T/out/other.pdf" || { pdffonts "$T/out/other.pdf"; fail "a PDF not made of JPEG pages was changed"; }
qpdf --check "$T/out/images.pdf" >/dev/null || fail "qpdf --check"
daemon_stop
echo "watched files: all checks passed"
