#!/usr/bin/env bash
# make browser-test: installs what the browser test needs if it is missing
# (Debian's chromium and firefox-esr, puppeteer-core pinned in package.json,
# into tests/browser/node_modules), then runs test.mjs.
#
#   run.sh [--browser chromium|firefox|all]    (default all)
#   run.sh --install-only BROWSER...            install only (make browser-scenarios, firefox-runner)
#
# env: BUILD (default build), DEMO (default $BUILD/demo), NODE (default node),
#      PIE_LIBDIR (libc.so's directory: if set and $DEMO/main-pie.wasm exists,
#      the PIE demo runs too)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
DEMO=${DEMO:-$BUILD/demo}
NODE=${NODE:-node}
browser=all
install_only=
case "${1:-}" in
    --browser) browser=${2:?usage: run.sh [--browser chromium|firefox|all]} ;;
    --install-only) install_only=1; shift; browser=" $* " ;;
esac

# Debian's package for each browser, installed where its binary is missing.
# A fresh machine may have no package lists yet: then apt-get update, once.
apt_install() {
    local sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get install -y "$@" || { $sudo apt-get update && $sudo apt-get install -y "$@"; }
}
need=()
if [[ $browser == all || $browser == *chromium* ]] && [ ! -x /usr/bin/chromium ]; then need+=(chromium); fi
if [[ $browser == all || $browser == *firefox* ]] && [ ! -x /usr/bin/firefox-esr ]; then need+=(firefox-esr); fi
if [ ${#need[@]} -gt 0 ]; then
    echo "browser-test: installing Debian's ${need[*]}"
    apt_install "${need[@]}"
fi
want=$(sed -n 's/.*"puppeteer-core": "\(.*\)".*/\1/p' "$here/package.json")
have=$(sed -n 's/^  "version": "\(.*\)".*/\1/p' "$here/node_modules/puppeteer-core/package.json" 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    echo "browser-test: installing puppeteer-core $want"
    (cd "$here" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi
[ -z "$install_only" ] || exit 0
for f in "$BUILD/libdl.so" "$DEMO/main.wasm" "$DEMO/plugins/libgreet.so" "$DEMO/plugins/libcounter.so"; do
    [ -f "$f" ] || { echo "browser-test: $f is missing (make demo)" >&2; exit 1; }
done
pie=()
if [ -n "${PIE_LIBDIR:-}" ]; then pie=(--pie-lib "$PIE_LIBDIR"); fi
exec "$NODE" "$here/test.mjs" --browser "$browser" --libdl "$BUILD/libdl.so" --demo "$DEMO" "${pie[@]}"
