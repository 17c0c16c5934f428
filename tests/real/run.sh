#!/usr/bin/env bash
# Real third-party programs loading real third-party plugins through libdl:
#
#   sqlite  the sqlite3 shell (Debian bookworm's sqlite3 source package, its
#           amalgamation generated here) loading SQLite's own loadable
#           extensions from ext/misc with .load
#   lua     the Lua 5.4 interpreter (bookworm's lua5.4) with its dlopen C
#           module loader, and LPeg (bookworm's lua-lpeg) built as the C
#           module lpeg.so, found through package.cpath: a script of ours
#           and LPeg's own test suite (its test.lua)
#
# Sources are fetched with `apt-get source --download-only` through a private
# apt configuration (the machine's apt sources are not touched) into
# $REAL_SRC (default $TC/real-src; kept by `make clean`), unpacked and built
# under $BUILD/real/. Nothing third-party is kept in the repository. Every
# step is cached: a stamp file holds the key (flags and input hashes) of what
# it made, so a second run only runs the programs.
#
# Each program is built twice: as a static main (CC, PROGRAM_LDFLAGS, wasi-libc's
# libc.a) and as a PIE main against libc.so (CC_PIE, PIE_LDFLAGS); the plugins
# are built once (PLUGIN_FLAGS) and loaded by both. Every case runs in four
# ways, {static, PIE} x {wasmtime, node}, named as the scenarios' runners
# (wasmtime, node, wasmtime-pie, node-pie), and each compares stdout with
# tests/real/expected/CASE.out, the exit status with CASE.status (default 0)
# and, where CASE.err exists, stderr with it.
#
# Lua raises errors with setjmp/longjmp, compiled to wasm exception handling
# in the standard (exnref) encoding that wasmtime runs. A node without exnref
# (before 24; NODE_EXNREF=false) runs a second build of the same sources in
# the legacy encoding, which is all V8 had before.
#
# usage: run.sh [sqlite] [lua]          (default: both)
# env:   CC (compiler with target and sysroot), PROGRAM_LDFLAGS, PLUGIN_FLAGS,
#        CC_PIE (the PIE sysroot's compiler with PIE_CFLAGS), PIE_LDFLAGS,
#        PIE_LIBDIR (libc.so's directory, preopened as /lib for PIE mains),
#        BUILD, TC, RUNNER and NODE_RUNNER (runner commands with --libdl),
#        SYSROOT; optional NODE_EXNREF (true/false, default true), HOST_CC
#        (default cc), REAL_SRC
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
for v in CC PROGRAM_LDFLAGS PLUGIN_FLAGS CC_PIE PIE_LDFLAGS PIE_LIBDIR BUILD TC RUNNER NODE_RUNNER SYSROOT; do
    [ -n "${!v:-}" ] || { echo "real: error: $v is not set (run through 'make real-programs')" >&2; exit 2; }
done
HOST_CC=${HOST_CC:-cc}
NODE_EXNREF=${NODE_EXNREF:-true}
REAL=$BUILD/real
REAL_SRC=${REAL_SRC:-$TC/real-src}
LOGS=$REAL/logs
mkdir -p "$REAL" "$REAL_SRC" "$LOGS"

programs=("$@")
[ ${#programs[@]} -gt 0 ] || programs=(sqlite lua)
for p in "${programs[@]}"; do
    case "$p" in sqlite|lua) ;; *) echo "real: error: unknown program '$p' (sqlite, lua)" >&2; exit 2 ;; esac
done

say() { echo "real: $*"; }
die() { echo "real: error: $*" >&2; exit 1; }
# fresh STAMP KEY: STAMP exists and holds KEY.
fresh() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
hash() { cat "$@" | sha1sum | cut -c1-16; }
# logged LOG CMD...: runs CMD with its output in LOG; on failure shows the end
# of LOG and fails.
logged() {
    local log=$1; shift
    if ! "$@" >"$log" 2>&1; then
        echo "real: error: command failed: $*" >&2
        tail -n 30 "$log" | sed 's/^/    | /' >&2
        echo "    (full log: $log)" >&2
        return 1
    fi
}

# ---- fetching Debian source packages ---------------------------------------
# A private deb-src configuration for bookworm, written by the same function
# the toolchain installer uses (the machine's apt sources are never touched).
. "$(cd "$(dirname "$0")/../.." && pwd)/sysroot-overlay/toolchain/private-apt.sh"
# fetch PKG: PKG's source package in $REAL_SRC/PKG (downloaded once); prints
# the .dsc path.
fetch() {
    fetch_bookworm_source "$1" "$REAL_SRC/$1" "$LOGS" || die "cannot fetch the source package $1"
}

# unpack PKG DEST: dpkg-source -x (Debian patches applied) into DEST once.
unpack() {
    local pkg=$1 dest=$2 dsc
    dsc=$(fetch "$pkg") || exit 1
    if fresh "$dest/.unpacked" "$(basename "$dsc")"; then return; fi
    rm -rf "$dest" && mkdir -p "$(dirname "$dest")"
    # --no-check: apt-get already checked the files against the signed
    # Sources index; dpkg-source would only warn about the .dsc signature.
    logged "$LOGS/unpack-$pkg.log" dpkg-source --no-check -x "$dsc" "$dest" || die "dpkg-source -x $dsc failed"
    basename "$dsc" >"$dest/.unpacked"
    say "unpacked $(basename "$dsc" .dsc)"
}

# ---- SQLite ----------------------------------------------------------------
# Compile flags for the amalgamation and the shell, none of which patches a
# source file:
#   sqlite-wasi.h (force-included): fchown, geteuid, fcntl locks, system()
#     for wasi-libc (os_unix.c of 3.40 has no __wasi__ case)
#   include/pwd.h: the shell includes <pwd.h>, which wasi-libc lacks
#   SQLITE_OMIT_WAL (no shared-memory locking), SQLITE_THREADSAFE=0 (no
#   pthreads), SQLITE_OMIT_POPEN (the shell's .once/.output |cmd)
#   _WASI_EMULATED_*: mmap, getpid, signal and clock() from wasi-libc's
#     emulation libraries
# Loadable extensions stay enabled: os_unix.c's unixDlOpen/unixDlSym call
# dlopen/dlsym from <dlfcn.h>, i.e. the overlay's libdl.a and so libdl.so.
SQLITE_CFLAGS=(-O2 -include "$here/sqlite-wasi.h" -I"$here/include"
    -DSQLITE_OMIT_WAL -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_POPEN
    -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_SIGNAL
    -D_WASI_EMULATED_PROCESS_CLOCKS)
SQLITE_LIBS=(-lwasi-emulated-mman -lwasi-emulated-getpid -lwasi-emulated-signal
    -lwasi-emulated-process-clocks)
# libc functions the extensions use but the shell does not link itself
# (uuid.c: isxdigit).
SQLITE_EXPORTS=(-Wl,--export=isxdigit)
# Extensions from ext/misc that are not built into the 3.40 shell (shathree,
# decimal, ieee754, series, regexp, uint, fileio, completion, ... are), so
# that every function the test calls can only come from a loaded plugin.
SQLITE_EXTS=(rot13 percentile sha1 uuid csv spellfix eval)

build_sqlite() {
    local d=$REAL/sqlite src=$REAL/sqlite/src
    unpack sqlite3 "$src"
    # The amalgamation (sqlite3.c) and the shell (shell.c) are generated from
    # the source tree with the host compiler and tclsh, as Debian's build does.
    local amalg=$d/amalg key
    key="$(cat "$src/.unpacked") $HOST_CC"
    if ! fresh "$amalg/.stamp" "$key"; then
        command -v tclsh >/dev/null || install_tcl
        rm -rf "$amalg" && mkdir -p "$amalg"
        say "generating the SQLite amalgamation (about 15 s)"
        logged "$LOGS/sqlite-configure.log" bash -c "cd '$amalg' && CC='$HOST_CC' '$src/configure' --disable-tcl" ||
            die "SQLite configure failed"
        logged "$LOGS/sqlite-amalgamation.log" make -C "$amalg" -j2 sqlite3.c shell.c ||
            die "generating sqlite3.c and shell.c failed"
        echo "$key" >"$amalg/.stamp"
    fi
    mkdir -p "$d/ext"
    # The amalgamation is the slow part (about 15 s at -O2): both kinds in the
    # background, while the shell and the extensions build.
    local kind pids=()
    for kind in static pie; do
        ( sqlite_objects "$kind" ) &
        pids+=($!)
    done
    # Plugins: PLUGIN_FLAGS and the amalgamation's headers, nothing else; the
    # same files for both kinds of main.
    local e
    for e in "${SQLITE_EXTS[@]}"; do
        key="$CC -O2 $PLUGIN_FLAGS $(hash "$src/ext/misc/$e.c" "$amalg/sqlite3ext.h" "$amalg/sqlite3.h")"
        if ! fresh "$d/ext/$e.so.stamp" "$key"; then
            logged "$LOGS/ext-$e.log" $CC -O2 -I"$amalg" $PLUGIN_FLAGS -o "$d/ext/$e.so" "$src/ext/misc/$e.c" ||
                die "building the extension $e.so failed"
            echo "$key" >"$d/ext/$e.so.stamp"
        fi
    done
    local pid failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    [ $failed = 0 ] || exit 1
    # The programs: relinked when an object, a flag or the libc changes.
    local built=0
    for kind in static pie; do
        local obj=$d/obj-$kind wasm=$d/sqlite3-$kind.wasm
        key="$(compiler "$kind") ${SQLITE_LIBS[*]} $(link_flags "$kind" "${SQLITE_EXPORTS[*]}") $(hash "$obj/sqlite3.o" "$obj/shell.o" $(libc_files "$kind"))"
        fresh "$wasm.stamp" "$key" && continue
        logged "$LOGS/sqlite3-$kind.wasm.log" $(compiler "$kind") -O2 -o "$wasm" "$obj/shell.o" "$obj/sqlite3.o" \
            $(link_flags "$kind" "${SQLITE_EXPORTS[*]}") "${SQLITE_LIBS[@]}" || die "linking sqlite3-$kind.wasm failed"
        echo "$key" >"$wasm.stamp"
        built=1
    done
    [ $built = 0 ] || say "built sqlite3-static.wasm, sqlite3-pie.wasm and ${#SQLITE_EXTS[@]} extensions"
}

# sqlite_objects KIND: sqlite3.o and shell.o for a static or a PIE main, in
# $REAL/sqlite/obj-KIND.
sqlite_objects() {
    local kind=$1 d=$REAL/sqlite amalg=$REAL/sqlite/amalg cc key
    local obj=$d/obj-$kind
    cc=$(compiler "$kind")
    mkdir -p "$obj"
    local cflags_key
    cflags_key="$cc ${SQLITE_CFLAGS[*]} $(hash "$here/sqlite-wasi.h" "$here/include/pwd.h")"
    key="$cflags_key $(hash "$amalg/sqlite3.c")"
    if ! fresh "$obj/sqlite3.o.stamp" "$key"; then
        say "compiling sqlite3.c for a $kind main"
        logged "$LOGS/sqlite3-$kind.o.log" $cc "${SQLITE_CFLAGS[@]}" -c "$amalg/sqlite3.c" -o "$obj/sqlite3.o" ||
            die "compiling sqlite3.c ($kind) failed"
        echo "$key" >"$obj/sqlite3.o.stamp"
    fi
    key="$cflags_key $(hash "$amalg/shell.c" "$amalg/sqlite3.h")"
    if ! fresh "$obj/shell.o.stamp" "$key"; then
        logged "$LOGS/shell-$kind.o.log" $cc "${SQLITE_CFLAGS[@]}" -I"$amalg" -c "$amalg/shell.c" -o "$obj/shell.o" ||
            die "compiling shell.c ($kind) failed"
        echo "$key" >"$obj/shell.o.stamp"
    fi
}

# compiler KIND: the compiler command for a static or a PIE main.
compiler() { if [ "$1" = pie ]; then echo "$CC_PIE"; else echo "$CC"; fi; }
# link_flags KIND STATIC_EXPORTS: the link flags of a main. A static main
# links with PROGRAM_LDFLAGS and names the libc functions its plugins need
# (STATIC_EXPORTS); a PIE main's plugins find all of libc in libc.so.
link_flags() { if [ "$1" = pie ]; then echo "$PIE_LDFLAGS"; else echo "$PROGRAM_LDFLAGS $2"; fi; }
# libc_files KIND: the libraries a main links with, for the stamp keys.
libc_files() {
    local f
    if [ "$1" = pie ]; then
        for f in libc.so libc_nonshared.a libdl.so libsetjmp.a; do
            [ ! -f "$PIE_LIBDIR/$f" ] || echo "$PIE_LIBDIR/$f"
        done
    else
        for f in libdl.a libc.a libsetjmp.a libc-all.rsp; do
            [ ! -f "$SYSROOT/lib/wasm32-wasi/$f" ] || echo "$SYSROOT/lib/wasm32-wasi/$f"
        done
    fi
}

install_tcl() {
    # Generating the amalgamation needs tclsh (Debian's tcl), as SQLite's own
    # build does.
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    say "installing tcl (tclsh generates the SQLite amalgamation)"
    logged "$LOGS/apt-install-tcl.log" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q tcl ||
        die "tclsh is missing and 'apt-get install tcl' failed"
}

# ---- Lua 5.4 and LPeg --------------------------------------------------------
# LUA_USE_DLOPEN: loadlib.c's dlopen loader (lsys_load = dlopen, lsys_sym =
# dlsym). Not LUA_USE_POSIX, which wants popen and mkstemp; so os.tmpname is
# defined away (lua_tmpnam fails), and lua-wasi-stubs.c provides the tmpfile
# and system that wasi-libc declares but lacks. Lua raises errors with
# setjmp/longjmp: wasi-libc's libsetjmp with LLVM's wasm SjLj lowering, in the
# standard (exnref) exception-handling encoding that wasmtime runs, and in
# the legacy one for a node without exnref (LUA_EH).
LUA_CFLAGS=(-O2 -DLUA_COMPAT_5_3 -DLUA_USE_DLOPEN
    -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_SIGNAL
    '-Dlua_tmpnam(b,e)={e=1;}' -DLUA_TMPNAMBUFSIZE=32
    -mllvm -wasm-enable-sjlj)
LUA_LIBS=(-lsetjmp -lwasi-emulated-process-clocks -lwasi-emulated-signal)
# The exception-handling encodings: -mllvm -wasm-use-legacy-eh=...
declare -A LUA_EH=([exnref]=false [legacy]=true)
# libc functions lpeg uses (its character classes and lpeg.locale) that the
# interpreter does not link itself.
LUA_EXPORTS=(-Wl,--export=isalpha -Wl,--export=isgraph -Wl,--export=islower
    -Wl,--export=isprint -Wl,--export=isspace -Wl,--export=isupper)
# LPeg's own flags (its makefile: -O2 -DNDEBUG -std=c99) with PLUGIN_FLAGS.
LPEG_CFLAGS=(-O2 -DNDEBUG -std=c99)

build_lua() {
    local d=$REAL/lua src=$REAL/lua/src lsrc=$REAL/lua/lpeg-src
    unpack lua5.4 "$src"
    unpack lua-lpeg "$lsrc"
    # luaconf.h includes a header that debian/rules generates.
    local gen=$d/gen
    mkdir -p "$gen" "$d/mods"
    [ -f "$gen/lua5.4-deb-multiarch.h" ] ||
        echo '#define DEB_HOST_MULTIARCH "wasm32-wasi"' >"$gen/lua5.4-deb-multiarch.h"
    # The interpreters: static and PIE, each in the encodings the runners need.
    local variant key built=0
    for variant in $(lua_variants); do
        lua_interpreter "${variant%-*}" "${variant#*-}" || exit 1
    done
    # The plugin, the same for every interpreter.
    key="$CC ${LPEG_CFLAGS[*]} $PLUGIN_FLAGS $(hash "$lsrc"/*.c "$lsrc"/*.h "$src"/src/lua.h "$src"/src/lauxlib.h "$src"/src/luaconf.h)"
    if ! fresh "$d/mods/lpeg.so.stamp" "$key"; then
        logged "$LOGS/lpeg.so.log" $CC "${LPEG_CFLAGS[@]}" -I"$src/src" -I"$gen" $PLUGIN_FLAGS \
            -o "$d/mods/lpeg.so" "$lsrc"/lpcap.c "$lsrc"/lpcode.c "$lsrc"/lpprint.c "$lsrc"/lptree.c "$lsrc"/lpvm.c ||
            die "building lpeg.so failed"
        echo "$key" >"$d/mods/lpeg.so.stamp"
        say "built lpeg.so"
    fi
    # re.lua, LPeg's regex-like module written in Lua on top of lpeg.
    cp "$lsrc/re.lua" "$d/mods/re.lua"
}

# lua_variants: KIND-EH for every Lua interpreter the runs need.
lua_variants() {
    echo static-exnref pie-exnref
    [ "$NODE_EXNREF" = true ] || echo static-legacy pie-legacy
}

# lua_interpreter KIND EH: $REAL/lua/lua-KIND-EH.wasm, a static or PIE main
# in the exnref or legacy exception-handling encoding; its objects compiled
# two at a time.
lua_interpreter() {
    local kind=$1 eh=$2 d=$REAL/lua src=$REAL/lua/src
    local obj=$d/obj-$kind-$eh wasm=$d/lua-$kind-$eh.wasm cc f key
    cc=$(compiler "$kind")
    local cflags=("${LUA_CFLAGS[@]}" -mllvm -wasm-use-legacy-eh="${LUA_EH[$eh]}")
    mkdir -p "$obj"
    rm -f "$obj"/*.failed
    local objs=() cflags_key
    cflags_key="$cc ${cflags[*]} $(hash "$src"/src/*.h "$d/gen/lua5.4-deb-multiarch.h")"
    for f in "$src"/src/*.c "$here/lua-wasi-stubs.c"; do
        case "$(basename "$f")" in luac.c) continue ;; esac
        local o=$obj/$(basename "$f" .c).o
        objs+=("$o")
        key="$cflags_key $(hash "$f")"
        fresh "$o.stamp" "$key" && continue
        while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
        ( logged "$LOGS/lua-$kind-$eh-$(basename "$f" .c).log" $cc "${cflags[@]}" -I"$d/gen" -c "$f" -o "$o" &&
            echo "$key" >"$o.stamp" || touch "$o.failed" ) &
    done
    wait
    if ls "$obj"/*.failed >/dev/null 2>&1; then die "compiling Lua ($kind, $eh) failed"; fi
    local exports=""
    [ "$kind" = pie ] || exports="${LUA_EXPORTS[*]}"
    key="$cc ${LUA_LIBS[*]} $(link_flags "$kind" "$exports") $(hash "${objs[@]}" $(libc_files "$kind"))"
    fresh "$wasm.stamp" "$key" && return 0
    logged "$LOGS/lua-$kind-$eh.wasm.log" $cc -O2 -o "$wasm" "${objs[@]}" \
        $(link_flags "$kind" "$exports") "${LUA_LIBS[@]}" || die "linking lua-$kind-$eh.wasm failed"
    echo "$key" >"$wasm.stamp"
    say "built lua-$kind-$eh.wasm"
}

# ---- running ------------------------------------------------------------------
# Every case runs in four ways, named as the scenarios' runners: a static
# main on wasmtime and on node, a PIE main (libc.so's directory preopened as
# /lib) on both.
# REAL_WAYS (optional) lists other ways, named as well for the runner they
# stand for (python, firefox-pie, ...); they run on WAYS_RUNNER (a runner
# command with --libdl, as RUNNER), and node* ways on NODE_RUNNER.
WAYS=(${REAL_WAYS:-wasmtime node wasmtime-pie node-pie})
pass=0; fail=0; failed=(); runs=()
# run_case NAME STDIN DIR TEMPLATE -- ARGS...: runs, in the four ways, the
# runner with ARGS in DIR with STDIN (a file, or /dev/null); in ARGS, @WASM@
# stands for TEMPLATE with @KIND@ (static, pie) and @EH@ (the exception-handling
# encoding the runner needs: exnref, or legacy on a node without it) filled
# in. Each run is compared with expected/NAME.{out,status,err}. Two runs go at
# a time, in the background; report prints the results in order.
run_case() {
    local name=$1 input=$2 dir=$3 template=$4; shift 5
    local way
    mkdir -p "$REAL/results"
    for way in "${WAYS[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
        run_one "$name" "$way" "$input" "$dir" "$template" "$@" &
        runs+=("$name.$way")
    done
}
run_one() {
    local name=$1 way=$2 input=$3 dir=$4 template=$5; shift 5
    local exp=$here/expected/$name out=$REAL/results/$name.$way
    local kind=static eh=exnref cmd
    [[ $way != *-pie ]] || kind=pie
    [[ $way != node* ]] || [ "$NODE_EXNREF" = true ] || eh=legacy
    local wasm=${template//@KIND@/$kind}
    wasm=${wasm//@EH@/$eh}
    case $way in
        node*) cmd=($NODE_RUNNER) ;;
        wasmtime*) cmd=($RUNNER) ;;
        *) cmd=(${WAYS_RUNNER:?REAL_WAYS names $way: WAYS_RUNNER is not set}) ;;
    esac
    [ "$kind" = static ] || cmd+=(--dir "$PIE_LIBDIR::/lib")
    local a
    for a in "$@"; do cmd+=("${a//@WASM@/$wasm}"); done
    local status
    (cd "$dir" && "${cmd[@]}") <"$input" >"$out.out" 2>"$out.err"
    status=$?
    local want_status ok=1
    want_status=$(cat "$exp.status" 2>/dev/null || echo 0)
    diff -u "$exp.out" "$out.out" >"$out.diff" 2>&1 || ok=0
    [ "$status" = "$want_status" ] || ok=0
    if [ -f "$exp.err" ]; then
        diff -u "$exp.err" "$out.err" >>"$out.diff" 2>&1 || ok=0
    fi
    if [ $ok = 1 ]; then
        echo "ok   $name [$way]" >"$out.report"
    else
        {
            echo "FAIL $name [$way]: exit status $status (expected $want_status)"
            sed 's/^/    /' "$out.diff" | head -40
            echo "    stderr:"; sed 's/^/    | /' "$out.err" | head -20
            echo "    command: (cd $dir && ${cmd[*]} < $input)"
        } >"$out.report"
    fi
}
# report: waits for the runs and prints their results in order.
report() {
    wait
    local r
    for r in "${runs[@]}"; do
        cat "$REAL/results/$r.report"
        if grep -q '^ok ' "$REAL/results/$r.report"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$r"); fi
    done
}

start=$(date +%s)
# The two programs build in parallel (SQLite's amalgamation dominates).
# Sources first, one at a time (they share one private apt state).
for p in "${programs[@]}"; do
    case "$p" in
    sqlite) pkgs=(sqlite3) ;;
    lua) pkgs=(lua5.4 lua-lpeg) ;;
    esac
    for pkg in "${pkgs[@]}"; do
        dsc=$(fetch "$pkg") || exit 1
        say "source: $(basename "$dsc" .dsc)"
    done
done
pids=()
for p in "${programs[@]}"; do
    ( "build_$p" 2>&1 | sed -u "s/^/[$p] /" ) &
    pids+=("$p:$!")
done
build_failed=()
for entry in "${pids[@]}"; do
    wait "${entry#*:}" || build_failed+=("${entry%%:*}")
done
wait
say "built in $(( $(date +%s) - start )) s"

for p in "${programs[@]}"; do
    if [[ " ${build_failed[*]} " =~ " $p " ]]; then
        echo "FAIL $p (build; see the messages above and $LOGS)"
        fail=$((fail + 1)); failed+=("$p(build)")
        continue
    fi
    case "$p" in
    sqlite)
        d=$REAL/sqlite
        # HOME: the shell looks for ~/.sqliterc; WASI has no home directory.
        sq=(--env HOME=/nonexistent --dir "$d/ext::/ext" --dir "$here/sqlite::/data"
            @WASM@ -batch -bail :memory:)
        run_case sqlite-extensions "$here/sqlite/extensions.sql" "$d" sqlite3-@KIND@.wasm -- "${sq[@]}"
        run_case sqlite-reload "$here/sqlite/reload.sql" "$d" sqlite3-@KIND@.wasm -- "${sq[@]}"
        run_case sqlite-missing-extension "$here/sqlite/missing-extension.sql" "$d" sqlite3-@KIND@.wasm -- "${sq[@]}"
        ;;
    lua)
        d=$REAL/lua
        lua=(--env 'LUA_CPATH=/mods/?.so' --env 'LUA_PATH=/mods/?.lua' --dir "$d/mods::/mods")
        run_case lua-lpeg /dev/null "$d" lua-@KIND@-@EH@.wasm -- "${lua[@]}" --dir "$here/lua::/t" @WASM@ /t/lpeg.lua
        # LPeg's own test suite (test.lua in its source package; it tests
        # re.lua too), run from the unpacked source.
        run_case lua-lpeg-testsuite /dev/null "$d" lua-@KIND@-@EH@.wasm -- "${lua[@]}" --dir "$d/lpeg-src::/src" \
            @WASM@ /src/test.lua
        # Heavy allocation and garbage collection, with LPeg loaded: on node
        # 20 this aborted the runner (a GC inside a WASI call freed the WASI
        # object; host-abi/js/wasmdl-run.mjs says more).
        run_case lua-gc /dev/null "$d" lua-@KIND@-@EH@.wasm -- "${lua[@]}" --dir "$here/lua::/t" @WASM@ /t/gc.lua
        ;;
    esac
done
report
say "$(( $(date +%s) - start )) s in all"
echo "real: $pass passed, $fail failed${failed:+: ${failed[*]}}"
[ "$fail" = 0 ]
