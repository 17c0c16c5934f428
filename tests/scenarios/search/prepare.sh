#!/bin/sh
# Lay the libraries out in directories and link the ones with RUNTIME_PATHs.
set -e
cd "$1"
mkdir -p plugins/deps other lp
$CC -O2 $PLUGIN_FLAGS -o plugins/libtop.so "$SRC/libtop.c" libdeep.so '-Wl,-rpath,$ORIGIN/deps'
$CC -O2 $PLUGIN_FLAGS -o plugins/libbraced.so "$SRC/libbraced.c" libother.so '-Wl,-rpath,${ORIGIN}/../other'
mv libdeep.so liblater.so plugins/deps/
mv libother.so other/
mv libfromlp.so lp/
