# Options before the command are taken as if written after it: `scand
# --config FILE daemon` (as ExecStart= lines write it), `--config=FILE`, `-c
# FILE`, option values written apart, --version and --help anywhere. A value
# that happens to be a command's name is still a value.
. "$SCAND_SRCDIR/tests/lib/common.sh"

version=$(sed -n "s/^  version : '\(.*\)',$/\1/p" "$SCAND_SRCDIR/meson.build")

# run OUT ERR ARGS…: runs scand, prints its exit status.
run() {
  local out=$1 err=$2; shift 2
  set +e
  "$SCAND" "$@" >"$out" 2>"$err"
  local rc=$?
  set -e
  echo "$rc"
}

# A configuration with one problem: whoever reads it says so, naming the file.
cat >"$T/bad.conf" <<'CONF'
[profile letter]
resolution = 10
CONF
for form in "--config $T/bad.conf config check" "--config=$T/bad.conf config check" "-c $T/bad.conf config check" \
  "config --config $T/bad.conf check" "config check --config $T/bad.conf"; do
  # shellcheck disable=SC2086
  rc=$(run "$T/out" "$T/err" $form)
  assert_eq 1 "$rc" "scand $form"
  assert_contains "$T/err" "$T/bad.conf:2: [profile letter] resolution"
done

# The daemon too, as a unit file starts it: a syntax error stops it at once.
printf '[scand\n' >"$T/broken.conf"
rc=$(run "$T/out" "$T/err" --config "$T/broken.conf" daemon --no-bus)
assert_eq 1 "$rc" "scand --config FILE daemon with a broken file"
assert_contains "$T/err" "scand daemon: $T/broken.conf:1"

# A config file named like a command is the option's value, not the command.
mkdir "$T/cwd" && cd "$T/cwd"
cp "$T/bad.conf" jobs
rc=$(run "$T/out" "$T/err" --config jobs config check)
assert_eq 1 "$rc" "--config jobs config check"
assert_contains "$T/err" "jobs:2: [profile letter] resolution"
cd "$T"

# Any command's own options may come first, with their values apart.
rc=$(run "$T/out" "$T/err" --pages 1 --source feeder --device sane:test:0 -q scan --to "$T/scans")
assert_eq 0 "$rc" "options with values before scan"
[ "$(count_files "$T/scans" -name '*.pdf')" -eq 1 ] || fail "scan with options first delivered no PDF"
[ "$(pdf_pages "$(find "$T/scans" -name '*.pdf')")" -eq 1 ] || fail "--pages 1 before the command was not applied"

# --version and --help anywhere.
assert_eq "scand $version" "$("$SCAND" --version daemon)" "scand --version daemon"
assert_eq "scand $version" "$("$SCAND" --config "$T/bad.conf" --version)" "scand --config F --version"
"$SCAND" --help scan >"$T/help"
assert_contains "$T/help" "scand scan"
assert_contains "$T/help" "--pages"
"$SCAND" --help >"$T/help"
assert_contains "$T/help" "Commands:"

# Still refused: an unknown command, or none at all, exit 2 with one line.
rc=$(run "$T/out" "$T/err" --config "$T/bad.conf" frobnicate)
assert_eq 2 "$rc" "unknown command after options"
assert_contains "$T/err" 'unknown command "frobnicate"'
rc=$(run "$T/out" "$T/err" --config "$T/bad.conf")
assert_eq 2 "$rc" "options without a command"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "missing command error is not one line"
echo ok
