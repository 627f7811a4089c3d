# The SMB output's failures against a real smbd, each told in one line that
# names the destination and the cause, never the password: a wrong password, a
# missing share and a share the user may not use fail for good (exit 1); a
# stopped or silent server, a connection lost in mid-upload and a full share
# are retried (exit 75) and the job is delivered exactly once when smbd (or
# room) is back (scand resume). `scand config check` explains bad keys.
# Needs root (tmpfs mount for the full share; CI runs as root).
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/smbd.sh"
[ "$(id -u)" -eq 0 ] || fail "this test maps the SMB user to root and must run as root"

smbd_setup
mkdir -p "$SMBD_DIR/locked" "$SMBD_DIR/tiny"
mount -t tmpfs -o size=1m tmpfs "$SMBD_DIR/tiny"
on_exit "umount -l '$SMBD_DIR/tiny'"
SMBD_SHARES_EXTRA="[locked]
  path = $SMBD_DIR/locked
  read only = no
  valid users = nobody
[tiny]
  path = $SMBD_DIR/tiny
  read only = no"
smbd_start

{ printf '%%PDF-1.4\n'; head -c 200000 /dev/urandom; printf '\n%%%%EOF\n'; } >"$T/doc.pdf"
(umask 077; echo 'Wr0ng-pass' >"$T/wrong-password")
cp "$SMBD_PASSWORD_FILE" "$T/open-password"
chmod 0644 "$T/open-password"

cat >"$T/scand.conf" <<CONF
[output share]
type = smb
url = $SMBD_URL
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
timeout = 10s

[output badpw]
type = smb
url = $SMBD_URL
username = $SMBD_USER
password-file = $T/wrong-password

[output noshare]
type = smb
url = smb://127.0.0.1:$SMBD_PORT/nosuch/dir
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE

[output locked]
type = smb
url = smb://127.0.0.1:$SMBD_PORT/locked
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE

[output tiny]
type = smb
url = smb://127.0.0.1:$SMBD_PORT/tiny
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
CONF

# expect_status STATUS OUTPUT TEXT…: delivers to OUTPUT, checks the exit status
# and that stderr names the output and each TEXT on one line, without the
# password.
expect_status() {
  local want=$1 out=$2 rc line
  shift 2
  set +e
  "$SCAND" deliver --config "$T/scand.conf" "$T/doc.pdf" --to "$out" --name doc.pdf >"$T/stdout" 2>"$T/err"
  rc=$?
  set -e
  [ "$rc" -eq "$want" ] || { cat "$T/err" >&2; fail "$out: exit $rc, expected $want"; }
  line=$(grep -F "output $out (smb://127.0.0.1:$SMBD_PORT/" "$T/err" | head -n 1) \
    || { cat "$T/err" >&2; fail "$out: no line names the destination"; }
  echo "$out (exit $rc): $line"
  local text
  for text in "$@"; do
    [[ $line == *"$text"* ]] || { cat "$T/err" >&2; fail "$out: '$text' not on the line naming the destination"; }
  done
  ! grep -qF -e "$SMBD_PASSWORD" -e 'Wr0ng-pass' "$T/err" "$T/stdout" || fail "$out: a password was printed"
}

# Failed jobs stay in the spool for `scand retry`; keep them apart from the
# retry case below, whose `scand resume` must find nothing else to do.
SPOOL_OK=$SCAND_SPOOL
export SCAND_SPOOL=$T/spool-failed

expect_status 1 badpw "smb://127.0.0.1:$SMBD_PORT/scans)" "wrong user name or password" "'$SMBD_USER'"
expect_status 1 noshare "share 'nosuch' does not exist"
expect_status 1 locked "access to share 'locked' denied"
[ "$(count_files "$SMBD_DIR/locked")" -eq 0 ] || fail "something was written to the locked share"

# A password file others can read is refused before anything is sent.
sed -i "s|^password-file = $SMBD_PASSWORD_FILE\$|password-file = $T/open-password|" "$T/scand.conf"
set +e
"$SCAND" deliver --config "$T/scand.conf" "$T/doc.pdf" --to share --name doc.pdf >"$T/stdout" 2>"$T/err"
rc=$?
set -e
[ $rc -ne 0 ] && [ $rc -ne 75 ] || { cat "$T/err" >&2; fail "world-readable password file: exit $rc"; }
assert_contains "$T/err" "$T/open-password"
! grep -qF "$SMBD_PASSWORD" "$T/err" || fail "the password was printed"
sed -i "s|^password-file = $T/open-password\$|password-file = $SMBD_PASSWORD_FILE|" "$T/scand.conf"
[ "$(count_files "$SMBD_SHARE")" -eq 0 ] || { find "$SMBD_SHARE" >&2; fail "a failed delivery left a file"; }

# A server that accepts the connection and never answers: the request times
# out after `timeout` and the delivery is retried.
SILENT_PORT=$(free_port)
python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
held = []
while True:
    held.append(s.accept()[0])
' "$SILENT_PORT" &
silent_pid=$!
on_exit "kill $silent_pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$SILENT_PORT") 2>/dev/null && break; sleep 0.1; done
cat >>"$T/scand.conf" <<CONF

[output silent]
type = smb
url = smb://127.0.0.1:$SILENT_PORT/scans
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
timeout = 2s
CONF
set +e
"$SCAND" deliver --config "$T/scand.conf" "$T/doc.pdf" --to silent --name doc.pdf >"$T/stdout" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 75 ] || { cat "$T/err" >&2; fail "silent server: exit $rc, expected 75"; }
assert_contains "$T/err" "output silent (smb://127.0.0.1:$SILENT_PORT/scans): server 127.0.0.1:$SILENT_PORT not reachable (Connection timed out) — will retry"
kill $silent_pid 2>/dev/null || true

export SCAND_SPOOL=$SPOOL_OK

# The server is down: retry (75), queued with the reason.
smbd_stop
expect_status 75 share "server 127.0.0.1:$SMBD_PORT not reachable" "will retry"
"$SCAND" jobs --config "$T/scand.conf" >"$T/jobs" 2>&1 || true
assert_contains "$T/jobs" "not reachable"

# Back up: resume delivers it, once; a second resume changes nothing.
smbd_start
"$SCAND" resume --config "$T/scand.conf" 2>"$T/err" || { cat "$T/err" >&2; "$SCAND" jobs --config "$T/scand.conf" >&2; fail "resume after smbd came back"; }
cmp "$T/doc.pdf" "$SMBD_SHARE/doc.pdf" || fail "delivered after the server came back"
"$SCAND" resume --config "$T/scand.conf" 2>/dev/null || true
assert_eq 1 "$(count_files "$SMBD_SHARE")" "files on the share after two resumes"

# The share is full: retry, and the partial upload is removed at once (it is
# what filled the share); with room again, resume delivers it.
{ printf '%%PDF-1.4\n'; head -c 3000000 /dev/urandom; printf '\n%%%%EOF\n'; } >"$T/three-mb.pdf"
set +e
"$SCAND" deliver --config "$T/scand.conf" "$T/three-mb.pdf" --to tiny --name full.pdf >"$T/stdout" 2>"$T/err"
rc=$?
set -e
echo "tiny (exit $rc): $(head -n 1 "$T/err")"
[ $rc -eq 75 ] || { cat "$T/err" >&2; fail "full share: exit $rc, expected 75"; }
assert_contains "$T/err" "output tiny (smb://127.0.0.1:$SMBD_PORT/tiny): share 'tiny' is full"
assert_eq 0 "$(count_files "$SMBD_DIR/tiny")" "files on the full share"
mount -o remount,size=8m "$SMBD_DIR/tiny"
"$SCAND" resume --config "$T/scand.conf" 2>"$T/err" || { cat "$T/err" >&2; fail "resume after making room"; }
cmp "$T/three-mb.pdf" "$SMBD_DIR/tiny/full.pdf" || fail "full.pdf after making room"
assert_eq 1 "$(count_files "$SMBD_DIR/tiny")" "files on the share with room"

# The server goes away in the middle of a large upload: retry, then one
# complete file and no temporary file once it is back.
{ printf '%%PDF-1.4\n'; head -c 60000000 /dev/urandom; printf '\n%%%%EOF\n'; } >"$T/big.pdf"
"$SCAND" deliver --config "$T/scand.conf" "$T/big.pdf" --to share --name big.pdf >"$T/stdout" 2>"$T/err" &
deliver_pid=$!
for ((i = 0; i < 300; i++)); do
  [ -n "$(find "$SMBD_SHARE" -name '.scand-*' -size +1M 2>/dev/null)" ] && break
  sleep 0.05
done
smbd_stop
set +e
wait $deliver_pid
rc=$?
set -e
echo "upload interrupted by smbd_stop: exit $rc: $(head -n 1 "$T/err")"
if [ $rc -eq 75 ]; then
  assert_contains "$T/err" "output share (smb://127.0.0.1:$SMBD_PORT/scans)"
  assert_contains "$T/err" "will retry"
  smbd_start
  "$SCAND" resume --config "$T/scand.conf" 2>"$T/err" || { cat "$T/err" >&2; fail "resume after the interrupted upload"; }
else
  # The upload won the race against smbd_stop; it must then be complete.
  [ $rc -eq 0 ] || { cat "$T/err" >&2; fail "interrupted upload: exit $rc"; }
  smbd_start
fi
cmp "$T/big.pdf" "$SMBD_SHARE/big.pdf" || fail "big.pdf after the interrupted upload"
[ -z "$(find "$SMBD_SHARE" -name '.scand-*')" ] || { find "$SMBD_SHARE" >&2; fail "temporary file left behind"; }
assert_eq 2 "$(count_files "$SMBD_SHARE")" "files on the share"

# scand config check names file, line and key of each SMB problem.
cat >"$T/bad.conf" <<CONF
[output a]
type = smb
url = http://nas/scans

[output b]
type = smb
url = smb://nas
username = scanner

[output c]
type = smb
url = smb://scanner:secret@nas/scans
CONF
set +e
"$SCAND" config check --config "$T/bad.conf" >"$T/check" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || { cat "$T/check" >&2; fail "config check accepted bad SMB outputs"; }
assert_contains "$T/check" "bad.conf:3: [output a] url"
assert_contains "$T/check" "bad.conf:7: [output b] url"
assert_contains "$T/check" "password-file"
assert_contains "$T/check" "bad.conf:12: [output c] url"
! grep -qF secret "$T/check" || fail "config check printed the password of a URL"
echo "ok"
