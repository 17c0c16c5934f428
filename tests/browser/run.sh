#!/usr/bin/env bash
# make browser-test: installs what the browser test needs if it is missing
# (Debian's chromium, playwright-core pinned in package.json, into
# tests/browser/node_modules), then runs test.mjs.
# env: BUILD (default build), DEMO (default $BUILD/demo), NODE (default node)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
DEMO=${DEMO:-$BUILD/demo}
NODE=${NODE:-node}

if [ ! -x /usr/bin/chromium ]; then
    echo "browser-test: installing Debian's chromium"
    if [ "$(id -u)" = 0 ]; then apt-get install -y chromium; else sudo apt-get install -y chromium; fi
fi
want=$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' "$here/package.json")
have=$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$here/node_modules/playwright-core/package.json" 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    echo "browser-test: installing playwright-core $want"
    (cd "$here" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi
for f in "$BUILD/libdl.so" "$DEMO/main.wasm" "$DEMO/plugins/libgreet.so" "$DEMO/plugins/libcounter.so"; do
    [ -f "$f" ] || { echo "browser-test: $f is missing (make demo)" >&2; exit 1; }
done
exec "$NODE" "$here/test.mjs" --libdl "$BUILD/libdl.so" --demo "$DEMO"
