#!/usr/bin/env bash
# The host ABI conformance suite: builds the guests into $BUILD/conformance
# and runs each with the runner given, comparing stdout and exit status with
# tests/NAME.expected and tests/NAME.status (default 0).
#
# usage: run.sh RUNNER-COMMAND...
#   e.g. run.sh target/release/wasmdl-run
#        run.sh node host-abi/js/wasmdl-run.mjs
# The runner is called as: RUNNER --libdl GUEST.so PROGRAM.wasm
# (paths absolute). Needs wat2wasm (wabt), od, awk.
#
# Each guest poses as libdl.so: tests/NAME.wat, wrapped in `(module` +
# prelude.wat + the test + its data (preprocess.awk), with a dylink.0
# section inserted first. Its __wasmdl_init runs the checks and prints one
# line each: `ok NAME` or `FAIL NAME: got X want Y`. A test whose first line
# is `(module` is a whole module, used as it is. tests/NAME.program names
# the program to run with it (default: program.wat).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { echo "usage: $0 RUNNER-COMMAND..." >&2; exit 2; }
runner=("$@")
label=$(basename "${runner[$#-1]}")
out=${BUILD:-$here/../../build}/conformance
rm -rf "$out"; mkdir -p "$out/modules"

# The dylink.0 custom section (WASM_DYLINK_MEM_INFO only), as printf escapes.
leb() { # unsigned LEB128
    local v=$1 b
    while :; do
        b=$((v & 0x7f)); v=$((v >> 7))
        if [ $v -ne 0 ]; then printf '\\x%02x' $((b | 0x80)); else printf '\\x%02x' $b; return; fi
    done
}
# add_dylink IN OUT MEMORYSIZE MEMORYALIGN TABLESIZE TABLEALIGN
add_dylink() {
    local sub payload
    sub=$(leb "$3")$(leb "$4")$(leb "$5")$(leb "$6")
    payload='\x08\x64\x79\x6c\x69\x6e\x6b\x2e\x30\x01'$(leb $((${#sub} / 4)))$sub
    { head -c 8 "$1"; printf "\\x00$(leb $((${#payload} / 4)))$payload"; tail -c +9 "$1"; } > "$2"
}

build() {
    local f name flags first size
    for f in "$here"/modules/*.wat; do
        name=$(basename "$f" .wat); flags=
        case $name in *.nocheck) name=${name%.nocheck}; flags=--no-check ;; esac
        wat2wasm $flags "$f" -o "$out/modules/$name.wasm" || return 1
        od -An -v -tx1 "$out/modules/$name.wasm" | tr -d ' \n' | sed 's/../\\&/g' > "$out/modules/$name.str"
        echo >> "$out/modules/$name.str"
    done
    for f in "$here"/program*.wat; do
        wat2wasm "$f" -o "$out/$(basename "$f" .wat).wasm" || return 1
    done
    for f in "$here"/tests/*.wat; do
        name=$(basename "$f" .wat)
        first=$(head -n 1 "$f")
        if [ "${first#(module}" != "$first" ]; then
            cp "$f" "$out/$name.wat"; echo 16 > "$out/$name.size"
        else
            { echo "(module"; cat "$here/prelude.wat" "$f"; } |
                awk -v dir="$out/modules" -v sizefile="$out/$name.size" -f "$here/preprocess.awk" \
                > "$out/$name.wat" || return 1
        fi
        wat2wasm "$out/$name.wat" -o "$out/$name.plain.wasm" || return 1
        # MEM_INFO: the data plus 64 KiB of scratch, aligned to 2 MiB (so
        # that the alignment shows); 3 table slots aligned to 4.
        size=$(cat "$out/$name.size")
        add_dylink "$out/$name.plain.wasm" "$out/$name.so" $((size + 0x10000)) 21 3 2
    done
}
if ! build > "$out/build.log" 2>&1; then
    echo "FAIL conformance (build)"; sed 's/^/    /' "$out/build.log"; exit 1
fi

pass=0; fail=0; failed=()
for f in "$here"/tests/*.wat; do
    name=$(basename "$f" .wat)
    program=$(cat "$here/tests/$name.program" 2>/dev/null || echo program)
    want_status=$(cat "$here/tests/$name.status" 2>/dev/null || echo 0)
    "${runner[@]}" --libdl "$out/$name.so" "$out/$program.wasm" \
        > "$out/$name.$label.out" 2> "$out/$name.$label.err"
    status=$?
    if diff -u "$here/tests/$name.expected" "$out/$name.$label.out" > "$out/$name.$label.diff" &&
        [ "$status" = "$want_status" ]; then
        echo "ok   conformance $name [$label]"
        pass=$((pass + 1))
    else
        echo "FAIL conformance $name [$label]: exit status $status (expected $want_status)"
        sed 's/^/    /' "$out/$name.$label.diff"
        echo "    stderr:"; sed 's/^/    | /' "$out/$name.$label.err" | head -20
        fail=$((fail + 1)); failed+=("$name")
    fi
done
echo "conformance [$label]: $pass passed, $fail failed${failed:+: ${failed[*]}}"
[ "$fail" = 0 ]
