# scand-gtk when things are down. The daemon is not running and is started
# by D-Bus activation on the app's first call (a private session bus with
# its own service directory). First its configuration is missing: the
# daemon cannot start and the app says so. Then the app is started as the
# desktop shortcut (--device/--profile) while the rule's destination is down
# (a folder that is not there, standing in for a stopped share): the job ends
# "queued" and the app says so calmly, as a notification, not an error.
# Screenshot: queued.png.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
. "$SCAND_SRCDIR/tests/lib/gtk-xvfb.sh"
gtk_bus_start_activatable "$T/scand.conf"
xvfb_start
gtk_env

# No configuration yet: activation fails, the app explains and gives up.
status=0
SCAND_GTK_TEST_EXIT=1 timeout 120 "$SCAND_GTK" >"$T/app-down.log" 2>&1 || status=$?
cat "$T/app-down.log"
assert_eq 1 "$status" "scand-gtk exit status without a daemon"
assert_contains "$T/app-down.log" "shown: Cannot reach the scan service"

cat >"$T/scand.conf" <<CONF
[scanner desk-scanner]
device = sane:test:0

[profile letter]
source = feeder
pages = 2
resolution = 50

[output share]
type = folder
path = $T/share-not-mounted

[rule share]
deliver = share
CONF

status=0
SCAND_GTK_SCREENSHOT_DIR="$T/shots" SCAND_GTK_TEST_EXIT=1 \
  timeout 120 "$SCAND_GTK" --device desk-scanner --profile letter >"$T/app.log" 2>&1 || status=$?
cat "$T/app.log"
assert_eq 0 "$status" "scand-gtk exit status"
! grep -E "(WARNING|CRITICAL) \*\*" "$T/app.log" || fail "scand-gtk warned"
[ -n "$(gtk_daemon_pid)" ] || { cat "$T/bus.log"; fail "the daemon was not started by D-Bus activation"; }
assert_contains "$T/app.log" "scan: device 'desk-scanner' profile 'letter'"
assert_contains "$T/app.log" "progress: Scanned page 2"
assert_contains "$T/app.log" "finished: queued"
assert_contains "$T/app.log" "shown: Queued — will deliver when the share is back"
# The reason is there too, in words.
grep -q "shown: Queued.*share-not-mounted" "$T/app.log" || fail "the queued notification does not say what is down"
[ ! -e "$T/share-not-mounted" ] || fail "the destination appeared"
# The job waits in the daemon's queue.
scand_call ListJobs >"$T/jobs"
assert_contains "$T/jobs" "share:retry:1:"
png_check "$T/shots/queued.png"
mkdir -p "$SCAND_BUILDDIR/screenshots"
cp "$T/shots/queued.png" "$SCAND_BUILDDIR/screenshots/queued.png"

pid=$(gtk_daemon_pid)
kill -TERM "$pid"
wait_for 30 sh -c "! kill -0 $pid 2>/dev/null" || fail "the activated daemon did not stop"
echo ok
