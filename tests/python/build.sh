#!/usr/bin/env bash
# CPython 3.11 for wasm32-wasip1 with its extension modules as side modules
# that the interpreter loads with dlopen (wasmdl's libdl.so), built from
# Debian bookworm's python3.11 source package (3.11.2) at build time.
#
#   build.sh [pie] [static] [ref]     (default: pie)
#
# pie     python.wasm is a PIE against build/sysroot-pie's libc.so (the
#         primary kind); installed to $BUILD/python
# static  python.wasm is statically linked against build/sysroot's libc.a
#         with the whole libc exported to plugins; installed to
#         $BUILD/python-static
# ref     the reference for CPython's tests: PIE as pie, with the same
#         modules built into python.wasm (MODULE_BUILDTYPE=static);
#         installed to $BUILD/python-ref
#
# What it does, every step cached with a stamp file holding the key (flags
# and input hashes) of what it made, so that a second run does nothing:
#  1. fetches python3.11, zlib and sqlite3 source packages with
#     `apt-get source --download-only` through the project's private apt
#     configuration (the machine's apt sources are not touched) into
#     $REAL_SRC, unpacks them under $BUILD/python-src and applies
#     tests/python/patches/*.patch to CPython (Debian's own patches are not
#     applied: they adapt CPython to Debian's file system layout);
#  2. builds libz.so and libsqlite3.so as side modules (NEEDED by zlib and
#     _sqlite3);
#  3. configures CPython (tests/python/config.site, --enable-wasm-dynamic-
#     linking) and builds it, the extension modules as side modules;
#  4. lays out an installation: bin/python3 (a launcher, tests/python/
#     python3.in), bin/python.wasm, lib/python3.11 (the standard library,
#     compiled to .pyc by the host python), lib/python3.11/lib-dynload (the
#     extension modules), lib/ (libz.so, libsqlite3.so and, for PIE, libc.so
#     and libdl.so).
#
# env: CLANG, LLVM_AR, BUILD, TC, WASI_SYSROOT_PIC (the PIC wasi-libc that
#      libc.so is linked from), SYSROOT_PIE, SYSROOT (static), LIBDL_SO,
#      PIE_LDFLAGS, PROGRAM_LDFLAGS, PLUGIN_FLAGS; optional REAL_SRC,
#      BUILD_PYTHON (a host python3.11), JOBS
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for v in CLANG LLVM_AR LLVM_NM BUILD TC WASI_SYSROOT_PIC SYSROOT_PIE SYSROOT LIBDL_SO PIE_LDFLAGS PROGRAM_LDFLAGS PLUGIN_FLAGS; do
    [ -n "${!v:-}" ] || { echo "python: error: $v is not set (run through 'make python')" >&2; exit 2; }
done
REAL_SRC=${REAL_SRC:-$TC/real-src}
JOBS=${JOBS:-$(nproc)}
SRC=$BUILD/python-src
LOGS=$BUILD/python-build/logs
mkdir -p "$SRC" "$LOGS" "$REAL_SRC"

kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(pie)
for k in "${kinds[@]}"; do
    case "$k" in pie|static|ref) ;; *) echo "python: error: unknown kind '$k' (pie, static, ref)" >&2; exit 2 ;; esac
done

say() { echo "python: $*"; }
die() { echo "python: error: $*" >&2; exit 1; }
fresh() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
hash() { cat "$@" | sha1sum | cut -c1-16; }
logged() {
    local log=$1; shift
    if ! "$@" >"$log" 2>&1; then
        echo "python: error: command failed: $*" >&2
        tail -n 30 "$log" | sed 's/^/    | /' >&2
        echo "    (full log: $log)" >&2
        return 1
    fi
}

# The host python that runs CPython's build scripts: a cross build needs the
# same major.minor.
if [ -z "${BUILD_PYTHON:-}" ]; then
    for p in python3.11 python3; do
        if command -v "$p" >/dev/null && [ "$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = 3.11 ]; then
            BUILD_PYTHON=$("$p" -c 'import sys; print(sys.executable)'); break
        fi
    done
fi
[ -n "${BUILD_PYTHON:-}" ] || die "no host python3.11 found (set BUILD_PYTHON)"

# ---- fetching Debian source packages (as tests/real/run.sh) -----------------
. "$root/sysroot-overlay/toolchain/private-apt.sh"
# fetch PKG: PKG's source package in $REAL_SRC/PKG (downloaded once); prints
# the .dsc path.
fetch() {
    fetch_bookworm_source "$1" "$REAL_SRC/$1" "$LOGS" || die "cannot fetch the source package $1"
}
# unpack PKG DEST [KEY-EXTRA] [dpkg-source options]: unpacks PKG into DEST once
# (per KEY-EXTRA).
unpack() {
    local pkg=$1 dest=$2 extra=${3:-}; shift 3
    local dsc
    dsc=$(fetch "$pkg") || exit 1
    if fresh "$dest/.unpacked" "$(basename "$dsc") $extra"; then return 1; fi
    rm -rf "$dest" && mkdir -p "$(dirname "$dest")"
    logged "$LOGS/unpack-$pkg.log" dpkg-source --no-check "$@" -x "$dsc" "$dest" || die "dpkg-source -x $dsc failed"
    say "unpacked $(basename "$dsc" .dsc)"
    echo "$(basename "$dsc") $extra" >"$dest/.unpacked.new"
    return 0
}

# ---- CPython source with our patches -----------------------------------------
PATCHES=("$here"/patches/*.patch)
cpy=$SRC/cpython
if unpack python3.11 "$cpy" "$(hash "${PATCHES[@]}")" --skip-patches; then
    for p in "${PATCHES[@]}"; do
        logged "$LOGS/patch-$(basename "$p").log" patch -d "$cpy" -p1 -i "$p" || die "patch $(basename "$p") failed"
    done
    mv "$cpy/.unpacked.new" "$cpy/.unpacked"
fi
SRC_KEY=$(cat "$cpy/.unpacked")

LLVM_OBJCOPY=${LLVM_OBJCOPY:-$(dirname "$LLVM_AR")/$(basename "$LLVM_AR" | sed 's/-ar/-objcopy/')}
BUILTINS=$("$CLANG" --target=wasm32-wasip1 -print-libgcc-file-name)
CC_PIC="$CLANG --target=wasm32-wasip1 --sysroot=$WASI_SYSROOT_PIC"
# Link a side module: PLUGIN_FLAGS without its compile flags.
LDSHARED_FLAGS="-shared -nostdlib -Wl,--no-entry -Wl,--experimental-pic -Wl,--unresolved-symbols=import-dynamic -Wl,--export=__wasm_call_ctors $BUILTINS"

# ---- libz.so and libsqlite3.so: NEEDED side modules --------------------------
DEPS=$BUILD/python-build/deps
mkdir -p "$DEPS/include" "$DEPS/lib" "$DEPS/obj"

build_zlib() {
    local z=$SRC/zlib libs_v=2
    if unpack zlib "$z" "" ; then mv "$z/.unpacked.new" "$z/.unpacked"; fi
    local key="$libs_v $CC_PIC $LDSHARED_FLAGS $(cat "$z/.unpacked")"
    fresh "$DEPS/libz.stamp" "$key" && return
    say "building libz.so"
    local f objs=()
    rm -rf "$DEPS/obj/zlib" && mkdir -p "$DEPS/obj/zlib"
    for f in adler32 crc32 deflate infback inffast inflate inftrees trees zutil compress uncompr gzclose gzlib gzread gzwrite; do
        logged "$LOGS/zlib-$f.log" $CC_PIC -O2 -fPIC -fvisibility=default -DHAVE_UNISTD_H -D_LARGEFILE64_SOURCE=1 \
            -c "$z/$f.c" -o "$DEPS/obj/zlib/$f.o" || die "compiling zlib $f.c failed"
        objs+=("$DEPS/obj/zlib/$f.o")
    done
    logged "$LOGS/libz.so.log" $CC_PIC $LDSHARED_FLAGS -o "$DEPS/lib/libz.so" "${objs[@]}" || die "linking libz.so failed"
    # libz.a: only for configure's link tests (a static link finds no .so);
    # -shared links (the modules) prefer libz.so, as on ELF.
    rm -f "$DEPS/lib/libz.a" && $LLVM_AR rcs "$DEPS/lib/libz.a" "${objs[@]}"
    cp "$z/zlib.h" "$z/zconf.h" "$DEPS/include/"
    echo "$key" >"$DEPS/libz.stamp"
}

# SQLite: the amalgamation generated with tclsh as Debian's build does, built
# as libsqlite3.so. Flags as tests/real (whose sqlite-wasi.h gives the file
# locks WASI lacks; sqlite-pic.h the fchmod bookworm's wasi-libc lacks); no
# loadable extensions (CPython's default); no mmap (SQLITE_MAX_MMAP_SIZE=0, WAL omitted); getpid
# from wasi-libc's emulation library linked into the side module.
SQLITE_CFLAGS=(-O2 -fPIC -fvisibility=default -include "$root/tests/real/sqlite-wasi.h"
    -include "$here/sqlite-pic.h" -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_POPEN -DSQLITE_MAX_MMAP_SIZE=0
    -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS)
build_sqlite() {
    local s=$SRC/sqlite3 amalg=$SRC/sqlite3-amalg
    if unpack sqlite3 "$s" ""; then mv "$s/.unpacked.new" "$s/.unpacked"; fi
    local key
    key="$(cat "$s/.unpacked")"
    if ! fresh "$amalg/.stamp" "$key"; then
        command -v tclsh >/dev/null || die "tclsh is missing (apt-get install tcl): it generates the SQLite amalgamation"
        rm -rf "$amalg" && mkdir -p "$amalg"
        say "generating the SQLite amalgamation"
        logged "$LOGS/sqlite-configure.log" bash -c "cd '$amalg' && CC=cc '$s/configure' --disable-tcl" || die "SQLite configure failed"
        logged "$LOGS/sqlite-amalgamation.log" make -C "$amalg" -j"$JOBS" sqlite3.c || die "generating sqlite3.c failed"
        echo "$key" >"$amalg/.stamp"
    fi
    key="2 $CC_CONF ${SQLITE_CFLAGS[*]} $LDSHARED_FLAGS $(hash "$amalg/sqlite3.c" "$root/tests/real/sqlite-wasi.h" "$here/sqlite-pic.h")"
    fresh "$DEPS/libsqlite3.stamp" "$key" && return
    say "building libsqlite3.so"
    logged "$LOGS/sqlite3.o.log" $CC_CONF "${SQLITE_CFLAGS[@]}" -c "$amalg/sqlite3.c" -o "$DEPS/obj/sqlite3.o" ||
        die "compiling sqlite3.c failed"
    logged "$LOGS/libsqlite3.so.log" $CC_PIC $LDSHARED_FLAGS -o "$DEPS/lib/libsqlite3.so" "$DEPS/obj/sqlite3.o" \
        -L"$WASI_SYSROOT_PIC/lib/wasm32-wasi" -lwasi-emulated-getpid || die "linking libsqlite3.so failed"
    rm -f "$DEPS/lib/libsqlite3.a" && $LLVM_AR rcs "$DEPS/lib/libsqlite3.a" "$DEPS/obj/sqlite3.o"
    cp "$amalg/sqlite3.h" "$DEPS/include/"
    echo "$key" >"$DEPS/libsqlite3.stamp"
}

# The configure sysroot: that wasi-libc with the overlay's dlfcn.h.
CONF_SYSROOT=$BUILD/python-build/conf-sysroot
key="$WASI_SYSROOT_PIC $(hash "$SYSROOT_PIE/include/dlfcn.h" "$WASI_SYSROOT_PIC/lib/wasm32-wasi/libc.a")"
if ! fresh "$CONF_SYSROOT/.stamp" "$key"; then
    rm -rf "$CONF_SYSROOT" && mkdir -p "$CONF_SYSROOT"
    cp -a "$WASI_SYSROOT_PIC/." "$CONF_SYSROOT/"
    cp "$SYSROOT_PIE/include/dlfcn.h" "$CONF_SYSROOT/include/dlfcn.h"
    echo "$key" >"$CONF_SYSROOT/.stamp"
fi
CC_CONF="$CLANG --target=wasm32-wasip1 --sysroot=$CONF_SYSROOT"
# pkg-config must not find the build machine's libraries (zlib, liblzma,
# uuid would be "found" with host headers).
mkdir -p "$DEPS/pkgconfig"

build_zlib
build_sqlite
# configure depends on the headers; the modules name libz.so and
# libsqlite3.so as NEEDED, so a rebuilt library needs no relink.
DEPS_KEY=$(hash "$DEPS/include/zlib.h" "$DEPS/include/zconf.h" "$DEPS/include/sqlite3.h")

# ---- CPython -----------------------------------------------------------------
# configure runs its link tests against the static PIC wasi-libc that libc.so
# is linked from (same headers, same functions): against libc.so, wasm-ld
# makes autoconf's `char f();` probes fail with "function signature mismatch"
# (an error for shared libraries, a warning for archives), and configure would
# conclude that most functions, libm's included, are missing.

build_python() {
    local kind=$1 bdir=$BUILD/python-build/$1 cc_make link_flags
    local buildtype=""
    case $kind in
    pie|ref)
        [ "$kind" = ref ] && buildtype=static
        cc_make="$CLANG --target=wasm32-wasip1 --sysroot=$SYSROOT_PIE"
        # LINKFORSHARED: what CPython passes when it links the interpreter
        # so that extension modules can bind to it (-export-dynamic on ELF).
        # __main_argc_argv: CPython compiles with -fvisibility=hidden, so
        # main would not be exported and libc.so's start-up could not call it.
        link_flags="$PIE_LDFLAGS -Wl,--export=__main_argc_argv"
        ;;
    static)
        # configure runs against the static sysroot itself (archives only).
        cc_make="$CLANG --target=wasm32-wasip1 --sysroot=$SYSROOT"
        link_flags=""   # PROGRAM_LDFLAGS: below, once libpython is built
        ;;
    esac
    local cc_conf=$CC_CONF
    [ "$kind" = static ] && cc_conf=$cc_make
    # wasi-cwd.c: the interpreter starts in $PWD (the launcher's directory).
    mkdir -p "$BUILD/python-build/obj-$kind"
    local cwd_o=$BUILD/python-build/obj-$kind/wasi-cwd.o
    $cc_make -O2 -fPIC -c "$here/wasi-cwd.c" -o "$cwd_o" || die "compiling wasi-cwd.c failed"
    link_flags+=" $cwd_o"
    # Modules link with -lz/-lsqlite3 and get libz.so/libsqlite3.so as
    # NEEDED. The reference, whose modules are in python.wasm, links the
    # libraries' archives in too, so that it loads nothing but libc.so, as
    # a build without dynamic loading would. (A PIE with libz.so in its own
    # NEEDED list works too since fb75b78; tests/scenarios/needed.)
    local zlib_libs="-L$DEPS/lib -lz" sqlite_libs="-L$DEPS/lib -lsqlite3"
    if [ "$kind" = ref ]; then
        # a directory with the archives only: configure's checks use -l
        mkdir -p "$DEPS/lib-static"
        cp "$DEPS/lib/libz.a" "$DEPS/lib/libsqlite3.a" "$DEPS/lib-static/"
        zlib_libs="-L$DEPS/lib-static -lz" sqlite_libs="-L$DEPS/lib-static -lsqlite3"
    fi
    local conf_key
    conf_key="$kind${buildtype:+ $buildtype${zlib_libs:+ $zlib_libs}} $SRC_KEY $cc_conf $LDSHARED_FLAGS $BUILD_PYTHON $DEPS_KEY $(hash "$here/config.site")"
    mkdir -p "$bdir"
    if ! fresh "$bdir/configure.stamp" "$conf_key"; then
        say "configuring CPython ($kind)"
        rm -rf "$bdir" && mkdir -p "$bdir"
        logged "$LOGS/configure-$kind.log" bash -c "cd '$bdir' && PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR='$DEPS/pkgconfig' MODULE_BUILDTYPE='$buildtype' CONFIG_SITE='$here/config.site' '$cpy/configure' \
            --host=wasm32-unknown-wasi --build=\$('$cpy/config.guess') --with-build-python='$BUILD_PYTHON' \
            --enable-wasm-dynamic-linking --disable-ipv6 --prefix=/usr/local \
            CC='$cc_conf' AR='$LLVM_AR' RANLIB=true \
            LDSHARED='\$(CC) $LDSHARED_FLAGS' \
            ZLIB_CFLAGS='-I$DEPS/include' ZLIB_LIBS='$zlib_libs' \
            LIBSQLITE3_CFLAGS='-I$DEPS/include' LIBSQLITE3_LIBS='$sqlite_libs'" ||
            die "configure failed ($kind)"
        echo "$conf_key" >"$bdir/configure.stamp"
    fi
    if [ "$kind" = static ]; then
        # The documented static program flags export the whole libc to
        # plugins with a list of --undefined=SYMBOL (PROGRAM_LDFLAGS'
        # -Wl,@libc-all.rsp). CPython defines some libc names itself (its
        # WASI pthread stubs: pthread_mutex_init, ...); forcing libc's
        # definitions in as well would make them duplicate symbols. The
        # program's own definition wins, as it would on ELF: those names are
        # dropped from the list, and plugins bind to CPython's.
        logged "$LOGS/make-$kind-libpython.log" make -C "$bdir" -j"$JOBS" CC="$cc_make" libpython3.11.a Programs/python.o ||
            die "make libpython3.11.a failed ($kind)"
        local w rsp=""
        for w in $PROGRAM_LDFLAGS; do
            case $w in
            -Wl,@*)
                rsp=${w#-Wl,@}
                # libc's archive members that define a name CPython defines
                # clash as a whole (condvar.o holds every pthread_cond_*):
                # none of their names is forced in.
                "$LLVM_NM" --defined-only --extern-only -j "$bdir/libpython3.11.a" "$bdir/Programs/python.o" 2>/dev/null |
                    sort -u >"$bdir/python-defines.txt"
                "$LLVM_NM" --defined-only --extern-only -A "$SYSROOT/lib/wasm32-wasip1/libc.a" 2>/dev/null |
                    awk '{print $1, $NF}' >"$bdir/libc-members.txt"
                awk 'NR == FNR { py[$1] = 1; next } ($2 in py) { print $1 }' \
                    "$bdir/python-defines.txt" "$bdir/libc-members.txt" | sort -u >"$bdir/libc-clashing-members.txt"
                awk 'NR == FNR { m[$1] = 1; next } ($1 in m) { print "--undefined=" $2 }' \
                    "$bdir/libc-clashing-members.txt" "$bdir/libc-members.txt" | sort -u >"$bdir/libc-dropped.txt"
                grep -v -x -F -f "$bdir/libc-dropped.txt" "$rsp" >"$bdir/libc-exports.rsp"
                link_flags+=" -Wl,@$bdir/libc-exports.rsp" ;;
            *) link_flags+=" $w" ;;
            esac
        done
        [ -n "$rsp" ] && say "static: $(($(wc -l <"$rsp") - $(wc -l <"$bdir/libc-exports.rsp"))) libc symbols not forced in (members clashing with CPython: $(sed 's/:$//; s/.*://; s/\.o$//' "$bdir/libc-clashing-members.txt" | tr '\n' ' '))"
    fi
    local make_key
    make_key="$conf_key $cc_make $link_flags $(hash "$here/wasi-cwd.c" "$LIBDL_SO" $([ "$kind" = static ] && echo "$bdir/libc-exports.rsp"))"
    if ! fresh "$bdir/make.stamp" "$make_key"; then
        say "building CPython ($kind, a few minutes)"
        # make does not relink when only the link flags changed
        rm -f "$bdir/python.wasm"
        logged "$LOGS/make-$kind.log" make -C "$bdir" -j"$JOBS" CC="$cc_make" LINKFORSHARED="$link_flags" ||
            die "make failed ($kind)"
        echo "$make_key" >"$bdir/make.stamp"
    fi
}

# Test extension modules (tests/python/ext), built as a package author
# would: CPython's headers and pyconfig.h, PIC, linked as side modules.
build_testext() {
    local kind=$1 bdir=$BUILD/python-build/$1 out=$BUILD/python-build/$1/testext src key
    local cc=$CC_CONF
    [ "$kind" = static ] && cc="$CLANG --target=wasm32-wasip1 --sysroot=$SYSROOT"
    mkdir -p "$out"
    for src in "$here"/ext/*.c; do
        local name so
        name=$(basename "$src" .c); so=$out/$name.cpython-311-wasm32-wasi.so
        key="$cc -fvisibility=default $LDSHARED_FLAGS $(hash "$src" "$bdir/pyconfig.h")"
        fresh "$so.stamp" "$key" && continue
        logged "$LOGS/testext-$kind-$name.log" $cc -O2 -fPIC -fvisibility=default -I"$cpy/Include" -I"$bdir" $LDSHARED_FLAGS \
            -o "$so" "$src" || die "building the test extension $name failed"
        echo "$key" >"$so.stamp"
    done
}

for k in "${kinds[@]}"; do
    build_python "$k"
    build_testext "$k"
done

# ---- the installation --------------------------------------------------------
# $dest/bin/python3 (the launcher), bin/python.wasm, lib/python3.11 (the
# standard library and its .pyc), lib/python3.11/lib-dynload (extension
# modules and _sysconfigdata), lib/ (NEEDED side modules; for PIE, libc.so
# and libdl.so). A stamp holds the key of what is installed.
install_python() {
    local kind=$1 bdir=$BUILD/python-build/$1 dest
    case $kind in pie) dest=$BUILD/python ;; static) dest=$BUILD/python-static ;; ref) dest=$BUILD/python-ref ;; esac
    local key
    key="$(cat "$bdir/make.stamp") $(hash "$here/python3.in" "$0")"
    fresh "$dest/.stamp" "$key" && return
    say "installing to $dest"
    rm -rf "$dest" && mkdir -p "$dest/bin" "$dest/lib/python3.11/lib-dynload" "$dest/lib/python3.11/site-packages"
    # Installed without debug information (make install-strip): 15 MB -> 4.5
    # MB for python.wasm.
    "$LLVM_OBJCOPY" --strip-debug "$bdir/python.wasm" "$dest/bin/python.wasm"
    sed -e "s|@RUNNER@|$RUNNER|g" -e "s|@NODE_RUNNER@|$root/host-abi/js/wasmdl-run.mjs|g" -e "s|@KIND@|$kind|g" \
        "$here/python3.in" >"$dest/bin/python3"
    chmod +x "$dest/bin/python3"
    ln -s python3 "$dest/bin/python"
    ln -s python3 "$dest/bin/python3.11"
    cp "$DEPS/lib/libz.so" "$DEPS/lib/libsqlite3.so" "$dest/lib/"
    cp "$LIBDL_SO" "$dest/lib/libdl.so"
    [ "$kind" != static ] && cp "$SYSROOT_PIE/lib/wasm32-wasi/libc.so" "$dest/lib/libc.so"
    # The standard library, without what cannot work on WASI (no Tk, no
    # subprocess-based tools are removed: the tests skip them themselves).
    (cd "$cpy/Lib" && tar cf - --exclude=__pycache__ --exclude='*.pyc' .) | (cd "$dest/lib/python3.11" && tar xf -)
    local pybuilddir
    pybuilddir=$(cat "$bdir/pybuilddir.txt")
    cp "$bdir/$pybuilddir"/_sysconfigdata_*.py "$dest/lib/python3.11/"
    local n=0 so
    for so in "$bdir"/Modules/*.cpython-311-wasm32-wasi.so; do
        [ -e "$so" ] || continue
        "$LLVM_OBJCOPY" --strip-debug "$so" "$dest/lib/python3.11/lib-dynload/$(basename "$so")"; n=$((n + 1))
    done
    [ $n -gt 0 ] || [ "$kind" = ref ] || die "no extension modules in $bdir/Modules"
    # .pyc by the host python (the same bytecode: same 3.11 magic number),
    # so that the interpreter does not compile the stdlib at every start.
    logged "$LOGS/compileall-$kind.log" "$BUILD_PYTHON" -m compileall -q -j"$JOBS" \
        -x '(badsyntax|bad_coding|lib2to3/tests/data|test_lib2to3/data|tests/data)' "$dest/lib/python3.11" ||
        say "compileall reported errors (see $LOGS/compileall-$kind.log)"
    echo "$key" >"$dest/.stamp"
    say "$kind: python.wasm $(stat -c %s "$dest/bin/python.wasm") bytes, $n extension modules"
}

for k in "${kinds[@]}"; do
    install_python "$k"
done
