#!/usr/bin/env bash
# CPython's own tests for the modules made shared (make test-python): each
# test module runs with unittest inside the wasm interpreter (run_tests.py,
# one interpreter per runner and build), on wasmtime and on Node, in
#   shared     build/python: the extension modules are side modules
#   reference  build/python-ref: the same PIE build with the same modules
#              built into python.wasm (MODULE_BUILDTYPE=static)
# and the counts (run, failures, errors, skipped) of the two are compared
# module by module: the target is identical results. A difference fails the
# test; failures present in both builds are reported (they are WASI's, not
# the loader's).
#
# env: the build variables of build.sh (the reference build is made here);
#      optional RUNNERS (default "wasmtime node"), PYTHON_TESTS (the list),
#      PYTHON_TEST_EXCLUDE (-x ID-PART...), PYTHON_TESTS_COMPARE=1 (compare
#      the last run's logs only)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:?BUILD is not set (run through make test-python)}"
RUNNERS=${RUNNERS:-wasmtime node}
PYTHON_TESTS=${PYTHON_TESTS:-test_math test_cmath test_json test_array test_struct test_binascii
    test_bisect test_heapq test_random test_hashlib test_datetime test_decimal test_unicodedata
    test_csv test_pickle test_xml_etree test_xml_etree_c test_pyexpat test_zlib test_sqlite3
    test_statistics test_zoneinfo test_multibytecodec test_codecencodings_jp test_audioop
    test_cprofile test_context test_queue test_capi test_importlib}
PYTHON_TEST_EXCLUDE=${PYTHON_TEST_EXCLUDE:--x test_capi.test_misc.TestPendingCalls}
out=$BUILD/python-build/tests
mkdir -p "$out"

# PYTHON_TESTS_COMPARE=1: only compare the logs of the last run.
[ -n "${PYTHON_TESTS_COMPARE:-}" ] || "$here/build.sh" pie ref || exit 1

fail=0
for runner in $RUNNERS; do
    for b in shared ref; do
        [ -n "${PYTHON_TESTS_COMPARE:-}" ] && continue
        prefix=$BUILD/python; [ $b = ref ] && prefix=$BUILD/python-ref
        log=$out/$runner-$b.txt
        echo "python-tests: $b build on $runner"
        t0=$(date +%s)
        # shellcheck disable=SC2086
        (cd "$out" && WASMDL_RUNNER=$runner "$prefix/bin/python3" "$here/run_tests.py" $PYTHON_TEST_EXCLUDE $PYTHON_TESTS) </dev/null >"$log" 2>"$log.stderr"
        echo "python-tests:   $(( $(date +%s) - t0 )) s, $(grep -c '^test_' "$log") modules (log: $log)"
    done
    # The counts without the timings, module by module, and the failing
    # tests (what the tests print themselves is left out).
    # One difference is expected: test_importlib.extension's 18 loader and
    # finder tests need an extension module that is a file (they use
    # _testcapi's) and skip in the reference ("_testcapi is a builtin
    # module"); the shared build runs them. Its skipped count is compared
    # below instead: fewer skips in the shared build, and not more.
    strip() { grep -E '^(test_|    not ok )' "$1" | sed -E 's/ \([0-9.]+ s\)$//; s/^(test_importlib: .*)skipped=[0-9]+/\1skipped=*/'; }
    skips() { grep '^test_importlib: ' "$1" | sed -E 's/.*skipped=([0-9]+).*/\1/'; }
    s_ref=$(skips "$out/$runner-ref.txt"); s_shared=$(skips "$out/$runner-shared.txt")
    if diff <(strip "$out/$runner-ref.txt") <(strip "$out/$runner-shared.txt") >"$out/$runner.diff" &&
       [ -n "$s_shared" ] && [ "$s_shared" -le "$s_ref" ]; then
        echo "python-tests: $runner: shared and built-in give identical results, but for test_importlib's" \
             "extension tests: skipped $s_ref built-in, $s_shared shared ('_testcapi is a builtin module')"
    else
        echo "python-tests: $runner: DIFFERENT results (< built-in, > shared):"
        sed 's/^/    /' "$out/$runner.diff"
        fail=1
    fi
    printf '    %-28s %s\n' module "shared (built-in identical unless shown above)"
    grep '^test_' "$out/$runner-shared.txt" | sed 's/^/    /'
    grep -h '^    not ok' "$out/$runner-shared.txt" | sed 's/^/  /'
done
exit $fail
