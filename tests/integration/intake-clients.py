"""Mail intake against real SMTP clients from Debian: swaks, msmtp, curl's
smtp upload and Python's smtplib send to `scand daemon`'s listener, plain and
with STARTTLS + AUTH (PLAIN, LOGIN), pipelined, 8BITMIME; several
attachments, a BCC-only envelope, a From display name with "@", one message
to two recipients routed to two places, per-message split. What arrives is
the attachment, byte for byte, where the recipient's rule says."""
import os
import smtplib
import ssl
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.environ.get("SCAND_SRCDIR", "."), "tests", "lib"))
from intake_testlib import IntakeEnv, check, free_port, make_jpeg, make_mail, make_pdf, wait_for  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        return f.read()


def run(cmd, stdin=None, ok=True):
    r = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    if ok and r.returncode != 0:
        raise SystemExit("FAIL: %s exited %d:\n%s" % (cmd[0], r.returncode, r.stdout.decode(errors="replace")))
    return r.stdout.decode(errors="replace")


def pdf_pages(path):
    out = run(["qpdf", "--show-npages", path])
    return int(out.strip())


with IntakeEnv() as env:
    p_open, p_tls, p_bundle = free_port(), free_port(), free_port()
    password = "copier pass 42"
    secret = env.secret("copier-password", password)
    conf = env.config(f"""
[intake open]
type = smtp
listen = 127.0.0.1:{p_open}
hostname = scand.test
allow-from = 127.0.0.1
accept-to = *@scan.example
max-size = 20M

[intake secure]
type = smtp
listen = 127.0.0.1:{p_tls}
hostname = scand.test
tls-certificate = {env.server_cert}
tls-key = {env.server_key}
require-tls = true
accounts = copier
allow-from = 10.9.9.0/24
accept-to = *@scan.example

[intake bundle]
type = smtp
listen = 127.0.0.1:{p_bundle}
allow-from = 127.0.0.1
accept-to = *@scan.example
split = per-message

[account copier]
password-file = {secret}

[output finance]
type = folder
path = {env.path("out", "finance")}
create = true

[output anna]
type = folder
path = {env.path("out", "anna")}
create = true

[output other]
type = folder
path = {env.path("out", "other")}
create = true

[rule finance]
mail-to = finance@scan.example
deliver = finance

[rule anna]
mail-to = Anna@Scan.Example
deliver = anna

[rule other]
source = mail
deliver = other
""")
    out = run([os.environ.get("SCAND", "scand"), "config", "check", "--config", conf])
    env.start_daemon(conf)
    ctx = ssl.create_default_context(cafile=env.ca)

    # 1. swaks, plain, pipelined, one PDF to finance.
    pdf1 = make_pdf(3000)
    with open(env.path("scan0001.pdf"), "wb") as f:
        f.write(pdf1)
    t = run(["swaks", "--server", f"127.0.0.1:{p_open}", "--from", "scanner@copier.example", "--to",
             "finance@scan.example", "--pipeline", "--attach-type", "application/pdf", "--attach-name", "swaks1.pdf",
             "--attach", "@" + env.path("scan0001.pdf")])
    check("PIPELINING" in t and "250 2.0.0 Ok: queued as" in t, "swaks: pipelined and queued\n" + t)
    got = env.wait_files("out/finance", 1)
    check(os.path.basename(got[0]) == "swaks1.pdf", "name from the attachment: %s" % got)
    check(read(got[0]) == pdf1, "swaks: the PDF arrived byte for byte")

    # 2. msmtp: STARTTLS + AUTH PLAIN to anna (the rule's address differs in case).
    pdf2 = make_pdf(4000)
    msg = make_mail(to="anna@scan.example", subject="msmtp", attachments=[("msmtp2.pdf", pdf2, "application/pdf")])
    run(["msmtp", "--host=127.0.0.1", f"--port={p_tls}", "--tls=on", "--tls-starttls=on",
         f"--tls-trust-file={env.ca}", "--auth=plain", "--user=copier", f"--passwordeval=cat {secret}",
         "--from=scanner@copier.example", "anna@scan.example"], stdin=msg)
    got = env.wait_files("out/anna", 1)
    check(read(got[0]) == pdf2 and got[0].endswith("msmtp2.pdf"), "msmtp: delivered to anna: %s" % got)
    check("(login copier) TLS" in env.log_text(), "the log line names the login and TLS")

    # 3. curl smtp upload: STARTTLS + AUTH LOGIN to finance.
    pdf3 = make_pdf(5000)
    msg = make_mail(to="finance@scan.example", subject="curl", attachments=[("curl3.pdf", pdf3, "application/pdf")])
    with open(env.path("curl.eml"), "wb") as f:
        f.write(msg)
    run(["curl", "-sS", "--url", f"smtp://127.0.0.1:{p_tls}", "--ssl-reqd", "--cacert", env.ca, "--user",
         "copier:" + password, "--login-options", "AUTH=LOGIN", "--mail-from", "scanner@copier.example",
         "--mail-rcpt", "finance@scan.example", "--upload-file", env.path("curl.eml")])
    got = env.wait_files("out/finance", 2)
    check(any(p.endswith("curl3.pdf") and read(p) == pdf3 for p in got), "curl: delivered: %s" % got)

    # 4. smtplib: STARTTLS, LOGIN, BODY=8BITMIME with an 8-bit body, two
    # attachments (a JPEG and a PDF): two jobs, two files.
    pdf4, jpg4 = make_pdf(2500), make_jpeg()
    msg = make_mail(subject="Übersicht", body="Grüße vom Kopierer\n",
                    attachments=[("photo4.jpg", jpg4, "image/jpeg"), ("doc4.pdf", pdf4, "application/pdf")])
    check(b"8bit" in msg, "the body goes 8-bit")
    with smtplib.SMTP("127.0.0.1", p_tls, timeout=30) as s:
        s.ehlo("copier.example")
        check(s.has_extn("starttls") and not s.has_extn("auth"), "no AUTH offered before TLS")
        s.starttls(context=ctx)
        s.ehlo("copier.example")
        check(s.has_extn("auth") and s.has_extn("8bitmime") and s.has_extn("size"), "after TLS: AUTH, 8BITMIME")
        s.login("copier", password)
        s.sendmail("scanner@copier.example", ["finance@scan.example"], msg, mail_options=["BODY=8BITMIME"])
    got = env.wait_files("out/finance", 4)
    names = [os.path.basename(p) for p in got]
    check("doc4.pdf" in names and "photo4.pdf" in names, "two attachments, two files: %s" % names)
    check(read(env.path("out", "finance", "doc4.pdf")) == pdf4, "the PDF of the pair, byte for byte")
    check(pdf_pages(env.path("out", "finance", "photo4.pdf")) == 1, "the JPEG became a one-page PDF")

    # 5. BCC only: no To header at all; the envelope decides.
    pdf5 = make_pdf(2200)
    msg = make_mail(to=None, subject="bcc", attachments=[("bcc5.pdf", pdf5, "application/pdf")])
    with smtplib.SMTP("127.0.0.1", p_open, timeout=30) as s:
        s.sendmail("scanner@copier.example", ["anna@scan.example"], msg)
    got = env.wait_files("out/anna", 2)
    check(any(p.endswith("bcc5.pdf") and read(p) == pdf5 for p in got), "BCC-only: delivered: %s" % got)

    # 6. A From display name with "@" (copiers put their own address there).
    pdf6 = make_pdf(2100)
    msg = make_mail(sender='"scanner@mfp.local" <scan@copier.example>', subject="at",
                    attachments=[("at6.pdf", pdf6, "application/pdf")])
    with smtplib.SMTP("127.0.0.1", p_open, timeout=30) as s:
        s.sendmail("scan@copier.example", ["somebody@scan.example"], msg)
    got = env.wait_files("out/other", 1)
    check(got[0].endswith("at6.pdf") and read(got[0]) == pdf6, "display name with @: delivered: %s" % got)

    # 7. One message to two recipients routed to two places.
    pdf7 = make_pdf(2300)
    msg = make_mail(to="finance@scan.example, anna@scan.example", subject="two",
                    attachments=[("two7.pdf", pdf7, "application/pdf")])
    with smtplib.SMTP("127.0.0.1", p_open, timeout=30) as s:
        s.sendmail("scanner@copier.example", ["finance@scan.example", "anna@scan.example"], msg)
    env.wait_files("out/anna", 3)
    check(read(env.path("out", "anna", "two7.pdf")) == pdf7, "two recipients: anna's copy")
    wait_for(lambda: os.path.exists(env.path("out", "finance", "two7.pdf")), 30, "finance's copy")
    check(read(env.path("out", "finance", "two7.pdf")) == pdf7, "two recipients: finance's copy")

    # 8. split = per-message: one document of all attachments.
    msg = make_mail(subject="bundle", attachments=[("b1.pdf", make_pdf(2000, pages=2), "application/pdf"),
                                                   ("b2.jpg", make_jpeg(), "image/jpeg")])
    with smtplib.SMTP("127.0.0.1", p_bundle, timeout=30) as s:
        s.sendmail("scanner@copier.example", ["finance@scan.example"], msg)
    wait_for(lambda: os.path.exists(env.path("out", "finance", "b1.pdf")), 30, "the bundle")
    check(pdf_pages(env.path("out", "finance", "b1.pdf")) == 3, "per-message: 2 + 1 pages in one document")

    # 9. An attachment name that tries to climb out of the destination.
    pdf9 = make_pdf(2000)
    msg = make_mail(subject="evil", attachments=[("../../../../tmp/evil{date}.pdf", pdf9, "application/pdf")])
    with smtplib.SMTP("127.0.0.1", p_open, timeout=30) as s:
        s.sendmail("scanner@copier.example", ["somebody@scan.example"], msg)
    got = env.wait_files("out/other", 2)
    evil = [p for p in got if "evil" in p]
    check(len(evil) == 1 and os.path.dirname(evil[0]) == env.path("out", "other"), "stays in its folder: %s" % got)
    check(os.path.basename(evil[0]) == "_.._.._.._tmp_evil{date}.pdf", "sanitised name: %s" % evil)
    check(not os.path.exists("/tmp/evil{date}.pdf"), "nothing written outside")

    # 10. The secure intake wants a login over TLS: bad password, no login.
    with smtplib.SMTP("127.0.0.1", p_tls, timeout=30) as s:
        s.starttls(context=ctx)
        s.ehlo("copier.example")
        code, _ = s.mail("scanner@copier.example")
        check(code == 530, "MAIL without login outside allow-from: %d" % code)
        try:
            s.login("copier", "wrong")
            check(False, "a wrong password was accepted")
        except smtplib.SMTPAuthenticationError as e:
            check(e.smtp_code == 535, "wrong password: %d" % e.smtp_code)

    env.stop_daemon()
    log = env.log_text()
    check(log.count("accepted, queued as") == 9, "one log line per accepted message:\n" + log)
    check(password not in log, "the password is never logged")
    check("Grüße" not in log and "%PDF" not in log, "no content in the log")
    check(len(env.files("out/finance")) == 6 and len(env.files("out/anna")) == 3 and len(env.files("out/other")) == 2,
          "nothing delivered twice: %s" % env.files("out"))
    print("ok")
