#!/bin/sh
# Put the flasher stubs espdoctor uploads into BUILD/share/espdoctor/stub_flasher: the
# stub_flasher/<chip>.json files of the esptool-js npm package, the release whose digests
# src/stub_known.c lists (every file is checked against that table; nothing else is
# copied). They come from tests/js/node_modules when the tests' pinned copy is that release,
# else from `npm pack`. They are never committed; `make install` copies them. Without npm
# the build goes on (the ROM loader does the work) and says what to run.
# Usage: sh mk/stubs.sh BUILD
set -eu
build=$1
release=0.7.0
chips="esp8266 esp32 esp32s2 esp32s3 esp32c3 esp32c6"
out=$build/share/espdoctor/stub_flasher
here=$(cd "$(dirname "$0")/.." && pwd)

complete() {
  for chip in $chips; do [ -s "$1/$chip.json" ] || return 1; done
}
complete "$out" && exit 0

version_of() {
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$1/package.json" 2>/dev/null | head -n 1
}

src=$here/tests/js/node_modules/esptool-js
if [ "$(version_of "$src")" != "$release" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    cat >&2 <<MSG
espdoctor: the flasher stubs were not fetched: npm is missing. espdoctor works without
  them (the ROM loader flashes, more slowly; an ESP8266 flash is then unverified). To add
  them, install npm and build again:
    sudo apt-get install -y npm && make
MSG
    exit 0
  fi
  fetch=$build/stub-fetch
  rm -rf "$fetch" && mkdir -p "$fetch"
  if ! (cd "$fetch" && npm pack --silent "esptool-js@$release" >/dev/null 2>npm.log &&
        tar xzf "esptool-js-$release.tgz"); then
    echo "espdoctor: 'npm pack esptool-js@$release' failed (see $fetch/npm.log); the ROM" \
         "loader will do the work. Retry with: make" >&2
    exit 0
  fi
  src=$fetch/package
fi

# Every digest src/stub_known.c lists.
known=$(grep -o '"[0-9a-f]\{64\}"' "$here/src/stub_known.c" | tr -d '"')
mkdir -p "$out"
for chip in $chips; do
  file=$src/lib/targets/stub_flasher/$chip.json
  sum=$(sha256sum "$file" | cut -d' ' -f1)
  if ! printf '%s\n' "$known" | grep -qx "$sum"; then
    echo "espdoctor: $file (SHA-256 $sum) is not esptool-js $release's as src/stub_known.c" \
         "lists it: not installed" >&2
    rm -rf "$out"
    exit 1
  fi
  cp "$file" "$out/$chip.json.tmp" && mv "$out/$chip.json.tmp" "$out/$chip.json"
done
echo "espdoctor: flasher stubs of esptool-js $release in $out" >&2
