#!/bin/bash
# Function length (STYLE): no production function over 80 lines unless a
# /* whole: reason */ comment directly above it says why it is better whole.
# By hand: tests/function-length.sh (add --list to see the long ones).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${SCAND_SRCDIR:-$(dirname "$here")}
exec /usr/bin/python3 "$here/function_length.py" "$srcdir" "$@"
