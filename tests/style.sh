#!/bin/bash
# One style (.clang-format at the top): every tracked C file must be as
# clang-format leaves it. Fix with: clang-format -i FILE
set -euo pipefail
cd "$SCAND_SRCDIR"
command -v clang-format >/dev/null || { echo "clang-format is not installed (.ci/deps test installs it)" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find scand backends outputs rules ui-gtk tests -name '*.[ch]')
# One clang-format over every file (fast: the test runs among many others);
# only when it finds something, file by file to name them.
if clang-format --dry-run --Werror "${files[@]}" >/dev/null 2>&1; then
  echo "${#files[@]} files checked, 0 not formatted"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f" >&2
    bad=$((bad + 1))
  fi
done
echo "${#files[@]} files checked, $bad not formatted"
[ "$bad" -eq 0 ]
