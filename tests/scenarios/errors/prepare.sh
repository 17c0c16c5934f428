#!/bin/sh
# Extra inputs for the errors scenario, made in the scenario's build dir ($1).
# $CC is the C compiler command line the harness uses.
set -e
cd "$1"
$CC -nostdlib -Wl,--no-entry -Wl,--export=plain -o nodylink.so "$SRC/nodylink.c"
# The first 100 bytes of a real side module: cut inside a section.
head -c 100 libok.so > truncated.so
# A module asking for more memory than the program's maximum (ldflags caps
# it at 32 MiB), one asking for more table slots than libdl's limit, and one
# importing an exception tag no module defines, and one importing from a
# module libdl does not know.
python3 "$SRC/../../tools/mkmod.py" meminfo libok.so hugemem.so 67108864 0 0 0
python3 "$SRC/../../tools/mkmod.py" meminfo libok.so hugetable.so 16 0 2000000 0
python3 "$SRC/../../tools/mkmod.py" tag-import tagimport.so
python3 "$SRC/../../tools/mkmod.py" foreign-import foreign.so
