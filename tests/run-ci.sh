#!/bin/bash
# What CI runs (the README's second command calls this; .ci/run counts the
# results of every build below from their meson test logs):
#   build-ci     warnings as errors, ASan + UBSan, every optional part enabled:
#                the whole suite
#   build-plain  no sanitizers: the timing-sensitive tests again (suite
#                "timing": kill, crash, races), whose windows ASan's slowness
#                hides
#   build-fuzz   clang, -Dfuzz=true (libscand instrumented for libFuzzer):
#                each fuzz target runs for a fixed time (suite "fuzz-smoke";
#                SCAND_FUZZ_SECONDS, default 10)
# Every stage runs even when an earlier one failed, so that the count covers
# them all; the exit status is 0 only when every stage passed. Build
# directories that exist are reused (configured again with these options).
set -u
cd "$(dirname "$0")/.."

# The options of each build; features are enabled here so that CI builds and
# tests them on a fresh machine (a missing package fails instead of skipping).
ci_options=(-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dgtk=enabled -Docr=enabled -Dweb=enabled)
plain_options=(-Dwerror=true -Dgtk=enabled -Docr=enabled -Dweb=enabled)
fuzz_options=(-Dfuzz=true -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dgtk=disabled -Docr=enabled -Dweb=enabled)

status=0

# stage NAME DIR SETUP-ENV TEST-ARGS… -- OPTIONS…
stage() {
  local name=$1 dir=$2 env=$3
  shift 3
  local test_args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    test_args+=("$1")
    shift
  done
  shift
  echo "=== $name: $dir ($*)"
  # A log from an earlier run must not be counted as this one's.
  rm -f "$dir/meson-logs/testlog.json"
  if [ -d "$dir" ]; then
    # --reconfigure, not `meson configure`: it also knows options added since.
    env $env meson setup --reconfigure "$dir" "$@" >"$dir/scand-setup.log" 2>&1 || { cat "$dir/scand-setup.log"; status=1; return; }
  else
    env $env meson setup "$dir" "$@" || { status=1; return; }
  fi
  meson test -C "$dir" --print-errorlogs "${test_args[@]}" || status=1
}

stage "whole suite, ASan/UBSan" build-ci "" -- "${ci_options[@]}"
stage "timing-sensitive tests, no sanitizers" build-plain "" --suite timing -- "${plain_options[@]}"
stage "fuzz smoke run, clang" build-fuzz "CC=clang" --suite fuzz-smoke -- "${fuzz_options[@]}"
exit $status
