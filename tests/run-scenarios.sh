#!/usr/bin/env bash
# Golden scenario tests: build each tests/scenarios/NAME (main.c -> main.wasm,
# with extra link flags from its ldflags file; lib*.c -> lib*.so, in the order
# of its plugins file if there is one, each with extra flags from lib*.flags,
# where @OUT@ is the build dir, so a plugin can link against another to NEED
# it; files/* copied; prepare.sh run), then run main.wasm, with --env for each
# line of its env file, on
# every runner given, with the build dir preopened as /t, and compare stdout
# with expected.out and the exit status with expected.status (default 0).
#
# usage: run-scenarios.sh NAME=RUNNER-COMMAND...  [-- SCENARIO...]
# env:   CC (compiler with target and sysroot), PROGRAM_LDFLAGS, PLUGIN_FLAGS, BUILD,
#        PROGRAM_LDFLAGS_SLIM (used instead for a scenario with a slim file: the
#        static program exports only the libc it links, plus its ldflags' names),
#        SKIP ("RUNNER:SCENARIO ..." pairs a runner cannot run, said so in the output),
#        SCENARIO_TIMEOUT (seconds a run may take before it is killed and fails; 300),
#        PIE_CC, PIE_LDFLAGS (if set, main.c is also built as a PIE program
#        against libc.so, with pie-ldflags instead of ldflags (@OUT@ is the
#        build dir, so the program can be linked against a plugin), into pie/; runners
#        whose name ends in -pie run that one; a scenario with a no-pie file,
#        which says why, is not built as PIE)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runners=()
only=()
while [ $# -gt 0 ]; do
    case "$1" in
        --) shift; only=("$@"); break ;;
        *) runners+=("$1"); shift ;;
    esac
done
[ ${#runners[@]} -gt 0 ] || { echo "usage: $0 NAME=RUNNER... [-- SCENARIO...]" >&2; exit 2; }

pass=0; fail=0; failed=()
for dir in "$here"/scenarios/*/; do
    name=$(basename "$dir")
    if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " =~ " $name " ]]; then continue; fi
    out="$BUILD/scenarios/$name"
    rm -rf "$out"; mkdir -p "$out"
    build_log="$out/build.log"
    if ! {
        if [ -f "$dir/slim" ]; then ldflags=${PROGRAM_LDFLAGS_SLIM:?}; else ldflags=$PROGRAM_LDFLAGS; fi &&
        $CC -O2 -o "$out/main.wasm" "$dir/main.c" $ldflags $(cat "$dir/ldflags" 2>/dev/null) &&
        if [ -f "$dir/plugins" ]; then libs=$(sed "s|^|$dir/|; s|\$|.c|" "$dir/plugins"); else libs=$(ls "$dir"/lib*.c 2>/dev/null); fi
        for lib in $libs; do
            flags=$(sed "s|@OUT@|$out|g" "${lib%.c}.flags" 2>/dev/null || true)
            (cd "$out" && $CC -O2 $PLUGIN_FLAGS -o "$out/$(basename "$lib" .c).so" "$lib" $flags) || exit 1
        done &&
        { [ -z "${PIE_CC:-}" ] || [ -f "$dir/no-pie" ] || { mkdir -p "$out/pie" &&
            $PIE_CC -O2 -o "$out/pie/main.wasm" "$dir/main.c" $PIE_LDFLAGS $(sed "s|@OUT@|$out|g" "$dir/pie-ldflags" 2>/dev/null); }; } &&
        { [ ! -d "$dir/files" ] || cp "$dir"/files/* "$out/"; } &&
        { [ ! -x "$dir/prepare.sh" ] || SRC="$dir" CC="$CC" PLUGIN_FLAGS="$PLUGIN_FLAGS" "$dir/prepare.sh" "$out"; }
    } > "$build_log" 2>&1; then
        echo "FAIL $name (build)"; sed 's/^/    /' "$build_log"
        fail=$((fail + 1)); failed+=("$name(build)"); continue
    fi
    want_status=$(cat "$dir/expected.status" 2>/dev/null || echo 0)
    # One argument, and one NAME=VALUE, per line (spaces kept).
    args=(); [ ! -f "$dir/args" ] || mapfile -t args < "$dir/args"
    envs=(); if [ -f "$dir/env" ]; then while IFS= read -r e; do envs+=(--env "$e"); done < "$dir/env"; fi
    for r in "${runners[@]}"; do
        rname=${r%%=*}; rcmd=${r#*=}
        if [[ " ${SKIP:-} " == *" $rname:$name "* ]]; then
            echo "skip $name [$rname]"
            continue
        fi
        rundir=$out
        if [[ $rname == *-pie ]]; then
            if [ -f "$dir/no-pie" ]; then echo "skip $name [$rname]: $(cat "$dir/no-pie")"; continue; fi
            rundir=$out/pie
        fi
        : > "$out/$rname.diff"
        (cd "$rundir" && timeout "${SCENARIO_TIMEOUT:-300}" $rcmd --dir "$out::/t" "${envs[@]}" main.wasm "${args[@]}") > "$out/$rname.out" 2> "$out/$rname.err"
        status=$?
        # stderr is compared too when the scenario has expected.err (after
        # its err.sed filter, for addresses and timings).
        err_ok=1
        if [ -f "$dir/expected.err" ]; then
            sed -E -f "${dir}err.sed" "$out/$rname.err" > "$out/$rname.err.filtered" 2>/dev/null || cp "$out/$rname.err" "$out/$rname.err.filtered"
            diff -u "$dir/expected.err" "$out/$rname.err.filtered" >> "$out/$rname.diff" || err_ok=0
        fi
        # A PIE program may legitimately differ (libc.so is a module of its
        # own): expected.pie.out, where present, is its golden file.
        want_out=$dir/expected.out
        if [[ $rname == *-pie ]] && [ -f "$dir/expected.pie.out" ]; then want_out=$dir/expected.pie.out; fi
        if diff -u "$want_out" "$out/$rname.out" >> "$out/$rname.diff" && [ "$err_ok" = 1 ] && [ "$status" = "$want_status" ]; then
            echo "ok   $name [$rname]"
            pass=$((pass + 1))
        else
            echo "FAIL $name [$rname]: exit status $status (expected $want_status)"
            sed 's/^/    /' "$out/$rname.diff"
            echo "    stderr:"; sed 's/^/    | /' "$out/$rname.err" | head -20
            fail=$((fail + 1)); failed+=("$name[$rname]")
        fi
    done
done
echo "scenarios: $pass passed, $fail failed${failed:+: ${failed[*]}}"
[ "$fail" = 0 ]
