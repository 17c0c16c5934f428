#!/usr/bin/env bash
# The quick CPython check (make test-python-quick): for each installed kind
# (build/python: PIE, build/python-static: static) on each runner (wasmtime,
# Node):
#   quick     quick.py: json, zlib (NEEDED libz.so), sqlite3 (NEEDED
#             libsqlite3.so), decimal, datetime, math from lib-dynload;
#             stdout compared with expected/quick.out
#   launcher  a script and a module in a temporary directory, run by a
#             relative path, with -c and with -m: the current directory is
#             reachable, arguments arrive unchanged, stdin passes through,
#             the exit status passes through
#   errors    ImportError carrying libdl's message, the interpreter going on:
#             a missing NEEDED libz.so (in a hard-linked copy of the
#             installation without it), a corrupt .so, a truncated one, an
#             undefined symbol
#   flags     sys.setdlopenflags is honoured: a module's symbols reach a
#             module loaded later only with RTLD_GLOBAL (tests/python/ext)
#
# usage: quick.sh [KIND...]   (pie, static; default: those installed)
# env:   BUILD; optional RUNNERS (default "wasmtime node"; an entry NAME=COMMAND
#        runs COMMAND, one word, a runner with wasmdl-run's command line)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:?BUILD is not set (run through make test-python-quick)}
RUNNERS=${RUNNERS:-wasmtime node}
EXT=.cpython-311-wasm32-wasi.so

kinds=("$@")
if [ ${#kinds[@]} -eq 0 ]; then
    for k in pie static; do
        d=$BUILD/python; [ $k = static ] && d=$BUILD/python-static
        [ -x "$d/bin/python3" ] && kinds+=("$k")
    done
fi
[ ${#kinds[@]} -gt 0 ] || { echo "python-quick: error: nothing installed (make python)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok    $*"; }
bad() { fail=$((fail + 1)); echo "  FAIL  $*"; }
# check NAME EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then ok "$1"; else
        bad "$1"; diff <(echo "$2") <(echo "$3") | sed 's/^/        /' | head -20
    fi
}
# contains NAME NEEDLE HAYSTACK
contains() {
    case "$3" in *"$2"*) ok "$1" ;; *) bad "$1: no '$2' in:"; echo "$3" | sed 's/^/        /' | head -10 ;; esac
}

# The scripts run by the launcher, in a directory of their own.
work=$tmp/work
mkdir -p "$work/sub" "$work/pkg"
cat >"$work/script.py" <<'EOF'
import sys, helper
print("argv:", sys.argv[1:])
print("helper:", helper.VALUE)
with open("sub/data.txt") as f:
    print("data:", f.read().strip())
print("stdin:", sys.stdin.read().strip())
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0)
EOF
echo 'VALUE = "found in the current directory"' >"$work/helper.py"
echo "relative file" >"$work/sub/data.txt"
cat >"$work/pkg/__init__.py" <<'EOF'
EOF
cat >"$work/pkg/__main__.py" <<'EOF'
import sys, os
print("module:", __name__, sys.argv[1:], os.getcwd() == os.environ["EXPECTED_CWD"])
raise SystemExit(7)
EOF
printf 'not a wasm module\n' >"$work/_wasmdl_corrupt$EXT"
head -c 40 "$BUILD/python/lib/python3.11/lib-dynload/math$EXT" >"$work/_wasmdl_truncated$EXT" 2>/dev/null || true

errors_py='
import sys
for name in sys.argv[1:]:
    if name.startswith("/"):
        sys.path.insert(0, name)
        continue
    try:
        __import__(name)
        print(name, "imported")
    except ImportError as e:
        print(name, type(e).__name__, e)
print("still running")
'
flags_py='
import sys, os
sys.path.insert(0, sys.argv[1])
mode = sys.argv[2]
if mode == "global":
    sys.setdlopenflags(os.RTLD_NOW | os.RTLD_GLOBAL)
import _wasmdl_provider
try:
    import _wasmdl_consumer
    print(mode, "consumer", _wasmdl_consumer.answer(7))
except ImportError as e:
    print(mode, "ImportError", e)
'

for kind in "${kinds[@]}"; do
    prefix=$BUILD/python; [ "$kind" = static ] && prefix=$BUILD/python-static
    py=$prefix/bin/python3
    testext=$BUILD/python-build/$kind/testext
    for runner in $RUNNERS; do
        case "$runner" in
            *=*) export WASMDL_RUNNER_CMD=${runner#*=}; runner=${runner%%=*} ;;
        esac
        export WASMDL_RUNNER=$runner
        echo "python-quick: $kind on $runner"
        t0=$(date +%s.%N)
        out=$(cd "$tmp" && "$py" "$here/quick.py" 2>&1); st=$?
        t1=$(date +%s.%N)
        check "quick.py (exit $st, $(printf '%.2f' "$(echo "$t1 - $t0" | bc)") s)" "$(cat "$here/expected/quick.out")" "$out"

        out=$(cd "$work" && echo "from stdin" | "$py" script.py 3 "two words" '$HOME' 2>&1); st=$?
        check "script.py by a relative path" "argv: ['3', 'two words', '\$HOME']
helper: found in the current directory
data: relative file
stdin: from stdin" "$out"
        check "script.py exit status" 3 "$st"
        # (HOSTPWD is passed through like any variable)
        out=$(cd "$work/sub" && HOSTPWD=$(pwd) "$py" -c 'import sys, os; print(sys.argv, os.getcwd() == os.environ["HOSTPWD"], open("data.txt").read().strip())' a -b 2>&1 </dev/null); st=$?
        check "-c in a subdirectory" "['-c', 'a', '-b'] True relative file" "$out"
        out=$(cd "$work" && EXPECTED_CWD=$(pwd) "$py" -m pkg x --y 2>&1 </dev/null); st=$?
        check "-m pkg" "module: __main__ ['x', '--y'] True" "$out"
        check "-m pkg exit status" 7 "$st"
        # errors: a copy of the installation (hard links) without libz.so
        nolibz=$tmp/nolibz-$kind
        [ -d "$nolibz" ] || { cp -al "$prefix" "$nolibz" && rm "$nolibz/lib/libz.so"; }
        out=$("$nolibz/bin/python3" -c "$errors_py" zlib math 2>&1 </dev/null); st=$?
        contains "missing libz.so: ImportError" "zlib ImportError" "$out"
        contains "missing libz.so: the file is named" "libz.so" "$(echo "$out" | grep '^zlib ImportError')"
        contains "missing libz.so: the interpreter goes on" "math imported
still running" "$out"
        check "missing libz.so: exit status" 0 "$st"
        # one interpreter: a corrupt .so, a truncated one, an undefined
        # symbol, then a module that needs a symbol of a module loaded with
        # CPython's default flags (RTLD_NOW, local): not offered
        out=$("$py" -c "$errors_py" "$work" _wasmdl_corrupt _wasmdl_truncated "$testext" _wasmdl_undef \
            _wasmdl_provider _wasmdl_consumer 2>&1 </dev/null); st=$?
        echo "$out" | sed 's/^/        | /'
        contains "corrupt .so: ImportError" "_wasmdl_corrupt ImportError" "$out"
        contains "truncated .so: ImportError" "_wasmdl_truncated ImportError" "$out"
        contains "undefined symbol: ImportError naming it" "_wasmdl_undef ImportError" "$out"
        contains "undefined symbol: the symbol is named" "undefined symbol: wasmdl_no_such_function" "$out"
        contains "default flags (local): the symbol is not offered" "_wasmdl_consumer ImportError" "$out"
        contains "default flags (local): the message names it" "wasmdl_provided_answer" "$out"
        contains "after the errors the interpreter goes on" "still running" "$out"
        check "after the errors: exit status" 0 "$st"
        # sys.setdlopenflags
        out=$("$py" -c "$flags_py" "$testext" global 2>&1 </dev/null)
        check "setdlopenflags(RTLD_NOW | RTLD_GLOBAL)" "global consumer 42" "$out"
    done
done
echo "python-quick: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
