#!/bin/sh
# Install the pinned esptool-js (package.json, package-lock.json) into tests/js/node_modules
# for tests/e2e/test_espsim_esptooljs.c. Does nothing when that version is already there.
# Usage: sh tests/js/setup.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
want=$(sed -n 's/.*"esptool-js": *"\([^"]*\)".*/\1/p' "$here/package.json")
have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
       "$here/node_modules/esptool-js/package.json" 2>/dev/null | head -n 1)
if [ -n "$have" ] && [ "$have" = "$want" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "tests/js/setup.sh: npm is missing (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
echo "tests/js/setup.sh: installing esptool-js $want into $here/node_modules" >&2
npm ci --prefix "$here" --no-audit --no-fund >&2
