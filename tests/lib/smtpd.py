#!/usr/bin/python3
"""A real SMTP server for scand's tests, built on Debian's python3-aiosmtpd.

  smtpd.py --dir DIR [--cert PEM --key PEM] [--tls starttls|implicit|none]
           [--user U --password P] [--xoauth2-user U --xoauth2-token T]
           [--size BYTES] [--client-ca PEM]

Listens on 127.0.0.1 on a free port and writes it to DIR/port once ready.
Every accepted message becomes DIR/msg-N.eml (the bytes after DATA) and
DIR/msg-N.json (envelope, authenticated user and mechanism, TLS, the client
certificate's subject). DIR/log gets one line per event ("MAIL FROM:<a>",
"AUTH PLAIN ok", "AUTH XOAUTH2 exact", "RCPT <b> 550 …").

DIR/script.json (optional, re-read at every command) scripts replies:
  {"connect": "421 4.3.2 busy", "auth": "535 5.7.139 …", "mail": "451 …",
   "rcpt": {"b@example.com": "550 5.1.1 no such user"}, "data": "451 …"}
"""
import argparse
import asyncio
import base64
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

args = None
counter = 0


def log(line):
    with open(os.path.join(args.dir, "log"), "a") as f:
        f.write(line + "\n")


def script():
    try:
        with open(os.path.join(args.dir, "script.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def peer_subject(server):
    """The subject CN of the client's certificate, or None."""
    for transport in (getattr(server, "transport", None),
                      getattr(getattr(server, "_tls_protocol", None), "_app_transport", None)):
        if transport is None:
            continue
        obj = transport.get_extra_info("ssl_object")
        if obj is None:
            continue
        cert = obj.getpeercert()
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        return v
    return None


def is_tls(server):
    return bool(server._tls_protocol) or (
        server.transport is not None and server.transport.get_extra_info("ssl_object") is not None)


class Server(SMTP):
    async def _handle_client(self):
        reply = script().get("connect")
        if reply:
            log("CONNECT " + reply)
            await self.push(reply)
            self.transport.close()
            return
        await super()._handle_client()

    async def smtp_STARTTLS(self, arg):
        log("STARTTLS")
        return await super().smtp_STARTTLS(arg)


class Handler:
    async def auth_XOAUTH2(self, server, argv):
        if len(argv) > 1:
            blob = base64.b64decode(argv[1])
        else:
            blob = await server.challenge_auth("", encode_to_b64=False)
            if not isinstance(blob, bytes):
                return AuthResult(success=False, handled=False)
        expected = ("user=%s\x01auth=Bearer %s\x01\x01" % (args.xoauth2_user, args.xoauth2_token)).encode()
        if args.xoauth2_token and blob == expected:
            log("AUTH XOAUTH2 exact")
            return AuthResult(success=True, auth_data=("XOAUTH2", args.xoauth2_user))
        log("AUTH XOAUTH2 mismatch %r" % blob)
        return AuthResult(success=False, handled=False,
                          message="535 5.7.3 Authentication unsuccessful")

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        log("MAIL FROM:<%s> %s tls=%s" % (address, " ".join(mail_options), is_tls(server)))
        reply = script().get("mail")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = script().get("rcpt", {}).get(address)
        log("RCPT <%s> %s" % (address, reply or "250"))
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        global counter
        reply = script().get("data")
        if reply:
            log("DATA " + reply)
            return reply
        counter += 1
        base = os.path.join(args.dir, "msg-%d" % counter)
        with open(base + ".eml.part", "wb") as f:
            f.write(envelope.original_content)
        auth = session.auth_data
        if isinstance(auth, LoginPassword):
            auth = ["password", auth.login.decode()]
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth": list(auth) if auth else None,
            "tls": is_tls(server),
            "client_cert": peer_subject(server),
            "size": len(envelope.original_content),
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".eml.part", base + ".eml")
        log("DATA accepted msg-%d" % counter)
        return "250 2.0.0 OK queued as msg-%d" % counter


def authenticator(server, session, envelope, mechanism, auth_data):
    reply = script().get("auth")
    ok = (isinstance(auth_data, LoginPassword) and args.user is not None
          and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password)
    if reply:
        ok = False
    log("AUTH %s %s" % (mechanism, "ok" if ok else "refused"))
    if ok:
        return AuthResult(success=True, auth_data=auth_data)
    return AuthResult(success=False, handled=False, message=reply or None)


def tls_context(client_ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    return ctx


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--tls", default="starttls", choices=["starttls", "implicit", "none"])
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--xoauth2-user")
    p.add_argument("--xoauth2-token")
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--client-ca")
    args = p.parse_args()

    handler = Handler()
    starttls_ctx = tls_context(args.client_ca) if args.tls == "starttls" else None
    implicit_ctx = tls_context(args.client_ca) if args.tls == "implicit" else None
    kw = dict(data_size_limit=args.size or None, tls_context=starttls_ctx,
              require_starttls=starttls_ctx is not None, authenticator=authenticator,
              # With implicit TLS the listener did the handshake: AUTH is safe at once.
              # Without TLS at all the server takes AUTH in clear (as a careless relay
              # would): refusing it is the client's job, which the tests check.
              auth_require_tls=args.tls == "starttls", hostname="smtp.test", decode_data=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return Server(handler, loop=loop, **kw)

    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=0, ssl=implicit_ctx))
    port = server.sockets[0].getsockname()[1]
    with open(os.path.join(args.dir, "port.part"), "w") as f:
        f.write("%d\n" % port)
    os.rename(os.path.join(args.dir, "port.part"), os.path.join(args.dir, "port"))
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
