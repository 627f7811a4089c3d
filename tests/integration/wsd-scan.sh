#!/bin/bash
# `scand scan --device wsd:…` end to end against the WSD simulator
# (tests/wsd-sim): a multi-page feeder scan gives a valid PDF whose JPEG
# streams are the simulator's pages byte for byte; duplex, flatbed and the
# device's faults (jam mid-batch, empty feeder, cover open, busy, calibrating,
# a dropped connection, a reboot mid-batch, every multipart shape) end as
# with eSCL and SANE: the right exit status, the pages before kept, one line
# saying why; model quirks (RICOH, Canon, Kyocera, Lexmark) are honoured;
# HTTPS scans with the certificate pinned by `scand trust` and is refused
# without; IPv6 loopback works.
set -euo pipefail
. "$SCAND_SRCDIR/tests/lib/common.sh"

SIM=$SCAND_SRCDIR/tests/wsd-sim/wsd-sim.py
touch "$T/empty.conf"

# start_sim NAME ARGS…: a simulator saving its pages in $T/NAME.pages; sets $port, $base.
start_sim() {
  local name=$1
  shift
  mkdir -p "$T/$name.pages"
  /usr/bin/python3 "$SIM" --port-file "$T/$name.port" --page-dir "$T/$name.pages" --lifetime 600 "$@" \
    2>"$T/$name.err" &
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

ctl() { curl -skf -XPOST "$base/sim/control" -d "$1" >/dev/null || fail "control $1 refused"; }

# scan NAME EXPECTED_RC ARGS…: scans into $T/NAME/scan.pdf with its own spool;
# stderr in $T/NAME.err.
scan() {
  local name=$1 want=$2
  shift 2
  local rc=0
  "$SCAND" scan --config "$T/empty.conf" --spool "$T/$name.spool" --no-daemon -q \
    --device "wsd:$base/wsd/scan" --to "$T/$name" --name scan.pdf "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
  [ "$rc" = "$want" ] || { cat "$T/$name.err" >&2; fail "$name: exit $rc, expected $want"; }
}

# same_pages NAME SIMNAME JOB N: the PDF's N image streams are the simulator's
# pages of job JOB, byte for byte, in order.
same_pages() {
  local name=$1 sim=$2 job=$3 n=$4
  [ "$(pdf_pages "$T/$name/scan.pdf")" = "$n" ] || fail "$name: PDF does not have $n pages"
  mkdir -p "$T/$name.images"
  pdfimages -all "$T/$name/scan.pdf" "$T/$name.images/p"
  [ "$(count_files "$T/$name.images" -name '*.jpg')" = "$n" ] || fail "$name: not $n JPEG streams in the PDF"
  for i in $(seq "$n"); do
    cmp -s "$T/$name.images/p-$(printf %03d $((i - 1))).jpg" "$T/$sim.pages/job$job-page$i.jpg" ||
      fail "$name: page $i is not the device's JPEG byte for byte"
  done
}

# state EXPR: a python expression over the simulator's /sim/state as s.
state() {
  curl -sf "$base/sim/state" | /usr/bin/python3 -c "import json, sys; s = json.load(sys.stdin); print($1)"
}

# --- a 5-page feeder scan: the device's JPEGs, untouched ----------------------------
start_sim plain --adf-pages 5
scan feeder 0 --source feeder --mode gray --resolution 150
same_pages feeder plain 1 5
[ "$(state 's["jobs"][0]["color"], s["jobs"][0]["resolution"], s["jobs"][0]["source"]')" = "Grayscale8 150 ADF" ] ||
  fail "the ticket was not ADF/Grayscale8/150: $(state 's["jobs"][0]')"
[ "$(state 's["jobs"][0]["images_to_transfer"]')" = 0 ] || fail "feeder ticket did not ask for the whole feeder"

# --- duplex colour, flatbed, a page limit --------------------------------------------
ctl '{"adf_pages": 2}'
scan duplex 0 --source feeder --duplex --mode color --resolution 75
same_pages duplex plain 2 4
scan flatbed 0 --source flatbed --resolution 75
same_pages flatbed plain 3 1
ctl '{"adf_pages": 5}'
scan limit 0 --source feeder --resolution 75 --pages 2
same_pages limit plain 4 2
[ "$(state 's["jobs"][3]["state"]')" = Canceled ] || fail "a job cut short by --pages was not cancelled on the device"

# A scan started at the panel carries the event's ScanIdentifier and the
# subscription's DestinationToken (walk-up): the device takes it once, and
# refuses a wrong token.
ctl '{"adf_pages": 1}'
token=$(/usr/bin/python3 - "$base/wsd/scan" <<'EOF'
import sys, urllib.request, xml.etree.ElementTree as ET
url = sys.argv[1]
body = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" '
        'xmlns:w="http://schemas.microsoft.com/windows/2006/08/wdp/scan"><s:Header>'
        '<a:Action>http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe</a:Action>'
        '<a:MessageID>urn:uuid:1</a:MessageID></s:Header><s:Body><e:Subscribe><e:Delivery>'
        '<e:NotifyTo><a:Address>http://127.0.0.1:9/</a:Address></e:NotifyTo></e:Delivery>'
        '<e:Filter Dialect="http://schemas.xmlsoap.org/ws/2006/02/devprof/Action">'
        'http://schemas.microsoft.com/windows/2006/08/wdp/scan/ScanAvailableEvent</e:Filter>'
        '<w:ScanDestinations><w:ScanDestination><w:ClientDisplayName>Desk</w:ClientDisplayName>'
        '<w:ClientContext>desk</w:ClientContext></w:ScanDestination></w:ScanDestinations>'
        '</e:Subscribe></s:Body></s:Envelope>').encode()
r = urllib.request.urlopen(urllib.request.Request(
    url, data=body, headers={"Content-Type": "application/soap+xml"}), timeout=10)
tok = [e.text for e in ET.fromstring(r.read()).iter() if e.tag.endswith("}DestinationToken")]
print(tok[0])
EOF
)
press() {
  curl -sf -XPOST "$base/sim/control" -d '{"eventing": {"press": {"name": "Desk"}}}' |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["eventing_reply"]["scan_identifier"])'
}
scan_id=$(press)
scan walkup-wrong 1 --source feeder --resolution 75 --option "wsd-scan-identifier=$scan_id" \
  --option 'wsd-destination-token=not&it'
assert_contains "$T/walkup-wrong.err" "ClientErrorInvalidDestinationToken"
scan_id=$(press)
scan walkup 0 --source feeder --resolution 75 --option "wsd-scan-identifier=$scan_id" \
  --option "wsd-destination-token=$token"
[ "$(curl -sf "$base/sim/log" | /usr/bin/python3 -c '
import json, sys
e = [e for e in json.load(sys.stdin) if e.get("action") == "CreateScanJob"][-1]
print(e["scan_identifier"], e["destination_token"], e["status"])')" = "$scan_id $token 200" ] ||
  fail "walk-up identifiers did not reach CreateScanJob"

# --- faults --------------------------------------------------------------------------
ctl '{"reset": true, "adf_pages": 5, "fault": "jam-after=2"}'
scan jam 3 --source feeder --resolution 75
assert_contains "$T/jam.err" "paper jam in the document feeder at page 3 (2 pages received and kept)"
same_pages jam plain 1 2

ctl '{"reset": true, "fault": "empty"}'
scan empty 1 --source feeder --resolution 75
assert_contains "$T/empty.err" "the feeder gave no page (is it empty?)"
[ ! -e "$T/empty/scan.pdf" ] || fail "an empty feeder delivered a file"

ctl '{"reset": true, "fault": "cover-open"}'
scan cover 1 --source flatbed --resolution 75
assert_contains "$T/cover.err" "cannot scan: the cover is open"
"$SCAND" status "wsd:$base/wsd/scan" >"$T/status" 2>&1 || fail "scand status failed: $(cat "$T/status")"
assert_contains "$T/status" "State:   stopped (Stopped)"
assert_contains "$T/status" "Reasons: CoverOpen"
assert_contains "$T/status" "Problem: the cover is open"
assert_contains "$T/status" "Name:    wsd-sim Generic MFP"

ctl '{"reset": true, "fault": "busy"}'
scan busy 1 --source flatbed --resolution 75
assert_contains "$T/busy.err" "the scanner does not accept a job now (ServerErrorNotAcceptingJobs"

ctl '{"reset": true, "fault": "calibrating=1500"}'
scan calibrating 0 --source flatbed --resolution 75
same_pages calibrating plain 1 1

# A connection dropped in the middle of page 2: asked again, nothing lost.
ctl '{"reset": true, "adf_pages": 3, "fault": "drop=2"}'
scan drop 0 --source feeder --resolution 75
same_pages drop plain 1 3

# A device that is not ready (ServerErrorTemporaryError) is asked again.
ctl '{"reset": true, "adf_pages": 2, "fault": "temporary=3"}'
scan temporary 0 --source feeder --resolution 75
same_pages temporary plain 1 2

# The device reboots after page 2: the 2 pages are delivered, exit 3.
ctl '{"reset": true, "adf_pages": 4, "fault": "reboot-after=2"}'
scan reboot 3 --source feeder --resolution 75
assert_contains "$T/reboot.err" "no longer knows job 1 at page 3 (did it restart?)"
same_pages reboot plain 1 2

# Multipart shapes devices send: all read byte for byte.
job=0
for kind in chunked no-crlf base64 image-first; do
  ctl "{\"reset\": true, \"adf_pages\": 2, \"fault\": \"mime=$kind\"}"
  scan "mime-$kind" 0 --source feeder --resolution 75
  same_pages "mime-$kind" plain 1 2
done
# Broken ones end the job with one line and nothing half-written.
for kind in no-boundary no-image-part truncated; do
  ctl "{\"reset\": true, \"adf_pages\": 2, \"fault\": \"mime=$kind\"}"
  scan "mime-$kind" 1 --source feeder --resolution 75
  [ "$(wc -l <"$T/mime-$kind.err")" = 1 ] || fail "mime=$kind: not one line: $(cat "$T/mime-$kind.err")"
  [ "$(find "$T/mime-$kind.spool" -name 'page-*' | wc -l)" = 0 ] || fail "mime=$kind: a broken page was kept"
done

# A device that answers slowly is waited for; one that sends an endless page
# is cut off at the page size limit.
ctl '{"reset": true, "adf_pages": 2, "fault": "slow=1500"}'
scan slow 0 --source feeder --resolution 75
same_pages slow plain 1 2
ctl '{"reset": true, "adf_pages": 2, "fault": "mime=endless"}'
printf '[scanner endless]\ndevice = wsd:%s/wsd/scan\nmax-page-bytes = 4M\n' "$base" >"$T/endless.conf"
rc=0
"$SCAND" scan --config "$T/endless.conf" --spool "$T/endless.spool" --no-daemon -q --device endless \
  --source feeder --resolution 75 --to "$T/endless" --name scan.pdf >/dev/null 2>"$T/endless.err" || rc=$?
[ "$rc" = 1 ] || fail "endless page: exit $rc: $(cat "$T/endless.err")"
assert_contains "$T/endless.err" "page 1 is larger than max-page-bytes = 4194304 bytes"

# --- quirks as data --------------------------------------------------------------------
start_sim ricoh --model ricoh-mp201 --adf-pages 3
scan ricoh 0 --source feeder --resolution 75
same_pages ricoh ricoh 1 3
[ "$(state 's["jobs"][0]["images_to_transfer"]')" = 100 ] || fail "ricoh: ImagesToTransfer was not 100"
ctl '{"adf_pages": 0}'
scan ricoh-empty 1 --source feeder --resolution 75
assert_contains "$T/ricoh-empty.err" "the feeder gave no page"

start_sim canon --model canon-mf410 --adf-pages 0
scan canon-empty 1 --source feeder --resolution 75
assert_contains "$T/canon-empty.err" "it is empty (ServerErrorNotAcceptingJobs"

start_sim kyocera --model kyocera --fault busy
scan kyocera-busy 1 --source flatbed --resolution 75
assert_contains "$T/kyocera-busy.err" "choose WSD Scan"

start_sim tr7500 --model canon-tr7500 --adf-pages 1
scan tr7500 0 --source feeder --resolution 75
same_pages tr7500 tr7500 1 1

start_sim lexmark --model lexmark --adf-pages 2 --fault jam-after=1
scan lexmark 3 --source feeder --resolution 75
assert_contains "$T/lexmark.err" "paper jam"
same_pages lexmark lexmark 1 1

start_sim brother --model brother-9340 --adf-pages 1
scan brother 0 --source feeder --duplex --resolution 75
same_pages brother brother 1 2

start_sim simplex --model simplex --adf-pages 1
scan simplex-duplex 1 --source feeder --duplex --resolution 75
assert_contains "$T/simplex-duplex.err" "cannot scan both sides"

# --- HTTPS: pinned by scand trust, refused without ---------------------------------------
start_sim tls --tls --cert-out "$T/cert.pem" --adf-pages 2
base=https://127.0.0.1:$port
pin="sha256:$(openssl x509 -in "$T/cert.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')"
scan unpinned 1 --source feeder --resolution 75
assert_contains "$T/unpinned.err" "$pin"
[ ! -e "$T/unpinned/scan.pdf" ] || fail "unpinned HTTPS scan delivered a file"
"$SCAND" trust "wsd:$base/wsd/scan" --yes --config "$T/pinned.conf" >"$T/trust.out" 2>&1 ||
  { cat "$T/trust.out" >&2; fail "scand trust failed"; }
grep -qE "^tls-pin *= *$pin\$" "$T/pinned.conf" || fail "no tls-pin written: $(cat "$T/pinned.conf")"
grep -qF "wsd:$base/wsd/scan" "$T/pinned.conf" || fail "no device written: $(cat "$T/pinned.conf")"
section=$(sed -n 's/^\[scanner \(.*\)\]$/\1/p' "$T/pinned.conf")
"$SCAND" scan --config "$T/pinned.conf" --spool "$T/pinned.spool" --no-daemon -q --device "$section" \
  --source feeder --resolution 75 --to "$T/pinned" --name scan.pdf >"$T/pinned.out" 2>"$T/pinned.err" ||
  { cat "$T/pinned.err" >&2; fail "pinned HTTPS scan failed"; }
same_pages pinned tls 1 2

# --- IPv6 loopback --------------------------------------------------------------------
start_sim v6 --ipv6 --adf-pages 1
base=http://[::1]:$port
scan v6 0 --source feeder --resolution 75
same_pages v6 v6 1 1

echo "wsd-scan: all checks passed"
