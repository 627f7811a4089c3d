"""The web page's defences, against the daemon (SANE test backend) with an
accounts file on a loopback listener, spoken to with Python's http.client:

- no session: the page redirects to /login, the API answers 401, also the
  event stream; a forged or malformed cookie is no session;
- a login gives a new session cookie (HttpOnly, SameSite=Strict), not the
  one seen before it; a POST without the session's CSRF token, with a wrong
  one, or from another origin is refused 403;
- job ids with path traversal (plain, %-encoded, a quarantined job's name)
  are 404, and so are the page's files outside the list;
- 100 failed logins from one address are throttled (429, Retry-After), also
  for the right password then; another address (127.0.0.2) is not;
- the Content-Security-Policy (no inline script) is on every answer;
- documents are not downloadable without [web] downloads = true;
- bodies too large, without a length, or other methods are refused before
  they are read;
- without accounts (no login, loopback only) a Host that is not this server
  is refused (DNS rebinding); `scand config check` refuses a listener beyond
  loopback without tls-cert, tls-key and accounts; with them the cookie is
  Secure over HTTPS;
- `scand web passwd` refuses a symbolic link for the accounts file."""
import http.client
import json
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

SCAND = os.environ["SCAND"]
CSP_WANTED = "default-src 'none'; script-src 'self'"


def fail(msg):
    sys.exit("FAIL: " + msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    def __init__(self, port, source="127.0.0.1", tls=False):
        self.port, self.source, self.tls = port, source, tls
        self.cookie = None

    def request(self, method, path, body=None, headers=None, cookie=True):
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=ctx)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(self.source, 0))
        h = dict(headers or {})
        if cookie and self.cookie:
            h["Cookie"] = "scand_session=" + self.cookie
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        for v in r.headers.get_all("Set-Cookie") or []:
            m = re.match(r"scand_session=([0-9a-f]*);", v)
            if m:
                self.cookie = m.group(1) or None
        c.close()
        return r, payload

    def session(self):
        r, payload = self.request("GET", "/api/session")
        expect(r, 200, "GET /api/session")
        return json.loads(payload)


def expect(r, status, what):
    if r.status != status:
        fail("%s: expected %d, got %d %s" % (what, status, r.status, r.reason))


def start_daemon(t, conf, log):
    env = dict(os.environ, SCAND_SPOOL=os.path.join(t, "spool"), HOME=t, XDG_CONFIG_HOME=os.path.join(t, "xdg"))
    p = subprocess.Popen([SCAND, "daemon", "--config", conf, "--no-bus"], env=env, stdout=log, stderr=log)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        with open(log.name) as f:
            if "scand: ready" in f.read():
                return p
        if p.poll() is not None:
            fail("the daemon died: " + open(log.name).read())
        time.sleep(0.1)
    p.kill()
    fail("the daemon did not get ready")


def write_conf(path, t, port, extra):
    with open(path, "w") as f:
        f.write("""[scanner desk]
device = sane:test:0
profile = letter

[profile letter]
source = flatbed
resolution = 50

[output out]
type = folder
path = %s/out
create = true

[rule all]
deliver = out

[web]
listen = 127.0.0.1:%d
%s""" % (t, port, extra))


def logged_in_checks(t, port):
    c = Client(port)
    # No session at all.
    r, _ = c.request("GET", "/")
    expect(r, 303, "GET / without a session")
    if not r.headers["Location"].endswith(":%d/login" % port) and r.headers["Location"] != "/login":
        fail("redirected to %r, not /login" % r.headers["Location"])
    for path in ("/api/jobs", "/api/scanners", "/api/events"):
        r, _ = c.request("GET", path)
        expect(r, 401, "GET %s without a session" % path)
    # The CSP is on every answer, with no inline script.
    for path in ("/login", "/api/jobs", "/static/app.js", "/nothing"):
        r, _ = c.request("GET", path)
        csp = r.headers.get("Content-Security-Policy") or ""
        if not csp.startswith(CSP_WANTED) or "unsafe-inline" in csp:
            fail("%s: Content-Security-Policy %r" % (path, csp))
        if r.headers.get("X-Content-Type-Options") != "nosniff" or r.headers.get("X-Frame-Options") != "DENY":
            fail("%s: security headers missing: %s" % (path, dict(r.headers)))
    # A session before the login, then the login.
    s = c.session()
    before, csrf = c.cookie, s["csrf"]
    if s["user"] is not None or not s["login_required"] or len(csrf) != 64:
        fail("session before login: %r" % s)
    r, _ = c.request("POST", "/api/login", {"user": "anna", "password": "Right-pw-1"})
    expect(r, 403, "login without the CSRF token")
    r, _ = c.request("POST", "/api/login", {"user": "anna", "password": "wrong"}, {"X-CSRF-Token": csrf})
    expect(r, 401, "login with a wrong password")
    r, payload = c.request("POST", "/api/login", {"user": "anna", "password": "Right-pw-1"}, {"X-CSRF-Token": csrf})
    expect(r, 200, "login")
    cookie_header = r.headers.get("Set-Cookie")
    if "HttpOnly" not in cookie_header or "SameSite=Strict" not in cookie_header:
        fail("session cookie %r" % cookie_header)
    if c.cookie == before:
        fail("the session token was not renewed at login")
    csrf = json.loads(payload)["csrf"]
    r, _ = c.request("GET", "/api/jobs")
    expect(r, 200, "GET /api/jobs logged in")
    r, _ = c.request("GET", "/")
    expect(r, 200, "GET / logged in")
    old = Client(port)
    old.cookie = before
    r, _ = old.request("GET", "/api/jobs")
    expect(r, 401, "the session token from before the login")

    # CSRF: none, wrong, another origin.
    scan = {"scanner": "desk", "profile": "letter"}
    r, _ = c.request("POST", "/api/scan", scan)
    expect(r, 403, "POST /api/scan without a CSRF token")
    r, _ = c.request("POST", "/api/scan", scan, {"X-CSRF-Token": secrets.token_hex(32)})
    expect(r, 403, "POST /api/scan with a wrong CSRF token")
    r, _ = c.request("POST", "/api/scan", scan, {"X-CSRF-Token": csrf, "Origin": "http://evil.example"})
    expect(r, 403, "POST /api/scan from another origin")
    if os.path.exists(os.path.join(t, "spool")) and any(n[0].isdigit() for n in os.listdir(os.path.join(t, "spool"))):
        fail("a refused POST made a job")
    # Only configured scanners and profiles: no device URI, no path.
    for body in ({"scanner": "sane:test:1"}, {"scanner": "desk", "profile": "../letter"},
                 {"scanner": "desk", "profile": "/etc/passwd"}, {"scanner": ["desk"]}):
        r, _ = c.request("POST", "/api/scan", body, {"X-CSRF-Token": csrf})
        if r.status not in (400, 404):
            fail("POST /api/scan %r: %d" % (body, r.status))

    # Forged and malformed cookies are no session.
    for forged in (secrets.token_hex(32), c.cookie[:-1] + ("0" if c.cookie[-1] != "0" else "1"), "x" * 64,
                   c.cookie.upper(), c.cookie + "00", "../../" + c.cookie):
        f = Client(port)
        f.cookie = forged
        r, _ = f.request("GET", "/api/jobs")
        expect(r, 401, "GET /api/jobs with forged cookie %r" % forged)

    # A real job to aim at, and path traversal next to it.
    r, payload = c.request("POST", "/api/scan", scan, {"X-CSRF-Token": csrf})
    expect(r, 202, "POST /api/scan")
    job = json.loads(payload)["id"]
    qdir = os.path.join(t, "spool", "quarantine")
    os.makedirs(qdir, exist_ok=True)
    os.makedirs(os.path.join(qdir, "20200101-000000-000001"))
    for path in ("/api/jobs/..%2F..%2F..%2Fetc%2Fpasswd/document", "/api/jobs/../../etc/passwd/retry",
                 "/api/jobs/%2e%2e/cancel", "/api/jobs/quarantine/cancel", "/api/jobs/20200101-000000-000001/cancel",
                 "/api/jobs/" + job + "%2F..%2F..%2Fjob.ini/retry", "/api/jobs/.%2Fquarantine/retry",
                 "/api/jobs//retry", "/api/jobs/" + job + "/../../../spool/retry", "/static/../web.h",
                 "/static/%2e%2e/web-server.c", "/static/app.js%00.html", "/../../etc/passwd"):
        method = "GET" if path.endswith("document") or path.startswith("/static") or path.startswith("/..") else "POST"
        r, _ = c.request(method, path, b"{}" if method == "POST" else None, {"X-CSRF-Token": csrf})
        if r.status not in (400, 404):
            fail("%s %s: %d, expected 404" % (method, path, r.status))
    if not os.path.isdir(os.path.join(qdir, "20200101-000000-000001")):
        fail("a request removed a quarantined job")
    # Downloads are off here.
    r, _ = c.request("GET", "/api/jobs/%s/document" % job)
    expect(r, 403, "a document with downloads off")

    # Bodies: too large, no length, other methods; refused before reading.
    r, _ = c.request("POST", "/api/scan", b"x" * (64 * 1024), {"X-CSRF-Token": csrf})
    expect(r, 413, "a 64 KiB body")
    r, _ = c.request("PUT", "/api/scan", b"{}", {"X-CSRF-Token": csrf})
    expect(r, 405, "PUT")
    r, _ = c.request("POST", "/api/scan", iter([b"{}"]), {"X-CSRF-Token": csrf, "Transfer-Encoding": "chunked"})
    expect(r, 411, "a chunked body")
    r, _ = c.request("POST", "/api/scan", b"\xff\xfe{", {"X-CSRF-Token": csrf})
    expect(r, 400, "a body that is not UTF-8 JSON")

    # Logout ends the session.
    r, _ = c.request("POST", "/api/logout", b"{}", {"X-CSRF-Token": csrf})
    expect(r, 204, "logout")
    r, _ = c.request("GET", "/api/jobs")
    expect(r, 401, "GET /api/jobs after logout")
    return job


def throttle_checks(port):
    c = Client(port)
    csrf = c.session()["csrf"]
    statuses = []
    for i in range(100):
        r, _ = c.request("POST", "/api/login", {"user": "anna", "password": "guess-%d" % i}, {"X-CSRF-Token": csrf})
        statuses.append(r.status)
    # Five failures are free (one was spent above), then the address waits.
    if statuses[:4] != [401] * 4 or statuses[4] != 429:
        fail("the first failed logins: %s" % statuses[:6])
    throttled = statuses.count(429)
    if throttled < 90:
        fail("100 failed logins: only %d throttled (%s)" % (throttled, statuses))
    r, _ = c.request("POST", "/api/login", {"user": "anna", "password": "Right-pw-1"}, {"X-CSRF-Token": csrf})
    expect(r, 429, "the right password while throttled")
    if not (r.headers.get("Retry-After") or "").isdigit():
        fail("429 without Retry-After")
    # Another address is not held back by this one.
    other = Client(port, source="127.0.0.2")
    csrf2 = other.session()["csrf"]
    r, _ = other.request("POST", "/api/login", {"user": "anna", "password": "Right-pw-1"}, {"X-CSRF-Token": csrf2})
    expect(r, 200, "a login from 127.0.0.2")
    print("100 failed logins: %d throttled (429)" % throttled)


def main():
    with tempfile.TemporaryDirectory(prefix="scand-websec.") as t:
        accounts = os.path.join(t, "accounts")
        p = subprocess.run([SCAND, "web", "passwd", "anna", "--accounts", accounts], input="Right-pw-1\n", text=True,
                           capture_output=True)
        if p.returncode != 0 or os.stat(accounts).st_mode & 0o777 != 0o600:
            fail("scand web passwd: %d %s" % (p.returncode, p.stderr))
        link = os.path.join(t, "link")
        os.symlink(accounts, link)
        p = subprocess.run([SCAND, "web", "passwd", "bob", "--accounts", link], input="x\n", text=True,
                           capture_output=True)
        if p.returncode == 0 or "not a regular file" not in p.stderr:
            fail("scand web passwd through a symbolic link: %d %s" % (p.returncode, p.stderr))

        port = free_port()
        conf = os.path.join(t, "scand.conf")
        write_conf(conf, t, port, "accounts = %s\n" % accounts)
        with open(os.path.join(t, "daemon.log"), "w") as log:
            daemon = start_daemon(t, conf, log)
            try:
                logged_in_checks(t, port)
                throttle_checks(port)
                # Without accounts (a reload restarts the page): no login, but only
                # this server's own names.
                write_conf(conf, t, port, "")
                daemon.send_signal(signal.SIGHUP)
                c = Client(port)
                end = time.monotonic() + 20
                while True:
                    try:
                        if not c.session()["login_required"]:
                            break
                    except (OSError, SystemExit):
                        pass
                    if time.monotonic() > end:
                        fail("the reload did not restart the page without accounts")
                    time.sleep(0.2)
                r, _ = c.request("GET", "/api/jobs", headers={"Host": "evil.example:%d" % port})
                expect(r, 421, "a Host that is not this server (DNS rebinding)")
                r, _ = c.request("GET", "/api/jobs", headers={"Host": "localhost:%d" % port})
                expect(r, 200, "Host localhost without login")
                r, _ = c.request("POST", "/api/scan", {"scanner": "desk"})
                expect(r, 403, "POST without a CSRF token, no login")
            finally:
                daemon.send_signal(signal.SIGTERM)
                try:
                    daemon.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    fail("the daemon did not stop")
            if daemon.returncode != 0:
                fail("daemon exit status %d: %s" % (daemon.returncode, open(log.name).read()))

        # Beyond loopback only with TLS and accounts.
        write_conf(conf, t, port, "listen = 0.0.0.0:%d\naccounts = %s\n" % (port, accounts))
        p = subprocess.run([SCAND, "config", "check", "--config", conf], capture_output=True, text=True)
        if p.returncode != 1 or "reaches beyond this computer" not in p.stderr or "tls-cert, tls-key" not in p.stderr:
            fail("config check of 0.0.0.0 without TLS: %d %s" % (p.returncode, p.stderr))
        key, cert = os.path.join(t, "key.pem"), os.path.join(t, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost"], check=True, capture_output=True)
        os.chmod(key, 0o600)
        port = free_port()
        write_conf(conf, t, port, "listen = 127.0.0.1:%d\naccounts = %s\ntls-cert = %s\ntls-key = %s\n"
                   % (port, accounts, cert, key))
        p = subprocess.run([SCAND, "config", "check", "--config", conf], capture_output=True, text=True)
        if p.returncode != 0:
            fail("config check with TLS: %s" % p.stderr)
        with open(os.path.join(t, "daemon2.log"), "w") as log:
            daemon = start_daemon(t, conf, log)
            try:
                c = Client(port, tls=True)
                csrf = c.session()["csrf"]
                r, _ = c.request("POST", "/api/login", {"user": "anna", "password": "Right-pw-1"},
                                 {"X-CSRF-Token": csrf})
                expect(r, 200, "login over HTTPS")
                if "; Secure" not in r.headers.get("Set-Cookie", ""):
                    fail("the cookie over HTTPS is not Secure: %r" % r.headers.get("Set-Cookie"))
                if "max-age" not in (r.headers.get("Strict-Transport-Security") or ""):
                    fail("no Strict-Transport-Security over HTTPS")
                plain = Client(port)
                try:
                    r, _ = plain.request("GET", "/api/session")
                    fail("plain HTTP answered on the HTTPS listener: %d" % r.status)
                except (http.client.HTTPException, OSError):
                    pass
            finally:
                daemon.send_signal(signal.SIGTERM)
                daemon.wait(timeout=30)
    print("ok")


main()
