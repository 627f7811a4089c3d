# The man pages render without warnings (man -l, groff warnings on), are
# installed by meson, and mention every command `scand --help` lists
# (scand(1)) and every section kind the configuration schema knows
# (scand.conf(5)).
set -euo pipefail
SRC=${SCAND_SRCDIR:?}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v man >/dev/null || fail "man (man-db) is needed: .ci/deps test"

render() {
  local out
  out=$(MANWIDTH=100 man --warnings -l "$1" 2>&1 >/dev/null) || fail "$1 does not render"
  [ -z "$out" ] || fail "$1: $out"
  MANWIDTH=100 man -l "$1" 2>/dev/null | col -b
}
render "$SRC/data/man/scand.1" >"${TMPDIR:-/tmp}/scand.1.$$.txt"
render "$SRC/data/man/scand.conf.5" >"${TMPDIR:-/tmp}/scand.conf.5.$$.txt"
trap 'rm -f "${TMPDIR:-/tmp}"/scand.*.$$.txt' EXIT
one=${TMPDIR:-/tmp}/scand.1.$$.txt five=${TMPDIR:-/tmp}/scand.conf.5.$$.txt

commands=$("$SCAND" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}')
[ "$(echo "$commands" | wc -w)" -ge 10 ] || fail "could not read the commands from scand --help"
for c in $commands; do
  grep -qE "^ {7}$c( |$)" "$one" || fail "scand(1) does not describe the command '$c'"
done

kinds=$(grep -oE '\{ "[a-z-]+", (schema_[a-z_]+|NULL), (TRUE|FALSE)' "$SRC/scand/base/config-schema.c" |
  sed -E 's/\{ "([a-z-]+)".*/\1/')
[ "$(echo "$kinds" | wc -w)" -ge 6 ] || fail "could not read the section kinds from config-schema.c"
for k in $kinds; do
  grep -qE "^ {7}\[$k( |\])" "$five" || fail "scand.conf(5) does not describe the section kind [$k]"
done
# Every [scand] key the schema knows is named.
keys=$(sed -n '/schema_scand\[\] = {/,/^};/p' "$SRC/scand/base/config-schema.c" | grep -oE '(KEY|ENUM|INT)\("[a-z-]+"' |
  sed -E 's/.*"([a-z-]+)"/\1/')
for k in $keys; do
  grep -q -- "$k" "$five" || fail "scand.conf(5) does not name [scand] $k"
done

installed=$(meson introspect "${SCAND_BUILDDIR:?}" --installed)
for m in man1/scand.1 man5/scand.conf.5; do
  echo "$installed" | grep -q "$m" || fail "meson does not install $m"
done
echo ok
