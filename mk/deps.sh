#!/bin/sh
# Make sure the Debian packages a build needs are present.
# Usage: mk/deps.sh build|test|fuzz
# As root, installs what is missing with apt-get; otherwise names the exact command and fails.
set -eu

build_pkgs="pkg-config libserialport-dev libudev-dev libusb-1.0-0-dev zlib1g-dev libdeflate-dev libmd-dev libjson-c-dev libacl1-dev libncurses-dev"
# python3-jsonschema: tests/run.sh validates every e2e JSON line against the schema.
test_pkgs="libcriterion-dev umockdev libumockdev-dev libglib2.0-dev mandoc man-db ser2net valgrind
  python3-jsonschema"
# libFuzzer and the sanitizer runtimes come with clang's compiler-rt (libclang-rt-dev).
fuzz_pkgs="clang libclang-rt-dev umockdev libumockdev-dev libglib2.0-dev"

case "${1:-build}" in
  build) wanted="$build_pkgs" ;;
  test)  wanted="$build_pkgs $test_pkgs" ;;
  fuzz)  wanted="$build_pkgs $fuzz_pkgs" ;;
  *) echo "usage: $0 build|test|fuzz" >&2; exit 2 ;;
esac

# Node.js is needed by the npm client tests (esptool-js, esp-web-flasher); a Node from
# elsewhere on PATH is fine (18.19 or later).
if [ "${1:-build}" = test ] && ! command -v node >/dev/null 2>&1; then
  wanted="$wanted nodejs npm"
fi

missing=""
for p in $wanted; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
else
  echo "deps: missing Debian packages:$missing" >&2
  echo "deps: install them with:" >&2
  echo "  sudo apt-get install -y$missing" >&2
  exit 1
fi
