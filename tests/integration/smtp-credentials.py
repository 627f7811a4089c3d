"""Credentials of mail (and every other) output against a real SMTP server
(tests/lib/smtpd.py, aiosmtpd):

1. `url = smtp://user:pw@host` is refused by `config check` (naming url, never
   printing the password) and at run time, before any connection: the server
   sees no AUTH, and the password is nowhere in the spool.
2. No output's configuration snapshot in the spool holds a secret: a URL's
   password (smb, graph authority, an ad-hoc --to smb://u:pw@…) and stray keys
   an output does not declare (`password = …`) never reach job.ini.
3. security = none with a password is refused (config check and run time: no
   AUTH reaches the server) unless `allow-cleartext-auth = true`, which config
   check warns about and which then logs in without TLS."""
import glob
import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.environ.get("SCAND_SRCDIR", "."), "tests", "lib"))
from m365_testlib import TestEnv, check, read_json, EXIT_OK, EXIT_FAILED  # noqa: E402


def spool_text(env):
    """Every byte of every file in the spool, as text."""
    out = []
    for p in glob.glob(os.path.join(env.env["SCAND_SPOOL"], "**"), recursive=True):
        if os.path.isfile(p):
            with open(p, "rb") as f:
                out.append(f.read().decode("latin-1"))
    return "\n".join(out)


def log_of(d):
    try:
        with open(os.path.join(d, "log")) as f:
            return f.read()
    except FileNotFoundError:
        return ""


with TestEnv() as env:
    pdf = env.pdf("doc.pdf", 20_000)
    password = env.secret("smtp-password", "right")
    d, port = env.start_smtpd("--tls", "none", "--user", "u@example.com", "--password", "right", name="plain")

    # 1. Credentials in the URL.
    conf = env.config(f"""
[output inurl]
type = smtp
url = smtp://u%40example.com:URLSECRET@127.0.0.1:{port}
security = none
from = u@example.com
to = a@example.com
""", name="inurl.conf")
    rc, out, err = env.scand("config", "check", "--config", conf)
    check(rc == EXIT_FAILED, "config check accepts credentials in the URL (exit %d): %s" % (rc, err))
    check("[output inurl] url" in err and "must not contain" in err, "config check names the url: " + err)
    check("URLSECRET" not in out + err, "config check printed the password: " + err)
    rc, out = env.deliver(pdf, "inurl", conf, expect=EXIT_FAILED)
    check("must not contain a user name or password" in out, "run time refusal: " + out)
    check("URLSECRET" not in out, "the password was printed: " + out)
    check("AUTH" not in log_of(d) and "MAIL FROM" not in log_of(d), "the server was contacted: " + log_of(d))
    check("URLSECRET" not in spool_text(env), "the password is in the spool")

    # 2. Every output's snapshot: URL passwords and undeclared keys stay out of the spool.
    conf = env.config(f"""
[output share]
type = smb
url = smb://scanner:SMBSECRET@127.0.0.1:1/share
password = STRAYSECRET

[output desk]
type = folder
path = {env.path("desk")}
create = true
password = STRAYSECRET

[output cloud]
type = graph-mail
authority = https://app:GRAPHSECRET@127.0.0.1:1/
tenant = t
client-id = c
client-secret-file = {password}
sender = u@example.com
to = a@example.com
""", name="snap.conf")
    rc, out, err = env.scand("config", "check", "--config", conf)
    check(rc == EXIT_FAILED and "[output share] url" in err and "[output cloud] authority" in err,
          "config check names both URLs: " + err)
    check("SMBSECRET" not in err and "GRAPHSECRET" not in err and "STRAYSECRET" not in err,
          "config check printed a secret: " + err)
    for to in ("share", "desk", "cloud", "smb://adhoc:ADHOCSECRET@127.0.0.1:1/share/x"):
        rc, out = env.deliver(pdf, to, conf, expect=None)
        check(rc != EXIT_OK or to == "desk", "%s: delivered with credentials in a URL: %s" % (to, out))
        for secret in ("SMBSECRET", "GRAPHSECRET", "STRAYSECRET", "ADHOCSECRET"):
            check(secret not in out, "%s: %s printed: %s" % (to, secret, out))
    text = spool_text(env)
    check(os.path.isdir(env.env["SCAND_SPOOL"]) and "job.ini" in str(glob.glob(
        os.path.join(env.env["SCAND_SPOOL"], "**", "job.ini"), recursive=True)), "no job kept in the spool")
    for secret in ("SMBSECRET", "GRAPHSECRET", "STRAYSECRET", "ADHOCSECRET"):
        check(secret not in text, secret + " is in the spool")

    # 3. AUTH without TLS.
    conf = env.config(f"""
[output clear]
type = smtp
url = smtp://127.0.0.1:{port}
security = none
username = u@example.com
password-file = {password}
from = u@example.com
to = a@example.com

[output clear-allowed]
type = smtp
url = smtp://127.0.0.1:{port}
security = none
allow-cleartext-auth = true
username = u@example.com
password-file = {password}
from = u@example.com
to = b@example.com
""", name="clear.conf")
    rc, out, err = env.scand("config", "check", "--config", conf)
    check(rc == EXIT_FAILED and "[output clear] security" in err, "cleartext AUTH accepted by config check: " + err)
    check("[output clear-allowed]" in err and "warning:" in err and "in clear" in err,
          "allow-cleartext-auth is not warned about: " + err)
    check("[output clear-allowed] security" not in err, "allow-cleartext-auth is refused: " + err)
    rc, out = env.deliver(pdf, "clear", conf, expect=EXIT_FAILED)
    check("in clear" in out, "run time refusal: " + out)
    check("AUTH" not in log_of(d), "AUTH reached the server in clear: " + log_of(d))
    env.deliver(pdf, "clear-allowed", conf, expect=EXIT_OK)
    msgs = glob.glob(os.path.join(d, "msg-*.json"))
    check(len(msgs) == 1, "one message through the allowed cleartext login, got %d" % len(msgs))
    meta = read_json(msgs[0])
    check(meta["auth"] == ["password", "u@example.com"] and meta["tls"] is False, "login recorded: %r" % meta)
    print("ok")
