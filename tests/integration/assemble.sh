# `scand assemble`: JPEG, PNM (P4/P5), PNG and a multi-page TIFF into one PDF,
# checked with qpdf, pdfinfo, pdfimages and pdftoppm; then bad input.
. "$SCAND_SRCDIR/tests/lib/common.sh"

# Debian's python3 with python3-pil writes the inputs.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" - "$T" <<'PYEOF'
import sys
from PIL import Image, ImageDraw
t = sys.argv[1]
gray = Image.new('L', (300, 200), 255)
ImageDraw.Draw(gray).rectangle([20, 20, 150, 100], fill=0)
rgb = Image.new('RGB', (600, 400), (255, 255, 255))
ImageDraw.Draw(rgb).rectangle([50, 50, 300, 300], fill=(200, 30, 30))
rgb.save(t + '/a.jpg', quality=90, dpi=(200, 200))
gray.save(t + '/g.pnm')                       # P5, no resolution: --dpi or 300
gray.convert('1').save(t + '/b.pnm')          # P4
rgb.save(t + '/c.png', dpi=(150, 150))
bw = gray.convert('1')
bw.save(t + '/m.tif', save_all=True, append_images=[gray, rgb.resize((300, 200))], dpi=(100, 100))
PYEOF

out="$T/out dir/doc.pdf"
mkdir -p "$T/out dir"
"$SCAND" assemble "$T/a.jpg" "$T/g.pnm" "$T/b.pnm" "$T/c.png" "$T/m.tif" -o "$out" >"$T/stdout"
assert_eq "$out" "$(cat "$T/stdout")" "printed output path"
assert_eq 7 "$(pdf_pages "$out")" "page count"

# page: dpi width height
expect=(
  "200 600 400"
  "300 300 200"
  "300 300 200"
  "150 600 400"
  "100 300 200"
  "100 300 200"
  "100 300 200"
)
for i in "${!expect[@]}"; do
  read -r dpi w h <<<"${expect[$i]}"
  p=$((i + 1))
  pdftoppm -r "$dpi" -f "$p" -l "$p" -singlefile "$out" "$T/render"
  size=$(head -c 64 "$T/render.ppm" | sed -n 2p)
  assert_eq "$w $h" "$size" "page $p rendered size at $dpi dpi"
done

# The JPEG is embedded byte for byte; 1-bit pages are CCITT G4.
pdfimages -list "$out" >"$T/images"
jpeg_obj=$(awk 'NR==3 {print $11}' "$T/images")
qpdf --show-object="$jpeg_obj" --raw-stream-data "$out" >"$T/stream.jpg"
cmp "$T/a.jpg" "$T/stream.jpg" || fail "JPEG stream differs from the source file"
assert_eq ccitt "$(awk 'NR==5 {print $9}' "$T/images")" "P4 page encoding"
assert_eq ccitt "$(awk 'NR==7 {print $9}' "$T/images")" "1-bit TIFF page encoding"
assert_eq 0 "$(find "$T/out dir" -name '.*' | wc -l)" "temporary files left"

# Options: --dpi for files without a resolution, --lossless, --title, --pdfa.
"$SCAND" assemble "$T/g.pnm" --dpi 72 --lossless --pdfa --title "Scan 42" -o "$T/a.pdf" >/dev/null
assert_eq 1 "$(pdf_pages "$T/a.pdf")" "pdfa page count"
pdfinfo "$T/a.pdf" >"$T/info"
assert_contains "$T/info" "Title:           Scan 42"
assert_contains "$T/info" "Page size:       300 x 200 pts"
pdfimages -list "$T/a.pdf" | awk 'NR==3 {print $9}' >"$T/enc"
"$SCAND" assemble "$T/a.jpg" "$T/g.pnm" --dpi 72 -o "$T/d.pdf" >/dev/null
pdfinfo -f 1 -l 2 "$T/d.pdf" | awk '/^Page +[0-9]+ size:/ {print $4 "x" $6}' | paste -sd' ' >"$T/sizes"
assert_eq "216x144 300x200" "$(cat "$T/sizes")" "--dpi applies only where the file states no resolution"
assert_eq image "$(cat "$T/enc")" "lossless page encoding (Flate)"
qpdf --qdf --object-streams=disable "$T/a.pdf" "$T/a.qdf"
grep -aq "pdfaid:part='1'" "$T/a.qdf" || fail "no pdfaid:part in XMP"
grep -aq "pdfaid:conformance='B'" "$T/a.qdf" || fail "no pdfaid:conformance in XMP"
grep -aq "/OutputIntents" "$T/a.qdf" || fail "no OutputIntents"
grep -aq "/ID \[" "$T/a.qdf" || fail "no document ID"

# Bad input: exit 1, one line naming the file, no output.
head -c 600 "$T/a.jpg" >"$T/trunc.jpg"
printf 'P5\n100000 100000\n255\n' >"$T/huge.pnm"
: >"$T/empty.png"
for bad in trunc.jpg huge.pnm empty.png; do
  set +e
  "$SCAND" assemble "$T/a.jpg" "$T/$bad" -o "$T/bad.pdf" >"$T/stdout" 2>"$T/err"
  rc=$?
  set -e
  assert_eq 1 "$rc" "exit status for $bad"
  assert_eq 1 "$(wc -l <"$T/err")" "error lines for $bad"
  assert_contains "$T/err" "scand assemble: $T/$bad"
  [ ! -e "$T/bad.pdf" ] || fail "output written for $bad"
  [ ! -s "$T/stdout" ] || fail "stdout not empty for $bad"
done
set +e
"$SCAND" assemble "$T/a.jpg" 2>"$T/err"; rc=$?
set -e
assert_eq 1 "$rc" "exit status without -o"
assert_contains "$T/err" "scand assemble: missing -o"
"$SCAND" assemble --help >"$T/help"
assert_contains "$T/help" "--lossless"
echo "assemble: ok"
