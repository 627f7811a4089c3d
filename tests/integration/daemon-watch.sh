# Watched folders through the daemon: a slow writer's file is taken once and
# complete; hidden and temporary names are ignored; an image is assembled; a
# broken file goes to the error folder with its reason once incomplete-wait is
# over; 1000 files dropped at
# once are all delivered and none twice.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

mkdir -p "$T/in" "$T/out"
cat >"$T/scand.conf" <<CONF
[watch drop]
path = $T/in
stable-for = 1s
incomplete-wait = 3s
after = delete

[output out]
type = folder
path = $T/out

[rule archive-originals]
watch = drop
path = keep/*
deliver = out
after = move:$T/archive

[rule all]
deliver = out
CONF
"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null

daemon_start "$T/scand.conf" --no-bus --queue-interval 500

# A slow writer: the file grows in chunks over ~3 s, closed and reopened each
# time like an SMB client, under its final name.
python3 - "$T/doc.pdf" "$T/in/slow.pdf" <<'PY'
import sys, time
data = open(sys.argv[1], "rb").read()
step = len(data) // 5 + 1
for i in range(0, len(data), step):
    with open(sys.argv[2], "ab") as f:
        f.write(data[i:i + step])
    time.sleep(0.6)
PY
wait_for 30 test -f "$T/out/slow.pdf" || { cat "$T/daemon.log"; fail "slow file not delivered"; }
cmp "$T/doc.pdf" "$T/out/slow.pdf" || fail "the slow file was taken before it was complete"
wait_for 10 test ! -e "$T/in/slow.pdf" || fail "source not deleted"
sleep 2
assert_eq 1 "$(count_files "$T/out")" "files after the slow writer"

# Hidden and temporary names are left alone.
cp "$T/doc.pdf" "$T/in/.hidden.pdf"
cp "$T/doc.pdf" "$T/in/upload.pdf.part"
# An image becomes a PDF; a truncated JPEG goes to the error folder once its
# incomplete-wait is over.
cp "$SCAND_SRCDIR/tests/integration/data/page.pnm" "$T/in/photo.pnm"
printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00' >"$T/in/broken.jpg"
wait_for 30 test -f "$T/out/photo.pdf" || { cat "$T/daemon.log"; fail "image not delivered"; }
assert_eq 1 "$(pdf_pages "$T/out/photo.pdf")" "pages of the assembled image"
wait_for 30 test -f "$T/in/.scand-error/broken.jpg.reason.txt" || { cat "$T/daemon.log"; fail "broken file not set aside"; }
assert_contains "$T/in/.scand-error/broken.jpg.reason.txt" "incomplete or damaged: JPEG"
[ -f "$T/in/.hidden.pdf" ] && [ -f "$T/in/upload.pdf.part" ] || fail "hidden or temporary files were taken"

# A rule can decide what happens to the source: files under keep/ are moved
# to the archive (keeping their path) instead of deleted.
mkdir -p "$T/in/keep"
cp "$T/doc.pdf" "$T/in/keep/original.pdf"
wait_for 30 test -f "$T/archive/keep/original.pdf" || { cat "$T/daemon.log"; fail "source not moved by its rule"; }
cmp "$T/doc.pdf" "$T/archive/keep/original.pdf" || fail "moved source differs"
wait_for 10 test -f "$T/out/original.pdf" || fail "file under keep/ not delivered"

# 1000 files at once (moved in, as a scanner's batch would land).
mkdir -p "$T/batch"
for i in $(seq -w 1 1000); do cp "$T/doc.pdf" "$T/batch/b$i.pdf"; done
mkdir -p "$T/in/batch"
mv "$T/batch"/* "$T/in/batch/"
wait_for 300 at_least 1000 "$T/out" -name 'b*.pdf' || { tail "$T/daemon.log"; fail "only $(count_files "$T/out" -name 'b*.pdf') of 1000 delivered"; }
sleep 3
assert_eq 1000 "$(count_files "$T/out" -name 'b*.pdf')" "batch files delivered"
assert_eq 0 "$(count_files "$T/out" -name 'b*-2.pdf')" "batch files delivered twice"
assert_eq 0 "$(count_files "$T/in/batch")" "batch files left in the watch folder"
daemon_stop
grep -q "scand: stopped" "$T/daemon.log" || fail "daemon did not stop cleanly"
echo ok
