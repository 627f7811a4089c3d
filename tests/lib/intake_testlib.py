"""Helpers for the intake-* tests (Python): a TestEnv (m365_testlib) that also
runs `scand daemon` with an [intake] listener on a free loopback port, builds
mails the way copiers send them, and reads the daemon's log."""
import email.policy
import io
import os
import signal
import socket
import subprocess
import time
from email.message import EmailMessage

from m365_testlib import TestEnv, SCAND, check, fail  # noqa: F401


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=30, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    fail("timed out waiting for " + what)


def make_pdf(size=2000, pages=1):
    """A valid PDF of about size bytes (a stream of filler on the first page)."""
    filler = os.urandom(max(size - 600, 0)).hex().encode()[: max(size - 600, 0)]
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join("%d 0 R" % (3 + i) for i in range(pages)).encode()
    objs.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages)
    content_obj = 3 + pages
    for _ in range(pages):
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>" % content_obj)
    stream = b"% " + filler + b"\n"
    objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def make_jpeg(w=64, h=48):
    from PIL import Image
    b = io.BytesIO()
    Image.new("RGB", (w, h), (30, 120, 200)).save(b, "JPEG")
    return b.getvalue()


def make_mail(sender="scanner@copier.example", to="finance@scan.example", subject="Scan", attachments=(),
              body="Scanned document attached.\n", message_id=None, headers=None):
    """attachments: (name, bytes, maintype/subtype). to=None: no To header."""
    m = EmailMessage(policy=email.policy.SMTP)
    m["From"] = sender
    if to:
        m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = message_id or email.utils.make_msgid(domain="copier.example")
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


class IntakeEnv(TestEnv):
    def __init__(self):
        super().__init__()
        self.daemon = None
        self.starts = 0

    def log_text(self):
        try:
            with open(self.path("daemon.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start_daemon(self, conf, env=None, wrapper=()):
        log = open(self.path("daemon.log"), "a")
        e = dict(self.env)
        e.update(env or {})
        p = subprocess.Popen(list(wrapper) + [SCAND, "daemon", "--config", conf, "--no-bus", "--queue-interval", "500"],
                             stdout=log, stderr=subprocess.STDOUT, env=e)
        self.procs.append(p)
        self.daemon = p
        self.starts += 1
        want = self.starts

        def ready():
            if p.poll() is not None:
                fail("the daemon died:\n" + self.log_text())
            return self.log_text().count("scand: ready") >= want
        wait_for(ready, 60, "the daemon to be ready")
        return p

    def stop_daemon(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            self.daemon.wait(60)

    def kill_daemon(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.kill()
        if self.daemon:
            self.daemon.wait(60)

    def files(self, d, suffix=""):
        d = self.path(d)
        if not os.path.isdir(d):
            return []
        out = []
        for root, _, names in os.walk(d):
            out += [os.path.join(root, n) for n in names if n.endswith(suffix) and not n.startswith(".")]
        return sorted(out)

    def wait_files(self, d, n, timeout=60, suffix=".pdf"):
        return wait_for(lambda: len(self.files(d, suffix)) >= n and self.files(d, suffix), timeout,
                        "%d files in %s (have %d)\n%s" % (n, d, len(self.files(d, suffix)), self.log_text()))

    def rss_kb(self, pid=None):
        with open("/proc/%d/status" % (pid or self.daemon.pid)) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0
