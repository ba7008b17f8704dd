#!/bin/sh
# Run every Criterion test binary, then print one summary line.
# Usage: tests/run.sh BUILD_DIR BIN...
# Fails if any binary fails, crashes, or reports a skipped test.
set -u
build=$1; shift
total=0; passed=0; failed=0; bad_bins=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for bin in "$@"; do
  name=$(basename "$bin")
  printf '%s\n' "== $name"
  "$bin" --jobs 2 >"$log" 2>&1
  rc=$?
  # Show failures in full; otherwise just the synthesis line.
  if [ $rc -ne 0 ]; then
    cat "$log"
    bad_bins="$bad_bins $name"
  else
    grep -E 'Synthesis' "$log" || true
  fi
  line=$(grep -E 'Synthesis: Tested: [0-9]+' "$log" | tail -n 1)
  t=$(printf '%s' "$line" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
  p=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
  f=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
  c=$(printf '%s' "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
  if grep -qiE 'skipp' "$log"; then
    echo "run.sh: $name reported skipped tests; skips are failures here" >&2
    bad_bins="$bad_bins $name(skipped)"
  fi
  if [ -z "$t" ]; then
    echo "run.sh: $name printed no Criterion summary (exit $rc)" >&2
    [ $rc -eq 0 ] && bad_bins="$bad_bins $name(no-summary)"
    continue
  fi
  total=$((total + t)); passed=$((passed + p)); failed=$((failed + f + c))
done

echo
echo "tests: $total run in $# binaries (build: $build)"
echo "$passed passed, $failed failed"
if [ -n "$bad_bins" ]; then
  echo "failing:$bad_bins" >&2
  exit 1
fi
[ "$total" -gt 0 ] || { echo "run.sh: no tests ran" >&2; exit 1; }
exit 0
