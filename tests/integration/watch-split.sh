# Watched files split at separator sheets and routed by barcode: a PDF of
# JPEG pages (a letter, a barcode separator INV-2024-0042, two invoice pages)
# dropped into a folder whose profile says split = barcode:INV-* becomes two
# documents: the letter under the file's own name, the invoice routed by the
# barcode rule and named by its barcode (separator removed). A single image
# whose barcode matches is routed by it too (no split needed). Then exactly
# once across crashes: killed after the further document was made but before
# the file's job was committed (the file is taken again, the orphan removed),
# and killed after the commit but before the further document was made
# deliverable (the next start delivers it): each time two deliveries, no job
# left, the file gone from the folder.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

PY=/usr/bin/python3
"$PY" "$SCAND_SRCDIR/tests/lib/page-corpus.py" "$T/c" clean 2 feature
C="$T/c"
img2pdf "$C/letter.jpg" "$C/barcode.jpg" "$C/clean-01.jpg" "$C/clean-02.jpg" -o "$T/batch.pdf"

write_config() {
  cat >"$T/scand.conf" <<CONF
[profile sorting]
split = barcode:INV-*

[watch mailroom]
path = $T/in
stable-for = 1s
profile = sorting
after = delete

[profile reading]
barcodes = true

[watch inbox]
path = $T/inbox
stable-for = 1s
profile = reading
after = delete

[output desk]
type = folder
path = $T/desk

[output invoices]
type = folder
path = $T/invoices

[rule inbox-invoice]
watch = inbox
barcode = INV-*
deliver = invoices
name = inbox-{barcode}.pdf

[rule invoice]
barcode = INV-*
deliver = invoices
name = {barcode}.pdf

[rule default]
deliver = desk
CONF
}

# check WHAT: the two documents delivered once each, nothing left anywhere.
check() {
  local invoice="$T/invoices/INV-2024-0042.pdf" letter="$T/desk/batch.pdf"
  wait_for 60 test -f "$invoice" || { ls -R "$T/desk" "$T/invoices" "$T/spool"; cat "$T/daemon.log"; fail "$1: no invoice"; }
  wait_for 60 test -f "$letter" || { ls -R "$T/desk" "$T/invoices"; cat "$T/daemon.log"; fail "$1: no letter"; }
  wait_for 30 sh -c "[ -z \"\$(find '$T/spool' -name job.ini)\" ]" || { ls -R "$T/spool"; fail "$1: a job is left"; }
  sleep 1.5 # one more stable-for: nothing is taken again
  assert_eq 1 "$(pdf_pages "$letter")" "$1: pages of the letter"
  assert_eq 2 "$(pdf_pages "$invoice")" "$1: pages of the invoice (the separator removed)"
  assert_eq 2 "$(find "$T/desk" "$T/invoices" -type f ! -name "inbox-*" | wc -l)" "$1: deliveries"
  assert_eq 0 "$(count_files "$T/in")" "$1: files left in the folder"
  # The invoice's pages are the batch's pages 3 and 4, JPEG bytes kept.
  obj=$(pdfimages -list "$invoice" | awk 'NR == 3 {print $11}')
  pdf_jpeg_stream "$invoice" "$obj" >"$T/stream.jpg"
  cmp -s "$C/clean-01.jpg" "$T/stream.jpg" || fail "$1: the invoice's first page is not the batch's third"
}

fresh() {
  rm -rf "$T/in" "$T/inbox" "$T/desk" "$T/invoices" "$T/spool" "$T/daemon.log"
  mkdir -p "$T/in" "$T/inbox" "$T/desk" "$T/invoices"
  export SCAND_SPOOL="$T/spool"
  write_config
}

# --- split and routed by barcode --------------------------------------------
fresh
daemon_start "$T/scand.conf" --no-bus --queue-interval 300
cp "$T/batch.pdf" "$T/in/"
check "split"
# A file that is not split: routed and named by its barcode all the same.
cp "$C/barcode.jpg" "$T/inbox/single.jpg"
wait_for 60 test -f "$T/invoices/inbox-INV-2024-0042.pdf" || { ls -R "$T/invoices"; cat "$T/daemon.log"; fail "not routed by barcode"; }
assert_eq 1 "$(pdf_pages "$T/invoices/inbox-INV-2024-0042.pdf")" "pages of the single file"
daemon_stop

# --- crashes ------------------------------------------------------------------
# start_until_killed POINT: the daemon with the fault hook at POINT, until the hook kills it.
start_until_killed() {
  SCAND_FAULT=$1 "$SCAND" daemon --config "$T/scand.conf" --no-bus --queue-interval 300 >>"$T/daemon.log" 2>&1 &
  local pid=$!
  on_exit "kill -9 $pid 2>/dev/null"
  wait_for 60 sh -c "! kill -0 $pid 2>/dev/null" || { cat "$T/daemon.log"; fail "$1: the fault point was not reached"; }
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 137 ] || { cat "$T/daemon.log"; fail "$1: exit $rc, expected SIGKILL"; }
}
for point in split-pending watch-taken; do
  fresh
  cp "$T/batch.pdf" "$T/in/"
  start_until_killed "$point"
  pending=$(grep -l "split-pending=true" "$T"/spool/*/job.ini 2>/dev/null | wc -l)
  echo "$point: killed with $pending pending document(s)"
  assert_eq 1 "$pending" "$point: the further document was pending when killed"
  DAEMON_STARTS=1 daemon_start "$T/scand.conf" --no-bus --queue-interval 300
  check "$point"
  daemon_stop
done
echo "watched split: all checks passed"
