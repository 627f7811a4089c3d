"""The mail intake is never an open relay, and every refusal has its code:
the open-relay battery of issue 12 over raw SMTP (external recipients, '%'
hacks, quoted local parts, source routes, bang paths, clients outside
allow-from, AUTH before STARTTLS when TLS is required, oversized messages by
SIZE and during DATA, 1000 recipients, a 1 MB line, clients that stall), and
the attacks around it (STARTTLS command injection, a login that still may
not relay, too many connections, garbage, a resend). Nothing refused is ever
delivered."""
import os
import smtplib
import socket
import ssl
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.environ.get("SCAND_SRCDIR", "."), "tests", "lib"))
from intake_testlib import IntakeEnv, check, free_port, make_mail, make_pdf, wait_for  # noqa: E402


class Conn:
    """A raw SMTP connection: send lines, read whole replies."""

    def __init__(self, port, greeting=220):
        # A session the client closed a moment ago may still hold its slot of
        # max-connections-per-ip: a busy server says 421 4.7.0, try again.
        for _ in range(50):
            self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
            self.f = self.s.makefile("rb")
            code, text = self.reply()
            if code != 421 or "4.7.0" not in text or greeting == 421:
                break
            self.s.close()
            time.sleep(0.2)
        check(code == greeting, "greeting %d, expected %d: %s" % (code, greeting, text))

    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                return 0, "".join(lines)
            lines.append(line.decode(errors="replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), "".join(lines)

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self, line, want=None):
        self.send(line + "\r\n")
        code, text = self.reply()
        if want is not None:
            check(code == want, "%r: got %d %s, expected %d" % (line[:80], code, text.strip(), want))
        return code, text

    def close(self):
        self.s.close()


def smtp(port):
    """smtplib, trying again while closed sessions still hold their slots."""
    for _ in range(50):
        try:
            return smtplib.SMTP("127.0.0.1", port, timeout=20)
        except smtplib.SMTPConnectError as e:
            check(e.smtp_code == 421, "connect: %d %r" % (e.smtp_code, e.smtp_error))
            time.sleep(0.2)
    check(False, "no connection")


def expect_status(text, status, what):
    check(status in text, "%s: expected %s in %r" % (what, status, text))


with IntakeEnv() as env:
    p_lan, p_strict, p_closed = free_port(), free_port(), free_port()
    secret = env.secret("copier-password", "pw-copier")
    conf = env.config(f"""
[intake lan]
type = smtp
listen = 127.0.0.1:{p_lan}
hostname = scand.test
allow-from = 127.0.0.1
accept-to = *@scan.example
tls-certificate = {env.server_cert}
tls-key = {env.server_key}
accounts = copier
max-size = 1M
max-recipients = 100
max-connections-per-ip = 4
idle-timeout = 2s
timeout = 4s
data-timeout = 3s

[intake strict]
type = smtp
listen = 127.0.0.1:{p_strict}
tls-certificate = {env.server_cert}
tls-key = {env.server_key}
require-tls = true
accounts = copier
allow-from = 10.9.9.0/24
accept-to = *@scan.example

[intake closed]
type = smtp
listen = 127.0.0.1:{p_closed}
allow-from = 10.9.9.0/24
accept-to = *@scan.example

[account copier]
password-file = {secret}

[output out]
type = folder
path = {env.path("out")}
create = true

[rule all]
source = mail
deliver = out
""")
    env.start_daemon(conf)
    pdf = make_pdf(1500)
    good = make_mail(attachments=[("ok.pdf", pdf, "application/pdf")]).replace(b"\n", b"\r\n").replace(b"\r\r", b"\r")

    # The relay tricks, each refused at RCPT; a good recipient still works.
    c = Conn(p_lan)
    c.cmd("EHLO attacker.example", 250)
    c.cmd("MAIL FROM:<a@attacker.example>", 250)
    for rcpt, code, status in [
        ("<victim@external.example>", 550, "5.7.1"),
        ("<user%external.example@scan.example>", 553, "5.1.3"),
        ('<"user@external.example"@scan.example>', 553, "5.1.3"),
        ("<@scan.example:user@external.example>", 553, "5.1.3"),
        ("<@scan.example,@other.example:user@external.example>", 553, "5.1.3"),
        ("<external.example!user@scan.example>", 553, "5.1.3"),
        ("<external!user>", 553, "5.1.3"),
        ("<user@external.example@scan.example>", 553, "5.1.3"),
        ("<user@scan.example.external.example>", 550, "5.7.1"),
        ("<postmaster>", 550, "5.7.1"),
    ]:
        got, text = c.cmd("RCPT TO:" + rcpt, code)
        expect_status(text, status, rcpt)
    c.cmd("DATA", 554)  # no valid recipient
    c.cmd("QUIT", 221)
    c.close()

    # Logged in is no licence to relay either.
    with smtp(p_lan) as s:
        s.starttls(context=ssl.create_default_context(cafile=env.ca))
        s.ehlo("copier")
        s.login("copier", "pw-copier")
        s.mail("copier@scan.example")
        code, _ = s.rcpt("victim@external.example")
        check(code == 550, "a logged-in client relaying outside accept-to: %d" % code)

    # Outside allow-from with no logins offered: no service at all.
    c = Conn(p_closed, greeting=554)
    c.cmd("EHLO x", 503)
    c.cmd("QUIT", 221)
    c.close()
    # Outside allow-from where logins exist: nothing without one.
    c = Conn(p_strict)
    c.cmd("EHLO x", 250)
    code, text = c.cmd("AUTH PLAIN AGNvcGllcgBwdy1jb3BpZXI=", 530)  # before STARTTLS, TLS required
    expect_status(text, "5.7.0", "AUTH before STARTTLS")
    c.cmd("MAIL FROM:<a@b.example>", 530)
    c.cmd("QUIT", 221)
    c.close()
    # TLS offered but not required: AUTH before STARTTLS is still refused.
    c = Conn(p_lan)
    code, text = c.cmd("EHLO x", 250)
    check("AUTH" not in text and "STARTTLS" in text, "no AUTH before TLS: %s" % text)
    c.cmd("AUTH LOGIN", 538)
    c.close()

    # STARTTLS command injection (CVE-2011-0411): what follows STARTTLS in the
    # same packet is dropped, not run inside TLS.
    raw = socket.create_connection(("127.0.0.1", p_lan), timeout=20)
    f = raw.makefile("rb")
    f.readline()
    raw.sendall(b"EHLO x\r\n")
    while f.readline()[3:4] == b"-":
        pass
    raw.sendall(b"STARTTLS\r\nMAIL FROM:<injected@x.example>\r\n")
    check(f.readline().startswith(b"220"), "STARTTLS accepted")
    tls = ssl.create_default_context(cafile=env.ca).wrap_socket(raw, server_hostname="127.0.0.1")
    tls.sendall(b"RCPT TO:<a@scan.example>\r\n")
    answer = tls.recv(4096)
    check(answer.startswith(b"503"), "injected MAIL did not run inside TLS: %r" % answer)
    tls.close()

    # Too big: by SIZE, and during DATA without SIZE (the message is read to its end).
    c = Conn(p_lan)
    c.cmd("EHLO x", 250)
    code, text = c.cmd("MAIL FROM:<a@copier.example> SIZE=5000000", 552)
    expect_status(text, "5.3.4", "SIZE over the limit")
    c.cmd("MAIL FROM:<a@copier.example>", 250)
    c.cmd("RCPT TO:<big@scan.example>", 250)
    c.cmd("DATA", 354)
    big = make_mail(attachments=[("big.pdf", make_pdf(1500 * 1024), "application/pdf")])
    c.send(big.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b".\r\n")
    code, text = c.reply()
    check(code == 552 and "5.3.4" in text, "too big during DATA: %d %s" % (code, text))
    # 1000 recipients: the first 100 are taken, the rest get 452 4.5.3.
    c.cmd("RSET", 250)
    c.cmd("MAIL FROM:<a@copier.example>", 250)
    c.send("".join("RCPT TO:<r%d@scan.example>\r\n" % i for i in range(1000)))
    codes = [c.reply()[0] for _ in range(1000)]
    check(codes[:100] == [250] * 100 and set(codes[100:]) == {452}, "1000 recipients: %s" % sorted(set(codes)))
    c.cmd("RSET", 250)
    # A line of 1 MB, as a command and inside DATA.
    c.send("NOOP " + "x" * (1 << 20) + "\r\n")
    code, text = c.reply()
    check(code == 500 and "5.5.2" in text, "1 MB command line: %d %s" % (code, text))
    c.cmd("NOOP", 250)
    c.cmd("MAIL FROM:<a@copier.example>", 250)
    c.cmd("RCPT TO:<long@scan.example>", 250)
    c.cmd("DATA", 354)
    c.send(b"Subject: long\r\n\r\n" + b"y" * (1 << 20) + b"\r\n.\r\n")
    code, text = c.reply()
    check(code == 554, "1 MB line in DATA: %d %s" % (code, text))
    c.cmd("QUIT", 221)
    c.close()

    # Mail without a usable document, and an executable dressed as a PDF.
    for name, data, mime in [(None, None, None), ("invoice.pdf", b"MZ\x90\x00" + b"\0" * 100, "application/pdf")]:
        atts = [(name, data, mime)] if name else []
        with smtp(p_lan) as s:
            try:
                s.sendmail("a@copier.example", ["x@scan.example"], make_mail(attachments=atts))
                check(False, "a mail without a document was accepted")
            except smtplib.SMTPDataError as e:
                check(e.smtp_code == 550 and b"5.6.0" in e.smtp_error, "no document: %d %r" % (e.smtp_code, e.smtp_error))

    # More documents than a message may bring (amplification into jobs).
    many = make_mail(attachments=[("p%03d.pdf" % i, make_pdf(300), "application/pdf") for i in range(101)])
    with smtp(p_lan) as s:
        try:
            s.sendmail("a@copier.example", ["x@scan.example"], many)
            check(False, "101 attachments were accepted")
        except smtplib.SMTPDataError as e:
            check(e.smtp_code == 554, "101 attachments: %d %r" % (e.smtp_code, e.smtp_error))

    # A resend of an accepted message (same envelope, Message-ID and body) is
    # acknowledged and not stored twice.
    for attempt in range(2):
        with smtp(p_lan) as s:
            s.sendmail("a@copier.example", ["once@scan.example"], good)
    wait_for(lambda: "already queued" in env.log_text(), 20, "the resend to be recognised")

    # Stalling clients: before a command (idle-timeout) and inside DATA (data-timeout).
    c = Conn(p_lan)
    t0 = time.time()
    code, text = c.reply()
    check(code == 421 and "4.4.2" in text and time.time() - t0 < 10, "stall before a command: %d %s" % (code, text))
    c.close()
    c = Conn(p_lan)
    c.cmd("EHLO x", 250)
    c.cmd("MAIL FROM:<a@copier.example>", 250)
    c.cmd("RCPT TO:<stall@scan.example>", 250)
    c.cmd("DATA", 354)
    c.send(b"Subject: half\r\n\r\nsome")
    t0 = time.time()
    code, text = c.reply()
    check(code == 421 and time.time() - t0 < 10, "stall inside DATA: %d %s" % (code, text))
    c.close()

    # Garbage (an HTTP request): refused, and the connection closed after ten.
    c = Conn(p_lan)
    c.send("".join("GET /%d HTTP/1.1\r\n" % i for i in range(12)))
    codes = [c.reply()[0] for _ in range(11)]
    check(codes[:10] == [500] * 10 and codes[10] == 421, "garbage: %s" % codes)
    c.close()

    # Per-IP connection limit: four sessions, the fifth gets 421 4.7.0.
    held = [Conn(p_lan) for _ in range(4)]
    c = socket.create_connection(("127.0.0.1", p_lan), timeout=20)
    line = c.makefile("rb").readline()
    check(line.startswith(b"421 4.7.0"), "fifth connection: %r" % line)
    c.close()
    for h in held:
        h.close()

    wait_for(lambda: len(env.files("out")) == 1, 30, "the one good message")
    time.sleep(2)
    # SIGTERM while a message is being sent: 421, and nothing of it is kept.
    c = Conn(p_lan)
    c.cmd("EHLO x", 250)
    c.cmd("MAIL FROM:<a@copier.example>", 250)
    c.cmd("RCPT TO:<term@scan.example>", 250)
    c.cmd("DATA", 354)
    c.send(good[: len(good) // 2])
    env.stop_daemon()
    code, text = c.reply()
    check(code == 421 and "4.3.2" in text, "SIGTERM during DATA: %d %s" % (code, text))
    c.close()
    delivered = env.files("out")
    check(len(delivered) == 1 and delivered[0].endswith("ok.pdf"), "only the good message, once: %s" % delivered)
    log = env.log_text()
    for verdict in ["refused: over max-size (552)", "refused: SIZE over the limit (552)",
                    "refused: line too long (554)", "refused: no usable attachment", "relay", "timeout"]:
        check(verdict in log, "the log says %r:\n%s" % (verdict, log))
    print("ok")
