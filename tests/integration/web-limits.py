"""The web page's listener under abuse, against the daemon (SANE test backend,
no login on loopback, [web] max-connections = 40), over raw sockets:

- slow peers: one trickling its headers a byte a second (slowloris) and one
  that sends nothing lose their connections at the 20 s header deadline,
  not at the 60 s idle timeout, and the page answers others meanwhile;
- endless headers (8 MiB of one header line, 10 000 header lines): refused,
  and the daemon's memory stays small;
- an event-stream flood: 30 streams held open each get a scan's progress
  and finished events;
- clients that hang up (after an answer, or before asking) keep no
  connection slot (libsoup 3.2 keeps kept-alive ones: no keep-alive);
- a connection flood: beyond max-connections a connection is closed before
  any answer, and once the flood is gone the page answers again;
- one address beyond loopback holds 64 connections at most, and another is
  still served (in a network namespace of the test's own, over HTTPS)."""
import http.client
import json
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

SCAND = os.environ["SCAND"]
MAX_CONNECTIONS = 40
STREAMS = 30
HEADER_DEADLINE = 20
PER_ADDRESS = 64


def fail(msg):
    sys.exit("FAIL: " + msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


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


def stop_daemon(daemon, log):
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.kill()
        fail("the daemon did not stop")
    if daemon.returncode != 0:
        fail("daemon exit status %d: %s" % (daemon.returncode, open(log.name).read()))


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def exchange(port, request, timeout=30):
    """Sends request on a new connection; returns (socket, first line of the
    answer or "" when the connection closed without one)."""
    s = connect(port)
    s.settimeout(timeout)
    try:
        s.sendall(request)
        got = b""
        while b"\r\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        got = b""
    return s, got.split(b"\r\n", 1)[0].decode(errors="replace")


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


class Slow(threading.Thread):
    """A peer that trickles (or, with trickle False, never sends) its
    headers; records how long its connection lasted."""

    def __init__(self, port, trickle):
        super().__init__(daemon=True)
        self.sock = connect(port)
        self.trickle = trickle
        self.lasted = None
        self.answer = b""

    def run(self):
        start = time.monotonic()
        s = self.sock
        s.settimeout(1)
        head = b"GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 1000
        i = 0
        while time.monotonic() - start < 3 * HEADER_DEADLINE:
            try:
                if self.trickle and i < len(head):
                    s.send(head[i:i + 1])
                    i += 1
                chunk = s.recv(4096)
                if not chunk:
                    break
                self.answer += chunk
            except socket.timeout:
                continue
            except OSError:
                break
        self.lasted = time.monotonic() - start
        s.close()


def read_until(streams, wanted, timeout):
    """Reads every stream until each has seen all strings in wanted."""
    seen = {s: b"" for s in streams}
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        missing = [s for s in streams if not all(w in seen[s] for w in wanted)]
        if not missing:
            return seen
        ready, _, _ = select.select(missing, [], [], 1)
        for s in ready:
            chunk = s.recv(65536)
            if not chunk:
                fail("an event stream closed: %r" % seen[s][-300:])
            seen[s] += chunk
    missing = [s for s in streams if not all(w in seen[s] for w in wanted)]
    fail("%d of %d event streams did not get %s; one has: %r"
         % (len(missing), len(streams), wanted, seen[missing[0]][-500:]))


def endless_headers(port, daemon):
    before = rss_mib(daemon.pid)
    for what, head in (("one 8 MiB header line", b"X-Big: " + b"a" * (8 << 20)),
                       ("10 000 header lines", b"".join(b"X-%d: a\r\n" % i for i in range(10000)))):
        s = connect(port)
        s.settimeout(30)
        answer = b""
        try:
            s.sendall(b"GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n" + head + b"\r\n\r\n")
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
        s.close()
        status = answer.split(b"\r\n", 1)[0]
        if status.startswith(b"HTTP/1.1 2"):
            fail("%s: answered %r" % (what, status))
        print("%s: %r" % (what, status or "closed"), flush=True)
    after = rss_mib(daemon.pid)
    print("daemon RSS %.1f MiB before, %.1f MiB after" % (before, after), flush=True)
    if after > before + 32:
        fail("endless headers grew the daemon from %.1f to %.1f MiB" % (before, after))


def event_flood(port):
    streams = []
    for i in range(STREAMS):
        s, status = exchange(port, b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        if status != "HTTP/1.1 200 OK":
            fail("event stream %d: %r" % (i, status))
        streams.append(s)
    # A scan, asked for as the page asks.
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/api/session")
    r = c.getresponse()
    session = json.loads(r.read())
    cookie = r.headers["Set-Cookie"].split(";")[0]
    c.request("POST", "/api/scan", body=json.dumps({"scanner": "desk"}),
              headers={"Cookie": cookie, "X-CSRF-Token": session["csrf"], "Content-Type": "application/json"})
    r = c.getresponse()
    job = json.loads(r.read()).get("id")
    c.close()
    if r.status != 202 or not job:
        fail("POST /api/scan: %d" % r.status)
    read_until(streams, [b"event: progress", b"event: finished", job.encode()], 120)
    print("%d event streams got the progress and end of job %s" % (STREAMS, job), flush=True)
    return streams


def connection_flood(port, held):
    """Opens silent connections past the limit: those beyond it are closed
    at once, the others stay open; returns them all."""
    room = MAX_CONNECTIONS - held
    flood = [connect(port) for _ in range(room + 5)]
    refused = 0
    end = time.monotonic() + 8
    for s in flood:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            if s.recv(1) == b"":
                refused += 1
        except socket.timeout:
            pass
        except OSError:
            refused += 1
    print("the flood: %d connections beside %d held, %d closed at once" % (len(flood), held, refused), flush=True)
    if not 5 <= refused <= 5 + 2:
        fail("%d of %d connections beyond %d held were refused, the limit is %d"
             % (refused, len(flood), held, MAX_CONNECTIONS))
    s, status = exchange(port, b"GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=10)
    s.close()
    if status:
        fail("a request while the connections are all taken: %r" % status)
    return flood


def churn(port):
    """Clients that hang up: after reading an answer (as curl does, HTTP/1.1
    without Connection: close) and before sending anything. Neither may keep
    a connection slot: libsoup 3.2 never frees a kept-alive connection closed
    by the client, so every answer must close its connection."""
    for i in range(3 * MAX_CONNECTIONS):
        s, status = exchange(port, b"GET /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.close()
        if status != "HTTP/1.1 200 OK":
            fail("request %d of clients that hang up after the answer: %r" % (i, status))
    for i in range(2 * MAX_CONNECTIONS):
        connect(port).close()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/api/jobs")
    r = c.getresponse()
    r.read()
    c.close()
    if r.status != 200 or (r.headers.get("Connection") or "").lower() != "close":
        fail("after %d clients hung up: %d, Connection %r" % (5 * MAX_CONNECTIONS, r.status, r.headers.get("Connection")))
    print("%d clients hung up, the page still answers (Connection: close)" % (5 * MAX_CONNECTIONS), flush=True)


def main():
    with tempfile.TemporaryDirectory(prefix="scand-weblimits.") as t:
        port = free_port()
        conf = os.path.join(t, "scand.conf")
        with open(conf, "w") as f:
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
max-connections = %d
""" % (t, port, MAX_CONNECTIONS))
        with open(os.path.join(t, "daemon.log"), "w") as log:
            daemon = start_daemon(t, conf, log)
            try:
                slow = [Slow(port, trickle=True), Slow(port, trickle=False)]
                for s in slow:
                    s.start()
                endless_headers(port, daemon)
                churn(port)
                status, _ = get(port, "/api/jobs")
                if status != 200:
                    fail("GET /api/jobs beside slow peers: %d" % status)
                streams = event_flood(port)
                flood = connection_flood(port, STREAMS + sum(1 for s in slow if s.is_alive()))
                for s in streams + flood:
                    s.close()
                end = time.monotonic() + 10
                while True:
                    try:
                        status, _ = get(port, "/api/jobs")
                        if status == 200:
                            break
                    except (OSError, http.client.HTTPException):
                        pass
                    if time.monotonic() > end:
                        fail("the page did not answer again after the flood")
                    time.sleep(0.2)
                for s in slow:
                    s.join(4 * HEADER_DEADLINE)
                    what = "a peer trickling its headers" if s.trickle else "a peer sending nothing"
                    print("%s: closed after %.1f s" % (what, s.lasted), flush=True)
                    if s.lasted is None or not HEADER_DEADLINE - 2 <= s.lasted <= HEADER_DEADLINE + 10:
                        fail("%s lasted %s s, the header deadline is %d s" % (what, s.lasted, HEADER_DEADLINE))
                    if s.answer.startswith(b"HTTP/1.1 2"):
                        fail("%s was answered: %r" % (what, s.answer[:100]))
            finally:
                stop_daemon(daemon, log)
    # The rest in a network namespace of its own (root: as web-page).
    if os.getuid() != 0:
        fail("unshare -n needs root")
    p = subprocess.run(["unshare", "-n", sys.executable, __file__, "--per-address"])
    if p.returncode != 0:
        fail("the per-address limit (exit status %d)" % p.returncode)


def per_address(t):
    """In a network namespace of its own (unshare -n: nothing leaves it),
    with 10.9.0.1 and 10.9.0.2 on its lo, the page listens on 10.9.0.1 —
    beyond loopback, so with TLS and accounts — and one address may hold 64
    connections: the 65th from 10.9.0.1 is closed before a byte, while
    10.9.0.2 is still served."""
    for a in ("10.9.0.1/32", "10.9.0.2/32"):
        subprocess.run(["ip", "addr", "add", a, "dev", "lo"], check=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    key, cert, accounts = (os.path.join(t, n) for n in ("key.pem", "cert.pem", "accounts"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=10.9.0.1"], check=True, capture_output=True)
    os.chmod(key, 0o600)
    subprocess.run([SCAND, "web", "passwd", "anna", "--accounts", accounts], input="Pw-per-peer-1\n", text=True,
                   check=True, capture_output=True)
    port = 8443
    conf = os.path.join(t, "scand.conf")
    with open(conf, "w") as f:
        f.write("""[scanner desk]
device = sane:test:0

[output out]
type = folder
path = %s/out
create = true

[rule all]
deliver = out

[web]
listen = 10.9.0.1:%d
tls-cert = %s
tls-key = %s
accounts = %s
""" % (t, port, cert, key, accounts))
    with open(os.path.join(t, "daemon.log"), "w") as log:
        daemon = start_daemon(t, conf, log)
        try:
            held = []
            for _ in range(PER_ADDRESS + 3):
                s = socket.socket()
                s.bind(("10.9.0.1", 0))
                s.settimeout(30)
                s.connect(("10.9.0.1", port))
                held.append(s)
            refused = 0
            end = time.monotonic() + 8
            for s in held:
                s.settimeout(max(0.1, end - time.monotonic()))
                try:
                    if s.recv(1) == b"":
                        refused += 1
                except socket.timeout:
                    pass
                except OSError:
                    refused += 1
            print("%d connections from 10.9.0.1: %d closed at once" % (len(held), refused), flush=True)
            if refused != 3:
                fail("%d of %d connections from one address refused, the limit is %d"
                     % (refused, len(held), PER_ADDRESS))
            ctx = ssl.create_default_context(cafile=cert)
            ctx.check_hostname = False
            c = http.client.HTTPSConnection("10.9.0.1", port, timeout=30, context=ctx,
                                            source_address=("10.9.0.2", 0))
            c.request("GET", "/api/session")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status != 200:
                fail("10.9.0.2 beside a full 10.9.0.1: %d" % r.status)
            print("10.9.0.2 is still served over HTTPS", flush=True)
            for s in held:
                s.close()
        finally:
            stop_daemon(daemon, log)


if sys.argv[1:] == ["--per-address"]:
    with tempfile.TemporaryDirectory(prefix="scand-weblimits.") as t:
        per_address(t)
else:
    main()
