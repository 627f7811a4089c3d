# The fuzz smoke run of one target: FUZZER runs for $SCAND_FUZZ_SECONDS
# (default 10) from CORPUS, writing what it finds into a scratch directory
# (the corpus in the tree is only read). Fails on anything libFuzzer reports
# (crash, sanitizer error, leak, timeout, out of memory), printing the input
# that did it, and when the fuzzer is blind: libFuzzer's coverage report
# (-print_coverage) must show edges covered in scand's own code, outside the
# harness in tests/fuzz/ — which only an instrumented libscand reports.
#   bash smoke.sh FUZZER CORPUS
set -euo pipefail
fuzzer=$1 corpus=$2
seconds=${SCAND_FUZZ_SECONDS:-10}
T=$(mktemp -d "${TMPDIR:-/tmp}/scand-fuzz.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir "$T/new"
set +e
# -rss_limit_mb: scand's inputs are capped far below this; -timeout: per input.
"$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -print_coverage=1 \
  -artifact_prefix="$T/" "$T/new" "$corpus" >"$T/log" 2>&1
rc=$?
set -e
name=$(basename "$fuzzer")
if [ $rc -ne 0 ]; then
  grep -v "COVERED_FUNC" "$T/log" | tail -60 >&2
  for a in "$T"/crash-* "$T"/leak-* "$T"/timeout-* "$T"/oom-* "$T"/slow-unit-*; do
    [ -e "$a" ] || continue
    echo "--- $name: input that failed ($(basename "$a"), base64):" >&2
    base64 "$a" >&2
  done
  echo "FAIL: $name exited $rc" >&2
  exit 1
fi
# "COVERED_FUNC: hits: 6 edges: 18/38 function /path/to/file.c:23"
read -r functions edges < <(awk '/^COVERED_FUNC:/ && $NF !~ /\/tests\/fuzz\// {
    split($5, e, "/"); n++; s += e[1] } END { print n + 0, s + 0 }' "$T/log")
runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$T/log")
echo "$name: ${runs:-?} inputs in $seconds s; $edges edges covered in $functions functions of scand's own code"
if [ "$edges" -eq 0 ]; then
  echo "FAIL: $name is blind: no edge of scand's own code is covered (is libscand instrumented for it?)" >&2
  exit 1
fi
