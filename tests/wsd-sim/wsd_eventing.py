# SPDX-License-Identifier: GPL-2.0-or-later
#
# WS-Scan walk-up for wsd-sim: the WS-Eventing side of the scanner service.
# A client Subscribes to ScanAvailableEvent with ScanDestinations (a
# ClientDisplayName and a ClientContext each); the device answers a
# SubscriptionManager (its address and an Identifier), Expires and a
# DestinationToken per destination, lists the names on its panel, and when a
# person picks one, POSTs a ScanAvailableEvent (ClientContext, ScanIdentifier)
# to the subscription's NotifyTo. Renew, GetStatus and Unsubscribe address the
# subscription by its Identifier header. Shapes follow Microsoft's WSD Scan
# Service documentation and WS-Eventing 2004/08. See README.md ("Walk-up").
#
# The simulator hooks this in with three calls: actions() adds the operations
# to its action table, check_create() vets a CreateScanJob that carries a
# ScanIdentifier, reboot() forgets every subscription.

import threading
import time
import uuid
from xml.sax.saxutils import escape

WSE = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
SCAN_EVENT = "http://schemas.microsoft.com/windows/2006/08/wdp/scan/ScanAvailableEvent"
FILTER_DIALECT = "http://schemas.xmlsoap.org/ws/2006/02/devprof/Action"
MAX_SUBSCRIPTIONS = 16
MAX_DESTINATIONS = 32
FAULTS = ("drop-renew", "refuse-renew", "refuse-subscribe", "no-expires",
          "expires-as-time", "end-on-expiry", "hang-subscribe")
HANG_S = 30     # how long a hang-subscribe Subscribe waits before its answer


def _el(name, value):
    return "<%s>%s</%s>" % (name, escape(str(value)), name)


def parse_duration(text):
    """Seconds of an xs:duration like PT3600S / PT1H / P0Y0M0DT1H0M0S."""
    import re
    m = re.fullmatch(r"\s*P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
                     r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?\s*",
                     text or "")
    if not m or not any(m.groups()):
        return None
    y, mo, d, h, mi, s = (float(g) if g else 0 for g in m.groups())
    return int(((y * 365 + mo * 30 + d) * 24 + h) * 3600 + mi * 60 + s)


class Eventing:
    """Subscriptions of one simulated device; guarded by its own lock."""

    def __init__(self, sim, api, max_lifetime):
        self.sim = sim
        self.api = api          # the simulator's helpers (see actions())
        self.max_lifetime = max_lifetime
        self.lock = threading.RLock()
        self.reset()
        threading.Thread(target=self._reaper, daemon=True).start()

    def reset(self):
        with self.lock:
            self.subs = {}      # identifier -> dict
            self.order = []
            self.pending = {}   # ScanIdentifier -> (identifier, token)
            self.faults = {}    # name -> count left (None = until cleared)
            self.presses = []   # what press() did, newest last
            # A CreateScanJob with a ScanIdentifier must carry the token of
            # that pick's destination, once ("strict": false takes any).
            self.strict = True

    # -- helpers ----------------------------------------------------------

    def _fault_left(self, name):
        """Uses one count of a fault; True while it is armed."""
        if name not in self.faults:
            return False
        left = self.faults[name]
        if left is not None:
            left -= 1
            if left <= 0:
                del self.faults[name]
            else:
                self.faults[name] = left
        return True

    def _expired(self, sub, now=None):
        now = now or time.monotonic()
        return sub["expires"] is not None and now >= sub["expires"]

    def _sweep(self):
        """Drops lapsed subscriptions: silently, as most devices do, or with a
        SubscriptionEnd (wse:SourceCancelling) under the end-on-expiry fault.
        Call with the lock held."""
        now = time.monotonic()
        for sid in [s for s in self.order if self._expired(self.subs[s], now)]:
            sub = self.subs.pop(sid)
            self.order.remove(sid)
            if "end-on-expiry" in self.faults:
                threading.Thread(target=self._send_end,
                                 args=(sub, "wse:SourceCancelling", "expired"),
                                 daemon=True).start()

    def _reaper(self):
        """Lapses subscriptions on time, as a device does by itself."""
        while not self.sim.stop.wait(0.25):
            with self.lock:
                self._sweep()

    def _identifier(self, req):
        h = req.header
        return self.api.text(h, "Identifier") if h is not None else None

    def _expires_xml(self, sub):
        if sub["expires"] is None or "no-expires" in self.faults:
            return ""
        left = max(0, int(round(sub["expires"] - time.monotonic())))
        if "expires-as-time" in self.faults:
            t = time.gmtime(time.time() + left)
            return _el("wse:Expires", time.strftime("%Y-%m-%dT%H:%M:%SZ", t))
        return _el("wse:Expires", "PT%dS" % left)

    def _manager_xml(self, sub):
        return ("<wse:SubscriptionManager>%s<wsa:ReferenceParameters>%s"
                "</wsa:ReferenceParameters></wse:SubscriptionManager>"
                % (_el("wsa:Address", sub["manager"]),
                   _el("wse:Identifier", sub["id"])))

    def _lifetime(self, requested):
        if requested is None:
            return self.max_lifetime
        return max(1, min(requested, self.max_lifetime))

    # -- operations ---------------------------------------------------------

    def op_subscribe(self, sim, req):
        a = self.api
        op = req.op
        with self.lock:
            hang = self._fault_left("hang-subscribe")
        if hang:
            # A device slow to answer: the client must not wait on it to stop.
            sim.stop.wait(HANG_S)
        notify = a.text(op, "Delivery", "NotifyTo", "Address")
        end_to = a.text(op, "EndTo", "Address")
        filt = a.text(op, "Filter")
        if not notify or not filt or SCAN_EVENT not in filt.split():
            return a.fault_reply(sim, "wse:EventSourceUnableToProcess",
                                 "only ScanAvailableEvent with a NotifyTo")
        dests = []
        container = a.find(op, "ScanDestinations")
        for d in (container if container is not None else []):
            if a.local(d.tag) != "ScanDestination":
                continue
            name = a.text(d, "ClientDisplayName")
            context = a.text(d, "ClientContext")
            if not name or not context:
                return a.fault_reply(sim, "wscn:InvalidArgs",
                                     "ScanDestination without name or context")
            dests.append({"name": name, "context": context,
                          "token": "dest-" + uuid.uuid4().hex[:16]})
        if not dests or len(dests) > MAX_DESTINATIONS:
            return a.fault_reply(sim, "wscn:InvalidArgs",
                                 "ScanDestinations: 1 to %d destinations"
                                 % MAX_DESTINATIONS)
        requested = parse_duration(a.text(op, "Expires"))
        with self.lock:
            if self._fault_left("refuse-subscribe"):
                return a.fault_reply(sim, "wse:EventSourceUnableToProcess",
                                     "refused (fault)", sender=False)
            self._sweep()
            if len(self.order) >= MAX_SUBSCRIPTIONS:
                return a.fault_reply(sim, "wse:EventSourceUnableToProcess",
                                     "too many subscriptions", sender=False)
            sid = "urn:uuid:%s" % uuid.uuid4()
            sub = {"id": sid, "notify": notify, "end_to": end_to,
                   "destinations": dests, "manager": req.to or "",
                   "lifetime": self._lifetime(requested),
                   "created": time.time(), "renewals": 0}
            sub["expires"] = time.monotonic() + sub["lifetime"]
            self.subs[sid] = sub
            self.order.append(sid)
            body = ("<wse:SubscribeResponse>%s%s<wscn:DestinationResponses>%s"
                    "</wscn:DestinationResponses></wse:SubscribeResponse>"
                    % (self._manager_xml(sub), self._expires_xml(sub),
                       "".join("<wscn:DestinationResponse>%s%s"
                               "</wscn:DestinationResponse>"
                               % (_el("wscn:ClientContext", d["context"]),
                                  _el("wscn:DestinationToken", d["token"]))
                               for d in dests)))
        return a.Reply(WSE + "/SubscribeResponse", body,
                       log={"subscription": sid,
                            "destinations": [d["name"] for d in dests]})

    def _unknown(self, sim, sid, subcode="wse:InvalidMessage"):
        return self.api.fault_reply(sim, subcode, "no subscription %s" % sid)

    def op_renew(self, sim, req):
        sid = self._identifier(req)
        requested = parse_duration(self.api.text(req.op, "Expires"))
        with self.lock:
            if self._fault_left("drop-renew"):
                r = self.api.Reply(WSE + "/RenewResponse", "")
                r.drop = True
                r.log = {"subscription": sid, "fault_note": "drop-renew"}
                return r
            if self._fault_left("refuse-renew"):
                return self.api.fault_reply(sim, "wse:UnableToRenew",
                                            "refused (fault)")
            self._sweep()
            sub = self.subs.get(sid)
            if not sub:
                return self._unknown(sim, sid, "wse:UnableToRenew")
            sub["lifetime"] = self._lifetime(requested)
            sub["expires"] = time.monotonic() + sub["lifetime"]
            sub["renewals"] += 1
            body = "<wse:RenewResponse>%s</wse:RenewResponse>" % \
                self._expires_xml(sub)
        return self.api.Reply(WSE + "/RenewResponse", body,
                              log={"subscription": sid})

    def op_get_status(self, sim, req):
        sid = self._identifier(req)
        with self.lock:
            self._sweep()
            sub = self.subs.get(sid)
            if not sub:
                return self._unknown(sim, sid)
            body = "<wse:GetStatusResponse>%s</wse:GetStatusResponse>" % \
                self._expires_xml(sub)
        return self.api.Reply(WSE + "/GetStatusResponse", body,
                              log={"subscription": sid})

    def op_unsubscribe(self, sim, req):
        sid = self._identifier(req)
        with self.lock:
            sub = self.subs.pop(sid, None)
            if not sub:
                return self._unknown(sim, sid)
            self.order.remove(sid)
        return self.api.Reply(WSE + "/UnsubscribeResponse", "",
                              log={"subscription": sid})

    def check_create(self, sim, req):
        """A CreateScanJob with a ScanIdentifier must carry the token of the
        destination that event was for; returns a fault Reply or None."""
        scan_id = self.api.text(req.op, "ScanIdentifier")
        token = self.api.text(req.op, "DestinationToken")
        if not self.strict or (scan_id is None and token is None):
            return None
        with self.lock:
            want = self.pending.pop(scan_id, None)
        if not want:
            return self.api.fault_reply(
                sim, "wscn:ClientErrorInvalidScanIdentifier",
                "no scan %s is waiting" % scan_id)
        if want[1] != token:
            return self.api.fault_reply(
                sim, "wscn:ClientErrorInvalidDestinationToken",
                "DestinationToken %s is not the one given for the "
                "destination of scan %s" % (token, scan_id))
        return None

    # -- the panel, driven by the control API ---------------------------------

    def press(self, req):
        """A person picks a destination name (or context) and presses Start:
        the device POSTs a ScanAvailableEvent to that subscription's NotifyTo."""
        name = req.get("name")
        with self.lock:
            self._sweep()
            subs = [self.subs[s] for s in self.order]
            if req.get("subscription") is not None:
                want = req["subscription"]
                subs = [s for i, s in enumerate(subs)
                        if want in (i, s["id"])]
            chosen = None
            for sub in reversed(subs):
                for d in sub["destinations"]:
                    if d["name"] == name:
                        chosen = (sub, d)
                        break
                if chosen:
                    break
            if not chosen and not req.get("context"):
                raise ValueError("no destination %r on the panel" % name)
            if not chosen:
                sub = subs[-1] if subs else None
                if not sub:
                    raise ValueError("no subscription to send to")
                chosen = (sub, {"context": None, "token": None})
            sub, d = chosen
            scan_id = "scan-%s" % uuid.uuid4().hex[:16]
            context = req.get("context") or d["context"]
            if d["token"]:
                self.pending[scan_id] = (sub["id"], d["token"])
            notify = sub["notify"]
            header = _el("wse:Identifier", sub["id"])
        def event_body(ident):
            return ("<wscn:ScanAvailableEvent>%s%s</wscn:ScanAvailableEvent>"
                    % (_el("wscn:ClientContext", context),
                       _el("wscn:ScanIdentifier", ident)))
        body = event_body(scan_id)
        status = self.api.post_soap(notify, SCAN_EVENT, body,
                                    extra_header=header)
        statuses = [status]
        for _ in range(int(req.get("repeat", 0))):
            if req.get("distinct"):
                # A flood of picks, each with an identifier of its own.
                ident = "scan-%s" % uuid.uuid4().hex[:16]
                with self.lock:
                    if d["token"]:
                        self.pending[ident] = (sub["id"], d["token"])
                body = event_body(ident)
            statuses.append(self.api.post_soap(notify, SCAN_EVENT, body,
                                               extra_header=header))
        self.sim.record({"transport": "push", "action": "ScanAvailableEvent",
                         "to": notify, "subscription": sub["id"],
                         "context": context, "scan_identifier": scan_id,
                         "status": status})
        out = {"scan_identifier": scan_id, "status": status,
               "statuses": statuses, "subscription": sub["id"],
               "context": context}
        with self.lock:
            self.presses.append(out)
        return out

    def end(self, status="wse:SourceShuttingDown", reason="going away"):
        """The device ends every subscription and says so to each EndTo."""
        with self.lock:
            subs = [self.subs[s] for s in self.order]
            self.subs, self.order = {}, []
        return [self._send_end(sub, status, reason) for sub in subs
                if sub["end_to"]]

    def _send_end(self, sub, status, reason):
        """SubscriptionEnd to the subscription's EndTo (none without one, as
        WS-Eventing says); the HTTP status, None when unreachable."""
        if not sub["end_to"]:
            return None
        body = ("<wse:SubscriptionEnd>%s%s%s</wse:SubscriptionEnd>"
                % (self._manager_xml(sub), _el("wse:Status", status),
                   _el("wse:Reason", reason)))
        got = self.api.post_soap(sub["end_to"], WSE + "/SubscriptionEnd", body,
                                 extra_header=_el("wse:Identifier", sub["id"]))
        self.sim.record({"transport": "push", "action": "SubscriptionEnd",
                         "to": sub["end_to"], "subscription": sub["id"],
                         "reason": status, "status": got})
        return got

    def expire(self):
        """Every subscription lapses at once, without a word (as when a
        client's renewals stopped reaching the device)."""
        with self.lock:
            n = len(self.order)
            self.subs, self.order = {}, []
        return n

    def reboot(self):
        with self.lock:
            self.subs, self.order, self.pending = {}, [], {}

    def control(self, req):
        """Apply the "eventing" control object; raise ValueError when bad."""
        if not isinstance(req, dict):
            raise ValueError("'eventing' must be an object")
        known = {"press", "end", "expire", "fault", "clear_fault", "reset",
                 "strict"}
        bad = set(req) - known
        if bad:
            raise ValueError("unknown eventing key(s): %s" %
                             ", ".join(sorted(bad)))
        out = {}
        if req.get("reset"):
            self.reset()
        if "strict" in req:
            with self.lock:
                self.strict = bool(req["strict"])
        if "fault" in req:
            name, _, n = str(req["fault"]).partition("=")
            if name not in FAULTS or (n and not n.isdigit()):
                raise ValueError("unknown eventing fault %r" % req["fault"])
            with self.lock:
                self.faults[name] = int(n) if n else None
        if "clear_fault" in req:
            with self.lock:
                self.faults.pop(req["clear_fault"], None)
        if req.get("expire"):
            out["expired"] = self.expire()
        if req.get("end"):
            out["ended"] = self.end(*([req["end"]] if isinstance(req["end"], str) else []))
        if "press" in req:
            if not isinstance(req["press"], dict):
                raise ValueError("'press' must be an object")
            out.update(self.press(req["press"]))
        return out

    def state_json(self):
        with self.lock:
            self._sweep()
            now = time.monotonic()
            return {"faults": sorted(self.faults), "strict": self.strict,
                    "presses": list(self.presses),
                    "subscriptions": [
                        {"id": s["id"], "notify": s["notify"],
                         "end_to": s["end_to"], "lifetime": s["lifetime"],
                         "renewals": s["renewals"],
                         "expires_in": None if s["expires"] is None
                         else round(s["expires"] - now, 1),
                         "destinations": [
                             {"name": d["name"], "context": d["context"],
                              "token": d["token"]}
                             for d in s["destinations"]]}
                        for s in (self.subs[i] for i in self.order)]}

    def actions(self):
        """The operations for the simulator's action table: action URI ->
        (operation element, handler, namespace of the element)."""
        return {WSE + "/Subscribe": ("Subscribe", self.op_subscribe, WSE),
                WSE + "/Renew": ("Renew", self.op_renew, WSE),
                WSE + "/GetStatus": ("GetStatus", self.op_get_status, WSE),
                WSE + "/Unsubscribe": ("Unsubscribe", self.op_unsubscribe,
                                       WSE)}
