# scand-gtk on Xvfb against a real daemon on a private session bus: the
# "letter" preset button is activated (test hook), the progress area follows
# the daemon's signals, the PDF lands at the rule's destination and the
# notification names that path. Screenshots: idle, scanning, done. Also
# checks the launcher (.desktop) and the icon.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
. "$SCAND_SRCDIR/tests/lib/gtk-xvfb.sh"
bus_start
xvfb_start
gtk_env

cat >"$T/scand.conf" <<CONF
[scanner desk-scanner]
device = sane:test:0

[profile letter]
source = feeder
pages = 2
resolution = 50

[profile photo]
source = flatbed
resolution = 50

[output desk]
type = folder
path = $T/desk
create = true

[rule desk]
deliver = desk
name = letter-{seq}.pdf
CONF
daemon_start "$T/scand.conf"
daemon_wait_bus

shots="$SCAND_BUILDDIR/screenshots"
rm -f "$shots/idle.png" "$shots/scanning.png" "$shots/done.png"
status=0
SCAND_GTK_TEST_CLICK=letter SCAND_GTK_SCREENSHOT_DIR="$shots" SCAND_GTK_TEST_EXIT=1 \
  timeout 120 "$SCAND_GTK" >"$T/app.log" 2>&1 || status=$?
cat "$T/app.log"
assert_eq 0 "$status" "scand-gtk exit status"
! grep -E "(WARNING|CRITICAL) \*\*" "$T/app.log" || fail "scand-gtk warned"

# The button started a scan with the profile, and the app followed the job.
assert_contains "$T/app.log" "scan: device 'desk-scanner' profile 'letter'"
assert_contains "$T/app.log" "progress: Scanned page 2"
assert_contains "$T/app.log" "thumbnail: Page 1 "
assert_contains "$T/app.log" "progress: Delivering…"
assert_contains "$T/app.log" "finished: done"

pdf="$T/desk/letter-0001.pdf"
[ -f "$pdf" ] || { ls -la "$T/desk" || true; cat "$T/daemon.log"; fail "PDF not at the rule's destination"; }
assert_eq 2 "$(pdf_pages "$pdf")" "pages"
# The notification shows where the file went, as the daemon reported it.
assert_contains "$T/app.log" "shown: Saved as letter-0001.pdf | In $T/desk"

png_check "$shots/idle.png"
png_check "$shots/scanning.png"
png_check "$shots/done.png"
cmp -s "$shots/idle.png" "$shots/done.png" && fail "done.png is the same picture as idle.png"
cmp -s "$shots/scanning.png" "$shots/done.png" && fail "done.png is the same picture as scanning.png"
# What the desktop sees of the app: a valid launcher and icon.
desktop-file-validate "$SCAND_SRCDIR/data/org.scand.ScanButton.desktop" || fail "invalid .desktop file"
xmllint --noout "$SCAND_SRCDIR/data/org.scand.ScanButton.svg" || fail "the icon is not well-formed SVG"
daemon_stop
echo ok
