"""Crash test of the mail intake: SIGKILL at each fault point (SCAND_FAULT) —
after DATA before the fsync (intake-data), after the commit before the 250
(intake-committed), after the 250 (intake-replied), during routing (a job
made, not recorded: intake-routing) and after routing was recorded before
the jobs moved into the spool (intake-routed) — then a restart, and the
copier sends again what it did not see acknowledged, as copiers do.

The rule (scand/core/mail-spool.h): a message is accepted when it is
committed, just before the 250; a resend of an accepted message is answered
"already queued" and not stored again. So: every message the client saw
acknowledged, or sent again, is delivered exactly once; a message killed
before its commit and not sent again is delivered zero times. Then the same
under random SIGKILLs while a copier sends 30 messages."""
import os
import random
import smtplib
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.environ.get("SCAND_SRCDIR", "."), "tests", "lib"))
from intake_testlib import IntakeEnv, check, free_port, make_mail, make_pdf, wait_for  # noqa: E402

FAULTS = ["intake-data", "intake-committed", "intake-replied", "intake-routing", "intake-routed"]


def send(port, rcpt, msg):
    """One attempt: True when the server said 250 to the message."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.sendmail("scanner@copier.example", [rcpt], msg)
        return True
    except (smtplib.SMTPException, OSError):
        return False


def delivered(env, name):
    return [p for p in env.files("out") if os.path.basename(p) == name]


with IntakeEnv() as env:
    port = free_port()
    conf = env.config(f"""
[intake mfp]
type = smtp
listen = 127.0.0.1:{port}
allow-from = 127.0.0.1
accept-to = *@scan.example

[output out]
type = folder
path = {env.path("out")}
create = true

[rule all]
source = mail
deliver = out
""")
    pdfs = {}

    def message(name):
        pdfs[name] = make_pdf(1800)
        return make_mail(to="c@scan.example", subject=name, attachments=[(name + ".pdf", pdfs[name], "application/pdf")])

    # A copier that gives up after the crash: what it never saw acknowledged,
    # and was killed before its commit, is never delivered.
    env.start_daemon(conf, env={"SCAND_FAULT": "intake-data"})
    check(not send(port, "c@scan.example", message("given-up")), "the fault ends the session before the 250")
    env.kill_daemon()
    kills = env.log_text().count("fault hook: SIGKILL")
    check(kills == 1, "the fault point was reached")

    for fault in FAULTS:
        msg = message(fault)
        env.start_daemon(conf, env={"SCAND_FAULT": fault})
        acked = send(port, "c@scan.example", msg)
        wait_for(lambda: env.daemon.poll() is not None, 30, "the kill at " + fault)
        kills += 1
        check(env.log_text().count("fault hook: SIGKILL") == kills, "%s was reached" % fault)
        check(acked == (fault in ("intake-replied", "intake-routing", "intake-routed")),
              "%s: the client saw a 250: %s" % (fault, acked))
        env.start_daemon(conf)
        if not acked:
            check(send(port, "c@scan.example", msg), "%s: the resend is acknowledged" % fault)
        wait_for(lambda: delivered(env, fault + ".pdf"), 30, "the delivery after " + fault)
        env.stop_daemon()
        got = delivered(env, fault + ".pdf")
        check(len(got) == 1, "%s: delivered exactly once: %s" % (fault, got))
        with open(got[0], "rb") as f:
            check(f.read() == pdfs[fault], "%s: the document is whole" % fault)
    check("already queued" in env.log_text(), "the resend after intake-committed was recognised")
    check(not delivered(env, "given-up.pdf"), "a message killed before its commit and not resent: not delivered")

    # Random SIGKILLs while a copier sends 30 messages and resends what was
    # not acknowledged.
    names = ["r%02d" % i for i in range(30)]
    msgs = {n: message(n) for n in names}
    pending = list(names)
    rng = random.Random(int(os.environ.get("SCAND_TEST_SEED", "12")))
    for round_no in range(6):
        env.start_daemon(conf)
        deadline = time.time() + rng.uniform(0.3, 1.5)
        while pending and time.time() < deadline:
            if send(port, "c@scan.example", msgs[pending[0]]):
                pending.pop(0)
        env.kill_daemon()
    env.start_daemon(conf)
    while pending:
        check(send(port, "c@scan.example", msgs[pending[0]]), "a send without kills is acknowledged")
        pending.pop(0)
    wait_for(lambda: all(delivered(env, n + ".pdf") for n in names), 60, "every message delivered")
    time.sleep(2)
    env.stop_daemon()
    for n in names:
        got = delivered(env, n + ".pdf")
        check(len(got) == 1, "%s delivered exactly once: %s" % (n, got))
        with open(got[0], "rb") as f:
            check(f.read() == pdfs[n], "%s is whole" % n)
    spool = env.path("spool")
    jobs = [d for d in os.listdir(spool) if not d.startswith(".") and d != "intake-errors"]
    check(not jobs, "no job left in the spool: %s" % jobs)
    drafts = [d for d in os.listdir(os.path.join(spool, ".intake")) if d.startswith(".draft")]
    check(not drafts, "no draft left behind: %s" % drafts)
    print("ok")
