# Crash test: SIGKILL (through the test-only fault hook SCAND_FAULT) at every
# stage boundary of a scan, then `scand resume`: each time exactly one complete
# PDF in the destination, no temporary file left there, an empty spool.
. "$SCAND_SRCDIR/tests/lib/common.sh"

points=(
  page-saved@1        # first page durable, scanner session dies with the process
  page-saved@3        # last page durable, stage still "scanning"
  scan-finished       # stage "scanned", no PDF yet
  pdf-written         # document.pdf renamed into place, stage not yet "assembled"
  job-assembled       # stage "assembled", nothing delivered
  folder-written      # temporary file complete in the destination
  folder-target-recorded  # final name chosen and recorded, not yet renamed
  folder-renamed      # file in place, delivery not yet recorded
  delivery-recorded   # delivery recorded, job not yet marked done
  job-done            # job done, not yet removed from the spool
)

for point in "${points[@]}"; do
  dest="$T/dest-${point//@/-}"
  export SCAND_SPOOL="$T/spool-${point//@/-}"
  set +e
  SCAND_FAULT=$point "$SCAND" scan -q --device sane:test:0 --source feeder --pages 3 --resolution 50 \
    --to "$dest" --name 'doc.pdf' >"$T/stdout" 2>"$T/stderr"
  rc=$?
  set -e
  [ $rc -eq 137 ] || { cat "$T/stderr"; fail "$point: expected SIGKILL (137), got exit $rc"; }
  grep -q "fault hook" "$T/stderr" || fail "$point: the fault point was not reached"

  "$SCAND" resume >"$T/stdout" 2>"$T/stderr" || { cat "$T/stderr"; fail "$point: resume failed"; }
  n=$(count_files "$dest" -name '*.pdf')
  [ "$n" -eq 1 ] || { ls -la "$dest"; fail "$point: $n PDFs after resume, expected exactly 1"; }
  tmp=$(find "$dest" -name '.*' -type f | wc -l)
  [ "$tmp" -eq 0 ] || { ls -la "$dest"; fail "$point: temporary files left in the destination"; }
  pages=$(pdf_pages "$dest/doc.pdf")
  case "$point" in
    page-saved@1) want=1 ;;
    *) want=3 ;;
  esac
  assert_eq "$want" "$pages" "$point: pages in the resumed PDF"
  left=$(find "$SCAND_SPOOL" -mindepth 1 -maxdepth 1 -type d | wc -l)
  [ "$left" -eq 0 ] || fail "$point: $left jobs left in the spool"
  # A second resume finds nothing to do and delivers nothing twice.
  "$SCAND" resume >/dev/null 2>&1 || fail "$point: second resume failed"
  assert_eq 1 "$(count_files "$dest")" "$point: files after a second resume"
  echo "ok $point"
done

# Killed right after the job was created: no page was accepted, so there is
# nothing to deliver and resume only clears the empty job.
export SCAND_SPOOL="$T/spool-created"
set +e
SCAND_FAULT=job-created "$SCAND" scan -q --device sane:test:0 --source feeder --pages 3 --to "$T/dest-created" 2>/dev/null
rc=$?
set -e
[ $rc -eq 137 ] || fail "job-created: expected SIGKILL"
"$SCAND" resume || fail "job-created: resume failed"
[ ! -d "$T/dest-created" ] || [ "$(count_files "$T/dest-created")" -eq 0 ] || fail "job-created: something delivered"
[ -z "$(find "$SCAND_SPOOL" -mindepth 1 -maxdepth 1 -type d)" ] || fail "job-created: job left in the spool"
echo ok
