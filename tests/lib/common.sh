# Shared helpers for integration tests (bash). Source it first:
#   . "$SCAND_SRCDIR/tests/lib/common.sh"
# It makes $T (a temp dir removed at exit), a private spool and config dir, so
# that a test never touches the user's ~/.config/scand or spool.
set -euo pipefail

T=$(mktemp -d "${TMPDIR:-/tmp}/scand-test.XXXXXX")
export SCAND_SPOOL="$T/spool"
export SCAND_CONFIG_DIR="$T/no-config"
export XDG_CONFIG_HOME="$T/xdg-config"
export XDG_STATE_HOME="$T/xdg-state"
export HOME="$T/home"
mkdir -p "$HOME"

cleanup_hooks=()
on_exit() { cleanup_hooks+=("$1"); }
_run_cleanup() {
  local rc=$?
  for ((i = ${#cleanup_hooks[@]} - 1; i >= 0; i--)); do eval "${cleanup_hooks[$i]}" || true; done
  rm -rf "$T"
  exit $rc
}
trap _run_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
  [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# assert_contains FILE TEXT
assert_contains() {
  grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "'$2' not found in $1"; }
}

# pdf_jpeg_stream PDF OBJ: the JPEG bytes of image object OBJ, stored as they
# are (/DCTDecode) or inside a lossless Flate wrapper ([/FlateDecode
# /DCTDecode]); fails for any other filter.
pdf_jpeg_stream() {
  local filter
  filter=$(qpdf --show-object="$2" "$1" | grep -o '/Filter \(\[[^]]*\]\|/[A-Za-z]*\)')
  case "$filter" in
    "/Filter [ /FlateDecode /DCTDecode ]") qpdf --show-object="$2" --raw-stream-data "$1" | zlib-flate -uncompress ;;
    "/Filter /DCTDecode") qpdf --show-object="$2" --raw-stream-data "$1" ;;
    *) fail "object $2 of $1 is not a JPEG stream ($filter)" ;;
  esac
}

# pdf_pages FILE: page count, after qpdf --check passes
pdf_pages() {
  qpdf --check "$1" >/dev/null || fail "qpdf --check failed for $1"
  pdfinfo "$1" | awk '/^Pages:/{print $2}'
}

# count_files DIR [FIND-ARGS…]
count_files() {
  local d=$1; shift
  find "$d" -type f "$@" | wc -l
}

# free_port: a TCP port nobody listens on right now
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# at_least N DIR [FIND-ARGS…]: DIR holds at least N such files (for wait_for,
# which must re-count on each try)
at_least() {
  local n=$1 d=$2; shift 2
  [ "$(find "$d" -type f "$@" 2>/dev/null | wc -l)" -ge "$n" ]
}
