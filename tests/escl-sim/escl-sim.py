#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# escl-sim: a fault-injecting eSCL (AirScan) scanner simulator for scand's
# tests. See README.md next to this file for the command line, the models,
# the faults and the JSON control API; keep that file in sync with this one.
#
# Only the Python standard library and Debian's python3-pil are used. The
# simulator listens on loopback only and never opens a connection itself
# (except running `openssl` locally to make a throw-away certificate).

import argparse
import http.server
import io
import json
import os
import selectors
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET

from PIL import Image, ImageDraw, PngImagePlugin

import hp_walkup

NS_SCAN = "http://schemas.hp.com/imaging/escl/2011/05/03"
NS_PWG = "http://www.pwg.org/schemas/2010/12/sm"

# Request headers copied into /sim/log entries.
LOGGED_HEADERS = ("Host", "Content-Type", "Content-Length", "User-Agent",
                  "Range", "Connection", "Accept", "Accept-Encoding",
                  "Expect", "Transfer-Encoding")

MAX_BODY = 1 << 20          # largest request body accepted
MAX_LOG = 10000             # request log entries kept
MAX_JOBS = 64               # jobs kept (oldest dropped)
MAX_PIXELS = 80_000_000     # refuse to render absurd pages
CHUNK = 4096                # trickle chunk size

# ---------------------------------------------------------------- models ---
# Device personalities as data: each entry names the model and the reason
# (the real-device behaviour it imitates).

COMMON_RES = [75, 150, 300, 600]

MODELS = {
    # Plain, well-behaved device with prefixed namespaces.
    "generic": dict(
        make_and_model="escl-sim Generic MFP", manufacturer="escl-sim",
        version="2.63", server="escl-sim/1.0", default_ns=False,
        duplex=True, resolutions=COMMON_RES, res_range=None,
        formats=["image/jpeg", "application/pdf"], empty_status=409),
    # HP LaserJet firmware: default namespace, HP_Compact_Server, and
    # (with --strict-host) ScanJobs only accepted with Host: localhost.
    "hp": dict(
        make_and_model="HP LaserJet MFP M630", manufacturer="HP",
        version="2.63", server="HP_Compact_Server", default_ns=True,
        duplex=True, resolutions=COMMON_RES, res_range=None,
        formats=["image/jpeg", "application/pdf"], empty_status=409),
    # Brother MFC: false 404 on NextDocument right after ScanJobs (ADF).
    "brother": dict(
        make_and_model="Brother MFC-L2710DW series", manufacturer="Brother",
        version="2.62", server="debut/1.30", default_ns=False,
        duplex=True, resolutions=[100, 150, 200, 300, 600], res_range=None,
        formats=["image/jpeg", "application/pdf"], empty_status=503),
    # Epson: wants the port in the Host header; resolution as a range.
    "epson": dict(
        make_and_model="EPSON ET-4850 Series", manufacturer="EPSON",
        version="2.0", server="EPSON_Linux UPnP/1.0 Epson UPnP SDK/1.0",
        default_ns=False, duplex=False, resolutions=None,
        res_range=(75, 600, 1),
        formats=["image/jpeg", "application/pdf"], empty_status=503),
    # Xerox B205: 404 then 410 before each page is ready.
    "xerox-b205": dict(
        make_and_model="Xerox B205 MFP", manufacturer="Xerox",
        version="2.63", server="Xerox_MFP", default_ns=False,
        duplex=False, resolutions=COMMON_RES, res_range=None,
        formats=["image/jpeg", "application/pdf"], empty_status=409),
    # Devices whose ADF sensor reports a jam when the tray is simply empty.
    "jam-when-empty": dict(
        make_and_model="escl-sim JamWhenEmpty MFP", manufacturer="escl-sim",
        version="2.63", server="escl-sim/1.0", default_ns=False,
        duplex=False, resolutions=COMMON_RES, res_range=None,
        formats=["image/jpeg"], empty_status=409),
    # Advertises more than the sensor does (cf. Canon iR2625 quirk).
    "overadvertise": dict(
        make_and_model="escl-sim Overadvertise MFP", manufacturer="escl-sim",
        version="2.63", server="escl-sim/1.0", default_ns=False,
        duplex=False, resolutions=COMMON_RES + [1200, 2400], res_range=None,
        formats=["image/jpeg"], empty_status=409),
    "png-only": dict(
        make_and_model="escl-sim PNG MFP", manufacturer="escl-sim",
        version="2.63", server="escl-sim/1.0", default_ns=False,
        duplex=True, resolutions=COMMON_RES, res_range=None,
        formats=["image/png"], empty_status=409),
    "pdf-only": dict(
        make_and_model="escl-sim PDF MFP", manufacturer="escl-sim",
        version="2.63", server="escl-sim/1.0", default_ns=False,
        duplex=True, resolutions=COMMON_RES, res_range=None,
        formats=["application/pdf"], empty_status=409),
}

PLATEN_MAX = (2550, 3508)   # 8.5 in x A4 height, 1/300 in
ADF_MAX = (2550, 4200)      # 8.5 in x 14 in (legal)
COLOR_MODES = ["BlackAndWhite1", "Grayscale8", "RGB24"]

FAULTS_WITH_INT = ("end-after", "jam-after", "drop", "drop-always", "slow",
                   "feed", "trickle", "corrupt", "drip-status", "huge")
FAULTS_FLAG = ("location-ipv6-broken", "location-relative", "busy",
               "bad-caps", "endless", "bloated-status")
ENDLESS_SHEETS = 10 ** 9    # the "endless" feeder's sheets
HUGE_PAGE = 300 * 1024 * 1024   # bytes of a "huge" page
STATES = ("Idle", "Processing", "Stopped", "Down")
ADF_STATES = ("ScannerAdfLoaded", "ScannerAdfEmpty", "ScannerAdfJam",
              "ScannerAdfMispick", "ScannerAdfHatchOpen", "ScannerAdfDoorOpen",
              "ScannerAdfProcessing", "ScannerAdfDuplexPageTooShort",
              "ScannerAdfDuplexPageTooLong", "ScannerAdfMultipickDetected",
              "ScannerAdfInputTrayFailed", "ScannerAdfInputTrayOverloaded")


class FaultError(ValueError):
    pass


def parse_fault(spec):
    """Parse "NAME[=ARG]" into (name, value); raise FaultError if bad."""
    name, _, arg = spec.partition("=")
    name = name.strip()
    try:
        if name in ("storm", "storm-jobs"):
            n, _, s = arg.partition("/")
            n = int(n)
            s = int(s) if s != "" else None
            if n < 0 or (s is not None and s < 0):
                raise ValueError
            return name, {"left": n, "retry_after": s, "spec": spec}
        if name == "drip":
            n, _, ms = arg.partition("/")
            n = int(n)
            ms = int(ms) if ms != "" else 1000
            if n < 1 or ms < 1:
                raise ValueError
            return name, {"n": n, "ms": ms, "spec": spec}
        if name in FAULTS_WITH_INT:
            v = int(arg)
            if v < 0:
                raise ValueError
            return name, {"n": v, "done": False, "spec": spec}
        if name == "location-host":
            host, _, port = arg.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError
            return name, {"hostport": arg, "spec": spec}
        if name == "empty":
            code = int(arg) if arg else None
            if code not in (None, 409, 503):
                raise ValueError
            return name, {"code": code, "spec": spec}
        if name in FAULTS_FLAG:
            if arg:
                raise ValueError
            return name, {"spec": spec}
    except ValueError:
        raise FaultError("bad argument in fault '%s'" % spec)
    raise FaultError("unknown fault '%s'" % name)


# ----------------------------------------------------------------- pages ---

def _draw_label(img, text, fill):
    """Draw text scaled up from PIL's built-in bitmap font (no font files)."""
    small = Image.new("L", (8 * len(text) + 4, 14), 0)
    ImageDraw.Draw(small).text((2, 1), text, fill=255)
    scale = max(1, min(img.width // (small.width * 2), img.height // 40, 12))
    big = small.resize((small.width * scale, small.height * scale),
                       Image.NEAREST)
    mask = big
    img.paste(fill, (min(8, img.width // 20), 64), mask)


def render_page(fmt, color_mode, width, height, res, ident, page, sheet,
                back):
    """Render one page. Returns bytes of the requested format."""
    if color_mode == "RGB24":
        mode, bg, ink = "RGB", (255, 255, 255), (0, 0, 0)
        tint = ((page * 53) % 64, (page * 97) % 64, (page * 29) % 64)
    else:
        mode, bg, ink, tint = "L", 255, 0, None
    img = Image.new(mode, (width, height), bg)
    d = ImageDraw.Draw(img)
    # Identity bars: row band 0-23 has width 16*page; backs also have a
    # band at rows 32-55 of width 16*sheet.
    d.rectangle([0, 0, min(width, 16 * page) - 1, min(height, 24) - 1],
                fill=ink)
    if back and height > 32:
        d.rectangle([0, 32, min(width, 16 * sheet) - 1, min(height, 56) - 1],
                    fill=ink)
    if tint is not None and height > 120:
        # A coloured stripe so colour pages are really colour.
        d.rectangle([0, height - 40, width - 1, height - 1],
                    fill=(255 - tint[0] * 3, 64 + tint[1], 255 - tint[2]))
    label = "%d%s" % (page, "B" if back else "")
    if height > 100 and width > 40:
        _draw_label(img, label, ink)
    if fmt == "image/jpeg":
        out = io.BytesIO()
        img.save(out, "JPEG", quality=80, dpi=(res, res))
        data = out.getvalue()
        # COM segment right after SOI carries the identity string.
        com = ident.encode()
        return data[:2] + b"\xff\xfe" + (len(com) + 2).to_bytes(2, "big") + \
            com + data[2:]
    if fmt == "image/png":
        if color_mode == "BlackAndWhite1":
            img = img.convert("1")
        info = PngImagePlugin.PngInfo()
        info.add_text("escl-sim", ident)
        out = io.BytesIO()
        img.save(out, "PNG", pnginfo=info, dpi=(res, res))
        return out.getvalue()
    if fmt == "application/pdf":
        out = io.BytesIO()
        img.save(out, "PDF", resolution=float(res), subject=ident,
                 title="escl-sim page %d" % page)
        return out.getvalue()
    raise ValueError(fmt)


# ------------------------------------------------------------------- XML ---

class XmlWriter:
    """Tiny XML writer that knows whether scan: is the default namespace."""

    def __init__(self, default_ns):
        self.default_ns = default_ns
        self.parts = ['<?xml version="1.0" encoding="UTF-8"?>\n']

    def tag(self, name):
        if self.default_ns and name.startswith("scan:"):
            return name[5:]
        return name

    def root(self, name):
        if self.default_ns:
            attrs = ' xmlns="%s" xmlns:pwg="%s"' % (NS_SCAN, NS_PWG)
        else:
            attrs = ' xmlns:scan="%s" xmlns:pwg="%s"' % (NS_SCAN, NS_PWG)
        return "<%s%s>" % (self.tag(name), attrs)

    def el(self, name, value):
        t = self.tag(name)
        v = str(value).replace("&", "&amp;").replace("<", "&lt;")
        return "<%s>%s</%s>" % (t, v, t)

    def open(self, name):
        return "<%s>" % self.tag(name)

    def close(self, name):
        return "</%s>" % self.tag(name)


def _input_caps(w, model, name, maxdim):
    p = [w.open(name),
         w.el("scan:MinWidth", 16), w.el("scan:MaxWidth", maxdim[0]),
         w.el("scan:MinHeight", 16), w.el("scan:MaxHeight", maxdim[1]),
         w.el("scan:MaxScanRegions", 1),
         w.open("scan:SettingProfiles"), w.open("scan:SettingProfile"),
         w.open("scan:ColorModes")]
    p += [w.el("scan:ColorMode", m) for m in COLOR_MODES]
    p += [w.close("scan:ColorModes"), w.open("scan:DocumentFormats")]
    p += [w.el("pwg:DocumentFormat", f) for f in model["formats"]]
    p += [w.el("scan:DocumentFormatExt", f) for f in model["formats"]]
    p += [w.close("scan:DocumentFormats"), w.open("scan:SupportedResolutions")]
    if model["resolutions"]:
        p.append(w.open("scan:DiscreteResolutions"))
        for r in model["resolutions"]:
            p += [w.open("scan:DiscreteResolution"),
                  w.el("scan:XResolution", r), w.el("scan:YResolution", r),
                  w.close("scan:DiscreteResolution")]
        p.append(w.close("scan:DiscreteResolutions"))
    if model["res_range"]:
        lo, hi, step = model["res_range"]
        p.append(w.open("scan:ResolutionRange"))
        for axis in ("scan:XResolutionRange", "scan:YResolutionRange"):
            p += [w.open(axis), w.el("scan:Min", lo), w.el("scan:Max", hi),
                  w.el("scan:Normal", 300), w.el("scan:Step", step),
                  w.close(axis)]
        p.append(w.close("scan:ResolutionRange"))
    p += [w.close("scan:SupportedResolutions"),
          w.open("scan:ColorSpaces"), w.el("scan:ColorSpace", "sRGB"),
          w.close("scan:ColorSpaces"),
          w.close("scan:SettingProfile"), w.close("scan:SettingProfiles"),
          w.open("scan:SupportedIntents")]
    p += [w.el("scan:Intent", i) for i in
          ("Document", "TextAndGraphic", "Photo", "Preview")]
    top = max(model["resolutions"] or [model["res_range"][1]])
    p += [w.close("scan:SupportedIntents"),
          w.el("scan:MaxOpticalXResolution", min(top, 600)),
          w.el("scan:MaxOpticalYResolution", min(top, 600)),
          w.el("scan:RiskyLeftMargin", 0), w.el("scan:RiskyRightMargin", 0),
          w.el("scan:RiskyTopMargin", 0), w.el("scan:RiskyBottomMargin", 0),
          w.close(name)]
    return p


def capabilities_xml(model, uuid_str, base):
    w = XmlWriter(model["default_ns"])
    p = [w.root("scan:ScannerCapabilities"),
         w.el("pwg:Version", model["version"]),
         w.el("pwg:MakeAndModel", model["make_and_model"]),
         w.el("pwg:SerialNumber", "SIM" + uuid_str[:8].upper()),
         w.el("scan:Manufacturer", model["manufacturer"]),
         w.el("scan:UUID", uuid_str),
         w.el("scan:AdminURI", base + "/"),
         w.el("scan:IconURI", base + "/icon.png"),
         w.open("scan:Platen")]
    p += _input_caps(w, model, "scan:PlatenInputCaps", PLATEN_MAX)
    p += [w.close("scan:Platen"), w.open("scan:Adf")]
    p += _input_caps(w, model, "scan:AdfSimplexInputCaps", ADF_MAX)
    if model["duplex"]:
        p += _input_caps(w, model, "scan:AdfDuplexInputCaps", ADF_MAX)
    p += [w.el("scan:FeederCapacity", 50), w.open("scan:AdfOptions"),
          w.el("scan:AdfOption", "DetectPaperLoaded")]
    if model["duplex"]:
        p.append(w.el("scan:AdfOption", "Duplex"))
    p += [w.close("scan:AdfOptions"), w.open("scan:Justification"),
          w.el("pwg:XImagePosition", "Center"),
          w.el("pwg:YImagePosition", "Top"), w.close("scan:Justification"),
          w.close("scan:Adf"), w.close("scan:ScannerCapabilities")]
    return w.parts[0] + "\n".join(p) + "\n"


def _find(root, *names):
    """Find the first descendant whose local name is in names."""
    for el in root.iter():
        local = el.tag.rpartition("}")[2]
        if local in names:
            return el
    return None


def _text(root, *names):
    el = _find(root, *names)
    return el.text.strip() if el is not None and el.text else None


def parse_scan_settings(body):
    """Decode ScanSettings XML into a dict; raise ValueError on bad input."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise ValueError("malformed ScanSettings XML: %s" % e)
    if root.tag.rpartition("}")[2] != "ScanSettings":
        raise ValueError("root element is not ScanSettings")
    s = {}
    s["source"] = _text(root, "InputSource") or "Platen"
    duplex = (_text(root, "Duplex") or "false").lower()
    s["duplex"] = duplex in ("true", "1")
    s["color_mode"] = _text(root, "ColorMode") or "RGB24"
    s["format"] = _text(root, "DocumentFormatExt") or \
        _text(root, "DocumentFormat") or "image/jpeg"
    try:
        xr = int(_text(root, "XResolution") or 300)
        yr = int(_text(root, "YResolution") or xr)
        region = _find(root, "ScanRegion")
        if region is not None:
            s["width"] = int(_text(region, "Width"))
            s["height"] = int(_text(region, "Height"))
            s["x_off"] = int(_text(region, "XOffset") or 0)
            s["y_off"] = int(_text(region, "YOffset") or 0)
    except (TypeError, ValueError):
        raise ValueError("bad number in ScanSettings")
    s["x_res"], s["y_res"] = xr, yr
    s["intent"] = _text(root, "Intent")
    return s


# ----------------------------------------------------------------- state ---

class Job:
    def __init__(self, jid, uri, settings, pages_total, sheets):
        self.id = jid
        self.uri = uri
        self.uuid = str(uuid.uuid4())
        self.settings = settings
        self.pages_total = pages_total
        self.sheets = sheets
        self.served = 0
        self.state = "Processing"
        self.reason = "JobScanning"
        self.created = time.monotonic()
        self.attempts = 0           # NextDocument tries for the next page
        # One scan engine: NextDocument requests of a job are served one at
        # a time, so concurrent requests never get the same page.
        self.engine = threading.Lock()
        self.last_info = None       # (width, height, bytes_per_line)

    def to_json(self):
        s = self.settings
        return {"id": self.id, "uri": self.uri, "uuid": self.uuid,
                "state": self.state, "source": s["source"],
                "duplex": s["duplex"], "resolution": s["x_res"],
                "color_mode": s["color_mode"], "format": s["format"],
                "width": s["px_w"], "height": s["px_h"],
                "pages_served": self.served, "pages_total": self.pages_total}


class Sim:
    """All simulator state, guarded by one lock."""

    def __init__(self, args):
        self.args = args
        self.model_name = args.model
        self.model = dict(MODELS[args.model])
        if args.caps_ns != "model":
            self.model["default_ns"] = args.caps_ns == "default"
        self.uuid = str(uuid.uuid5(uuid.NAMESPACE_URL,
                                   "escl-sim:" + args.model))
        self.lock = threading.RLock()
        self.port = 0
        self.stop = threading.Event()
        self.initial_faults = list(args.fault or [])
        self.walkup = hp_walkup.Walkup(args.walkup, args.walkup_start_ms) \
            if args.walkup else None
        self.reset()

    def reset(self):
        self.jobs = []
        self.next_job = 1
        self.faults = {}
        self.log = []
        self.pages_served = 0
        self.page_files = sorted(
            os.path.join(self.args.pages_dir, n) for n in os.listdir(self.args.pages_dir)
            if n.endswith(".jpg")) if self.args.pages_dir else []
        self.sheets = len(self.page_files) if self.page_files else self.args.adf_pages
        self.forced_state = self.args.state if self.args.state != "Idle" \
            else None
        self.forced_adf = None
        self.jammed = False
        self.empty_code = None
        for f in self.initial_faults:
            self.add_fault(f)

    def add_fault(self, spec):
        name, val = parse_fault(spec)
        self.faults[name] = val
        if name == "endless":
            self.sheets = ENDLESS_SHEETS
        if name == "empty":
            self.sheets = 0
            self.empty_code = val["code"]

    def clear_faults(self):
        self.faults = {}
        self.jammed = False
        self.forced_state = None
        self.forced_adf = None
        self.empty_code = None

    def unfed_sheets(self):
        n = 0
        for j in self.jobs:
            if j.state == "Processing" and j.settings["source"] == "Feeder":
                n += j.sheets - self.sheets_fed(j)
        return n

    @staticmethod
    def sheets_fed(job):
        sides = 2 if job.settings["duplex"] else 1
        return job.served // sides

    def available_sheets(self):
        return max(0, self.sheets - self.unfed_sheets())

    def state(self):
        if self.forced_state:
            return self.forced_state
        if "busy" in self.faults:
            return "Processing"
        if self.jammed:
            return "Stopped"
        if any(j.state == "Processing" for j in self.jobs):
            return "Processing"
        return "Idle"

    def adf_state(self):
        if self.forced_adf:
            return self.forced_adf
        if self.jammed:
            return "ScannerAdfJam"
        if self.sheets > 0:
            return "ScannerAdfLoaded"
        if self.model_name == "jam-when-empty":
            return "ScannerAdfJam"
        return "ScannerAdfEmpty"

    def state_json(self):
        return {"model": self.model_name, "port": self.port,
                "state": self.state(), "adf_state": self.adf_state(),
                "adf_pages": self.sheets, "jammed": self.jammed,
                "faults": sorted(v["spec"] for v in self.faults.values()),
                "pages_served": self.pages_served,
                "jobs": [j.to_json() for j in self.jobs],
                "walkup": self.walkup.state_json("127.0.0.1:%d" % self.port)
                if self.walkup else None}

    def status_xml(self):
        w = XmlWriter(False)
        p = [w.root("scan:ScannerStatus"),
             w.el("pwg:Version", self.model["version"]),
             w.el("pwg:State", self.state()),
             w.el("scan:AdfState", self.adf_state()),
             w.open("scan:Jobs")]
        now = time.monotonic()
        for j in reversed(self.jobs):
            p += [w.open("scan:JobInfo"),
                  w.el("pwg:JobUri", j.uri),
                  w.el("pwg:JobUuid", "urn:uuid:" + j.uuid),
                  w.el("scan:Age", int(now - j.created)),
                  w.el("pwg:ImagesCompleted", j.served),
                  w.el("pwg:ImagesToTransfer",
                       j.pages_total - j.served
                       if j.state == "Processing" else 0),
                  w.el("pwg:JobState", j.state),
                  w.open("pwg:JobStateReasons"),
                  w.el("pwg:JobStateReason", j.reason),
                  w.close("pwg:JobStateReasons"),
                  w.close("scan:JobInfo")]
        p += [w.close("scan:Jobs"), w.close("scan:ScannerStatus")]
        return w.parts[0] + "\n".join(p) + "\n"

    def control(self, req):
        """Apply a /sim/control request; raise FaultError on bad input."""
        if not isinstance(req, dict):
            raise FaultError("control body must be a JSON object")
        known = {"reset", "clear", "fault", "faults", "clear_fault",
                 "adf_pages", "paper", "state", "adf_state", "walkup"}
        bad = set(req) - known
        if bad:
            raise FaultError("unknown control key(s): %s" %
                             ", ".join(sorted(bad)))
        # Validate everything before changing anything.
        faults = []
        if "fault" in req:
            faults.append(req["fault"])
        if "faults" in req:
            if not isinstance(req["faults"], list):
                raise FaultError("'faults' must be a list")
            faults += req["faults"]
        for f in faults:
            if not isinstance(f, str):
                raise FaultError("fault must be a string")
            parse_fault(f)
        if "adf_pages" in req and (not isinstance(req["adf_pages"], int) or
                                   req["adf_pages"] < 0 or
                                   req["adf_pages"] > 100000):
            raise FaultError("'adf_pages' must be an integer 0..100000")
        if "paper" in req and req["paper"] not in ("loaded", "empty"):
            raise FaultError("'paper' must be \"loaded\" or \"empty\"")
        if "state" in req and req["state"] not in STATES + (None,):
            raise FaultError("'state' must be one of %s or null" %
                             ", ".join(STATES))
        if "adf_state" in req and req["adf_state"] not in ADF_STATES + (None,):
            raise FaultError("'adf_state' must be one of %s or null" %
                             ", ".join(ADF_STATES))
        if req.get("reset"):
            self.initial_faults = []
            self.reset()
        if req.get("clear"):
            self.clear_faults()
        for f in faults:
            self.add_fault(f)
        if "clear_fault" in req:
            self.faults.pop(req["clear_fault"], None)
            if req["clear_fault"] == "jam-after":
                self.jammed = False
            if req["clear_fault"] == "empty":
                self.empty_code = None
        if "adf_pages" in req:
            self.sheets = req["adf_pages"]
            self.jammed = False
        if "paper" in req:
            self.sheets = self.args.adf_pages if req["paper"] == "loaded" \
                else 0
            self.jammed = False
        if "state" in req:
            self.forced_state = req["state"]
        if "adf_state" in req:
            self.forced_adf = req["adf_state"]
            if req["adf_state"] is None:
                self.jammed = False
        if "walkup" in req:
            if not self.walkup:
                raise FaultError("'walkup' needs --walkup comp|legacy")
            try:
                self.walkup_reply = self.walkup.control(
                    req["walkup"], "127.0.0.1:%d" % self.port)
            except hp_walkup.WalkupError as e:
                raise FaultError(str(e))


# ---------------------------------------------------------------- server ---

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 60        # idle keep-alive connections are closed after this

    sim = None          # set by main()

    def version_string(self):
        return self.sim.model["server"]

    def log_message(self, fmt, *args):
        if self.sim.args.verbose:
            sys.stderr.write("escl-sim: %s %s\n" %
                             (self.address_string(), fmt % args))

    # -- plumbing ---------------------------------------------------------

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if te == "chunked":
            out = b""
            for _ in range(10000):
                line = self.rfile.readline(100)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline(100)
                    break
                if len(out) + size > MAX_BODY:
                    raise ValueError("body too large")
                out += self.rfile.read(size)
                self.rfile.readline(100)
            return out
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def record(self, status, nbytes, fault=None):
        if self.path.startswith("/sim/"):
            return
        hdrs = {h: self.headers[h] for h in LOGGED_HEADERS
                if self.headers.get(h) is not None}
        entry = {"time": time.time(), "method": self.command,
                 "path": self.path, "host": self.headers.get("Host"),
                 "headers": hdrs, "status": status, "bytes": nbytes,
                 "fault": fault}
        with self.sim.lock:
            self.sim.log.append(entry)
            if len(self.sim.log) > MAX_LOG:
                del self.sim.log[:len(self.sim.log) - MAX_LOG]

    def reply(self, status, body=b"", ctype=None, headers=None, fault=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.record(status, len(body), fault)

    def drip(self, data, ctype, ms, fault):
        """200 with the full Content-Length, then one byte every ms ms (a
        device that never quite stops, never quite sends)."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        sent = 0
        try:
            for i in range(len(data)):
                if self.sim.stop.is_set():
                    break
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                sent += 1
                self.sleep(ms / 1000.0)
        except OSError:
            pass
        self.close_connection = True
        self.record(200, sent, fault)

    def huge(self, ctype):
        """A page far larger than any real one, sent as fast as the client
        takes it: a JPEG start, then filler."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(HUGE_PAGE))
        self.end_headers()
        chunk = b"\0" * 65536
        sent = 0
        try:
            self.wfile.write(b"\xff\xd8\xff\xfe\x00\x10escl-sim huge\x00")
            sent = 20
            while sent < HUGE_PAGE and not self.sim.stop.is_set():
                n = min(len(chunk), HUGE_PAGE - sent)
                self.wfile.write(chunk[:n])
                sent += n
        except OSError:
            pass
        self.close_connection = True
        self.record(200, sent, "huge")

    def reply_json(self, status, obj):
        self.reply(status, json.dumps(obj, indent=1) + "\n",
                   "application/json")

    def sleep(self, seconds):
        self.sim.stop.wait(max(0.0, seconds))

    # -- dispatch ---------------------------------------------------------

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def dispatch(self):
        try:
            body = self.read_body()
        except ValueError as e:
            self.close_connection = True
            return self.reply(400, "%s\n" % e, "text/plain")
        path, _, query = self.path.partition("?")
        while "//" in path:
            path = path.replace("//", "/")
        if path.startswith("/sim/"):
            return self.sim_api(path, body)
        if self.sim.walkup and self.sim.walkup.handle(self, path, query,
                                                      body):
            return None
        root = self.sim.args.root.rstrip("/")
        if not path.startswith(root + "/"):
            return self.reply(404, "not found\n", "text/plain")
        rel = path[len(root) + 1:].rstrip("/")
        if not self.host_ok(rel):
            return self.reply(400, "bad Host header\n", "text/plain",
                              fault="strict-host")
        if rel == "ScannerCapabilities" and self.command == "GET":
            return self.get_capabilities()
        if rel == "ScannerStatus" and self.command == "GET":
            with self.sim.lock:
                xml = self.sim.status_xml()
                drip = self.sim.faults.get("drip-status")
                bloated = "bloated-status" in self.sim.faults
            if drip:
                return self.drip(xml.encode(), "text/xml", drip["n"],
                                 "drip-status")
            if bloated:
                # Well-formed, but 5 MB: a comment pads it before the root.
                pad = "<!-- " + "x" * (5 * 1024 * 1024) + " -->\n"
                xml = xml.replace("?>\n", "?>\n" + pad, 1)
                return self.reply(200, xml, "text/xml",
                                  fault="bloated-status")
            return self.reply(200, xml, "text/xml")
        if rel == "ScanJobs" and self.command == "POST":
            return self.post_scanjobs(body)
        parts = rel.split("/")
        if len(parts) >= 2 and parts[0] == "ScanJobs":
            with self.sim.lock:
                job = next((j for j in self.sim.jobs if j.id == parts[1]),
                           None)
            if job is None:
                return self.reply(404, "no such job\n", "text/plain")
            if len(parts) == 2 and self.command == "DELETE":
                with self.sim.lock:
                    if job.state == "Processing":
                        job.state, job.reason = "Canceled", \
                            "JobCanceledByUser"
                return self.reply(200)
            if len(parts) == 3 and parts[2] == "NextDocument" and \
                    self.command == "GET":
                return self.next_document(job)
            if len(parts) == 3 and parts[2] == "ScanImageInfo" and \
                    self.command == "GET":
                return self.scan_image_info(job)
        if rel in ("ScannerCapabilities", "ScannerStatus", "ScanJobs"):
            return self.reply(405, "method not allowed\n", "text/plain")
        return self.reply(404, "not found\n", "text/plain")

    def host_ok(self, rel):
        if not self.sim.args.strict_host:
            return True
        host = self.headers.get("Host") or ""
        if self.sim.model_name == "hp":
            # HP firmware only checks the job-creating request.
            if rel != "ScanJobs" or self.command != "POST":
                return True
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            return name == "localhost"
        if self.sim.model_name == "epson":
            if host.startswith("["):
                return "]:" in host
            return ":" in host
        return True

    # -- control API ------------------------------------------------------

    def sim_api(self, path, body):
        sim = self.sim
        if path == "/sim/state" and self.command == "GET":
            with sim.lock:
                st = sim.state_json()
            return self.reply_json(200, st)
        if path == "/sim/log" and self.command == "GET":
            with sim.lock:
                log = list(sim.log)
            return self.reply_json(200, log)
        if path == "/sim/log" and self.command == "DELETE":
            with sim.lock:
                sim.log = []
            return self.reply_json(200, [])
        if path == "/sim/control" and self.command == "POST":
            try:
                req = json.loads(body.decode() or "{}")
            except (ValueError, UnicodeDecodeError) as e:
                return self.reply_json(400, {"error": "bad JSON: %s" % e})
            try:
                with sim.lock:
                    sim.walkup_reply = None
                    sim.control(req)
                    st = sim.state_json()
                    if sim.walkup_reply is not None:
                        st["walkup_reply"] = sim.walkup_reply
            except FaultError as e:
                return self.reply_json(400, {"error": str(e)})
            return self.reply_json(200, st)
        return self.reply_json(404, {"error": "unknown control resource"})

    # -- eSCL -------------------------------------------------------------

    def base_url(self):
        scheme = "https" if self.sim.args.tls else "http"
        host = self.headers.get("Host") or "127.0.0.1:%d" % self.sim.port
        return "%s://%s" % (scheme, host)

    def get_capabilities(self):
        with self.sim.lock:
            bad = "bad-caps" in self.sim.faults
        xml = capabilities_xml(self.sim.model, self.sim.uuid,
                               self.base_url() + self.sim.args.root)
        if bad:
            return self.reply(200, xml[:len(xml) // 2], "text/xml",
                              fault="bad-caps")
        return self.reply(200, xml, "text/xml")

    def validate(self, s):
        """Check settings against the model; returns an error or None."""
        m = self.sim.model
        if s["source"] not in ("Platen", "Feeder"):
            return "unknown InputSource %s" % s["source"]
        if s["source"] == "Platen":
            s["duplex"] = False
        if s["duplex"] and not m["duplex"]:
            return "duplex not supported"
        if s["color_mode"] not in COLOR_MODES:
            return "unsupported ColorMode %s" % s["color_mode"]
        if s["format"] not in m["formats"]:
            return "unsupported DocumentFormat %s" % s["format"]
        for r in (s["x_res"], s["y_res"]):
            if m["resolutions"] and r not in m["resolutions"]:
                return "unsupported resolution %d" % r
            if m["res_range"] and not m["res_range"][0] <= r <= \
                    m["res_range"][1]:
                return "unsupported resolution %d" % r
        maxw, maxh = PLATEN_MAX if s["source"] == "Platen" else ADF_MAX
        s.setdefault("width", maxw)
        s.setdefault("height", maxh)
        s.setdefault("x_off", 0)
        s.setdefault("y_off", 0)
        if not (16 <= s["width"] and s["x_off"] + s["width"] <= maxw and
                16 <= s["height"] and s["y_off"] + s["height"] <= maxh and
                s["x_off"] >= 0 and s["y_off"] >= 0):
            return "scan region out of range"
        eff = min(s["x_res"], 600) if self.sim.model_name == \
            "overadvertise" else s["x_res"]
        effy = min(s["y_res"], 600) if self.sim.model_name == \
            "overadvertise" else s["y_res"]
        s["px_w"] = max(1, s["width"] * eff // 300)
        s["px_h"] = max(1, s["height"] * effy // 300)
        if s["px_w"] * s["px_h"] > MAX_PIXELS:
            return "page too large for the simulator"
        return None

    def post_scanjobs(self, body):
        sim = self.sim
        with sim.lock:
            storm = sim.faults.get("storm-jobs")
            if storm and storm["left"] > 0:
                storm["left"] -= 1
                hdr = {"Retry-After": str(storm["retry_after"])} \
                    if storm["retry_after"] is not None else {}
                return self.reply(503, "busy\n", "text/plain", hdr,
                                  fault="storm-jobs")
            if sim.state() in ("Processing", "Stopped", "Down") and (
                    sim.forced_state or "busy" in sim.faults or
                    sim.jammed):
                return self.reply(503, "device busy\n", "text/plain",
                                  fault="busy" if "busy" in sim.faults
                                  else None)
        try:
            s = parse_scan_settings(body)
        except ValueError as e:
            return self.reply(400, "%s\n" % e, "text/plain")
        err = self.validate(s)
        if err:
            return self.reply(409, err + "\n", "text/plain")
        with sim.lock:
            if s["source"] == "Feeder":
                sheets = sim.available_sheets()
                if sheets == 0:
                    code = sim.empty_code or sim.model["empty_status"]
                    return self.reply(code, "feeder empty\n", "text/plain",
                                      fault="empty" if "empty" in sim.faults
                                      else None)
                pages = sheets * (2 if s["duplex"] else 1)
            else:
                sheets, pages = 0, 1
            if self.sim.model_name == "hp":
                jid = str(uuid.uuid4())
            else:
                jid = str(sim.next_job)
            sim.next_job += 1
            path = "%s/ScanJobs/%s" % (sim.args.root.rstrip("/"), jid)
            job = Job(jid, path, s, pages, sheets)
            sim.jobs.append(job)
            if len(sim.jobs) > MAX_JOBS:
                del sim.jobs[0]
            scheme = "https" if sim.args.tls else "http"
            fault = None
            if "location-host" in sim.faults:
                loc = "%s://%s%s" % (scheme,
                                     sim.faults["location-host"]["hostport"],
                                     path)
                fault = "location-host"
            elif "location-ipv6-broken" in sim.faults:
                loc = "%s://::1:%d%s" % (scheme, sim.port, path)
                fault = "location-ipv6-broken"
            elif "location-relative" in sim.faults:
                loc = path
                fault = "location-relative"
            else:
                loc = self.base_url() + path
        return self.reply(201, b"", None, {"Location": loc}, fault=fault)

    def scan_image_info(self, job):
        with self.sim.lock:
            info = job.last_info or (job.settings["px_w"],
                                     job.settings["px_h"], 0)
        w = XmlWriter(False)
        p = [w.root("scan:ImageInfo"), w.el("pwg:JobUri", job.uri),
             w.el("pwg:JobUuid", "urn:uuid:" + job.uuid),
             w.el("scan:ActualWidth", info[0]),
             w.el("scan:ActualHeight", info[1]),
             w.el("scan:ActualBytesPerLine", info[2]),
             w.close("scan:ImageInfo")]
        return self.reply(200, w.parts[0] + "\n".join(p) + "\n", "text/xml")

    def next_document(self, job):
        with job.engine:
            return self._next_document(job)

    def _next_document(self, job):
        sim = self.sim
        s = job.settings
        with sim.lock:
            storm = sim.faults.get("storm")
            if storm and storm["left"] > 0:
                storm["left"] -= 1
                hdr = {"Retry-After": str(storm["retry_after"])} \
                    if storm["retry_after"] is not None else {}
                return self.reply(503, "not ready\n", "text/plain", hdr,
                                  fault="storm")
            slow = sim.faults.get("slow")
            trickle = sim.faults.get("trickle")
            feed = sim.faults.get("feed")
            more = job.served < job.pages_total and \
                job.state not in ("Canceled", "Completed", "Aborted")
        if slow:
            self.sleep(slow["n"] / 1000.0)
        if feed and more:
            self.sleep(feed["n"] / 1000.0)
        with sim.lock:
            if job.state in ("Canceled", "Completed"):
                return self.reply(404, "no more documents\n", "text/plain")
            if job.state == "Aborted":
                return self.reply(409, "job aborted: %s\n" % job.reason,
                                  "text/plain", fault="jam-after")
            feeder = s["source"] == "Feeder"
            if sim.model_name == "brother" and feeder and \
                    (time.monotonic() - job.created) * 1000 < \
                    sim.args.brother_delay:
                return self.reply(404, "not found\n", "text/plain",
                                  fault="brother-early")
            end = sim.faults.get("end-after")
            if end and job.served >= end["n"]:
                job.state, job.reason = "Completed", "JobCompletedSuccessfully"
                return self.reply(404, "no more documents\n", "text/plain",
                                  fault="end-after")
            jam = sim.faults.get("jam-after")
            if jam and feeder and job.served >= jam["n"] and \
                    job.served < job.pages_total:
                job.state, job.reason = "Aborted", "AdfJam"
                sim.jammed = True
                return self.reply(409, "ADF jam\n", "text/plain",
                                  fault="jam-after")
            if job.served >= job.pages_total:
                job.state, job.reason = "Completed", "JobCompletedSuccessfully"
                if sim.walkup:
                    sim.walkup.scan_done()
                return self.reply(404, "no more documents\n", "text/plain")
            if sim.model_name == "xerox-b205" and job.attempts < 2:
                job.attempts += 1
                code = 404 if job.attempts == 1 else 410
                return self.reply(code, "not ready\n", "text/plain",
                                  fault="xerox-not-ready")
            page = job.served + 1
            sides = 2 if s["duplex"] else 1
            sheet = (page - 1) // sides + 1
            back = s["duplex"] and page % 2 == 0
            drop = None
            for name in ("drop-always", "drop"):
                f = sim.faults.get(name)
                if f and f["n"] == page and not f["done"]:
                    drop = name
                    if name == "drop":
                        f["done"] = True
                    break
            corrupt = sim.faults.get("corrupt")
            corrupt = corrupt is not None and corrupt["n"] == page
            over_fail = sim.model_name == "overadvertise" and \
                max(s["x_res"], s["y_res"]) > 1200
        if over_fail:
            return self.reply(500, "internal error\n", "text/plain",
                              fault="overadvertise")
        ident = "escl-sim job=%s page=%d sheet=%d side=%s" % (
            job.id, page, sheet, "back" if back else "front")
        if sim.args.pages_dir and s["format"] == "image/jpeg":
            # Real document pages (the page-processing tests' corpus), in
            # name order, sent as they are.
            with open(sim.page_files[(page - 1) % len(sim.page_files)], "rb") as f:
                data = f.read()
        else:
            data = render_page(s["format"], s["color_mode"], s["px_w"],
                               s["px_h"], s["x_res"], ident, page, sheet, back)
        if corrupt and s["format"] == "image/jpeg":
            data = data[:len(data) * 6 // 10]
        if drop:
            self.send_response(200)
            self.send_header("Content-Type", s["format"])
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.record(200, len(data) // 2, drop)
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        with sim.lock:
            # The page is consumed before sending: like a device that has
            # pushed it out of its buffer.
            job.served += 1
            job.attempts = 0
            sim.pages_served += 1
            bpl = s["px_w"] * (3 if s["color_mode"] == "RGB24" else 1)
            job.last_info = (s["px_w"], s["px_h"], bpl)
            if feeder and (not s["duplex"] or back):
                sim.sheets = max(0, sim.sheets - 1)
            if job.served >= job.pages_total:
                # Stays Processing until the client asks once more and is
                # told 404, like most firmware; ImagesToTransfer reaches 0.
                pass
        fault = "corrupt" if corrupt else None
        with sim.lock:
            drip = sim.faults.get("drip")
            huge = sim.faults.get("huge")
        if huge and huge["n"] == page:
            return self.huge(s["format"])
        if drip and page >= drip["n"]:
            return self.drip(data, s["format"], drip["ms"], "drip")
        if not trickle:
            return self.reply(200, data, s["format"], fault=fault)
        self.send_response(200)
        self.send_header("Content-Type", s["format"])
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for off in range(0, len(data), CHUNK):
            self.wfile.write(data[off:off + CHUNK])
            self.wfile.flush()
            if off + CHUNK < len(data):
                self.sleep(trickle["n"] / 1000.0)
        self.record(200, len(data), "trickle")
        return None


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    ssl_context = None

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's own thread so a stalled
        # client cannot block accept().
        if self.ssl_context is not None:
            request.settimeout(30)
            try:
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


def write_atomic(path, text):
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def fleet_main(args):
    """--devices N: N simulators, each its own state and port (plain HTTP on
    127.0.0.1), served by one accepting thread; a connection gets a thread
    as in the single-device mode."""
    if args.tls or args.ipv6 or args.walkup:
        sys.stderr.write("escl-sim: --devices works with plain IPv4 HTTP only\n")
        return 2
    sel = selectors.DefaultSelector()
    servers = []
    try:
        for _ in range(args.devices):
            sim = Sim(args)
            handler = type("FleetHandler", (Handler,), {"sim": sim})
            srv = Server(("127.0.0.1", 0), handler)
            sim.port = srv.server_address[1]
            srv.socket.setblocking(False)
            sel.register(srv.socket, selectors.EVENT_READ, srv)
            servers.append(srv)
    except (OSError, FaultError) as e:
        sys.stderr.write("escl-sim: cannot start: %s\n" % e)
        return 1
    Handler.sim = servers[0].RequestHandlerClass.sim
    stop = threading.Event()

    def accept_loop():
        while not stop.is_set():
            for key, _ in sel.select(0.5):
                try:
                    key.data._handle_request_noblock()
                except OSError:
                    pass

    threading.Thread(target=accept_loop, daemon=True).start()
    if args.port_file:
        write_atomic(args.port_file, "".join("%d\n" % s.server_address[1] for s in servers))
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stop.wait(args.lifetime if args.lifetime > 0 else None)
    sys.stderr.flush()
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description="fault-injecting eSCL simulator")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--root", default="/eSCL")
    ap.add_argument("--model", default="generic", choices=sorted(MODELS))
    ap.add_argument("--adf-pages", type=int, default=3)
    ap.add_argument("--pages-dir", help="serve the *.jpg files of this directory (name order) as the pages; "
                    "the feeder holds as many sheets as there are files")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--cert-out")
    ap.add_argument("--strict-host", action="store_true")
    ap.add_argument("--brother-delay", type=int, default=1500)
    ap.add_argument("--fault", action="append")
    ap.add_argument("--state", default="Idle", choices=STATES)
    ap.add_argument("--caps-ns", choices=("model", "default", "prefixed"),
                    default="model")
    ap.add_argument("--walkup", choices=("comp", "legacy"))
    ap.add_argument("--walkup-start-ms", type=int, default=300)
    ap.add_argument("--lifetime", type=float, default=900)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--devices", type=int, default=1,
                    help="simulate this many independent scanners, one port each, in this one process "
                    "(one thread accepts for all); the port file gets one port a line")
    args = ap.parse_args()
    if not args.root.startswith("/"):
        ap.error("--root must start with /")
    if args.cert or args.key:
        if not (args.cert and args.key):
            ap.error("--cert and --key go together")
        args.tls = True
    if args.adf_pages < 0:
        ap.error("--adf-pages must be >= 0")

    if args.devices > 1:
        return fleet_main(args)
    try:
        sim = Sim(args)
    except FaultError as e:
        ap.error(str(e))
    Handler.sim = sim
    tmpdir = tempfile.mkdtemp(prefix="escl-sim-")

    def cleanup():
        shutil.rmtree(tmpdir, ignore_errors=True)

    try:
        ctx = None
        if args.tls:
            cert, key = (args.cert, args.key) if args.cert else \
                make_cert(tmpdir)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            if args.cert_out:
                shutil.copyfile(cert, args.cert_out)
        # With --ipv6 and port 0 the port picked on 127.0.0.1 may be taken
        # on ::1; try a few ports before giving up.
        for attempt in range(20):
            servers = []
            srv = Server(("127.0.0.1", args.port), Handler)
            srv.ssl_context = ctx
            servers.append(srv)
            sim.port = srv.server_address[1]
            if not args.ipv6:
                break
            try:
                srv6 = Server6(("::1", sim.port), Handler)
            except OSError:
                srv.server_close()
                if args.port or attempt == 19:
                    raise
                continue
            srv6.ssl_context = ctx
            servers.append(srv6)
            break
    except (OSError, subprocess.SubprocessError) as e:
        cleanup()
        sys.stderr.write("escl-sim: cannot start: %s\n" % e)
        return 1

    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    if args.port_file:
        write_atomic(args.port_file, "%d\n" % sim.port)
    if args.verbose:
        sys.stderr.write("escl-sim: model %s listening on port %d%s\n" %
                         (args.model, sim.port, " (TLS)" if ctx else ""))

    def on_signal(signum, frame):
        sim.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sim.stop.wait(args.lifetime if args.lifetime > 0 else None)
    cleanup()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
