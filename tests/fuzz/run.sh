#!/bin/sh
# Run libFuzzer harnesses one after another (the machine may have two cores and other
# work), each for SECONDS on a fresh copy of its seed corpus, and print one line each.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS HARNESS...
#
# Fails if any harness reports a crash, a leak, undefined behaviour, a timeout or running
# out of memory; the input that did it is kept in BUILD_DIR/artifacts/<harness>/ and can
# be replayed with: BUILD_DIR/<harness> BUILD_DIR/artifacts/<harness>/<file>
# Per-harness libFuzzer flags may be given in tests/fuzz/<harness>.options (one line).
set -u
build=$1 seconds=$2; shift 2
here=$(dirname "$0")

case "$seconds" in
  ''|*[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a whole number of seconds, not '$seconds'" >&2
               exit 2 ;;
esac

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# stat::NAME: VALUE from libFuzzer's -print_final_stats output.
stat() {
  sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -n 1
}

failed="" total_runs=0 count=0
for bin in "$@"; do
  name=$(basename "$bin")
  work=$build/run/$name
  artifacts=$build/artifacts/$name
  log=$build/logs/$name.log
  rm -rf "$work"
  mkdir -p "$work/corpus" "$artifacts" "$(dirname "$log")"
  if [ -d "$here/corpus/$name" ]; then
    cp "$here/corpus/$name"/* "$work/corpus/" 2>/dev/null
  fi
  seeds=$(ls "$work/corpus" | wc -l)
  extra=""
  [ -f "$here/$name.options" ] && extra=$(cat "$here/$name.options")

  # shellcheck disable=SC2086
  "$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
         -artifact_prefix="$artifacts/" $extra "$work/corpus" >"$log" 2>&1
  rc=$?

  runs=$(stat number_of_executed_units "$log")
  speed=$(stat average_exec_per_sec "$log")
  added=$(stat new_units_added "$log")
  rss=$(stat peak_rss_mb "$log")
  cov=$(sed -n 's/.*DONE *cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  findings=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$log")
  count=$((count + 1))
  total_runs=$((total_runs + ${runs:-0}))
  if [ $rc -ne 0 ] || [ "$findings" -ne 0 ] || [ -z "$runs" ]; then
    printf '%-22s FAILED (exit %s) after %s runs; log: %s\n' "$name" "$rc" "${runs:-?}" "$log"
    grep -E -A 30 'does not hold|ERROR: |runtime error:|deadly signal|SUMMARY: ' "$log" | head -n 50
    ls "$artifacts" | sed "s|^|  input kept: $artifacts/|"
    failed="$failed $name"
    continue
  fi
  printf '%-22s ok: %9s runs in %ss (%s/s), %s seeds + %s new inputs, cov %s, rss %s MB\n' \
         "$name" "$runs" "$seconds" "$speed" "$seeds" "${added:-0}" "${cov:-?}" "${rss:-?}"
done

echo "fuzz: $count harnesses, $total_runs runs, ${seconds}s each"
if [ -n "$failed" ]; then
  echo "fuzz: findings in:$failed" >&2
  exit 1
fi
exit 0
