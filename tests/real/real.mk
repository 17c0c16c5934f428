# Real third-party programs on the loader: SQLite's shell loading SQLite's
# own loadable extensions, and Lua 5.4 loading LPeg, all built at test time
# from Debian bookworm source packages (tests/real/run.sh says how).
# Each program runs as a static main and as a PIE main against libc.so, on
# the wasmtime runner and on the Node runner.
# Included from the top Makefile; uses its CC_WASM, PROGRAM_LDFLAGS,
# PLUGIN_FLAGS, CC_PIE, PIE_CFLAGS, PIE_LDFLAGS, PIE_LIBDIR, RUNNER,
# NODE_RUNNER, NODE_HAS_EXNREF, LIBDL_SO, BUILD, TC and SYSROOT_T.
#
#   make real-programs                       both programs
#   make real-programs REAL_PROGRAMS=lua     one of them (sqlite, lua)
#
# Sources are cached in $(TC)/real-src (kept by `make clean`), builds in
# $(BUILD)/real with stamp files: a second run only runs the programs.

REAL_PROGRAMS ?= sqlite lua

.PHONY: real-programs
# What tests/real/run.sh builds and runs with; the other hosts' makefiles run
# it too, with REAL_WAYS and WAYS_RUNNER for their own runner.
REAL_ENV = CC="$(CC_WASM)" PROGRAM_LDFLAGS="$(PROGRAM_LDFLAGS)" PLUGIN_FLAGS="$(PLUGIN_FLAGS)" \
           CC_PIE="$(CC_PIE) $(PIE_CFLAGS)" PIE_LDFLAGS="$(PIE_LDFLAGS)" PIE_LIBDIR=$(PIE_LIBDIR) \
           BUILD=$(BUILD) TC=$(TC) SYSROOT=$(SYSROOT_T) REAL_SRC=$(TC)/real-src \
           RUNNER="$(RUNNER) --libdl $(LIBDL_SO)" NODE_RUNNER="$(NODE_RUNNER) --libdl $(LIBDL_SO)"

real-programs: $(RUNNER) sysroot sysroot-pie node-runner
	$(REAL_ENV) NODE_EXNREF=$(NODE_HAS_EXNREF) tests/real/run.sh $(REAL_PROGRAMS)
