#!/bin/bash
# The layout's arrows (README, Layout): no #include against them, no include
# cycle between modules, and libscand links without the program's symbols.
# By hand: tests/layout.sh [BUILDDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${SCAND_SRCDIR:-$(dirname "$here")}
builddir=${1:-${SCAND_BUILDDIR:-}}
exec /usr/bin/python3 "$here/layout.py" "$srcdir" ${builddir:+"$builddir"}
