# The SMB output against a real smbd (tests/lib/smbd.sh): the bytes on the
# share equal the PDF; missing directories of the URL and of the name are
# created; an existing name gets -2, -3 before the extension; characters SMB
# gives a meaning to become '_'; no temporary
# file is left behind; a retried delivery of the same job writes no second copy.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/smbd.sh"
[ "$(id -u)" -eq 0 ] || fail "this test maps the SMB user to root and must run as root"

smbd_setup
smbd_start

{ printf '%%PDF-1.4\n'; head -c 1500000 /dev/urandom; printf '\n%%%%EOF\n'; } >"$T/doc.pdf"
{ printf '%%PDF-1.4\n'; head -c 70000 /dev/urandom; printf '\n%%%%EOF\n'; } >"$T/other.pdf"

cat >"$T/scand.conf" <<CONF
[output share]
type = smb
url = $SMBD_URL/office/in
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
timeout = 20s
CONF

deliver() {
  "$SCAND" deliver --config "$T/scand.conf" "$@" >"$T/stdout" 2>"$T/err" \
    || { cat "$T/err" >&2; smbd_log; fail "deliver $*"; }
}

# Plain delivery; the URL's own directories ("office/in") do not exist yet.
deliver "$T/doc.pdf" --to share --name scan.pdf
[ -f "$SMBD_SHARE/office/in/scan.pdf" ] || { find "$SMBD_SHARE" >&2; fail "scan.pdf not on the share"; }
cmp "$T/doc.pdf" "$SMBD_SHARE/office/in/scan.pdf" || fail "bytes on the share differ from the PDF"

# Nested directories from the name.
deliver "$T/other.pdf" --to share --name '2026-11-28/desk/office-0042.pdf'
cmp "$T/other.pdf" "$SMBD_SHARE/office/in/2026-11-28/desk/office-0042.pdf" || fail "nested delivery"

# Collisions: scan.pdf exists → scan-2.pdf, then scan-3.pdf; the first is untouched.
deliver "$T/other.pdf" --to share --name scan.pdf
deliver "$T/other.pdf" --to share --name scan.pdf
cmp "$T/doc.pdf" "$SMBD_SHARE/office/in/scan.pdf" || fail "an existing file was overwritten"
cmp "$T/other.pdf" "$SMBD_SHARE/office/in/scan-2.pdf" || fail "scan-2.pdf"
cmp "$T/other.pdf" "$SMBD_SHARE/office/in/scan-3.pdf" || fail "scan-3.pdf"
assert_eq "$SMBD_URL/office/in/scan-3.pdf" "$(cat "$T/stdout")" "printed destination"
# A name without an extension gets the suffix at the end.
deliver "$T/other.pdf" --to share --name noext
deliver "$T/other.pdf" --to share --name noext
[ -f "$SMBD_SHARE/office/in/noext" ] && [ -f "$SMBD_SHARE/office/in/noext-2" ] || { find "$SMBD_SHARE" >&2; fail "noext-2"; }

# A name with spaces, '%' and non-ASCII reaches the share as written.
deliver "$T/other.pdf" --to share --name 'Rechnung 100% März.pdf'
cmp "$T/other.pdf" "$SMBD_SHARE/office/in/Rechnung 100% März.pdf" || { find "$SMBD_SHARE" >&2; fail "special name"; }

# Over IPv6 loopback (smbd listens on lo: 127.0.0.1 and ::1).
cat >>"$T/scand.conf" <<CONF

[output six]
type = smb
url = smb://[::1]:$SMBD_PORT/scans/six
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
CONF
deliver "$T/other.pdf" --to six --name v6.pdf
cmp "$T/other.pdf" "$SMBD_SHARE/six/v6.pdf" || { find "$SMBD_SHARE" >&2; fail "delivery over IPv6"; }

# ':' would name an alternate data stream on SMB: it becomes '_'.
deliver "$T/other.pdf" --to share --name '10:30 scan.pdf'
cmp "$T/other.pdf" "$SMBD_SHARE/office/in/10_30 scan.pdf" || { find "$SMBD_SHARE" >&2; fail "name with ':'"; }

# Ad hoc: --to smb://… with the credentials of no config is refused by the
# server (no guest access), failed for good with a message naming it.
set +e
"$SCAND" deliver "$T/other.pdf" --to "$SMBD_URL" --name adhoc.pdf >"$T/stdout" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 1 ] || { cat "$T/err" >&2; fail "anonymous ad-hoc delivery: exit $rc, expected 1"; }
assert_contains "$T/err" "($SMBD_URL)"
[ ! -e "$SMBD_SHARE/adhoc.pdf" ] || fail "an anonymous delivery landed on the share"

# A client smb.conf that would get in the way (libsmbclient reads
# ~/.smb/smb.conf, else /etc/samba/smb.conf) does not: the output's own
# settings win over its protocol range, Kerberos and workgroup.
mkdir -p "$HOME/.smb"
cat >"$HOME/.smb/smb.conf" <<SMBCONF
[global]
  client min protocol = CORE
  client max protocol = NT1
  client use kerberos = required
  workgroup = ELSEWHERE
SMBCONF
deliver "$T/other.pdf" --to share --name client-conf.pdf
cmp "$T/other.pdf" "$SMBD_SHARE/office/in/client-conf.pdf" || fail "delivery with a hostile client smb.conf"
[ ! -s "$T/stdout" ] || [ "$(wc -l <"$T/stdout")" -le 1 ] || { cat "$T/stdout" >&2; fail "libsmbclient printed on stdout"; }
rm -rf "$HOME/.smb"

# No temporary file anywhere, and exactly the files delivered.
[ -z "$(find "$SMBD_SHARE" -name '.scand-*')" ] || { find "$SMBD_SHARE" >&2; fail "temporary file left behind"; }
assert_eq 10 "$(count_files "$SMBD_SHARE")" "files on the share"
echo "ok"
