# scand-gtk when the scanner fails: a paper jam injected through the SANE
# test backend's read-return-value option. The app shows the daemon's error
# in plain words and what to do, exits with the failure status in test mode,
# and nothing is delivered. Screenshot: failed.png.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
. "$SCAND_SRCDIR/tests/lib/gtk-xvfb.sh"
bus_start
xvfb_start
gtk_env

cat >"$T/scand.conf" <<CONF
[scanner jammed]
device = sane:test:0
sane-options = read-return-value=SANE_STATUS_JAMMED

[profile letter]
source = feeder
pages = 2
resolution = 50

[output desk]
type = folder
path = $T/desk
create = true

[rule desk]
deliver = desk
CONF
daemon_start "$T/scand.conf"
daemon_wait_bus

status=0
SCAND_GTK_SCREENSHOT_DIR="$T/shots" SCAND_GTK_TEST_EXIT=1 \
  timeout 120 "$SCAND_GTK" --device jammed --profile letter >"$T/app.log" 2>&1 || status=$?
cat "$T/app.log"
assert_eq 2 "$status" "scand-gtk exit status after a failed scan"
! grep -E "(WARNING|CRITICAL) \*\*" "$T/app.log" || fail "scand-gtk warned"
assert_contains "$T/app.log" "finished: failed"
grep -qi "shown: The scan failed | .*jam" "$T/app.log" || fail "the notification does not say the paper jammed"
assert_contains "$T/app.log" "clear it and re-feed"
[ ! -d "$T/desk" ] || [ "$(count_files "$T/desk")" -eq 0 ] || fail "something was delivered"
png_check "$T/shots/failed.png"
mkdir -p "$SCAND_BUILDDIR/screenshots"
cp "$T/shots/failed.png" "$SCAND_BUILDDIR/screenshots/failed.png"
daemon_stop
echo ok
