# The web page in a real browser (Debian's chromium headless, driven by
# chromedriver and python3-selenium: tests/integration/web_page.py) against
# the daemon, the SANE test backend and a real smbd: log in, press a profile
# button, see the progress and where the file went (on the share); take the
# share down, scan, see the queued banner; bring it back and press Retry.
# The page must make no request to any other origin. Screenshots of each
# state go to build/screenshots/web-*.png.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
. "$SCAND_SRCDIR/tests/lib/smbd.sh"
[ "$(id -u)" -eq 0 ] || fail "smbd maps the SMB user to root: run as root"
smbd_setup
smbd_start

# An account for the page, written by the command people use.
printf 'Scan-pw-42\n' | "$SCAND" web passwd anna --accounts "$T/accounts" >"$T/passwd.out"
assert_contains "$T/passwd.out" "password of anna added"
assert_eq 600 "$(stat -c %a "$T/accounts")" "mode of the accounts file"
grep -q '^anna:\$y\$' "$T/accounts" || fail "the account is not a yescrypt hash: $(cat "$T/accounts")"

port=$(free_port)
cat >"$T/scand.conf" <<CONF
[scand]
retry-min = 10m
retry-max = 1h

[scanner office]
device = sane:test:0
name = Office copier
profile = letter
# about a second a page, so that the progress can be seen
sane-options = read-limit=true;read-limit-size=16384;read-delay=true;read-delay-duration=100000

[profile letter]
source = feeder
pages = 3
resolution = 50

[profile photo]
source = flatbed
mode = color
resolution = 50

[output share]
type = smb
url = $SMBD_URL/inbox
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
timeout = 3s

[rule office]
deliver = share
name = letter-{seq}.pdf

[web]
listen = 127.0.0.1:$port
accounts = $T/accounts
downloads = true
CONF
"$SCAND" config check --config "$T/scand.conf"
daemon_start "$T/scand.conf" --no-bus
assert_contains "$T/daemon.log" "web: the page is at http://127.0.0.1:$port/"

shots="$SCAND_BUILDDIR/screenshots"
mkdir -p "$shots"
rm -f "$shots"/web-*.png
# The browser script asks for the share to go down and come back with
# "SHARE stop" / "SHARE start" lines; every other line is its log.
coproc BROWSER {
  WEB_URL="http://127.0.0.1:$port" WEB_USER=anna WEB_PASSWORD=Scan-pw-42 WEB_SHOTS="$shots" \
    WEB_SHARE_DIR="$SMBD_SHARE/inbox" WEB_PROFILE_DIR="$T/chromium" \
    timeout 240 /usr/bin/python3 "$SCAND_SRCDIR/tests/integration/web_page.py" 2>&1
}
browser_pid=$BROWSER_PID
on_exit "kill $browser_pid 2>/dev/null"
while IFS= read -r line <&"${BROWSER[0]}"; do
  case "$line" in
    "SHARE stop") smbd_stop; echo ok >&"${BROWSER[1]}" ;;
    "SHARE start") smbd_start; echo ok >&"${BROWSER[1]}" ;;
    *) echo "$line" ;;
  esac
done
status=0
wait "$browser_pid" || status=$?
[ "$status" -eq 0 ] || { tail -30 "$T/daemon.log"; smbd_log; fail "the browser test failed ($status)"; }
for s in login idle scanning done queued retried phone; do
  [ -s "$shots/web-$s.png" ] || fail "no screenshot web-$s.png"
done
# Exactly two documents on the share: the first scan and the retried one.
assert_eq 2 "$(count_files "$SMBD_SHARE/inbox" -name 'letter-*.pdf')" "documents on the share"
for f in "$SMBD_SHARE"/inbox/letter-*.pdf; do
  assert_eq 3 "$(pdf_pages "$f")" "pages of $f"
done
assert_contains "$T/daemon.log" "web: anna logged in from 127.0.0.1"
daemon_stop
echo ok
