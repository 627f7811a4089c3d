# A 200 MB document is streamed to a real smbd in chunks: the copy on the share
# is identical and scand's peak memory (max RSS from /usr/bin/time -v) stays far
# below the file size. A memory bound, not a timing assertion.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/smbd.sh"
[ "$(id -u)" -eq 0 ] || fail "this test maps the SMB user to root and must run as root"
[ -x /usr/bin/time ] || fail "/usr/bin/time (Debian package time) is needed to measure memory"

smbd_setup
smbd_start

SIZE_MB=200
LIMIT_KB=$((64 * 1024))
{ printf '%%PDF-1.4\n'; head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom; printf '\n%%%%EOF\n'; } >"$T/big.pdf"

cat >"$T/scand.conf" <<CONF
[output share]
type = smb
url = $SMBD_URL
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
timeout = 60s
CONF

/usr/bin/time -v -o "$T/time" "$SCAND" deliver --config "$T/scand.conf" "$T/big.pdf" --to share --name big.pdf \
  >"$T/stdout" 2>"$T/err" || { cat "$T/err" >&2; smbd_log; fail "200 MB delivery"; }
cmp "$T/big.pdf" "$SMBD_SHARE/big.pdf" || fail "the 200 MB copy on the share differs"
[ -z "$(find "$SMBD_SHARE" -name '.scand-*')" ] || fail "temporary file left behind"
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$T/time")
[ -n "$rss_kb" ] || { cat "$T/time" >&2; fail "no max RSS in /usr/bin/time output"; }
echo "scand deliver of $SIZE_MB MB to smbd: max RSS $((rss_kb / 1024)) MiB (limit $((LIMIT_KB / 1024)) MiB)"
[ "$rss_kb" -lt "$LIMIT_KB" ] || fail "max RSS ${rss_kb} kB for a $SIZE_MB MB file: the file is held in memory"
echo "ok"
