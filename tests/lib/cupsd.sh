# A private CUPS server for tests, and an AppSocket "printer" that captures
# what it is sent. Source this file from a bash test:
#
#   . "$SCAND_SRCDIR/tests/lib/cupsd.sh"
#   cupsd_start "$tmp"                 # exports CUPS_SERVER=$tmp/cups/cups.sock
#   printer_start "$tmp/printed"       # sets PRINTER_PORT; jobs land in $tmp/printed/job-N.bin
#   cupsd_add_queue q "$PRINTER_PORT"  # raw queue socket://127.0.0.1:PORT
#   …
#   cupsd_stop; printer_stop           # (call from the test's EXIT trap)
#
# cupsd runs in the foreground (-f) as a child of the test, listens only on a
# unix socket inside the temp dir and keeps every file (config, spool, logs,
# state, cache) there. It must run as root (it refuses otherwise to manage
# spool files for other users); filters and backends run as "lp", so the temp
# dirs they need are made traversable.

CUPSD_PID=
PRINTER_PID=
PRINTER_PORT=
CUPSD_DIR=

# Starts cupsd with its files under $1/cups and waits until it answers.
cupsd_start() {
  local base=$1
  CUPSD_DIR=$base/cups
  mkdir -p "$CUPSD_DIR"/{spool,tmp,cache,state,log}
  # lp (backends, filters) must reach spool files and the socket.
  chmod 0755 "$base" "$CUPSD_DIR"
  chmod 1777 "$CUPSD_DIR/tmp"
  cat >"$CUPSD_DIR/cupsd.conf" <<EOF
Listen $CUPSD_DIR/cups.sock
LogLevel debug
MaxLogSize 0
Browsing No
BrowseLocalProtocols none
DefaultAuthType None
WebInterface No
JobRetryLimit 0
PreserveJobHistory Yes
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
EOF
  cat >"$CUPSD_DIR/cups-files.conf" <<EOF
ServerRoot $CUPSD_DIR
RequestRoot $CUPSD_DIR/spool
TempDir $CUPSD_DIR/tmp
CacheDir $CUPSD_DIR/cache
StateDir $CUPSD_DIR/state
ErrorLog $CUPSD_DIR/log/error_log
AccessLog $CUPSD_DIR/log/access_log
PageLog $CUPSD_DIR/log/page_log
User lp
Group lp
SystemGroup root
FileDevice No
EOF
  export CUPS_SERVER=$CUPSD_DIR/cups.sock
  cupsd -f -c "$CUPSD_DIR/cupsd.conf" -s "$CUPSD_DIR/cups-files.conf" \
    >"$CUPSD_DIR/log/stdout" 2>&1 &
  CUPSD_PID=$!
  local i
  for i in $(seq 1 100); do
    if lpstat -h "$CUPS_SERVER" -r 2>/dev/null | grep -q 'is running'; then
      return 0
    fi
    if ! kill -0 "$CUPSD_PID" 2>/dev/null; then
      echo "cupsd exited during start-up:" >&2
      cat "$CUPSD_DIR/log/stdout" "$CUPSD_DIR/log/error_log" >&2 2>/dev/null
      return 1
    fi
    sleep 0.1
  done
  echo "cupsd did not answer on $CUPS_SERVER" >&2
  return 1
}

# Stops cupsd (if started) and waits for it.
cupsd_stop() {
  if [ -n "$CUPSD_PID" ]; then
    kill "$CUPSD_PID" 2>/dev/null || true
    wait "$CUPSD_PID" 2>/dev/null || true
    CUPSD_PID=
  fi
}

# Adds an enabled raw queue $1 that sends to the AppSocket printer on port $2.
cupsd_add_queue() {
  lpadmin -h "$CUPS_SERVER" -p "$1" -E -v "socket://127.0.0.1:$2" -m raw 2>&1 |
    grep -v 'deprecated' >&2 || true
  lpstat -h "$CUPS_SERVER" -p "$1" >/dev/null
}

# Prints cupsd's error log (for failing tests).
cupsd_dump_log() {
  [ -n "$CUPSD_DIR" ] && tail -n 80 "$CUPSD_DIR/log/error_log" >&2 2>/dev/null
  return 0
}

# Starts an AppSocket (JetDirect, port 9100 style) printer on a free loopback
# port: every connection's bytes are written to $1/job-N.bin (N from 1), the
# file renamed into place only once the client has finished sending. Sets
# PRINTER_PORT.
printer_start() {
  local out=$1
  mkdir -p "$out"
  rm -f "$out/.port"
  python3 - "$out" <<'EOF' &
import os, socket, sys
out = sys.argv[1]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(4)
with open(os.path.join(out, ".port.tmp"), "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(os.path.join(out, ".port.tmp"), os.path.join(out, ".port"))
n = 0
while True:
    conn, _ = srv.accept()
    n += 1
    part = os.path.join(out, ".job-%d.part" % n)
    with conn, open(part, "wb") as f:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            f.write(data)
    os.rename(part, os.path.join(out, "job-%d.bin" % n))
EOF
  PRINTER_PID=$!
  local i
  for i in $(seq 1 100); do
    if [ -s "$out/.port" ]; then
      PRINTER_PORT=$(cat "$out/.port")
      return 0
    fi
    sleep 0.05
  done
  echo "printer listener did not start" >&2
  return 1
}

printer_stop() {
  if [ -n "$PRINTER_PID" ]; then
    kill "$PRINTER_PID" 2>/dev/null || true
    wait "$PRINTER_PID" 2>/dev/null || true
    PRINTER_PID=
  fi
}
