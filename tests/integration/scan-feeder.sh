# A 10-page feeder run on SANE's test backend becomes one 10-page PDF in the
# destination folder, with progress on stderr and an empty spool afterwards.
. "$SCAND_SRCDIR/tests/lib/common.sh"

out="$T/out"
"$SCAND" scan --device sane:test:0 --source feeder --mode gray --resolution 75 --to "$out" \
  >"$T/stdout" 2>"$T/stderr" || { cat "$T/stderr"; fail "scan exited $?"; }
pdf=$(cat "$T/stdout")
[ -f "$pdf" ] || fail "scan printed '$pdf', which is not a file"
case "$pdf" in "$out"/*.pdf) ;; *) fail "PDF '$pdf' is not under $out" ;; esac
assert_eq 10 "$(pdf_pages "$pdf")" "pages in the PDF"
assert_eq 1 "$(count_files "$out")" "files in the destination"
for n in 1 5 10; do assert_contains "$T/stderr" "page $n: "; done
# With no area given scand scans the whole bed: the test backend's 200x200 mm
# at 75 dpi is 591x591 pixels.
pdftoppm -r 75 -f 10 -l 10 -png "$pdf" "$T/p"
python3 - "$T"/p-10.png <<'PY'
import struct, sys
w, h = struct.unpack(">II", open(sys.argv[1], "rb").read()[16:24])
assert abs(w - 591) <= 1 and abs(h - 591) <= 1, (w, h)
PY
# Nothing stays in the spool once delivered.
[ -z "$(ls "$SCAND_SPOOL" | grep -v '^seq$' | grep -v '^\.' || true)" ] || fail "spool not empty: $(ls -a "$SCAND_SPOOL")"

# --pages limits a feeder batch, and lineart pages are 1-bit (CCITT in the PDF).
"$SCAND" scan -q --device sane:test:0 --source feeder --mode lineart --resolution 100 --pages 3 \
  --to "$T/bw" --name 'bw-{pages}.pdf' >"$T/stdout2" 2>"$T/stderr2" || { cat "$T/stderr2"; fail "lineart scan"; }
assert_eq "$T/bw/bw-3.pdf" "$(cat "$T/stdout2")" "lineart output path"
assert_eq 3 "$(pdf_pages "$T/bw/bw-3.pdf")" "lineart pages"
qpdf --show-npages "$T/bw/bw-3.pdf" >/dev/null
python3 - "$T/bw/bw-3.pdf" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
assert b"/CCITTFaxDecode" in data, "1-bit pages are not CCITT G4 encoded"
PY
# Rules on the page count see the real count: routed again after scanning.
cat >"$T/pages.conf" <<CONF
[output big]
type = folder
path = $T/big
create = true
[output small]
type = folder
path = $T/small
create = true
[rule big]
pages-min = 5
deliver = big
name = big-{pages}.pdf
[rule small]
deliver = small
name = small-{pages}.pdf
CONF
"$SCAND" scan -q --no-daemon --config "$T/pages.conf" --device sane:test:0 --source feeder --pages 3 --resolution 50 \
  >"$T/o1" 2>"$T/e1" || { cat "$T/e1"; fail "3-page scan"; }
assert_eq "$T/small/small-3.pdf" "$(cat "$T/o1")" "3 pages routed by [rule small]"
"$SCAND" scan -q --no-daemon --config "$T/pages.conf" --device sane:test:0 --source feeder --resolution 50 \
  >"$T/o2" 2>"$T/e2" || { cat "$T/e2"; fail "10-page scan"; }
assert_eq "$T/big/big-10.pdf" "$(cat "$T/o2")" "10 pages routed by [rule big]"
echo "ok"
