# USB output when no stick is plugged in (root): a delivery is queued (retry,
# exit 75) with a message saying which stick it waits for, fails for good once
# "wait" has passed since the first attempt, and a stick mounted while a
# delivery is waiting is noticed (mountinfo change) and used at once.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "usb-wait: needs root to mount a loop device" >&2
  exit 1
fi

tmp=$(mktemp -d)
media=$tmp/media
bg=
cleanup() {
  [ -n "$bg" ] && kill "$bg" 2>/dev/null
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

label=LW$$$RANDOM
label=${label:0:16}
mkdir -p "$media/stick"
pdf=$tmp/in.pdf
{ printf '%%PDF-1.4\n'; head -c 50000 /dev/urandom | base64; printf '\n%%%%EOF\n'; } >"$pdf"

cat >"$tmp/scand.conf" <<EOF
[output absent]
type = usb
label = $label
media-root = $media
allow-non-removable = true
wait = 2s

[output late]
type = usb
label = $label
media-root = $media
allow-non-removable = true
wait = 1h
EOF

# 1. Nothing plugged in: queued, and the message says what it waits for.
export SCAND_SPOOL=$tmp/spool-absent
set +e
"$SCAND" deliver "$pdf" --to absent --config "$tmp/scand.conf" --name a.pdf 2>"$tmp/absent.err"
status=$?
set -e
cat "$tmp/absent.err" >&2
[ "$status" = 75 ] || fail "no stick: exit $status, expected 75 (queued for retry)"
grep -q "output 'absent': no USB stick labelled $label is plugged in under $media — waiting" "$tmp/absent.err" ||
  fail "retry message does not name the output and the stick"

# 2. Still nothing once "wait" (2s) has passed since the first attempt: failed.
job=$(sed -n 's/.*job \([^ ]*\) is queued.*/\1/p' "$tmp/absent.err")
[ -n "$job" ] || fail "no queued job id in the output"
sleep 3
set +e
"$SCAND" retry "$job" --config "$tmp/scand.conf" 2>"$tmp/resume.err"
status=$?
set -e
cat "$tmp/resume.err" >&2
[ "$status" = 1 ] || fail "after the wait: exit $status, expected 1 (failed)"
grep -q "output 'absent': no USB stick labelled $label was plugged in under $media within 2s — giving up" \
  "$tmp/resume.err" || fail "final message does not say it gave up"

# 3. A stick that appears while a delivery watches the mount table is used by
#    that same attempt.
export SCAND_SPOOL=$tmp/spool-late
truncate -s 16M "$tmp/stick.img"
mkfs.ext4 -q -F -L "$label" "$tmp/stick.img"
"$SCAND" deliver "$pdf" --to late --config "$tmp/scand.conf" --name late.pdf 2>"$tmp/late.err" &
bg=$!
# Mount only once the delivery has recorded its first miss: it is watching now.
for _ in $(seq 1 200); do
  grep -rqs usb-first-missing "$SCAND_SPOOL" && break
  kill -0 "$bg" 2>/dev/null || break
  sleep 0.05
done
grep -rqs usb-first-missing "$SCAND_SPOOL" || fail "delivery never recorded that the stick was missing"
mount -o loop "$tmp/stick.img" "$media/stick"
set +e
wait "$bg"
status=$?
set -e
bg=
cat "$tmp/late.err" >&2
[ "$status" = 0 ] || fail "stick plugged in while waiting: exit $status, expected 0"
cmp "$pdf" "$media/stick/late.pdf" || fail "late.pdf missing or different"

echo "usb-wait: ok"
