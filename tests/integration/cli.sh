# The command line: --help and --version on every command, usage errors, and
# `scand list` / `scand jobs` / `scand cancel` on real state.
. "$SCAND_SRCDIR/tests/lib/common.sh"

version=$(sed -n "s/^  version : '\(.*\)',$/\1/p" "$SCAND_SRCDIR/meson.build")
[ -n "$version" ] || fail "no version in meson.build"
commands=$("$SCAND" --help | awk '/^Commands:/{f=1; next} f && /^  [a-z]/ {print $1}')
[ -n "$commands" ] || fail "scand --help lists no commands"
for c in $commands; do
  "$SCAND" "$c" --help >"$T/help" 2>&1 || fail "scand $c --help exited non-zero"
  assert_contains "$T/help" "scand $c"
  assert_eq "scand $version" "$("$SCAND" "$c" --version)" "scand $c --version"
done
for c in scan list assemble deliver jobs resume retry cancel config; do
  grep -qx "$c" <<<"$commands" || fail "scand --help does not list $c"
done

set +e
"$SCAND" frobnicate 2>"$T/err"; rc=$?
set -e
assert_eq 2 "$rc" "unknown command exit status"
assert_contains "$T/err" "unknown command"
set +e
"$SCAND" scan --resolution many 2>"$T/err"; rc=$?
set -e
assert_eq 2 "$rc" "bad option exit status"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "usage error is not one line"

# WS-Discovery only on loopback: the host's lo does not multicast, so no
# probe leaves this machine (the real network is never asked).
"$SCAND" list --interface lo >"$T/list"
assert_contains "$T/list" "sane:test:0"
assert_contains "$T/list" "sane:test:1"

# A job queued for an unreachable folder shows in `scand jobs` with its
# attempts and last error, and `scand cancel` drops it.
cat >"$T/c.conf" <<CONF
[output gone]
type = folder
path = $T/not-there
CONF
set +e
"$SCAND" scan -q --config "$T/c.conf" --device sane:test:0 --to gone 2>"$T/err"; rc=$?
set -e
assert_eq 75 "$rc" "queued scan exit status"
"$SCAND" jobs >"$T/jobs"
assert_contains "$T/jobs" "assembled"
assert_contains "$T/jobs" "gone"
assert_contains "$T/jobs" "attempts 1"
assert_contains "$T/jobs" "not mounted"
id=$(awk 'NR==1{print $1}' "$T/jobs")
"$SCAND" cancel "$id" >/dev/null
[ -z "$("$SCAND" jobs)" ] || fail "job still listed after cancel"
set +e
"$SCAND" cancel "$id" 2>"$T/err"; rc=$?
set -e
assert_eq 1 "$rc" "cancel of a missing job"
assert_contains "$T/err" "no job $id"
echo ok
