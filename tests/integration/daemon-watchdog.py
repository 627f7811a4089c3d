"""systemd watchdog pings prove that the workers make progress, not only the
main loop: while the delivery queue works through 200 watched files (longer
than stall-timeout, but moving) the pings go on; when the worker is stuck (the
test-only fault hook blocks it for good, as a hung mount would) they stop once
stall-timeout has passed and say so in the log, while the main loop still
answers (SIGHUP gives RELOADING=1)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

scand = os.environ["SCAND"]
srcdir = os.environ["SCAND_SRCDIR"]
with tempfile.TemporaryDirectory(prefix="scand-watchdog.") as t:
    sock_path = os.path.join(t, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(0.2)
    for d in ("in", "out", "batch"):
        os.mkdir(os.path.join(t, d))
    doc = os.path.join(t, "doc.pdf")
    subprocess.run([scand, "assemble", "-o", doc, os.path.join(srcdir, "tests/integration/data/page.pnm")],
                   check=True, stdout=subprocess.DEVNULL)
    conf = os.path.join(t, "scand.conf")
    with open(conf, "w") as f:
        f.write("[scand]\nstall-timeout = 2s\n\n[watch drop]\npath = %s/in\nstable-for = 1s\nafter = delete\n\n"
                "[output out]\ntype = folder\npath = %s/out\n\n[rule all]\ndeliver = out\n" % (t, t))
    n = 200
    env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="300000", SCAND_SPOOL=os.path.join(t, "spool"),
               XDG_CONFIG_HOME=os.path.join(t, "xdg"), HOME=t, SCAND_FAULT="watch-taken@%d:stall" % (n + 1))
    env.pop("WATCHDOG_PID", None)
    log = open(os.path.join(t, "daemon.log"), "w+")
    daemon = subprocess.Popen([scand, "daemon", "--config", conf, "--no-bus"], env=env, stderr=log)

    def messages_for(seconds):
        """(time, message) pairs received during the next seconds."""
        got = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                got.append((time.monotonic(), sock.recv(4096).decode()))
            except socket.timeout:
                pass
        return got

    def longest_gap(got, start, end):
        pings = [start] + [at for at, m in got if "WATCHDOG=1" in m] + [end]
        return max(b - a for a, b in zip(pings, pings[1:]))

    def delivered():
        return len(os.listdir(os.path.join(t, "out")))

    try:
        got = messages_for(2)
        assert any("READY=1" in m for _, m in got), got
        # Busy but moving: n files, longer than stall-timeout in all.
        for i in range(n):
            shutil.copy(doc, os.path.join(t, "batch", "b%03d.pdf" % i))
        for name in os.listdir(os.path.join(t, "batch")):
            os.rename(os.path.join(t, "batch", name), os.path.join(t, "in", name))
        start = time.monotonic()
        got = []
        while delivered() < n and time.monotonic() - start < 240:
            got += messages_for(1)
        busy = time.monotonic() - start
        assert delivered() == n, "only %d of %d delivered" % (delivered(), n)
        gap = longest_gap(got, start, time.monotonic())
        print("%d files in %.1f s; longest gap between pings %.2f s" % (n, busy, gap))
        assert gap < 1.5, "pings stopped while the worker was moving (gap %.2f s)" % gap
        # Stuck: the next file blocks the worker for good.
        shutil.copy(doc, os.path.join(t, "in", "stuck.pdf"))
        got = messages_for(8)
        log.seek(0)
        text = log.read()
        assert "fault hook: stall" in text, text
        pings = [at for at, m in got if "WATCHDOG=1" in m]
        assert pings, "no ping at all after the file was dropped"
        end = time.monotonic()
        print("last ping %.1f s before the end of an 8 s wait" % (end - pings[-1]))
        assert end - pings[-1] > 4, "pings went on while the worker was stuck"
        assert "no progress for" in text and "no more watchdog pings" in text, text
        # The main loop itself still runs.
        daemon.send_signal(signal.SIGHUP)
        got = messages_for(3)
        assert any("RELOADING=1" in m for _, m in got), got
        assert not any("WATCHDOG=1" in m for _, m in got), "a ping while the worker is still stuck"
    finally:
        daemon.kill()
        daemon.wait()
    print("ok")
