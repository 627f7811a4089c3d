# Page processing through `scand assemble` on a corpus the test renders itself
# (tests/lib/page-corpus.py: known text in Debian fonts at 300 dpi): OCR word
# accuracy with pdftotext, JPEG bytes untouched by OCR, qpdf --check and PDF/A
# markers with the text layer, turned pages shown upright, blank pages dropped
# or flagged with the pen stroke kept, split at a barcode and at a patch T
# sheet with the barcode in the file name, deskew, colour classes, and bad
# input (corrupt JPEG, missing language pack, OCR timeout).
. "$SCAND_SRCDIR/tests/lib/common.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" "$SCAND_SRCDIR/tests/lib/page-corpus.py" "$T/c" clean 2 feature
C="$T/c"
accuracy() { "$PY" "$SCAND_SRCDIR/tests/lib/word-accuracy.py" "$@"; }
at_least_pct() { # VALUE MIN WHAT
  awk -v v="$1" -v m="$2" 'BEGIN {exit !(v >= m)}' || fail "$3: $1 % is under $2 %"
}

# --- OCR only: searchable, JPEG streams byte for byte, PDF/A kept -----------
"$SCAND" assemble "$C/clean-01.jpg" "$C/clean-02.jpg" --ocr eng --pdfa -o "$T/ocr.pdf" >"$T/out" 2>"$T/err"
assert_eq "$T/ocr.pdf" "$(cat "$T/out")" "printed output path"
for p in 1 2; do
  pdftotext -f $p -l $p "$T/ocr.pdf" "$T/p$p.txt"
  acc=$(accuracy "$C/clean-0$p.txt" "$T/p$p.txt")
  echo "page $p word accuracy $acc %"
  at_least_pct "$acc" 98 "word accuracy of clean page $p"
done
pdfimages -list "$T/ocr.pdf" >"$T/images"
for p in 1 2; do
  row=$(awk -v p=$p 'NR > 2 && $1 == p' "$T/images")
  assert_eq jpeg "$(echo "$row" | awk '{print $9}')" "page $p encoding"
  pdf_jpeg_stream "$T/ocr.pdf" "$(echo "$row" | awk '{print $11}')" >"$T/stream.jpg"
  cmp -s "$C/clean-0$p.jpg" "$T/stream.jpg" || fail "page $p: JPEG stream differs from the source file"
done
# Smaller files: PIL's JPEGs (standard Huffman tables) shrink under Flate, so
# the searchable PDF is smaller than its JPEG files even with the text layer.
grep -q "Filter \[ /FlateDecode /DCTDecode \]" <(qpdf --show-object="$(awk 'NR == 3 {print $11}' "$T/images")" \
  "$T/ocr.pdf") || fail "the JPEG page is not kept in a Flate wrapper"
jpegs=$(($(stat -c %s "$C/clean-01.jpg") + $(stat -c %s "$C/clean-02.jpg")))
echo "searchable PDF $(stat -c %s "$T/ocr.pdf") bytes, its JPEG files $jpegs bytes"
[ "$(stat -c %s "$T/ocr.pdf")" -lt "$jpegs" ] || fail "the searchable PDF is larger than its JPEG files"
qpdf --check "$T/ocr.pdf" >"$T/check" || { cat "$T/check" >&2; fail "qpdf --check"; }
pdffonts "$T/ocr.pdf" >"$T/fonts"
grep -q "GlyphLessFont .*CID TrueType .*Identity-H *yes" "$T/fonts" || { cat "$T/fonts" >&2; fail "font not embedded"; }
qpdf --qdf --object-streams=disable "$T/ocr.pdf" "$T/ocr.qdf"
grep -aq "pdfaid:part='1'" "$T/ocr.qdf" || fail "no pdfaid:part in XMP"
grep -aq "pdfaid:conformance='B'" "$T/ocr.qdf" || fail "no pdfaid:conformance in XMP"
grep -aq "/OutputIntents" "$T/ocr.qdf" || fail "no OutputIntents"
grep -aEq "(^| )3 Tr" "$T/ocr.qdf" || fail "text not in render mode 3 (invisible)"
# Invisible: the rendered page is the image alone.
pdftoppm -r 30 -gray -f 1 -l 1 -singlefile "$T/ocr.pdf" "$T/with-text"
"$SCAND" assemble "$C/clean-01.jpg" -o "$T/plain.pdf" >/dev/null
pdftoppm -r 30 -gray -f 1 -l 1 -singlefile "$T/plain.pdf" "$T/without-text"
cmp -s "$T/with-text.pgm" "$T/without-text.pgm" || fail "the text layer is visible"

# --- orientation: turned pages come out upright, images untouched ------------
"$SCAND" assemble "$C/rot90.jpg" "$C/rot180.jpg" "$C/rot270.jpg" --rotate auto --ocr eng -o "$T/rot.pdf" \
  >/dev/null 2>"$T/err"
assert_contains "$T/err" "page 1: as-is, turned 90°"
assert_contains "$T/err" "page 2: as-is, turned 180°"
assert_contains "$T/err" "page 3: as-is, turned 270°"
pdftoppm -r 30 -gray "$T/rot.pdf" "$T/rot"
"$PY" - "$C/rot0.jpg" "$T"/rot-*.pgm <<'PYEOF'
import sys
from PIL import Image, ImageChops, ImageStat
upright = Image.open(sys.argv[1]).convert('L')
for path in sys.argv[2:]:
    page = Image.open(path)
    ref = upright.resize(page.size)
    diff = ImageStat.Stat(ImageChops.difference(page, ref)).mean[0]
    wrong = ImageStat.Stat(ImageChops.difference(page, ref.rotate(180))).mean[0]
    print('%s: difference %.1f upright, %.1f turned' % (path, diff, wrong))
    if not diff < wrong / 2:
        sys.exit('%s is not upright' % path)
PYEOF
for p in 1 2 3; do
  pdftotext -f $p -l $p "$T/rot.pdf" "$T/r$p.txt"
  at_least_pct "$(accuracy "$C/rot.txt" "$T/r$p.txt")" 98 "word accuracy of turned page $p"
done
for p in 1 2 3; do
  row=$(pdfimages -list "$T/rot.pdf" | awk -v p=$p 'NR > 2 && $1 == p')
  pdf_jpeg_stream "$T/rot.pdf" "$(echo "$row" | awk '{print $11}')" >"$T/stream.jpg"
  f=("" rot90 rot180 rot270)
  cmp -s "$C/${f[$p]}.jpg" "$T/stream.jpg" || fail "turned page $p was re-encoded"
done

# --- blank pages: dropped or flagged; the pen stroke is kept ----------------
"$SCAND" assemble "$C/clean-01.jpg" "$C/blank.pnm" "$C/stroke.pnm" --blank drop -o "$T/drop.pdf" >/dev/null 2>"$T/err"
assert_eq 2 "$(pdf_pages "$T/drop.pdf")" "pages after dropping the blank one"
assert_contains "$T/err" "blank pages 2 (dropped)"
grep -q "page 3: .*blank" "$T/err" && fail "the page with a pen stroke was taken for blank"
"$SCAND" assemble "$C/blank.pnm" "$C/clean-01.jpg" --blank flag -o "$T/flag.pdf" >/dev/null 2>"$T/err"
assert_eq 2 "$(pdf_pages "$T/flag.pdf")" "pages when blank ones are flagged"
assert_contains "$T/err" "blank pages 1"

# --- split: barcode separators name the files, patch T sheets separate -------
mkdir -p "$T/split"
"$SCAND" assemble "$C/clean-01.jpg" "$C/barcode.jpg" "$C/clean-02.jpg" "$C/letter.jpg" --split 'barcode:INV-*' \
  -o "$T/split/{barcode}.pdf" >"$T/out" 2>"$T/err"
assert_eq "$T/split/1.pdf $T/split/INV-2024-0042.pdf" "$(paste -sd' ' "$T/out")" "documents of the split batch"
assert_eq 1 "$(pdf_pages "$T/split/1.pdf")" "pages before the separator"
assert_eq 2 "$(pdf_pages "$T/split/INV-2024-0042.pdf")" "pages after the separator (separator removed)"
"$SCAND" assemble "$C/clean-01.jpg" "$C/patch-t.jpg" "$C/clean-02.jpg" "$C/patch-2.jpg" --split patch-t \
  -o "$T/patch.pdf" >"$T/out" 2>"$T/err"
assert_eq "$T/patch-1.pdf $T/patch-2.pdf" "$(paste -sd' ' "$T/out")" "documents split at the patch T sheet"
assert_eq 1 "$(pdf_pages "$T/patch-1.pdf")" "pages before the patch T sheet"
assert_eq 2 "$(pdf_pages "$T/patch-2.pdf")" "pages after it (a patch 2 sheet does not split)"
assert_contains "$T/err" "patch 2"

# --- deskew and colour classes ----------------------------------------------
"$SCAND" assemble "$C/skew3.jpg" "$C/letter.jpg" "$C/photo.pnm" "$C/color.jpg" --deskew --mode auto-detect \
  -o "$T/mode.pdf" >/dev/null 2>"$T/err"
grep -Eq "page 1: bw, skew (2\.[89]|3\.[01])° fixed" "$T/err" || { cat "$T/err" >&2; fail "skew not found"; }
pdfimages -list "$T/mode.pdf" | awk 'NR > 2 {print $6 "/" $8 "/" $9}' | paste -sd' ' >"$T/classes"
assert_eq "gray/1/ccitt gray/1/ccitt gray/8/jpeg rgb/8/jpeg" "$(cat "$T/classes")" "encodings per page"
letter=$(pdfimages -list "$T/mode.pdf" | awk 'NR == 4 {print $15}')
echo "office letter page: $letter"
case "$letter" in *K) awk -v k="${letter%K}" 'BEGIN {exit !(k <= 60)}' || fail "letter page $letter over 60 KB" ;;
  *) fail "letter page size $letter" ;; esac
row=$(pdfimages -list "$T/mode.pdf" | awk 'NR == 6')
pdf_jpeg_stream "$T/mode.pdf" "$(echo "$row" | awk '{print $11}')" >"$T/stream.jpg"
cmp -s "$C/color.jpg" "$T/stream.jpg" || fail "the colour page was re-encoded"

# --- bad input: one line, nothing written, or a page without text ------------
head -c 5000 "$C/clean-01.jpg" >"$T/corrupt.jpg"
set +e
"$SCAND" assemble "$T/corrupt.jpg" --ocr eng -o "$T/bad.pdf" >"$T/out" 2>"$T/err"
rc=$?
"$SCAND" assemble "$C/clean-01.jpg" --ocr klingon -o "$T/bad2.pdf" >"$T/out2" 2>"$T/err2"
rc2=$?
set -e
assert_eq 1 "$rc" "exit status for a corrupt JPEG"
assert_contains "$T/err" "corrupt.jpg"
[ ! -e "$T/bad.pdf" ] || fail "a PDF was written from a corrupt JPEG"
assert_eq 1 "$rc2" "exit status for a missing language pack"
assert_eq 'scand assemble: OCR language "klingon" is not installed (package tesseract-ocr-klingon)' "$(cat "$T/err2")" \
  "missing language message"
"$SCAND" assemble "$C/clean-01.jpg" --ocr eng --ocr-timeout 0.05 -o "$T/late.pdf" >/dev/null 2>"$T/err"
assert_contains "$T/err" "OCR timed out after 0.05 s"
assert_eq 1 "$(pdf_pages "$T/late.pdf")" "the page whose OCR timed out is kept"
assert_eq "" "$(pdftotext "$T/late.pdf" - | tr -d '[:space:]\f')" "no text on the timed-out page"
echo "page processing: all checks passed"
