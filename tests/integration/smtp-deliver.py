"""The smtp output against a real SMTP server (tests/lib/smtpd.py, aiosmtpd):
STARTTLS submission with AUTH PLAIN and LOGIN, implicit TLS (smtps://), plain
SMTP only with security = none, a client certificate for a connector, and TLS
verification that cannot be skipped. The attachment that arrives is the PDF,
byte for byte, named after the delivery, with the subject from the template."""
import email
import email.policy
import glob
import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.environ.get("SCAND_SRCDIR", "."), "tests", "lib"))
from m365_testlib import TestEnv, check, read_json, EXIT_FAILED  # noqa: E402


def messages(d):
    return sorted(glob.glob(os.path.join(d, "msg-*.eml")), key=lambda p: int(p.split("-")[-1][:-4]))


def parse(path):
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


def check_message(path, pdf, filename, subject_part):
    msg = parse(path)
    check(subject_part in msg["Subject"], "subject %r lacks %r" % (msg["Subject"], subject_part))
    check(msg["Message-ID"] is not None and msg["Date"] is not None, "Message-ID and Date headers")
    check(msg.get_content_type() == "multipart/mixed", "top level is %s" % msg.get_content_type())
    atts = [p for p in msg.iter_attachments()]
    check(len(atts) == 1, "one attachment, got %d" % len(atts))
    att = atts[0]
    check(att.get_content_type() == "application/pdf", "attachment type %s" % att.get_content_type())
    check(att["Content-Transfer-Encoding"].lower() == "base64", "attachment is base64")
    check(att.get_filename() == filename, "attachment name %r, expected %r" % (att.get_filename(), filename))
    with open(pdf, "rb") as f:
        check(att.get_payload(decode=True) == f.read(), "attachment bytes differ from the PDF")
    body = msg.get_body(preferencelist=("plain",)).get_content()
    return msg, body


with TestEnv() as env:
    password = env.secret("smtp-password", "s3cret pass")
    pdf = env.pdf("doc.pdf", 1_500_000)

    # 1. STARTTLS submission, AUTH PLAIN, two recipients.
    d, port = env.start_smtpd("--user", "scanner@example.com", "--password", "s3cret pass")
    conf = env.config(f"""
[output mail]
type = smtp
url = smtp://127.0.0.1:{port}
security = starttls
ca-file = {env.ca}
username = scanner@example.com
password-file = {password}
auth = plain
from = scanner@example.com
to = office@example.com, boss@example.com
subject = Scan from {{device}}: {{name}} ({{pages}} pages)
body = Scanned {{date}} on {{device}}: {{name}}
max-size = 10M

[output mail-login]
type = smtp
url = smtp://127.0.0.1:{port}
ca-file = {env.ca}
username = scanner@example.com
password-file = {password}
auth = login
from = scanner@example.com
to = office@example.com

[output mail-untrusted]
type = smtp
url = smtp://127.0.0.1:{port}
username = scanner@example.com
password-file = {password}
from = scanner@example.com
to = office@example.com
""")
    rc, out = env.deliver(pdf, "mail", conf, name="2026-11-28/office-0042.pdf")
    msgs = messages(d)
    check(len(msgs) == 1, "one message, got %d" % len(msgs))
    msg, body = check_message(msgs[0], pdf, "office-0042.pdf", "office-0042.pdf")
    meta = read_json(msgs[0][:-4] + ".json")
    check(meta["tls"] is True, "the mail went over TLS")
    check(meta["auth"] == ["password", "scanner@example.com"], "authenticated as the user: %r" % meta["auth"])
    check(sorted(meta["rcpt_tos"]) == ["boss@example.com", "office@example.com"], "recipients %r" % meta["rcpt_tos"])
    check(meta["mail_from"] == "scanner@example.com", "envelope sender")
    check("office-0042.pdf" in body and "Scanned " in body, "body from the template: %r" % body)
    with open(os.path.join(d, "log")) as f:
        log = f.read()
    check("STARTTLS" in log and "AUTH PLAIN ok" in log, "STARTTLS then AUTH PLAIN:\n" + log)

    # 2. AUTH LOGIN; a non-ASCII subject is RFC 2047 encoded and decodes back.
    env.deliver(pdf, "mail-login", conf, name="Rechnung März.pdf")
    msgs = messages(d)
    check(len(msgs) == 2, "second message")
    check_message(msgs[1], pdf, "Rechnung März.pdf", "Rechnung März.pdf")
    with open(os.path.join(d, "log")) as f:
        check("AUTH LOGIN ok" in f.read(), "AUTH LOGIN used")

    # 3. Without ca-file the private CA is not trusted: failed, nothing sent.
    rc, out = env.deliver(pdf, "mail-untrusted", conf, expect=EXIT_FAILED)
    check("not trusted" in out and "ca-file" in out, "untrusted certificate message: " + out)
    check(len(messages(d)) == 2, "nothing was sent to an untrusted server")

    # 4. Implicit TLS (smtps://, security = tls).
    d2, port2 = env.start_smtpd("--tls", "implicit", "--user", "scanner@example.com", "--password", "s3cret pass",
                                name="smtps")
    conf2 = env.config(f"""
[output smtps]
type = smtp
url = smtps://127.0.0.1:{port2}
security = tls
ca-file = {env.ca}
username = scanner@example.com
password-file = {password}
from = scanner@example.com
to = office@example.com
""", name="smtps.conf")
    env.deliver(pdf, "smtps", conf2, name="tls.pdf")
    msgs = messages(d2)
    check(len(msgs) == 1, "implicit TLS message")
    check_message(msgs[0], pdf, "tls.pdf", "tls.pdf")
    check(read_json(msgs[0][:-4] + ".json")["tls"] is True, "implicit TLS recorded")

    # 5. Plain SMTP only when security = none is explicit (relay on port 25 style, no AUTH).
    d3, port3 = env.start_smtpd("--tls", "none", name="plain")
    conf3 = env.config(f"""
[output relay]
type = smtp
url = smtp://127.0.0.1:{port3}
security = none
from = scanner@example.com
to = office@example.com

[output relay-default]
type = smtp
url = smtp://127.0.0.1:{port3}
from = scanner@example.com
to = office@example.com

[output relay-password]
type = smtp
url = smtp://127.0.0.1:{port3}
security = none
username = scanner@example.com
password-file = {password}
from = scanner@example.com
to = office@example.com
""", name="plain.conf")
    env.deliver(pdf, "relay", conf3, name="plain.pdf")
    msgs = messages(d3)
    check(len(msgs) == 1, "plain relay message")
    check(read_json(msgs[0][:-4] + ".json")["tls"] is False, "plain SMTP recorded")
    # Without "security = none" the default for smtp:// is STARTTLS, which this server lacks.
    rc, out = env.deliver(pdf, "relay-default", conf3, expect=EXIT_FAILED)
    check("STARTTLS" in out, "missing STARTTLS is named: " + out)
    # A password never goes over plain SMTP.
    rc, out = env.deliver(pdf, "relay-password", conf3, expect=EXIT_FAILED)
    check("in clear" in out, "password in clear refused: " + out)
    check(len(messages(d3)) == 1, "nothing more arrived on the plain server")

    # 6. A server that requires a client certificate (certificate-based connector).
    d4, port4 = env.start_smtpd("--client-ca", env.ca, name="connector")
    conf4 = env.config(f"""
[output connector]
type = smtp
url = smtp://127.0.0.1:{port4}
ca-file = {env.ca}
client-certificate = {env.client_cert}
client-key = {env.client_key}
from = scanner@example.com
to = office@example.com

[output no-cert]
type = smtp
url = smtp://127.0.0.1:{port4}
ca-file = {env.ca}
from = scanner@example.com
to = office@example.com
""", name="connector.conf")
    env.deliver(pdf, "connector", conf4, name="cert.pdf")
    msgs = messages(d4)
    check(len(msgs) == 1, "connector message")
    meta = read_json(msgs[0][:-4] + ".json")
    check(meta["client_cert"] == "scand-client", "client certificate presented: %r" % meta["client_cert"])
    check_message(msgs[0], pdf, "cert.pdf", "cert.pdf")
    rc, out = env.deliver(pdf, "no-cert", conf4, expect=EXIT_FAILED)
    check("client certificate" in out, "missing client certificate is named: " + out)
    check(len(messages(d4)) == 1, "nothing sent without the client certificate")

    # 7. `scand config check` accepts the configurations, and names the
    # password that would go over plain SMTP.
    for c in (conf, conf2, conf4):
        rc, o, e = env.scand("config", "check", "--config", c)
        check(rc == 0, "config check %s: %s%s" % (c, o, e))
    rc, o, e = env.scand("config", "check", "--config", conf3)
    check(rc == 1 and "[output relay-password] security" in o + e and "in clear" in o + e,
          "config check of a password over plain SMTP: %s%s" % (o, e))
print("ok")
