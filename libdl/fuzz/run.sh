#!/bin/sh
# Runs one fuzz target for SECONDS (libFuzzer -max_total_time) over its
# persistent corpus, seeded from the real side modules and the hostile corpus.
# Appends "target seconds execs status" to $OUT/totals.tsv; exits non-zero on
# a crash (the reproducer is left in $OUT/artifacts/TARGET/).
#   usage: run.sh TARGET SECONDS [OUT]
set -u
t=$1 secs=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${3:-$root/build/fuzz}
bin=$out/target/x86_64-unknown-linux-gnu/release/$t
mkdir -p "$out/corpus/$t" "$out/artifacts/$t" "$out/logs" "$out/seeds"
for f in "$root"/build/scenarios/*/*.so "$root"/build/demo/plugins/*.so "$root"/tests/hostile/corpus/*; do
    [ -f "$f" ] && cp "$f" "$out/seeds/$(basename "$(dirname "$f")")-$(basename "$f")"
done
log=$out/logs/$t-$(date +%Y%m%d-%H%M%S).log
start=$(date +%s)
"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t/" "$out/corpus/$t" "$out/seeds" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
# After a crash libFuzzer prints no final stats: the last status line's count.
[ -n "$execs" ] || execs=$(grep -ao '^#[0-9]*' "$log" | tail -1 | tr -d '#')
took=$(( $(date +%s) - start ))
status=ok; [ $rc -eq 0 ] || status=CRASH
printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$took" "${execs:-?}" "$status" "$(basename "$log")" >>"$out/totals.tsv"
echo "fuzz $t: $took s, ${execs:-?} execs, $status (log: $log)"
[ $rc -eq 0 ] || tail -40 "$log"
exit $rc
