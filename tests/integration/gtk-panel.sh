# The walk-up destinations a scanner lists on its panel, as the desktop sees
# them: ListPanels on D-Bus names each [scanner] section's destinations and
# their state; scand-gtk on Xvfb shows "On the copier's panel: Finance, Anna"
# under the selected scanner (screenshot panel.png) and still scans from it;
# `scand status` lists the same destinations from the spool.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
. "$SCAND_SRCDIR/tests/lib/gtk-xvfb.sh"
bus_start
xvfb_start
gtk_env

/usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --model hp --walkup comp --port-file "$T/port" \
  --adf-pages 2 --lifetime 300 2>"$T/sim.log" &
on_exit "kill $! 2>/dev/null"
wait_for 20 test -s "$T/port" || fail "simulator did not start"
sim="http://127.0.0.1:$(cat "$T/port")"

cat >"$T/scand.conf" <<CONF
[scanner front-desk]
device = escl:$sim/eSCL
profile = letter
panel = Finance:letter, Anna

[profile letter]
source = feeder
mode = gray
resolution = 75

[output desk]
type = folder
path = $T/desk
create = true

[rule desk]
deliver = desk
name = scan-{seq}.pdf
CONF
daemon_start "$T/scand.conf"
daemon_wait_bus
wait_for 20 grep -q 'panel: "Finance", "Anna" registered' "$T/daemon.log" || { cat "$T/daemon.log"; fail "not registered"; }

listed() { reply=$(scand_call ListPanels); case "$reply" in *"'registered')"*) return 0 ;; *) return 1 ;; esac; }
wait_for 10 listed || fail "ListPanels never said registered: $reply"
echo "ListPanels: $reply"
case "$reply" in
  *"('front-desk', [('Finance', int64 0), ('Anna', 0)], 'registered')"*) ;;
  *) fail "ListPanels: $reply" ;;
esac

"$SCAND" status --config "$T/scand.conf" "escl:$sim/eSCL" >"$T/status.out" || { cat "$T/status.out"; fail "scand status"; }
cat "$T/status.out"
assert_contains "$T/status.out" 'Panel:   "Finance" of [scanner front-desk]: registered'
assert_contains "$T/status.out" '"Anna" of [scanner front-desk]: registered'

shots="$SCAND_BUILDDIR/screenshots"
rm -f "$shots/panel.png"
status=0
SCAND_GTK_TEST_CLICK=letter SCAND_GTK_SCREENSHOT_DIR="$shots" SCAND_GTK_TEST_EXIT=1 \
  timeout 120 "$SCAND_GTK" >"$T/app.log" 2>&1 || status=$?
cat "$T/app.log"
assert_eq 0 "$status" "scand-gtk exit status"
! grep -E "(WARNING|CRITICAL) \*\*" "$T/app.log" || fail "scand-gtk warned"
assert_contains "$T/app.log" "panel: Finance, Anna"
assert_contains "$T/app.log" "finished: done"
png_check "$shots/panel.png"
daemon_stop
echo ok
