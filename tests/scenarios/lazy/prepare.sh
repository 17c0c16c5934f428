#!/bin/sh
# libping.so and libpong.so NEED each other: link each against a stub of the other first.
set -e
cd "$1"
$CC -O2 $PLUGIN_FLAGS -o libpong.so "$SRC/libpong.c"
$CC -O2 $PLUGIN_FLAGS -o libping.so "$SRC/libping.c" libpong.so
$CC -O2 $PLUGIN_FLAGS -o libpong.so "$SRC/libpong.c" libping.so
