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
# Each case runs a program on the runner and compares stdout with
# tests/real/expected/CASE.out, the exit status with CASE.status (default 0)
# and, where CASE.err exists, stderr with it.
#
# usage: run.sh [sqlite] [lua]          (default: both)
# env:   CC (compiler with target and sysroot), PROGRAM_LDFLAGS, PLUGIN_FLAGS,
#        BUILD, TC, RUNNER (runner command with --libdl), SYSROOT;
#        optional HOST_CC (default cc), REAL_SRC
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
for v in CC PROGRAM_LDFLAGS PLUGIN_FLAGS BUILD TC RUNNER SYSROOT; do
    [ -n "${!v:-}" ] || { echo "real: error: $v is not set (run through 'make real-programs')" >&2; exit 2; }
done
HOST_CC=${HOST_CC:-cc}
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
apt_conf() {
    private_apt bookworm-src "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main"
}

# fetch PKG: downloads PKG's source package (.dsc and tarballs) into
# $REAL_SRC/PKG once; prints the .dsc path.
fetch() {
    local pkg=$1 dir=$REAL_SRC/$1
    if [ -f "$dir/.complete" ] && [ -f "$(cat "$dir/.complete")" ]; then cat "$dir/.complete"; return; fi
    local conf
    conf=$(apt_conf)
    rm -rf "$dir" && mkdir -p "$dir"
    if ! (cd "$dir" && apt-get -q -c "$conf" source --download-only "$pkg") >"$LOGS/fetch-$pkg.log" 2>&1; then
        # The private lists may be missing or stale: update them once.
        logged "$LOGS/apt-update.log" apt-get -q -c "$conf" update || die "apt-get update (bookworm deb-src) failed"
        logged "$LOGS/fetch-$pkg.log" bash -c "cd '$dir' && apt-get -q -c '$conf' source --download-only '$pkg'" ||
            die "apt-get source $pkg failed"
    fi
    local dsc
    dsc=$(ls "$dir"/*.dsc 2>/dev/null | head -n1)
    [ -n "$dsc" ] || die "no .dsc for $pkg in $dir"
    echo "$dsc" >"$dir/.complete"
    echo "$dsc"
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
    local obj=$d/obj
    mkdir -p "$obj" "$d/ext"
    local cflags_key
    cflags_key="$CC ${SQLITE_CFLAGS[*]} $(hash "$here/sqlite-wasi.h" "$here/include/pwd.h")"
    # The amalgamation is the slow part (about 15 s at -O2): in the background.
    local amalg_pid=""
    key="$cflags_key $(hash "$amalg/sqlite3.c")"
    if ! fresh "$obj/sqlite3.o.stamp" "$key"; then
        say "compiling sqlite3.c for wasm32-wasip1"
        ( logged "$LOGS/sqlite3.o.log" $CC "${SQLITE_CFLAGS[@]}" -c "$amalg/sqlite3.c" -o "$obj/sqlite3.o" &&
          echo "$key" >"$obj/sqlite3.o.stamp" ) &
        amalg_pid=$!
    fi
    key="$cflags_key $(hash "$amalg/shell.c" "$amalg/sqlite3.h")"
    if ! fresh "$obj/shell.o.stamp" "$key"; then
        logged "$LOGS/shell.o.log" $CC "${SQLITE_CFLAGS[@]}" -I"$amalg" -c "$amalg/shell.c" -o "$obj/shell.o" ||
            die "compiling shell.c failed"
        echo "$key" >"$obj/shell.o.stamp"
    fi
    # Plugins: PLUGIN_FLAGS and the amalgamation's headers, nothing else.
    local e
    for e in "${SQLITE_EXTS[@]}"; do
        key="$CC -O2 $PLUGIN_FLAGS $(hash "$src/ext/misc/$e.c" "$amalg/sqlite3ext.h" "$amalg/sqlite3.h")"
        if ! fresh "$d/ext/$e.so.stamp" "$key"; then
            logged "$LOGS/ext-$e.log" $CC -O2 -I"$amalg" $PLUGIN_FLAGS -o "$d/ext/$e.so" "$src/ext/misc/$e.c" ||
                die "building the extension $e.so failed"
            echo "$key" >"$d/ext/$e.so.stamp"
        fi
    done
    if [ -n "$amalg_pid" ]; then
        wait "$amalg_pid" || die "compiling sqlite3.c failed"
    fi
    # The program: relinked when an object, a flag or the sysroot changes.
    key="$CC ${SQLITE_LIBS[*]} ${SQLITE_EXPORTS[*]} $PROGRAM_LDFLAGS $(hash "$obj/sqlite3.o" "$obj/shell.o" "$SYSROOT"/lib/wasm32-wasi/libdl.a "$SYSROOT"/lib/wasm32-wasi/libc.a)"
    if ! fresh "$d/sqlite3.wasm.stamp" "$key"; then
        logged "$LOGS/sqlite3.wasm.log" $CC -O2 -o "$d/sqlite3.wasm" "$obj/shell.o" "$obj/sqlite3.o" \
            $PROGRAM_LDFLAGS "${SQLITE_EXPORTS[@]}" "${SQLITE_LIBS[@]}" || die "linking sqlite3.wasm failed"
        echo "$key" >"$d/sqlite3.wasm.stamp"
        say "built sqlite3.wasm and ${#SQLITE_EXTS[@]} extensions"
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
# standard (non-legacy) exception-handling encoding that wasmtime runs.
LUA_CFLAGS=(-O2 -DLUA_COMPAT_5_3 -DLUA_USE_DLOPEN
    -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_SIGNAL
    '-Dlua_tmpnam(b,e)={e=1;}' -DLUA_TMPNAMBUFSIZE=32
    -mllvm -wasm-enable-sjlj -mllvm -wasm-use-legacy-eh=false)
LUA_LIBS=(-lsetjmp -lwasi-emulated-process-clocks -lwasi-emulated-signal)
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
    mkdir -p "$gen" "$d/obj" "$d/mods"
    [ -f "$gen/lua5.4-deb-multiarch.h" ] ||
        echo '#define DEB_HOST_MULTIARCH "wasm32-wasi"' >"$gen/lua5.4-deb-multiarch.h"
    local f key objs=() built=0
    local cflags_key="$CC ${LUA_CFLAGS[*]} $(hash "$src"/src/*.h "$gen/lua5.4-deb-multiarch.h")"
    for f in "$src"/src/*.c "$here/lua-wasi-stubs.c"; do
        case "$(basename "$f")" in luac.c) continue ;; esac
        local o=$d/obj/$(basename "$f" .c).o
        objs+=("$o")
        key="$cflags_key $(hash "$f")"
        fresh "$o.stamp" "$key" && continue
        logged "$LOGS/lua-$(basename "$f" .c).log" $CC "${LUA_CFLAGS[@]}" -I"$gen" -c "$f" -o "$o" ||
            die "compiling $(basename "$f") failed"
        echo "$key" >"$o.stamp"
        built=1
    done
    key="$CC ${LUA_LIBS[*]} ${LUA_EXPORTS[*]} $PROGRAM_LDFLAGS $(hash "${objs[@]}" "$SYSROOT"/lib/wasm32-wasi/libdl.a "$SYSROOT"/lib/wasm32-wasi/libc.a)"
    if ! fresh "$d/lua.wasm.stamp" "$key"; then
        logged "$LOGS/lua.wasm.log" $CC -O2 -o "$d/lua.wasm" "${objs[@]}" \
            $PROGRAM_LDFLAGS "${LUA_EXPORTS[@]}" "${LUA_LIBS[@]}" || die "linking lua.wasm failed"
        echo "$key" >"$d/lua.wasm.stamp"
        built=1
    fi
    key="$CC ${LPEG_CFLAGS[*]} $PLUGIN_FLAGS $(hash "$lsrc"/*.c "$lsrc"/*.h "$src"/src/lua.h "$src"/src/lauxlib.h "$src"/src/luaconf.h)"
    if ! fresh "$d/mods/lpeg.so.stamp" "$key"; then
        logged "$LOGS/lpeg.so.log" $CC "${LPEG_CFLAGS[@]}" -I"$src/src" -I"$gen" $PLUGIN_FLAGS \
            -o "$d/mods/lpeg.so" "$lsrc"/lpcap.c "$lsrc"/lpcode.c "$lsrc"/lpprint.c "$lsrc"/lptree.c "$lsrc"/lpvm.c ||
            die "building lpeg.so failed"
        echo "$key" >"$d/mods/lpeg.so.stamp"
        built=1
    fi
    # re.lua, LPeg's regex-like module written in Lua on top of lpeg.
    cp "$lsrc/re.lua" "$d/mods/re.lua"
    [ $built = 0 ] || say "built lua.wasm and lpeg.so"
}

# ---- running ------------------------------------------------------------------
pass=0; fail=0; failed=()
# run_case NAME STDIN DIR -- COMMAND...: runs COMMAND in DIR with STDIN (a
# file, or /dev/null) and compares with expected/NAME.{out,status,err}.
run_case() {
    local name=$1 input=$2 dir=$3; shift 4
    local exp=$here/expected/$name out=$REAL/results/$name
    mkdir -p "$REAL/results"
    local status
    (cd "$dir" && "$@") <"$input" >"$out.out" 2>"$out.err"
    status=$?
    local want_status ok=1
    want_status=$(cat "$exp.status" 2>/dev/null || echo 0)
    diff -u "$exp.out" "$out.out" >"$out.diff" 2>&1 || ok=0
    [ "$status" = "$want_status" ] || ok=0
    if [ -f "$exp.err" ]; then
        diff -u "$exp.err" "$out.err" >>"$out.diff" 2>&1 || ok=0
    fi
    if [ $ok = 1 ]; then
        echo "ok   $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name: exit status $status (expected $want_status)"
        sed 's/^/    /' "$out.diff"
        echo "    stderr:"; sed 's/^/    | /' "$out.err" | head -20
        echo "    command: (cd $dir && $* < $input)"
        fail=$((fail + 1)); failed+=("$name")
    fi
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
        sq=($RUNNER --env HOME=/nonexistent --dir "$d/ext::/ext" --dir "$here/sqlite::/data"
            sqlite3.wasm -batch -bail :memory:)
        run_case sqlite-extensions "$here/sqlite/extensions.sql" "$d" -- "${sq[@]}"
        run_case sqlite-reload "$here/sqlite/reload.sql" "$d" -- "${sq[@]}"
        run_case sqlite-missing-extension "$here/sqlite/missing-extension.sql" "$d" -- "${sq[@]}"
        ;;
    lua)
        d=$REAL/lua
        run_case lua-lpeg /dev/null "$d" -- $RUNNER --env 'LUA_CPATH=/mods/?.so' --env 'LUA_PATH=/mods/?.lua' \
            --dir "$d/mods::/mods" --dir "$here/lua::/t" lua.wasm /t/lpeg.lua
        # LPeg's own test suite (test.lua in its source package; it tests
        # re.lua too), run from the unpacked source.
        run_case lua-lpeg-testsuite /dev/null "$d" -- $RUNNER --env 'LUA_CPATH=/mods/?.so' --env 'LUA_PATH=/mods/?.lua' \
            --dir "$d/mods::/mods" --dir "$d/lpeg-src::/src" lua.wasm /src/test.lua
        ;;
    esac
done
say "$(( $(date +%s) - start )) s in all"
echo "real: $pass passed, $fail failed${failed:+: ${failed[*]}}"
[ "$fail" = 0 ]
