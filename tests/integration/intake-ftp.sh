#!/bin/bash
# The FTP drop recipe (data/intake/vsftpd-scan.conf and vsftpd-scan.pam) run
# by Debian's vsftpd as it ships, with only its address and paths replaced,
# in a private network and mount namespace (tests/lib/intake-drop.sh): the
# copier is a peer namespace (10.77.0.2) uploading with `curl -T
# ftp://…` (passive mode); scand's daemon runs as its own user and delivers
# into a folder.
#  - a file uploaded is delivered once, whole, and gone from the drop;
#    a slow upload is waited for; after a restart of the daemon, no second
#    copy; the delivered copy is readable by scand's group (0640) although
#    the upload is 0240;
#  - an upload cut off (curl killed midway) and one larger than the drop's
#    file system are never delivered; scand killed just after uploads
#    delivers each once after its restart; odd names (Latin-1 bytes, ':'
#    and '\') arrive under safe names;
#  - not open to the world: an address outside hosts.allow is refused;
#    anonymous, a wrong password and an account not listed are refused; the
#    copier cannot download, list (an empty listing), delete, make folders,
#    SITE SYMLINK or CHMOD, append, use active mode, or climb out of its
#    folder (../, absolute names, a planted link).
set -euo pipefail
. "$SCAND_SRCDIR/tests/lib/intake-drop.sh"
drop_enter "$@"
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
. "$SCAND_SRCDIR/tests/lib/netns.sh"
RECIPE=$SCAND_SRCDIR/data/intake

FTP_PW='Ftp-c0pier-9'
drop_user scan-ftp 64060 "$FTP_PW"
drop_user scand 64061 '' scan-ftp
netns_peer copier 10.77.0.2 fe80::2
mkdir -p "$T/ftp-drop"
chmod 0755 "$T" "$T/ftp-drop"
DROP=$T/ftp-drop/scan-ftp
drop_folder "$DROP" scand scan-ftp 3730 8m
drop_home scan-ftp "$DROP"
OUT=$T/out
install -d -o scand -g scand -m 0750 "$OUT"

# vsftpd's world: the recipe's PAM service and user list, hosts.allow/deny
# letting only the copier in (tcp_wrappers=YES), an empty secure_chroot_dir.
F=$T/vsftpd
mkdir -p "$F/empty" "$F/pam.d"
echo scan-ftp >"$F/users"
cp -a /etc/pam.d/. "$F/pam.d/"
sed "s|/etc/vsftpd.scan-users|$F/users|" "$RECIPE/vsftpd-scan.pam" >"$F/pam.d/vsftpd-scan"
mount --bind "$F/pam.d" /etc/pam.d
for f in hosts.allow hosts.deny; do
  cp /etc/$f "$F/$f"
  mount --bind "$F/$f" /etc/$f
done
echo 'vsftpd: 10.77.0.2' >>"$F/hosts.allow"
echo 'vsftpd: ALL' >>"$F/hosts.deny"
sed -e 's|^listen_address=192\.0\.2\.10$|listen_address=10.77.0.1|' \
  -e "s|^userlist_file=/etc/vsftpd.scan-users\$|userlist_file=$F/users|" \
  -e "s|^secure_chroot_dir=.*|secure_chroot_dir=$F/empty|" \
  -e "s|^vsftpd_log_file=.*|vsftpd_log_file=$F/vsftpd.log|" \
  "$RECIPE/vsftpd-scan.conf" >"$F/vsftpd.conf"
! grep -v '^ *#' "$F/vsftpd.conf" | grep -vF "$T" | grep -nE '192\.0\.2\.|/etc/|/var/' ||
  fail "the recipe has a line this test does not know how to move"
grep -q '^tcp_wrappers=YES$' "$F/vsftpd.conf" || fail "the recipe does not use tcp_wrappers"
setsid /usr/sbin/vsftpd "$F/vsftpd.conf" </dev/null >"$F/vsftpd.out" 2>&1 &
VPID=$!
on_exit "kill -TERM -- -$VPID 2>/dev/null; wait $VPID 2>/dev/null"
wait_for 20 sh -c 'ss -ltnH "src 10.77.0.1:21" | grep -q .' || { cat "$F/vsftpd.out" >&2; fail "vsftpd did not listen"; }

URL=ftp://10.77.0.1
# ftp_as WHERE CURL-ARGS…: curl from the copier's namespace (or here) as the
# copier's account unless the arguments name another; output in $T/ftp.out.
ftp_as() {
  local where=$1 run=()
  shift
  [ "$where" = here ] || run=(netns_run "$where")
  "${run[@]}" curl -sS --max-time 60 --ftp-pasv "$@" >"$T/ftp.out" 2>&1
}
copier() { ftp_as copier --user "scan-ftp:$FTP_PW" "$@"; }
copier_fails() {
  ! copier "$@" || { cat "$T/ftp.out" >&2; fail "the copier could: $*"; }
}

/usr/bin/python3 - "$T" <<'PY'
import random, sys
from PIL import Image
random.seed(13)
im = Image.frombytes("RGB", (900, 700), random.randbytes(900 * 700 * 3))
im.save(sys.argv[1] + "/noise.jpg", quality=92)
PY
"$SCAND" assemble -o "$T/doc.pdf" "$T/noise.jpg" >/dev/null
"$SCAND" assemble -o "$T/small.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
[ "$(stat -c %s "$T/doc.pdf")" -gt 600000 ] || fail "doc.pdf is too small"

cat >"$T/scand.conf" <<CONF
[watch ftp-copier]
path = $DROP
stable-for = 1s
incomplete-wait = 6s
poll-interval = 2s
after = delete

[output desk]
type = folder
path = $OUT

[rule all]
deliver = desk
CONF
drop_daemon_start "$T/scand.conf" --no-bus --queue-interval 500

# 1. An upload into the root of the account: delivered once, whole.
copier -T "$T/doc.pdf" "$URL/scan-0001.pdf" || { cat "$T/ftp.out" "$F/vsftpd.log" "$F/vsftpd.out" >&2; fail "upload failed"; }
wait_for 40 test -f "$OUT/scan-0001.pdf" || { cat "$T/daemon.log" >&2; fail "scan-0001.pdf not delivered"; }
cmp "$T/doc.pdf" "$OUT/scan-0001.pdf" || fail "scan-0001.pdf delivered different bytes"
wait_for 20 drop_settled "$DROP" "$OUT" 1 || { find "$DROP" "$OUT" >&2; fail "scan-0001.pdf not taken exactly once"; }
assert_eq "640 scand" "$(stat -c '%a %U' "$OUT/scan-0001.pdf")" "mode and owner of the delivered copy"

# 2. A slow upload (about 8 s) is waited for and delivered whole.
copier --limit-rate 180k -T "$T/doc.pdf" "$URL/slow.pdf" || { cat "$T/ftp.out" >&2; fail "slow upload failed"; }
wait_for 40 test -f "$OUT/slow.pdf" || fail "slow.pdf not delivered"
cmp "$T/doc.pdf" "$OUT/slow.pdf" || fail "slow.pdf was delivered before it was whole"

# 3. curl killed midway through an upload: never delivered.
netns_spawn copier curl -sS --ftp-pasv --limit-rate 60k --user "scan-ftp:$FTP_PW" -T "$T/doc.pdf" \
  "$URL/cut.pdf" >"$T/cut.out" 2>&1
client=$!
on_exit "kill -9 $client 2>/dev/null"
wait_for 20 sh -c "[ \$(stat -c %s '$DROP/cut.pdf' 2>/dev/null || echo 0) -gt 150000 ]" ||
  { cat "$T/cut.out" >&2; fail "the cut upload never started"; }
kill -KILL "$client"
wait "$client" 2>/dev/null || true

# 4. More than the drop's file system holds (8 MB): refused midway; nothing
#    delivered.
{ printf '%%PDF-1.4\n'; head -c 12000000 /dev/zero; } >"$T/huge.pdf"
copier_fails -T "$T/huge.pdf" "$URL/huge.pdf"
# What is left of both is set aside (or removed by vsftpd), never delivered.
gone_or_set_aside() { [ ! -e "$DROP/$1" ] && { [ ! -e "$DROP/.scand-error/$1" ] || [ -e "$DROP/.scand-error/$1.reason.txt" ]; }; }
wait_for 30 gone_or_set_aside cut.pdf || { cat "$T/daemon.log" >&2; fail "cut.pdf neither removed nor set aside"; }
wait_for 30 gone_or_set_aside huge.pdf || { cat "$T/daemon.log" >&2; fail "huge.pdf neither removed nor set aside"; }
[ ! -e "$OUT/cut.pdf" ] && [ ! -e "$OUT/huge.pdf" ] || fail "an incomplete upload was delivered"
rm -f "$DROP/.scand-error/huge.pdf"

# 5. Who may log in.
! ftp_as here --user "scan-ftp:$FTP_PW" -T "$T/small.pdf" "$URL/here.pdf" || fail "an address outside hosts.allow could upload"
! ftp_as copier --user "anonymous:a@b" -T "$T/small.pdf" "$URL/anon.pdf" || fail "anonymous could upload"
! ftp_as copier --user "scan-ftp:wrong" -T "$T/small.pdf" "$URL/wrong.pdf" || fail "a wrong password was accepted"
! ftp_as copier --user "scand:$FTP_PW" -T "$T/small.pdf" "$URL/scand.pdf" || fail "an account not listed was accepted"
grep -q 530 "$T/ftp.out" || { cat "$T/ftp.out" >&2; fail "an account not listed: no 530"; }

# 6. What the copier can do. A hidden name (scand leaves those alone) stays
#    for the checks: 0240, owned by the copier.
copier -T "$T/small.pdf" "$URL/.mine.pdf" || { cat "$T/ftp.out" >&2; fail "upload .mine.pdf"; }
assert_eq "240 scan-ftp" "$(stat -c '%a %U' "$DROP/.mine.pdf")" "mode and owner of an upload"
copier_fails -o "$T/readback.pdf" "$URL/.mine.pdf"
[ ! -s "$T/readback.pdf" ] || fail "the copier downloaded its upload"
copier "$URL/" || { cat "$T/ftp.out" >&2; fail "LIST failed"; }
[ ! -s "$T/ftp.out" ] || { cat "$T/ftp.out" >&2; fail "the listing shows files"; }
copier --list-only "$URL/" && [ ! -s "$T/ftp.out" ] || { cat "$T/ftp.out" >&2; fail "NLST shows files"; }
# Commands that need no data connection, refused (and without effect):
for q in "DELE .mine.pdf" "MKD sub" "SITE SYMLINK .mine.pdf link.pdf" "SITE CHMOD 0644 .mine.pdf"; do
  copier_fails -Q "$q" "$URL/"
done
# Append (APPE) to an upload.
copier_fails -a -T "$T/small.pdf" "$URL/.mine.pdf"
assert_eq "$(stat -c %s "$T/small.pdf")" "$(stat -c %s "$DROP/.mine.pdf")" "size of .mine.pdf after APPE"
assert_eq 240 "$(stat -c %a "$DROP/.mine.pdf")" "mode after SITE CHMOD"
[ ! -e "$DROP/link.pdf" ] && [ ! -e "$DROP/sub" ] && [ -e "$DROP/.mine.pdf" ] || fail "a refused command had an effect"
# scand's folders: the sticky bit and their modes keep the copier out.
copier_fails -Q "RNFR .mine.pdf" -Q "RNTO .scand-error/x.pdf" "$URL/"
copier_fails -T "$T/small.pdf" "$URL/.scand-error/x.pdf"
[ "$(stat -c %U "$DROP/.scand-error")" = scand ] || fail ".scand-error was touched"
# Active mode (PORT) is off.
copier_fails --ftp-port 10.77.0.2 -T "$T/small.pdf" "$URL/active.pdf"
# Names that climb out stay inside the folder (the chroot).
echo "outside the drop" >"$T/outside.txt"
chmod 0644 "$T/outside.txt"
ln -s "$T/outside.txt" "$DROP/.planted"
ln -s ../../outside.txt "$DROP/.planted-rel"
copier --path-as-is --ftp-method nocwd -T "$T/small.pdf" "$URL/../../../escape.pdf" || true
copier_fails --ftp-method nocwd -T "$T/small.pdf" "$URL/%2Fetc%2Fpasswd"
copier -T "$T/small.pdf" "$URL/.planted" || true
copier -T "$T/small.pdf" "$URL/.planted-rel" || true
assert_eq "outside the drop" "$(cat "$T/outside.txt")" "the file a planted link points to"
[ ! -e "$T/escape.pdf" ] && [ ! -e "$T/ftp-drop/escape.pdf" ] || fail "a name climbed out of the folder"
grep -q "^scan-ftp:" /etc/passwd && ! grep -q PDF /etc/passwd || fail "/etc/passwd was written"
rm -f "$DROP/.mine.pdf" "$DROP/.planted" "$DROP/.planted-rel"

# 7. Exactly once, also across a restart. escape.pdf (sent as
#    "../../../escape.pdf") and outside.txt (the file the relative planted
#    link names, made in the folder: the chroot's root) are uploads that
#    landed inside the folder like any other.
wait_for 30 drop_settled "$DROP" "$OUT" 4 || { find "$DROP" "$OUT" >&2; fail "not 4 deliveries"; }
daemon_stop
DAEMON_STARTS=2 drop_daemon_start "$T/scand.conf" --no-bus --queue-interval 500
sleep 3
drop_settled "$DROP" "$OUT" 4 || { find "$DROP" "$OUT" >&2; fail "a second copy after the restart"; }
for f in scan-0001 slow escape outside; do
  [ -f "$OUT/$f.pdf" ] || { find "$OUT" >&2; fail "$f.pdf is not among the deliveries"; }
done

# 8. Names as copiers send them: a Latin-1 byte, characters Windows shares
#    refuse. Delivered under safe names (UTF-8, no ':' or '\').
copier -T "$T/small.pdf" "$URL/Rechnung%E4.pdf" || { cat "$T/ftp.out" >&2; fail "upload of a Latin-1 name"; }
copier -T "$T/small.pdf" "$URL/a%3Ab%5Cc.pdf" || { cat "$T/ftp.out" >&2; fail "upload of a:b\\c.pdf"; }
wait_for 30 drop_settled "$DROP" "$OUT" 6 || { find "$DROP" "$OUT" >&2; fail "the odd names were not delivered"; }
/usr/bin/python3 - "$OUT" <<'PY' || fail "a delivered name is not safe"
import os, sys
for n in os.listdir(os.fsencode(sys.argv[1])):
    n.decode("utf-8")
    assert b":" not in n and b"\\" not in n, n
PY

# 9. scand killed (SIGKILL) just after an upload, at three instants: each
#    file is delivered exactly once after the restart.
for i in 1 2 3; do
  copier -T "$T/small.pdf" "$URL/kill-$i.pdf" || { cat "$T/ftp.out" >&2; fail "upload kill-$i.pdf"; }
  sleep "0.$((i * 3))"
  daemon_kill
  DAEMON_STARTS=$((2 + i)) drop_daemon_start "$T/scand.conf" --no-bus --queue-interval 500
done
wait_for 40 drop_settled "$DROP" "$OUT" 9 || { find "$DROP" "$OUT" >&2; cat "$T/daemon.log" >&2; fail "not exactly 9 deliveries after the kills"; }
for i in 1 2 3; do
  cmp "$T/small.pdf" "$OUT/kill-$i.pdf" || fail "kill-$i.pdf not delivered whole"
done
sleep 3
drop_settled "$DROP" "$OUT" 9 || { find "$OUT" >&2; fail "a second copy after the kills"; }
daemon_stop
echo ok
