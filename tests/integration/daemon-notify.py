"""systemd Type=notify: the daemon tells a notify socket (the test's own, as
systemd's would be) READY with a STATUS, RELOADING then READY on SIGHUP,
WATCHDOG pings at half the watchdog interval, and STOPPING on SIGTERM, then
exits 0."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

scand = os.environ["SCAND"]
with tempfile.TemporaryDirectory(prefix="scand-notify.") as t:
    sock_path = os.path.join(t, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(20)
    conf = os.path.join(t, "scand.conf")
    with open(conf, "w") as f:
        f.write("[output out]\ntype = folder\npath = %s/out\ncreate = true\n" % t)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="400000", SCAND_SPOOL=os.path.join(t, "spool"),
               XDG_CONFIG_HOME=os.path.join(t, "xdg"), HOME=t)
    env.pop("WATCHDOG_PID", None)
    daemon = subprocess.Popen([scand, "daemon", "--config", conf, "--no-bus"], env=env, stderr=subprocess.PIPE)

    def messages_until(predicate, what):
        seen = []
        end = time.monotonic() + 20
        while time.monotonic() < end:
            data = sock.recv(4096).decode()
            seen.append(data)
            if predicate(data):
                return seen
        sys.exit("FAIL: no %s; got %r" % (what, seen))

    try:
        seen = messages_until(lambda m: "READY=1" in m, "READY=1")
        assert any("STATUS=" in m for m in seen), seen
        pings = 0
        start = time.monotonic()
        while pings < 3:
            if "WATCHDOG=1" in sock.recv(4096).decode():
                pings += 1
        elapsed = time.monotonic() - start
        assert elapsed < 5, "3 watchdog pings took %.1f s with WATCHDOG_USEC=400000" % elapsed
        daemon.send_signal(signal.SIGHUP)
        seen = messages_until(lambda m: "RELOADING=1" in m, "RELOADING=1 after SIGHUP")
        messages_until(lambda m: "READY=1" in m, "READY=1 after the reload")
        daemon.send_signal(signal.SIGTERM)
        messages_until(lambda m: "STOPPING=1" in m, "STOPPING=1 after SIGTERM")
        rc = daemon.wait(timeout=30)
        assert rc == 0, "exit status %d after SIGTERM" % rc
    finally:
        if daemon.poll() is None:
            daemon.kill()
    print("ok")
