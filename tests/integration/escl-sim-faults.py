#!/usr/bin/env python3
# Tests of the eSCL simulator itself (tests/escl-sim): every fault switch,
# every model quirk and the control API are driven over plain HTTP with the
# standard library and checked against what tests/escl-sim/README.md
# promises. The simulator runs under /usr/bin/python3 (it needs python3-pil);
# this script needs only the standard library.

import hashlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

SRC = os.environ.get("SCAND_SRCDIR") or \
    os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SIM = os.path.join(SRC, "tests", "escl-sim", "escl-sim.py")
NS = {"scan": "http://schemas.hp.com/imaging/escl/2011/05/03",
      "pwg": "http://www.pwg.org/schemas/2010/12/sm"}

TMP = tempfile.mkdtemp(prefix="escl-sim-faults-")
FAILURES = []


class Sim:
    """A running simulator; stop() (or the context manager) ends it."""

    count = 0

    def __init__(self, *args, name="sim"):
        Sim.count += 1
        name = "%s-%d" % (name, Sim.count)
        self.port_file = os.path.join(TMP, name + ".port")
        self.err = open(os.path.join(TMP, "%s.err" % name), "w")
        self.tls = "--tls" in args
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", SIM, "--port-file", self.port_file,
             "--lifetime", "300"] + list(args),
            stdout=subprocess.DEVNULL, stderr=self.err)
        for _ in range(400):
            if os.path.exists(self.port_file):
                break
            if self.proc.poll() is not None:
                raise RuntimeError("simulator exited with %d" %
                                   self.proc.returncode)
            time.sleep(0.025)
        else:
            raise RuntimeError("simulator did not start")
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.host = "127.0.0.1:%d" % self.port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.err.close()

    def connect(self, host="127.0.0.1", context=None):
        if self.tls:
            ctx = context or ssl._create_unverified_context()
            return http.client.HTTPSConnection(host, self.port, timeout=30,
                                               context=ctx)
        return http.client.HTTPConnection(host, self.port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        """One request on a fresh connection; returns (status, hdrs, body)."""
        c = self.connect()
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.headers, r.read()
        finally:
            c.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def ctl(self, obj):
        st, _, body = self.request("POST", "/sim/control",
                                   body=json.dumps(obj))
        if st != 200:
            raise AssertionError("control %r -> %d %s" % (obj, st, body))
        return json.loads(body)

    def state(self):
        return json.loads(self.get("/sim/state")[2])

    def log(self):
        return json.loads(self.get("/sim/log")[2])

    def status(self):
        st, _, body = self.get("/eSCL/ScannerStatus")
        check(st == 200, "ScannerStatus -> %d" % st)
        root = ET.fromstring(body)
        return (root.findtext("pwg:State", namespaces=NS),
                root.findtext("scan:AdfState", namespaces=NS), root)

    def job(self, source="Feeder", duplex=False, res=75, color="RGB24",
            fmt="image/jpeg", w=300, h=600, headers=None, expect=201):
        st, hdrs, body = self.request(
            "POST", "/eSCL/ScanJobs",
            body=settings(source, duplex, res, color, fmt, w, h),
            headers=dict({"Content-Type": "text/xml"}, **(headers or {})))
        check(st == expect, "ScanJobs -> %d (%s), expected %d" %
              (st, body.decode(errors="replace").strip(), expect))
        if st != 201:
            return st, hdrs
        loc = hdrs["Location"]
        return loc, hdrs

    def next_doc(self, loc):
        path = loc if loc.startswith("/") else "/" + loc.split("/", 3)[3]
        return self.get(path.rstrip("/") + "/NextDocument")


def settings(source, duplex, res, color, fmt, w, h):
    return ("""<?xml version="1.0" encoding="UTF-8"?>
<scan:ScanSettings xmlns:scan="%s" xmlns:pwg="%s">
 <pwg:Version>2.63</pwg:Version>
 <pwg:ScanRegions><pwg:ScanRegion>
  <pwg:ContentRegionUnits>escl:ThreeHundredthsOfInches</pwg:ContentRegionUnits>
  <pwg:XOffset>0</pwg:XOffset><pwg:YOffset>0</pwg:YOffset>
  <pwg:Width>%d</pwg:Width><pwg:Height>%d</pwg:Height>
 </pwg:ScanRegion></pwg:ScanRegions>
 <pwg:InputSource>%s</pwg:InputSource>
 <scan:ColorMode>%s</scan:ColorMode>
 <pwg:DocumentFormat>%s</pwg:DocumentFormat>
 <scan:XResolution>%d</scan:XResolution><scan:YResolution>%d</scan:YResolution>
 <scan:Duplex>%s</scan:Duplex>
</scan:ScanSettings>""" % (NS["scan"], NS["pwg"], w, h, source, color, fmt,
                           res, res, "true" if duplex else "false")).encode()


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def jpeg_info(data):
    """(width, height, components, COM text, has EOI) of a baseline JPEG."""
    check(data[:2] == b"\xff\xd8", "not a JPEG (no SOI)")
    i, com, size = 2, None, None
    while i + 4 <= len(data):
        check(data[i] == 0xFF, "JPEG marker expected at %d" % i)
        marker = data[i + 1]
        seglen = int.from_bytes(data[i + 2:i + 4], "big")
        seg = data[i + 4:i + 2 + seglen]
        if marker == 0xFE:
            com = seg.decode()
        elif marker in (0xC0, 0xC1, 0xC2):
            size = (int.from_bytes(seg[3:5], "big"),
                    int.from_bytes(seg[1:3], "big"), seg[5])
        elif marker == 0xDA:
            break
        i += 2 + seglen
    check(size is not None, "JPEG without SOF")
    return size[0], size[1], size[2], com, data.endswith(b"\xff\xd9")


def page_no(data):
    com = jpeg_info(data)[3]
    return dict(kv.split("=") for kv in com.split()[1:])


def test(fn):
    """Run one test function, record failure, keep going."""
    name = fn.__name__
    try:
        fn()
        print("ok   %s" % name)
    except Exception as e:  # noqa: BLE001 - report every failure
        FAILURES.append(name)
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
    return fn


# ------------------------------------------------------------------ tests --

@test
def basics():
    with Sim("--adf-pages", "3") as s:
        st, hdrs, body = s.get("/eSCL/ScannerCapabilities")
        check(st == 200 and hdrs["Content-Type"] == "text/xml", "caps")
        root = ET.fromstring(body)
        check(root.tag == "{%s}ScannerCapabilities" % NS["scan"], root.tag)
        check(b"<scan:ScannerCapabilities" in body, "generic uses prefixes")
        check(root.findtext("pwg:Version", namespaces=NS) == "2.63", "version")
        check(root.findtext("scan:UUID", namespaces=NS), "UUID")
        check(root.findtext("pwg:MakeAndModel", namespaces=NS), "MakeAndModel")
        for path in ("scan:Platen/scan:PlatenInputCaps",
                     "scan:Adf/scan:AdfSimplexInputCaps",
                     "scan:Adf/scan:AdfDuplexInputCaps"):
            caps = root.find(path, NS)
            check(caps is not None, path)
            check(caps.findtext("scan:MaxWidth", namespaces=NS) == "2550",
                  "MaxWidth")
            res = [int(x.text) for x in caps.iterfind(
                ".//scan:DiscreteResolution/scan:XResolution", NS)]
            check(res == [75, 150, 300, 600], "resolutions %r" % res)
            fmts = [x.text for x in caps.iterfind(".//pwg:DocumentFormat",
                                                   NS)]
            check(fmts == ["image/jpeg", "application/pdf"], fmts)
            check(caps.find(".//scan:DocumentFormatExt", NS) is not None,
                  "DocumentFormatExt")
            modes = {x.text for x in caps.iterfind(".//scan:ColorMode", NS)}
            check(modes == {"RGB24", "Grayscale8", "BlackAndWhite1"}, modes)
            check(caps.find(".//scan:SupportedIntents/scan:Intent", NS)
                  is not None, "intents")
        state, adf, _ = s.status()
        check((state, adf) == ("Idle", "ScannerAdfLoaded"), (state, adf))

        # Feeder, simplex, 1 x 2 in at 75 dpi -> 75 x 150 px, pages in order.
        loc, _ = s.job()
        check(loc == "http://%s/eSCL/ScanJobs/1" % s.host, loc)
        for n in (1, 2, 3):
            st, hdrs, data = s.next_doc(loc)
            check(st == 200 and hdrs["Content-Type"] == "image/jpeg",
                  "page %d -> %d" % (n, st))
            w, h, comp, com, eoi = jpeg_info(data)
            check((w, h, comp, eoi) == (75, 150, 3, True), (w, h, comp))
            check(com == "escl-sim job=1 page=%d sheet=%d side=front" %
                  (n, n), com)
        state, adf, root = s.status()
        check(adf == "ScannerAdfEmpty", adf)
        check(root.findtext(".//pwg:JobUri", namespaces=NS) ==
              "/eSCL/ScanJobs/1", "JobUri")
        check(s.next_doc(loc)[0] == 404, "end of job must be 404")
        check(s.status()[2].findtext(".//pwg:JobState", namespaces=NS) ==
              "Completed", "job Completed")
        st, _, body = s.get("/eSCL/ScanJobs/1/ScanImageInfo")
        check(st == 200 and b"<scan:ActualWidth>75<" in body, body)

        # Empty feeder now: 409; platen still gives exactly one page.
        check(s.job(expect=409)[0] == 409, "empty feeder")
        loc, _ = s.job(source="Platen", color="Grayscale8", res=150)
        st, _, data = s.next_doc(loc)
        check(st == 200 and jpeg_info(data)[:3] == (150, 300, 1),
              "grey platen page")
        check(s.next_doc(loc)[0] == 404, "platen gives one page")

        # Duplex: 2 sheets -> 4 images, backs marked.
        s.ctl({"adf_pages": 2})
        loc, _ = s.job(duplex=True)
        sides = []
        for n in range(1, 5):
            st, _, data = s.next_doc(loc)
            check(st == 200, "duplex page %d" % n)
            p = page_no(data)
            sides.append((int(p["page"]), int(p["sheet"]), p["side"]))
        check(sides == [(1, 1, "front"), (2, 1, "back"), (3, 2, "front"),
                        (4, 2, "back")], sides)
        check(s.next_doc(loc)[0] == 404, "duplex end")

        # DELETE cancels; unknown jobs are 404.
        s.ctl({"adf_pages": 1})
        loc, _ = s.job()
        check(s.request("DELETE", "/eSCL/ScanJobs/4")[0] == 200, "DELETE")
        check(s.next_doc(loc)[0] == 404, "canceled job")
        check(s.get("/eSCL/ScanJobs/99/NextDocument")[0] == 404, "unknown")

        # Validation: unsupported resolution / format, malformed XML.
        s.ctl({"adf_pages": 1})
        s.job(res=200, expect=409)
        s.job(fmt="image/png", expect=409)
        st, _, _ = s.request("POST", "/eSCL/ScanJobs", body=b"<scan:Scan")
        check(st == 400, "malformed ScanSettings -> %d" % st)

        log = s.log()
        check(all(e["host"] == s.host for e in log), "Host logged")
        check(log[0]["method"] == "GET" and
              log[0]["path"] == "/eSCL/ScannerCapabilities", log[0])
        check(not any(e["path"].startswith("/sim/") for e in log),
              "control requests are not logged")


@test
def storm():
    with Sim() as s:
        loc, _ = s.job(source="Platen")
        s.ctl({"fault": "storm=3"})
        for _ in range(3):
            st, hdrs, _ = s.next_doc(loc)
            check(st == 503 and "Retry-After" not in hdrs, "storm 503")
        check(s.next_doc(loc)[0] == 200, "page after storm")
        loc, _ = s.job(source="Platen")
        s.ctl({"fault": "storm=2/4"})
        for _ in range(2):
            st, hdrs, _ = s.next_doc(loc)
            check(st == 503 and hdrs["Retry-After"] == "4", "Retry-After")
        check(s.next_doc(loc)[0] == 200, "page after storm")
        s.ctl({"fault": "storm-jobs=1/2"})
        st, hdrs = s.job(source="Platen", expect=503)
        check(hdrs["Retry-After"] == "2", "storm-jobs Retry-After")
        s.job(source="Platen")
        check(sum(1 for e in s.log() if e["status"] == 503) == 6, "6 x 503")


@test
def end_after_and_jam():
    with Sim("--adf-pages", "5", "--fault", "end-after=2") as s:
        loc, _ = s.job()
        check([s.next_doc(loc)[0] for _ in range(3)] == [200, 200, 404],
              "end-after=2")
        s.ctl({"clear": True, "adf_pages": 5, "fault": "jam-after=1"})
        loc, _ = s.job()
        check(s.next_doc(loc)[0] == 200, "page before jam")
        check(s.next_doc(loc)[0] == 409, "jam -> 409")
        state, adf, root = s.status()
        check((state, adf) == ("Stopped", "ScannerAdfJam"), (state, adf))
        check(root.findtext(".//pwg:JobState", namespaces=NS) == "Aborted",
              "job aborted")
        check(s.next_doc(loc)[0] == 409, "jammed job stays 409")
        s.job(expect=503)
        s.ctl({"clear": True})
        check(s.status()[:2] == ("Idle", "ScannerAdfLoaded"), "cleared")
        loc, _ = s.job(source="Platen")
        check(s.next_doc(loc)[0] == 200, "scans again after clear")


@test
def dropped_connection():
    with Sim("--adf-pages", "3", "--fault", "drop=2") as s:
        loc, _ = s.job()
        check(page_no(s.next_doc(loc)[2])["page"] == "1", "page 1")
        try:
            s.next_doc(loc)
            raise AssertionError("page 2 was not cut")
        except http.client.IncompleteRead as e:
            check(0 < len(e.partial) < e.expected + len(e.partial),
                  "half body")
        check(page_no(s.next_doc(loc)[2])["page"] == "2",
              "drop once: page 2 complete on retry")
        s.ctl({"clear": True, "adf_pages": 3, "fault": "drop-always=1"})
        loc, _ = s.job()
        for _ in range(2):
            try:
                s.next_doc(loc)
                raise AssertionError("drop-always did not cut")
            except http.client.IncompleteRead:
                pass
        check(sum(1 for e in s.log() if e["fault"] in ("drop",
                                                        "drop-always")) == 3,
              "drops logged")


@test
def slow_and_trickle():
    # Lower bounds only: the simulator must at least wait as asked.
    with Sim("--fault", "slow=400") as s:
        loc, _ = s.job(source="Platen")
        t = time.monotonic()
        check(s.next_doc(loc)[0] == 200, "slow page")
        check(time.monotonic() - t >= 0.4, "slow=400 waited")
    with Sim("--fault", "trickle=100") as s:
        loc, _ = s.job(source="Platen", res=300, w=2550, h=3300)
        c = s.connect()
        c.request("GET", "/" + loc.split("/", 3)[3] + "/NextDocument")
        r = c.getresponse()
        length = int(r.headers["Content-Length"])
        t = time.monotonic()
        data = r.read()
        c.close()
        chunks = (length + 4095) // 4096
        check(len(data) == length and chunks >= 2, "trickled %d" % length)
        check(time.monotonic() - t >= (chunks - 1) * 0.1 * 0.9,
              "trickle paced")


@test
def locations():
    with Sim() as s:
        s.ctl({"fault": "location-host=192.0.2.7:8"})
        loc, _ = s.job(source="Platen")
        check(loc == "http://192.0.2.7:8/eSCL/ScanJobs/1", loc)
        s.ctl({"clear": True, "fault": "location-ipv6-broken"})
        loc, _ = s.job(source="Platen")
        check(loc == "http://::1:%d/eSCL/ScanJobs/2" % s.port, loc)
        s.ctl({"clear": True, "fault": "location-relative"})
        loc, _ = s.job(source="Platen")
        check(loc == "/eSCL/ScanJobs/3", loc)
        # The job is reachable however it was announced.
        check(s.next_doc(loc)[0] == 200, "job 3 page")


@test
def empty_busy_state():
    with Sim("--fault", "empty") as s:
        check(s.status()[1] == "ScannerAdfEmpty", "empty")
        s.job(expect=409)
        s.ctl({"fault": "empty=503"})
        s.job(expect=503)
        s.ctl({"clear_fault": "empty", "paper": "loaded"})
        check(s.status()[1] == "ScannerAdfLoaded", "loaded")
        check(s.state()["adf_pages"] == 3, "--adf-pages default 3")
        s.ctl({"fault": "busy"})
        check(s.status()[0] == "Processing", "busy state")
        s.job(expect=503)
        s.ctl({"clear_fault": "busy"})
        s.job(source="Platen")
        for st in ("Down", "Stopped", "Processing"):
            s.ctl({"state": st})
            check(s.status()[0] == st, st)
            s.job(source="Platen", expect=503)
        s.ctl({"state": None, "adf_state": "ScannerAdfMispick"})
        check(s.status()[1] == "ScannerAdfMispick", "forced adf_state")
        s.ctl({"adf_state": None, "adf_pages": 0})
        check(s.status()[1] == "ScannerAdfEmpty", "adf_pages 0")
        for bad in ({"nope": 1}, {"fault": "nope"}, {"fault": "storm=x"},
                    {"state": "Sleeping"}, {"adf_pages": -1}):
            st, _, body = s.request("POST", "/sim/control",
                                    body=json.dumps(bad))
            check(st == 400 and "error" in json.loads(body), bad)
        s.ctl({"reset": True})
        check(s.state()["jobs"] == [] and s.log() == [], "reset")
    with Sim("--state", "Processing") as s:
        check(s.status()[0] == "Processing", "--state")
        s.job(source="Platen", expect=503)


@test
def bad_caps_and_corrupt():
    with Sim("--fault", "bad-caps", "--fault", "corrupt=1") as s:
        st, _, body = s.get("/eSCL/ScannerCapabilities")
        check(st == 200, "bad-caps status")
        try:
            ET.fromstring(body)
            raise AssertionError("bad-caps parsed")
        except ET.ParseError:
            pass
        loc, _ = s.job(source="Platen")
        st, hdrs, data = s.next_doc(loc)
        check(st == 200 and int(hdrs["Content-Length"]) == len(data),
              "corrupt length")
        check(data[:2] == b"\xff\xd8" and not data.endswith(b"\xff\xd9"),
              "corrupt page has SOI and no EOI")


@test
def model_hp():
    with Sim("--model", "hp", "--strict-host", "--adf-pages", "1") as s:
        st, hdrs, body = s.get("/eSCL/ScannerCapabilities")
        check(hdrs["Server"] == "HP_Compact_Server", hdrs["Server"])
        check(b'xmlns="%s"' % NS["scan"].encode() in body and
              b"<ScannerCapabilities" in body, "default namespace")
        root = ET.fromstring(body)
        check(root.find("{%s}Adf/{%s}AdfDuplexInputCaps" %
                        (NS["scan"], NS["scan"])) is not None, "duplex caps")
        s.job(expect=400)
        s.job(headers={"Host": "localhost:%d" % s.port})
        loc, _ = s.job(source="Platen", headers={"Host": "localhost"})
        check(loc.startswith("http://localhost/eSCL/ScanJobs/") and
              len(loc.rsplit("/", 1)[1]) == 36, loc)
        check(s.get("/eSCL/ScannerStatus")[0] == 200,
              "other requests not host-checked")


@test
def model_epson():
    with Sim("--model", "epson", "--strict-host", "--fault", "empty") as s:
        st, _, _ = s.get("/eSCL/ScannerStatus", headers={"Host": "127.0.0.1"})
        check(st == 400, "Host without port -> %d" % st)
        st, _, body = s.get("/eSCL/ScannerCapabilities")
        root = ET.fromstring(body)
        rr = root.find(".//scan:ResolutionRange/scan:XResolutionRange", NS)
        check(rr is not None and rr.findtext("scan:Max", namespaces=NS) ==
              "600", "ResolutionRange")
        check(root.find(".//scan:AdfDuplexInputCaps", NS) is None, "simplex")
        s.job(expect=503)   # empty feeder, Epson style
        loc, _ = s.job(source="Platen", res=123)
        check(jpeg_info(s.next_doc(loc)[2])[0] == 123, "range resolution")


@test
def model_brother():
    with Sim("--model", "brother", "--brother-delay", "700") as s:
        loc, _ = s.job(res=100)
        st, _, _ = s.next_doc(loc)
        check(st == 404, "false 404 right after ScanJobs, got %d" % st)
        state, adf, root = s.status()
        check(adf == "ScannerAdfLoaded" and
              root.findtext(".//pwg:JobState", namespaces=NS) ==
              "Processing", "job still running during false 404")
        time.sleep(0.8)
        check([s.next_doc(loc)[0] for _ in range(4)] == [200, 200, 200, 404],
              "pages after the window")
        s.job(res=100, expect=503)   # empty feeder, Brother style


@test
def model_xerox():
    with Sim("--model", "xerox-b205", "--adf-pages", "2") as s:
        loc, _ = s.job()
        codes = [s.next_doc(loc)[0] for _ in range(7)]
        check(codes == [404, 410, 200, 404, 410, 200, 404], codes)
        check(s.status()[2].findtext(".//pwg:JobState", namespaces=NS) ==
              "Completed", "completed")


@test
def model_jam_when_empty():
    with Sim("--model", "jam-when-empty", "--adf-pages", "0") as s:
        check(s.status()[1] == "ScannerAdfJam", "jam when empty")
        s.ctl({"adf_pages": 1})
        check(s.status()[1] == "ScannerAdfLoaded", "loaded")


@test
def model_overadvertise():
    with Sim("--model", "overadvertise") as s:
        body = s.get("/eSCL/ScannerCapabilities")[2]
        check(b"<scan:XResolution>2400<" in body, "advertises 2400")
        loc, _ = s.job(source="Platen", res=1200, w=30, h=30)
        st, _, data = s.next_doc(loc)
        check(st == 200 and jpeg_info(data)[:2] == (60, 60),
              "1200 dpi comes back at 600 dpi size")
        loc, _ = s.job(source="Platen", res=2400, w=30, h=30)
        check(s.next_doc(loc)[0] == 500, "2400 dpi fails")


@test
def model_png_pdf():
    with Sim("--model", "png-only") as s:
        s.job(source="Platen", expect=409)
        loc, _ = s.job(source="Platen", fmt="image/png")
        st, hdrs, data = s.next_doc(loc)
        check(hdrs["Content-Type"] == "image/png" and
              data[:8] == b"\x89PNG\r\n\x1a\n" and b"escl-sim" in data, "png")
    with Sim("--model", "pdf-only") as s:
        loc, _ = s.job(source="Platen", fmt="application/pdf")
        st, hdrs, data = s.next_doc(loc)
        check(hdrs["Content-Type"] == "application/pdf" and
              data.startswith(b"%PDF-") and b"/Count 1" in data and
              "page=1".encode("utf-16-be") in data, "pdf")


@test
def tls_and_ipv6():
    pem = os.path.join(TMP, "cert.pem")
    with Sim("--tls", "--cert-out", pem, "--ipv6") as s:
        ctx = ssl.create_default_context(cafile=pem)
        c = s.connect(host="localhost", context=ctx)
        c.request("GET", "/eSCL/ScannerStatus")
        r = c.getresponse()
        check(r.status == 200, "https status")
        r.read()
        der = c.sock.getpeercert(binary_form=True)
        c.close()
        with open(pem) as f:
            mine = ssl.PEM_cert_to_DER_cert(f.read())
        check(hashlib.sha256(der).digest() == hashlib.sha256(mine).digest(),
              "--cert-out is the served certificate")
        loc, _ = s.job(source="Platen")
        check(loc.startswith("https://"), loc)
        c = s.connect(host="::1")
        c.request("GET", "/eSCL/ScannerStatus")
        check(c.getresponse().status == 200, "::1 listens with --ipv6")
        c.close()


@test
def sigterm():
    s = Sim()
    s.proc.terminate()
    s.proc.wait(timeout=20)
    s.err.close()
    with socket.socket() as sock:
        check(sock.connect_ex(("127.0.0.1", s.port)) != 0, "port closed")


print("%d failure(s)%s" % (len(FAILURES),
                            ": " + ", ".join(FAILURES) if FAILURES else ""))
subprocess.run(["rm", "-rf", TMP], check=False)
sys.exit(1 if FAILURES else 0)
