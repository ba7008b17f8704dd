#!/bin/sh
# The conformance table of tests/sim/README.md, made from the results that
# build/tests/test_espsim_clients writes (BUILD/conformance/rows/*.txt, one file a row;
# the format is described in tests/e2e/clients_result.h). Never typed by hand.
#
#   tests/conformance.sh render BUILD   print the table (markdown, with its markers)
#   tests/conformance.sh update BUILD   write it into tests/sim/README.md
#   tests/conformance.sh check BUILD    fail if the README's table is not this run's
#
# make check runs "check" after the tests; make conformance-table runs "update".
set -eu
cmd=${1:-}
build=${2:-build}
readme=${3:-tests/sim/README.md}
rows=$build/conformance/rows
begin='<!-- conformance:begin -->'
end='<!-- conformance:end -->'

render() {
  set -- "$rows"/*.txt
  if [ ! -e "$1" ]; then
    echo "conformance.sh: no results in $rows (run build/tests/test_espsim_clients)" >&2
    return 1
  fi
  awk -v begin="$begin" -v end="$end" '
    BEGIN {
      FS = "\t"
      nsteps = split("connect identify stub baud flash_id write verify same_bytes", steps, " ")
      print begin
      print "<!-- Made by tests/conformance.sh from the results of the last run of"
      print "     build/tests/test_espsim_clients (make check). make check fails when this"
      print "     differs from its own run; make conformance-table rewrites it. -->"
      print ""
      print "| chip | bridge | loader | client | connect | chip, MAC | stub | 921600 baud | flash id | write | MD5 / read back | = espdoctor | row |"
      print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    }
    FNR == 1 && NR > 1 { emit() }
    FNR == 1 { delete cell; delete note; chip = bridge = loader = client = ""; done = 0 }
    $1 == "chip" { chip = $2 }
    $1 == "bridge" { bridge = $2 }
    $1 == "loader" { loader = $2 }
    $1 == "client" { client = $2 }
    $1 == "cell" { cell[$2] = $3; note[$2] = $4 }
    $1 == "done" { done = 1 }
    function footnote(text) {
      if (!(text in notes)) { notes[text] = ++nnotes; order[nnotes] = text }
      return " [" notes[text] "]"
    }
    function show(v, n) {
      if (v == "pass") return "pass"
      if (v == "FAIL") return "**FAIL**"
      if (v == "not-reached") return "not reached"
      if (v == "none") return "-"
      if (v == "n/a" || v == "cannot") return (v == "n/a" ? "n/a" : "cannot") footnote(n)
      return "?"
    }
    function emit(   line, s, verdict, v) {
      verdict = "pass"
      line = "| " chip " | " bridge " | " loader " | " client
      for (s = 1; s <= nsteps; s++) {
        v = (steps[s] in cell) ? cell[steps[s]] : ""
        if (v == "FAIL" || v == "") verdict = "**FAIL**"
        else if (v == "cannot" && verdict == "pass" && (steps[s] == "connect" || steps[s] == "write"))
          verdict = "client cannot"
        line = line " | " show(v, note[steps[s]])
      }
      if (!done) verdict = "**FAIL** (did not finish)"
      print line " | " verdict " |"
    }
    END {
      emit()
      print ""
      for (i = 1; i <= nnotes; i++) print "[" i "] " order[i]
      if (nnotes) print ""
      print end
    }
  ' "$@"
}

# The README between (and with) the markers.
section() {
  awk -v begin="$begin" -v end="$end" '
    $0 == begin { on = 1 } on { print } $0 == end { on = 0 }
  ' "$readme"
}

case "$cmd" in
  render)
    render
    ;;
  update)
    grep -qxF "$begin" "$readme" && grep -qxF "$end" "$readme" || {
      echo "conformance.sh: $readme has no $begin ... $end section" >&2
      exit 1
    }
    table=$(mktemp)
    out=$(mktemp)
    trap 'rm -f "$table" "$out"' EXIT
    render >"$table"
    awk -v begin="$begin" -v end="$end" -v table="$table" '
      $0 == begin { while ((getline line < table) > 0) print line; skip = 1; next }
      $0 == end { skip = 0; next }
      !skip { print }
    ' "$readme" >"$out"
    cat "$out" >"$readme"
    echo "conformance.sh: wrote the table of $rows into $readme" >&2
    ;;
  check)
    table=$(mktemp)
    trap 'rm -f "$table"' EXIT
    render >"$table"
    if ! section | diff -u - "$table" >&2; then
      echo "conformance.sh: the table in $readme is not what this run produced (diff above:" \
           "- committed, + this run). If the run is right: make conformance-table, commit." >&2
      exit 1
    fi
    echo "conformance table: $(grep -c '^| ESP' "$table") rows, as committed in $readme"
    ;;
  *)
    echo "usage: $0 render|update|check BUILD_DIR [README]" >&2
    exit 2
    ;;
esac
