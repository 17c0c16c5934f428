#!/usr/bin/env bash
# Timings and sizes for the closing note (part of make test-python):
#  - wall time of `python3 -c "import json, zlib, sqlite3, decimal, datetime"`
#    on each runner, shared modules (build/python) against built in
#    (build/python-ref), best of 3 (wasmtime with its compiled-code cache
#    warm, as bin/python3 runs it);
#  - the time of each extension module import (python3 -X importtime), shared;
#  - the sizes of python.wasm, the side modules and the NEEDED libraries.
set -uo pipefail
: "${BUILD:?}"
RUNNERS=${RUNNERS:-wasmtime node}
IMPORTS="import json, zlib, sqlite3, decimal, datetime"
best() {  # best PY RUNNER: best wall time of 3 runs, in seconds
    local b=999 t0 t1 t i
    for i in 1 2 3; do
        t0=$(date +%s.%N)
        WASMDL_RUNNER=$2 "$1" -c "$IMPORTS" </dev/null || { echo "failed"; return; }
        t1=$(date +%s.%N)
        t=$(echo "$t1 - $t0" | bc)
        b=$(echo "if ($t < $b) $t else $b" | bc)
    done
    printf '%.2f' "$b"
}
echo "python-measure: \`python3 -c \"$IMPORTS\"\`, best of 3 (s)"
printf '    %-10s %8s %8s %8s\n' runner shared built-in "-c pass"
for r in $RUNNERS; do
    "$BUILD/python/bin/python3" -c pass </dev/null  # fill the cache
    "$BUILD/python-ref/bin/python3" -c pass </dev/null
    t_empty=$(IMPORTS=pass; best "$BUILD/python/bin/python3" "$r")
    printf '    %-10s %8s %8s %8s\n' "$r" "$(best "$BUILD/python/bin/python3" "$r")" "$(best "$BUILD/python-ref/bin/python3" "$r")" "$t_empty"
done
echo "python-measure: extension module imports (python3 -X importtime, shared, microseconds self/cumulative)"
for r in $RUNNERS; do
    WASMDL_RUNNER=$r "$BUILD/python/bin/python3" -X importtime -c "$IMPORTS; import math, _json, _sqlite3, _decimal, _datetime, binascii" </dev/null 2>&1 |
        grep -E '\| +(math|zlib|_json|_sqlite3|_decimal|_datetime|binascii|_struct|_random|_bisect|_heapq|_sha512|_contextvars|_opcode)$' |
        sed "s/^import time:/    $r:/"
done
echo "python-measure: sizes (bytes)"
for f in "$BUILD"/python/bin/python.wasm "$BUILD"/python-static/bin/python.wasm "$BUILD"/python-ref/bin/python.wasm \
         "$BUILD"/python/lib/*.so; do
    [ -f "$f" ] && printf '    %10d  %s\n' "$(stat -c %s "$f")" "${f#$BUILD/}"
done
printf '    %10d  %s\n' "$(cat "$BUILD"/python/lib/python3.11/lib-dynload/*.so | wc -c)" \
    "python/lib/python3.11/lib-dynload: $(ls "$BUILD"/python/lib/python3.11/lib-dynload/*.so | wc -l) side modules"
