#!/bin/sh
# make demo: the story espdoctor exists for, told against the virtual board.
#   1. a board that "won't open" in uPyCraft: the doctor finds it has no MicroPython;
#   2. the wrong firmware (an ESP32 image for an ESP8266) is refused, nothing written;
#   3. the right firmware is flashed, verified, and MicroPython answers;
#   4. the doctor now says the board is ready.
# Usage: tests/demo.sh BUILD_DIR
set -u
build=${1:-build}
sim="$build/espsim"
doc="$build/espdoctor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The virtual boards are not the user's: nothing of them goes into the configuration file.
ESPDOCTOR_CONFIG=
export ESPDOCTOR_CONFIG

# Bold headings only on a terminal, and never with NO_COLOR set.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold='\033[1m'; plain='\033[0m'; else bold=; plain=; fi
step() { printf "\n${bold}== %s${plain}\n" "$*"; }
expect() {   # expect CODE COMMAND...: run, show, and insist on the exit code
  want=$1; shift
  printf '$ %s\n' "$*" | sed "s|$build/||g; s|$work/||g"
  "$@"
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "demo: expected exit $want, got $got" >&2
    exit 1
  fi
}

# The flasher stub is the build's own copy (build/share/espdoctor/stub_flasher, from
# mk/stubs.sh), found beside the program as an installed one is; without it the ROM
# loader does the work, more slowly.

"$build/mkimage" --chip esp32 --kind merged --size 1.5M --micropython v1.24.0 \
  -o "$work/ESP32_GENERIC-v1.24.0.bin" || exit 1
cp "$work/ESP32_GENERIC-v1.24.0.bin" "$work/esp32spiram-20190913-v1.11-312-g22099ab88.bin"

step "An ESP32 board running its factory app: uPyCraft says 'open serial error'. Why?"
expect 0 "$sim" --chip esp32 --mac 24:0a:c4:12:34:56 --firmware app --flash "$work/esp32.flash" \
  -- "$doc"

step "An ESP8266 board and the ESP32 firmware from the seed story: refused, nothing written"
expect 3 "$sim" --chip esp8266 --flash "$work/esp8266.flash" -- \
  "$doc" flash "$work/esp32spiram-20190913-v1.11-312-g22099ab88.bin"

step "The ESP32 board gets MicroPython: address from the image, compressed, MD5-verified"
expect 0 "$sim" --chip esp32 --mac 24:0a:c4:12:34:56 --flash "$work/esp32.flash" -- \
  "$doc" flash "$work/ESP32_GENERIC-v1.24.0.bin"

step "The doctor again: the board is ready and MicroPython answers"
expect 0 "$sim" --chip esp32 --mac 24:0a:c4:12:34:56 --flash "$work/esp32.flash" -- "$doc"

step "Identify the chip (what 'espdoctor info --json' gives an IDE)"
expect 0 "$sim" --chip esp32 --mac 24:0a:c4:12:34:56 --flash "$work/esp32.flash" -- \
  "$doc" info --json

printf '\ndemo: all steps behaved as expected\n'
