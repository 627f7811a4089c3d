# The fuzz smoke run of one target: FUZZER runs for $SCAND_FUZZ_SECONDS
# (default 10) from CORPUS, writing what it finds into a scratch directory
# (the corpus in the tree is only read). Fails on anything libFuzzer reports
# (crash, sanitizer error, leak, timeout, out of memory), printing the input
# that did it, and when the fuzzer is blind: the coverage it reaches on the
# corpus alone ("INITED cov: N", edges of scand's own code once libscand is
# instrumented) must be at least MIN_EDGES.
#   bash smoke.sh FUZZER CORPUS MIN_EDGES
set -euo pipefail
fuzzer=$1 corpus=$2 min_edges=$3
seconds=${SCAND_FUZZ_SECONDS:-10}
T=$(mktemp -d "${TMPDIR:-/tmp}/scand-fuzz.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir "$T/new"
set +e
# -rss_limit_mb: scand's inputs are capped far below this; -timeout: per input.
"$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$T/" "$T/new" "$corpus" >"$T/log" 2>&1
rc=$?
set -e
name=$(basename "$fuzzer")
if [ $rc -ne 0 ]; then
  tail -60 "$T/log" >&2
  for a in "$T"/crash-* "$T"/leak-* "$T"/timeout-* "$T"/oom-* "$T"/slow-unit-*; do
    [ -e "$a" ] || continue
    echo "--- $name: input that failed ($(basename "$a"), base64):" >&2
    base64 "$a" >&2
  done
  echo "FAIL: $name exited $rc" >&2
  exit 1
fi
edges=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$T/log" | head -1)
runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$T/log")
final=$(grep -o 'cov: [0-9]*' "$T/log" | tail -1 | sed 's/cov: //')
echo "$name: ${runs:-?} inputs in ${seconds} s, coverage ${edges:-?} edges from the corpus, ${final:-?} at the end"
[ -n "$edges" ] || { tail -20 "$T/log" >&2; echo "FAIL: $name: no coverage reported" >&2; exit 1; }
if [ "$edges" -lt "$min_edges" ]; then
  echo "FAIL: $name is blind: $edges edges from its corpus, fewer than $min_edges (is libscand instrumented? a" \
    "target with little scand code of its own sets its minimum in fuzz_min_edges, tests/fuzz/meson.build)" >&2
  exit 1
fi
