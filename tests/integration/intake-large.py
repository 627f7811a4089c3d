"""A 40 MB attachment through the mail intake with the daemon's memory
sampled all along: the message is streamed to the spool and the attachment
decoded from it to disk, so RSS stays flat (it grows by far less than the
message), and the PDF arrives byte for byte."""
import os
import re
import smtplib
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.environ.get("SCAND_SRCDIR", "."), "tests", "lib"))
from intake_testlib import IntakeEnv, check, free_port, make_mail, make_pdf, wait_for  # noqa: E402

MB = 1024 * 1024

with IntakeEnv() as env:
    port = free_port()
    conf = env.config(f"""
[intake mfp]
type = smtp
listen = 127.0.0.1:{port}
allow-from = 127.0.0.1
accept-to = *@scan.example
max-size = 80M

[output out]
type = folder
path = {env.path("out")}
create = true

[rule all]
source = mail
deliver = out
""")
    env.start_daemon(conf)
    # Warm up: one small message through every step, then the baseline.
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
        s.sendmail("a@copier.example", ["x@scan.example"],
                   make_mail(attachments=[("warm.pdf", make_pdf(5000), "application/pdf")]))
    env.wait_files("out", 1)
    time.sleep(1)
    baseline = env.rss_kb()

    big = make_pdf(40 * MB)
    msg = make_mail(attachments=[("big.pdf", big, "application/pdf")])
    check(len(msg) > 50 * MB, "the message is over 50 MB on the wire (%d)" % len(msg))
    peak = [baseline]
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                peak[0] = max(peak[0], env.rss_kb())
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
    sampler = threading.Thread(target=sample)
    sampler.start()
    t0 = time.time()
    with smtplib.SMTP("127.0.0.1", port, timeout=300) as s:
        s.sendmail("a@copier.example", ["x@scan.example"], msg)  # smtplib declares SIZE itself
    t_accept = time.time() - t0
    try:
        wait_for(lambda: os.path.exists(env.path("out", "big.pdf")), 120, "the big PDF")
        # The job's line, wherever it is (other lines may follow it).
        wait_for(lambda: re.search(r"^scand: job \S+: done", env.log_text(), re.M), 60, "the job to finish")
    finally:
        done.set()  # a failure must not leave the sampler running (the test would hang)
        sampler.join()
    growth_mb = (peak[0] - baseline) / 1024
    print("RSS baseline %.1f MB, peak %.1f MB, growth %.1f MB for a %.1f MB message (accepted in %.1f s)" %
          (baseline / 1024, peak[0] / 1024, growth_mb, len(msg) / MB, t_accept))
    check(growth_mb < 16, "RSS grew by %.1f MB for a %d MB message: not flat" % (growth_mb, len(msg) // MB))
    with open(env.path("out", "big.pdf"), "rb") as f:
        check(f.read() == big, "the 40 MB PDF arrived byte for byte")
    env.stop_daemon()
    print("ok")
