# days and hours of rules (and the other values a rule or a scanner parses):
# `scand config check` refuses every malformed one with file, line and key,
# and no value makes `scand rules explain` or `scand scan` crash, on any day
# of the week — they fail with the same one-line message instead.
. "$SCAND_SRCDIR/tests/lib/common.sh"

# run OUT ERR ARGS…: runs scand, prints its exit status.
run() {
  local out=$1 err=$2; shift 2
  set +e
  "$SCAND" "$@" >"$out" 2>"$err"
  local rc=$?
  set -e
  echo "$rc"
}

mkdir -p "$T/desk"
bad_values=("days = sat,sun," "days = ," "days = ,sat" "days = sat,,sun" "days = funday" "days = mon-" "days = mon-wed-fri"
  "days =" "hours = 25:99-xx" "hours = ," "hours = 08:00-" "hours = 24:30-01:00" "hours = 8-18"
  "hours = 08:00-18:00," "hours = 08:00-08:00" "hours =" "pages-min = -1" "pages-max = 99999999999999999999")
for value in "${bad_values[@]}"; do
  key=${value%% *}
  C="$T/c.conf"
  cat >"$C" <<CONF
[output desk]
type = folder
path = $T/desk

[rule r]
source = mail
$value
deliver = desk

[rule all]
deliver = desk
CONF
  # The check names it.
  rc=$(run "$T/out" "$T/err" config check --config "$C")
  assert_eq 1 "$rc" "config check on '$value'"
  grep -q "^$C:7: \[rule r\] $key: " "$T/err" || { cat "$T/err" >&2; fail "config check: no line for '$value'"; }
  # Routing fails the same way on a weekday and at the weekend (every day and
  # hour: tests/unit/test-rules.c), also though source = mail does not hold:
  # never a crash, never a different answer on another day.
  for day in 25 29; do
    rc=$(run "$T/out" "$T/err" rules explain --config "$C" --device sane:test:0 --at "2026-11-$day 12:00")
    assert_eq 1 "$rc" "rules explain on 2026-11-$day with '$value'"
    [ "$(wc -l <"$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "rules explain: not one line for '$value'"; }
    grep -q "^scand rules: $C:7: \[rule r\] $key: " "$T/err" || { cat "$T/err" >&2; fail "explain: '$value'"; }
  done
  # A scan is refused before anything is scanned, and nothing is left behind.
  rc=$(run "$T/out" "$T/err" scan -q --config "$C" --device sane:test:0 --pages 1)
  assert_eq 1 "$rc" "scan with '$value'"
  grep -q "$C:7: \[rule r\] $key: " "$T/err" || { cat "$T/err" >&2; fail "scan: no reason for '$value'"; }
  [ "$(count_files "$T/desk")" -eq 0 ] || fail "a scan with '$value' delivered something"
done

# Scanner buttons: every item button=profile, the profile must exist.
for value in "scan=letter;" "scan=letter;;email=letter" "scan=" "=letter" "scan" "scan=photo"; do
  C="$T/b.conf"
  printf '[profile letter]\nresolution = 300\n[scanner s]\ndevice = sane:test:0\nauto-scan = button\nbuttons = %s\n' \
    "$value" >"$C"
  rc=$(run "$T/out" "$T/err" config check --config "$C")
  assert_eq 1 "$rc" "config check on buttons = $value"
  grep -q "^$C:6: \[scanner s\] buttons: " "$T/err" || { cat "$T/err" >&2; fail "buttons = $value: no line"; }
done

# deliver: an empty item (a stray comma) or an output named twice (it would
# get the document twice) is refused; a destination named twice on the
# command line gets the document once.
for value in "desk,,desk" "desk," ",desk" "desk; desk" "desk, other, desk" " , "; do
  C="$T/d.conf"
  printf '[output desk]\ntype = folder\npath = %s\n[output other]\ntype = folder\npath = %s\n[rule r]\ndeliver = %s\n' \
    "$T/desk" "$T/desk" "$value" >"$C"
  rc=$(run "$T/out" "$T/err" config check --config "$C")
  assert_eq 1 "$rc" "config check on deliver = $value"
  grep -q "^$C:8: \[rule r\] deliver: " "$T/err" || { cat "$T/err" >&2; fail "deliver = $value: no line"; }
done
mkdir -p "$T/twice"
rc=$(run "$T/out" "$T/err" scan -q --no-daemon --device sane:test:0 --pages 1 --to "$T/twice" --to "$T/twice")
assert_eq 0 "$rc" "scan --to twice"
assert_eq 1 "$(count_files "$T/twice")" "files delivered for one destination named twice"

# The good forms pass the check and route as they say.
C="$T/good.conf"
cat >"$C" <<CONF
[profile letter]
resolution = 300
[scanner s]
device = sane:test:0
auto-scan = button
buttons = scan=letter; email = letter
[output desk]
type = folder
path = $T/desk
[rule weekend]
days = Saturday, sun
deliver = desk
[rule office]
days = mon-fri
hours = 08:00-12:00, 13:00-17:00
deliver = desk
[rule night]
hours = 22:00-24:00,00:00-06:00
deliver = desk
[rule rest]
deliver = desk
CONF
rc=$(run "$T/out" "$T/err" config check --config "$C")
[ ! -s "$T/err" ] || { cat "$T/err" >&2; fail "config check complained about good days and hours"; }
assert_eq 0 "$rc" "config check on good days and hours"
expect() {
  "$SCAND" rules explain --config "$C" --device sane:test:0 --at "$1" >"$T/o" || fail "explain $1"
  grep -q "^\[rule $2\] .*matches" "$T/o" || { cat "$T/o" >&2; fail "at $1 expected [rule $2]"; }
}
expect "2026-11-28 12:00" weekend
expect "2026-11-29 03:00" weekend
expect "2026-11-25 08:00" office
expect "2026-11-25 12:30" rest
expect "2026-11-25 16:59" office
expect "2026-11-25 23:00" night
expect "2026-11-26 05:59" night
expect "2026-11-26 06:00" rest
echo ok
