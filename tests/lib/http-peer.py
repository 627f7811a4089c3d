#!/usr/bin/python3
# A hostile-on-demand HTTP/1.1 server for tests of scand's HTTP client
# (tests/unit/test-http.c). Standard library only; listens on 127.0.0.1 only.
#
#   http-peer.py --port-file FILE [--lifetime S]
#
# The path chooses the behaviour:
#   /ok                 200 "hello\n"
#   /echo               200 JSON {method, path, headers, body, conn}
#   /conn               200 the client's connection number (keep-alive reuse)
#   /status/N           N with a short text body
#   /retry-after/S      503 with Retry-After: S
#   /retry-date         503 with Retry-After as an HTTP-date 30 s ahead
#   /bytes/N            200 with N bytes of 'x' (Content-Length)
#   /drip               200, Content-Length 100000, one byte a second
#   /silent             headers, then nothing for 600 s
#   /no-reply           nothing at all for 600 s
#   /endless            200, chunked, megabytes for ever
#   /huge-headers       200 and header lines for ever
#   /many-headers       200 with 500 small header lines
#   /redirect           302 to http://192.0.2.1/elsewhere (never followed)
#   /cut                Content-Length 100000, 1000 bytes, then close
import http.server
import json
import os
import socketserver
import sys
import threading
import time
from email.utils import formatdate

STOP = threading.Event()
CONN = [0]
CONN_LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        with CONN_LOCK:
            CONN[0] += 1
            self.conn = CONN[0]

    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def wait(self, seconds):
        STOP.wait(seconds)

    def do_HEAD(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_PATCH(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        p = self.path
        try:
            self.route(p, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def route(self, p, body):
        if p == "/ok":
            return self.send(200, b"hello\n", {"Content-Type": "text/plain"})
        if p == "/echo":
            out = {"method": self.command, "path": p, "conn": self.conn,
                   "headers": dict(self.headers.items()),
                   "body": body.decode("latin-1")}
            return self.send(200, json.dumps(out).encode(),
                             {"Content-Type": "application/json"})
        if p == "/conn":
            return self.send(200, b"%d" % self.conn)
        if p.startswith("/status/"):
            return self.send(int(p[8:]), b"status page\n",
                             {"Content-Type": "text/plain"})
        if p.startswith("/retry-after/"):
            return self.send(503, b"busy\n", {"Retry-After": p[13:]})
        if p == "/retry-date":
            return self.send(503, b"busy\n",
                             {"Retry-After": formatdate(time.time() + 30,
                                                        usegmt=True)})
        if p.startswith("/bytes/"):
            return self.send(200, b"x" * int(p[7:]))
        if p == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(100000):
                if STOP.is_set():
                    break
                self.wfile.write(b"x")
                self.wfile.flush()
                self.wait(1.0)
            self.close_connection = True
            return None
        if p == "/silent":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.flush()
            self.wait(600)
            self.close_connection = True
            return None
        if p == "/no-reply":
            self.wait(600)
            self.close_connection = True
            return None
        if p == "/endless":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"%x\r\n%s\r\n" % (65536, b"y" * 65536)
            while not STOP.is_set():
                self.wfile.write(chunk)
            self.close_connection = True
            return None
        if p == "/huge-headers":
            self.send_response(200)
            i = 0
            while not STOP.is_set() and i < 10000000:
                self.send_header("X-Filler-%d" % i, "z" * 200)
                self.flush_headers()
                i += 1
            self.close_connection = True
            return None
        if p == "/many-headers":
            self.send_response(200)
            for i in range(500):
                self.send_header("X-H%d" % i, "v")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if p == "/redirect":
            return self.send(302, b"", {"Location":
                                        "http://192.0.2.1/elsewhere"})
        if p == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"c" * 1000)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return None
        return self.send(404, b"no such path\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    port_file = sys.argv[sys.argv.index("--port-file") + 1]
    lifetime = 300.0
    if "--lifetime" in sys.argv:
        lifetime = float(sys.argv[sys.argv.index("--lifetime") + 1])
    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, port_file)
    import signal
    signal.signal(signal.SIGTERM, lambda *a: STOP.set())
    STOP.wait(lifetime)
    os._exit(0)


if __name__ == "__main__":
    main()
