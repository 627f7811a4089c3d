# Page processing of mailed scans: the intake's profile asks for OCR and
# blank = drop, like a watched folder's. A copier's JPEG scan, sent with
# swaks, lands on the share as a searchable PDF; a PDF of JPEG pages (img2pdf)
# gets its text layer with its JPEG bytes unchanged and its blank page
# dropped; with split = per-message an image and a PDF of images become one
# document processed together; a scan of nothing but a blank page goes to the
# error area with the reason. The rule matches the profile the intake gave
# the job (profile = archive).
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

PY=/usr/bin/python3
"$PY" "$SCAND_SRCDIR/tests/lib/page-corpus.py" "$T/c" clean 3 feature
"$PY" -c "from PIL import Image; Image.open('$T/c/blank.pnm').save('$T/c/blank.jpg', quality=85, dpi=(300, 300))"
img2pdf "$T/c/clean-02.jpg" "$T/c/blank.jpg" -o "$T/images.pdf"
img2pdf "$T/c/blank.jpg" -o "$T/blank.pdf"
mkdir -p "$T/out"
port=$(free_port)
port2=$(free_port)
[ "$port" != "$port2" ] || port2=$((port + 1))
cat >"$T/scand.conf" <<CONF
[profile archive]
ocr = eng
blank = drop

[intake mfp]
type = smtp
listen = 127.0.0.1:$port
allow-from = 127.0.0.1
accept-to = *@scan.example
profile = archive

[intake batch]
type = smtp
listen = 127.0.0.1:$port2
allow-from = 127.0.0.1
accept-to = *@scan.example
profile = archive
split = per-message

[output out]
type = folder
path = $T/out

[rule archived]
source = mail
profile = archive
deliver = out
name = {attachment}.pdf
CONF
daemon_start "$T/scand.conf" --no-bus --queue-interval 500

send() { # port attachment-path name type
  swaks --server "127.0.0.1:$1" --from copier@floor3.example --to archive@scan.example \
    --header "Subject: scan" --attach-type "$4" --attach-name "$3" --attach "@$2" >"$T/swaks.log" 2>&1 ||
    { cat "$T/swaks.log"; fail "swaks $3"; }
}
send "$port" "$T/c/clean-01.jpg" "photo.jpg" image/jpeg
send "$port" "$T/images.pdf" "images.pdf" application/pdf
send "$port" "$T/blank.pdf" "blank.pdf" application/pdf
# One message, two attachments, one document (per-message).
swaks --server "127.0.0.1:$port2" --from copier@floor3.example --to archive@scan.example \
  --header "Subject: batch" --attach-type image/jpeg --attach-name "batch.jpg" --attach "@$T/c/clean-03.jpg" \
  --attach-type application/pdf --attach-name "second.pdf" --attach "@$T/images.pdf" >"$T/swaks.log" 2>&1 ||
  { cat "$T/swaks.log"; fail "swaks batch"; }

for f in photo images batch; do
  wait_for 300 test -f "$T/out/$f.pdf" || { ls -la "$T/out"; cat "$T/daemon.log"; fail "$f not delivered"; }
done
accuracy() { "$PY" "$SCAND_SRCDIR/tests/lib/word-accuracy.py" "$@"; }
pdftotext "$T/out/photo.pdf" "$T/photo.txt"
a1=$(accuracy "$T/c/clean-01.txt" "$T/photo.txt")
assert_eq 1 "$(pdf_pages "$T/out/images.pdf")" "pages of the mailed PDF of images (blank page dropped)"
pdftotext "$T/out/images.pdf" "$T/images.txt"
a2=$(accuracy "$T/c/clean-02.txt" "$T/images.txt")
assert_eq 2 "$(pdf_pages "$T/out/batch.pdf")" "pages of the per-message document (blank page dropped)"
pdftotext -f 1 -l 1 "$T/out/batch.pdf" "$T/batch1.txt"
pdftotext -f 2 -l 2 "$T/out/batch.pdf" "$T/batch2.txt"
a3=$(accuracy "$T/c/clean-03.txt" "$T/batch1.txt")
a4=$(accuracy "$T/c/clean-02.txt" "$T/batch2.txt")
echo "word accuracy: mailed JPEG $a1 %, mailed PDF of images $a2 %, per-message $a3 % and $a4 %"
for a in "$a1" "$a2" "$a3" "$a4"; do awk -v v="$a" 'BEGIN {exit !(v >= 98)}' || fail "word accuracy $a %"; done
grep -q "office scanner" "$T/photo.txt" || fail "the searchable PDF lacks the page's words"
obj=$(pdfimages -list "$T/out/images.pdf" | awk 'NR == 3 {print $11}')
pdf_jpeg_stream "$T/out/images.pdf" "$obj" >"$T/stream.jpg"
cmp -s "$T/c/clean-02.jpg" "$T/stream.jpg" || fail "the mailed PDF's JPEG page was re-encoded"
for f in photo images batch; do qpdf --check "$T/out/$f.pdf" >/dev/null || fail "qpdf --check $f.pdf"; done

# The blank scan: nothing to deliver, the message kept with its reason.
wait_for 120 sh -c "ls '$T/spool/intake-errors/'*.reason.txt" >/dev/null 2>&1 ||
  { ls -la "$T/spool" "$T/out"; cat "$T/daemon.log"; fail "the blank scan is not in the error area"; }
cat "$T/spool/intake-errors/"*.reason.txt
grep -q "blank.pdf: every page is blank" "$T/spool/intake-errors/"*.reason.txt || fail "no reason for the blank scan"
[ ! -e "$T/out/blank.pdf" ] || fail "a blank scan was delivered"
daemon_stop
echo "mailed scans: all checks passed"
