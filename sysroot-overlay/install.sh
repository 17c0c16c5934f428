#!/bin/sh
# Installs the overlay into a wasi-libc sysroot (wasi-sdk's or Debian's):
#   dlfcn.h  over wasi-libc's (same values, plus what its copy hides)
#   libdl.a  next to libc.a (replacing wasi-libc's empty one, if any)
#   libdl.so next to it, for runners to find (wasmdl-run --libdl PATH)
# usage: install.sh SYSROOT LIBDL_A LIBDL_SO
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
    found=1
done
[ "$found" = 1 ] || { echo "install.sh: no wasm32-wasi*/libc.a under $sysroot" >&2; exit 1; }
for hdr in $(find "$sysroot" -name dlfcn.h -path '*wasm32-wasi*' 2>/dev/null); do
    install -m 644 "$here/include/dlfcn.h" "$hdr"
done
echo "installed libdl.a, libdl.so and dlfcn.h into $sysroot"
