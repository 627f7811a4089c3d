# A full disk is named as one: writing a PDF onto a file system that runs out
# of room at any point fails with "No space left on device" (never "libhpdf
# error 0x1016"), leaves no partial or temporary file, and a PDF that is
# written is whole. Needs root for the tmpfs mounts (CI runs as root).
. "$SCAND_SRCDIR/tests/lib/common.sh"
[ "$(id -u)" -eq 0 ] || fail "this test mounts small file systems and must run as root"

# Noise compresses badly, so the PDF is about as big as the image.
/usr/bin/python3 -c '
import sys
from PIL import Image
im = Image.effect_noise((600, 600), 80).convert("RGB")
im.save(sys.argv[1])
im.save(sys.argv[2], quality=95)' "$T/noise.png" "$T/noise.jpg"
mkdir -p "$T/m"
failed=0
for kb in 32 100 300 500 700 1200; do
  # A PNG is converted (JPEG or, lossless, Flate); a JPEG's bytes are copied
  # into the PDF by the kernel: each path meets the full disk its own way.
  for mode in "" --lossless jpeg; do
    input=$T/noise.png
    [ "$mode" != jpeg ] || { mode=; input=$T/noise.jpg; }
    mount -t tmpfs -o "size=${kb}k" tmpfs "$T/m"
    set +e
    "$SCAND" assemble $mode -o "$T/m/out.pdf" "$input" >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    if [ $rc -eq 0 ]; then
      qpdf --check "$T/m/out.pdf" >/dev/null || { umount "$T/m"; fail "${kb}k $mode: a broken PDF was written"; }
    else
      assert_eq 1 "$rc" "${kb}k $mode: exit status"
      grep -qx "scand assemble: cannot write the PDF $T/m/out.pdf: No space left on device" "$T/err" ||
        { cat "$T/err" >&2; umount "$T/m"; fail "${kb}k $mode: the error does not say the disk is full"; }
      [ ! -e "$T/m/out.pdf" ] || { umount "$T/m"; fail "${kb}k $mode: a partial PDF was left"; }
      failed=$((failed + 1))
    fi
    leftover=$(find "$T/m" -mindepth 1 ! -name out.pdf)
    umount "$T/m"
    [ -z "$leftover" ] || fail "${kb}k $mode: left behind: $leftover"
  done
done
# The sizes cover both outcomes.
[ $failed -ge 6 ] || fail "only $failed writes ran out of room: the sizes no longer test a full disk"
[ $failed -lt 18 ] || fail "every write ran out of room: the sizes no longer test a successful write"
echo "ok ($failed of 18 ran out of room)"
