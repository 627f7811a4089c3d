#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# wsd-sim: a fault-injecting WSD scanner simulator (WS-Scan over SOAP/HTTP,
# WS-Discovery over UDP multicast, WS-Transfer metadata) for scand's tests.
# See README.md next to this file for the command line, the models, the
# faults and the JSON control API; keep that file in sync with this one.
#
# Only the Python standard library and Debian's python3-pil are used. The
# simulator listens where it is told (loopback by default; multicast only on
# the interfaces named with --interface, which tests create inside a private
# network namespace) and only connects to addresses a client hands it.
#
# Extending it: every SOAP operation is one method registered in
# SCAN_ACTIONS / DEVICE_ACTIONS (action URI -> handler); a handler gets the
# parsed request (SoapRequest) and returns a Reply. soap_envelope() builds any
# message, post_soap() sends one to a client (for events pushed to a NotifyTo
# address), and Discovery.announce() multicasts Hello/Bye.

import argparse
import base64
import http.server
import io
import json
import os
import random
import select
import shutil
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw

import wsd_eventing

# ------------------------------------------------------------ namespaces ---

NS = {
    "soap": "http://www.w3.org/2003/05/soap-envelope",
    "soap11": "http://schemas.xmlsoap.org/soap/envelope/",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wsd": "http://schemas.xmlsoap.org/ws/2005/04/discovery",
    "wsdp": "http://schemas.xmlsoap.org/ws/2006/02/devprof",
    "mex": "http://schemas.xmlsoap.org/ws/2004/09/mex",
    "wxf": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "wse": "http://schemas.xmlsoap.org/ws/2004/08/eventing",
    "wscn": "http://schemas.microsoft.com/windows/2006/08/wdp/scan",
    "pnpx": "http://schemas.microsoft.com/windows/pnpx/2005/10",
    "xop": "http://www.w3.org/2004/08/xop/include",
}
SCAN = NS["wscn"]
WSA_ANONYMOUS = NS["wsa"] + "/role/anonymous"
WSA_FAULT = NS["wsa"] + "/fault"
WSD_TO = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
WSD_PORT = 3702
WSD_GROUP4 = "239.255.255.250"
WSD_GROUP6 = "ff02::c"
XMLNS = " ".join('xmlns:%s="%s"' % (p, u) for p, u in NS.items()
                 if p != "soap11")

# Linux socket options Python does not name.
IP_PKTINFO = 8
IP_MULTICAST_ALL = 49

MAX_BODY = 1 << 20          # largest request body accepted
MAX_LOG = 10000             # log entries kept
MAX_JOBS = 64               # jobs kept (oldest dropped)
MAX_PIXELS = 80_000_000     # refuse to render absurd pages
CHUNK = 4096                # trickle chunk size

# ---------------------------------------------------------------- models ---
# Device personalities as data; each names the real-device behaviour it
# imitates in "reason". Sizes are in 1/1000 inch as WS-Scan has them.

PLATEN_MAX = (8500, 11690)          # letter width x A4 height
ADF_MAX = (8500, 14000)             # legal
COMMON_RES = [75, 150, 300, 600]
COLORS = ["BlackAndWhite1", "Grayscale8", "RGB24"]

BASE_MODEL = dict(
    manufacturer="wsd-sim", model_name="Generic MFP",
    friendly="wsd-sim Generic MFP", serial="WSDSIM0001",
    formats=["jfif", "pdf-a"], resolutions=COMMON_RES, colors=COLORS,
    platen=True, adf=True, duplex=True, adf_back=True,
    duplex_flag=None,               # ADFSupportsDuplex text; None = from duplex
    swap_sizes=False, images_zero_broken=False, empty_fault=None,
    empty_job_id_not_found=False, fault_status=None,
    require_job_information=False, reason="a well-behaved WS-Scan device")

MODELS = {
    "generic": dict(BASE_MODEL),
    # RICOH Aficio MP 201: ImagesToTransfer 0 ("all") is taken literally, so
    # the job has no images; an empty feeder answers ClientErrorJobIdNotFound.
    "ricoh-mp201": dict(
        BASE_MODEL, manufacturer="RICOH", model_name="Aficio MP 201",
        friendly="RICOH Aficio MP 201", duplex=False, adf_back=False,
        images_zero_broken=True, empty_job_id_not_found=True,
        reason="ImagesToTransfer 0 yields no image; empty ADF is "
               "ClientErrorJobIdNotFound (sane-airscan quirk)"),
    # Kyocera ECOSYS M2040dn: maximum sizes with width and height swapped.
    "kyocera": dict(
        BASE_MODEL, manufacturer="KYOCERA", model_name="ECOSYS M2040dn",
        friendly="KYOCERA ECOSYS M2040dn", swap_sizes=True,
        reason="Platen/ADF sizes reported with width and height swapped"),
    # Canon MF410 series: an empty feeder refuses CreateScanJob with
    # ServerErrorNotAcceptingJobs while ScannerState stays Idle.
    "canon-mf410": dict(
        BASE_MODEL, manufacturer="Canon", model_name="MF410 Series",
        friendly="Canon MF410 Series", empty_fault="ServerErrorNotAcceptingJobs",
        reason="empty ADF = ServerErrorNotAcceptingJobs with state Idle"),
    # Canon TR7500: InvalidArgs unless JobDescription has JobInformation.
    "canon-tr7500": dict(
        BASE_MODEL, manufacturer="Canon", model_name="TR7500 series",
        friendly="Canon TR7500 series", require_job_information=True,
        reason="rejects a ScanTicket without JobInformation (InvalidArgs)"),
    # Lexmark MB2236adw / Xerox WorkCentre 3225: faults come with HTTP 200.
    "lexmark": dict(
        BASE_MODEL, manufacturer="Lexmark", model_name="MB2236adw",
        friendly="Lexmark MB2236adw", fault_status=200,
        reason="SOAP faults are sent with HTTP status 200"),
    # Brother MFC-9340CDW: ADFSupportsDuplex 0, yet ADFBack is described and
    # duplex scans work.
    "brother-9340": dict(
        BASE_MODEL, manufacturer="Brother", model_name="MFC-9340CDW",
        friendly="Brother MFC-9340CDW", duplex_flag="0",
        reason="ADFSupportsDuplex 0 although ADFBack is present and works"),
    # Simplex feeder, JPEG only.
    "simplex": dict(
        BASE_MODEL, model_name="Simplex MFP", friendly="wsd-sim Simplex MFP",
        duplex=False, adf_back=False, formats=["jfif"],
        reason="a simplex feeder and a platen, JPEG only"),
}

FORMAT_MIME = {"jfif": "image/jpeg", "exif": "image/jpeg",
               "pdf-a": "application/pdf", "png": "image/png"}

# ---------------------------------------------------------------- faults ---
# name -> kind: "int" takes N, "flag" takes nothing, "str" a word.
FAULTS = {
    "jam-after": "int",      # feeder: pages after N fail, MediaJam
    "empty": "flag",         # feeder has no sheets
    "busy": "flag",          # CreateScanJob -> ServerErrorNotAcceptingJobs
    "cover-open": "flag",    # ScannerState Stopped / CoverOpen
    "calibrating": "int",    # for N ms from now: Calibrating, jobs refused
    "slow": "int",           # RetrieveImage waits N ms
    "temporary": "int",      # next N RetrieveImage: ServerErrorTemporaryError
    "trickle": "int",        # page bodies in 4 KiB chunks N ms apart
    "drop": "int",           # page N: half sent, connection closed, once
    "corrupt": "int",        # page N is a truncated JPEG
    "reboot-after": "int",   # the device reboots after sending page N
    "mime": "str",           # multipart shape, see MIME_KINDS
    "fault-status": "int",   # HTTP status of SOAP faults (e.g. 200)
    "no-xaddrs": "flag",     # ProbeMatch/Hello without XAddrs (Resolve needed)
    "mute": "flag",          # no WS-Discovery answers at all
}
MIME_KINDS = ("chunked", "no-crlf", "base64", "no-boundary", "no-image-part",
              "truncated", "endless", "image-first")


class FaultError(ValueError):
    pass


def parse_fault(spec):
    """"NAME[=ARG]" -> (name, dict); FaultError when bad."""
    name, _, arg = spec.partition("=")
    name = name.strip()
    kind = FAULTS.get(name)
    if kind is None:
        raise FaultError("unknown fault '%s'" % name)
    try:
        if kind == "int":
            v = int(arg)
            if v < 0:
                raise ValueError
            return name, {"n": v, "done": False, "spec": spec}
        if kind == "flag":
            if arg:
                raise ValueError
            return name, {"spec": spec}
        if name == "mime" and arg not in MIME_KINDS:
            raise ValueError
        return name, {"value": arg, "spec": spec}
    except ValueError:
        raise FaultError("bad argument in fault '%s'" % spec)


# ----------------------------------------------------------------- pages ---

def _draw_label(img, text, fill):
    """Draw text scaled up from PIL's built-in bitmap font (no font files)."""
    small = Image.new("L", (8 * len(text) + 4, 14), 0)
    ImageDraw.Draw(small).text((2, 1), text, fill=255)
    scale = max(1, min(img.width // (small.width * 2), img.height // 40, 12))
    big = small.resize((small.width * scale, small.height * scale),
                       Image.NEAREST)
    img.paste(fill, (min(8, img.width // 20), 64), big)


def render_page(fmt, color, width, height, res, ident, page, sheet, back):
    """One page as bytes of fmt ("jfif", "pdf-a", "png").

    Identity as in escl-sim: a JPEG COM segment right after SOI with ident;
    a black bar in rows 0-23 of width 16*page px; backs also a bar in rows
    32-55 of width 16*sheet px; the page number drawn large."""
    if color == "RGB24":
        mode, bg, ink = "RGB", (255, 255, 255), (0, 0, 0)
    else:
        mode, bg, ink = "L", 255, 0
    img = Image.new(mode, (width, height), bg)
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, min(width, 16 * page) - 1, min(height, 24) - 1],
                fill=ink)
    if back and height > 32:
        d.rectangle([0, 32, min(width, 16 * sheet) - 1,
                     min(height, 56) - 1], fill=ink)
    if mode == "RGB" and height > 120:
        d.rectangle([0, height - 40, width - 1, height - 1],
                    fill=(255 - (page * 53) % 192, 64, 128 + (page * 29) % 64))
    if height > 100 and width > 40:
        _draw_label(img, "%d%s" % (page, "B" if back else ""), ink)
    out = io.BytesIO()
    if fmt in ("jfif", "exif"):
        img.save(out, "JPEG", quality=80, dpi=(res, res))
        data = out.getvalue()
        com = ident.encode()
        return data[:2] + b"\xff\xfe" + (len(com) + 2).to_bytes(2, "big") + \
            com + data[2:]
    if fmt == "png":
        img.save(out, "PNG", dpi=(res, res))
        return out.getvalue()
    if fmt == "pdf-a":
        img.save(out, "PDF", resolution=float(res), subject=ident)
        return out.getvalue()
    raise ValueError(fmt)


# ------------------------------------------------------------------- XML ---

def el(name, value):
    """<name>value</name> with value escaped."""
    return "<%s>%s</%s>" % (name, escape(str(value)), name)


def soap_envelope(action, body, to=WSA_ANONYMOUS, relates_to=None,
                  extra_header="", message_id=None):
    """A SOAP 1.2 message with WS-Addressing headers. body is XML text."""
    hdr = [el("wsa:To", to), el("wsa:Action", action),
           el("wsa:MessageID", message_id or "urn:uuid:%s" % uuid.uuid4())]
    if relates_to:
        hdr.append(el("wsa:RelatesTo", relates_to))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<soap:Envelope %s><soap:Header>%s%s</soap:Header>'
            '<soap:Body>%s</soap:Body></soap:Envelope>\n'
            % (XMLNS, "".join(hdr), extra_header, body))


def soap_fault(subcode, reason, sender=True, detail=None):
    """(action, body) of a SOAP 1.2 fault; subcode like "wscn:InvalidArgs"."""
    code = "soap:Sender" if sender else "soap:Receiver"
    body = ("<soap:Fault><soap:Code><soap:Value>%s</soap:Value>"
            "<soap:Subcode><soap:Value>%s</soap:Value></soap:Subcode>"
            "</soap:Code><soap:Reason><soap:Text xml:lang=\"en\">%s"
            "</soap:Text></soap:Reason>%s</soap:Fault>"
            % (code, subcode, escape(reason),
               "<soap:Detail>%s</soap:Detail>" % escape(detail)
               if detail else ""))
    return WSA_FAULT, body


def local(tag):
    return tag.rpartition("}")[2]


def find(root, *path):
    """First element under root following local names in path."""
    cur = root
    for name in path:
        cur = next((c for c in cur if local(c.tag) == name), None)
        if cur is None:
            return None
    return cur


def text(root, *path):
    e = find(root, *path) if root is not None else None
    return e.text.strip() if e is not None and e.text else None


def int_text(root, *path, default=None):
    t = text(root, *path)
    if t is None:
        if default is None:
            raise ValueError("missing %s" % "/".join(path))
        return default
    try:
        return int(t)
    except ValueError:
        raise ValueError("%s is not a number" % "/".join(path))


class SoapRequest:
    """A parsed SOAP request: action, message id, reply-to, the body's
    operation element (or None)."""

    def __init__(self, data):
        try:
            root = ET.fromstring(data)
        except ET.ParseError as e:
            raise ValueError("malformed XML: %s" % e)
        if local(root.tag) != "Envelope" or \
                root.tag[1:].partition("}")[0] not in (NS["soap"],
                                                       NS["soap11"]):
            raise ValueError("not a SOAP envelope")
        self.root = root
        header = find(root, "Header")
        self.action = text(header, "Action") if header is not None else None
        self.message_id = text(header, "MessageID") \
            if header is not None else None
        self.to = text(header, "To") if header is not None else None
        self.reply_to = text(header, "ReplyTo", "Address") \
            if header is not None else None
        self.header = header
        body = find(root, "Body")
        self.body = body
        self.op = next(iter(body), None) if body is not None else None


class Reply:
    """What a handler answers: a SOAP message, optionally with an image
    attachment (MTOM), or a fault."""

    def __init__(self, action, body, status=200, image=None, fault=None,
                 log=None):
        self.action = action
        self.body = body
        self.status = status
        self.image = image      # bytes of the attachment, or None
        self.fault = fault      # the fault subcode for the log
        self.log = log or {}
        self.hold = None        # a lock the handler took, released once sent


# ----------------------------------------------------------------- state ---

class Job:
    def __init__(self, jid, ticket, images_total, sheets):
        self.id = jid
        self.token = "token-%d-%s" % (jid, uuid.uuid4().hex[:12])
        self.ticket = ticket
        self.images_total = images_total
        self.sheets = sheets
        self.served = 0
        self.state = "Processing"
        self.reasons = ["JobScanning"]
        self.created = time.time()
        self.engine = threading.Lock()   # one RetrieveImage at a time

    def to_json(self):
        t = self.ticket
        return {"id": self.id, "token": self.token, "state": self.state,
                "reasons": self.reasons, "source": t["source"],
                "format": t["format"], "color": t["color"],
                "resolution": t["res"], "width": t["px_w"],
                "height": t["px_h"], "images_to_transfer": t["images"],
                "pages_served": self.served,
                "pages_total": self.images_total}


class Sim:
    """All simulator state, guarded by one lock."""

    def __init__(self, args):
        self.args = args
        self.model_name = args.model
        self.model = dict(MODELS[args.model])
        self.uuid = args.uuid or str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                "wsd-sim:" + args.model))
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self.port = 0
        self.scheme = "https" if args.tls else "http"
        self.instance_id = int(time.time())
        self.message_number = 0
        self.metadata_version = 1
        self.discovery = None
        self.initial_faults = list(args.fault or [])
        # Walk-up (WS-Eventing): its operations join the action table.
        api = types.SimpleNamespace(text=text, find=find, local=local,
                                    fault_reply=fault_reply, Reply=Reply,
                                    post_soap=post_soap)
        self.eventing = wsd_eventing.Eventing(self, api,
                                              args.subscription_max)
        SCAN_ACTIONS.update(self.eventing.actions())
        self.reset()

    def reset(self):
        self.jobs = []
        self.next_job = 1
        self.faults = {}
        self.log = []
        self.pages_served = 0
        self.sheets = self.args.adf_pages
        self.forced_state = None
        self.forced_reasons = None
        self.jammed = False
        for f in self.initial_faults:
            self.add_fault(f)

    def add_fault(self, spec):
        name, val = parse_fault(spec)
        val["since"] = time.monotonic()
        self.faults[name] = val
        if name == "empty":
            self.sheets = 0

    def clear_faults(self):
        self.faults = {}
        self.jammed = False
        self.forced_state = None
        self.forced_reasons = None

    def record(self, entry):
        entry.setdefault("time", time.time())
        with self.lock:
            self.log.append(entry)
            if len(self.log) > MAX_LOG:
                del self.log[:len(self.log) - MAX_LOG]

    def next_app_sequence(self):
        with self.lock:
            self.message_number += 1
            return ('<wsd:AppSequence InstanceId="%d" MessageNumber="%d"/>'
                    % (self.instance_id, self.message_number))

    # -- device state --------------------------------------------------

    def scanner_state(self):
        """(ScannerState, [ScannerStateReason…])."""
        if self.forced_state:
            return self.forced_state, self.forced_reasons or ["None"]
        if self.jammed:
            return "Stopped", ["MediaJam"]
        if "cover-open" in self.faults:
            return "Stopped", ["CoverOpen"]
        if self.calibrating():
            return "Processing", ["Calibrating"]
        if "busy" in self.faults or \
                any(j.state == "Processing" for j in self.jobs):
            return "Processing", ["None"]
        return "Idle", ["None"]

    def calibrating(self):
        """TRUE while a calibrating=MS fault's time runs."""
        cal = self.faults.get("calibrating")
        if cal and time.monotonic() - cal["since"] < cal["n"] / 1000.0:
            return True
        self.faults.pop("calibrating", None)
        return False

    def state_json(self):
        state, reasons = self.scanner_state()
        return {"model": self.model_name, "uuid": self.uuid,
                "port": self.port, "state": state, "reasons": reasons,
                "adf_pages": self.sheets, "jammed": self.jammed,
                "instance_id": self.instance_id,
                "metadata_version": self.metadata_version,
                "faults": sorted(v["spec"] for v in self.faults.values()),
                "pages_served": self.pages_served,
                "jobs": [j.to_json() for j in self.jobs],
                "eventing": self.eventing.state_json()}

    def reboot(self, hello=True):
        """Forget every job, start a new AppSequence instance, say Bye and
        (after --reboot-delay ms) Hello again, as a rebooted device does."""
        d = self.discovery
        if d:
            d.announce("Bye")
        with self.lock:
            self.jobs = []
            self.jammed = False
            self.instance_id += 1
            self.message_number = 0
        self.eventing.reboot()
        if hello:
            def later():
                self.stop.wait(self.args.reboot_delay / 1000.0)
                if d and not self.stop.is_set():
                    d.announce("Hello")
            threading.Thread(target=later, daemon=True).start()

    def control(self, req):
        """Apply a /sim/control request; raise ValueError when bad."""
        if not isinstance(req, dict):
            raise ValueError("control body must be a JSON object")
        known = {"reset", "clear", "fault", "faults", "clear_fault",
                 "adf_pages", "paper", "state", "reasons", "reboot",
                 "hello", "bye", "eventing"}
        for k in req:
            if k not in known:
                raise ValueError("unknown control key '%s'" % k)
        with self.lock:
            if req.get("reset"):
                self.reset()
            if req.get("clear"):
                self.clear_faults()
            specs = list(req.get("faults") or [])
            if req.get("fault"):
                specs.append(req["fault"])
            for s in specs:
                try:
                    self.add_fault(s)
                except FaultError as e:
                    raise ValueError(str(e))
            if "clear_fault" in req:
                self.faults.pop(req["clear_fault"], None)
            if "adf_pages" in req:
                n = req["adf_pages"]
                if not isinstance(n, int) or n < 0:
                    raise ValueError("adf_pages must be a count")
                self.sheets = n
                self.jammed = False
                self.faults.pop("empty", None)
            if "paper" in req:
                if req["paper"] not in ("loaded", "empty"):
                    raise ValueError("paper is loaded or empty")
                self.sheets = self.args.adf_pages \
                    if req["paper"] == "loaded" else 0
                self.jammed = False
            if "state" in req:
                st = req["state"]
                if st not in (None, "Idle", "Processing", "Stopped"):
                    raise ValueError("state is Idle, Processing or Stopped")
                self.forced_state = st
                self.forced_reasons = req.get("reasons")
        if req.get("reboot"):
            self.reboot()
        if req.get("bye") and self.discovery:
            self.discovery.announce("Bye")
        if req.get("hello") and self.discovery:
            self.discovery.announce("Hello")
        # Outside the lock: a pick POSTs to the client, which may call back.
        reply = self.eventing.control(req["eventing"]) \
            if "eventing" in req else None
        with self.lock:
            state = self.state_json()
        if reply is not None:
            state["eventing_reply"] = reply
        return state


# ---------------------------------------------------------- WS-Scan XML ---

def size_xml(prefix, w, h):
    return "<wscn:%s>%s%s</wscn:%s>" % (prefix, el("wscn:Width", w),
                                        el("wscn:Height", h), prefix)


def source_xml(model, name, maxdim):
    """Platen, ADFFront or ADFBack configuration; children are named
    Platen… or ADF…."""
    w, h = maxdim
    if model["swap_sizes"]:
        w, h = h, w
    pre = "ADF" if name.startswith("ADF") else name
    top = max(model["resolutions"])
    return ("<wscn:%s>%s<wscn:%sResolutions><wscn:Widths>%s</wscn:Widths>"
            "<wscn:Heights>%s</wscn:Heights></wscn:%sResolutions>"
            "<wscn:%sColor>%s</wscn:%sColor>%s%s</wscn:%s>"
            % (name, size_xml(pre + "OpticalResolution", top, top), pre,
               "".join(el("wscn:Width", r) for r in model["resolutions"]),
               "".join(el("wscn:Height", r) for r in model["resolutions"]),
               pre, pre,
               "".join(el("wscn:ColorEntry", c) for c in model["colors"]),
               pre, size_xml(pre + "MinimumSize", 100, 100),
               size_xml(pre + "MaximumSize", w, h), name))


def configuration_xml(model):
    fmts = "".join(el("wscn:FormatValue", f) for f in model["formats"])
    parts = ["<wscn:ScannerConfiguration><wscn:DeviceSettings>"
             "<wscn:FormatsSupported>%s</wscn:FormatsSupported>"
             "<wscn:CompressionQualityFactorSupported><wscn:MinValue>1"
             "</wscn:MinValue><wscn:MaxValue>100</wscn:MaxValue>"
             "</wscn:CompressionQualityFactorSupported>"
             "<wscn:ContentTypesSupported>%s</wscn:ContentTypesSupported>"
             "<wscn:DocumentSizeAutoDetectSupported>false"
             "</wscn:DocumentSizeAutoDetectSupported>"
             "<wscn:AutoExposureSupported>false</wscn:AutoExposureSupported>"
             "<wscn:BrightnessSupported>false</wscn:BrightnessSupported>"
             "<wscn:ContrastSupported>false</wscn:ContrastSupported>"
             "<wscn:ScalingRangeSupported><wscn:ScalingWidth><wscn:MinValue>"
             "100</wscn:MinValue><wscn:MaxValue>100</wscn:MaxValue>"
             "</wscn:ScalingWidth><wscn:ScalingHeight><wscn:MinValue>100"
             "</wscn:MinValue><wscn:MaxValue>100</wscn:MaxValue>"
             "</wscn:ScalingHeight></wscn:ScalingRangeSupported>"
             "<wscn:RotationsSupported><wscn:RotationValue>0"
             "</wscn:RotationValue></wscn:RotationsSupported>"
             "</wscn:DeviceSettings>"
             % (fmts, "".join(el("wscn:ContentTypeValue", c)
                              for c in ("Auto", "Text", "Photo", "Mixed")))]
    if model["platen"]:
        parts.append(source_xml(model, "Platen", PLATEN_MAX))
    if model["adf"]:
        flag = model["duplex_flag"]
        if flag is None:
            flag = "1" if model["duplex"] else "0"
        parts.append("<wscn:ADF>%s%s%s</wscn:ADF>" % (
            el("wscn:ADFSupportsDuplex", flag),
            source_xml(model, "ADFFront", ADF_MAX),
            source_xml(model, "ADFBack", ADF_MAX)
            if model["adf_back"] else ""))
    parts.append("</wscn:ScannerConfiguration>")
    return "".join(parts)


def description_xml(sim):
    m = sim.model
    return ("<wscn:ScannerDescription>%s%s%s</wscn:ScannerDescription>"
            % ('<wscn:ScannerName xml:lang="en">%s</wscn:ScannerName>'
               % escape(m["friendly"]),
               '<wscn:ScannerInfo xml:lang="en">%s</wscn:ScannerInfo>'
               % escape(m["reason"]),
               '<wscn:ScannerLocation xml:lang="en">tests</wscn:ScannerLocation>'))


def status_xml(sim):
    state, reasons = sim.scanner_state()
    conds = ""
    if state == "Stopped":
        conds = ("<wscn:ActiveConditions><wscn:DeviceCondition>%s%s%s%s"
                 "</wscn:DeviceCondition></wscn:ActiveConditions>"
                 % (el("wscn:Time", time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                  time.gmtime())),
                    el("wscn:Name", reasons[0]),
                    el("wscn:Component", "ADF" if reasons[0] == "MediaJam"
                       else "Platen"),
                    el("wscn:Severity", "Error")))
    return ("<wscn:ScannerStatus>%s%s<wscn:ScannerStateReasons>%s"
            "</wscn:ScannerStateReasons>%s</wscn:ScannerStatus>"
            % (el("wscn:ScannerCurrentTime",
                  time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
               el("wscn:ScannerState", state),
               "".join(el("wscn:ScannerStateReason", r) for r in reasons),
               conds))


def ticket_params_xml(t):
    """DocumentParameters (as DocumentFinalParameters) of a parsed ticket."""
    sides = ["MediaFront"] + (["MediaBack"] if t["source"] == "ADFDuplex"
                              else [])
    side_xml = "".join(
        "<wscn:%s><wscn:ScanRegion>%s%s%s%s</wscn:ScanRegion>%s"
        "<wscn:Resolution>%s%s</wscn:Resolution></wscn:%s>"
        % (s, el("wscn:ScanRegionXOffset", t["x"]),
           el("wscn:ScanRegionYOffset", t["y"]),
           el("wscn:ScanRegionWidth", t["w"]),
           el("wscn:ScanRegionHeight", t["h"]),
           el("wscn:ColorProcessing", t["color"]),
           el("wscn:Width", t["res"]), el("wscn:Height", t["res"]), s)
        for s in sides)
    return ("%s%s%s<wscn:InputSize><wscn:InputMediaSize>%s%s"
            "</wscn:InputMediaSize></wscn:InputSize><wscn:MediaSides>%s"
            "</wscn:MediaSides>"
            % (el("wscn:Format", t["format"]),
               el("wscn:ImagesToTransfer", t["images"]),
               el("wscn:InputSource", t["source"]),
               el("wscn:Width", t["w"]), el("wscn:Height", t["h"]), side_xml))


def parse_ticket(op, model):
    """ScanTicket of a CreateScanJob/ValidateScanTicket request -> dict.
    Raises ValueError (-> InvalidArgs) for what the model cannot do."""
    ticket = find(op, "ScanTicket")
    if ticket is None:
        raise ValueError("no ScanTicket")
    if model["require_job_information"] and \
            text(ticket, "JobDescription", "JobInformation") is None:
        raise ValueError("JobInformation missing (this model needs it)")
    dp = find(ticket, "DocumentParameters")
    if dp is None:
        raise ValueError("no DocumentParameters")
    t = {}
    t["format"] = text(dp, "Format") or model["formats"][0]
    if t["format"] not in model["formats"]:
        raise ValueError("format %s not supported" % t["format"])
    t["images"] = int_text(dp, "ImagesToTransfer", default=1)
    t["source"] = text(dp, "InputSource") or "Platen"
    if t["source"] not in ("Platen", "ADF", "ADFDuplex"):
        raise ValueError("InputSource %s not supported" % t["source"])
    if t["source"] == "Platen" and not model["platen"] or \
            t["source"] != "Platen" and not model["adf"] or \
            t["source"] == "ADFDuplex" and not (model["duplex"] or
                                                model["adf_back"]):
        raise ValueError("InputSource %s not available" % t["source"])
    front = find(dp, "MediaSides", "MediaFront")
    if front is None:
        raise ValueError("no MediaSides/MediaFront")
    t["color"] = text(front, "ColorProcessing") or "RGB24"
    if t["color"] not in model["colors"]:
        raise ValueError("ColorProcessing %s not supported" % t["color"])
    xr = int_text(front, "Resolution", "Width", default=300)
    yr = int_text(front, "Resolution", "Height", default=xr)
    if xr != yr or xr not in model["resolutions"]:
        raise ValueError("resolution %dx%d not supported" % (xr, yr))
    t["res"] = xr
    maxdim = PLATEN_MAX if t["source"] == "Platen" else ADF_MAX
    region = find(front, "ScanRegion")
    t["x"] = int_text(region, "ScanRegionXOffset", default=0) \
        if region is not None else 0
    t["y"] = int_text(region, "ScanRegionYOffset", default=0) \
        if region is not None else 0
    t["w"] = int_text(region, "ScanRegionWidth", default=maxdim[0]) \
        if region is not None else maxdim[0]
    t["h"] = int_text(region, "ScanRegionHeight", default=maxdim[1]) \
        if region is not None else maxdim[1]
    if t["w"] <= 0 or t["h"] <= 0 or t["x"] < 0 or t["y"] < 0 or \
            t["x"] + t["w"] > maxdim[0] or t["y"] + t["h"] > maxdim[1]:
        raise ValueError("ScanRegion %dx%d+%d+%d outside %dx%d" % (
            t["w"], t["h"], t["x"], t["y"], maxdim[0], maxdim[1]))
    t["px_w"] = t["w"] * t["res"] // 1000
    t["px_h"] = t["h"] * t["res"] // 1000
    if t["px_w"] * t["px_h"] > MAX_PIXELS or t["px_w"] < 1 or t["px_h"] < 1:
        raise ValueError("image of %dx%d px refused" % (t["px_w"], t["px_h"]))
    return t


# -------------------------------------------------- WS-Scan operations ---

def fault_reply(sim, subcode, reason, sender=True):
    action, body = soap_fault(subcode, reason, sender)
    status = 400 if sender else 500
    if "fault-status" in sim.faults:
        status = sim.faults["fault-status"]["n"]
    elif sim.model["fault_status"]:
        status = sim.model["fault_status"]
    return Reply(action, body, status=status, fault=subcode.partition(":")[2])


def op_get_scanner_elements(sim, req):
    names = [(n.text or "").strip() for n in req.op.iter()
             if local(n.tag) == "Name"]
    parts = []
    with sim.lock:
        for qn in names:
            name = qn.rpartition(":")[2]
            data = {"ScannerDescription": lambda: description_xml(sim),
                    "ScannerConfiguration": lambda: configuration_xml(
                        sim.model),
                    "ScannerStatus": lambda: status_xml(sim),
                    "DefaultScanTicket": lambda: default_ticket_xml(sim)}
            if name in data:
                parts.append('<wscn:ElementData Name="wscn:%s" Valid="true">'
                             '%s</wscn:ElementData>' % (name, data[name]()))
            else:
                parts.append('<wscn:ElementData Name="%s" Valid="false"/>'
                             % escape(qn, {'"': "&quot;"}))
    return Reply(SCAN + "/GetScannerElementsResponse",
                 "<wscn:GetScannerElementsResponse><wscn:ScannerElements>%s"
                 "</wscn:ScannerElements></wscn:GetScannerElementsResponse>"
                 % "".join(parts), log={"elements": names})


def default_ticket_xml(sim):
    t = {"format": sim.model["formats"][0], "images": 1, "source": "Platen",
         "x": 0, "y": 0, "w": PLATEN_MAX[0], "h": PLATEN_MAX[1],
         "color": "RGB24", "res": 300}
    return ("<wscn:DefaultScanTicket><wscn:JobDescription>%s"
            "</wscn:JobDescription><wscn:DocumentParameters>%s"
            "</wscn:DocumentParameters></wscn:DefaultScanTicket>"
            % (el("wscn:JobName", "Scan"), ticket_params_xml(t)))


def op_validate_scan_ticket(sim, req):
    try:
        t = parse_ticket(req.op, sim.model)
        valid, params = "true", ticket_params_xml(t)
    except ValueError:
        valid, params = "false", ""
    return Reply(SCAN + "/ValidateScanTicketResponse",
                 "<wscn:ValidateScanTicketResponse><wscn:ValidationInfo>%s"
                 "<wscn:DocumentFinalParameters>%s"
                 "</wscn:DocumentFinalParameters></wscn:ValidationInfo>"
                 "</wscn:ValidateScanTicketResponse>"
                 % (el("wscn:ValidTicket", valid), params))


def op_create_scan_job(sim, req):
    refused = sim.eventing.check_create(sim, req)
    if refused:
        return refused
    try:
        t = parse_ticket(req.op, sim.model)
    except ValueError as e:
        return fault_reply(sim, "wscn:InvalidArgs", str(e))
    feeder = t["source"] != "Platen"
    with sim.lock:
        state, reasons = sim.scanner_state()
        if sim.calibrating():
            return fault_reply(sim, "wscn:ServerErrorNotAcceptingJobs",
                               "calibrating", sender=False)
        if state == "Stopped" or "busy" in sim.faults or \
                sim.forced_state == "Processing":
            return fault_reply(sim, "wscn:ServerErrorNotAcceptingJobs",
                               "the scanner cannot accept jobs now (%s)"
                               % ", ".join(reasons), sender=False)
        sheets = sim.sheets - sum(
            j.sheets - j.served // (2 if j.ticket["source"] == "ADFDuplex"
                                    else 1)
            for j in sim.jobs if j.state == "Processing"
            and j.ticket["source"] != "Platen")
        sheets = max(0, sheets)
        if feeder and sheets == 0 and sim.model["empty_fault"]:
            return fault_reply(sim, "wscn:" + sim.model["empty_fault"],
                               "no paper in the feeder", sender=False)
        if feeder:
            sides = 2 if t["source"] == "ADFDuplex" else 1
            total = sheets * sides
            if t["images"] > 0:
                total = min(total, t["images"])
            elif sim.model["images_zero_broken"]:
                total = 0
            used = (total + sides - 1) // sides
        else:
            total, used = 1, 0
        job = Job(sim.next_job, t, total, used)
        sim.next_job += 1
        sim.jobs.append(job)
        if len(sim.jobs) > MAX_JOBS:
            del sim.jobs[0]
    info = ("<wscn:ImageInformation><wscn:MediaFrontImageInfo>%s%s%s"
            "</wscn:MediaFrontImageInfo></wscn:ImageInformation>"
            % (el("wscn:PixelsPerLine", t["px_w"]),
               el("wscn:NumberOfLines", t["px_h"]),
               el("wscn:BytesPerLine", t["px_w"] * (3 if t["color"] ==
                                                    "RGB24" else 1))))
    return Reply(SCAN + "/CreateScanJobResponse",
                 "<wscn:CreateScanJobResponse>%s%s%s"
                 "<wscn:DocumentFinalParameters>%s"
                 "</wscn:DocumentFinalParameters></wscn:CreateScanJobResponse>"
                 % (el("wscn:JobId", job.id), el("wscn:JobToken", job.token),
                    info, ticket_params_xml(t)),
                 log={"job": job.id, "source": t["source"],
                      "format": t["format"], "color": t["color"],
                      "resolution": t["res"], "images": t["images"],
                      "scan_identifier": text(req.op, "ScanIdentifier"),
                      "destination_token": text(req.op, "DestinationToken")})


def find_job(sim, op):
    """(job, fault Reply) for the JobId/JobToken of op."""
    try:
        jid = int_text(op, "JobId")
    except ValueError as e:
        return None, fault_reply(sim, "wscn:InvalidArgs", str(e))
    with sim.lock:
        job = next((j for j in sim.jobs if j.id == jid), None)
    if job is None:
        return None, fault_reply(sim, "wscn:ClientErrorJobIdNotFound",
                                 "no job %d" % jid)
    token = text(op, "JobToken")
    if token is not None and token != job.token:
        return None, fault_reply(sim, "wscn:ClientErrorInvalidJobToken",
                                 "wrong JobToken for job %d" % jid)
    return job, None


def op_retrieve_image(sim, req):
    job, bad = find_job(sim, req.op)
    if bad:
        if sim.model["empty_job_id_not_found"] and sim.sheets == 0:
            bad.log["quirk"] = "empty-job-id-not-found"
        return bad
    # One scan engine: the job's lock is held until the page went out (or
    # failed), so concurrent requests never get the same page.
    job.engine.acquire()
    try:
        reply = retrieve_locked(sim, job)
    except BaseException:
        job.engine.release()
        raise
    reply.hold = job.engine
    return reply


def retrieve_locked(sim, job):
    t = job.ticket
    feeder = t["source"] != "Platen"
    with sim.lock:
        if job.state == "Canceled":
            return fault_reply(sim, "wscn:ClientErrorJobCancelled",
                               "job %d was canceled" % job.id)
        jam = sim.faults.get("jam-after")
        if feeder and (sim.jammed or (jam and job.served >= jam["n"] and
                                      job.served < job.images_total)):
            sim.jammed = True
            job.state, job.reasons = "Aborted", ["ScannerStopped"]
            return fault_reply(sim, "wscn:OperationFailed",
                               "the scanner stopped: MediaJam", sender=False)
        if job.served >= job.images_total:
            job.state, job.reasons = "Completed", ["JobCompletedSuccessfully"]
            if sim.model["empty_job_id_not_found"] and job.served == 0:
                return fault_reply(sim, "wscn:ClientErrorJobIdNotFound",
                                   "job %d has no images" % job.id)
            return fault_reply(sim, "wscn:ClientErrorNoImagesAvailable",
                               "no more images")
        tmp = sim.faults.get("temporary")
        if tmp and tmp["n"] > 0:
            tmp["n"] -= 1
            return fault_reply(sim, "wprt:ServerErrorTemporaryError",
                               "the image is not ready yet", sender=False)
        n = job.served + 1
        duplex = t["source"] == "ADFDuplex"
        sheet = (n + 1) // 2 if duplex else n
        back = duplex and n % 2 == 0
    ident = "wsd-sim job=%d page=%d sheet=%d side=%s" % (
        job.id, n, sheet, "back" if back else "front")
    data = render_page(t["format"], t["color"], t["px_w"], t["px_h"],
                       t["res"], ident, n, sheet, back)
    corrupt = sim.faults.get("corrupt")
    if corrupt and corrupt["n"] == n:
        data = data[:len(data) // 2]
    slow = sim.faults.get("slow")
    if slow:
        sim.stop.wait(slow["n"] / 1000.0)
    return Reply(SCAN + "/RetrieveImageResponse",
                 '<wscn:RetrieveImageResponse><wscn:ScanData>'
                 '<xop:Include href="cid:image@wsd-sim"/></wscn:ScanData>'
                 '</wscn:RetrieveImageResponse>', image=data,
                 log={"job": job.id, "page": n, "ident": ident,
                      "format": t["format"]})


def page_sent(sim, job, n, data):
    """Called once a page went out in full: consume it, save it."""
    with sim.lock:
        job.served = max(job.served, n)
        sim.pages_served += 1
        if job.served >= job.images_total and job.ticket["source"] == \
                "Platen":
            job.state, job.reasons = "Completed", ["JobCompletedSuccessfully"]
        if job.ticket["source"] != "Platen":
            duplex = job.ticket["source"] == "ADFDuplex"
            if not duplex or n % 2 == 0 or n == job.images_total:
                sim.sheets = max(0, sim.sheets - 1)
    if sim.args.page_dir:
        ext = {"jfif": "jpg", "exif": "jpg", "png": "png",
               "pdf-a": "pdf"}[job.ticket["format"]]
        path = os.path.join(sim.args.page_dir,
                            "job%d-page%d.%s" % (job.id, n, ext))
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    reboot = sim.faults.get("reboot-after")
    if reboot and reboot["n"] == n and not reboot["done"]:
        reboot["done"] = True
        sim.reboot()


def op_cancel_job(sim, req):
    job, bad = find_job(sim, req.op)
    if bad:
        return bad
    with sim.lock:
        if job.state in ("Completed", "Canceled", "Aborted"):
            return fault_reply(sim, "wscn:ClientErrorJobIdNotFound",
                               "job %d already ended (%s)"
                               % (job.id, job.state))
        job.state, job.reasons = "Canceled", ["None"]
    return Reply(SCAN + "/CancelJobResponse", "<wscn:CancelJobResponse/>",
                 log={"job": job.id})


def job_status_xml(job):
    return ("<wscn:JobStatus>%s%s<wscn:JobStateReasons>%s"
            "</wscn:JobStateReasons>%s%s</wscn:JobStatus>"
            % (el("wscn:JobId", job.id), el("wscn:JobState", job.state),
               "".join(el("wscn:JobStateReason", r) for r in job.reasons),
               el("wscn:ScansCompleted", job.served),
               el("wscn:JobCreatedTime", time.strftime(
                   "%Y-%m-%dT%H:%M:%SZ", time.gmtime(job.created)))))


def op_get_job_elements(sim, req):
    job, bad = find_job(sim, req.op)
    if bad:
        return bad
    names = [(n.text or "").strip().rpartition(":")[2]
             for n in req.op.iter() if local(n.tag) == "Name"]
    parts = []
    with sim.lock:
        for name in names:
            if name == "JobStatus":
                parts.append('<wscn:ElementData Name="wscn:JobStatus" '
                             'Valid="true">%s</wscn:ElementData>'
                             % job_status_xml(job))
            elif name == "ScanTicket":
                parts.append('<wscn:ElementData Name="wscn:ScanTicket" '
                             'Valid="true"><wscn:ScanTicket>'
                             '<wscn:DocumentParameters>%s'
                             '</wscn:DocumentParameters></wscn:ScanTicket>'
                             '</wscn:ElementData>'
                             % ticket_params_xml(job.ticket))
            else:
                parts.append('<wscn:ElementData Name="wscn:%s" Valid="false"/>'
                             % escape(name, {'"': "&quot;"}))
    return Reply(SCAN + "/GetJobElementsResponse",
                 "<wscn:GetJobElementsResponse><wscn:JobElements>%s"
                 "</wscn:JobElements></wscn:GetJobElementsResponse>"
                 % "".join(parts), log={"job": job.id})


def op_get_active_jobs(sim, req):
    with sim.lock:
        jobs = [j for j in sim.jobs if j.state == "Processing"]
        body = "".join("<wscn:JobSummary>%s%s%s</wscn:JobSummary>" % (
            el("wscn:JobId", j.id), el("wscn:JobState", j.state),
            el("wscn:ScansCompleted", j.served)) for j in jobs)
    return Reply(SCAN + "/GetActiveJobsResponse",
                 "<wscn:GetActiveJobsResponse><wscn:ActiveJobs>%s"
                 "</wscn:ActiveJobs></wscn:GetActiveJobsResponse>" % body)


# Scanner service operations: action URI -> handler(sim, SoapRequest).
# Eventing (Subscribe/Renew/GetStatus/Unsubscribe, ScanAvailableEvent) is
# added here the same way.
SCAN_ACTIONS = {
    SCAN + "/GetScannerElements": ("GetScannerElementsRequest",
                                   op_get_scanner_elements),
    SCAN + "/ValidateScanTicket": ("ValidateScanTicketRequest",
                                   op_validate_scan_ticket),
    SCAN + "/CreateScanJob": ("CreateScanJobRequest", op_create_scan_job),
    SCAN + "/RetrieveImage": ("RetrieveImageRequest", op_retrieve_image),
    SCAN + "/CancelJob": ("CancelJobRequest", op_cancel_job),
    SCAN + "/GetJobElements": ("GetJobElementsRequest", op_get_job_elements),
    SCAN + "/GetActiveJobs": ("GetActiveJobsRequest", op_get_active_jobs),
}


# --------------------------------------------- WS-Transfer (metadata) ---

def metadata_xml(sim, host):
    """The device's WS-Transfer Get reply body: ThisDevice, ThisModel and the
    hosted scanner service at http(s)://host:port/<scan path>."""
    m = sim.model
    scan_url = "%s://%s:%d%s" % (sim.scheme, host, sim.port,
                                 sim.args.scan_path)
    dev = "urn:uuid:" + sim.uuid
    sect = '<mex:MetadataSection Dialect="%s/%%s">%%s</mex:MetadataSection>' \
        % NS["wsdp"]
    this_device = sect % ("ThisDevice", "<wsdp:ThisDevice>%s%s%s"
                          "</wsdp:ThisDevice>" % (
                              '<wsdp:FriendlyName xml:lang="en">%s'
                              '</wsdp:FriendlyName>' % escape(m["friendly"]),
                              el("wsdp:FirmwareVersion", "1.0"),
                              el("wsdp:SerialNumber", m["serial"])))
    this_model = sect % ("ThisModel", "<wsdp:ThisModel>%s%s%s%s%s"
                         "</wsdp:ThisModel>" % (
                             '<wsdp:Manufacturer xml:lang="en">%s'
                             '</wsdp:Manufacturer>' % escape(m["manufacturer"]),
                             '<wsdp:ModelName xml:lang="en">%s</wsdp:ModelName>'
                             % escape(m["model_name"]),
                             el("wsdp:ModelNumber", "1"),
                             el("wsdp:PresentationUrl", "%s://%s:%d/" % (
                                 sim.scheme, host, sim.port)),
                             el("pnpx:DeviceCategory", "Scanners")))
    relationship = sect % ("Relationship", (
        '<wsdp:Relationship Type="%s/host">'
        "<wsdp:Host><wsa:EndpointReference>%s</wsa:EndpointReference>"
        "%s%s</wsdp:Host>"
        "<wsdp:Hosted><wsa:EndpointReference>%s</wsa:EndpointReference>"
        "%s%s%s</wsdp:Hosted></wsdp:Relationship>" % (
            NS["wsdp"], el("wsa:Address", dev),
            el("wsdp:Types", "wsdp:Device wscn:ScanDeviceType"),
            el("wsdp:ServiceId", dev),
            el("wsa:Address", scan_url),
            el("wsdp:Types", "wscn:ScannerServiceType"),
            el("wsdp:ServiceId", "uri:%s/WSDScanner" % sim.uuid),
            el("pnpx:CompatibleId", SCAN + "/ScannerServiceType"))))
    return "<mex:Metadata>%s%s%s</mex:Metadata>" % (this_device, this_model,
                                                    relationship)


WXF_GET = NS["wxf"] + "/Get"
DEVICE_ACTIONS = {WXF_GET: None}    # answered by Handler.device_get


# --------------------------------------------------------- HTTP server ---

def mime_multipart(reply, kind, relates_to):
    """(content type, body parts as a list of bytes) of an MTOM reply shaped
    as kind (see MIME_KINDS; "" = the usual shape)."""
    boundary = "uuid:%s" % uuid.uuid4()
    ctype = ('multipart/related; type="application/xop+xml"; '
             'boundary="%s"; start="<root@wsd-sim>"; '
             'start-info="application/soap+xml"' % boundary)
    root = soap_envelope(reply.action, reply.body,
                         relates_to=relates_to).encode()
    root_part = (b"Content-Type: application/xop+xml; charset=UTF-8; "
                 b'type="application/soap+xml"\r\n'
                 b"Content-Transfer-Encoding: binary\r\n"
                 b"Content-ID: <root@wsd-sim>\r\n\r\n" + root)
    cte = b"base64" if kind == "base64" else b"binary"
    image = reply.image
    if kind == "base64":
        image = base64.encodebytes(image)
    img_part = (b"Content-Type: application/binary\r\n"
                b"Content-Transfer-Encoding: " + cte + b"\r\n"
                b"Content-ID: <image@wsd-sim>\r\n\r\n")
    b = boundary.encode()
    sep = b"--" + b + b"\r\n" if kind == "no-crlf" else \
        b"\r\n--" + b + b"\r\n"
    first = b"--" + b + b"\r\n"
    end = (b"" if kind == "no-crlf" else b"\r\n") + b"--" + b + b"--\r\n"
    if kind == "no-boundary":
        ctype = 'multipart/related; type="application/xop+xml"'
    if kind == "no-image-part":
        return ctype, [first + root_part + end]
    if kind == "image-first":
        return ctype, [first + img_part, image, sep + root_part + end]
    return ctype, [first + root_part + sep + img_part, image, end]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 60
    sim = None

    def version_string(self):
        return "wsd-sim/1.0"

    def log_message(self, fmt, *args):
        if self.sim.args.verbose:
            sys.stderr.write("wsd-sim: %s %s\n" % (self.address_string(),
                                                   fmt % args))

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline(100).split(b";")[0] or b"0",
                           16)
                if size == 0:
                    self.rfile.readline(100)
                    return out
                if len(out) + size > MAX_BODY:
                    raise ValueError("body too large")
                out += self.rfile.read(size)
                self.rfile.readline(100)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def send_simple(self, status, body, ctype):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return len(body)

    def log_entry(self, req, status, nbytes, reply=None, **extra):
        e = {"transport": "http", "method": self.command, "path": self.path,
             "action": (req.action or "").rpartition("/")[2]
             if req else None, "status": status, "bytes": nbytes,
             "user_agent": self.headers.get("User-Agent"),
             "content_type": self.headers.get("Content-Type"),
             "fault": reply.fault if reply else None}
        if reply:
            e.update(reply.log)
        e.update(extra)
        self.sim.record(e)

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        try:
            body = self.read_body()
        except ValueError as e:
            self.close_connection = True
            return self.send_simple(400, "%s\n" % e, "text/plain")
        path = self.path.split("?", 1)[0]
        if path.startswith("/sim/"):
            return self.sim_api(path, body)
        if self.command != "POST":
            n = self.send_simple(405, "POST only\n", "text/plain")
            return self.log_entry(None, 405, n)
        try:
            req = SoapRequest(body)
        except ValueError as e:
            n = self.send_simple(400, "%s\n" % e, "text/plain")
            return self.log_entry(None, 400, n, error=str(e))
        if path == self.sim.args.device_path:
            if req.action == WXF_GET:
                return self.device_get(req)
        elif path == self.sim.args.scan_path:
            entry = SCAN_ACTIONS.get(req.action)
            if entry:
                op_name, fn = entry[0], entry[1]
                ns = entry[2] if len(entry) > 2 else SCAN
                if req.op is None or local(req.op.tag) != op_name or \
                        req.op.tag[1:].partition("}")[0] != ns:
                    return self.answer(req, fault_reply(
                        self.sim, "wscn:InvalidArgs",
                        "body is not %s" % op_name))
                return self.answer(req, fn(self.sim, req))
        else:
            n = self.send_simple(404, "not found\n", "text/plain")
            return self.log_entry(req, 404, n)
        return self.answer(req, fault_reply(
            self.sim, "wsa:ActionNotSupported",
            "action %s not supported here" % req.action))

    def device_get(self, req):
        host = self.connection.getsockname()[0]
        if host.startswith("::ffff:") and "." in host:
            host = host[7:]     # IPv4 on a dual-stack socket
        elif ":" in host:
            host = "[%s]" % host.partition("%")[0]
        with self.sim.lock:
            body = metadata_xml(self.sim, host)
        msg = soap_envelope(NS["wxf"] + "/GetResponse", body,
                            relates_to=req.message_id)
        n = self.send_simple(200, msg, "application/soap+xml")
        self.log_entry(req, 200, n)

    def answer(self, req, reply):
        try:
            return self.answer_locked(req, reply)
        finally:
            if reply.hold:
                reply.hold.release()

    def answer_locked(self, req, reply):
        if getattr(reply, "drop", False):
            # No answer at all: the connection closes (a lost reply).
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return self.log_entry(req, 0, 0, reply)
        if reply.image is None:
            msg = soap_envelope(reply.action, reply.body,
                                relates_to=req.message_id)
            n = self.send_simple(reply.status, msg,
                                 "application/soap+xml; charset=utf-8")
            return self.log_entry(req, reply.status, n, reply)
        return self.send_image(req, reply)

    def send_image(self, req, reply):
        sim = self.sim
        kind = sim.faults["mime"]["value"] if "mime" in sim.faults else ""
        ctype, parts = mime_multipart(reply, kind, req.message_id)
        page = reply.log.get("page")
        job_id = reply.log.get("job")
        drop = sim.faults.get("drop")
        dropping = drop and drop["n"] == page and not drop["done"]
        if dropping:
            drop["done"] = True
        total = sum(len(p) for p in parts)
        chunked = kind in ("chunked", "endless")
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(total))
        self.end_headers()
        sent = 0
        trickle = sim.faults.get("trickle")
        try:
            if kind == "endless":
                self.write_chunk(parts[0] + parts[1])
                junk = b"\xff" * 65536
                while not sim.stop.is_set():
                    self.write_chunk(junk)
                    sent += len(junk)
            blob = b"".join(parts)
            if kind == "truncated":
                blob = blob[:len(blob) * 2 // 3]
            if dropping:
                blob = blob[:len(blob) // 2]
            step = CHUNK if trickle else len(blob) or 1
            for i in range(0, len(blob), step):
                piece = blob[i:i + step]
                if chunked:
                    self.write_chunk(piece)
                else:
                    self.wfile.write(piece)
                sent += len(piece)
                if trickle:
                    self.wfile.flush()
                    sim.stop.wait(trickle["n"] / 1000.0)
            if dropping or kind == "truncated":
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return self.log_entry(req, 200, sent, reply,
                                      fault="drop" if dropping else "mime")
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return self.log_entry(req, 200, sent, reply, fault="client-gone")
        with sim.lock:
            job = next((j for j in sim.jobs if j.id == job_id), None)
        if job is not None:
            page_sent(sim, job, page, reply.image)
        self.log_entry(req, 200, sent, reply,
                       fault=("mime" if kind else None))

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")

    def sim_api(self, path, body):
        sim = self.sim
        if path == "/sim/control" and self.command == "POST":
            try:
                req = json.loads(body or b"{}")
                state = sim.control(req)
            except ValueError as e:
                return self.send_simple(400, json.dumps({"error": str(e)}),
                                        "application/json")
            return self.send_simple(200, json.dumps(state, indent=1),
                                    "application/json")
        if path == "/sim/state" and self.command == "GET":
            with sim.lock:
                return self.send_simple(200, json.dumps(sim.state_json(),
                                                        indent=1),
                                        "application/json")
        if path == "/sim/log" and self.command == "GET":
            with sim.lock:
                data = json.dumps(sim.log, indent=1)
            return self.send_simple(200, data, "application/json")
        if path == "/sim/log" and self.command == "DELETE":
            with sim.lock:
                sim.log = []
            return self.send_simple(200, "[]", "application/json")
        return self.send_simple(404, json.dumps({"error": "no such call"}),
                                "application/json")


def post_soap(url, action, body, timeout=5.0, extra_header=""):
    """POST a SOAP message to a client (an event to its NotifyTo address).
    Returns the HTTP status, or None when the client could not be reached."""
    data = soap_envelope(action, body, to=url,
                         extra_header=extra_header).encode()
    request = urllib.request.Request(
        url, data=data, method="POST",
        headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return None


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    ssl_context = None

    def finish_request(self, request, client_address):
        if self.ssl_context is not None:
            try:
                request.settimeout(30)
                request = self.ssl_context.wrap_socket(request,
                                                       server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        if Handler.sim and Handler.sim.args.verbose:
            super().handle_error(request, client_address)


class Server6(Server):
    address_family = socket.AF_INET6

    def server_bind(self):
        # Dual stack only when asked to listen on "::".
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY,
                               0 if self.server_address[0] == "::" else 1)
        super().server_bind()


# ----------------------------------------------------- WS-Discovery ---

def interface_addresses(ifname):
    """(ipv4 or None, ipv6 link-local or None, ifindex) of an interface."""
    out = subprocess.run(["ip", "-j", "addr", "show", "dev", ifname],
                         check=True, capture_output=True, timeout=10).stdout
    info = json.loads(out)[0]
    v4 = v6 = None
    for a in info.get("addr_info", []):
        if a["family"] == "inet" and v4 is None:
            v4 = a["local"]
        if a["family"] == "inet6" and a["local"].startswith("fe80") and \
                v6 is None:
            v6 = a["local"]
    return v4, v6, info["ifindex"]


class Discovery:
    """WS-Discovery target service: answers Probe and Resolve, says Hello
    and Bye, on the interfaces named with --interface (IPv4 and IPv6)."""

    def __init__(self, sim, ifnames):
        self.sim = sim
        self.ifs = {}               # ifindex -> (name, v4, v6)
        for name in ifnames:
            v4, v6, idx = interface_addresses(name)
            self.ifs[idx] = (name, v4, v6)
        self.seen = []              # recent MessageIDs (duplicates dropped)
        self.socks = []
        self.s4 = self.s6 = None
        if any(v4 for _, v4, _ in self.ifs.values()):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_IP, IP_MULTICAST_ALL, 0)
            s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            s.bind(("", WSD_PORT))
            for idx, (_, v4, _) in self.ifs.items():
                if v4:
                    mreq = socket.inet_aton(WSD_GROUP4) + \
                        socket.inet_aton(v4) + struct.pack("@i", idx)
                    s.setsockopt(socket.IPPROTO_IP,
                                 socket.IP_ADD_MEMBERSHIP, mreq)
            self.s4 = s
            self.socks.append(s)
        if any(v6 for _, _, v6 in self.ifs.values()):
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
            s.bind(("::", WSD_PORT))
            for idx, (_, _, v6) in self.ifs.items():
                if v6:
                    mreq = socket.inet_pton(socket.AF_INET6, WSD_GROUP6) + \
                        struct.pack("@I", idx)
                    s.setsockopt(socket.IPPROTO_IPV6,
                                 socket.IPV6_JOIN_GROUP, mreq)
            self.s6 = s
            self.socks.append(s)

    def types(self):
        return "wsdp:Device wscn:ScanDeviceType"

    def xaddrs(self, idx, family):
        name, v4, v6 = self.ifs.get(idx, (None, None, None))
        host = v4 if family == socket.AF_INET else \
            ("[%s]" % v6 if v6 else None)
        if not host:
            return None
        return "%s://%s:%d%s" % (self.sim.scheme, host, self.sim.port,
                                 self.sim.args.device_path)

    def endpoint_xml(self, idx, family, resolve=False):
        """EndpointReference, Types, XAddrs, MetadataVersion. XAddrs are
        left out with the no-xaddrs fault, except in a ResolveMatch."""
        x = self.xaddrs(idx, family) if resolve or \
            "no-xaddrs" not in self.sim.faults else None
        return ("<wsa:EndpointReference>%s</wsa:EndpointReference>%s%s%s"
                % (el("wsa:Address", "urn:uuid:" + self.sim.uuid),
                   el("wsd:Types", self.types()),
                   el("wsd:XAddrs", x) if x else "",
                   el("wsd:MetadataVersion", self.sim.metadata_version)))

    def send(self, family, data, dest, idx):
        s = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if family == socket.AF_INET:
                v4 = self.ifs[idx][1]
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                             socket.inet_aton(v4))
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            else:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF,
                             struct.pack("@I", idx))
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS,
                             1)
            s.sendto(data, dest)
        except OSError as e:
            if self.sim.args.verbose:
                sys.stderr.write("wsd-sim: send to %s: %s\n" % (dest, e))
        finally:
            s.close()

    def announce(self, what):
        """Multicast Hello or Bye on every interface and family (twice, as
        SOAP-over-UDP repeats multicast messages)."""
        for idx, (name, v4, v6) in self.ifs.items():
            for family, addr in ((socket.AF_INET, v4), (socket.AF_INET6, v6)):
                if not addr:
                    continue
                if what == "Hello":
                    body = "<wsd:Hello>%s</wsd:Hello>" % self.endpoint_xml(
                        idx, family)
                else:
                    body = ("<wsd:Bye><wsa:EndpointReference>%s"
                            "</wsa:EndpointReference></wsd:Bye>"
                            % el("wsa:Address", "urn:uuid:" + self.sim.uuid))
                mid = "urn:uuid:%s" % uuid.uuid4()
                self.seen.append(mid)   # our own multicast comes back
                msg = soap_envelope(NS["wsd"] + "/" + what, body, to=WSD_TO,
                                    extra_header=self.sim.next_app_sequence(),
                                    message_id=mid)
                dest = (WSD_GROUP4, WSD_PORT) if family == socket.AF_INET \
                    else (WSD_GROUP6, WSD_PORT, 0, idx)
                for i in range(2):
                    self.send(family, msg.encode(), dest, idx)
                    time.sleep(0.02 + random.random() * 0.05)
                self.sim.record({"transport": "udp", "action": what,
                                 "interface": name,
                                 "family": 4 if family == socket.AF_INET
                                 else 6, "instance_id": self.sim.instance_id})

    def serve(self):
        while not self.sim.stop.is_set():
            r, _, _ = select.select(self.socks, [], [], 0.2)
            for s in r:
                try:
                    data, anc, _, src = s.recvmsg(65536, 256)
                except OSError:
                    continue
                idx = 0
                for level, kind, value in anc:
                    if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                        idx = struct.unpack("@i", value[:4])[0]
                    elif level == socket.IPPROTO_IPV6 and \
                            kind == socket.IPV6_PKTINFO:
                        idx = struct.unpack("@I", value[16:20])[0]
                if idx in self.ifs:
                    self.handle(s.family, data, src, idx)

    def handle(self, family, data, src, idx):
        try:
            req = SoapRequest(data)
        except ValueError:
            return
        if not req.message_id or req.message_id in self.seen:
            return
        self.seen.append(req.message_id)
        del self.seen[:-200]
        what = (req.action or "").rpartition("/")[2]
        entry = {"transport": "udp", "action": what,
                 "interface": self.ifs[idx][0],
                 "family": 4 if family == socket.AF_INET else 6,
                 "from": src[0], "answered": False}
        if "mute" in self.sim.faults:
            return self.sim.record(entry)
        reply = None
        if what == "Probe" and req.op is not None and \
                local(req.op.tag) == "Probe":
            types = (text(req.op, "Types") or "").split()
            entry["types"] = types
            if not types or any(t.rpartition(":")[2] in
                                ("Device", "ScanDeviceType") for t in types):
                reply = ("ProbeMatches", "<wsd:ProbeMatches><wsd:ProbeMatch>"
                         "%s</wsd:ProbeMatch></wsd:ProbeMatches>"
                         % self.endpoint_xml(idx, family))
        elif what == "Resolve" and req.op is not None:
            addr = text(req.op, "EndpointReference", "Address")
            entry["address"] = addr
            if addr == "urn:uuid:" + self.sim.uuid:
                reply = ("ResolveMatches", "<wsd:ResolveMatches>"
                         "<wsd:ResolveMatch>%s</wsd:ResolveMatch>"
                         "</wsd:ResolveMatches>"
                         % self.endpoint_xml(idx, family, resolve=True))
        if reply:
            entry["answered"] = True
            msg = soap_envelope(NS["wsd"] + "/" + reply[0], reply[1],
                                relates_to=req.message_id,
                                extra_header=self.sim.next_app_sequence())
            # A short random delay, as SOAP-over-UDP asks of responders.
            time.sleep(random.random() * 0.05)
            for i in range(2):
                self.send(family, msg.encode(), src, idx)
        self.sim.record(entry)


# ------------------------------------------------------------------ main ---

def make_cert(tmpdir):
    cert = os.path.join(tmpdir, "cert.pem")
    key = os.path.join(tmpdir, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        timeout=60)
    return cert, key


def write_atomic(path, data):
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="fault-injecting WSD scanner")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--listen", action="append",
                    help="address to listen on (repeatable); default "
                         "127.0.0.1; '::' = every address, both families")
    ap.add_argument("--ipv6", action="store_true",
                    help="also listen on ::1 (with the default address)")
    ap.add_argument("--uuid")
    ap.add_argument("--model", default="generic", choices=sorted(MODELS))
    ap.add_argument("--adf-pages", type=int, default=3)
    ap.add_argument("--device-path", default="/wsd/device")
    ap.add_argument("--scan-path", default="/wsd/scan")
    ap.add_argument("--interface", action="append", default=[],
                    help="answer WS-Discovery on this interface (repeatable)")
    ap.add_argument("--no-hello", action="store_true")
    ap.add_argument("--reboot-delay", type=int, default=300)
    ap.add_argument("--page-dir")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--cert-out")
    ap.add_argument("--fault", action="append")
    ap.add_argument("--subscription-max", type=int, default=3600)
    ap.add_argument("--lifetime", type=float, default=900)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if args.adf_pages < 0:
        ap.error("--adf-pages must be >= 0")
    for p in (args.device_path, args.scan_path):
        if not p.startswith("/") or p.startswith("/sim/"):
            ap.error("paths must start with / and not with /sim/")
    if args.uuid:
        try:
            args.uuid = str(uuid.UUID(args.uuid))
        except ValueError:
            ap.error("--uuid: not a UUID")
    try:
        sim = Sim(args)
    except FaultError as e:
        ap.error(str(e))
    Handler.sim = sim
    tmpdir = tempfile.mkdtemp(prefix="wsd-sim-")

    listen = args.listen or (["127.0.0.1", "::1"] if args.ipv6
                             else ["127.0.0.1"])
    try:
        ctx = None
        if args.tls:
            cert, key = make_cert(tmpdir)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            if args.cert_out:
                shutil.copyfile(cert, args.cert_out)
        for attempt in range(20):
            servers = []
            try:
                for addr in listen:
                    cls = Server6 if ":" in addr else Server
                    srv = cls((addr, sim.port or args.port), Handler)
                    srv.ssl_context = ctx
                    servers.append(srv)
                    sim.port = srv.server_address[1]
                break
            except OSError:
                for s in servers:
                    s.server_close()
                sim.port = 0
                if args.port or attempt == 19:
                    raise
        if args.interface:
            sim.discovery = Discovery(sim, args.interface)
    except (OSError, subprocess.SubprocessError, KeyError, IndexError,
            ValueError) as e:
        shutil.rmtree(tmpdir, ignore_errors=True)
        sys.stderr.write("wsd-sim: cannot start: %s\n" % e)
        return 1

    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    if sim.discovery:
        threading.Thread(target=sim.discovery.serve, daemon=True).start()
        if not args.no_hello:
            sim.discovery.announce("Hello")
    if args.port_file:
        write_atomic(args.port_file, "%d\n" % sim.port)
    if args.verbose:
        sys.stderr.write("wsd-sim: model %s, uuid %s, port %d%s\n" % (
            args.model, sim.uuid, sim.port, " (TLS)" if ctx else ""))

    def on_signal(signum, frame):
        sim.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sim.stop.wait(args.lifetime if args.lifetime > 0 else None)
    if sim.discovery:
        sim.discovery.announce("Bye")
    shutil.rmtree(tmpdir, ignore_errors=True)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
