#!/usr/bin/env bash
# The wasmtime runner's on-disk cache of compiled modules (host-abi/SPEC.md,
# "Caching compiled modules"), through the runner as a user runs it: the demo
# with --cache DIR, checked by its output and by the runner's own counts
# (WASMDL_CACHE_STATS). Correctness only; speed is for `make bench`.
#
#   1. two processes fill one empty cache at once: both run correctly, and
#      every entry left is whole (a third run takes everything from disk);
#   2. truncated, corrupted and emptied entries are rejected and rebuilt;
#   3. a changed plugin file is compiled anew, its old entry left unused.
#
# usage: run.sh RUNNER LIBDL DEMO-DIR EXPECTED-OUT   (DEMO-DIR: main.wasm, plugins/)
set -uo pipefail
runner=$(readlink -f "$1") libdl=$(readlink -f "$2") demo=$(readlink -f "$3") expected=$(readlink -f "$4")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache=$work/cache
cp -r "$demo/plugins" "$work/plugins"
cp "$demo/main.wasm" "$work/main.wasm"
fail=0
ok() { echo "ok   cache: $*"; }
bad() { echo "FAIL cache: $*"; fail=1; }

# run NAME: the demo with the cache; stdout compared, the counts kept in NAME.stats.
run() {
    (cd "$work" && WASMDL_CACHE_STATS=1 "$runner" --libdl "$libdl" --cache "$cache" --dir plugins main.wasm plugins) \
        >"$work/$1.out" 2>"$work/$1.err"
    local status=$?
    grep '^wasmdl-run: cache:' "$work/$1.err" >"$work/$1.stats"
    if [ $status != 0 ] || ! diff -q "$expected" "$work/$1.out" >/dev/null; then
        bad "$1: exit status $status or wrong output"; sed 's/^/    | /' "$work/$1.err" | head -10
        return 1
    fi
}
# count NAME FIELD: a number from NAME's stats line ("compiled", "from disk", ...).
count() { sed -E "s/.* ([0-9]+) $2.*/\1/" "$work/$1.stats"; }

# 1. Two processes at once on an empty cache.
run a & pa=$!
run b & pb=$!
wait $pa; wait $pb
n=$(ls "$cache"/*.cwasm 2>/dev/null | wc -l)
leftover=$(ls "$cache" | grep -cv '\.cwasm$')
if [ "$(count a compiled)" -gt 0 ] && [ "$n" -gt 0 ] && [ "$leftover" = 0 ]; then
    ok "two processes filled an empty cache at once: both ran, $n entries, no temporary file left"
else
    bad "concurrent fill: $(cat "$work/a.stats") / $(cat "$work/b.stats"); $n entries, $leftover other files"
fi
run warm
if [ "$(count warm compiled)" = 0 ] && [ "$(count warm 'from disk')" = "$n" ] && [ "$(count warm rejected)" = 0 ]; then
    ok "a third process took all $n modules from the cache, compiling none"
else
    bad "warm run: $(cat "$work/warm.stats") (expected 0 compiled, $n from disk)"
fi

# 2. Damaged entries: each kind of damage on every entry, then a run.
for damage in truncate flip empty; do
    for f in "$cache"/*.cwasm; do
        size=$(stat -c %s "$f")
        case $damage in
            truncate) truncate -s $((size / 2)) "$f" ;;
            flip) perl -e 'open(F, "+<", $ARGV[0]) or die; seek(F, $ARGV[1], 0); read(F, $c, 1);
                           seek(F, $ARGV[1], 0); print F chr(ord($c) ^ 0xff)' "$f" $((size - 100)) ;;
            empty) : >"$f" ;;
        esac
    done
    run "$damage" || continue
    if [ "$(count "$damage" rejected)" = "$n" ] && [ "$(count "$damage" compiled)" = "$n" ] &&
       [ "$(count "$damage" written)" = "$n" ]; then
        ok "$damage: all $n damaged entries rejected, compiled again and rewritten"
    else
        bad "$damage: $(cat "$work/$damage.stats") (expected $n rejected, compiled, written)"
    fi
done

# 3. A changed file: another module, compiled anew; the rest from disk.
# A custom section appended (id 0, size 1, name length 0): another file, the
# same code.
printf '\0\1\0' >>"$work/plugins/libgreet.so"
run changed
if [ "$(count changed compiled)" = 1 ] && [ "$(count changed 'from disk')" = $((n - 1)) ]; then
    ok "a changed plugin file was compiled anew, the other $((n - 1)) modules came from the cache"
else
    bad "changed file: $(cat "$work/changed.stats") (expected 1 compiled, $((n - 1)) from disk)"
fi
exit $fail
