# `scand config check`: a broken configuration exits non-zero and prints
# exactly one line per problem with file, line and key; a good one exits 0;
# a syntax error names its line; no secret ever reaches the output; the
# default location ($SCAND_CONFIG_DIR with conf.d/) is what gets checked
# without --config.
. "$SCAND_SRCDIR/tests/lib/common.sh"

# run_check OUT ERR [ARGS…]: runs scand config check, prints its exit status.
run_check() {
  local out=$1 err=$2; shift 2
  set +e
  "$SCAND" config check "$@" >"$out" 2>"$err"
  local rc=$?
  set -e
  echo "$rc"
}

# assert_file_eq EXPECTED-FILE ACTUAL-FILE WHAT
assert_file_eq() {
  diff -u "$1" "$2" >&2 || fail "$3 differs from the expected lines"
}

mkdir -p "$T/secrets"
printf 'hunter2-open\n' >"$T/secrets/open"
chmod 0644 "$T/secrets/open"
printf 'hunter2-closed\n' >"$T/secrets/closed"
chmod 0600 "$T/secrets/closed"

# 1. A broken configuration: every kind of problem, exact lines.
B="$T/broken.conf"
cat >"$B" <<CONF
[scand]
log-level = verbose

[scanner office]
device = usb:whatever
profil = letter
tls-pin = sha256:AB:CD

[profile letter]
resolution = 10
duplex = maybe

[output share]
type = smb
url = smb://127.0.0.1/scans
username = scanner
password-file = $T/secrets/open

[output desk]
type = folder
path = $T/desk

[output old]
type = floppy

[rule office]
deliver = share, nas
name = ../{device}.pdf
fallback-after = soon

[rule photos]
profile = photo
name = {date}/{colour}.pdf

[scaner hallway]
device = sane:test:0
CONF
cat >"$T/broken.expected" <<EOF
$B:2: [scand] log-level: "verbose" is not one of error|warning|info|debug
$B:5: [scanner office] device: "usb:whatever" is not a device URI: sane:NAME, escl:http[s]://HOST[:PORT]/eSCL or wsd:http[s]://HOST[:PORT]/PATH
$B:6: [scanner office] profil: unknown key (did you mean "profile"?)
$B:7: [scanner office] tls-pin: has 2 bytes, not 32 (expected sha256: and 32 hex bytes separated by colons, as written by \`scand trust\`)
$B:10: [profile letter] resolution: 10 is out of range (expected a whole number from 25 to 4800)
$B:11: [profile letter] duplex: "maybe" is not true or false
$B:17: [output share] password-file: secret file $T/secrets/open is readable by group and others (mode 0644): run chmod go-rwx $T/secrets/open
EOF
rc=$(run_check "$T/out" "$T/err" --config "$B")
[ "$rc" -ne 0 ] || fail "config check exited 0 on a broken config"
assert_eq 1 "$rc" "exit status on a broken config"
# The [output old] line lists the registered types, which grow as drivers
# land: compare it by its fixed part.
grep -F "$B:24: [output old] type: unknown output type \"floppy\" (known: folder|" "$T/err" >/dev/null ||
  { cat "$T/err" >&2; fail "no line for the unknown output type"; }
cat >>"$T/broken.expected" <<EOF
$(grep -F "$B:24: [output old] type:" "$T/err")
$B:27: [rule office] deliver: no [output nas] section
$B:28: [rule office] name: unsafe or malformed template: '..' would leave the destination (part 1 of the path)
$B:29: [rule office] fallback-after: "soon" is not a duration such as 90, 30s, 5m, 2h or 1d
$B:32: [rule photos] profile: no [profile photo] section
$B:33: [rule photos] name: unsafe or malformed template: unknown field {colour} at position 8 (known: date, time, device, profile, recipient, sender, subject, attachment, pages, seq, source, job, barcode, blanks)
$B:31: [rule photos] deliver: missing (required: [output] names separated by commas)
$B:35: [scaner hallway]: unknown section kind "scaner" (did you mean [scanner hallway]?)
15 problems
EOF
assert_file_eq "$T/broken.expected" "$T/err" "stderr of config check on the broken config"
[ ! -s "$T/out" ] || { cat "$T/out" >&2; fail "config check printed to stdout on a broken config"; }
if grep -q hunter2 "$T/err" "$T/out"; then fail "a secret value reached the output"; fi

# 2. After the fixes the same kind of config passes.
G="$T/good.conf"
cat >"$G" <<CONF
[scand]
log-level = info   # a comment after a value

[scanner office]
device = sane:test:0
profile = letter
auto-scan = feeder

[profile letter]
resolution = 300
duplex = true

[output share]
type = smb
url = smb://127.0.0.1/scans
username = scanner
password-file = $T/secrets/closed

[output desk]
type = folder
path = $T/desk

[rule office]
deliver = share, desk
name = {date:%Y-%m-%d}/{device}-{time:%H%M%S}.pdf
fallback = desk
fallback-after = 30m
CONF
rc=$(run_check "$T/out" "$T/err" --config "$G")
[ ! -s "$T/err" ] || { cat "$T/err" >&2; fail "config check complained about a good config"; }
assert_eq 0 "$rc" "exit status on a good config"
assert_eq "$G: ok" "$(cat "$T/out")" "stdout on a good config"

# 3. A syntax error: one line with the file and line.
S="$T/syntax.conf"
printf '[scand]\nlog-level = info\nthis line is not ini\n' >"$S"
rc=$(run_check "$T/out" "$T/err" --config "$S")
assert_eq 1 "$rc" "exit status on a syntax error"
assert_eq "$S:3: expected \"key = value\", a [section] or a # comment" "$(cat "$T/err")" "syntax error line"

# 4. Without --config: \$SCAND_CONFIG_DIR, scand.conf then conf.d/*.conf in
# name order; a later file overrides a key and the message follows it.
D="$T/confdir"
mkdir -p "$D/conf.d"
cp "$G" "$D/scand.conf"
printf '[profile letter]\nresolution = 9000\n' >"$D/conf.d/50-override.conf"
printf '[profile letter]\n\nresolution = 20000\n' >"$D/conf.d/60-later.conf"
printf 'not ini at all\n' >"$D/conf.d/README"
rc=$(SCAND_CONFIG_DIR="$D" run_check "$T/out" "$T/err")
assert_eq 1 "$rc" "exit status on an overriding conf.d"
cat >"$T/confd.expected" <<EOF
$D/conf.d/60-later.conf:3: [profile letter] resolution: 20000 is out of range (expected a whole number from 25 to 4800)
1 problems
EOF
assert_file_eq "$T/confd.expected" "$T/err" "stderr of config check on conf.d"

# 5. chmod as the message says, and the complaint goes away.
chmod go-rwx "$T/secrets/open"
sed -i "s|$T/secrets/closed|$T/secrets/open|" "$G"
rc=$(run_check "$T/out" "$T/err" --config "$G")
[ ! -s "$T/err" ] || { cat "$T/err" >&2; fail "config check still complains after chmod"; }
assert_eq 0 "$rc" "exit status after chmod"
echo "config-check: ok"
