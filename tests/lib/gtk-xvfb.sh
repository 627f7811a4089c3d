# The GTK app under test (bash; source after common.sh and daemon.sh).
#   xvfb_start              a private X server on a display Xvfb picks itself
#                           (-displayfd: no race with parallel tests); exports DISPLAY
#   gtk_env                 the environment for a deterministic scand-gtk run
#   png_check FILE          fails unless FILE is a PNG with more than one colour
SCAND_GTK="$SCAND_BUILDDIR/ui-gtk/scand-gtk"

xvfb_start() {
  local fifo="$T/xvfb.display"
  Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp -noreset 3>"$fifo" 2>"$T/xvfb.log" &
  local pid=$!
  on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
  wait_for 20 test -s "$fifo" || { cat "$T/xvfb.log"; fail "Xvfb did not start"; }
  DISPLAY=":$(head -1 "$fifo" | tr -d '[:space:]')"
  export DISPLAY
}

gtk_env() {
  export GDK_BACKEND=x11
  # Software rendering: no GPU on CI, and the same pixels every run.
  export GSK_RENDERER=cairo
  # No accessibility bus on the private session bus.
  export GTK_A11Y=none NO_AT_BRIDGE=1
  export GTK_THEME=Adwaita
  export G_MESSAGES_DEBUG=scand-gtk
  unset GTK_MODULES
}

png_check() {
  [ -s "$1" ] || fail "no screenshot $1"
  /usr/bin/python3 - "$1" <<'PY' || fail "screenshot $1 is blank or not a PNG"
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
colours = im.getcolors(maxcolors=1 << 20)
ok = w >= 200 and h >= 150 and (colours is None or len(colours) > 16)
print(f"{sys.argv[1]}: {w}x{h}, {'many' if colours is None else len(colours)} colours")
sys.exit(0 if ok else 1)
PY
}

# gtk_bus_start_activatable CONFIG: a private session bus that starts
# `scand daemon --config CONFIG` by D-Bus activation on the first call to
# org.scand.Daemon1, as the installed org.scand.Daemon1.service does.
# gtk_daemon_pid prints the activated daemon's PID.
gtk_bus_start_activatable() {
  mkdir -p "$T/services"
  cat >"$T/services/org.scand.Daemon1.service" <<SERVICE
[D-BUS Service]
Name=org.scand.Daemon1
Exec=$SCAND daemon --config $1
SERVICE
  cat >"$T/session.conf" <<BUS
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=$T</listen>
  <servicedir>$T/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
BUS
  dbus-daemon --config-file="$T/session.conf" --nofork --nopidfile --print-address=1 >"$T/bus.addr" 2>"$T/bus.log" &
  local pid=$!
  on_exit "kill \$(gtk_daemon_pid 2>/dev/null) 2>/dev/null; kill $pid 2>/dev/null"
  wait_for 10 test -s "$T/bus.addr" || fail "dbus-daemon did not start"
  DBUS_SESSION_BUS_ADDRESS=$(head -1 "$T/bus.addr")
  export DBUS_SESSION_BUS_ADDRESS
  unset DBUS_SYSTEM_BUS_ADDRESS
}

gtk_daemon_pid() {
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.GetConnectionUnixProcessID org.scand.Daemon1 | sed -n 's/.*uint32 \([0-9]*\).*/\1/p'
}
