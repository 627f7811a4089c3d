# `scand rules explain`: for each match key, a job that differs only in that
# fact skips the rule with a reason naming the key, and one that has it
# matches; the output lists destinations, name and fallback; a mail output
# appears only where a rule names it.
. "$SCAND_SRCDIR/tests/lib/common.sh"

cat >"$T/r.conf" <<CONF
[profile letter]
[profile photo]
[output share]
type = folder
path = $T/share
[output desk]
type = folder
path = $T/desk
[output mail]
type = folder
path = $T/mail-stand-in

[rule by-device]
device = escl:*
deliver = share
[rule by-profile]
profile = photo
deliver = desk
[rule by-source]
source = watch
deliver = desk
[rule by-trigger]
trigger = feeder
deliver = desk
[rule by-watch]
watch = invoices
deliver = desk
[rule by-path]
path = hr/*
deliver = desk
[rule by-sender]
sender = *@example.com
deliver = desk
[rule by-recipient]
recipient = scans@*
deliver = desk
[rule by-pages-min]
pages-min = 50
deliver = desk
[rule by-pages-max]
pages-max = 0
deliver = desk
[rule by-days]
days = sat-sun
deliver = desk
[rule by-hours]
hours = 22:00-06:00
deliver = desk
[rule last]
deliver = share
fallback = mail
fallback-attempts = 3
CONF

# A job that matches nothing until [rule last]: every rule says why not.
at="2026-11-25 12:00"   # a Wednesday noon
"$SCAND" rules explain --config "$T/r.conf" --device sane:test:0 --profile letter --pages 3 --at "$at" >"$T/out"
for k in "device:" "profile:" "source:" "trigger:" "watch:" "path:" "sender:" "recipient:" "pages-min:" \
         "pages-max:" "days:" "hours:"; do
  grep -q "no — $k" "$T/out" || { cat "$T/out"; fail "no reason for key $k"; }
done
assert_contains "$T/out" "[rule last]"
assert_contains "$T/out" "matches"
assert_contains "$T/out" "deliver to: share (folder $T/share)"
assert_contains "$T/out" "fallback: mail"

# Each key, when the fact fits, makes its own rule match.
expect() {
  local rule=$1; shift
  "$SCAND" rules explain --config "$T/r.conf" --pages 3 --at "$at" "$@" >"$T/o" || fail "explain $*"
  grep -q "^\[rule $rule\] .*matches" "$T/o" || { cat "$T/o"; fail "expected [rule $rule] to match for $*"; }
}
expect by-device --device escl:http://mfp/eSCL
expect by-profile --device sane:x --profile photo
expect by-source --device sane:x --source watch
expect by-trigger --device sane:x --trigger feeder
expect by-watch --device sane:x --source file --watch invoices
expect by-path --device sane:x --source file --path hr/2026/cv.pdf
expect by-sender --device sane:x --source mail --sender anna@example.com
expect by-recipient --device sane:x --source mail --recipient scans@office.example
expect by-pages-min --device sane:x --pages 80
expect by-pages-max --device sane:x --pages 0
expect by-days --device sane:x --at "2026-11-28 12:00"
expect by-hours --device sane:x --at "2026-11-25 23:30"
expect by-hours --device sane:x --at "2026-11-26 05:59"

# No rules at all: the built-in default, and no mail anywhere.
printf '[output mail]\ntype = folder\npath = %s\n' "$T/m" >"$T/none.conf"
"$SCAND" rules explain --config "$T/none.conf" >"$T/o"
assert_contains "$T/o" "built-in default"
assert_contains "$T/o" "deliver to: the built-in folder"
if grep -q "mail" "$T/o"; then cat "$T/o"; fail "an output no rule names appears"; fi

# A malformed match key is a clear error with file, line and key.
printf '[output o]\ntype = folder\npath = /x\n[rule r]\nhours = noon\ndeliver = o\n' >"$T/bad.conf"
set +e
"$SCAND" rules explain --config "$T/bad.conf" 2>"$T/err"; rc=$?
set -e
assert_eq 1 "$rc" "exit status for a malformed rule"
assert_contains "$T/err" "bad.conf:5: [rule r] hours"
echo ok
