"""The m365-drive output against the local Microsoft 365 stub
(tests/lib/graph-stub.py): simple PUT up to 4 MB and an upload session above,
with fragments that are multiples of 320 KiB and exact Content-Range; a drive
by id, a SharePoint site's drive and a user's OneDrive; conflict = rename
keeps both files, conflict = fail refuses; 429 + Retry-After waited out; 403
explained; a crash mid-upload resumes the same session and a crash after the
upload never leaves a second copy."""
import json
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.environ.get("SCAND_SRCDIR", "."), "tests", "lib"))
from m365_testlib import TestEnv, check, write_json, EXIT_OK, EXIT_FAILED  # noqa: E402

TENANT, CLIENT = "contoso.example", "11111111-2222-3333-4444-555555555555"


def requests(d):
    if not os.path.exists(os.path.join(d, "requests.jsonl")):
        return []
    with open(os.path.join(d, "requests.jsonl")) as f:
        return [json.loads(line) for line in f]


def same(a, b):
    with open(a, "rb") as f, open(b, "rb") as g:
        return f.read() == g.read()


def files_under(root):
    out = []
    for dp, _, fs in os.walk(root):
        out += [os.path.relpath(os.path.join(dp, f), root) for f in fs]
    return sorted(out)


with TestEnv() as env:
    d, port = env.start_graph("--tenant", TENANT, "--client-id", CLIENT, "--client-secret", "drive-secret",
                              "--client-cert", env.client_cert)
    base = "https://127.0.0.1:%d" % port
    secret = env.secret("client-secret", "drive-secret")
    common = f"""authority = {base}
graph-url = {base}/v1.0
ca-file = {env.ca}
tenant = {TENANT}
client-id = {CLIENT}
"""
    conf = env.config(f"""
[output drive]
type = m365-drive
drive-id = b!abc
folder = Scans/Office
client-secret-file = {secret}
{common}
[output drive-fail]
type = m365-drive
drive-id = b!abc
folder = Scans/Office
conflict = fail
client-secret-file = {secret}
{common}
[output site]
type = m365-drive
site-id = contoso.sharepoint.com,1111,2222
folder = Shared Documents/Scans
client-certificate = {env.client_cert}
client-key = {env.client_key}
{common}
[output onedrive]
type = m365-drive
user = anna@contoso.example
client-secret-file = {secret}
{common}
""")
    rc, o, e = env.scand("config", "check", "--config", conf)
    check(rc == 0, "config check: " + o + e)
    # A plain-http Graph URL would carry the token in clear: refused.
    plain = env.config(f"""
[output plain]
type = m365-drive
drive-id = b!abc
client-secret-file = {secret}
authority = {base}
graph-url = http://127.0.0.1:{port}/v1.0
ca-file = {env.ca}
tenant = {TENANT}
client-id = {CLIENT}
""", name="plain.conf")
    rc, o, e = env.scand("config", "check", "--config", plain)
    check(rc == 1 and "graph-url" in o + e and "https" in o + e, "config check of http: " + o + e)
    env.deliver(env.pdf("p.pdf", 1000), "plain", plain, expect=EXIT_FAILED)
    root = os.path.join(d, "drive", "drives_b_abc", "Scans", "Office")
    small = env.pdf("small.pdf", 1_000_000)

    # Simple PUT.
    start = len(requests(d))
    env.deliver(small, "drive", conf, name="2026-11-28/scan.pdf")
    check(same(small, os.path.join(root, "2026-11-28", "scan.pdf")), "bytes in the drive differ")
    puts = [r for r in requests(d)[start:] if r["method"] == "PUT"]
    check(len(puts) == 1 and puts[0]["path"].endswith("/drives/b!abc/root:/Scans/Office/2026-11-28/scan.pdf:/content")
          and puts[0]["auth"], "one authorised simple PUT: %r" % puts)

    # conflict = rename (default): both files stay.
    other = env.pdf("other.pdf", 500_000)
    env.deliver(other, "drive", conf, name="2026-11-28/scan.pdf")
    check(same(small, os.path.join(root, "2026-11-28", "scan.pdf")), "the first file was overwritten")
    check(same(other, os.path.join(root, "2026-11-28", "scan 1.pdf")), "renamed copy 'scan 1.pdf'")

    # conflict = fail: failed, naming the file.
    rc, out = env.deliver(other, "drive-fail", conf, name="2026-11-28/scan.pdf", expect=EXIT_FAILED)
    check("exists already" in out and "scan.pdf" in out, "conflict message: " + out)

    # A site's drive (certificate credential) and a user's OneDrive root.
    env.deliver(small, "site", conf, name="site.pdf")
    check(same(small, os.path.join(d, "drive", "sites_contoso.sharepoint.com_1111_2222_drive", "Shared Documents",
                                   "Scans", "site.pdf")), "site drive upload")
    env.deliver(small, "onedrive", conf, name="mine.pdf")
    check(same(small, os.path.join(d, "drive", "users_anna@contoso.example_drive", "mine.pdf")), "OneDrive upload")

    # Large: an upload session; fragments exact.
    large = env.pdf("large.pdf", 10_000_000)
    start = len(requests(d))
    env.deliver(large, "drive", conf, name="large.pdf")
    check(same(large, os.path.join(root, "large.pdf")), "large upload bytes")
    reqs = requests(d)[start:]
    check(any(r["path"].endswith("/root:/Scans/Office/large.pdf:/createUploadSession") for r in reqs), "session used")
    with open(os.path.join(d, "chunks.jsonl")) as f:
        chunks = json.loads(f.readlines()[-1])["chunks"]
    expect = 0
    for i, (a, b) in enumerate(chunks):
        check(a == expect, "fragment starts at %d, expected %d" % (a, expect))
        n = b - a + 1
        check(n <= 4 * 1024 * 1024 and (i == len(chunks) - 1 or n % (320 * 1024) == 0), "fragment size %d" % n)
        expect = b + 1
    check(expect == 10_000_000, "fragments cover the file")
    check(all(not r["auth"] for r in reqs if r["path"].startswith("/upload/")), "Authorization sent to the upload URL")

    # 429 with a short Retry-After on the simple PUT: waited, then done.
    faults = os.path.join(d, "faults.json")
    write_json(faults, [{"method": "PUT", "path": ":/content$", "status": 429, "retry_after": 1, "count": 1}])
    start = len(requests(d))
    env.deliver(small, "drive", conf, name="throttled.pdf")
    puts = [r for r in requests(d)[start:] if r["method"] == "PUT"]
    check([r["status"] for r in puts] == [429, 201], "429 then 201: %r" % [r["status"] for r in puts])
    check(puts[1]["t"] - puts[0]["t"] >= 1.0, "Retry-After not honoured")

    # 403: failed with a hint about permissions.
    write_json(faults, [{"method": "PUT", "path": ":/content$", "status": 403, "count": 1, "code": "accessDenied",
                         "message": "Access denied"}])
    rc, out = env.deliver(small, "drive", conf, name="denied.pdf", expect=EXIT_FAILED)
    check("403" in out and "permission" in out, "403 message: " + out)
    write_json(faults, [])

    # Crash after the second fragment: the retry resumes the same session.
    env.env["SCAND_FAULT"] = "m365-upload-chunk@2"
    before = env.job_ids()
    start = len(requests(d))
    rc, out = env.deliver(large, "drive", conf, name="crash.pdf", expect=None)
    del env.env["SCAND_FAULT"]
    check(rc != EXIT_OK and not os.path.exists(os.path.join(root, "crash.pdf")), "the crash stopped the upload")
    (job,) = env.job_ids() - before
    rc, o, e = env.scand("retry", job, "--config", conf)
    check(rc == EXIT_OK, "retry after a crash mid-upload: " + o + e)
    check(same(large, os.path.join(root, "crash.pdf")), "resumed upload bytes")
    check(not os.path.exists(os.path.join(root, "crash 1.pdf")), "a second copy was made")
    reqs = requests(d)[start:]
    check(sum(1 for r in reqs if r["path"].endswith("createUploadSession")) == 1, "one upload session")
    check(any(r["method"] == "GET" and r["path"].startswith("/upload/") for r in reqs), "nextExpectedRanges asked")

    # Crash after the server stored the file, before scand recorded it: no copy 2.
    for pdf, name in ((small, "after-small.pdf"), (large, "after-large.pdf")):
        env.env["SCAND_FAULT"] = "m365-drive-uploaded"
        before = env.job_ids()
        rc, out = env.deliver(pdf, "drive", conf, name=name, expect=None)
        del env.env["SCAND_FAULT"]
        check(rc != EXIT_OK and same(pdf, os.path.join(root, name)), "uploaded before the crash")
        (job,) = env.job_ids() - before
        rc, o, e = env.scand("retry", job, "--config", conf)
        check(rc == EXIT_OK, "retry after the upload: " + o + e)
        stem = name[:-4]
        check([f for f in files_under(root) if f.startswith(stem)] == [name], "second copy: %r" % files_under(root))
print("ok")
