# SMB3 with encryption: against a smbd that speaks only SMB3 and requires
# encryption, `encrypt = true` with `min-protocol = SMB3` delivers; `sign =
# true` delivers too. Against a server that cannot encrypt (SMB2 only), an
# output with `encrypt = true` or `min-protocol = SMB3` fails for good with a
# message naming the destination, and nothing lands on the share.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/smbd.sh"
[ "$(id -u)" -eq 0 ] || fail "this test maps the SMB user to root and must run as root"

smbd_setup
SMBD_EXTRA="server min protocol = SMB3_00
server smb encrypt = required"
smbd_start

{ printf '%%PDF-1.4\n'; head -c 2000000 /dev/urandom; printf '\n%%%%EOF\n'; } >"$T/doc.pdf"

cat >"$T/scand.conf" <<CONF
[output secure]
type = smb
url = $SMBD_URL/enc
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
min-protocol = SMB3
encrypt = true

[output signed]
type = smb
url = $SMBD_URL/sig
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
sign = true

[output smb3]
type = smb
url = $SMBD_URL/smb3
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
min-protocol = SMB3
CONF

"$SCAND" deliver --config "$T/scand.conf" "$T/doc.pdf" --to secure --name doc.pdf >"$T/stdout" 2>"$T/err" \
  || { cat "$T/err" >&2; smbd_log; fail "encrypted delivery"; }
cmp "$T/doc.pdf" "$SMBD_SHARE/enc/doc.pdf" || fail "encrypted delivery: bytes differ"
"$SCAND" deliver --config "$T/scand.conf" "$T/doc.pdf" --to signed --name doc.pdf >"$T/stdout" 2>"$T/err" \
  || { cat "$T/err" >&2; smbd_log; fail "signed delivery"; }
cmp "$T/doc.pdf" "$SMBD_SHARE/sig/doc.pdf" || fail "signed delivery: bytes differ"

# On the wire: a recording TCP relay between scand and smbd shows that the
# document's bytes never travel in clear (the same check sees them in clear
# over SMB2 below, so it can tell).
cat >"$T/relay.py" <<'PY'
import socket, sys, threading
listen_port, target_port, record = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(8)
lock = threading.Lock()
out = open(record, "ab", buffering=0)
def pump(a, b, rec):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            if rec:
                with lock:
                    out.write(data)
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
while True:
    c, _ = srv.accept()
    u = socket.create_connection(("127.0.0.1", target_port))
    threading.Thread(target=pump, args=(c, u, True), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, False), daemon=True).start()
PY
RELAY_PORT=$(free_port)
python3 "$T/relay.py" "$RELAY_PORT" "$SMBD_PORT" "$T/wire-encrypted" &
relay_pid=$!
on_exit "kill $relay_pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$RELAY_PORT") 2>/dev/null && break; sleep 0.1; done
sed "s|127.0.0.1:$SMBD_PORT|127.0.0.1:$RELAY_PORT|" "$T/scand.conf" >"$T/relay.conf"
: >"$T/wire-encrypted"
"$SCAND" deliver --config "$T/relay.conf" "$T/doc.pdf" --to secure --name relayed.pdf >"$T/stdout" 2>"$T/err" \
  || { cat "$T/err" >&2; smbd_log; fail "encrypted delivery through the relay"; }
cmp "$T/doc.pdf" "$SMBD_SHARE/enc/relayed.pdf" || fail "encrypted delivery through the relay: bytes differ"
# seen_on_wire FILE: whether 64 bytes from the middle of the document are in FILE.
seen_on_wire() {
  python3 - "$T/doc.pdf" "$1" <<'PY'
import sys
doc = open(sys.argv[1], "rb").read()
wire = open(sys.argv[2], "rb").read()
mid = len(doc) // 2
sys.exit(0 if doc[mid:mid + 64] in wire else 1)
PY
}
[ "$(stat -c %s "$T/wire-encrypted")" -gt 2000000 ] || fail "the relay recorded too little"
! seen_on_wire "$T/wire-encrypted" || fail "the document travelled in clear with encrypt = true"

# A server that cannot encrypt: encrypt = true must not fall back to plain SMB2.
smbd_stop
SMBD_EXTRA="server max protocol = SMB2_10"
smbd_start
for out in secure smb3; do
  set +e
  "$SCAND" deliver --config "$T/scand.conf" "$T/doc.pdf" --to $out --name late.pdf >"$T/stdout" 2>"$T/err"
  rc=$?
  set -e
  [ $rc -eq 1 ] || { cat "$T/err" >&2; fail "$out against an SMB2-only server: exit $rc, expected 1"; }
  assert_contains "$T/err" "output $out (smb://127.0.0.1:$SMBD_PORT/scans/"
  assert_contains "$T/err" "min-protocol"
done
[ -z "$(find "$SMBD_SHARE" -name 'late.pdf' -o -name '.scand-*')" ] || { find "$SMBD_SHARE" >&2; fail "file written without encryption"; }
# The signed output still works there (the server is fine, only the demand is
# not met), in clear, and the wire check sees it.
kill $relay_pid 2>/dev/null || true
wait $relay_pid 2>/dev/null || true
python3 "$T/relay.py" "$RELAY_PORT" "$SMBD_PORT" "$T/wire-clear" &
relay_pid=$!
on_exit "kill $relay_pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$RELAY_PORT") 2>/dev/null && break; sleep 0.1; done
sed "s|127.0.0.1:$SMBD_PORT|127.0.0.1:$RELAY_PORT|" "$T/scand.conf" >"$T/relay.conf"
"$SCAND" deliver --config "$T/relay.conf" "$T/doc.pdf" --to signed --name late.pdf >"$T/stdout" 2>"$T/err" \
  || { cat "$T/err" >&2; fail "signed delivery to SMB2"; }
cmp "$T/doc.pdf" "$SMBD_SHARE/sig/late.pdf" || fail "signed delivery to SMB2: bytes differ"
seen_on_wire "$T/wire-clear" || fail "the wire check did not see a delivery in clear"
echo "ok"
