"""The smtp output's outcomes against a real SMTP server with scripted replies
(tests/lib/smtpd.py): STARTTLS refused → failed and nothing sent in clear;
wrong password → failed with the server's reply; Exchange's "basic
authentication" refusal → failed with a hint to use XOAUTH2 or Graph;
421/451 → retry, and the retry delivers exactly once; a refused recipient is
reported by name and a retry mails only that recipient; max-size and the
server's SIZE limit → failed saying so."""
import glob
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.environ.get("SCAND_SRCDIR", "."), "tests", "lib"))
from m365_testlib import TestEnv, check, read_json, write_json, EXIT_OK, EXIT_FAILED, EXIT_QUEUED  # noqa: E402


def count(d):
    return len(glob.glob(os.path.join(d, "msg-*.eml")))


def log_of(d):
    with open(os.path.join(d, "log")) as f:
        return f.read()


def job_id(out):
    m = re.search(r"job (\S+) is", out)
    check(m is not None, "no job id in: " + out)
    return m.group(1)


with TestEnv() as env:
    good = env.secret("good-password", "right")
    bad = env.secret("bad-password", "wrong")
    pdf = env.pdf("doc.pdf", 80_000)
    big = env.pdf("big.pdf", 200_000)

    # STARTTLS not offered: failed, and the log shows no AUTH and no MAIL.
    dplain, pplain = env.start_smtpd("--tls", "none", "--user", "u@example.com", "--password", "right",
                                     name="notls")
    d, port = env.start_smtpd("--user", "u@example.com", "--password", "right", "--size", "150000")
    conf = env.config(f"""
[output notls]
type = smtp
url = smtp://127.0.0.1:{pplain}
security = starttls
ca-file = {env.ca}
username = u@example.com
password-file = {good}
from = u@example.com
to = a@example.com

[output good]
type = smtp
url = smtp://127.0.0.1:{port}
ca-file = {env.ca}
username = u@example.com
password-file = {good}
from = u@example.com
to = a@example.com, b@example.com

[output bad]
type = smtp
url = smtp://127.0.0.1:{port}
ca-file = {env.ca}
username = u@example.com
password-file = {bad}
from = u@example.com
to = a@example.com

[output small]
type = smtp
url = smtp://127.0.0.1:{port}
ca-file = {env.ca}
username = u@example.com
password-file = {good}
from = u@example.com
to = a@example.com
max-size = 100K
""")
    rc, out = env.deliver(pdf, "notls", conf, expect=EXIT_FAILED)
    check("STARTTLS" in out and "nothing was sent in clear" in out, "STARTTLS refusal message: " + out)
    log = log_of(dplain) if os.path.exists(os.path.join(dplain, "log")) else ""
    check("MAIL FROM" not in log and "AUTH" not in log, "something was sent in clear:\n" + log)
    check(count(dplain) == 0, "a message arrived without TLS")

    # Wrong password: failed with the server's own reply.
    rc, out = env.deliver(pdf, "bad", conf, expect=EXIT_FAILED)
    check("535" in out and "5.7.8" in out, "server reply in the message: " + out)
    check(count(d) == 0, "nothing sent with a wrong password")

    # Exchange Online with basic authentication switched off.
    script = os.path.join(d, "script.json")
    write_json(script, {"auth": "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."})
    rc, out = env.deliver(pdf, "good", conf, expect=EXIT_FAILED)
    check("5.7.139" in out and "xoauth2" in out and "graph-mail" in out, "basic-auth hint: " + out)

    # 454 (temporary authentication failure): retry, not failed.
    write_json(script, {"auth": "454 4.7.0 Temporary authentication failure"})
    rc, out = env.deliver(pdf, "good", conf, expect=EXIT_QUEUED)
    check("454" in out, "454 named: " + out)
    write_json(script, {})
    rc, o, e = env.scand("cancel", job_id(out), "--config", conf)

    # 421 at the greeting: retry; after the server recovers, one message.
    write_json(script, {"connect": "421 4.3.2 Service not available, closing channel"})
    rc, out = env.deliver(pdf, "good", conf, expect=EXIT_QUEUED)
    check("421" in out, "421 named: " + out)
    job = job_id(out)
    write_json(script, {})
    rc, o, e = env.scand("retry", job, "--config", conf)
    check(rc == EXIT_OK, "retry after 421: %d %s%s" % (rc, o, e))
    check(count(d) == 1, "one message after the retry, got %d" % count(d))
    rc, o, e = env.scand("retry", job, "--config", conf)
    check(count(d) == 1, "a second retry of a delivered job sent again")

    # 451 after DATA: retry.
    write_json(script, {"data": "451 4.3.0 Temporary server error, try again later"})
    rc, out = env.deliver(pdf, "good", conf, expect=EXIT_QUEUED)
    check("451" in out and "4.3.0" in out, "451 named: " + out)
    check(count(d) == 1, "nothing accepted on 451")
    write_json(script, {})
    rc, o, e = env.scand("retry", job_id(out), "--config", conf)
    check(rc == EXIT_OK and count(d) == 2, "retry after 451: %d %s%s" % (rc, o, e))

    # 451 on MAIL FROM: retry as well.
    write_json(script, {"mail": "451 4.7.500 Server busy. Please try again later."})
    rc, out = env.deliver(pdf, "good", conf, expect=EXIT_QUEUED)
    write_json(script, {})
    rc, o, e = env.scand("retry", job_id(out), "--config", conf)
    check(rc == EXIT_OK and count(d) == 3, "retry after 451 on MAIL")

    # One recipient refused (550): failed naming it; the other got the mail.
    write_json(script, {"rcpt": {"b@example.com": "550 5.1.1 User unknown"}})
    rc, out = env.deliver(pdf, "good", conf, expect=EXIT_FAILED)
    check("b@example.com" in out and "550 5.1.1" in out, "refused recipient named: " + out)
    check(count(d) == 4, "the accepted recipient got the mail")
    meta = read_json(os.path.join(d, "msg-4.json"))
    check(meta["rcpt_tos"] == ["a@example.com"], "only a@ accepted: %r" % meta["rcpt_tos"])
    # Once fixed, a retry mails only the one still missing.
    write_json(script, {})
    rc, o, e = env.scand("retry", job_id(out), "--config", conf)
    check(rc == EXIT_OK and count(d) == 5, "retry after the refused recipient: %d %s%s" % (rc, o, e))
    meta = read_json(os.path.join(d, "msg-5.json"))
    check(meta["rcpt_tos"] == ["b@example.com"], "the retry went to b@ only: %r" % meta["rcpt_tos"])

    # A 4xx for one recipient: retry, later only to that one.
    write_json(script, {"rcpt": {"a@example.com": "452 4.2.2 Mailbox full"}})
    rc, out = env.deliver(pdf, "good", conf, expect=EXIT_QUEUED)
    check(count(d) == 6 and read_json(os.path.join(d, "msg-6.json"))["rcpt_tos"] == ["b@example.com"], "b@ got it")
    write_json(script, {})
    rc, o, e = env.scand("retry", job_id(out), "--config", conf)
    check(rc == EXIT_OK and read_json(os.path.join(d, "msg-7.json"))["rcpt_tos"] == ["a@example.com"], "a@ later")

    # max-size: failed before connecting, saying so.
    before = log_of(d).count("MAIL FROM")
    rc, out = env.deliver(pdf, "small", conf, expect=EXIT_FAILED)
    check("max-size" in out, "max-size named: " + out)
    check(log_of(d).count("MAIL FROM") == before, "a too-large mail was attempted")

    # The server's SIZE limit (150000 bytes; the mail is ~270000): failed with its reply.
    rc, out = env.deliver(big, "good", conf, expect=EXIT_FAILED)
    check("552" in out, "SIZE refusal: " + out)
    check(count(d) == 7, "nothing accepted over the size limit")
print("ok")
