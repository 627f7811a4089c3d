# SPDX-License-Identifier: GPL-2.0-or-later
#
# HP walk-up scanning ("Scan to Computer" on the panel) for escl-sim: the LEDM
# resources an HP device serves next to its eSCL root, as recorded from real
# devices (node-hp-scan-to's protocol notes) and HP's LEDM schemas:
#
#   GET  /WalkupScanToComp/WalkupScanToCompCaps         (404 on "legacy")
#   GET  /WalkupScanToComp/WalkupScanToCompDestinations  list
#   POST /WalkupScanToComp/WalkupScanToCompDestinations  register → 201 + Location
#   GET  /WalkupScanToComp/WalkupScanToCompDestinations/<uuid>  settings chosen
#   DELETE …/<uuid>
#   GET  /WalkupScanToComp/WalkupScanToCompEvent         HostSelected → ScanRequested
#   GET  /EventMgmt/EventTable[?timeout=DECISECONDS]     long poll with If-None-Match
#
# ("legacy": the same under /WalkupScan/WalkupScanDestinations in the 2009
# schema, without the Caps and Event resources.) The control API drives the
# panel: a person picking a destination, a reboot, faults. See README.md.

import threading
import time
import uuid
import xml.etree.ElementTree as ET

NS_EV = "http://www.hp.com/schemas/imaging/con/ledm/events/2007/09/16"
NS_DD = "http://www.hp.com/schemas/imaging/con/dictionaries/1.0/"
NS_DD3 = "http://www.hp.com/schemas/imaging/con/dictionaries/2009/04/06"
NS_SCANTYPE = "http://www.hp.com/schemas/imaging/con/ledm/scantype/2008/03/17"

APIS = {
    "comp": dict(base="/WalkupScanToComp", list="WalkupScanToCompDestinations",
                 one="WalkupScanToCompDestination",
                 settings="WalkupScanToCompSettings",
                 ns="http://www.hp.com/schemas/imaging/con/ledm/walkupscan/2010/09/28",
                 type="wus:WalkupScanToCompDestination", absolute=False),
    "legacy": dict(base="/WalkupScan", list="WalkupScanDestinations",
                   one="WalkupScanDestination",
                   settings="WalkupScanSettings",
                   ns="http://www.hp.com/schemas/imaging/con/rest/walkupscan/2009/09/21",
                   type="hpCnxWalkupScanDestinations", absolute=True),
}
ACCEPTED_NS = {
    "comp": ("http://www.hp.com/schemas/imaging/con/ledm/walkupscan/2010/09/28",),
    "legacy": ("http://www.hp.com/schemas/imaging/con/rest/walkupscan/2009/09/21",
               "http://www.hp.com/schemas/imaging/con/cnx/walkupscan/2009/09/21"),
}
MAX_EVENTS = 32
MAX_DESTINATIONS = 15       # like WalkupScanToCompCaps MaxNetworkDestinations
MAX_POLL_DS = 3000          # longest long poll honoured (deciseconds)
SHORTCUTS = ("SavePDF", "SaveJPEG", "SaveDocument1", "SavePhoto1", "EmailPDF")
FAULTS = ("drop-poll", "no-etag", "etag-churn")


def esc(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


class WalkupError(ValueError):
    pass


class Walkup:
    """The walk-up side of one simulated HP device."""

    def __init__(self, api, start_delay_ms):
        self.api_name = api
        self.api = APIS[api]
        self.start_delay = start_delay_ms / 1000.0
        self.cond = threading.Condition()
        self.boot = 1
        self.reset()

    def reset(self):
        with self.cond:
            self.destinations = {}      # uuid -> dict
            self.order = []
            self.counter = 0
            self.events = []
            self.comp_event = "ScanPagesComplete"
            self.comp_since = 0.0
            self.faults = set()
            self.presses = 0
            self.polls = 0
            self.add_event("PowerUpEvent")
            self.cond.notify_all()

    # -- event table ------------------------------------------------------

    def add_event(self, category, payloads=()):
        """Append an event (caller holds cond); returns its aging stamp."""
        self.counter += 1
        stamp = "%d-%d" % (self.boot, self.counter)
        self.events.append({"category": category, "stamp": stamp,
                            "payloads": list(payloads)})
        del self.events[:-MAX_EVENTS]
        self.cond.notify_all()
        return stamp

    def etag(self):
        return self.events[-1]["stamp"] if self.events else "0-0"

    def table_xml(self):
        p = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<ev:EventTable xmlns:ev="%s" xmlns:dd="%s">' % (NS_EV, NS_DD),
             "<dd:Version><dd:Revision>SVN.3295</dd:Revision></dd:Version>"]
        for e in self.events:
            p.append("<ev:Event><dd:UnqualifiedEventCategory>%s"
                     "</dd:UnqualifiedEventCategory><dd:AgingStamp>%s"
                     "</dd:AgingStamp>" % (e["category"], e["stamp"]))
            for uri, rtype in e["payloads"]:
                p.append("<ev:Payload><dd:ResourceURI>%s</dd:ResourceURI>"
                         "<dd:ResourceType>%s</dd:ResourceType></ev:Payload>"
                         % (esc(uri), rtype))
            p.append("</ev:Event>")
        p.append("</ev:EventTable>")
        return "\n".join(p) + "\n"

    # -- destinations -----------------------------------------------------

    def dest_path(self, did):
        return "%s/%s/%s" % (self.api["base"], self.api["list"], did)

    def dest_uri(self, did, host):
        path = self.dest_path(did)
        return "http://%s%s" % (host, path) if self.api["absolute"] else path

    def dest_xml(self, did, d, host, wrap):
        a = self.api
        p = ["<wus:%s>" % a["one"],
             "<dd:ResourceURI>%s</dd:ResourceURI>" % esc(self.dest_uri(did, host)),
             "<dd:Name>%s</dd:Name>" % esc(d["name"]),
             "<dd3:Hostname>%s</dd3:Hostname>" % esc(d["hostname"]),
             "<wus:LinkType>Network</wus:LinkType>"]
        if d.get("shortcut"):
            p += ["<wus:%s>" % a["settings"], "<scantype:ScanSettings>",
                  "<dd:ScanPlexMode>%s</dd:ScanPlexMode>" % d["plex"],
                  "</scantype:ScanSettings>",
                  "<wus:Shortcut>%s</wus:Shortcut>" % d["shortcut"],
                  "</wus:%s>" % a["settings"]]
        p.append("</wus:%s>" % a["one"])
        root = a["list"] if wrap else a["one"]
        head = ('<?xml version="1.0" encoding="UTF-8"?>\n<wus:%s xmlns:wus="%s" '
                'xmlns:dd="%s" xmlns:dd3="%s" xmlns:scantype="%s">'
                % (root, a["ns"], NS_DD, NS_DD3, NS_SCANTYPE))
        if wrap:
            return head + "\n".join(p) + "</wus:%s>\n" % root
        # A single destination document: its children under the root.
        return head + "\n".join(p[1:-1]) + "</wus:%s>\n" % root

    def list_xml(self, host):
        a = self.api
        p = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<wus:%s xmlns:wus="%s" xmlns:dd="%s" xmlns:dd3="%s">'
             % (a["list"], a["ns"], NS_DD, NS_DD3)]
        for did in self.order:
            d = self.destinations[did]
            p.append("<wus:%s><dd:ResourceURI>%s</dd:ResourceURI>"
                     "<dd:Name>%s</dd:Name><dd3:Hostname>%s</dd3:Hostname>"
                     "<wus:LinkType>Network</wus:LinkType></wus:%s>"
                     % (a["one"], esc(self.dest_uri(did, host)),
                        esc(d["name"]), esc(d["hostname"]), a["one"]))
        p.append("</wus:%s>" % a["list"])
        return "\n".join(p) + "\n"

    def register(self, body):
        """Parse a POSTed destination; returns the new id or raises."""
        try:
            root = ET.fromstring(body)
        except ET.ParseError as e:
            raise WalkupError("malformed destination XML: %s" % e)
        ns, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") \
            else ("", "", root.tag)
        if local != self.api["one"] or ns not in ACCEPTED_NS[self.api_name]:
            raise WalkupError("expected %s in %s" % (self.api["one"],
                                                     self.api["ns"]))
        fields = {}
        for el in root:
            fields[el.tag.rpartition("}")[2]] = (el.text or "").strip()
        if not fields.get("Name") or not fields.get("Hostname"):
            raise WalkupError("destination without Name or Hostname")
        with self.cond:
            if len(self.order) >= MAX_DESTINATIONS:
                raise WalkupError("too many destinations")
            did = str(uuid.uuid4())
            self.destinations[did] = {"name": fields["Name"],
                                      "hostname": fields["Hostname"],
                                      "shortcut": None, "plex": "Simplex"}
            self.order.append(did)
            return did

    def remove(self, did):
        with self.cond:
            if did not in self.destinations:
                return False
            del self.destinations[did]
            self.order.remove(did)
            return True

    # -- the panel --------------------------------------------------------

    def press(self, req, host):
        """A person picks a destination and presses Start."""
        name = req.get("name")
        hostname = req.get("hostname")
        shortcut = req.get("shortcut", "SavePDF")
        plex = req.get("plex", "Simplex")
        if shortcut not in SHORTCUTS:
            raise WalkupError("unknown shortcut %r" % shortcut)
        if plex not in ("Simplex", "Duplex"):
            raise WalkupError("plex must be Simplex or Duplex")
        with self.cond:
            if req.get("id") is not None:
                ids = [i for i in self.order if i == req["id"]]
            else:
                ids = [i for i in self.order
                       if self.destinations[i]["name"] == name and
                       (hostname is None or
                        self.destinations[i]["hostname"] == hostname)]
            if not ids and not req.get("unknown"):
                raise WalkupError("no destination %r" % (req.get("id") or name))
            payloads = []
            if ids:
                did = ids[0]
                d = self.destinations[did]
                d["shortcut"], d["plex"] = shortcut, plex
                payloads.append((self.dest_uri(did, host), self.api["type"]))
            else:
                # An event for a destination nobody registered (another
                # computer's, long gone).
                payloads.append((self.dest_uri(str(uuid.uuid4()), host),
                                 self.api["type"]))
            if self.api_name == "comp":
                payloads.append(("%s/WalkupScanToCompEvent" % self.api["base"],
                                 "wus:WalkupScanToCompEvent"))
                self.comp_event = "HostSelected"
                self.comp_since = time.monotonic()
            self.presses += 1
            stamp = self.add_event("ScanEvent", payloads)
            return {"event": stamp, "destination": ids[0] if ids else None}

    def current_comp_event(self):
        with self.cond:
            if self.comp_event == "HostSelected" and \
                    time.monotonic() - self.comp_since >= self.start_delay:
                self.comp_event = "ScanRequested"
            return self.comp_event

    def scan_done(self):
        """Called when a scan job of the device ends: the panel is done."""
        with self.cond:
            if self.comp_event in ("HostSelected", "ScanRequested"):
                self.comp_event = "ScanPagesComplete"

    def reboot(self):
        """Power cycle: destinations and events are gone, stamps restart."""
        with self.cond:
            self.boot += 1
            self.destinations = {}
            self.order = []
            self.counter = 0
            self.events = []
            self.comp_event = "ScanPagesComplete"
            self.add_event("PowerUpEvent")

    def control(self, req, host):
        """Apply the "walkup" control object; raise WalkupError on bad input."""
        if not isinstance(req, dict):
            raise WalkupError("'walkup' must be an object")
        known = {"press", "reboot", "reset", "fault", "clear_fault", "event"}
        bad = set(req) - known
        if bad:
            raise WalkupError("unknown walkup key(s): %s" % ", ".join(sorted(bad)))
        out = {}
        if req.get("reset"):
            self.reset()
        if req.get("reboot"):
            self.reboot()
        if "fault" in req:
            if req["fault"] not in FAULTS:
                raise WalkupError("unknown walkup fault %r" % req["fault"])
            with self.cond:
                self.faults.add(req["fault"])
        if "clear_fault" in req:
            with self.cond:
                self.faults.discard(req["clear_fault"])
        if "event" in req:
            with self.cond:
                out["event"] = self.add_event(str(req["event"]))
        if "press" in req:
            if not isinstance(req["press"], dict):
                raise WalkupError("'press' must be an object")
            out.update(self.press(req["press"], host))
        return out

    def state_json(self, host):
        with self.cond:
            return {"api": self.api_name, "boot": self.boot,
                    "etag": self.etag(), "presses": self.presses,
                    "polls": self.polls, "comp_event": self.comp_event,
                    "faults": sorted(self.faults),
                    "destinations": [dict(self.destinations[i], id=i,
                                          uri=self.dest_uri(i, host))
                                     for i in self.order]}

    # -- HTTP -------------------------------------------------------------

    def handle(self, h, path, query, body):
        """Serve path if it is a walk-up resource; returns False otherwise."""
        a = self.api
        host = h.headers.get("Host") or "127.0.0.1"
        if path == "/EventMgmt/EventTable" and h.command == "GET":
            self.event_table(h, query)
            return True
        if self.api_name == "comp" and h.command == "GET":
            if path == "/WalkupScanToComp/WalkupScanToCompCaps":
                h.reply(200, CAPS_XML, "text/xml")
                return True
            if path == "/WalkupScanToComp/WalkupScanToCompEvent":
                word = self.current_comp_event()
                h.reply(200, EVENT_XML % word, "text/xml")
                return True
        lst = "%s/%s" % (a["base"], a["list"])
        if path == lst:
            if h.command == "GET":
                with self.cond:
                    xml = self.list_xml(host)
                h.reply(200, xml, "text/xml")
            elif h.command == "POST":
                try:
                    did = self.register(body)
                except WalkupError as e:
                    h.reply(400, "%s\n" % e, "text/plain")
                    return True
                loc = "http://%s%s" % (host, self.dest_path(did))
                h.reply(201, b"", None, {"Location": loc})
            else:
                h.reply(405, "method not allowed\n", "text/plain")
            return True
        if path.startswith(lst + "/"):
            did = path[len(lst) + 1:]
            if h.command == "DELETE":
                if self.remove(did):
                    h.reply(200)
                else:
                    h.reply(404, "no such destination\n", "text/plain")
                return True
            if h.command == "GET":
                with self.cond:
                    d = self.destinations.get(did)
                    xml = self.dest_xml(did, d, host, wrap=self.api_name ==
                                        "legacy") if d else None
                if xml is None:
                    h.reply(404, "no such destination\n", "text/plain")
                else:
                    h.reply(200, xml, "text/xml")
                return True
        return False

    def event_table(self, h, query):
        timeout = 0
        for part in query.split("&"):
            k, _, v = part.partition("=")
            if k == "timeout" and v.isdigit():
                timeout = min(int(v), MAX_POLL_DS)
        want = (h.headers.get("If-None-Match") or "").strip().strip('"')
        deadline = time.monotonic() + timeout / 10.0
        with self.cond:
            self.polls += 1
            drop = "drop-poll" in self.faults and want == self.etag()
            if drop:
                self.faults.discard("drop-poll")
            churn = "etag-churn" in self.faults
            while not drop and not churn and want and want == self.etag() and \
                    time.monotonic() < deadline and not h.sim.stop.is_set():
                self.cond.wait(min(0.5, max(0.0, deadline - time.monotonic())))
            changed = churn or not want or want != self.etag()
            xml = self.table_xml()
            # etag-churn: every poll answered at once, with an ETag never seen.
            etag = self.etag() + ("-%d" % self.polls if churn else "")
            no_etag = "no-etag" in self.faults
        if drop:
            # The device closes a long poll without an answer (as HP
            # firmware does when its web server restarts).
            h.close_connection = True
            return
        if not changed:
            h.reply(304, b"", None, {"ETag": '"%s"' % etag})
            return
        hdr = {} if no_etag else {"ETag": '"%s"' % etag}
        h.reply(200, xml, "text/xml", hdr)


CAPS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<wus:WalkupScanToCompCaps xmlns:wus="http://www.hp.com/schemas/imaging/con/ledm/walkupscan/2010/09/28" xmlns:dd="http://www.hp.com/schemas/imaging/con/dictionaries/1.0/">
<dd:Version><dd:Revision>SVN-IPG-LEDM.351</dd:Revision></dd:Version>
<wus:MaxNetworkDestinations>15</wus:MaxNetworkDestinations>
<wus:SupportsMultiItemScanFromPlaten>true</wus:SupportsMultiItemScanFromPlaten>
<wus:UserActionTimeout><dd:ValueFloat>60</dd:ValueFloat><dd:Unit>seconds</dd:Unit></wus:UserActionTimeout>
</wus:WalkupScanToCompCaps>
"""

EVENT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<wus:WalkupScanToCompEvent xmlns:wus="http://www.hp.com/schemas/imaging/con/ledm/walkupscan/2010/09/28">
<wus:WalkupScanToCompEventType>%s</wus:WalkupScanToCompEventType>
</wus:WalkupScanToCompEvent>
"""
