#!/bin/bash
# Cross-check: the WSD simulator (tests/wsd-sim) must speak WS-Scan that an
# independent client understands. Debian's sane-airscan (its WSD backend) and
# scanimage scan from it: feeder simplex and duplex, flatbed grey, a jam after
# two pages, cover open, busy, a calibrating device (retried), an empty
# feeder, chunked and CRLF-less multipart replies, the lexmark model's faults
# with HTTP 200, HTTPS with a self-signed certificate and IPv6 loopback.
# Every page is checked for count, size, colour mode and order (the
# simulator draws a bar of 16*page pixels in rows 0-23).
#
# sane-airscan 0.99.27 always asks a WSD device for its whole area and crops
# itself, and ignores Content-Transfer-Encoding and the multipart start
# parameter, so the mime=base64 and mime=image-first shapes are not tried here
# (scand's own tests cover them).
set -euo pipefail
. "$SCAND_SRCDIR/tests/lib/common.sh"

SIM=$SCAND_SRCDIR/tests/wsd-sim/wsd-sim.py
PY=/usr/bin/python3 # the simulator needs Debian's python3-pil

# start_sim NAME ARGS…: starts a simulator; sets $port and $base.
start_sim() {
  local name=$1
  shift
  "$PY" "$SIM" --port-file "$T/$name.port" --lifetime 600 "$@" 2>"$T/$name.err" &
  local pid=$!
  on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
  for _ in $(seq 200); do
    [ -s "$T/$name.port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$T/$name.err" >&2; fail "simulator $name died"; }
    sleep 0.05
  done
  [ -s "$T/$name.port" ] || fail "simulator $name did not start"
  port=$(cat "$T/$name.port")
  base=http://127.0.0.1:$port
}

# configure NAME URL: a private SANE config with only airscan and one WSD device.
configure() {
  local dir=$T/conf-$1
  mkdir -p "$dir"
  echo airscan >"$dir/dll.conf"
  printf '[devices]\n"Sim" = %s, WSD\n\n[options]\ndiscovery = disable\n' "$2" >"$dir/airscan.conf"
  export SANE_CONFIG_DIR=$dir
}

ctl() { curl -skf -XPOST "$base/sim/control" -d "$1" >/dev/null || fail "control $1 refused"; }

# scan OUT ARGS…: scanimage in batch mode into OUT/p%d.png. sane-airscan
# 0.99.27 sometimes hangs in sane_close() after the batch (see
# escl-sim-airscan.sh): the pages are written by then, so a hang costs the
# timeout only.
scan() {
  local out=$1
  shift
  mkdir -p "$out"
  timeout -k 5 30 scanimage -d 'airscan:w0:Sim' "$@" --format=png --batch="$out/p%d.png" \
    >"$out.log" 2>&1 || echo "rc=$?" >>"$out.log"
}

# check OUT COUNT WIDTH HEIGHT MODE DUPLEX(0|1)
check() {
  "$PY" - "$@" <<'EOF'
import glob, os, re, sys
from PIL import Image
out, count, w, h, mode, duplex = sys.argv[1], int(sys.argv[2]), \
    int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6] == "1"
files = sorted(glob.glob(os.path.join(out, "p*.png")),
               key=lambda f: int(re.search(r"p(\d+)\.", f).group(1)))
if len(files) != count:
    sys.exit("%s: %d pages, expected %d" % (out, len(files), count))

def bar(img, y):
    g = img.convert("L")
    n = 0
    while n < g.width and g.getpixel((n, y)) < 128:
        n += 1
    return round(n / 16)

for i, f in enumerate(files, 1):
    img = Image.open(f)
    img.load()
    if img.size != (w, h):
        sys.exit("%s: size %s, expected %dx%d" % (f, img.size, w, h))
    if img.mode != mode:
        sys.exit("%s: mode %s, expected %s" % (f, img.mode, mode))
    if bar(img, 12) != i:
        sys.exit("%s: page marker %d, expected %d" % (f, bar(img, 12), i))
    want = (i + 1) // 2 if duplex and i % 2 == 0 else 0
    if bar(img, 44) != want:
        sys.exit("%s: back-side marker %d, expected %d" % (f, bar(img, 44), want))
print("ok: %s: %d pages %dx%d %s" % (out, count, w, h, mode))
EOF
}

expect_log() { # MESSAGE LOGFILE PATTERN
  grep -q "$3" "$2" || {
    cat "$2" >&2
    fail "$1"
  }
}

# log_count PREDICATE: /sim/log entries for which the python predicate on e holds.
log_count() {
  curl -skf "$base/sim/log" | "$PY" -c "
import json, sys
print(sum(1 for e in json.load(sys.stdin) if ($1)))"
}

# 100 x 150 mm at 75 dpi, cropped by sane-airscan: 295 x 443 px
W=295 H=443
geom=(-x 100 -y 150 --resolution 75)

# --- generic model -----------------------------------------------------------
start_sim generic --adf-pages 3
configure generic "$base/wsd/scan"
scanimage -L >"$T/list" 2>&1 || true
expect_log "scanimage -L does not list the simulator" "$T/list" "airscan:w0:Sim"

scan "$T/simplex" --source ADF "${geom[@]}"
expect_log "feeder scan did not end with an empty feeder" "$T/simplex.log" "Document feeder out of documents"
check "$T/simplex" 3 $W $H RGB 0
[ "$(log_count 'e.get("action") == "RetrieveImage" and e["status"] == 200')" = 3 ] ||
  fail "expected 3 images sent"
[ "$(log_count 'e.get("fault") == "ClientErrorNoImagesAvailable"')" = 1 ] ||
  fail "the batch did not end with ClientErrorNoImagesAvailable"

ctl '{"adf_pages": 2}'
scan "$T/duplex" --source "ADF Duplex" "${geom[@]}"
check "$T/duplex" 4 $W $H RGB 1

scan "$T/flatbed" --source Flatbed --mode Gray -x 50 -y 50 --resolution 150 --batch-count=1
check "$T/flatbed" 1 295 295 L 0
[ "$(log_count 'e.get("action") == "CreateScanJob" and e.get("source") == "Platen" and e.get("color") == "Grayscale8" and e.get("resolution") == 150')" = 1 ] ||
  fail "flatbed: the ticket was not Platen/Grayscale8/150"

# --- faults seen through an independent client ----------------------------------
ctl '{"adf_pages": 4, "fault": "jam-after=2"}'
scan "$T/jam" --source ADF "${geom[@]}"
expect_log "jam not reported by sane-airscan" "$T/jam.log" "jammed"
check "$T/jam" 2 $W $H RGB 0

ctl '{"reset": true, "fault": "cover-open"}'
scan "$T/cover" "${geom[@]}" --batch-count=1
expect_log "cover open not reported" "$T/cover.log" "cover is open"
check "$T/cover" 0 $W $H RGB 0

ctl '{"reset": true, "fault": "busy"}'
scan "$T/busy" "${geom[@]}" --batch-count=1
expect_log "busy not reported" "$T/busy.log" "Device busy"

ctl '{"reset": true, "fault": "calibrating=1500"}'
scan "$T/calibrating" "${geom[@]}" --batch-count=1
check "$T/calibrating" 1 $W $H RGB 0
[ "$(log_count 'e.get("fault") == "ServerErrorNotAcceptingJobs"')" -ge 1 ] ||
  fail "calibrating: no refused CreateScanJob seen"

ctl '{"reset": true, "fault": "empty"}'
scan "$T/empty" --source ADF "${geom[@]}"
expect_log "empty feeder not reported" "$T/empty.log" "out of documents"
check "$T/empty" 0 $W $H RGB 0

for kind in chunked no-crlf; do
  ctl "{\"reset\": true, \"fault\": \"mime=$kind\"}"
  scan "$T/mime-$kind" --source ADF "${geom[@]}"
  check "$T/mime-$kind" 3 $W $H RGB 0
done

# --- lexmark: faults with HTTP 200 --------------------------------------------
start_sim lexmark --model lexmark --adf-pages 2
configure lexmark "$base/wsd/scan"
scan "$T/lexmark" --source ADF "${geom[@]}"
check "$T/lexmark" 2 $W $H RGB 0
[ "$(log_count 'e.get("fault") == "ClientErrorNoImagesAvailable" and e["status"] == 200')" = 1 ] ||
  fail "lexmark: the end-of-batch fault did not come with HTTP 200"

# --- IPv6 loopback ---------------------------------------------------------------
start_sim v6 --ipv6
base=http://[::1]:$port
configure v6 "$base/wsd/scan"
scan "$T/v6" "${geom[@]}" --batch-count=1
check "$T/v6" 1 $W $H RGB 0

# --- HTTPS with a self-signed certificate ------------------------------------
start_sim tls --tls --cert-out "$T/tls.pem" --adf-pages 2
base=https://127.0.0.1:$port
configure tls "$base/wsd/scan"
openssl x509 -in "$T/tls.pem" -noout -fingerprint -sha256 >/dev/null || fail "--cert-out did not write a certificate"
scan "$T/tls" --source ADF "${geom[@]}"
check "$T/tls" 2 $W $H RGB 0

echo "wsd-sim-airscan: all checks passed"
