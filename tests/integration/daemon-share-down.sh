# The office story against real peers (smbd, an SMTP server, SANE's test
# backend, the daemon on a private bus): with the share down a scan is queued
# and lands on the share once it is back — no mail, though a mail output is
# configured; a rule with `fallback = mail` mails the PDF only after its policy
# (3 failed attempts) and then never delivers it a second time.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
. "$SCAND_SRCDIR/tests/lib/smbd.sh"
[ "$(id -u)" -eq 0 ] || fail "smbd maps the SMB user to root: run as root"
bus_start

smbd_setup
smbd_start
smbd_stop
mkdir -p "$T/mail"
/usr/bin/python3 "$SCAND_SRCDIR/tests/lib/smtpd.py" --dir "$T/mail" --tls none 2>"$T/smtpd.err" &
on_exit "kill $! 2>/dev/null"
wait_for 20 test -s "$T/mail/port" || { cat "$T/smtpd.err"; fail "smtpd did not start"; }
mails() { find "$T/mail" -name 'msg-*.eml' | wc -l; }

cat >"$T/scand.conf" <<CONF
[scand]
retry-min = 1s
retry-max = 2s

[scanner virtual]
device = sane:test:0

[profile archive]
source = flatbed
resolution = 50
[profile office]
source = flatbed
resolution = 50

[output share]
type = smb
url = $SMBD_URL/inbox
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
timeout = 2s

[output mail]
type = smtp
url = smtp://127.0.0.1:$(cat "$T/mail/port")
security = none
from = scanner@example.com
to = office@example.com

[rule office]
profile = office
deliver = share
name = office-{seq}.pdf
fallback = mail
fallback-attempts = 3

[rule archive]
deliver = share
name = archive-{seq}.pdf
CONF
"$SCAND" config check --config "$T/scand.conf" || fail "config check"
daemon_start "$T/scand.conf" --queue-interval 300
daemon_wait_bus
gdbus monitor --session --dest org.scand.Daemon1 >"$T/monitor" 2>&1 &
on_exit "kill $! 2>/dev/null"
sleep 0.3

# 1. Share down, no fallback in the rule: queued, retried, delivered once back.
scand_call Scan virtual archive >/dev/null
wait_for 60 grep -q "JobFinished.*'queued'" "$T/monitor" || { cat "$T/daemon.log"; fail "not queued"; }
wait_for 30 sh -c "grep -c 'output share.*will retry' '$T/daemon.log' | grep -qv '^[01]$'" \
  || { cat "$T/daemon.log"; fail "the queue did not retry"; }
assert_eq 0 "$(mails)" "mails for a rule without fallback"
smbd_start
wait_for 60 test -f "$SMBD_SHARE/inbox/archive-0001.pdf" || { cat "$T/daemon.log"; fail "not delivered once the share was back"; }
sleep 2
assert_eq 1 "$(find "$SMBD_SHARE" -name '*.pdf' | wc -l)" "files on the share"
assert_eq 0 "$(mails)" "mails after the share came back"
[ -z "$(find "$SMBD_SHARE" -name '.scand-*')" ] || fail "temporary file left on the share"

# 2. Share down, rule with fallback after 3 failed attempts: mailed once.
smbd_stop
: >"$T/monitor"
scand_call Scan virtual office >/dev/null
wait_for 60 at_least 1 "$T/mail" -name 'msg-*.eml' || { cat "$T/daemon.log"; fail "no fallback mail"; }
sleep 3
assert_eq 1 "$(mails)" "fallback mails"
grep -q "office-0002.pdf" "$T/mail"/msg-1.eml || fail "the mail does not carry the PDF by name"
attempts=$(grep -c "output share.*will retry" "$T/daemon.log")
[ "$attempts" -ge 4 ] || fail "fallback used after only $((attempts - 1)) failed attempts of the office job"
# The job is done: the share coming back gets no second copy.
smbd_start
sleep 4
[ ! -e "$SMBD_SHARE/inbox/office-0002.pdf" ] || fail "delivered to the share after the fallback"
[ -z "$(find "$SCAND_SPOOL" -mindepth 1 -maxdepth 1 -type d -not -name '.*')" ] || fail "job left in the spool"
daemon_stop
echo ok
