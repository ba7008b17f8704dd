#!/bin/sh
# make bench: timing and memory figures through the virtual board's timing model.
#
# Flash cases: a 1.5 MB merged MicroPython image for the ESP32 at 115200, 460800 and 921600
# baud, then the same image again (the unchanged blocks are skipped). The figure is the flash
# phase as espdoctor reports it (its "regions" seconds) against the floor espsim computes for
# exactly the commands that went over the wire (model_min_flash_us: see tests/sim/README.md).
# Doctor cases: time to verdict on a healthy board with its factory app (the ESP-IDF app
# espsim writes, the seed user's state), with MicroPython, on an erased board, on one
# without auto-reset, and with nothing plugged in; each must reach the verdict it should. Memory: peak RSS while flashing a 16 MB image. Many boards: the same
# image by flash --all onto 4 boards at once against 1 board (its own "seconds").
#
# The flash cases say which timing model espsim used (its --stats "timing_model" and
# "flash_chip": the stub's overlapped pipeline on the GD25Q32C's datasheet times, see
# tests/sim/README.md, "The stub's timing").
# Every case ends with one JSON line, e.g.
#   {"case":"esp32-1.5MB-460800","seconds":S,"model_min_seconds":M,"ratio":R,"model":"..."}
#   {"case":"doctor-healthy","seconds":S}   {"case":"rss-16MB","max_rss_kb":K}
# and the script fails when a target is missed:
#   flash at 460800: ratio <= 1.15; re-flash unchanged: <= 15% of the full flash;
#   doctor on a healthy board (factory app, MicroPython) and on an erased one <= 1.5 s,
#   without auto-reset <= 2.5 s (each the median of three); 16 MB flash RSS <= 10 MB;
#   flash --all on 4 boards < 2x the time of 1.
# Usage: tests/bench.sh BUILD_DIR   (BENCH_QUICK=1: skip the slow 115200 case)
set -u
build=${1:-build}
sim="$build/espsim"
doc="$build/espdoctor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
misses=0

# The flasher stub comes from an esptool-js install, as it would on a user's machine.
sh tests/js/setup.sh >/dev/null 2>&1 || echo "bench: esptool-js not installed: ROM loader only" >&2
stubs=tests/js/node_modules/esptool-js/lib/targets/stub_flasher
[ -d "$stubs" ] && export ESPDOCTOR_STUB_DIR="$PWD/$stubs"

# json FILE EXPR: evaluate a JavaScript expression over the JSON document in FILE as `d`
# (a file of JSON lines: the last without an "event" key; progress events come before it).
json() { node -e "const d=require('fs').readFileSync(process.argv[1],'utf8').split('\\n')
.filter(l => l.startsWith('{')).map(l => JSON.parse(l)).filter(o => !('event' in o)).pop();
console.log($2)" "$1"; }
# calc EXPR: arithmetic with decimals.
calc() { node -e "console.log(+($1).toFixed(3))"; }
# verdict NAME VALUE OP LIMIT: print whether a target holds; count misses.
verdict() {
  if [ "$(node -e "console.log($2 $3 $4 ? 1 : 0)")" = 1 ]; then
    printf '  target %s %s %s: met\n' "$1" "$3" "$4"
  else
    printf '  target %s %s %s: MISSED (%s)\n' "$1" "$3" "$4" "$2"
    misses=$((misses + 1))
  fi
}
# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

"$build/mkimage" --chip esp32 --kind merged --size 1.5M --micropython v1.24.0 \
  -o "$work/mp.bin" >/dev/null || exit 1

flash_case() {   # flash_case BAUD: full flash, then re-flash of the same image
  baud=$1
  rm -f "$work/board.flash"
  for pass in full reflash; do
    "$sim" --chip esp32 --flash "$work/board.flash" --stats "$work/stats.json" -- \
      "$doc" flash --json -b "$baud" "$work/mp.bin" >"$work/out.json" 2>"$work/err.txt"
    rc=$?
    if [ $rc -ne 0 ] || [ "$(json "$work/out.json" 'd.result')" != ok ]; then
      echo "bench: flash at $baud ($pass) failed (exit $rc):" >&2
      cat "$work/err.txt" >&2
      misses=$((misses + 1))
      return
    fi
    secs=$(json "$work/out.json" 'd.regions.reduce((s, r) => s + r.seconds, 0).toFixed(3)')
    loader=$(json "$work/out.json" 'd.stub ? "stub" : "ROM"')
    if [ $pass = full ]; then
      full=$secs
      floor=$(json "$work/stats.json" '(d.model_min_flash_us / 1e6).toFixed(3)')
      model=$(json "$work/stats.json" 'd.timing_model + ", flash " + d.flash_chip')
      ratio=$(calc "$secs / $floor")
      printf 'esp32 1.5 MB at %s baud (%s loader): %s s, model floor %s s, ratio %s [model: %s]\n' \
        "$baud" "$loader" "$secs" "$floor" "$ratio" "$model"
      printf '{"case":"esp32-1.5MB-%s","seconds":%s,"model_min_seconds":%s,"ratio":%s,"model":"%s"}\n' \
        "$baud" "$secs" "$floor" "$ratio" "$model"
      [ "$baud" = 460800 ] && verdict ratio "$ratio" '<=' 1.15
    else
      share=$(calc "$secs / $full")
      written=$(json "$work/out.json" 'd.regions.reduce((s, r) => s + r.written, 0)')
      printf 'esp32 1.5 MB again at %s baud: %s s (%s bytes written), %s of the full flash\n' \
        "$baud" "$secs" "$written" "$share"
      printf '{"case":"reflash-esp32-1.5MB-%s","seconds":%s,"vs_full":%s}\n' \
        "$baud" "$secs" "$share"
      verdict vs_full "$share" '<=' 0.15
    fi
  done
}

doctor_case() {   # doctor_case NAME LIMIT VERDICT ESPSIM_OPTIONS...: median of three runs
  name=$1 limit=$2 want=$3; shift 3
  times=""
  for i in 1 2 3; do
    t0=$(now)
    if [ "$1" = none ]; then
      # Nothing plugged in: the real system, outside the virtual board.
      "$doc" --json >"$work/doc.json" 2>/dev/null
    else
      # --button-wait 0: the time to the verdict, not a person's to the buttons
      "$sim" "$@" -- "$doc" --json --button-wait 0 >"$work/doc.json" 2>/dev/null
    fi
    t1=$(now)
    times="$times $(calc "$t1 - $t0")"
  done
  med=$(node -e "const t=process.argv.slice(1).map(Number).sort((a,b)=>a-b); console.log(t[1])" $times)
  status=$(json "$work/doc.json" 'd.verdict.status + (d.verdict.problem ? " (" + d.verdict.problem + ")" : "")')
  printf 'doctor, %s: verdict "%s" in %s s (median of%s)\n' "$name" "$status" "$med" "$times"
  printf '{"case":"doctor-%s","seconds":%s,"verdict":"%s"}\n' "$name" "$med" "$status"
  if [ "$status" != "$want" ]; then
    printf '  verdict wanted "%s": MISSED\n' "$want"
    misses=$((misses + 1))
  fi
  [ -n "$limit" ] && verdict seconds "$med" '<=' "$limit"
}

echo "== flashing (espsim's timing model: the stub overlaps its flash writes and erases with"
echo "   the wire; the floor is the same commands on an ideal client of that model)"
flash_case 460800
flash_case 921600
[ "${BENCH_QUICK:-0}" = 1 ] || flash_case 115200

echo
echo "== doctor time to verdict (wall clock, including the virtual board's start)"
doctor_case healthy-app 1.5 ready --firmware app
doctor_case healthy-micropython 1.5 ready --firmware micropython
doctor_case erased 1.5 "problem (firmware.blank)" --firmware blank
doctor_case no-autoreset 2.5 "problem (reset.no-autoreset)" --firmware app --no-autoreset
if "$doc" list --json 2>/dev/null | node -e "let s='';process.stdin.on('data',c=>s+=c).on('end',()=>process.exit(JSON.parse(s).ports.length?1:0))"; then
  doctor_case no-device 1 "no-device (device.none)" none
else
  echo "doctor, no-device: skipped, a real serial device is plugged into this machine"
fi

echo
echo "== memory: flashing a 16 MB image streams it"
"$build/mkimage" --chip esp32 --kind merged --size 16000K --micropython v1.24.0 \
  -o "$work/big.bin" >/dev/null || exit 1
"$sim" --fast --flash-size 16MB --flash "$work/big.flash" -- \
  "$build/maxrss" "$work/rss" "$doc" flash --json "$work/big.bin" >"$work/big.json" 2>/dev/null
rc=$?
if [ $rc -ne 0 ] || [ "$(json "$work/big.json" 'd.result')" != ok ]; then
  echo "bench: the 16 MB flash failed (exit $rc)" >&2
  misses=$((misses + 1))
else
  kb=$(cat "$work/rss")
  printf 'flash of a 16 MB image: peak RSS %s KiB\n' "$kb"
  printf '{"case":"rss-16MB","max_rss_kb":%s}\n' "$kb"
  verdict max_rss_kb "$kb" '<=' 10240
fi

echo
echo "== many boards at once: flash --all on 4 boards against 1 (espsim --boards N)"
all_case() {   # all_case N: sets all_secs to flash --all's own time for N boards
  rm -f "$work"/all.flash*
  "$sim" --boards "$1" --flash "$work/all.flash" -- \
    "$doc" flash --all --json "$work/mp.bin" >"$work/all.json" 2>"$work/err.txt"
  rc=$?
  all_secs=""
  if [ $rc -ne 0 ] || [ "$(json "$work/all.json" 'd.flashed')" != "$1" ]; then
    echo "bench: flash --all on $1 board(s) failed (exit $rc):" >&2
    cat "$work/err.txt" >&2
    misses=$((misses + 1))
    return
  fi
  all_secs=$(json "$work/all.json" 'd.seconds.toFixed(3)')
}
all_case 1
one=$all_secs
all_case 4
four=$all_secs
if [ -n "$one" ] && [ -n "$four" ]; then
  ratio=$(calc "$four / $one")
  printf 'esp32 1.5 MB, flash --all: 1 board %s s, 4 boards %s s, ratio %s\n' "$one" "$four" \
    "$ratio"
  printf '{"case":"flash-all-4-boards","seconds":%s,"one_board_seconds":%s,"ratio":%s}\n' \
    "$four" "$one" "$ratio"
  verdict ratio "$ratio" '<' 2
fi

echo
if [ $misses -ne 0 ]; then
  echo "bench: $misses target(s) missed" >&2
  exit 1
fi
echo "bench: every target met"
