#!/bin/sh
# Install the pinned npm clients (package.json, package-lock.json: esptool-js and
# esp-web-flasher) into tests/js/node_modules for tests/e2e/test_espsim_clients.c.
# Does nothing when every pinned version is already there.
# Usage: sh tests/js/setup.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# "name": "version" pairs of the dependencies block, one per line.
pins=$(sed -n '/"dependencies"/,/}/s/^ *"\([^"]*\)": *"\([^"]*\)".*/\1 \2/p' "$here/package.json")
missing=""
for pin in $(printf '%s\n' "$pins" | tr ' ' '@'); do
  name=${pin%@*} want=${pin#*@}
  have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
         "$here/node_modules/$name/package.json" 2>/dev/null | head -n 1)
  [ "$have" = "$want" ] || missing="$missing $name@$want"
done
[ -z "$missing" ] && exit 0
if ! command -v npm >/dev/null 2>&1; then
  echo "tests/js/setup.sh: npm is missing (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
echo "tests/js/setup.sh: installing$missing into $here/node_modules" >&2
npm ci --prefix "$here" --no-audit --no-fund >&2
