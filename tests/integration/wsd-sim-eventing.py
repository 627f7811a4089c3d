#!/usr/bin/python3
# The WSD simulator's WS-Eventing side (walk-up), driven by a client written
# here from the WS-Eventing 2004/08 and WS-Scan message shapes: Subscribe with
# two panel destinations → SubscriptionManager, Identifier, Expires and a
# DestinationToken per destination; a "press" on the panel → ScanAvailableEvent
# posted to the client's NotifyTo with the subscription's Identifier and the
# destination's ClientContext; CreateScanJob carrying the event's
# ScanIdentifier and the DestinationToken is accepted once, a wrong token or a
# replayed identifier refused; Renew, GetStatus, a refused and a dropped
# Renew, expiry with SubscriptionEnd, SubscriptionEnd on shutdown, a reboot
# forgetting every subscription, an event for a context nobody registered,
# Unsubscribe. Everything on loopback.
import http.client
import http.server
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

SRC = os.environ["SCAND_SRCDIR"]
SIM = os.path.join(SRC, "tests", "wsd-sim", "wsd-sim.py")
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "e": "http://schemas.xmlsoap.org/ws/2004/08/eventing",
    "w": "http://schemas.microsoft.com/windows/2006/08/wdp/scan",
}
EV = NS["e"]
SCAN = NS["w"]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


class Sink(http.server.BaseHTTPRequestHandler):
    """The client's NotifyTo/EndTo endpoint: every POST goes to a queue."""
    got = queue.Queue()

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.got.put((self.path, self.rfile.read(n)))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def envelope(action, body, to, header=""):
    return ('<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="%s" '
            'xmlns:a="%s" xmlns:e="%s" xmlns:w="%s"><s:Header><a:To>%s</a:To>'
            '<a:Action>%s</a:Action><a:MessageID>urn:uuid:%s</a:MessageID>%s'
            '</s:Header><s:Body>%s</s:Body></s:Envelope>'
            % (NS["s"], NS["a"], NS["e"], NS["w"], to, action,
               os.urandom(8).hex(), header, body)).encode()


def post(url, action, body, header=""):
    req = urllib.request.Request(url, data=envelope(action, body, url, header),
                                 headers={"Content-Type": "application/soap+xml"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, ET.fromstring(r.read())
    except urllib.error.HTTPError as e:
        return e.code, ET.fromstring(e.read())


def find(root, path):
    return root.find(path, NS)


def subcode(root):
    v = find(root, "s:Body/s:Fault/s:Code/s:Subcode/s:Value")
    return v.text.partition(":")[2] if v is not None else None


def event(timeout=10):
    try:
        path, data = Sink.got.get(timeout=timeout)
    except queue.Empty:
        fail("no event arrived")
    return path, ET.fromstring(data)


def main():
    tmp = tempfile.mkdtemp()
    procs = []
    try:
        run(tmp, procs)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("wsd-sim-eventing: all checks passed")


def start_sim(tmp, procs, *args):
    port_file = os.path.join(tmp, "port%d" % len(procs))
    procs.append(subprocess.Popen(
        ["/usr/bin/python3", SIM, "--port-file", port_file, "--lifetime", "300"]
        + list(args), stderr=open(os.path.join(tmp, "sim.err"), "w")))
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            break
        time.sleep(0.05)
    else:
        fail("simulator did not start")
    return "http://127.0.0.1:%s" % open(port_file).read().strip()


def run(tmp, procs):
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    notify = "http://127.0.0.1:%d/events" % sink.server_address[1]
    end_to = "http://127.0.0.1:%d/ended" % sink.server_address[1]
    base = start_sim(tmp, procs, "--adf-pages", "3", "--subscription-max", "600")
    svc = base + "/wsd/scan"

    def ctl(obj):
        req = urllib.request.Request(base + "/sim/control",
                                     data=json.dumps(obj).encode())
        with urllib.request.urlopen(req, timeout=20) as r:
            return json.load(r)

    def ev_ctl(obj):
        """The simulator's walk-up control (README: "Walk-up")."""
        return ctl({"eventing": obj}).get("eventing_reply")

    def subscribe(expires="PT3600S", dests=(("Finance", "ctx-fin"),
                                           ("Anna", "ctx-anna"))):
        body = ('<e:Subscribe><e:EndTo><a:Address>%s</a:Address></e:EndTo>'
                '<e:Delivery Mode="%s/DeliveryModes/Push"><e:NotifyTo>'
                '<a:Address>%s</a:Address></e:NotifyTo></e:Delivery>'
                '<e:Expires>%s</e:Expires><e:Filter Dialect="http://schemas.'
                'xmlsoap.org/ws/2006/02/devprof/Action">%s/ScanAvailableEvent'
                '</e:Filter><w:ScanDestinations>%s</w:ScanDestinations>'
                '</e:Subscribe>'
                % (end_to, EV, notify, expires, SCAN, "".join(
                    "<w:ScanDestination><w:ClientDisplayName>%s"
                    "</w:ClientDisplayName><w:ClientContext>%s"
                    "</w:ClientContext></w:ScanDestination>" % d
                    for d in dests)))
        return post(svc, EV + "/Subscribe", body)

    def ident_header(ident):
        return "<e:Identifier>%s</e:Identifier>" % ident

    # --- Subscribe -----------------------------------------------------------
    st, r = subscribe()
    resp = find(r, "s:Body/e:SubscribeResponse")
    if st != 200 or resp is None:
        fail("Subscribe: HTTP %d" % st)
    manager = find(resp, "e:SubscriptionManager/a:Address").text
    ident = find(resp, "e:SubscriptionManager/a:ReferenceParameters/"
                       "e:Identifier").text
    if manager != svc or not ident.startswith("urn:uuid:"):
        fail("Subscribe: manager %s identifier %s" % (manager, ident))
    if find(resp, "e:Expires").text != "PT600S":
        fail("Expires not capped at --subscription-max: %s"
             % find(resp, "e:Expires").text)
    tokens = {find(d, "w:ClientContext").text: find(d, "w:DestinationToken").text
              for d in resp.findall("w:DestinationResponses/"
                                    "w:DestinationResponse", NS)}
    if sorted(tokens) != ["ctx-anna", "ctx-fin"] or len(set(tokens.values())) != 2:
        fail("DestinationResponses: %s" % tokens)

    # --- a press on the panel: the event, then the job it allows -------------
    pressed = ev_ctl({"press": {"name": "Finance"}})
    path, ev = event()
    if path != "/events":
        fail("the event went to %s, not NotifyTo" % path)
    if find(ev, "s:Header/a:Action").text != SCAN + "/ScanAvailableEvent":
        fail("event action %s" % find(ev, "s:Header/a:Action").text)
    if find(ev, "s:Header/e:Identifier").text != ident:
        fail("the event does not carry the subscription's Identifier")
    body = find(ev, "s:Body/w:ScanAvailableEvent")
    if find(body, "w:ClientContext").text != "ctx-fin" or \
            find(body, "w:ScanIdentifier").text != pressed["scan_identifier"]:
        fail("event body: %s" % ET.tostring(body))
    scan_id = pressed["scan_identifier"]

    def create(scan_identifier, token):
        return post(svc, SCAN + "/CreateScanJob",
                    "<w:CreateScanJobRequest><w:ScanIdentifier>%s"
                    "</w:ScanIdentifier><w:DestinationToken>%s"
                    "</w:DestinationToken><w:ScanTicket><w:JobDescription>"
                    "<w:JobName>panel</w:JobName></w:JobDescription>"
                    "<w:DocumentParameters><w:Format>jfif</w:Format>"
                    "<w:ImagesToTransfer>0</w:ImagesToTransfer><w:InputSource>"
                    "ADF</w:InputSource><w:MediaSides><w:MediaFront>"
                    "<w:ColorProcessing>Grayscale8</w:ColorProcessing>"
                    "<w:Resolution><w:Width>75</w:Width><w:Height>75"
                    "</w:Height></w:Resolution></w:MediaFront></w:MediaSides>"
                    "</w:DocumentParameters></w:ScanTicket>"
                    "</w:CreateScanJobRequest>" % (scan_identifier, token))

    st, r = create(scan_id, tokens["ctx-anna"])
    if subcode(r) != "ClientErrorInvalidDestinationToken":
        fail("a wrong DestinationToken was not refused: %d %s" % (st, subcode(r)))
    pressed = ev_ctl({"press": {"name": "Finance"}})
    event()
    st, r = create(pressed["scan_identifier"], tokens["ctx-fin"])
    if st != 200 or find(r, "s:Body/w:CreateScanJobResponse/w:JobId") is None:
        fail("CreateScanJob for the panel scan refused: %d %s" % (st, subcode(r)))
    st, r = create(pressed["scan_identifier"], tokens["ctx-fin"])
    if subcode(r) != "ClientErrorInvalidScanIdentifier":
        fail("a ScanIdentifier was accepted twice")

    # --- Renew, GetStatus, a refused and a dropped Renew ---------------------
    st, r = post(manager, EV + "/Renew",
                 "<e:Renew><e:Expires>PT120S</e:Expires></e:Renew>",
                 ident_header(ident))
    if st != 200 or find(r, "s:Body/e:RenewResponse/e:Expires").text != "PT120S":
        fail("Renew: %d" % st)
    st, r = post(manager, EV + "/GetStatus", "<e:GetStatus/>", ident_header(ident))
    left = find(r, "s:Body/e:GetStatusResponse/e:Expires").text
    if not re.fullmatch(r"PT1[01][0-9]S|PT120S", left):
        fail("GetStatus after Renew PT120S says %s" % left)
    ev_ctl({"fault": "refuse-renew=1"})
    st, r = post(manager, EV + "/Renew", "<e:Renew/>", ident_header(ident))
    if subcode(r) != "UnableToRenew":
        fail("refuse-renew: %d %s" % (st, subcode(r)))
    ev_ctl({"fault": "drop-renew"})
    try:
        post(manager, EV + "/Renew", "<e:Renew/>", ident_header(ident))
        fail("drop-renew: the Renew was answered")
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException,
            socket.timeout):
        pass
    ev_ctl({"clear_fault": "drop-renew"})
    st, r = post(manager, EV + "/Renew", "<e:Renew/>", ident_header("urn:uuid:x"))
    if subcode(r) != "UnableToRenew":
        fail("Renew of an unknown subscription: %s" % subcode(r))

    # --- an event for a context nobody registered ----------------------------
    ev_ctl({"press": {"context": "ctx-nobody"}})
    _, ev = event()
    if find(ev, "s:Body/w:ScanAvailableEvent/w:ClientContext").text != "ctx-nobody":
        fail("the unknown-context event was not sent as asked")

    # --- expiry with SubscriptionEnd -------------------------------------------
    ev_ctl({"fault": "end-on-expiry"})
    st, r = subscribe(expires="PT1S", dests=(("Short", "ctx-short"),))
    short = find(r, "s:Body/e:SubscribeResponse/e:SubscriptionManager/"
                    "a:ReferenceParameters/e:Identifier").text
    time.sleep(1.5)
    state = json.load(urllib.request.urlopen(base + "/sim/state", timeout=10))
    if any(x["id"] == short for x in state["eventing"]["subscriptions"]):
        fail("an expired subscription is still listed")
    path, ev = event()
    if path != "/ended" or find(ev, "s:Header/a:Action").text != EV + "/SubscriptionEnd" \
            or find(ev, "s:Body/e:SubscriptionEnd/e:Status").text != "wse:SourceCancelling":
        fail("expiry: no SubscriptionEnd to EndTo (%s)" % path)

    # --- shutdown: SubscriptionEnd; a reboot forgets every subscription ---------
    st, r = subscribe(dests=(("Late", "ctx-late"),))
    ev_ctl({"end": True})
    path, ev = event()
    if find(ev, "s:Body/e:SubscriptionEnd/e:Status").text != "wse:SourceShuttingDown":
        fail("end_subscriptions: status %s"
             % find(ev, "s:Body/e:SubscriptionEnd/e:Status").text)
    st, r = subscribe()
    again = find(r, "s:Body/e:SubscribeResponse/e:SubscriptionManager/"
                    "a:ReferenceParameters/e:Identifier").text
    ctl({"reboot": True})
    st, r = post(manager, EV + "/Renew", "<e:Renew/>", ident_header(again))
    if subcode(r) != "UnableToRenew":
        fail("a subscription survived the reboot")

    # --- Unsubscribe --------------------------------------------------------------
    st, r = subscribe()
    gone = find(r, "s:Body/e:SubscribeResponse/e:SubscriptionManager/"
                   "a:ReferenceParameters/e:Identifier").text
    st, r = post(manager, EV + "/Unsubscribe", "<e:Unsubscribe/>", ident_header(gone))
    # WS-Eventing: the response has its action and an empty body.
    if st != 200 or find(r, "s:Header/a:Action").text != EV + "/UnsubscribeResponse":
        fail("Unsubscribe: %d" % st)
    st, r = post(manager, EV + "/GetStatus", "<e:GetStatus/>", ident_header(gone))
    if subcode(r) != "InvalidMessage":
        fail("an unsubscribed subscription still answers GetStatus")


if __name__ == "__main__":
    main()
