#!/bin/bash
# The legacy SMB drop recipe (data/intake/smb-legacy.conf and
# smb-legacy-ntlmv1.conf) run by Debian's smbd as it ships, with only its
# addresses, port and paths replaced, in a private network and mount
# namespace (tests/lib/intake-drop.sh): the copier is a peer namespace
# (10.77.0.2) that speaks SMB1 (`smbclient -m NT1`) with NTLMv1; scand's
# daemon runs as its own user and delivers to a modern share (a second smbd
# with `server min protocol = SMB3`, which refuses the copier's NT1).
#  - a file the copier writes is delivered once, whole, and gone from the
#    drop; again after a restart of the daemon, no second copy;
#  - a writer that pauses with the file half written is waited for; one
#    killed midway, and an upload larger than the drop's file system, are
#    never delivered: they are set aside with the reason;
#  - not open to the world: an address not allowed is refused on connect;
#    an allowed address without its NTLMv1 file cannot use NTLMv1 (NTLMv2
#    works); wrong password, guest and anonymous are refused; the copier
#    cannot list the folder, read back what it wrote (files are 0240), make
#    a symbolic or hard link or change a mode (no unix extensions), climb
#    out with ../, follow a link planted in the folder, or touch scand's
#    .scand-* folders.
set -euo pipefail
. "$SCAND_SRCDIR/tests/lib/intake-drop.sh"
drop_enter "$@"
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
. "$SCAND_SRCDIR/tests/lib/netns.sh"
. "$SCAND_SRCDIR/tests/lib/smbd.sh"
RECIPE=$SCAND_SRCDIR/data/intake

# The accounts of the recipe: the copier's, and scand's (in the copier's group).
COPIER_PW='c0pier-Drop-7'
drop_user scan-copier 64050
drop_user scand 64051 '' scan-copier
# The scand box is 10.77.0.1 here; the copier is 10.77.0.2 behind a veth.
netns_peer copier 10.77.0.2 fe80::2
DROP=$T/drop
drop_folder "$DROP" scand scan-copier 3730 24m

# The destination: a modern share, SMB3 only.
SMBD_EXTRA='server min protocol = SMB3'
smbd_setup
smbd_start
install -o scand -m 0600 "$SMBD_PASSWORD_FILE" "$T/share-password"
OUT=$SMBD_SHARE/in

# The legacy instance: the recipe with this test's addresses, port and paths.
L=$T/legacy
mkdir -p "$L"/{lib/private,run,log,etc}
chmod 0700 "$L/lib/private"
LPORT=$(free_port)
sed -e 's|^\(  interfaces =\) 192\.0\.2\.10$|\1 10.77.0.1 127.0.0.1|' \
  -e 's|^\(  hosts allow =\) 192\.0\.2\.50$|\1 10.77.0.2 127.0.0.1|' \
  -e "s|^\(  smb ports =\) 445\$|\1 $LPORT|" \
  -e "s|/var/lib/samba-legacy|$L/lib|g; s|/run/samba-legacy|$L/run|g; s|/var/log/samba-legacy|$L/log|g" \
  -e "s|/etc/samba/|$L/etc/|g; s|/srv/scand/smb-drop|$DROP|" \
  "$RECIPE/smb-legacy.conf" >"$L/smb.conf"
! grep -v '^ *#' "$L/smb.conf" | grep -vF "$T" | grep -nE '192\.0\.2\.|/srv/|/var/|/run/|/etc/| 445$' ||
  fail "the recipe has a line this test does not know how to move"
# NTLMv1 for the copier's address only (10.77.0.2), not for 127.0.0.1.
cp "$RECIPE/smb-legacy-ntlmv1.conf" "$L/etc/smb-legacy-ntlmv1-10.77.0.2.conf"
testparm -s "$L/smb.conf" >"$L/testparm.out" 2>&1 || { cat "$L/testparm.out" >&2; fail "testparm refuses the recipe"; }
printf '%s\n%s\n' "$COPIER_PW" "$COPIER_PW" | smbpasswd -c "$L/smb.conf" -a -s scan-copier >"$L/smbpasswd.out" 2>&1 ||
  { cat "$L/smbpasswd.out" >&2; fail "smbpasswd"; }
setsid smbd --foreground --no-process-group --configfile="$L/smb.conf" --log-basename="$L/log" \
  </dev/null >"$L/smbd.out" 2>&1 &
LPID=$!
on_exit "kill -TERM -- -$LPID 2>/dev/null; wait $LPID 2>/dev/null; kill -KILL -- -$LPID 2>/dev/null"
legacy_up() { ss -ltnH "src 10.77.0.1:$LPORT" | grep -q . && ss -ltnH "src 127.0.0.1:$LPORT" | grep -q .; }
wait_for 20 legacy_up || { cat "$L/smbd.out" "$L"/log/* >&2 2>/dev/null; fail "the legacy smbd did not listen"; }

# Clients: the copier (SMB1 only, NTLMv1), and one that does NTLMv2 over SMB1.
mkdir -p "$T/client"
client_conf() {
  cat <<CONF
[global]
  client min protocol = NT1
  client max protocol = NT1
  client lanman auth = no
  lock directory = $T/client
  state directory = $T/client
  cache directory = $T/client
  private dir = $T/client
  $1
CONF
}
client_conf 'client ntlmv2 auth = no' >"$T/nt1-v1.conf"
client_conf 'client ntlmv2 auth = yes' >"$T/nt1-v2.conf"
# smb_as WHERE CONF USER%PASS ADDRESS COMMANDS: smbclient from the copier's
# namespace (WHERE = copier) or from here (WHERE = here); output in $T/smb.out.
smb_as() {
  local where=$1 conf=$2 user=$3 addr=$4 cmds=$5 run=()
  [ "$where" = here ] || run=(netns_run "$where")
  "${run[@]}" smbclient -s "$T/$conf" -p "$LPORT" -U "$user" "//$addr/scan" -c "$cmds" >"$T/smb.out" 2>&1
}
copier() { smb_as copier nt1-v1.conf "scan-copier%$COPIER_PW" 10.77.0.1 "$1"; }
# copier_fails COMMANDS [STATUS]: smbclient fails, or reports an error
# (some commands exit 0 after one).
copier_fails() {
  if copier "$1" && ! grep -q NT_STATUS_ "$T/smb.out"; then
    cat "$T/smb.out" >&2
    fail "the copier could: $1"
  fi
  [ -z "${2:-}" ] || grep -q "$2" "$T/smb.out" || { cat "$T/smb.out" >&2; fail "$1: expected $2"; }
}

# Documents: a real PDF of about 9 MB (a noise image), and a small one.
/usr/bin/python3 - "$T" <<'PY'
import random, sys
from PIL import Image
random.seed(12)
im = Image.frombytes("RGB", (3600, 2600), random.randbytes(3600 * 2600 * 3))
im.save(sys.argv[1] + "/noise.jpg", quality=92)
PY
"$SCAND" assemble -o "$T/doc.pdf" "$T/noise.jpg" >/dev/null
"$SCAND" assemble -o "$T/small.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
size=$(stat -c %s "$T/doc.pdf")
[ "$size" -gt 8000000 ] || fail "doc.pdf is only $size bytes"

cat >"$T/scand.conf" <<CONF
[watch copier]
path = $DROP
stable-for = 1s
incomplete-wait = 6s
poll-interval = 2s
after = delete

[output modern]
type = smb
url = $SMBD_URL/in
username = $SMBD_USER
password-file = $T/share-password
timeout = 20s

[rule all]
deliver = modern
CONF
drop_daemon_start "$T/scand.conf" --no-bus --queue-interval 500

# 1. The copier writes over SMB1 with NTLMv1; the modern share gets it once.
copier "put $T/doc.pdf scan-0001.pdf" || { cat "$T/smb.out" >&2; fail "the copier could not write"; }
wait_for 40 test -f "$OUT/scan-0001.pdf" || { cat "$T/daemon.log" >&2; smbd_log; fail "scan-0001.pdf not delivered"; }
cmp "$T/doc.pdf" "$OUT/scan-0001.pdf" || fail "scan-0001.pdf delivered different bytes"
wait_for 20 drop_settled "$DROP" "$OUT" 1 || { find "$DROP" "$OUT" >&2; fail "scan-0001.pdf not taken exactly once"; }
# The modern share refuses what the copier speaks.
! smbclient -s "$T/nt1-v2.conf" -p "$SMBD_PORT" -U "$SMBD_USER%$SMBD_PASSWORD" "//127.0.0.1/scans" \
  -c 'ls' >"$T/smb.out" 2>&1 || fail "the SMB3 share accepted SMB1"

# 2. Writers that stop with the file open (longer than stable-for): one
#    before its first byte (smbclient has created the file), one halfway.
slow_put() { # NAME BYTES-BEFORE-THE-PAUSE
  rm -f "$T/slow.fifo"
  mkfifo "$T/slow.fifo"
  (
    head -c "$2" "$T/doc.pdf"
    sleep 3
    stat -c %s "$DROP/$1" >"$T/$1.mid" 2>/dev/null || echo none >"$T/$1.mid"
    sleep 1
    tail -c +"$(($2 + 1))" "$T/doc.pdf"
  ) >"$T/slow.fifo" &
  local writer=$!
  copier "put $T/slow.fifo $1" || { cat "$T/smb.out" >&2; fail "the slow writer of $1 failed"; }
  wait "$writer"
}
slow_put early.pdf 0
wait_for 40 drop_settled "$DROP" "$OUT" 2 || { cat "$T/daemon.log" >&2; fail "early.pdf not taken"; }
# smbclient reads ahead about 5 MB (its writes in flight) before the first
# of them reaches the file: the pause comes after that.
slow_put half.pdf $((size - 1200000))
for f in early half; do
  wait_for 40 test -f "$OUT/$f.pdf" || { cat "$T/daemon.log" >&2; fail "$f.pdf not delivered"; }
  cmp "$T/doc.pdf" "$OUT/$f.pdf" || fail "$f.pdf was delivered before it was whole"
done
assert_eq 0 "$(cat "$T/early.pdf.mid")" "size of early.pdf during the pause"
mid=$(cat "$T/half.pdf.mid")
[ "$mid" -gt 0 ] && [ "$mid" -lt "$size" ] || fail "half.pdf was $mid bytes during the pause (of $size)"

# 3. A writer killed midway: never delivered, set aside with the reason.
mkfifo "$T/killed.fifo"
(
  head -c $((size - 1200000)) "$T/doc.pdf"
  sleep 30
) >"$T/killed.fifo" &
writer=$!
on_exit "kill $writer 2>/dev/null"
netns_spawn copier smbclient -s "$T/nt1-v1.conf" -p "$LPORT" -U "scan-copier%$COPIER_PW" //10.77.0.1/scan \
  -c "put $T/killed.fifo killed.pdf" >"$T/killed.out" 2>&1
client=$!
wait_for 20 sh -c "[ \$(stat -c %s '$DROP/killed.pdf' 2>/dev/null || echo 0) -gt 0 ]" ||
  { cat "$T/killed.out" >&2; fail "the killed writer never wrote"; }
kill -KILL "$client"
wait "$client" 2>/dev/null || true
kill "$writer" 2>/dev/null || true
wait_for 30 test -f "$DROP/.scand-error/killed.pdf.reason.txt" || { cat "$T/daemon.log" >&2; fail "killed.pdf not set aside"; }
assert_contains "$DROP/.scand-error/killed.pdf.reason.txt" "%%EOF"

# 4. More than the drop's file system holds (24 MB): the copier is told the
#    disk is full; the piece written is never delivered.
{ printf '%%PDF-1.4\n'; head -c 32000000 /dev/zero; } >"$T/huge.pdf"
copier_fails "put $T/huge.pdf huge.pdf"
grep -q 'DISK_FULL' "$T/smb.out" || { cat "$T/smb.out" >&2; fail "huge.pdf: no disk-full error"; }
# (Its reason file may be missing: the drop's file system is full.)
wait_for 30 test -f "$DROP/.scand-error/huge.pdf" || { cat "$T/daemon.log" >&2; fail "huge.pdf not set aside"; }
grep -q 'huge.pdf: incomplete or damaged: PDF has no %%EOF' "$T/daemon.log" || fail "no reason logged for huge.pdf"
[ ! -e "$OUT/killed.pdf" ] && [ ! -e "$OUT/huge.pdf" ] || fail "an incomplete upload was delivered"
rm -f "$DROP/.scand-error/huge.pdf"*

# 5. Who may connect, and how.
# This host's own address is not the copier's: refused on connect.
! smb_as here nt1-v2.conf "scan-copier%$COPIER_PW" 10.77.0.1 "put $T/small.pdf other-host.pdf" ||
  fail "an address outside hosts allow could write"
# An allowed address without its NTLMv1 file: NTLMv1 refused, NTLMv2 works.
! smb_as here nt1-v1.conf "scan-copier%$COPIER_PW" 127.0.0.1 "put $T/small.pdf v1.pdf" ||
  fail "NTLMv1 accepted from an address that has no NTLMv1 file"
grep -q LOGON_FAILURE "$T/smb.out" || { cat "$T/smb.out" >&2; fail "NTLMv1 from 127.0.0.1: not a logon failure"; }
smb_as here nt1-v2.conf "scan-copier%$COPIER_PW" 127.0.0.1 "put $T/small.pdf v2.pdf" ||
  { cat "$T/smb.out" >&2; fail "NTLMv2 from an allowed address was refused"; }
wait_for 40 test -f "$OUT/v2.pdf" || fail "v2.pdf not delivered"
# Wrong password, guest, anonymous, another account (root has no SMB password).
! smb_as copier nt1-v1.conf "scan-copier%wrong" 10.77.0.1 "put $T/small.pdf w.pdf" || fail "a wrong password was accepted"
! smb_as copier nt1-v1.conf "guest%" 10.77.0.1 "put $T/small.pdf g.pdf" || fail "guest was accepted"
! netns_run copier smbclient -s "$T/nt1-v1.conf" -p "$LPORT" -N //10.77.0.1/scan -c "put $T/small.pdf a.pdf" \
  >"$T/smb.out" 2>&1 || fail "anonymous was accepted"
! smb_as copier nt1-v1.conf "root%$COPIER_PW" 10.77.0.1 "put $T/small.pdf r.pdf" || fail "root was accepted"

# 6. What the copier can do in the folder. A hidden name (scand leaves
#    those alone) stays for the checks: 0240, owned by the copier.
copier "put $T/small.pdf .mine.pdf" || { cat "$T/smb.out" >&2; fail "put .mine.pdf"; }
assert_eq "240 scan-copier" "$(stat -c '%a %U' "$DROP/.mine.pdf")" "mode and owner of an upload"
copier_fails "get .mine.pdf $T/readback.pdf" ACCESS_DENIED
[ ! -s "$T/readback.pdf" ] || fail "the copier read its upload back"
copier_fails "ls" ACCESS_DENIED
# SMB1 unix extensions are off: no links, no chmod.
copier_fails "symlink /etc/shadow link.pdf"
copier_fails "hardlink .mine.pdf hard.pdf"
copier_fails "chmod 0644 .mine.pdf"
assert_eq 240 "$(stat -c %a "$DROP/.mine.pdf")" "mode after chmod"
[ ! -L "$DROP/link.pdf" ] && [ ! -e "$DROP/hard.pdf" ] || fail "the copier made a link"
# Names that climb out stay inside the share (smbclient sends them as
# "\.escape.pdf"; smbd refuses a ".." component itself).
copier "put $T/small.pdf ../.escape.pdf" || true
copier "put $T/small.pdf ..\\..\\.escape2.pdf" || true
[ ! -e "$T/.escape.pdf" ] && [ ! -e "$T/.escape2.pdf" ] && [ ! -e /.escape2.pdf ] ||
  fail "a name climbed out of the share"
# A link planted in the folder (by someone else) is not followed by smbd,
# to a file anyone may read.
echo "secret outside the share" >"$T/outside.txt"
chmod 0644 "$T/outside.txt"
ln -s "$T/outside.txt" "$DROP/planted"
copier_fails "get planted $T/planted.out"
[ ! -s "$T/planted.out" ] || fail "smbd followed a planted link"
# scand's folders are vetoed for the copier.
copier_fails "mkdir .scand-done"
copier_fails "put $T/small.pdf .scand-error/x.pdf"
copier_fails "rename .mine.pdf .scand-error"
[ -d "$DROP/.scand-error" ] && [ "$(stat -c %U "$DROP/.scand-error")" = scand ] || fail ".scand-error was touched"
wait_for 20 grep -q 'planted.*symbolic link' "$T/daemon.log" || { cat "$T/daemon.log" >&2; fail "scand did not report the planted link"; }
rm -f "$DROP/.mine.pdf" "$DROP/planted" "$DROP/.escape.pdf" "$DROP/.escape2.pdf"

# 7. Exactly once, also across a restart of the daemon.
daemon_stop
DAEMON_STARTS=2 drop_daemon_start "$T/scand.conf" --no-bus --queue-interval 500
sleep 3
drop_settled "$DROP" "$OUT" 4 || { find "$DROP" "$OUT" >&2; fail "the share does not hold exactly scan-0001, early, half and v2"; }
[ -z "$(find "$DROP/.scand-error" -name '*.tmp')" ] || fail "a temporary reason file was left behind"
daemon_stop
echo ok
