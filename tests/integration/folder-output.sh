# The folder output against real file systems: name collisions get -2, -3;
# template subdirectories are created; a full disk (tiny tmpfs) and a missing
# (unmounted) folder are retried and delivered once the space or the mount is
# back; a read-only file system fails for good with a one-line message naming
# the destination and the cause. Needs root for the mounts (CI runs as root).
. "$SCAND_SRCDIR/tests/lib/common.sh"
[ "$(id -u)" -eq 0 ] || fail "this test mounts file systems and must run as root"

"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null 2>"$T/err" \
  || { cat "$T/err"; fail "assemble"; }

# Collisions: the same name three times → doc.pdf, doc-2.pdf, doc-3.pdf.
for i in 1 2 3; do
  "$SCAND" deliver "$T/doc.pdf" --to "$T/out" --name 'a/b/doc.pdf' >"$T/stdout" 2>"$T/err" \
    || { cat "$T/err"; fail "deliver $i"; }
done
[ -f "$T/out/a/b/doc.pdf" ] && [ -f "$T/out/a/b/doc-2.pdf" ] && [ -f "$T/out/a/b/doc-3.pdf" ] \
  || { find "$T/out"; fail "collision suffixes"; }
assert_eq "$T/out/a/b/doc-3.pdf" "$(cat "$T/stdout")" "printed path"
cmp "$T/doc.pdf" "$T/out/a/b/doc-2.pdf" || fail "delivered bytes differ"

cat >"$T/scand.conf" <<CONF
[output full]
type = folder
path = $T/full

[output nas]
type = folder
path = $T/nas

[output ro]
type = folder
path = $T/ro
CONF

# A full disk: retry (exit 75), the job is queued with the reason; once there
# is room, resume delivers exactly one file.
mkdir -p "$T/full"
mount -t tmpfs -o size=16k tmpfs "$T/full"
on_exit "umount -l '$T/full'"
dd if=/dev/zero of="$T/full/filler" bs=4k count=4 2>/dev/null || true
set +e
"$SCAND" deliver --config "$T/scand.conf" "$T/doc.pdf" --to full >"$T/stdout" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 75 ] || { cat "$T/err"; fail "full disk: exit $rc, expected 75"; }
assert_contains "$T/err" "output full (folder $T/full)"
assert_contains "$T/err" "No space left on device"
assert_contains "$T/err" "will retry"
"$SCAND" jobs >"$T/jobs"
assert_contains "$T/jobs" "retry"
assert_contains "$T/jobs" "No space left on device"
[ -z "$(find "$T/full" -name '.scand-*')" ] || fail "full disk: temporary file left behind"
rm "$T/full/filler"
"$SCAND" resume --config "$T/scand.conf" 2>"$T/err" || { cat "$T/err"; fail "resume after freeing space"; }
assert_eq 1 "$(count_files "$T/full" -name '*.pdf')" "files on the freed disk"

# The folder is missing (not mounted): retry, then delivered when it appears.
set +e
"$SCAND" deliver --config "$T/scand.conf" "$T/doc.pdf" --to nas >"$T/stdout" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 75 ] || { cat "$T/err"; fail "missing folder: exit $rc, expected 75"; }
assert_contains "$T/err" "not mounted"
mkdir "$T/nas"
"$SCAND" resume 2>"$T/err" || { cat "$T/err"; fail "resume after mount"; }
assert_eq 1 "$(count_files "$T/nas")" "files after the folder came back"
"$SCAND" resume 2>/dev/null
assert_eq 1 "$(count_files "$T/nas")" "files after a second resume"

# Read-only: failed for good (exit 1), one line, the job is kept for retry.
mkdir -p "$T/ro"
mount -t tmpfs -o ro,size=1m tmpfs "$T/ro"
on_exit "umount -l '$T/ro'"
set +e
"$SCAND" deliver --config "$T/scand.conf" "$T/doc.pdf" --to ro >"$T/stdout" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 1 ] || { cat "$T/err"; fail "read-only: exit $rc, expected 1"; }
assert_contains "$T/err" "output ro (folder $T/ro)"
assert_contains "$T/err" "Read-only file system"
"$SCAND" jobs >"$T/jobs"
assert_contains "$T/jobs" "failed"

# Not a PDF, and hostile names, are refused before anything is spooled.
echo "hello" >"$T/not.pdf"
set +e
"$SCAND" deliver "$T/not.pdf" --to "$T/out2" 2>"$T/err"; rc=$?
set -e
[ $rc -ne 0 ] || fail "a non-PDF was delivered"
assert_contains "$T/err" "is not a PDF file"
set +e
"$SCAND" deliver "$T/doc.pdf" --to "$T/out2" --name '../escape.pdf' 2>"$T/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "a name with .. was accepted"
[ ! -e "$T/escape.pdf" ] || fail "a file escaped the destination"
echo ok
