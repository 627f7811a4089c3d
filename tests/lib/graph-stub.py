#!/usr/bin/python3
"""A local HTTPS stand-in for login.microsoftonline.com and graph.microsoft.com.

  graph-stub.py --dir DIR --cert PEM --key PEM --tenant T --client-id ID
                [--client-secret S] [--client-cert PEM] [--sender ADDR]...

Base URL https://127.0.0.1:PORT (PORT written to DIR/port): the authority is
the base URL, Graph is BASE/v1.0. It is strict about method, path, headers and
JSON shape, as the real service is, and answers like it (AADSTS errors, Graph
error objects). Everything it accepts is written down:

  DIR/requests.jsonl  one line per request: t (monotonic), method, path, auth
                      (Bearer present), content_range, length, status
  DIR/tokens.jsonl    one line per token issued: how (secret|assertion), scope
  DIR/sent/N.json     a sent mail (sendMail or draft + /send); attachment
                      bytes in DIR/sent/N-K.bin
  DIR/drive/ID/PATH   uploaded drive files

DIR/faults.json (re-read at every request) injects replies:
  [{"method": "POST", "path": "sendMail", "status": 429, "retry_after": 2,
    "count": 1, "code": "TooManyRequests"}]
"path" is a regular expression searched in the path; "count" replies are
given, then the rule is spent; "action": "drop-after" stores a chunk and closes
the connection without answering.
"""
import argparse
import base64
import hashlib
import http.server
import itertools
import json
import os
import re
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
SMTP_SCOPE = "https://outlook.office365.com/.default"
CHUNK_UNIT = 320 * 1024
MAX_CHUNK = 4 * 1024 * 1024          # attachments: ≤ 4 MB per PUT (drive allows 60 MiB; we are stricter)
MAX_SIMPLE = 4 * 1024 * 1024         # simple drive PUT and sendMail request size

args = None
lock = threading.Lock()
tokens = {}          # token → scope
seen_jti = set()
drafts = {}          # id → {"sender":…, "message":…, "attachments": [(name, type, bytes)]}
sessions = {}        # id → {"kind": "attachment"|"drive", "size":…, "data": bytearray, …}
sent_counter = itertools.count(1)
faults_used = {}


class Reply(Exception):
    def __init__(self, status, body=None, headers=None):
        self.status, self.body, self.headers = status, body, headers or {}


def graph_error(status, code, message, **headers):
    return Reply(status, {"error": {"code": code, "message": message,
                                    "innerError": {"request-id": str(uuid.uuid4())}}}, headers)


def aad_error(status, error, aadsts, text):
    return Reply(status, {"error": error, "error_description": "%s: %s\r\nTrace ID: %s\r\nCorrelation ID: %s"
                          % (aadsts, text, uuid.uuid4(), uuid.uuid4()), "error_codes": [int(aadsts[6:])]})


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def log(name, entry):
    with lock, open(os.path.join(args.dir, name), "a") as f:
        f.write(json.dumps(entry) + "\n")


def fault_for(method, path):
    try:
        with open(os.path.join(args.dir, "faults.json")) as f:
            rules = json.load(f)
    except FileNotFoundError:
        return None
    with lock:
        for i, r in enumerate(rules):
            if r.get("method", method) != method or not re.search(r.get("path", ""), path):
                continue
            key = json.dumps(r, sort_keys=True) + str(i)
            if faults_used.get(key, 0) >= r.get("count", 1):
                continue
            faults_used[key] = faults_used.get(key, 0) + 1
            return r
    return None


# ---- token endpoint -------------------------------------------------------------

def verify_assertion(jwt, token_url):
    try:
        h64, c64, s64 = jwt.split(".")
        header, claims = json.loads(b64url_decode(h64)), json.loads(b64url_decode(c64))
        sig = b64url_decode(s64)
    except Exception:
        raise aad_error(400, "invalid_request", "AADSTS50027", "JWT token is invalid or malformed.")
    with open(args.client_cert, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    thumb = base64.urlsafe_b64encode(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())
    if header.get("alg") != "RS256" or header.get("typ") != "JWT":
        raise aad_error(400, "invalid_request", "AADSTS5002738", "Invalid JWT header: alg must be RS256, typ JWT.")
    if header.get("x5t#S256") != thumb.decode().rstrip("="):
        raise aad_error(401, "invalid_client", "AADSTS700027",
                        "The certificate with identifier used to sign the client assertion is not registered on application.")
    try:
        cert.public_key().verify(sig, (h64 + "." + c64).encode(), padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        raise aad_error(401, "invalid_client", "AADSTS700027", "Client assertion contains an invalid signature.")
    now = time.time()
    if claims.get("aud") != token_url:
        raise aad_error(401, "invalid_client", "AADSTS700212", "No matching federated identity record found for presented assertion audience '%s'." % claims.get("aud"))
    if claims.get("iss") != args.client_id or claims.get("sub") != args.client_id:
        raise aad_error(401, "invalid_client", "AADSTS700021", "Client assertion application identifier doesn't match 'client_id' parameter.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or jti in seen_jti:
        raise aad_error(401, "invalid_client", "AADSTS700025", "Client assertion jti is missing or was used before.")
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int) or not isinstance(nbf, int) or exp <= now or nbf > now + 60 or exp - now > 600 \
            or exp - nbf > 600:
        raise aad_error(401, "invalid_client", "AADSTS700024", "Client assertion is not within its valid time range.")
    seen_jti.add(jti)


def token_endpoint(h, tenant, body):
    if h.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
        raise aad_error(400, "invalid_request", "AADSTS900144", "Request body must be form-urlencoded.")
    form = urllib.parse.parse_qs(body.decode(), strict_parsing=True)
    form = {k: v[0] for k, v in form.items() if len(v) == 1}
    if tenant != args.tenant:
        raise aad_error(400, "invalid_request", "AADSTS90002", "Tenant '%s' not found." % tenant)
    if form.get("grant_type") != "client_credentials":
        raise aad_error(400, "unsupported_grant_type", "AADSTS70003", "The app requested an unsupported grant type.")
    if form.get("client_id") != args.client_id:
        raise aad_error(400, "unauthorized_client", "AADSTS700016",
                        "Application with identifier '%s' was not found in the directory." % form.get("client_id"))
    scope = form.get("scope")
    if scope not in (GRAPH_SCOPE, SMTP_SCOPE):
        raise aad_error(400, "invalid_scope", "AADSTS1002012", "The provided value for scope %s is not valid." % scope)
    token_url = "https://127.0.0.1:%d/%s/oauth2/v2.0/token" % (h.server.server_address[1], tenant)
    if "client_assertion" in form:
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
                or "client_secret" in form or not args.client_cert:
            raise aad_error(400, "invalid_request", "AADSTS50027", "Invalid client assertion request.")
        verify_assertion(form["client_assertion"], token_url)
        how = "assertion"
    elif "client_secret" in form:
        if form["client_secret"] != args.client_secret:
            raise aad_error(401, "invalid_client", "AADSTS7000215", "Invalid client secret provided. "
                            "Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
        how = "secret"
    else:
        raise aad_error(401, "invalid_client", "AADSTS7000218",
                        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
    token = args.token if (args.token and scope == SMTP_SCOPE) else "tok-" + uuid.uuid4().hex
    with lock:
        tokens[token] = scope
    log("tokens.jsonl", {"how": how, "scope": scope})
    return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})


# ---- Graph -----------------------------------------------------------------------

def require_json(h, body):
    if h.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
        raise graph_error(415, "UnsupportedMediaType", "Content-Type must be application/json")
    try:
        return json.loads(body)
    except Exception:
        raise graph_error(400, "BadRequest", "Unable to read JSON request payload.")


def require_auth(h):
    auth = h.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or tokens.get(auth[7:]) != GRAPH_SCOPE:
        raise graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")


def check_message(m, with_attachments):
    allowed = {"subject", "body", "toRecipients", "replyTo", "attachments"}
    if not isinstance(m, dict) or set(m) - allowed:
        raise graph_error(400, "ErrorInvalidRequest", "unexpected message properties %s" % sorted(set(m) - allowed))
    if not isinstance(m.get("subject"), str):
        raise graph_error(400, "ErrorInvalidRequest", "subject must be a string")
    b = m.get("body")
    if not isinstance(b, dict) or b.get("contentType") not in ("Text", "HTML") or not isinstance(b.get("content"), str):
        raise graph_error(400, "ErrorInvalidRequest", "body must be {contentType: Text|HTML, content}")
    rs = m.get("toRecipients")
    if not isinstance(rs, list) or not rs or not all(
            isinstance(r, dict) and isinstance(r.get("emailAddress"), dict)
            and isinstance(r["emailAddress"].get("address"), str) and "@" in r["emailAddress"]["address"]
            for r in rs):
        raise graph_error(400, "ErrorInvalidRecipients", "toRecipients must be [{emailAddress: {address}}]")
    if "replyTo" in m:
        rt = m["replyTo"]
        if not isinstance(rt, list) or not all(
                isinstance(r, dict) and set(r) == {"emailAddress"} and isinstance(r["emailAddress"], dict)
                and set(r["emailAddress"]) <= {"name", "address"}
                and isinstance(r["emailAddress"].get("address"), str) and "@" in r["emailAddress"]["address"]
                and isinstance(r["emailAddress"].get("name", ""), str)
                for r in rt):
            raise graph_error(400, "ErrorInvalidRecipients", "replyTo must be [{emailAddress: {name, address}}]")
    atts = []
    if "attachments" in m:
        if not with_attachments or not isinstance(m["attachments"], list):
            raise graph_error(400, "ErrorInvalidRequest", "attachments not expected here")
        for a in m["attachments"]:
            if not isinstance(a, dict) or a.get("@odata.type") != "#microsoft.graph.fileAttachment" \
                    or not isinstance(a.get("name"), str) or not isinstance(a.get("contentBytes"), str):
                raise graph_error(400, "ErrorInvalidRequest", "attachments must be fileAttachment with name and contentBytes")
            atts.append((a["name"], a.get("contentType"), base64.b64decode(a["contentBytes"], validate=True)))
    return [r["emailAddress"]["address"] for r in rs], atts


def store_sent(sender, m, to, atts):
    n = next(sent_counter)
    d = os.path.join(args.dir, "sent")
    os.makedirs(d, exist_ok=True)
    for k, (name, ctype, data) in enumerate(atts):
        with open(os.path.join(d, "%d-%d.bin" % (n, k)), "wb") as f:
            f.write(data)
    meta = {"sender": sender, "subject": m["subject"], "body": m["body"]["content"], "to": to,
            "replyTo": [r["emailAddress"] for r in m.get("replyTo", [])],
            "attachments": [{"name": a[0], "contentType": a[1], "size": len(a[2])} for a in atts]}
    with open(os.path.join(d, "%d.json.part" % n), "w") as f:
        json.dump(meta, f)
    os.rename(os.path.join(d, "%d.json.part" % n), os.path.join(d, "%d.json" % n))


def check_sender(sender):
    if args.sender and sender not in args.sender:
        raise graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")


def drive_root(h, prefix):
    """drives/{id} | sites/{id}/drive | users/{id}/drive → a directory."""
    return os.path.join(args.dir, "drive", re.sub(r"[^A-Za-z0-9@._-]", "_", prefix))


def drive_item(path, name):
    st = os.stat(path)
    return {"id": hashlib.sha1(path.encode()).hexdigest(), "name": name, "size": st.st_size,
            "file": {"mimeType": "application/pdf"}}


def resolve_conflict(target, behavior):
    if not os.path.exists(target):
        return target
    if behavior == "replace":
        return target
    if behavior == "rename":
        base, ext = os.path.splitext(target)
        for i in itertools.count(1):
            cand = "%s %d%s" % (base, i, ext)
            if not os.path.exists(cand):
                return cand
    raise graph_error(409, "nameAlreadyExists", "The specified item name already exists.")


def new_session(kind, size, **extra):
    sid = uuid.uuid4().hex
    with lock:
        sessions[sid] = dict(kind=kind, size=size, data=bytearray(), **extra)
    return sid


def upload_put(h, sid, body, fault):
    if "Authorization" in h.headers:
        raise graph_error(401, "InvalidAuthenticationToken",
                          "The upload URL is pre-authenticated: do not send an Authorization header.")
    s = sessions.get(sid)
    if s is None:
        raise graph_error(404, "itemNotFound", "The upload session was not found.")
    m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", h.headers.get("Content-Range", ""))
    if not m:
        raise graph_error(400, "invalidRange", "Content-Range must be 'bytes start-end/total'.")
    start, end, total = map(int, m.groups())
    if s["size"] is None:        # a drive session learns the size from the first fragment
        s["size"] = total
    if total != s["size"] or start != len(s["data"]) or end < start or end - start + 1 != len(body) \
            or end >= total:
        raise graph_error(416, "invalidRange", "The Content-Range %s does not match the expected range %d-."
                          % (h.headers["Content-Range"], len(s["data"])))
    if len(body) > MAX_CHUNK or (end + 1 < total and len(body) % CHUNK_UNIT):
        raise graph_error(400, "invalidRange", "Fragments must be a multiple of 320 KiB and at most 4 MiB.")
    s["data"] += body
    s.setdefault("chunks", []).append([start, end])
    if fault and fault.get("action") == "drop-after":
        raise ConnectionAbortedError()
    if len(s["data"]) < total:
        return Reply(202, {"expirationDateTime": "2030-01-01T00:00:00Z", "nextExpectedRanges": ["%d-" % len(s["data"])]})
    with lock:
        sessions.pop(sid, None)
    if s["kind"] == "attachment":
        drafts[s["draft"]]["attachments"].append((s["name"], s.get("contentType"), bytes(s["data"])))
        return Reply(201, None, {"Location": "%s/v1.0/users/%s/messages/%s/attachments/%s"
                                 % (base_url(h), s["sender"], s["draft"], uuid.uuid4().hex)})
    target = resolve_conflict(s["target"], s["behavior"])
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as f:
        f.write(s["data"])
    with open(os.path.join(args.dir, "chunks.jsonl"), "a") as f:
        f.write(json.dumps({"target": target, "chunks": s["chunks"]}) + "\n")
    return Reply(201, drive_item(target, os.path.basename(target)))


def base_url(h):
    return "https://127.0.0.1:%d" % h.server.server_address[1]


def graph(h, method, path, query, body, fault):
    if path.startswith("/upload/"):
        sid = path[len("/upload/"):]
        if method == "PUT":
            return upload_put(h, sid, body, fault)
        if "Authorization" in h.headers:
            raise graph_error(401, "InvalidAuthenticationToken", "do not send Authorization to the upload URL")
        s = sessions.get(sid)
        if s is None:
            raise graph_error(404, "itemNotFound", "The upload session was not found.")
        if method == "GET":
            end = "%d" % (s["size"] - 1) if s["size"] else ""
        return Reply(200, {"expirationDateTime": "2030-01-01T00:00:00Z",
                           "nextExpectedRanges": ["%d-%s" % (len(s["data"]), end)]})
        if method == "DELETE":
            sessions.pop(sid, None)
            return Reply(204)
        raise graph_error(405, "BadRequest", "method not allowed")
    if not path.startswith("/v1.0/"):
        raise graph_error(404, "BadRequest", "Resource not found for the segment.")
    require_auth(h)
    p = path[len("/v1.0"):]
    m = re.fullmatch(r"/users/([^/]+)/sendMail", p)
    if m and method == "POST":
        sender = urllib.parse.unquote(m.group(1))
        if len(body) >= MAX_SIMPLE:
            raise graph_error(413, "ErrorRequestEntityTooLarge", "The request exceeds the 4 MB limit.")
        req = require_json(h, body)
        if not isinstance(req, dict) or set(req) - {"message", "saveToSentItems"}:
            raise graph_error(400, "ErrorInvalidRequest", "sendMail takes {message, saveToSentItems}")
        to, atts = check_message(req.get("message"), True)
        check_sender(sender)
        store_sent(sender, req["message"], to, atts)
        return Reply(202)
    m = re.fullmatch(r"/users/([^/]+)/messages", p)
    if m and method == "POST":
        sender = urllib.parse.unquote(m.group(1))
        msg = require_json(h, body)
        to, _ = check_message(msg, False)
        check_sender(sender)
        mid = "AAMk" + uuid.uuid4().hex
        drafts[mid] = {"sender": sender, "message": msg, "to": to, "attachments": []}
        return Reply(201, {"id": mid, "isDraft": True, "subject": msg["subject"]})
    m = re.fullmatch(r"/users/([^/]+)/messages/([^/]+)", p)
    if m and method == "DELETE":
        with lock:
            d = drafts.pop(m.group(2), None)
        if not d:
            raise graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return Reply(204)
    if m and method == "GET":
        d = drafts.get(m.group(2))
        if not d:
            raise graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return Reply(200, {"id": m.group(2), "isDraft": True, "subject": d["message"]["subject"]})
    m = re.fullmatch(r"/users/([^/]+)/messages/([^/]+)/attachments/createUploadSession", p)
    if m and method == "POST":
        sender, mid = urllib.parse.unquote(m.group(1)), m.group(2)
        if mid not in drafts:
            raise graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        req = require_json(h, body)
        item = req.get("AttachmentItem") if isinstance(req, dict) and set(req) == {"AttachmentItem"} else None
        if not isinstance(item, dict) or item.get("attachmentType") != "file" or not isinstance(item.get("name"), str) \
                or not isinstance(item.get("size"), int) or item["size"] <= 0:
            raise graph_error(400, "ErrorInvalidRequest", "AttachmentItem {attachmentType: file, name, size} expected")
        if item["size"] > args.max_attachment:
            raise graph_error(413, "ErrorAttachmentSizeLimitExceeded", "The attachment exceeds the maximum size.")
        sid = new_session("attachment", item["size"], draft=mid, sender=sender, name=item["name"],
                          contentType=item.get("contentType"))
        return Reply(201, {"uploadUrl": "%s/upload/%s" % (base_url(h), sid),
                           "expirationDateTime": "2030-01-01T00:00:00Z", "nextExpectedRanges": ["0-"]})
    m = re.fullmatch(r"/users/([^/]+)/messages/([^/]+)/send", p)
    if m and method == "POST":
        if body:
            raise graph_error(400, "ErrorInvalidRequest", "send takes no body")
        with lock:
            d = drafts.pop(m.group(2), None)
        if not d:
            raise graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        store_sent(d["sender"], d["message"], d["to"], d["attachments"])
        return Reply(202)
    m = re.fullmatch(r"/((?:drives/[^/]+)|(?:sites/[^/]+/drive)|(?:users/[^/]+/drive))/root:/(.+):/(content|createUploadSession)", p)
    if m:
        root = drive_root(h, urllib.parse.unquote(m.group(1)))
        rel = urllib.parse.unquote(m.group(2))
        if ".." in rel.split("/") or rel.startswith("/"):
            raise graph_error(400, "invalidRequest", "bad path")
        target = os.path.join(root, rel)
        if m.group(3) == "content" and method == "PUT":
            if len(body) > MAX_SIMPLE:
                raise graph_error(413, "requestTooLarge", "Simple upload is limited to 4 MB.")
            behavior = query.get("@microsoft.graph.conflictBehavior", ["fail"])[0]
            if behavior not in ("fail", "rename", "replace"):
                raise graph_error(400, "invalidRequest", "bad conflictBehavior")
            target = resolve_conflict(target, behavior)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(body)
            return Reply(201, drive_item(target, os.path.basename(target)))
        if m.group(3) == "createUploadSession" and method == "POST":
            req = require_json(h, body) if body else {}
            item = req.get("item", {}) if isinstance(req, dict) else None
            if not isinstance(item, dict) or set(req) - {"item"}:
                raise graph_error(400, "invalidRequest", "createUploadSession takes {item: {...}}")
            behavior = item.get("@microsoft.graph.conflictBehavior", "fail")
            if behavior not in ("fail", "rename", "replace"):
                raise graph_error(400, "invalidRequest", "bad conflictBehavior")
            if behavior == "fail" and os.path.exists(target):
                raise graph_error(409, "nameAlreadyExists", "The specified item name already exists.")
            sid = new_session("drive", None, target=target, behavior=behavior)
            return Reply(200, {"uploadUrl": "%s/upload/%s" % (base_url(h), sid),
                               "expirationDateTime": "2030-01-01T00:00:00Z"})
    m = re.fullmatch(r"/((?:drives/[^/]+)|(?:sites/[^/]+/drive)|(?:users/[^/]+/drive))/root:/(.+)", p)
    if m and method == "GET":
        target = os.path.join(drive_root(h, urllib.parse.unquote(m.group(1))), urllib.parse.unquote(m.group(2)))
        if not os.path.isfile(target):
            raise graph_error(404, "itemNotFound", "The resource could not be found.")
        return Reply(200, drive_item(target, os.path.basename(target)))
    raise graph_error(400, "BadRequest", "Unsupported request %s %s" % (method, p))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def handle_any(self, method):
        t = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        entry = {"t": t, "method": method, "path": path, "auth": "Authorization" in self.headers,
                 "content_range": self.headers.get("Content-Range"), "length": len(body)}
        fault = fault_for(method, path)
        try:
            if fault and "status" in fault:
                hdrs = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
                raise graph_error(fault["status"], fault.get("code", "Error"), fault.get("message", "injected"), **hdrs)
            m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
            if m and method == "POST":
                reply = token_endpoint(self, m.group(1), body)
            else:
                reply = graph(self, method, path, query, body, fault)
        except Reply as r:
            reply = r
        except ConnectionAbortedError:
            entry["status"] = "dropped"
            log("requests.jsonl", entry)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        entry["status"] = reply.status
        log("requests.jsonl", entry)
        data = json.dumps(reply.body).encode() if reply.body is not None else b""
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--tenant", default="contoso.example")
    p.add_argument("--client-id", default="11111111-2222-3333-4444-555555555555")
    p.add_argument("--client-secret")
    p.add_argument("--client-cert", help="the application's registered certificate (PEM)")
    p.add_argument("--sender", action="append", help="mailboxes the app may send as (default: any)")
    p.add_argument("--token", help="the access token to issue for the SMTP scope (for smtpd.py)")
    p.add_argument("--max-attachment", type=int, default=150 * 1024 * 1024)
    args = p.parse_args()
    httpd = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    port = httpd.server_address[1]
    with open(os.path.join(args.dir, "port.part"), "w") as f:
        f.write("%d\n" % port)
    os.rename(os.path.join(args.dir, "port.part"), os.path.join(args.dir, "port"))
    httpd.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
