# USB output against a real ext4 file system on a loop device (root):
# found by label and by UUID, written atomically and durably (the bytes are
# there after unmounting and mounting again), a name collision gets "-2", a
# non-removable device is refused unless allow-non-removable = true, and
# --to usb:LABEL goes through the same driver.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "usb-stick: needs root to mount a loop device" >&2
  exit 1
fi

tmp=$(mktemp -d)
media=$tmp/media
cleanup() {
  local m
  for m in "$media"/*; do
    mountpoint -q "$m" 2>/dev/null && umount "$m"
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Labels are unique per run: with the default media root every mount of the
# machine is a candidate, including those of tests running in parallel.
label=SC$$$RANDOM
label=${label:0:16}
uuid=$(cat /proc/sys/kernel/random/uuid)
mkdir -p "$media/stick"
truncate -s 16M "$tmp/stick.img"
mkfs.ext4 -q -F -L "$label" -U "$uuid" "$tmp/stick.img"
mount -o loop "$tmp/stick.img" "$media/stick"

# A PDF with some random bytes, so equal content means this delivery.
pdf=$tmp/in.pdf
{ printf '%%PDF-1.4\n%% scand usb test\n'; head -c 200000 /dev/urandom | base64; printf '\n%%%%EOF\n'; } >"$pdf"

cat >"$tmp/scand.conf" <<EOF
[output stick]
type = usb
label = $label
media-root = $media
allow-non-removable = true
subdir = Scans/office
wait = 5s

[output byuuid]
type = usb
uuid = $uuid
media-root = $media
allow-non-removable = true

[output any]
type = usb
any-removable = true
media-root = $media
allow-non-removable = true

[output strict]
type = usb
label = $label
media-root = $media
wait = 5s
EOF
export SCAND_SPOOL=$tmp/spool
run() { "$SCAND" deliver "$pdf" --config "$tmp/scand.conf" "$@"; }

# By label, into a subdirectory that does not exist yet.
run --to stick --name scan.pdf || fail "delivery by label exited $?"
cmp "$pdf" "$media/stick/Scans/office/scan.pdf" || fail "content on the stick differs"

# Same name again: never overwritten, "-2" instead.
run --to stick --name scan.pdf || fail "second delivery exited $?"
cmp "$pdf" "$media/stick/Scans/office/scan-2.pdf" || fail "scan-2.pdf missing or different"
cmp "$pdf" "$media/stick/Scans/office/scan.pdf" || fail "scan.pdf was touched by the second delivery"

# By file-system UUID.
run --to byuuid --name by-uuid.pdf || fail "delivery by UUID exited $?"
cmp "$pdf" "$media/stick/by-uuid.pdf" || fail "by-uuid.pdf missing or different"

# Any stick under the media root.
run --to any --name any.pdf || fail "delivery with any-removable exited $?"
cmp "$pdf" "$media/stick/any.pdf" || fail "any.pdf missing or different"

# No temporary files left behind.
if find "$media/stick" -name '*.part' | grep -q .; then
  fail "temporary files left on the stick: $(find "$media/stick" -name '*.part')"
fi

# A loop device is not removable: the same mount without allow-non-removable
# is refused, with the output, the mount, the device and the fix in one line.
set +e
run --to strict --name strict.pdf 2>"$tmp/strict.err"
status=$?
set -e
cat "$tmp/strict.err" >&2
[ "$status" = 1 ] || fail "non-removable device: exit $status, expected 1 (failed)"
grep -q "output 'strict': $media/stick is on /dev/loop[0-9]*, which is not a removable device" "$tmp/strict.err" ||
  fail "refusal message does not name the output, mount and device"
grep -q "allow-non-removable = true" "$tmp/strict.err" || fail "refusal message does not say how to allow it"
[ ! -e "$media/stick/strict.pdf" ] || fail "refused device was written to"

# --to usb:LABEL: the driver looks through every mount of the machine, finds
# this stick by its label, and refuses it for the same reason.
set +e
"$SCAND" deliver "$pdf" --to "usb:$label" --name adhoc.pdf 2>"$tmp/adhoc.err"
status=$?
set -e
cat "$tmp/adhoc.err" >&2
[ "$status" = 1 ] || fail "--to usb:$label: exit $status, expected 1"
grep -q "$media/stick is on /dev/loop[0-9]*, which is not a removable device" "$tmp/adhoc.err" ||
  fail "--to usb:$label did not find the stick by its label"

# Durable: what was reported delivered is on the medium itself.
umount "$media/stick"
mount -o loop,ro "$tmp/stick.img" "$media/stick"
cmp "$pdf" "$media/stick/Scans/office/scan.pdf" || fail "scan.pdf not on the medium after remount"
cmp "$pdf" "$media/stick/Scans/office/scan-2.pdf" || fail "scan-2.pdf not on the medium after remount"
cmp "$pdf" "$media/stick/by-uuid.pdf" || fail "by-uuid.pdf not on the medium after remount"

# A read-only mount of the right stick is refused with a reason.
set +e
run --to stick --name ro.pdf 2>"$tmp/ro.err"
status=$?
set -e
cat "$tmp/ro.err" >&2
[ "$status" = 1 ] || fail "read-only stick: exit $status, expected 1"
grep -q "output 'stick': $media/stick (/dev/loop[0-9]*) is mounted read-only" "$tmp/ro.err" ||
  fail "read-only message unclear"

# scand config check explains a wrong USB section line by line.
cat >"$tmp/bad.conf" <<EOF
[output nothing]
type = usb
subdir = ../outside
unmount-after = true
EOF
set +e
"$SCAND" config check --config "$tmp/bad.conf" >"$tmp/check.out" 2>&1
status=$?
set -e
cat "$tmp/check.out" >&2
[ "$status" != 0 ] || fail "config check accepted a USB output that names no stick"
grep -q "bad.conf:1: \[output nothing\] set label, uuid or any-removable = true" "$tmp/check.out" ||
  fail "config check: missing label/uuid not reported"
grep -q "bad.conf:3: \[output nothing\] subdir: '../outside' climbs out of the stick" "$tmp/check.out" ||
  fail "config check: subdir with .. not reported"
grep -q "bad.conf:4: \[output nothing\] unmount-after: .*set mount = true" "$tmp/check.out" ||
  fail "config check: unmount-after without mount not reported"

echo "usb-stick: ok"
