# Tesseract's OpenMP stays at one thread: scand sets OMP_THREAD_LIMIT=1
# before libgomp is loaded (with Tesseract, when OCR is first used), unless
# the caller set a limit. Unlimited, OpenMP spins a thread per core inside
# each page worker and OCR of one page gets several times slower. The
# process's threads are sampled while it reads a page with one worker: at
# most 3 (main, the page worker, GLib's), and a limit the caller set is
# respected (a run with OMP_THREAD_LIMIT=4 shows more: the sampling sees
# OpenMP's threads, so the first check could fail).
. "$SCAND_SRCDIR/tests/lib/common.sh"

/usr/bin/python3 - "$T/page.png" <<'PY'
import sys
from PIL import Image, ImageDraw, ImageFont
im = Image.new("L", (2480, 3508), 255)
d = ImageDraw.Draw(im)
f = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 48)
for i in range(40):
    d.text((100, 100 + i * 80), "The quick brown fox jumps over the lazy dog %d" % i, font=f, fill=0)
im.save(sys.argv[1])
PY

# max_threads: runs scand assemble with OCR in the background and prints the
# most threads seen in it.
max_threads() {
  "$SCAND" assemble --ocr=eng --ocr-workers=1 -o "$T/out.pdf" "$T/page.png" >/dev/null 2>"$T/err" &
  local pid=$! most=0 n
  while kill -0 "$pid" 2>/dev/null; do
    n=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$n" ] && [ "$n" -gt "$most" ] && most=$n
    sleep 0.02
  done
  wait "$pid" || { cat "$T/err" >&2; fail "OCR failed"; }
  echo "$most"
}

unset OMP_THREAD_LIMIT
got=$(max_threads)
echo "threads, no limit given: $got"
[ "$got" -le 3 ] || fail "$got threads during OCR with one worker: OpenMP is not limited"
pdftotext "$T/out.pdf" - | grep -q "quick brown fox" || fail "no text layer"

export OMP_THREAD_LIMIT=4
got=$(max_threads)
echo "threads, OMP_THREAD_LIMIT=4: $got"
[ "$got" -gt 3 ] || fail "the caller's OMP_THREAD_LIMIT=4 was not used ($got threads)"
echo ok
