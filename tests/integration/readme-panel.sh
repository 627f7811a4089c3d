#!/bin/bash
# README "Scan from the copier's panel": its configuration examples (the HP
# one and the WSD one, taken from the README itself) pass `scand config
# check` together, with the two folder outputs the rules name added, and say
# what the section says: two panels, the names and profiles given. A README
# whose examples rot fails here.
set -euo pipefail
. "$SCAND_SRCDIR/tests/lib/common.sh"

# The ```ini blocks of the section, in order, one file each.
python3 - "$SCAND_SRCDIR/README.md" "$T" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"^## Scan from the copier's panel\n(.*?)(?=^## )", text, re.S | re.M)
if not m:
    sys.exit("README.md has no section \"Scan from the copier's panel\"")
blocks = re.findall(r"^```ini\n(.*?)^```", m.group(1), re.S | re.M)
if len(blocks) != 2:
    sys.exit("the section has %d ini examples, not 2 (HP and WSD)" % len(blocks))
for i, b in enumerate(blocks):
    open("%s/example%d.conf" % (sys.argv[2], i), "w").write(b)
PY
grep -q '^device = escl:' "$T/example0.conf" || fail "the first example is not the HP (eSCL) one"
grep -q '^device = wsd:' "$T/example1.conf" || fail "the second example is not the WSD one"

mkdir -p "$T/out"
{
  cat "$T/example0.conf" "$T/example1.conf"
  printf '\n[output finance-share]\ntype = folder\npath = %s/out\n' "$T"
  printf '\n[output anna-desk]\ntype = folder\npath = %s/out\n' "$T"
} >"$T/scand.conf"
rc=0
"$SCAND" config check --config "$T/scand.conf" >"$T/out.txt" 2>"$T/err.txt" || rc=$?
cat "$T/err.txt" >&2
assert_eq 0 "$rc" "scand config check of the README's panel examples"
[ ! -s "$T/err.txt" ] || fail "scand config check complains about the README's panel examples"

# What the examples promise: the names on each panel, each bound to a profile.
grep -qx 'panel = Finance:letter, Anna:photo' "$T/example0.conf" || fail "HP example: panel names"
grep -qx 'panel = Finance:letter, Front desk:letter, Anna:photo' "$T/example1.conf" || fail "WSD example: panel names"
echo "readme-panel: ok"
