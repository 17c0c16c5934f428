#!/bin/sh
# Other ways to reach libid.so: a subdirectory for "sub/..", and symlinks.
set -e
cd "$1"
mkdir -p sub
ln -sf libid.so link.so
ln -sf ../libid.so sub/uplink.so
