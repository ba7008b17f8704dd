#!/bin/sh
# make bench: timing and memory figures through the virtual board's timing model.
#
# Flash cases: a 1.5 MB merged MicroPython image for the ESP32 (written at 0x1000), by
# espdoctor and by a peer, esptool-js from npm (tests/js/row.mjs, as the conformance tests
# run it), on the same virtual board (espsim, the peer over its RFC 2217 server: the same
# timing model), the same image and baud: the stub at 460800 and 921600, the ROM loader at
# 115200, and each tool's defaults (no -b; esptool-js: stub at 115200). "seconds" is end to
# end, the wall time of the command from its start to the verified result (connect, stub
# upload, baud change, write, verify; espdoctor also its boot check), "flash_seconds" the
# flash phase espdoctor reports. The peer runs esptool-js's own sequence (row_esptooljs.mjs:
# connect, identify, stub, baud, flash id, writeFlash with its MD5 check on the stub; on the
# ROM, without the flash id, the row's SPI_FLASH_MD5 is checked here), timed from the
# start of its node command. The floor comes from the image, not from either client:
# build/deflate_floor (tests/tools/deflate_floor.c) takes the smaller of zlib -9 and
# libdeflate -12, the loader's largest block, its framing, replies and round trips, and the
# flash work overlapped as the stub does: its two 16 KiB buffers, erase ahead, each block
# inflated to what it really holds (the tool's header; the bench prints how). Beside
# it, espsim's floor for exactly the commands espdoctor sent (model_min_flash_us).
# Re-flash: the same image again, end to end against the full flash's end to end (the ROM
# finds every file already in flash by its MD5, so no stub is uploaded), the flash phase
# beside it.
# Doctor cases: time to verdict on a healthy board with its factory app (the ESP-IDF app
# espsim writes, the seed user's state), with MicroPython, on an erased board, on one
# without auto-reset, and with nothing plugged in; each must reach the verdict it should. Memory: peak RSS while flashing a 16 MB image. Many boards: the same
# image by flash --all onto 4 boards at once against 1 board (its own "seconds"). A bench
# on the network: a 256 KiB image by flash --all onto 8 boards, each its own espsim behind
# its own RFC 2217 server (-p rfc2217://... eight times), against the same command on 1
# board, same baud and loader, each board fresh; end to end, the median of three runs each,
# with the CPU time espsim and espdoctor used and how busy the machine was (a 2-core
# machine: a miss is said, not hidden).
#
# The flash cases say which timing model espsim used (its --stats "timing_model" and
# "flash_chip": the stub's overlapped pipeline on the GD25Q32C's datasheet times, see
# tests/sim/README.md, "The stub's timing").
# Every case ends with one JSON line, e.g.
#   {"case":"esp32-1.5MB-stub-460800","seconds":S,"flash_seconds":F,"peer_seconds":P,
#    "vs_peer":S/P,"floor_seconds":L,"vs_floor":S/L,"model_min_seconds":M,"ratio":F/M,...}
#   {"case":"doctor-healthy","seconds":S}   {"case":"rss-16MB","max_rss_kb":K}
#   {"case":"flash-all-8-rfc2217","seconds":S8,"one_board_seconds":S1,"ratio":S8/S1,...}
# and the script fails when a target is missed:
#   stub at 460800 and ROM at 115200: vs_peer <= 0.90; defaults: vs_peer <= 0.25;
#   stub at 921600 and on a CP2102N at 3 Mbaud: vs_floor <= 1.10; flash at 460800:
#   ratio <= 1.15;
#   re-flash unchanged: <= 5% of the full flash, end to end;
#   doctor on a healthy board (factory app, MicroPython) and on an erased one <= 1.5 s,
#   without auto-reset <= 2.5 s, nothing plugged in <= 2.5 s (each the median of three); 16 MB flash RSS <= 10 MB;
#   flash --all on 4 boards < 2x the time of 1; on 8 boards over RFC 2217 <= 1.2x.
# Usage: tests/bench.sh BUILD_DIR   (BENCH_QUICK=1: skip the slow 115200 cases;
#   BENCH_ONLY=doctor: only the doctor cases; BENCH_ONLY=network: only the RFC 2217 one)
set -u
build=${1:-build}
sim="$build/espsim"
doc="$build/espdoctor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# No configuration file: a rate remembered from another run would change the figures.
ESPDOCTOR_CONFIG=
export ESPDOCTOR_CONFIG
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
# only GROUP: the cases of GROUP run (every group when BENCH_ONLY is not set).
only() { [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = "$1" ]; }

"$build/mkimage" --chip esp32 --kind merged --size 1.5M --micropython v1.24.0 \
  -o "$work/mp.bin" >/dev/null || exit 1

# The peer: esptool-js (the npm package the tests install) through tests/js/row.mjs, on the
# same virtual board over espsim's RFC 2217 server (the same timing model), the same image
# at the same address and baud. Its own writeFlash verifies the stub's digest; on the ROM
# the row's SPI_FLASH_MD5 is checked here. Both tools' results are checked in the flash file.
peer_case() {   # peer_case LOADER BAUD: sets peer_secs (wall time of the client's command)
  peer_secs=""
  rm -f "$work/peer.flash" "$work/peer.err"
  "$sim" --chip esp32 --flash "$work/peer.flash" --rfc2217 0 2>"$work/peer.err" &
  simpid=$!
  port=""
  for i in $(seq 100); do
    port=$(sed -n 's/.*rfc2217:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/peer.err")
    [ -n "$port" ] && break
    sleep 0.1
  done
  skip=verify
  [ "$1" = rom ] && skip=flash_id
  t0=$(now)
  node tests/js/row.mjs --client esptool-js --loader "$1" --port "$port" --usb 10c4:ea60 \
    --image "$work/mp.bin" --address "$addr" --baud "$2" --skip "$skip" --limit 600 \
    >"$work/peer.json" 2>"$work/peer.log"
  rc=$?
  t1=$(now)
  kill "$simpid"
  wait "$simpid"
  ok=$(json "$work/peer.json" "d.error === null && (d.loader === 'stub' || d.steps.verify.md5 === '$md5')")
  if [ $rc -ne 0 ] || [ "$ok" != true ] || ! same_flash "$work/peer.flash"; then
    echo "bench: esptool-js ($1 loader, $2 baud) failed (exit $rc):" >&2
    tail -n 5 "$work/peer.log" >&2
    misses=$((misses + 1))
    return
  fi
  peer_secs=$(calc "$t1 - $t0")
}

# same_flash FILE: the flash file holds the image at its address.
same_flash() { cmp -s -n "$size" -i "$addr:0" "$1" "$work/mp.bin"; }

# flash_case NAME LOADER BAUD|default [TARGET LIMIT]...: espdoctor end to end (the wall time
# of its command inside espsim) against the peer and the floor; TARGET is vs_peer or vs_floor.
flash_case() {
  name=$1 loader=$2 baud=$3; shift 3
  opts=""
  [ "$loader" = rom ] && opts="--no-stub"
  [ "$baud" = default ] || opts="$opts -b $baud"
  rm -f "$work/board.flash"
  # A cache of its own: every full flash compresses (while the board connects), as a first
  # flash of a new file does.
  export XDG_CACHE_HOME="$work/cache-$name"
  # shellcheck disable=SC2086
  "$sim" --chip esp32 ${case_bridge:+--bridge "$case_bridge"} --flash "$work/board.flash" \
    --stats "$work/stats.json" -- \
    sh -c 'date +%s.%N >"$1"; shift; "$@"; rc=$?; date +%s.%N >"$0.end"; exit $rc' \
    "$work/t0" "$work/t0" "$doc" flash --json $opts "$work/mp.bin" >"$work/out.json" 2>"$work/err.txt"
  rc=$?
  if [ $rc -ne 0 ] || [ "$(json "$work/out.json" 'd.result')" != ok ] ||
     ! same_flash "$work/board.flash"; then
    echo "bench: $name failed (exit $rc):" >&2
    cat "$work/err.txt" >&2
    misses=$((misses + 1))
    return
  fi
  secs=$(calc "$(cat "$work/t0.end") - $(cat "$work/t0")")
  flash_secs=$(json "$work/out.json" 'd.regions.reduce((s, r) => s + r.seconds, 0).toFixed(3)')
  used_baud=$(json "$work/out.json" 'd.baud')
  model_min=$(json "$work/stats.json" '(d.model_min_flash_us / 1e6).toFixed(3)')
  model=$(json "$work/stats.json" 'd.timing_model + ", flash " + d.flash_chip')
  model_ratio=$(calc "$flash_secs / $model_min")
  # The peer at the same baud (its default, 115200, for the defaults case: no -b either).
  peer_baud=$baud
  [ "$baud" = default ] && peer_baud=115200
  peer_loader=$loader
  [ "$loader" = default ] && peer_loader=stub
  peer_secs=""
  if [ -z "${case_bridge:-}" ]; then peer_case "$peer_loader" "$peer_baud"; fi
  floor_loader=stub
  [ "$loader" = rom ] && floor_loader=rom
  stub_bytes=0
  [ "$floor_loader" = stub ] && stub_bytes=$stub_size
  "$build/deflate_floor" "$work/mp.bin" "$addr" "$used_baud" "$floor_loader" "$stub_bytes" \
    >"$work/floor.json" || { misses=$((misses + 1)); return; }
  floor=$(json "$work/floor.json" 'd.floor_seconds')
  vs_floor=$(calc "$secs / $floor")
  vs_peer=null
  [ -n "$peer_secs" ] && vs_peer=$(calc "$secs / $peer_secs")
  printf '%s: espdoctor %s s end to end (flash phase %s s, %s baud), esptool-js %s s, floor %s s\n' \
    "$name" "$secs" "$flash_secs" "$used_baud" "${peer_secs:-failed}" "$floor"
  printf '  floor: %s\n' "$(json "$work/floor.json" 'd.how')"
  printf '  espsim model for espdoctor'"'"'s own commands: %s s, flash phase / model %s [%s]\n' \
    "$model_min" "$model_ratio" "$model"
  printf '{"case":"%s","seconds":%s,"flash_seconds":%s,"baud":%s,"peer_seconds":%s,"vs_peer":%s,"floor_seconds":%s,"vs_floor":%s,"model_min_seconds":%s,"ratio":%s,"sent":%s,"compressed":%s,"model":"%s"}\n' \
    "$name" "$secs" "$flash_secs" "$used_baud" "${peer_secs:-null}" "$vs_peer" "$floor" \
    "$vs_floor" "$model_min" "$model_ratio" "$(json "$work/out.json" 'd.regions[0].compressed_size')" \
    "$(json "$work/out.json" 'JSON.stringify(d.regions[0].compressed)')" "$model"
  while [ $# -ge 2 ]; do
    case $1 in
      vs_peer) verdict vs_peer "$vs_peer" '<=' "$2" ;;
      vs_floor) verdict vs_floor "$vs_floor" '<=' "$2" ;;
      ratio) verdict ratio "$model_ratio" '<=' "$2" ;;
    esac
    shift 2
  done
  full_flash_secs=$flash_secs
  full_secs=$secs
}

reflash_case() {   # reflash_case BAUD: the same image again onto the board flash_case left
  "$sim" --chip esp32 --flash "$work/board.flash" -- \
    sh -c 'date +%s.%N >"$1"; shift; "$@"; rc=$?; date +%s.%N >"$0.end"; exit $rc' \
    "$work/t0" "$work/t0" "$doc" flash --json -b "$1" "$work/mp.bin" >"$work/out.json" 2>"$work/err.txt"
  rc=$?
  if [ $rc -ne 0 ] || [ "$(json "$work/out.json" 'd.result')" != ok ]; then
    echo "bench: re-flash at $1 failed (exit $rc):" >&2
    cat "$work/err.txt" >&2
    misses=$((misses + 1))
    return
  fi
  secs=$(calc "$(cat "$work/t0.end") - $(cat "$work/t0")")
  flash_secs=$(json "$work/out.json" 'd.regions.reduce((s, r) => s + r.seconds, 0).toFixed(3)')
  share=$(calc "$secs / $full_secs")
  flash_share=$(calc "$flash_secs / $full_flash_secs")
  written=$(json "$work/out.json" 'd.regions.reduce((s, r) => s + r.written, 0)')
  loader=$(json "$work/out.json" 'd.stub ? "flasher stub" : "ROM loader"')
  printf 'esp32 1.5 MB again at %s baud: %s s end to end against %s s for the full flash (%s); flash phase %s s (%s bytes written, by the %s), %s of the full flash'"'"'s\n' \
    "$1" "$secs" "$full_secs" "$share" "$flash_secs" "$written" "$loader" "$flash_share"
  printf '{"case":"reflash-esp32-1.5MB-%s","seconds":%s,"full_seconds":%s,"vs_full":%s,"flash_seconds":%s,"flash_vs_full":%s}\n' \
    "$1" "$secs" "$full_secs" "$share" "$flash_secs" "$flash_share"
  verdict vs_full "$share" '<=' 0.05
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

# BENCH_ONLY=doctor: the doctor cases alone (a minute instead of a quarter of an hour).
if only flash; then
echo "== flashing, end to end, against esptool-js on the same virtual board and against a"
echo "   floor made from the image (espsim's timing model: the stub overlaps its flash work)"
# Where espdoctor writes the merged image (0x1000 on the ESP32), its MD5 and the stub's size.
addr=4096
size=$(wc -c <"$work/mp.bin")
md5=$(md5sum "$work/mp.bin" | cut -d' ' -f1)
stub_size=$(node -e "const s=require('./$stubs/esp32.json');
console.log(Buffer.from(s.text,'base64').length + Buffer.from(s.data,'base64').length)")
flash_case esp32-1.5MB-stub-460800 stub 460800 vs_peer 0.90 ratio 1.15
reflash_case 460800
flash_case esp32-1.5MB-stub-921600 stub 921600 vs_floor 1.10
reflash_case 921600
# A CP2102N (read over USB as one) at its top rate, 3 Mbaud: against the floor alone (the
# peer's row speaks only to the default bridge's VID:PID, and the floor is the target).
case_bridge=cp2102n
flash_case esp32-1.5MB-stub-cp2102n-3000000 stub 3000000 vs_floor 1.10
case_bridge=""
if [ "${BENCH_QUICK:-0}" != 1 ]; then
  flash_case esp32-1.5MB-rom-115200 rom 115200 vs_peer 0.90
  flash_case esp32-1.5MB-defaults default default vs_peer 0.25
fi
fi

if only doctor; then
echo
echo "== doctor time to verdict (wall clock, including the virtual board's start)"
doctor_case healthy-app 1.5 ready --firmware app
doctor_case healthy-micropython 1.5 ready --firmware micropython
doctor_case erased 1.5 "problem (firmware.blank)" --firmware blank
doctor_case no-autoreset 2.5 "problem (reset.no-autoreset)" --firmware app --no-autoreset
if "$doc" list --json 2>/dev/null | node -e "let s='';process.stdin.on('data',c=>s+=c).on('end',()=>process.exit(JSON.parse(s).ports.length?1:0))"; then
  # 2.5 s: with no port at all the doctor watches USB for 1.5 s for a native-USB board that
  # keeps re-enumerating (port.reset-loop, src/check_usb_flap.c) before it says device.none.
  doctor_case no-device 2.5 "no-device (device.none)" none
else
  echo "doctor, no-device: skipped, a real serial device is plugged into this machine"
fi
fi

if only flash; then
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
fi

if only network; then
echo
echo "== a bench on the network: flash --all on 8 boards behind RFC 2217 servers against 1"
"$build/mkimage" --chip esp32 --kind merged --size 256K --micropython v1.24.0 \
  -o "$work/small.bin" >/dev/null || exit 1
small_size=$(wc -c <"$work/small.bin")
ticks=$(getconf CLK_TCK)
# serve_boards N: N espsim ESP32s, fresh flash files, the timing model (not --fast), each
# serving on its own free port; sets net_pids and net_ports (-p rfc2217://... each).
serve_boards() {
  net_pids="" net_ports=""
  for i in $(seq "$1"); do
    rm -f "$work/net.$i.flash"
    "$sim" --chip esp32 --mac "24:0a:c4:00:02:$(printf %02x "$i")" \
      --flash "$work/net.$i.flash" --rfc2217 0 2>"$work/net.$i.err" &
    net_pids="$net_pids $!"
  done
  for i in $(seq "$1"); do
    port=""
    for _ in $(seq 100); do
      port=$(sed -n 's/.*rfc2217:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/net.$i.err")
      [ -n "$port" ] && break
      sleep 0.1
    done
    [ -n "$port" ] || return 1
    net_ports="$net_ports -p rfc2217://127.0.0.1:$port"
  done
}
# cpu_ticks PID...: user + system clock ticks the processes used so far.
cpu_ticks() {
  t=0
  for p in "$@"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
# machine_ticks: the clock ticks of every core since boot, busy and all: "BUSY ALL".
machine_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
net_case() {   # net_case N: sets net_secs (end to end) and net_how (CPU, baud, loader)
  net_secs="" net_how=""
  if ! serve_boards "$1"; then
    echo "bench: espsim did not start serving $1 boards" >&2
    # shellcheck disable=SC2086
    kill $net_pids 2>/dev/null
    misses=$((misses + 1))
    return
  fi
  # shellcheck disable=SC2086
  sim0=$(cpu_ticks $net_pids)
  m0=$(machine_ticks)
  t0=$(now)
  # `times` after it: the CPU espdoctor and its board processes used (its second line).
  # shellcheck disable=SC2086,SC2016
  sh -c '"$@"; rc=$?; times >"$0"; exit $rc' "$work/net.times" \
    "$doc" flash --all $net_ports -b 460800 --json "$work/small.bin" \
    >"$work/net.json" 2>"$work/net.err"
  rc=$?
  t1=$(now)
  m1=$(machine_ticks)
  # shellcheck disable=SC2086
  sim_cpu=$(calc "($(cpu_ticks $net_pids) - $sim0) / $ticks")
  # shellcheck disable=SC2086
  kill $net_pids
  # shellcheck disable=SC2086
  wait $net_pids 2>/dev/null
  doc_cpu=$(awk 'NR == 2 { gsub(/s/, ""); split($1, u, "m"); split($2, k, "m")
    print u[1] * 60 + u[2] + k[1] * 60 + k[2] }' "$work/net.times")
  held=0
  for i in $(seq "$1"); do
    cmp -s -n "$small_size" -i "4096:0" "$work/net.$i.flash" "$work/small.bin" &&
      held=$((held + 1))
  done
  if [ $rc -ne 0 ] || [ "$(json "$work/net.json" 'd.flashed')" != "$1" ] ||
     [ "$held" != "$1" ]; then
    echo "bench: flash --all on $1 RFC 2217 board(s) failed (exit $rc," \
      "$held hold the image):" >&2
    cat "$work/net.err" >&2
    misses=$((misses + 1))
    return
  fi
  net_secs=$(calc "$t1 - $t0")
  busy=$(calc "(${m1% *} - ${m0% *}) / (${m1#* } - ${m0#* })")
  net_how="CPU: espsim $sim_cpu s, espdoctor $doc_cpu s; the machine's"
  net_how="$net_how $(nproc) cores busy $busy of the time; $(json "$work/net.json" \
    "d.boards[0].flash.baud + ' baud, ' + (d.boards[0].flash.stub ? 'stub' : 'ROM loader')")"
}
# Three rounds of 1 board then 8, each case its median (a shared machine is noisy).
ones="" eights=""
for round in 1 2 3; do
  for n in 1 8; do
    net_case "$n"
    printf 'flash --all on %s board(s) over RFC 2217, round %s: %s s end to end (%s)\n' \
      "$n" "$round" "${net_secs:-failed}" "$net_how"
    [ -n "$net_secs" ] || continue
    if [ "$n" = 1 ]; then ones="$ones $net_secs"; else eights="$eights $net_secs"; fi
  done
done
median() { node -e "const t=process.argv.slice(1).map(Number).sort((a,b)=>a-b);
console.log(t.length === 3 ? t[1] : '')" "$@"; }
# shellcheck disable=SC2086
net_one=$(median $ones)
# shellcheck disable=SC2086
net_eight=$(median $eights)
if [ -n "$net_one" ] && [ -n "$net_eight" ]; then
  ratio=$(calc "$net_eight / $net_one")
  printf 'flash --all over RFC 2217, %s-byte image: 1 board %s s, 8 boards %s s (medians' \
    "$small_size" "$net_one" "$net_eight"
  printf ' of%s and%s), ratio %s\n' "$ones" "$eights" "$ratio"
  printf '{"case":"flash-all-8-rfc2217","seconds":%s,"one_board_seconds":%s,"ratio":%s,"image_bytes":%s,"how":"%s"}\n' \
    "$net_eight" "$net_one" "$ratio" "$small_size" "$net_how"
  verdict ratio "$ratio" '<=' 1.2
fi
fi

echo
if [ $misses -ne 0 ]; then
  echo "bench: $misses target(s) missed" >&2
  exit 1
fi
echo "bench: every target met"
