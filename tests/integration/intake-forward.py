"""Mail intake forwarding as mail: a copier's mail, taken by `scand daemon`'s
listener, goes out again through a mail output (`envelope-to = true`) — over
Microsoft Graph (the strict local stub) and over SMTP with STARTTLS and AUTH
(a real aiosmtpd server). The document goes out from the configured mailbox
to the envelope's recipients (a BCC-only mail too, a To header that names
somebody else is ignored), with the original sender as Reply-To and its
display name cleaned of "@" (Exchange Online refuses "@" there:
ErrorSendAsDenied). Graph's 429 with a Retry-After too long to wait in place
goes through the queue: the mail is sent once, after the wait. A header
injection in the From display name and a From address that is not plain
never reach the forwarded headers."""
import email
import email.policy
import glob
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.environ.get("SCAND_SRCDIR", "."), "tests", "lib"))
from intake_testlib import IntakeEnv, check, free_port, make_mail, make_pdf, wait_for  # noqa: E402
from m365_testlib import read_json, write_json  # noqa: E402
import smtplib  # noqa: E402

TENANT, CLIENT = "contoso.example", "11111111-2222-3333-4444-555555555555"


def sent(d):
    return sorted(glob.glob(os.path.join(d, "sent", "*.json")), key=lambda p: int(os.path.basename(p)[:-5]))


def requests(d):
    if not os.path.exists(os.path.join(d, "requests.jsonl")):
        return []
    with open(os.path.join(d, "requests.jsonl")) as f:
        return [json.loads(line) for line in f]


def relayed(d):
    return sorted(glob.glob(os.path.join(d, "msg-*.eml")))


def send(port, mail_from, rcpts, msg):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.sendmail(mail_from, rcpts, msg)


with IntakeEnv() as env:
    gd, gport = env.start_graph("--tenant", TENANT, "--client-id", CLIENT, "--client-secret", "the-secret-value",
                                "--sender", "scanner@contoso.example")
    sd, sport = env.start_smtpd("--user", "scanner@contoso.example", "--password", "relay pass")
    secret = env.secret("client-secret", "the-secret-value")
    relay_password = env.secret("relay-password", "relay pass")
    p_graph, p_smtp = free_port(), free_port()
    while p_smtp == p_graph:
        p_smtp = free_port()
    base = "https://127.0.0.1:%d" % gport
    conf = env.config(f"""
[intake viagraph]
type = smtp
listen = 127.0.0.1:{p_graph}
allow-from = 127.0.0.1
accept-to = *@contoso.example

[intake viasmtp]
type = smtp
listen = 127.0.0.1:{p_smtp}
allow-from = 127.0.0.1
accept-to = *@contoso.example

[output graph]
type = graph-mail
authority = {base}
graph-url = {base}/v1.0
ca-file = {env.ca}
tenant = {TENANT}
client-id = {CLIENT}
client-secret-file = {secret}
sender = scanner@contoso.example
envelope-to = true
subject = {{subject}}
body = Forwarded by scand: {{attachment}} from {{sender}}.

[output relay]
type = smtp
url = smtp://127.0.0.1:{sport}
security = starttls
ca-file = {env.ca}
username = scanner@contoso.example
password-file = {relay_password}
auth = plain
from = scanner@contoso.example
envelope-to = true
subject = {{subject}}

[rule graph]
intake = viagraph
deliver = graph

[rule smtp]
intake = viasmtp
deliver = relay
""")
    rc, o, e = env.scand("config", "check", "--config", conf)
    check(rc == 0, "config check: " + o + e)
    env.start_daemon(conf)

    # 1. Graph: a BCC-only mail (no To header) to two recipients, the From
    # display name an address; sendMail first answered 429 with a Retry-After
    # longer than scand waits in place, so the queue sends it later, once.
    write_json(os.path.join(gd, "faults.json"),
               [{"method": "POST", "path": "sendMail$", "status": 429, "retry_after": 12, "count": 1}])
    pdf1 = make_pdf(3000)
    msg = make_mail(sender='"scanner@mfp.local" <scan@copier.example>', to=None, subject="Invoice 4711",
                    attachments=[("scan0001.pdf", pdf1, "application/pdf")])
    send(p_graph, "bounces@copier.example", ["anna@contoso.example", "bob@contoso.example"], msg)
    wait_for(lambda: sent(gd), 90, "the Graph mail\n" + env.log_text())
    posts = [r for r in requests(gd) if r["method"] == "POST" and r["path"].endswith("sendMail")]
    check([r["status"] for r in posts] == [429, 202], "429 then 202: %r" % [r["status"] for r in posts])
    check(posts[1]["t"] - posts[0]["t"] >= 12.0, "sent again %.3f s after a Retry-After of 12 s" %
          (posts[1]["t"] - posts[0]["t"]))
    meta = read_json(sent(gd)[0])
    check(meta["sender"] == "scanner@contoso.example", "sent from the configured mailbox: %r" % meta["sender"])
    check(meta["to"] == ["anna@contoso.example", "bob@contoso.example"], "envelope recipients: %r" % meta["to"])
    check(meta["replyTo"] == [{"name": "scanner at mfp.local", "address": "scan@copier.example"}],
          "Reply-To: %r" % meta["replyTo"])
    check(meta["subject"] == "Invoice 4711", "subject %r" % meta["subject"])
    check(meta["body"] == "Forwarded by scand: scan0001 from bounces@copier.example.", "body %r" % meta["body"])
    check(meta["attachments"][0]["name"] == "scan0001.pdf", "attachment %r" % meta["attachments"])
    with open(sent(gd)[0][:-5] + "-0.bin", "rb") as f:
        check(f.read() == pdf1, "the attachment, byte for byte")
    time.sleep(2)  # a second queue pass must not send it again
    check(len(sent(gd)) == 1, "sent %d times" % len(sent(gd)))

    # 2. SMTP: the To header names somebody else; the envelope decides. The
    # display name tries a header injection; the Reply-To stays one header.
    pdf2 = make_pdf(2500)
    msg = make_mail(sender="Placeholder <kopierer@copier.example>", to="somebody@elsewhere.example",
                    subject="Lieferschein", attachments=[("ls.pdf", pdf2, "application/pdf")])
    # An encoded word that decodes to a line break (Python refuses to write one).
    msg = msg.replace(b"From: Placeholder <",
                      b"From: =?utf-8?q?Kopierer_B=C3=BCro=0D=0ABcc=3A_x=40evil=2Eexample?= <", 1)
    check(b"=0D=0ABcc" in msg, "the test mail carries the injection")
    send(p_smtp, "kopierer@copier.example", ["carol@contoso.example"], msg)
    wait_for(lambda: relayed(sd), 60, "the relayed mail\n" + env.log_text())
    with open(relayed(sd)[0][:-4] + ".json") as f:
        envelope = json.load(f)
    check(envelope["rcpt_tos"] == ["carol@contoso.example"], "relayed to %r" % envelope["rcpt_tos"])
    check(envelope["mail_from"] == "scanner@contoso.example", "relayed from %r" % envelope["mail_from"])
    check(envelope["tls"] and envelope["auth"], "relayed over TLS with a login: %r" % envelope)
    with open(relayed(sd)[0], "rb") as f:
        out = email.message_from_binary_file(f, policy=email.policy.default)
    check(str(out["From"]) == "scanner@contoso.example", "From %r" % str(out["From"]))
    check(str(out["Subject"]) == "Lieferschein", "Subject %r" % str(out["Subject"]))
    check(len(out.get_all("Reply-To")) == 1, "one Reply-To header")
    check(out["Reply-To"].addresses[0].addr_spec == "kopierer@copier.example", "Reply-To %r" % str(out["Reply-To"]))
    check(out["Reply-To"].addresses[0].display_name == "Kopierer Büro Bcc: x at evil.example",
          "Reply-To name %r" % out["Reply-To"].addresses[0].display_name)
    check(out.get_all("Bcc") is None, "an injected Bcc header")
    atts = [p for p in out.iter_attachments()]
    check(len(atts) == 1 and atts[0].get_filename() == "ls.pdf" and atts[0].get_content() == pdf2,
          "the attachment, byte for byte")

    # 3. A From header whose address is not plain: the envelope sender instead.
    pdf3 = make_pdf(2200)
    msg = make_mail(sender='Copier <"odd address"@copier.example>', subject="odd",
                    attachments=[("odd.pdf", pdf3, "application/pdf")])
    send(p_smtp, "copier@copier.example", ["dave@contoso.example"], msg)
    wait_for(lambda: len(relayed(sd)) >= 2, 60, "the second relayed mail\n" + env.log_text())
    with open(relayed(sd)[1], "rb") as f:
        out = email.message_from_binary_file(f, policy=email.policy.default)
    check(out["Reply-To"].addresses[0].addr_spec == "copier@copier.example", "Reply-To %r" % str(out["Reply-To"]))
    check(out["Reply-To"].addresses[0].display_name == "", "no name with the envelope sender")
    env.stop_daemon()
    print("forwarding: all checks passed")
