#!/usr/bin/env bash
# Third-party C extensions on the WASI interpreter (part of make test-python):
# MarkupSafe's _speedups and simplejson's _speedups, built from their sdists
# on PyPI at test time (nothing vendored) as a package author would
# (docs/python.md has the recipe), then imported and their own test suites
# run inside the wasm interpreter with pytest, installed from pure-Python
# wheels (pytest, pluggy, iniconfig, packaging) into a site-packages of its
# own, given as PYTHONPATH (--capture=sys and no faulthandler plugin: WASI has no dup). Prints pytest's counts per package and runner;
# fails if a C extension is not the one in use or a test fails.
#
# env: BUILD, CLANG; optional RUNNERS (default "wasmtime node"), PIP (pip)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:?}" "${CLANG:?}"
RUNNERS=${RUNNERS:-wasmtime node}
PIP=${PIP:-pip}
BUILD_PYTHON=${BUILD_PYTHON:-python3}
py=$BUILD/python/bin/python3
bdir=$BUILD/python-build/pie
cpy=$BUILD/python-src/cpython
tp=$BUILD/python-build/thirdparty
mkdir -p "$tp/dl" "$tp/wheels"
EXT=.cpython-311-wasm32-wasi.so
# Pinned versions: the test suites are the ones of these releases.
SDISTS=(MarkupSafe==2.1.5 simplejson==3.19.2)
WHEELS=(pytest==8.2.2 pluggy==1.5.0 iniconfig==2.0.0 packaging==24.1)

say() { echo "python-thirdparty: $*"; }
die() { echo "python-thirdparty: error: $*" >&2; exit 1; }

# Downloads, once.
if [ ! -f "$tp/dl/.complete" ]; then
    say "downloading ${SDISTS[*]} (sdists) and ${WHEELS[*]} (wheels) from PyPI"
    "$PIP" download -q --no-deps --no-binary :all: -d "$tp/dl" "${SDISTS[@]}" || die "pip download (sdists) failed"
    "$PIP" download -q --no-deps --only-binary :all: --python-version 3.11 --platform any --implementation py \
        -d "$tp/wheels" "${WHEELS[@]}" || die "pip download (wheels) failed"
    touch "$tp/dl/.complete"
fi

# site-packages: the wheels unpacked (a wheel is a zip of its files).
site=$tp/site-packages
rm -rf "$site" "$tp/src" && mkdir -p "$site" "$tp/src"
for w in "$tp"/wheels/*.whl; do
    "$BUILD_PYTHON" -m zipfile -e "$w" "$site" || die "unpacking $w failed"
done

# The extension modules: CPython's headers and pyconfig.h, PIC, the plugin
# link, CPython's extension suffix.
BUILTINS=$("$CLANG" --target=wasm32-wasip1 -print-libgcc-file-name)
build_ext() {  # build_ext OUT.so SRC.c...
    local out=$1; shift
    "$CLANG" --target=wasm32-wasip1 --sysroot="$BUILD/python-build/conf-sysroot" -O2 -fPIC \
        -I"$cpy/Include" -I"$bdir" -shared -nostdlib -Wl,--no-entry -Wl,--experimental-pic \
        -Wl,--unresolved-symbols=import-dynamic -Wl,--export=__wasm_call_ctors "$BUILTINS" \
        -o "$out" "$@"
}
tar -xzf "$tp"/dl/MarkupSafe-2.1.5.tar.gz -C "$tp/src" || die "unpacking MarkupSafe failed"
ms=$tp/src/MarkupSafe-2.1.5
build_ext "$ms/src/markupsafe/_speedups$EXT" "$ms/src/markupsafe/_speedups.c" || die "building markupsafe._speedups failed"
cp -r "$ms/src/markupsafe" "$site/"
tar -xzf "$tp"/dl/simplejson-3.19.2.tar.gz -C "$tp/src" || die "unpacking simplejson failed"
sj=$tp/src/simplejson-3.19.2
build_ext "$sj/simplejson/_speedups$EXT" "$sj/simplejson/_speedups.c" || die "building simplejson._speedups failed"
cp -r "$sj/simplejson" "$site/"
say "built: $(cd "$site" && ls -l markupsafe/*.so simplejson/*.so | awk '{print $NF, $5, "bytes"}' | tr '\n' ' ')"

fail=0
for runner in $RUNNERS; do
    export WASMDL_RUNNER=$runner PYTHONPATH=$site
    out=$("$py" -c '
import markupsafe, markupsafe._speedups as s, simplejson, simplejson._speedups as j, simplejson.scanner as sc
print(markupsafe.escape is s.escape, sc.make_scanner is sc.c_make_scanner, j.__file__.endswith(".cpython-311-wasm32-wasi.so"))
print(markupsafe.escape("<b>&</b>"), simplejson.dumps({"a": [1, 2.5]}), simplejson.loads("[1, {\"x\": null}]"))' 2>&1)
    if [ "$out" = 'True True True
&lt;b&gt;&amp;&lt;/b&gt; {"a": [1, 2.5]} [1, {'"'"'x'"'"': None}]' ]; then
        say "$runner: the C speedups are the ones in use"
    else
        say "$runner: FAIL: the C speedups are not in use:"; echo "$out" | sed 's/^/    /'; fail=1
    fi
    for pkg in markupsafe simplejson; do
        # simplejson's test_tool runs `python -m simplejson.tool` in a
        # subprocess: WASI has no processes, so those 3 tests are deselected.
        case $pkg in
        markupsafe) dir=$ms; tests=(tests) ;;
        simplejson) dir=$sj; tests=(simplejson/tests --deselect simplejson/tests/test_tool.py::TestTool) ;;
        esac
        t0=$(date +%s)
        # From the sdist's directory: its tests, the installed package (the
        # source tree's own package shadows it for simplejson: the same
        # files, with the .so built in place).
        out=$(cd "$dir" && "$py" -m pytest -q -p no:cacheprovider -p no:faulthandler --capture=sys "${tests[@]}" 2>&1); st=$?
        summary=$(echo "$out" | tail -n 1)
        say "$runner: $pkg: $summary (exit $st, $(( $(date +%s) - t0 )) s)"
        [ $st -eq 0 ] || { echo "$out" | tail -n 30 | sed 's/^/    /'; fail=1; }
    done
done
exit $fail
