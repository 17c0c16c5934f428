#!/bin/sh
# libbroken.so NEEDs libnothere.so, which is deleted after linking.
set -e
cd "$1"
$CC -O2 $PLUGIN_FLAGS -o libnothere.so -x c /dev/null
$CC -O2 $PLUGIN_FLAGS -o libbroken.so "$SRC/libbroken.c" libnothere.so
rm libnothere.so
