#!/bin/sh
# Installs the overlay into a wasi-libc sysroot (wasi-sdk's or Debian's):
#   dlfcn.h  over wasi-libc's (same values, plus what its copy hides)
#   libdl.a  next to libc.a (replacing wasi-libc's empty one, if any)
#   libdl.so next to it, for runners to find (wasmdl-run --libdl PATH)
#   libc-all.rsp next to libc.a: one --undefined=NAME per global symbol libc.a
#            defines, for a static program to link with -Wl,@libc-all.rsp so
#            that plugins find every libc function (see README.md)
# usage: install.sh SYSROOT LIBDL_A LIBDL_SO     env: NM (default llvm-nm)
set -eu
sysroot=$1; liba=$2; libso=$3
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$sysroot" ] || { echo "install.sh: no such sysroot: $sysroot" >&2; exit 1; }
# Every include and lib directory of the sysroot that holds wasi-libc's files.
found=0
for libc in $(find "$sysroot" -name libc.a -path '*wasm32-wasi*' 2>/dev/null); do
    libdir=$(dirname "$libc")
    install -m 644 "$liba" "$libdir/libdl.a"
    install -m 644 "$libso" "$libdir/libdl.so"
    # Names, not --whole-archive: a member is pulled in only for a name the
    # program does not define itself, so a program may still replace part of
    # libc (its own malloc, or CPython's pthread stubs) without a clash.
    "${NM:-llvm-nm}" --defined-only --extern-only "$libc" 2>/dev/null |
        awk 'NF == 3 { print "--undefined=" $3 }' | sort -u >"$libdir/libc-all.rsp.tmp"
    [ -s "$libdir/libc-all.rsp.tmp" ] || { echo "install.sh: ${NM:-llvm-nm} listed no symbols of $libc" >&2; exit 1; }
    mv "$libdir/libc-all.rsp.tmp" "$libdir/libc-all.rsp"
    found=1
done
[ "$found" = 1 ] || { echo "install.sh: no wasm32-wasi*/libc.a under $sysroot" >&2; exit 1; }
for hdr in $(find "$sysroot" -name dlfcn.h -path '*wasm32-wasi*' 2>/dev/null); do
    install -m 644 "$here/include/dlfcn.h" "$hdr"
done
echo "installed libdl.a, libdl.so, libc-all.rsp and dlfcn.h into $sysroot"
