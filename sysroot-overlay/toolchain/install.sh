#!/usr/bin/env bash
# Installs and caches everything the project needs to build, under one
# git-ignored folder: <repo>/.toolchain/.
#
#   1. Debian packages: clang-22, lld-22 (wasm-ld-22), llvm-22 (llvm-ar/nm),
#      wabt (wasm-objdump), the wasm32 compiler-rt builtins, dpkg-dev + make.
#   2. Rust nightly with rust-src and the wasm32-unknown-unknown target.
#   3. trixie's wasi-libc binary package (static non-PIC libc.a, headers incl.
#      dlfcn.h), fetched with a private apt configuration and unpacked into
#      .toolchain/wasi-libc/ (sysroot: .toolchain/wasi-libc/usr).
#   4. A PIC build of bookworm's wasi-libc source package, built with clang-22
#      into .toolchain/wasi-libc-pic/.
#   5. binaryen's wasm-opt, which shrinks libdl.so: Debian's package,
#      downloaded and unpacked into .toolchain/binaryen/, not installed. clang
#      runs any wasm-opt it finds in PATH after every optimised wasm link, which
#      would rewrite every program and plugin (and drop a PIE program's unused
#      table import, which libdl needs), so it must not be in PATH.
#   6. .toolchain/env.mk, a Makefile fragment with absolute paths.
#
# Idempotent: every step checks its result first, so a second run only checks
# and exits. The machine's own apt sources (/etc/apt) are never edited: steps 3
# and 4 use a private apt configuration under .toolchain/apt/.
#
# To redo a step, delete what it made (e.g. rm -rf .toolchain/wasi-libc-pic).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TC="$ROOT/.toolchain"
mkdir -p "$TC"

say() { echo "toolchain: $*"; }
die() { echo "toolchain: error: $*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi

LLVM_VER=22
CLANG=clang-$LLVM_VER
WASM_LD=wasm-ld-$LLVM_VER
LLVM_AR=llvm-ar-$LLVM_VER
LLVM_NM=llvm-nm-$LLVM_VER
BUILTINS=/usr/lib/llvm-$LLVM_VER/lib/clang/$LLVM_VER/lib/wasi/libclang_rt.builtins-wasm32.a
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# ---- 1. Debian packages -----------------------------------------------------
apt_missing=()
for tool in "$CLANG" "$WASM_LD" "$LLVM_AR" "$LLVM_NM" wasm-objdump dpkg-source make; do
    command -v "$tool" >/dev/null 2>&1 || apt_missing+=("$tool")
done
[ -f "$BUILTINS" ] || apt_missing+=("$BUILTINS")
[ -f "$KEYRING" ] || apt_missing+=("$KEYRING")
if [ ${#apt_missing[@]} -gt 0 ]; then
    say "installing Debian packages (missing: ${apt_missing[*]})"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        "clang-$LLVM_VER" "lld-$LLVM_VER" "llvm-$LLVM_VER" wabt \
        "libclang-rt-$LLVM_VER-dev-wasm32" dpkg-dev make xz-utils debian-archive-keyring
    for tool in "$CLANG" "$WASM_LD" "$LLVM_AR" "$LLVM_NM" wasm-objdump dpkg-source make; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool still missing after apt-get install"
    done
    [ -f "$BUILTINS" ] || die "$BUILTINS still missing after apt-get install"
else
    say "Debian packages present ($CLANG, $WASM_LD, wasm-objdump, wasm32 builtins)"
fi

# ---- 2. Rust nightly + rust-src + wasm32-unknown-unknown ---------------------
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v rustup >/dev/null 2>&1; then
    # Not packaged in bookworm: fetch rustup-init from the rustup dist server.
    say "installing rustup"
    mkdir -p "$TC/cache"
    arch="$(uname -m)-unknown-linux-gnu"
    curl -fsSL --retry 3 -o "$TC/cache/rustup-init" \
        "https://static.rust-lang.org/rustup/dist/$arch/rustup-init"
    chmod +x "$TC/cache/rustup-init"
    "$TC/cache/rustup-init" -y --no-modify-path --profile minimal --default-toolchain stable
fi
rust_installed="$(rustup +nightly component list --installed 2>/dev/null || true)"
if ! grep -qx 'rust-src' <<<"$rust_installed" ||
   ! grep -qx 'rust-std-wasm32-unknown-unknown' <<<"$rust_installed"; then
    say "installing Rust nightly with rust-src and wasm32-unknown-unknown"
    if ! grep -q '^nightly-' <<<"$(rustup toolchain list)"; then
        rustup toolchain install nightly --profile minimal
    fi
    rustup component add rust-src --toolchain nightly
    rustup target add wasm32-unknown-unknown --toolchain nightly
else
    say "Rust nightly present ($(rustup run nightly rustc --version))"
fi

# ---- private apt configurations -----------------------------------------------
. "$(dirname "$0")/private-apt.sh"

# ---- 3. trixie's wasi-libc binary package ------------------------------------
WASI_DIR="$TC/wasi-libc"
WASI_SYSROOT="$WASI_DIR/usr"
if [ -f "$WASI_DIR/VERSION" ] && [ -f "$WASI_SYSROOT/lib/wasm32-wasi/libc.a" ] &&
   [ -f "$WASI_SYSROOT/include/wasm32-wasi/dlfcn.h" ]; then
    say "trixie wasi-libc present ($(cat "$WASI_DIR/VERSION"))"
else
    say "fetching wasi-libc from trixie"
    conf="$(private_apt trixie "deb [signed-by=$KEYRING] http://deb.debian.org/debian trixie main")"
    apt-get -q -c "$conf" update >"$TC/apt/trixie/update.log" 2>&1 ||
        { cat "$TC/apt/trixie/update.log" >&2; die "apt-get update (trixie) failed"; }
    dl="$TC/cache/debs"
    mkdir -p "$dl"
    rm -f "$dl"/wasi-libc_*.deb
    (cd "$dl" && apt-get -q -c "$conf" download wasi-libc) >"$TC/apt/trixie/download.log" 2>&1 ||
        { cat "$TC/apt/trixie/download.log" >&2; die "apt-get download wasi-libc failed"; }
    deb="$(ls "$dl"/wasi-libc_*.deb)"
    rm -rf "$WASI_DIR.tmp" && mkdir -p "$WASI_DIR.tmp"
    dpkg-deb -x "$deb" "$WASI_DIR.tmp"
    dpkg-deb -f "$deb" Version >"$WASI_DIR.tmp/VERSION"
    # The package ships usr/{include,lib,share}/wasm32-wasi (+ wasm32-wasip2)
    # with wasm32-wasip1 -> wasm32-wasi symlinks. clang-22 searches
    # SYSROOT/include/<triple> and SYSROOT/lib/<triple> with the triple as
    # written (wasm32-wasi or wasm32-wasip1), so both work as shipped; make
    # sure of the symlinks in case a later version drops them.
    for d in include lib share; do
        [ -e "$WASI_DIR.tmp/usr/$d/wasm32-wasip1" ] || ln -s wasm32-wasi "$WASI_DIR.tmp/usr/$d/wasm32-wasip1"
    done
    [ -f "$WASI_DIR.tmp/usr/lib/wasm32-wasi/libc.a" ] || die "no usr/lib/wasm32-wasi/libc.a in $deb"
    rm -rf "$WASI_DIR" && mv "$WASI_DIR.tmp" "$WASI_DIR"
    say "trixie wasi-libc $(cat "$WASI_DIR/VERSION") -> $WASI_SYSROOT"
fi

# ---- 4. PIC wasi-libc built from bookworm's source package --------------------
PIC_SYSROOT="$TC/wasi-libc-pic"
PIC_LIB="$PIC_SYSROOT/lib/wasm32-wasi"
# Compile flags: Debian's own (-O2 -fno-stack-protector, no -DNDEBUG) plus
# -fPIC; -Werror is removed from the Makefile copy (clang-22 warns where
# clang-14 did not). -Wno-deprecated silences clang-22's "--target=wasm32-wasi
# is deprecated" on every file. -fvisibility=default: clang hides symbols by
# default for WebAssembly, and libc.so (linked from this libc.a) must export
# libc's API; the flags are recorded, so changing them rebuilds.
PIC_CFLAGS="-O2 -fno-stack-protector -fPIC -fvisibility=default -Wno-deprecated"
if [ -f "$PIC_SYSROOT/VERSION" ] && [ -f "$PIC_LIB/libc.a" ] && [ -f "$PIC_LIB/libdl.a" ] &&
   [ "$(cat "$PIC_SYSROOT/CFLAGS" 2>/dev/null)" = "$PIC_CFLAGS" ]; then
    say "PIC wasi-libc present ($(cat "$PIC_SYSROOT/VERSION"))"
else
    srcdir="$TC/src"
    src="$(ls -d "$srcdir"/wasi-libc-*/ 2>/dev/null | head -n1 || true)"
    if [ -z "$src" ] || [ ! -f "$srcdir/VERSION" ]; then
        say "fetching wasi-libc source from bookworm"
        conf="$(private_apt bookworm-src "deb-src [signed-by=$KEYRING] http://deb.debian.org/debian bookworm main")"
        apt-get -q -c "$conf" update >"$TC/apt/bookworm-src/update.log" 2>&1 ||
            { cat "$TC/apt/bookworm-src/update.log" >&2; die "apt-get update (bookworm deb-src) failed"; }
        rm -rf "$srcdir" && mkdir -p "$srcdir"
        (cd "$srcdir" && apt-get -q -c "$conf" source wasi-libc) >"$TC/apt/bookworm-src/source.log" 2>&1 ||
            { cat "$TC/apt/bookworm-src/source.log" >&2; die "apt-get source wasi-libc failed"; }
        dsc="$(ls "$srcdir"/wasi-libc_*.dsc)"
        sed -n 's/^Version: //p' "$dsc" >"$srcdir/VERSION"
        src="$(ls -d "$srcdir"/wasi-libc-*/ | head -n1)"
    fi
    version="$(cat "$srcdir/VERSION")"
    say "building PIC wasi-libc $version with $CLANG (about 20 s)"
    build="$TC/build/wasi-libc-pic"
    rm -rf "$build" "$PIC_SYSROOT"
    mkdir -p "$build"
    cp -a "$src/." "$build/src"
    sed -i 's/ -Werror / /' "$build/src/Makefile"
    grep -q -- '-Werror' "$build/src/Makefile" && die "could not drop -Werror from wasi-libc's Makefile"
    mk=(make -C "$build/src" "CC=$CLANG" "AR=$LLVM_AR" "NM=$LLVM_NM"
        "EXTRA_CFLAGS=$PIC_CFLAGS" "SYSROOT=$PIC_SYSROOT" "OBJDIR=$build/obj")
    log="$build/build.log"
    # One make run only: include_dirs is .PHONY and every object depends on
    # it, so each further make invocation would rebuild the whole libc.
    # "finish" builds startup files and libraries, then runs check-symbols,
    # then makes the empty placeholder libraries (libm.a, libdl.a, ...).
    #
    # check-symbols compares the built libc against expected/wasm32-wasi: the
    # defined symbols, the undefined symbols and the compiler's predefined
    # macros. The macros always differ from clang-14's (clang-22 predefines
    # __wasip1__, __wasm_bulk_memory__, __FPCLASS_*, ... and -fPIC adds
    # __PIC__), and PIC code adds __memory_base, __table_base and
    # __indirect_function_table to the undefined symbols, so with clang-22 the
    # check fails for those reasons alone. Those differences are tolerated and
    # the placeholder libraries are then made here; any other failure (the
    # build itself, a defined symbol missing or added, another undefined
    # symbol) is an error.
    if ! "${mk[@]}" -j"$(nproc)" finish >"$log" 2>&1; then
        exp="$build/src/expected/wasm32-wasi"
        got="$PIC_SYSROOT/share/wasm32-wasi"
        if [ ! -f "$got/predefined-macros.txt" ] || [ ! -f "$PIC_LIB/libc.a" ] ||
           ! grep -q '^diff -wur' "$log" ||
           ! tail -n 5 "$log" | grep -qF ': check-symbols] Error'; then
            tail -n 40 "$log" >&2; die "PIC wasi-libc build failed (log: $log)"
        fi
        diff -w "$exp/defined-symbols.txt" "$got/defined-symbols.txt" >&2 ||
            die "PIC libc defines other symbols than expected (log: $log)"
        extra="$(diff -w "$exp/undefined-symbols.txt" "$got/undefined-symbols.txt" | grep '^[<>]' |
                 grep -vxE '> (__memory_base|__table_base|__indirect_function_table)' || true)"
        [ -z "$extra" ] || die "PIC libc has unexpected undefined symbols: $extra"
        say "check-symbols: only clang-22's predefined macros and the PIC bases differ (tolerated)"
        for name in m rt pthread crypt util xnet resolv dl; do
            "$LLVM_AR" crs "$PIC_LIB/lib$name.a"
        done
    fi
    # Headers are in SYSROOT/include (no triple subdir in this version), which
    # clang searches too; libraries for --target=wasm32-wasip1 as well.
    for d in lib share; do
        [ -e "$PIC_SYSROOT/$d/wasm32-wasip1" ] || ln -s wasm32-wasi "$PIC_SYSROOT/$d/wasm32-wasip1"
    done
    # Check that the objects are PIC: getenv reads the global __wasilibc_environ,
    # which PIC code reaches through a GOT.mem import (non-PIC: an absolute
    # address, no GOT import).
    tmp="$(mktemp -d)"
    (cd "$tmp" && "$LLVM_AR" x "$PIC_LIB/libc.a" getenv.o)
    wasm-objdump -x "$tmp/getenv.o" | grep -q 'GOT\.mem\.' ||
        { rm -rf "$tmp"; die "PIC check failed: getenv.o in $PIC_LIB/libc.a has no GOT.mem import"; }
    rm -rf "$tmp"
    echo "$version" >"$PIC_SYSROOT/VERSION"
    echo "$PIC_CFLAGS" >"$PIC_SYSROOT/CFLAGS"
    rm -rf "$build/obj" "$build/src"
    say "PIC wasi-libc $version -> $PIC_SYSROOT"
fi

# ---- 5. binaryen (wasm-opt), unpacked, not installed ----------------------------
WASM_OPT="$TC/binaryen/usr/bin/wasm-opt"
if ! "$WASM_OPT" --version >/dev/null 2>&1; then
    say "fetching binaryen (wasm-opt) into $TC/binaryen"
    dl="$TC/cache/binaryen"
    rm -rf "$dl" "$TC/binaryen" && mkdir -p "$dl"
    if ! (cd "$dl" && apt-get -q download binaryen) >"$dl/download.log" 2>&1; then
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        (cd "$dl" && apt-get -q download binaryen) >"$dl/download.log" 2>&1 ||
            { cat "$dl/download.log" >&2; die "apt-get download binaryen failed"; }
    fi
    dpkg-deb -x "$dl"/binaryen_*.deb "$TC/binaryen"
    # Its RUNPATH ($ORIGIN/../lib/...) finds the libbinaryen.so beside it.
    "$WASM_OPT" --version >/dev/null || die "$WASM_OPT does not run"
fi
say "wasm-opt: $("$WASM_OPT" --version)"

# ---- 6. env.mk ------------------------------------------------------------------
abs() { command -v "$1" || die "$1 not found"; }
env_mk="# Written by sysroot-overlay/toolchain/install.sh; do not edit.
CLANG         := $(abs "$CLANG")
WASM_LD       := $(abs "$WASM_LD")
WASM_OBJDUMP  := $(abs wasm-objdump)
WASM_OPT      := $WASM_OPT
LLVM_AR       := $(abs "$LLVM_AR")
LLVM_NM       := $(abs "$LLVM_NM")
# trixie's wasi-libc $(cat "$WASI_DIR/VERSION") (static, non-PIC)
WASI_SYSROOT  := $WASI_SYSROOT
# bookworm's wasi-libc $(cat "$PIC_SYSROOT/VERSION") built with -fPIC
WASI_SYSROOT_PIC := $PIC_SYSROOT
CARGO_NIGHTLY := $(abs cargo) +nightly"
# Rewrite only on change, so that make does not see a newer file each run.
if [ ! -f "$TC/env.mk" ] || [ "$(cat "$TC/env.mk")" != "$env_mk" ]; then
    echo "$env_mk" >"$TC/env.mk"
    say "wrote $TC/env.mk"
fi

# The stamp the top Makefile depends on.
[ -f "$TC/.complete" ] && [ ! "${BASH_SOURCE[0]}" -nt "$TC/.complete" ] || touch "$TC/.complete"
say "ready"
