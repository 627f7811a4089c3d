"""SMTP AUTH XOAUTH2 (Exchange Online's OAuth for SMTP): scand gets a token for
https://outlook.office365.com/.default from the identity platform stub
(tests/lib/graph-stub.py) with a client secret or a certificate assertion, and
the SMTP server (tests/lib/smtpd.py) accepts only the exact
"user=…\\x01auth=Bearer …\\x01\\x01" string. A refused token is failed with
the server's reply; a refused secret names the AADSTS code."""
import email
import email.policy
import glob
import json
import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.environ.get("SCAND_SRCDIR", "."), "tests", "lib"))
from m365_testlib import TestEnv, check, read_json, EXIT_FAILED  # noqa: E402

TENANT, CLIENT, TOKEN = "contoso.example", "11111111-2222-3333-4444-555555555555", "smtp-token-0123456789"

with TestEnv() as env:
    g, gport = env.start_graph("--tenant", TENANT, "--client-id", CLIENT, "--client-secret", "app-secret",
                               "--client-cert", env.client_cert, "--token", TOKEN)
    d, port = env.start_smtpd("--xoauth2-user", "scanner@contoso.example", "--xoauth2-token", TOKEN)
    secret = env.secret("secret", "app-secret")
    wrong = env.secret("wrong", "nope")
    common = f"""type = smtp
url = smtp://127.0.0.1:{port}
ca-file = {env.ca}
auth = xoauth2
authority = https://127.0.0.1:{gport}
tenant = {TENANT}
client-id = {CLIENT}
from = scanner@contoso.example
to = office@contoso.example
"""
    conf = env.config(f"""
[output oauth]
{common}username = scanner@contoso.example
client-secret-file = {secret}

[output oauth-cert]
{common}username = scanner@contoso.example
client-certificate = {env.client_cert}
client-key = {env.client_key}

[output oauth-wronguser]
{common}username = someone@contoso.example
client-secret-file = {secret}

[output oauth-wrongsecret]
{common}username = scanner@contoso.example
client-secret-file = {wrong}
""")
    rc, o, e = env.scand("config", "check", "--config", conf)
    check(rc == 0, "config check: " + o + e)
    pdf = env.pdf("doc.pdf", 400_000)

    def log():
        with open(os.path.join(d, "log")) as f:
            return f.read()

    def tokens():
        with open(os.path.join(g, "tokens.jsonl")) as f:
            return [json.loads(line) for line in f]

    env.deliver(pdf, "oauth", conf, name="oauth.pdf")
    check("AUTH XOAUTH2 exact" in log(), "XOAUTH2 string not exact:\n" + log())
    check(tokens()[-1] == {"how": "secret", "scope": "https://outlook.office365.com/.default"}, "SMTP scope token")
    msgs = sorted(glob.glob(os.path.join(d, "msg-*.eml")))
    check(len(msgs) == 1, "one message")
    check(read_json(msgs[0][:-4] + ".json")["auth"] == ["XOAUTH2", "scanner@contoso.example"], "authenticated by XOAUTH2")
    with open(msgs[0], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    att = next(msg.iter_attachments())
    with open(pdf, "rb") as f:
        check(att.get_payload(decode=True) == f.read(), "attachment bytes")

    env.deliver(pdf, "oauth-cert", conf, name="cert.pdf")
    check(tokens()[-1]["how"] == "assertion", "certificate assertion for the SMTP token")
    check(log().count("AUTH XOAUTH2 exact") == 2, "second XOAUTH2 login")

    # The server refuses the token for another user: failed with its reply.
    rc, out = env.deliver(pdf, "oauth-wronguser", conf, expect=EXIT_FAILED)
    check("535" in out and "5.7.3" in out, "refused XOAUTH2: " + out)

    # A wrong secret never reaches the SMTP server.
    before = log()
    rc, out = env.deliver(pdf, "oauth-wrongsecret", conf, expect=EXIT_FAILED)
    check("AADSTS7000215" in out, "AADSTS code named: " + out)
    check(log() == before, "the SMTP server was contacted without a token")
print("ok")
