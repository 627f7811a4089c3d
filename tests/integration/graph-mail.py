"""The graph-mail output against the local Microsoft 365 stub
(tests/lib/graph-stub.py): a token with a client secret and with a
certificate-signed client assertion (the stub verifies the JWT), sendMail with
an inline attachment for a small PDF, the draft + upload session + fragments +
/send path for 5 MB and 30 MB with exact Content-Range and no Authorization on
the upload URL, the size limit, AADSTS/401/403 mapped to messages that say
what to fix, 429 + Retry-After honoured (in place for a short delay; handed to
the queue for a long one), and crashes mid-upload and after /send that never
send twice."""
import configparser
import glob
import json
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.environ.get("SCAND_SRCDIR", "."), "tests", "lib"))
from m365_testlib import TestEnv, check, read_json, write_json, EXIT_OK, EXIT_FAILED, EXIT_QUEUED  # noqa: E402

TENANT, CLIENT = "contoso.example", "11111111-2222-3333-4444-555555555555"


def requests(d):
    if not os.path.exists(os.path.join(d, "requests.jsonl")):
        return []
    with open(os.path.join(d, "requests.jsonl")) as f:
        return [json.loads(line) for line in f]


def tokens(d):
    with open(os.path.join(d, "tokens.jsonl")) as f:
        return [json.loads(line) for line in f]


def sent(d):
    return sorted(glob.glob(os.path.join(d, "sent", "*.json")), key=lambda p: int(os.path.basename(p)[:-5]))


def check_sent(d, n, pdf, name):
    files = sent(d)
    check(len(files) == n, "%d mails sent, expected %d" % (len(files), n))
    meta = read_json(files[-1])
    check(meta["attachments"] == [{"name": name, "contentType": "application/pdf", "size": os.path.getsize(pdf)}],
          "attachment %r" % meta["attachments"])
    with open(files[-1][:-5] + "-0.bin", "rb") as f, open(pdf, "rb") as g:
        check(f.read() == g.read(), "attachment bytes differ from the PDF")
    return meta


def check_fragments(reqs, size):
    """PUTs to the upload URL: no Authorization, contiguous exact ranges,
    multiples of 320 KiB up to 4 MB except the last."""
    puts = [r for r in reqs if r["method"] == "PUT" and r["path"].startswith("/upload/") and r["status"] in (200, 201, 202)]
    check(puts, "no fragment PUTs")
    expect = 0
    for i, r in enumerate(puts):
        check(not r["auth"], "an upload PUT carried an Authorization header")
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", r["content_range"] or "")
        check(m is not None, "Content-Range %r" % r["content_range"])
        a, b, t = map(int, m.groups())
        check(a == expect and t == size and b - a + 1 == r["length"], "range %s after %d" % (r["content_range"], expect))
        check(r["length"] <= 4 * 1024 * 1024, "fragment over 4 MB")
        if i < len(puts) - 1:
            check(r["length"] % (320 * 1024) == 0, "fragment %d is not a multiple of 320 KiB" % r["length"])
        expect = b + 1
    check(expect == size, "fragments end at %d of %d" % (expect, size))
    return puts


def job_id(out):
    m = re.search(r"job (\S+) is", out)
    check(m is not None, "no job id in: " + out)
    return m.group(1)


with TestEnv() as env:
    d, port = env.start_graph("--tenant", TENANT, "--client-id", CLIENT, "--client-secret", "the-secret-value",
                              "--client-cert", env.client_cert, "--sender", "scanner@contoso.example")
    base = "https://127.0.0.1:%d" % port
    secret = env.secret("client-secret", "the-secret-value")
    wrong = env.secret("wrong-secret", "not-the-secret")
    common = f"""authority = {base}
graph-url = {base}/v1.0
ca-file = {env.ca}
tenant = {TENANT}
client-id = {CLIENT}
to = office@contoso.example, boss@contoso.example
subject = Scan {{name}} from {{device}}
body = {{pages}} pages, {{date}}
"""
    conf = env.config(f"""
[output gm]
type = graph-mail
sender = scanner@contoso.example
client-secret-file = {secret}
{common}
[output gm-cert]
type = graph-mail
sender = scanner@contoso.example
client-certificate = {env.client_cert}
client-key = {env.client_key}
{common}
[output gm-small]
type = graph-mail
sender = scanner@contoso.example
client-secret-file = {secret}
max-size = 1M
{common}
[output gm-wrong]
type = graph-mail
sender = scanner@contoso.example
client-secret-file = {wrong}
{common}
[output gm-other]
type = graph-mail
sender = ceo@contoso.example
client-secret-file = {secret}
{common}
""")
    rc, o, e = env.scand("config", "check", "--config", conf)
    check(rc == 0, "config check: " + o + e)
    small = env.pdf("small.pdf", 300_000)

    # Secret → token → sendMail with the attachment inline.
    env.deliver(small, "gm", conf, name="2026-11-28/office-0001.pdf")
    meta = check_sent(d, 1, small, "office-0001.pdf")
    check(meta["to"] == ["office@contoso.example", "boss@contoso.example"], "recipients %r" % meta["to"])
    check(meta["subject"].startswith("Scan office-0001.pdf from "), "subject %r" % meta["subject"])
    check(tokens(d)[-1]["how"] == "secret", "token by secret")
    check([r["path"] for r in requests(d) if r["method"] == "POST"][-1].endswith("/users/scanner@contoso.example/sendMail"),
          "sendMail used for a small PDF")

    # Certificate: the stub verified the JWT (signature, aud, iss=sub, exp, x5t#S256).
    env.deliver(small, "gm-cert", conf, name="cert.pdf")
    check_sent(d, 2, small, "cert.pdf")
    check(tokens(d)[-1]["how"] == "assertion", "token by client assertion")

    # 5 MB: draft → createUploadSession → fragments without Authorization → send.
    for size, n in ((5_000_000, 3), (30 * 1024 * 1024, 4)):
        big = env.pdf("big.pdf", size)
        start = len(requests(d))
        env.deliver(big, "gm", conf, name="big-%d.pdf" % size)
        check_sent(d, n, big, "big-%d.pdf" % size)
        reqs = requests(d)[start:]
        paths = [(r["method"], re.sub(r"AAMk\w+", "ID", r["path"])) for r in reqs if not r["path"].startswith("/upload/")]
        check(("POST", "/v1.0/users/scanner@contoso.example/messages") in paths, "draft created")
        check(("POST", "/v1.0/users/scanner@contoso.example/messages/ID/attachments/createUploadSession") in paths,
              "upload session created")
        check(paths[-1] == ("POST", "/v1.0/users/scanner@contoso.example/messages/ID/send"), "sent last: %r" % paths)
        check(not any(p[1].endswith("sendMail") for p in paths), "no sendMail for a large PDF")
        check_fragments(reqs, size)
        check(sum(1 for r in reqs if r["path"].endswith("/oauth2/v2.0/token")) == 1,
              "one token for all requests of a delivery")

    # Above max-size: failed, saying so, nothing sent.
    big = env.pdf("big2.pdf", 2_000_000)
    rc, out = env.deliver(big, "gm-small", conf, expect=EXIT_FAILED)
    check("max-size" in out and "2000000" in out, "limit message: " + out)
    check(len(sent(d)) == 4, "nothing sent over the limit")

    # Wrong secret: AADSTS code and a hint.
    rc, out = env.deliver(small, "gm-wrong", conf, expect=EXIT_FAILED)
    check("AADSTS7000215" in out and "client-secret-file" in out, "AADSTS message: " + out)

    # The app may not send as that mailbox: 403 ErrorAccessDenied with a hint.
    rc, out = env.deliver(small, "gm-other", conf, expect=EXIT_FAILED)
    check("403" in out and "ErrorAccessDenied" in out and "Mail.Send" in out and "mailbox" in out, "403: " + out)

    # 401 from Graph, even after a fresh token: failed with a message.
    faults = os.path.join(d, "faults.json")
    write_json(faults, [{"method": "POST", "path": "sendMail$", "status": 401, "count": 2,
                         "code": "InvalidAuthenticationToken", "message": "Access token validation failure."}])
    rc, out = env.deliver(small, "gm", conf, expect=EXIT_FAILED)
    check("401" in out and "InvalidAuthenticationToken" in out and "consent" in out, "401: " + out)
    check(len(sent(d)) == 4, "nothing sent on 401")

    # 413 from Graph: failed, saying the request is too large.
    write_json(faults, [{"method": "POST", "path": "sendMail$", "status": 413, "count": 1,
                         "code": "ErrorRequestEntityTooLarge"}])
    rc, out = env.deliver(small, "gm", conf, expect=EXIT_FAILED)
    check("413" in out and "too large" in out, "413: " + out)

    # 429 with Retry-After: 2 → waited, then sent; the stub saw ≥ 2 s between the two requests.
    write_json(faults, [{"method": "POST", "path": "sendMail$", "status": 429, "retry_after": 2, "count": 1,
                         "code": "ApplicationThrottled"}])
    start = len(requests(d))
    env.deliver(small, "gm", conf, name="throttled.pdf")
    check_sent(d, 5, small, "throttled.pdf")
    posts = [r for r in requests(d)[start:] if r["path"].endswith("sendMail")]
    check([r["status"] for r in posts] == [429, 202], "429 then 202: %r" % [r["status"] for r in posts])
    check(posts[1]["t"] - posts[0]["t"] >= 2.0, "Retry-After not honoured: %.3f s" % (posts[1]["t"] - posts[0]["t"]))

    # A long Retry-After goes to the queue: retry, with next attempt ≥ Retry-After.
    write_json(faults, [{"method": "POST", "path": "sendMail$", "status": 429, "retry_after": 3600, "count": 1}])
    rc, out = env.deliver(small, "gm", conf, name="later.pdf", expect=EXIT_QUEUED)
    check("429" in out, "429 named: " + out)
    ini = glob.glob(os.path.join(env.env["SCAND_SPOOL"], "**", job_id(out), "job.ini"), recursive=True)
    check(len(ini) == 1, "the queued job's state: %r" % ini)
    kf = configparser.RawConfigParser(strict=False)
    kf.read(ini[0])
    dest = [s for s in kf.sections() if s.startswith("dest ")][0]
    check(kf.get(dest, "retry-after") == "3600", "retry-after recorded: %r" % dict(kf[dest]))
    write_json(faults, [])
    rc, o, e = env.scand("retry", job_id(out), "--config", conf)
    check(rc == EXIT_OK, "retry after 429: " + o + e)
    check_sent(d, 6, small, "later.pdf")

    # 503 without Retry-After: retry.
    write_json(faults, [{"method": "POST", "path": "sendMail$", "status": 503, "count": 1}])
    rc, out = env.deliver(small, "gm", conf, name="busy.pdf", expect=EXIT_QUEUED)
    write_json(faults, [])
    rc, o, e = env.scand("retry", job_id(out), "--config", conf)
    check(rc == EXIT_OK and len(sent(d)) == 7, "retry after 503")

    # Crash after the second fragment was stored: resume asks the session
    # where it stands and goes on; one mail, exact bytes.
    big = env.pdf("crash.pdf", 12_000_000)
    env.env["SCAND_FAULT"] = "m365-upload-chunk@2"
    start = len(requests(d))
    before = env.job_ids()
    rc, out = env.deliver(big, "gm", conf, name="crash.pdf", expect=None)
    check(rc != EXIT_OK and len(sent(d)) == 7, "the crash stopped the delivery (rc %d)" % rc)
    del env.env["SCAND_FAULT"]
    (crashed,) = env.job_ids() - before
    rc, o, e = env.scand("retry", crashed, "--config", conf)
    check(rc == EXIT_OK, "resume after a crash mid-upload: " + o + e)
    check_sent(d, 8, big, "crash.pdf")
    reqs = requests(d)[start:]
    check(any(r["method"] == "GET" and r["path"].startswith("/upload/") for r in reqs), "session status asked")
    check_fragments(reqs, 12_000_000)
    check(sum(1 for r in reqs if r["path"].endswith("createUploadSession")) == 1, "one upload session")

    # The server stores a fragment but the connection drops before its reply.
    write_json(faults, [{"method": "PUT", "path": "^/upload/", "action": "drop-after", "count": 1}])
    start = len(requests(d))
    rc, out = env.deliver(big, "gm", conf, name="drop.pdf", expect=EXIT_QUEUED)
    write_json(faults, [])
    rc, o, e = env.scand("retry", job_id(out), "--config", conf)
    check(rc == EXIT_OK, "retry after a dropped fragment: " + o + e)
    check_sent(d, 9, big, "drop.pdf")

    # Crash right after /send was accepted: the retry sees the draft is gone
    # and does not send again.
    env.env["SCAND_FAULT"] = "graph-mail-sent"
    before = env.job_ids()
    rc, out = env.deliver(big, "gm", conf, name="sent.pdf", expect=None)
    del env.env["SCAND_FAULT"]
    check(len(sent(d)) == 10, "the mail went out before the crash")
    (crashed,) = env.job_ids() - before
    rc, o, e = env.scand("retry", crashed, "--config", conf)
    check(rc == EXIT_OK, "resume after /send: " + o + e)
    check(len(sent(d)) == 10, "the mail was sent twice")

    # Crash right after sendMail was accepted (one request, no draft to ask
    # about): the next attempt does not send blindly, it says so.
    env.env["SCAND_FAULT"] = "graph-mail-sent"
    before = env.job_ids()
    rc, out = env.deliver(small, "gm", conf, name="once.pdf", expect=None)
    del env.env["SCAND_FAULT"]
    check(len(sent(d)) == 11, "sendMail went out before the crash")
    (crashed,) = env.job_ids() - before
    rc, o, e = env.scand("retry", crashed, "--config", conf)
    check(rc == EXIT_FAILED and "may have been sent" in e and "Sent Items" in e, "in-flight sendMail: %d %s" % (rc, e))
    check(len(sent(d)) == 11, "sendMail was repeated after a crash")
print("ok")
