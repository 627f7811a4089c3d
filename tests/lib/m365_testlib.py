"""Helpers for the smtp-* and graph-* integration tests (Python).

A TestEnv makes a temp dir with a private spool and config dir (like
tests/lib/common.sh), a throw-away CA with a server certificate for 127.0.0.1
and a client certificate, starts the peers (tests/lib/smtpd.py,
tests/lib/graph-stub.py) and runs `scand deliver`.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRCDIR = os.environ.get("SCAND_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SCAND = os.environ.get("SCAND", "scand")

EXIT_OK, EXIT_FAILED, EXIT_QUEUED = 0, 1, 75
# The peers need Debian's python3-* packages (aiosmtpd, cryptography): use
# Debian's interpreter even when another python3 comes first in PATH.
PEER_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        fail("%s: %s" % (" ".join(cmd), r.stderr))
    return r


class TestEnv:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="scand-test.")
        self.procs = []
        self.env = dict(os.environ)
        self.env.update(SCAND_SPOOL=os.path.join(self.dir, "spool"),
                        SCAND_CONFIG_DIR=os.path.join(self.dir, "no-config"),
                        XDG_CONFIG_HOME=os.path.join(self.dir, "xdg-config"),
                        XDG_STATE_HOME=os.path.join(self.dir, "xdg-state"),
                        HOME=os.path.join(self.dir, "home"))
        os.makedirs(self.env["HOME"])
        self.make_pki()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    # ---- certificates --------------------------------------------------------

    def make_pki(self):
        """ca.pem; server.pem/server.key for 127.0.0.1; client.pem/client.key
        (CN scand-client); all RSA 2048."""
        d = self.path("pki")
        os.makedirs(d)
        p = lambda n: os.path.join(d, n)
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=scand test CA", "-keyout", p("ca.key"), "-out", p("ca.pem"),
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        for name, cn, ext in (("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                                      "extendedKeyUsage=serverAuth\n"),
                              ("client", "scand-client", "extendedKeyUsage=clientAuth\n")):
            with open(p(name + ".ext"), "w") as f:
                f.write(ext)
            run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
                 "-keyout", p(name + ".key"), "-out", p(name + ".csr")])
            run(["openssl", "x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
                 "-CAcreateserial", "-days", "2", "-extfile", p(name + ".ext"), "-out", p(name + ".pem")])
            os.chmod(p(name + ".key"), 0o600)
        self.ca = p("ca.pem")
        self.server_cert, self.server_key = p("server.pem"), p("server.key")
        self.client_cert, self.client_key = p("client.pem"), p("client.key")

    # ---- files ------------------------------------------------------------------

    def secret(self, name, value):
        path = self.path(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value + "\n")
        return path

    def pdf(self, name, size):
        """A file of exactly size bytes that starts like a PDF."""
        path = self.path(name)
        head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
        with open(path, "wb") as f:
            f.write(head + os.urandom(max(size - len(head) - len(tail), 0)) + tail)
        return path

    def config(self, text, name="scand.conf"):
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # ---- peers ------------------------------------------------------------------

    def start(self, script, args, name):
        """Starts tests/lib/<script> with --dir DIR; returns (DIR, port)."""
        d = self.path(name)
        os.makedirs(d, exist_ok=True)
        log = open(os.path.join(d, "stderr"), "w")
        p = subprocess.Popen([PEER_PYTHON, os.path.join(SRCDIR, "tests", "lib", script), "--dir", d] + args,
                             stdout=log, stderr=log)
        self.procs.append(p)
        portfile = os.path.join(d, "port")
        for _ in range(300):
            if os.path.exists(portfile):
                with open(portfile) as f:
                    return d, int(f.read())
            if p.poll() is not None:
                break
            time.sleep(0.05)
        with open(os.path.join(d, "stderr")) as f:
            fail("%s did not start: %s" % (script, f.read()))

    def start_smtpd(self, *args, name="smtpd"):
        return self.start("smtpd.py", ["--cert", self.server_cert, "--key", self.server_key] + list(args), name)

    def start_graph(self, *args, name="graph"):
        return self.start("graph-stub.py", ["--cert", self.server_cert, "--key", self.server_key] + list(args), name)

    # ---- scand ------------------------------------------------------------------

    def scand(self, *args):
        r = subprocess.run([SCAND] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           errors="replace", env=self.env, timeout=600)
        return r.returncode, r.stdout, r.stderr

    def job_ids(self):
        """Ids of the jobs in the spool (directories holding a job.ini)."""
        import glob
        return {os.path.basename(os.path.dirname(p))
                for p in glob.glob(os.path.join(self.env["SCAND_SPOOL"], "**", "job.ini"), recursive=True)}

    def deliver(self, pdf, to, config, name=None, expect=EXIT_OK):
        args = ["deliver", pdf, "--to", to, "--config", config]
        if name:
            args += ["--name", name]
        rc, out, err = self.scand(*args)
        if expect is not None and rc != expect:
            fail("scand %s: exit %d, expected %d:\n%s%s" % (" ".join(args), rc, expect, out, err))
        return rc, out + err


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(path, value):
    with open(path + ".part", "w") as f:
        json.dump(value, f)
    os.rename(path + ".part", path)
