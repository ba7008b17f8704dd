#!/bin/sh
# Run every Criterion test binary, then print one summary line.
# Usage: tests/run.sh BUILD_DIR BIN...
# Fails if any binary fails, crashes, or skips a test (Criterion's JSON report counts them).
# Every fix_command the end-to-end runs printed in JSON is collected (tests/e2e/e2e_fix.h
# appends them to $ESPDOCTOR_FIX_LOG, and checks each as it comes); at the end they are
# counted and each distinct one is run through `bash -n` once more.
# Every line a --json run printed (tests/e2e/e2e_json.h appends them to $ESPDOCTOR_JSON_LOG)
# is validated at the end against the shipped schema by Debian's python3-jsonschema
# (tests/tools/validate_json.py); one that fails fails the suite.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$1; shift
total=0; passed=0; failed=0; bad_bins=""
log=$(mktemp)
ESPDOCTOR_FIX_LOG=$(mktemp)
export ESPDOCTOR_FIX_LOG
ESPDOCTOR_JSON_LOG=$(mktemp)
export ESPDOCTOR_JSON_LOG
# The flashes' compressed-stream cache goes to a scratch folder, not the user's ~/.cache.
XDG_CACHE_HOME=$(mktemp -d)
export XDG_CACHE_HOME
# Never the user's configuration file: its folder is a scratch one, and by default no file
# at all (ESPDOCTOR_CONFIG set empty), so no test picks a board another test remembered;
# the tests of the file name their own with ESPDOCTOR_CONFIG or XDG_CONFIG_HOME.
XDG_CONFIG_HOME=$(mktemp -d)
export XDG_CONFIG_HOME
ESPDOCTOR_CONFIG=
export ESPDOCTOR_CONFIG
trap 'rm -f "$log" "$log.json" "$ESPDOCTOR_FIX_LOG" "$log.fix" "$ESPDOCTOR_JSON_LOG"; rm -rf "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME"' EXIT

for bin in "$@"; do
  name=$(basename "$bin")
  printf '%s\n' "== $name"
  rm -f "$log.json"
  "$bin" --jobs 2 --output=json:"$log.json" >"$log" 2>&1
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
  # Criterion prints nothing for a skipped or disabled test: its JSON report counts them.
  skipped=$(sed -n '2,/"test_suites"/s/^  "skipped": \([0-9]*\).*/\1/p' "$log.json" 2>/dev/null)
  if [ "${skipped:-0}" != 0 ]; then
    echo "run.sh: $name skipped $skipped tests; skips are failures here" >&2
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
sort -u "$ESPDOCTOR_FIX_LOG" >"$log.fix"
commands=$(wc -l <"$ESPDOCTOR_FIX_LOG")
distinct=$(wc -l <"$log.fix")
unparsed=0
while IFS= read -r command; do
  if ! bash -n -c "$command" 2>/dev/null; then
    echo "run.sh: a fix_command does not pass bash -n: $command" >&2
    unparsed=$((unparsed + 1))
  fi
done <"$log.fix"
echo "fix_command: $commands printed by the e2e runs, $distinct distinct, $unparsed failing bash -n"
[ "$unparsed" -eq 0 ] || bad_bins="$bad_bins fix_command(bash-n)"

/usr/bin/python3 "$top/tests/tools/validate_json.py" "$top/share/espdoctor/espdoctor.schema.json" \
  "$ESPDOCTOR_JSON_LOG" || bad_bins="$bad_bins json-schema"

echo "tests: $total run in $# binaries (build: $build)"
echo "$passed passed, $failed failed"
if [ -n "$bad_bins" ]; then
  echo "failing:$bad_bins" >&2
  exit 1
fi
[ "$total" -gt 0 ] || { echo "run.sh: no tests ran" >&2; exit 1; }
exit 0
