#!/bin/sh
# make check-valgrind: run end-to-end test binaries with every espdoctor they start under
# valgrind memcheck (tests/e2e/e2e_run.h puts $ESPDOCTOR_WRAPPER in front of it, inside
# espsim too), then add up what memcheck reported. Fails on any error or definite leak, and
# when no espdoctor ran under memcheck at all.
# Usage: tests/valgrind.sh BUILD_DIR BIN...
set -u
build=$1; shift

command -v valgrind >/dev/null 2>&1 || {
  echo "check-valgrind: valgrind is missing: sudo apt-get install -y valgrind" >&2
  exit 1
}

logs=$(mktemp -d /tmp/espdoctor-valgrind.XXXXXX)
# espdoctor also runs as nobody (setpriv) in some tests: it must be able to write its log.
chmod 1777 "$logs"
trap 'rm -rf "$logs"' EXIT

supp=$(cd "$(dirname "$0")" && pwd)/valgrind.supp
ESPDOCTOR_WRAPPER="valgrind --tool=memcheck --error-exitcode=97 --leak-check=full"
ESPDOCTOR_WRAPPER="$ESPDOCTOR_WRAPPER --errors-for-leak-kinds=definite --show-leak-kinds=definite"
ESPDOCTOR_WRAPPER="$ESPDOCTOR_WRAPPER --track-origins=yes --suppressions=$supp"
ESPDOCTOR_WRAPPER="$ESPDOCTOR_WRAPPER --log-file=$logs/memcheck.%p.log"
export ESPDOCTOR_WRAPPER
# memcheck runs a program 10-50 times slower; the tests' own time limits grow by this.
export ESPDOCTOR_TIME_SCALE="${ESPDOCTOR_TIME_SCALE:-6}"

start=$(date +%s)
sh "$(dirname "$0")/run.sh" "$build" "$@"
tests_rc=$?
seconds=$(( $(date +%s) - start ))

runs=0; errors=0; definite=0; suppressed=0; bad_logs=""
for log in "$logs"/memcheck.*.log; do
  [ -e "$log" ] || continue
  runs=$((runs + 1))
  e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tr -d , | tail -n 1)
  d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d , | tail -n 1)
  s=$(sed -n 's/.*ERROR SUMMARY:.*suppressed: \([0-9,]*\) from.*/\1/p' "$log" | tr -d , | tail -n 1)
  suppressed=$((suppressed + ${s:-0}))
  if [ -z "$e" ]; then
    # killed before it could summarise (a test's time limit): say so, count it as bad
    bad_logs="$bad_logs $log(no-summary)"
    continue
  fi
  errors=$((errors + e)); definite=$((definite + ${d:-0}))
  if [ "$e" -gt 0 ] || [ "${d:-0}" -gt 0 ]; then
    bad_logs="$bad_logs $log"
  fi
done

for log in $bad_logs; do
  echo "==== ${log%(no-summary)}" >&2
  cat "${log%(no-summary)}" >&2
done

echo "check-valgrind: $runs espdoctor runs under memcheck, $errors errors," \
     "$definite bytes definitely lost ($suppressed umockdev reports suppressed," \
     "tests/valgrind.supp), ${seconds} s"
printf '{"case":"valgrind","runs":%d,"errors":%d,"definitely_lost_bytes":%d,"suppressed":%d,"seconds":%d}\n' \
  "$runs" "$errors" "$definite" "$suppressed" "$seconds"

[ "$runs" -gt 0 ] || { echo "check-valgrind: no espdoctor ran under memcheck" >&2; exit 1; }
[ -z "$bad_logs" ] || exit 1
exit "$tests_rc"
