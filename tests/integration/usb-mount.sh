# USB output with mount = true (root): a stick that is plugged in but that
# nobody mounted (a loop device with an ext4 file system) is found by label,
# mounted by scand (nosuid, nodev, noexec) under the media root, written, and
# unmounted again; with unmount-after = false it stays mounted; without
# mount = true it is not touched; a non-removable device is refused before
# anything is mounted.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "usb-mount: needs root for loop devices and mount(2)" >&2
  exit 1
fi

tmp=$(mktemp -d)
media=$tmp/media
loopdev=
cleanup() {
  local m
  for m in "$media"/* "$tmp/check"; do
    mountpoint -q "$m" 2>/dev/null && umount "$m"
  done
  [ -n "$loopdev" ] && losetup -d "$loopdev"
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

label=MT$$$RANDOM
label=${label:0:16}
mkdir -p "$media" "$tmp/check"
truncate -s 16M "$tmp/stick.img"
mkfs.ext4 -q -F -L "$label" "$tmp/stick.img"
loopdev=$(losetup --find --show "$tmp/stick.img")
devno=$(printf '%d:%d' "0x$(stat -c %t "$loopdev")" "0x$(stat -c %T "$loopdev")")

pdf=$tmp/in.pdf
{ printf '%%PDF-1.4\n'; head -c 50000 /dev/urandom | base64; printf '\n%%%%EOF\n'; } >"$pdf"

cat >"$tmp/scand.conf" <<EOF
[output automount]
type = usb
label = $label
media-root = $media
allow-non-removable = true
mount = true
wait = 5s

[output keep]
type = usb
label = $label
media-root = $media
allow-non-removable = true
mount = true
unmount-after = false
wait = 5s

[output nomount]
type = usb
label = $label
media-root = $media
allow-non-removable = true
wait = 1s

[output strict]
type = usb
label = $label
media-root = $media
mount = true
wait = 5s
EOF
export SCAND_SPOOL=$tmp/spool
is_mounted() { awk -v d="$devno" '$3 == d { found = 1 } END { exit !found }' /proc/self/mountinfo; }

is_mounted && fail "the loop device is mounted before the test"

# Not allowed to mount: nothing happens, the delivery waits for a mount.
set +e
"$SCAND" deliver "$pdf" --config "$tmp/scand.conf" --to nomount --name n.pdf 2>"$tmp/err"
status=$?
set -e
cat "$tmp/err" >&2
[ "$status" = 75 ] || fail "mount = false: exit $status, expected 75"
is_mounted && fail "mount = false mounted the stick"

# Non-removable: refused before mounting.
set +e
"$SCAND" deliver "$pdf" --config "$tmp/scand.conf" --to strict --name s.pdf 2>"$tmp/err"
status=$?
set -e
cat "$tmp/err" >&2
[ "$status" = 1 ] || fail "non-removable with mount = true: exit $status, expected 1"
grep -q "output 'strict': $loopdev is not a removable device — refusing it" "$tmp/err" || fail "refusal unclear"
is_mounted && fail "a refused device was mounted"

# Mounted, written, unmounted.
"$SCAND" deliver "$pdf" --config "$tmp/scand.conf" --to automount --name a.pdf || fail "automount exited $?"
is_mounted && fail "the stick is still mounted after unmount-after"
[ ! -e "$media/$label" ] || fail "the mount directory was left behind"
mount -o ro "$loopdev" "$tmp/check"
cmp "$pdf" "$tmp/check/a.pdf" || fail "a.pdf missing or different on the stick"
umount "$tmp/check"

# unmount-after = false: stays mounted where scand put it, safely.
"$SCAND" deliver "$pdf" --config "$tmp/scand.conf" --to keep --name k.pdf || fail "keep exited $?"
mountpoint -q "$media/$label" || fail "the stick is not mounted at $media/$label"
cmp "$pdf" "$media/$label/k.pdf" || fail "k.pdf missing or different"
opts=$(awk -v d="$devno" '$3 == d { print $6 }' /proc/self/mountinfo)
for o in nosuid nodev noexec; do
  case ",$opts," in *",$o,"*) ;; *) fail "scand's mount lacks $o ($opts)" ;; esac
done

echo "usb-mount: ok"
