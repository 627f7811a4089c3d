#!/bin/bash
# `scand scan --device escl:…` end to end against the eSCL simulator:
# 5 feeder pages → one 5-page PDF whose pages are the device's JPEGs untouched;
# a jam after 2 pages → exit 3 with the 2 pages delivered; an HTTPS device
# pinned through tls-pin in the config scans, and without the pin is refused.
set -euo pipefail

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_sim NAME ARGS… : starts a simulator, sets $port
start_sim() {
  local name=$1; shift
  /usr/bin/python3 "$SCAND_SRCDIR/tests/escl-sim/escl-sim.py" --port-file "$tmp/$name.port" --lifetime 300 "$@" \
    2>"$tmp/$name.log" &
  pids+=($!)
  for _ in $(seq 200); do
    [ -s "$tmp/$name.port" ] && break
    sleep 0.05
  done
  [ -s "$tmp/$name.port" ] || { cat "$tmp/$name.log"; fail "simulator $name did not start"; }
  port=$(cat "$tmp/$name.port")
}

# identities NAME.pdf : the simulator's page identities embedded in the JPEGs, in file order
identities() {
  grep -ao 'escl-sim job=[0-9a-z-]* page=[0-9]*' "$1" | sed 's/.* page=//' | tr '\n' ' '
}

touch "$tmp/empty.conf"

# --- 5 feeder pages -----------------------------------------------------------
start_sim plain --adf-pages 5
"$SCAND" scan --config "$tmp/empty.conf" --spool "$tmp/spool" --no-daemon -q \
  --device "escl:http://127.0.0.1:$port/eSCL" --source feeder --mode gray --resolution 150 \
  --to "$tmp/out" --name scan.pdf || fail "scan exited with $?"
pdf=$tmp/out/scan.pdf
[ -s "$pdf" ] || fail "no PDF delivered"
pages=$(qpdf --show-npages "$pdf")
[ "$pages" = 5 ] || fail "PDF has $pages pages, expected 5"
# the device's JPEGs went into the PDF as they were (DCT streams with the
# simulator's COM identity), in page order
[ "$(identities "$pdf")" = "1 2 3 4 5 " ] || fail "page identities: $(identities "$pdf")"
[ "$(grep -ac '/DCTDecode' "$pdf")" -ge 5 ] || fail "pages were re-encoded"
state=$(curl -s "http://127.0.0.1:$port/sim/state")
grep -q '"color_mode": "Grayscale8"' <<<"$state" || fail "grey not requested: $state"
grep -q '"resolution": 150' <<<"$state" || fail "150 dpi not requested: $state"

# --- jam after 2 pages: exit 3, the 2 pages delivered --------------------------
curl -s -XPOST "http://127.0.0.1:$port/sim/control" -d '{"adf_pages": 5, "fault": "jam-after=2"}' >/dev/null
set +e
"$SCAND" scan --config "$tmp/empty.conf" --spool "$tmp/spool" --no-daemon -q \
  --device "escl:http://127.0.0.1:$port/eSCL" --source feeder --to "$tmp/jam" --name scan.pdf 2>"$tmp/jam.err"
rc=$?
set -e
[ "$rc" = 3 ] || { cat "$tmp/jam.err"; fail "jammed scan exited with $rc, expected 3"; }
grep -q 'paper jam' "$tmp/jam.err" || fail "no jam message: $(cat "$tmp/jam.err")"
[ "$(qpdf --show-npages "$tmp/jam/scan.pdf")" = 2 ] || fail "jammed scan did not deliver 2 pages"

# --- HTTPS with tls-pin from the config -----------------------------------------
start_sim tls --adf-pages 2 --tls --cert-out "$tmp/cert.pem"
pin="sha256:$(openssl x509 -in "$tmp/cert.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')"
cat >"$tmp/pinned.conf" <<EOF
[scanner hall]
device = escl:https://127.0.0.1:$port/eSCL
tls-pin = $pin
EOF
"$SCAND" scan --config "$tmp/pinned.conf" --spool "$tmp/spool" --no-daemon -q \
  --device hall --source feeder --to "$tmp/tls" --name scan.pdf || fail "pinned HTTPS scan exited with $?"
[ "$(qpdf --show-npages "$tmp/tls/scan.pdf")" = 2 ] || fail "pinned HTTPS scan did not deliver 2 pages"

set +e
"$SCAND" scan --config "$tmp/empty.conf" --spool "$tmp/spool" --no-daemon -q \
  --device "escl:https://127.0.0.1:$port/eSCL" --source feeder --to "$tmp/unpinned" --name scan.pdf 2>"$tmp/unpinned.err"
rc=$?
set -e
[ "$rc" != 0 ] || fail "unpinned HTTPS scan succeeded"
grep -q "$pin" "$tmp/unpinned.err" || fail "refusal does not name the certificate: $(cat "$tmp/unpinned.err")"
[ ! -e "$tmp/unpinned/scan.pdf" ] || fail "unpinned HTTPS scan delivered a file"

echo "ok: 5-page feeder PDF, jam keeps 2 pages (exit 3), pinned HTTPS scans, unpinned refused"
