# Incomplete files are not taken: a writer that keeps its file open and
# pauses longer than stable-for is waited for; a PDF without its %%EOF
# trailer, a JPEG without its end marker, a PNG without IEND, a TIFF whose
# strips lie beyond its end, an empty file wait for incomplete-wait and then go to
# .scand-error with the reason (never deleted); a file completed within
# incomplete-wait is delivered whole.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

# Debian's python3 with python3-pil makes the images.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
mkdir -p "$T/in" "$T/out" "$T/src"
"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
"$PY" - "$T/src" <<'PY'
import sys
from PIL import Image
d = sys.argv[1]
im = Image.new("RGB", (64, 48))
im.putdata([(x * 4 % 256, y * 5 % 256, (x * y) % 256) for y in range(48) for x in range(64)])
im.save(d + "/a.jpg", quality=90)
im.save(d + "/a.png")
im.save(d + "/a.tif")
PY
# cut FILE BYTES OUT: the file without its last BYTES bytes
cut() { head -c "$(($(stat -c %s "$1") - $2))" "$1" >"$3"; }

cat >"$T/scand.conf" <<CONF
[watch drop]
path = $T/in
stable-for = 1s
incomplete-wait = 5s
after = delete
CONF
out_conf
daemon_start "$T/scand.conf" --no-bus --queue-interval 500

# A writer that keeps the file open and pauses 3 s (> stable-for) halfway.
python3 - "$T/doc.pdf" "$T/in/paused.pdf" "$T/out/paused.pdf" <<'PY' &
import os, sys, time
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as f:
    f.write(data[: len(data) // 2])
    f.flush()
    time.sleep(3)
    if os.path.exists(sys.argv[3]):
        sys.exit("delivered while its writer still had it open")
    f.write(data[len(data) // 2 :])
PY
writer=$!
on_exit "kill $writer 2>/dev/null"

# Files that stop short and stay so.
cut "$T/doc.pdf" 40 "$T/in/noeof.pdf"
cut "$T/src/a.jpg" 2 "$T/in/noeoi.jpg"
cut "$T/src/a.png" 12 "$T/in/noiend.png"
cut "$T/src/a.tif" 100 "$T/in/short.tif"
# A file that stays empty (its writer made it and never wrote) waits too.
: >"$T/in/empty.pdf"
# Whole images are taken.
cp "$T/src/a.jpg" "$T/src/a.png" "$T/src/a.tif" "$T/in/"

wait "$writer" || fail "the paused writer's file was taken early"
wait_for 30 test -f "$T/out/paused.pdf" || { cat "$T/daemon.log"; fail "paused.pdf not delivered"; }
cmp "$T/doc.pdf" "$T/out/paused.pdf" || fail "paused.pdf was delivered incomplete"
# A file that stops short, then is completed 2.5 s later.
cut "$T/doc.pdf" 40 "$T/in/late.pdf"
sleep 2.5
[ ! -e "$T/out/late.pdf" ] || fail "late.pdf was delivered before it was complete"
tail -c 40 "$T/doc.pdf" >>"$T/in/late.pdf"
wait_for 30 test -f "$T/out/late.pdf" || fail "late.pdf not delivered once complete"
cmp "$T/doc.pdf" "$T/out/late.pdf" || fail "late.pdf was delivered incomplete"
for f in a.jpg a.png a.tif; do
  wait_for 30 test -f "$T/out/${f%.*}.pdf" || fail "the whole $f was not delivered"
done
# The incomplete ones: in .scand-error once incomplete-wait is over, with why.
wait_for 30 test -f "$T/in/.scand-error/short.tif.reason.txt" || { cat "$T/daemon.log"; fail "short.tif not set aside"; }
for f in noeof.pdf noeoi.jpg noiend.png short.tif empty.pdf; do
  wait_for 10 test -f "$T/in/.scand-error/$f.reason.txt" || fail "$f not set aside"
  [ ! -e "$T/in/$f" ] || fail "$f still in the folder"
  [ ! -e "$T/out/${f%.*}.pdf" ] || fail "the incomplete $f was delivered"
done
assert_contains "$T/in/.scand-error/noeof.pdf.reason.txt" "%%EOF"
assert_contains "$T/in/.scand-error/noeoi.jpg.reason.txt" "no end-of-image marker"
assert_contains "$T/in/.scand-error/noiend.png.reason.txt" "PNG"
assert_contains "$T/in/.scand-error/short.tif.reason.txt" "TIFF"
assert_contains "$T/in/.scand-error/noeof.pdf.reason.txt" "after waiting 5 s"
assert_contains "$T/in/.scand-error/empty.pdf.reason.txt" "the file is empty (after waiting 5 s"
cmp <(head -c "$(stat -c %s "$T/in/.scand-error/noeof.pdf")" "$T/doc.pdf") "$T/in/.scand-error/noeof.pdf" ||
  fail "the set-aside file is not the one dropped"
daemon_stop
assert_eq 5 "$(count_files "$T/out")" "files delivered (paused late a.jpg a.png a.tif)"
echo ok
