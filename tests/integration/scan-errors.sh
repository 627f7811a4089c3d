# Each SANE error the test backend can inject gives the documented behaviour:
# a one-line message naming the device and what to do, a non-zero exit, and —
# since the error comes before the first page — nothing delivered and nothing
# left in the spool. (Pages scanned before a mid-batch jam are kept and
# delivered: tests/unit/test-job.c /job/jam-keeps-pages and the eSCL
# simulator's jam test.)
. "$SCAND_SRCDIR/tests/lib/common.sh"

check() {
  local value=$1 source=$2 expect=$3
  local out="$T/out-$value"
  set +e
  "$SCAND" scan --device sane:test:0 --source "$source" --resolution 75 --to "$out" \
    --option "read-return-value=$value" >"$T/stdout" 2>"$T/stderr"
  local rc=$?
  set -e
  [ $rc -eq 1 ] || { cat "$T/stderr"; fail "$value: exit status $rc, expected 1"; }
  grep -qi -- "$expect" "$T/stderr" || { cat "$T/stderr"; fail "$value: no message saying '$expect'"; }
  grep -q "test:0" "$T/stderr" || { cat "$T/stderr"; fail "$value: message does not name the device"; }
  [ "$(wc -l <"$T/stderr")" -le 3 ] || { cat "$T/stderr"; fail "$value: more than a few lines of errors"; }
  [ ! -s "$T/stdout" ] || fail "$value: printed a delivered file: $(cat "$T/stdout")"
  [ ! -d "$out" ] || [ "$(count_files "$out")" -eq 0 ] || fail "$value: something was delivered"
  [ -z "$(find "$SCAND_SPOOL" -mindepth 1 -maxdepth 1 -type d)" ] || fail "$value: job left in the spool"
}

check SANE_STATUS_JAMMED feeder "jam"
check SANE_STATUS_COVER_OPEN flatbed "cover"
check SANE_STATUS_IO_ERROR flatbed "error"
check SANE_STATUS_NO_DOCS feeder "empty"
check SANE_STATUS_DEVICE_BUSY flatbed "busy"
echo ok
