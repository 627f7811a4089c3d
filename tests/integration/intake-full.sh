# A full disk under the mail intake (root: a 3 MB tmpfs as the spool): a
# message that does not fit is refused with 452 4.3.1 after its DATA (the
# copier tries again later), its draft is gone, the daemon lives on, and a
# message that fits is accepted and delivered.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

if [ "$(id -u)" != 0 ]; then
  echo "intake-full: needs root to mount a small tmpfs" >&2
  exit 1
fi
mkdir -p "$T/spool" "$T/out"
mount -t tmpfs -o size=3m,mode=0700 tmpfs "$T/spool"
on_exit "umount '$T/spool'"

port=$(free_port)
cat >"$T/scand.conf" <<CONF
[intake mfp]
type = smtp
listen = 127.0.0.1:$port
allow-from = 127.0.0.1
accept-to = *@scan.example

[output out]
type = folder
path = $T/out

[rule all]
source = mail
deliver = out
CONF
daemon_start "$T/scand.conf" --no-bus --queue-interval 500

head -c 4000000 /dev/urandom >"$T/big.bin"
"$SCAND" assemble -o "$T/small.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
if swaks --server "127.0.0.1:$port" --from a@copier.example --to x@scan.example \
  --attach-type application/pdf --attach-name big.pdf --attach "@$T/big.bin" >"$T/big.log" 2>&1; then
  fail "a message larger than the disk was accepted"
fi
assert_contains "$T/big.log" "452 4.3.1"
assert_contains "$T/daemon.log" "not stored"
[ -z "$(find "$T/spool/.intake" -name '.draft-*')" ] || fail "the draft of the refused message is left behind"

# A client that declares SIZE hears it at once (RFC 1870).
if /usr/bin/python3 - "$port" >"$T/size.log" 2>&1 <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("x")
code, text = s.mail("a@copier.example", ["SIZE=4000000"])
print(code, text.decode())
sys.exit(0 if code == 452 and b"4.3.1" in text else 1)
PY
then :; else cat "$T/size.log"; fail "MAIL with a SIZE larger than the room was not refused with 452 4.3.1"; fi

swaks --server "127.0.0.1:$port" --from a@copier.example --to x@scan.example \
  --attach-type application/pdf --attach-name small.pdf --attach "@$T/small.pdf" >"$T/small.log" 2>&1 ||
  { cat "$T/small.log"; fail "a message that fits was refused"; }
wait_for 30 test -f "$T/out/small.pdf" || { cat "$T/daemon.log"; fail "not delivered"; }
cmp "$T/small.pdf" "$T/out/small.pdf" || fail "small.pdf differs"
daemon_stop
echo ok
