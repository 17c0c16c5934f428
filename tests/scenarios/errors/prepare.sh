#!/bin/sh
# Extra inputs for the errors scenario, made in the scenario's build dir ($1).
# $CC is the C compiler command line the harness uses.
set -e
cd "$1"
$CC -nostdlib -Wl,--no-entry -Wl,--export=plain -o nodylink.so "$SRC/nodylink.c"
# The first 100 bytes of a real side module: cut inside a section.
head -c 100 libok.so > truncated.so
