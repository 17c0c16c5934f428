# wasmdl: a real dlopen for WebAssembly.
#
#   make demo     install what is missing, build, run the demo
#   make test     the whole suite (unit tests, shim tests, scenarios)
#   make install SYSROOT=DIR   install libdl.so, libdl.a and dlfcn.h into a sysroot
#
# Everything fetched or built lives in .toolchain/ (tools) and build/ (outputs).

ROOT    := $(abspath .)
TC      := $(ROOT)/.toolchain
BUILD   := $(ROOT)/build
TOOLCHAIN_STAMP := $(TC)/.complete

# Written by the toolchain installer: CLANG, WASI_SYSROOT, WASI_SYSROOT_PIC, ...
# It is a target (below): on a fresh machine make runs the installer first,
# then restarts with the variables defined.
include $(TC)/env.mk

CARGO_NIGHTLY ?= cargo +nightly
TARGET        := wasm32-wasip1

# libdl.so: a PIC no_std cdylib linked as a dylink.0 side module. -Bsymbolic
# binds libdl's own symbols locally, so that libdl.so has no GOT imports and
# a shim can instantiate it without being a linker itself.
#
# For size (libdl.so's budget is 128 KiB, see bench/bench.mk): no Debug
# formatting (libdl prints none outside tests), and a panic, which the crate's
# lints keep off every API path, traps at once instead of formatting a
# message; core and alloc built with their smaller implementations. Then
# binaryen's wasm-opt -Oz (-g keeps the name section, for backtraces).
LIBDL_SIZE_FLAGS := -Zfmt-debug=none -Zunstable-options -Cpanic=immediate-abort
LIBDL_STD_FLAGS  := -Zbuild-std=core,alloc -Zbuild-std-features=optimize_for_size
LIBDL_RUSTFLAGS := -C relocation-model=pic -C link-arg=-shared -C link-arg=--experimental-pic -C link-arg=-Bsymbolic \
                   $(LIBDL_SIZE_FLAGS)
LIBDL_SO  := $(BUILD)/libdl.so
RUNNER    := $(ROOT)/target/release/wasmdl-run
SYSROOT_T := $(BUILD)/sysroot

# How programs and plugins are built (documented in sysroot-overlay/README.md).
CC_WASM          = $(CLANG) --target=$(TARGET) --sysroot=$(SYSROOT_T)
# A statically linked program: import the memory and table the shim creates,
# export every symbol it contains (wasm clang hides symbols by default, libc's
# included, so --export-dynamic would export nothing), and link all of libc
# (libc-all.rsp names every libc symbol), so that a plugin may call any libc
# function, as with Emscripten's MAIN_MODULE=1.
PROGRAM_LDFLAGS  = -ldl -Wl,--import-memory -Wl,--import-table -Wl,--export-all \
                   -Wl,@$(SYSROOT_T)/lib/$(TARGET)/libc-all.rsp
# The slimmer variant: only what the program uses, plus what it names.
PROGRAM_LDFLAGS_SLIM := -ldl -Wl,--import-memory -Wl,--import-table -Wl,--export-all
# A plugin: PIC, default visibility (so its symbols are exported), no libc of
# its own (it imports the program's), undefined symbols become imports, and
# __wasm_call_ctors exported (wasm-ld does not export it from -shared output).
PLUGIN_FLAGS     = -fPIC -fvisibility=default -shared -nostdlib -Wl,--no-entry -Wl,--experimental-pic \
                   -Wl,--unresolved-symbols=import-dynamic -Wl,--export=__wasm_call_ctors $(BUILTINS)
BUILTINS         = $(shell $(CLANG) --target=$(TARGET) -print-libgcc-file-name)

.PHONY: all toolchain libdl runner overlay sysroot sysroot-pie demo bench-calls test lint unit-test shim-test js-unit-test cache-test scenarios demo-test install clean

all: libdl runner sysroot

toolchain: $(TOOLCHAIN_STAMP)
$(TOOLCHAIN_STAMP) $(TC)/env.mk: sysroot-overlay/toolchain/install.sh
	sysroot-overlay/toolchain/install.sh
	@touch $(TC)/env.mk $(TOOLCHAIN_STAMP)

# ---- libdl.so -------------------------------------------------------------
# The flags are a prerequisite too, through a file rewritten when they change.
LIBDL_FLAGS_FILE := $(BUILD)/libdl.flags
LIBDL_FLAGS_NOW  := $(LIBDL_RUSTFLAGS) $(LIBDL_STD_FLAGS) wasm-opt -Oz
ifneq ($(file <$(LIBDL_FLAGS_FILE)),$(LIBDL_FLAGS_NOW))
$(shell mkdir -p $(BUILD))
$(file >$(LIBDL_FLAGS_FILE),$(LIBDL_FLAGS_NOW))
endif
LIBDL_SRC := $(wildcard libdl/src/*.rs) libdl/Cargo.toml Cargo.toml $(LIBDL_FLAGS_FILE)
libdl: $(LIBDL_SO)
$(LIBDL_SO): $(LIBDL_SRC) | $(TOOLCHAIN_STAMP)
	@mkdir -p $(BUILD)
	RUSTFLAGS="$(LIBDL_RUSTFLAGS)" $(CARGO_NIGHTLY) rustc -q -p libdl --target wasm32-unknown-unknown \
	    $(LIBDL_STD_FLAGS) --profile libdl --crate-type cdylib --target-dir $(BUILD)/cargo-wasm
	$(WASM_OPT) -Oz -g $(BUILD)/cargo-wasm/wasm32-unknown-unknown/libdl/libdl.wasm -o $@
	@echo "libdl.so: $$(stat -c %s $@) bytes"

# ---- the wasmtime runner --------------------------------------------------
runner: $(RUNNER)
$(RUNNER): $(wildcard host-abi/wasmtime/src/*.rs) host-abi/wasmtime/Cargo.toml
	cargo build -q --release -p wasmdl-wasmtime

# ---- sysroot overlay ------------------------------------------------------
# libdl.a and dlfcn.h, installed (with libdl.so) into a sysroot.
overlay: $(BUILD)/overlay/lib/libdl.a
$(BUILD)/overlay/lib/libdl.a: sysroot-overlay/src/libdl-static.c sysroot-overlay/include/dlfcn.h | $(TOOLCHAIN_STAMP)
	@mkdir -p $(BUILD)/overlay/lib $(BUILD)/overlay/obj
	$(CLANG) --target=$(TARGET) --sysroot=$(WASI_SYSROOT) -O2 -Isysroot-overlay/include \
	    -c sysroot-overlay/src/libdl-static.c -o $(BUILD)/overlay/obj/libdl-static.o
	$(LLVM_AR) rcs $@ $(BUILD)/overlay/obj/libdl-static.o

install: $(BUILD)/overlay/lib/libdl.a $(LIBDL_SO)
	@test -n "$(SYSROOT)" || { echo "usage: make install SYSROOT=DIR" >&2; exit 2; }
	NM=$(LLVM_NM) sysroot-overlay/install.sh "$(SYSROOT)" $(BUILD)/overlay/lib/libdl.a $(LIBDL_SO)

# The test sysroot: Debian's wasi-libc with the overlay installed.
sysroot: $(SYSROOT_T)/.stamp
$(SYSROOT_T)/.stamp: $(BUILD)/overlay/lib/libdl.a $(LIBDL_SO) sysroot-overlay/install.sh
	rm -rf $(SYSROOT_T) && mkdir -p $(SYSROOT_T)
	cp -a $(WASI_SYSROOT)/. $(SYSROOT_T)/
	NM=$(LLVM_NM) sysroot-overlay/install.sh $(SYSROOT_T) $(BUILD)/overlay/lib/libdl.a $(LIBDL_SO)
	touch $@

# ---- PIE programs against libc.so ------------------------------------------
# The PIE sysroot: the PIC wasi-libc (built by the toolchain step), with
# libc.so instead of libc.a, libc_nonshared.a, libdl.so and dlfcn.h, and
# setjmp/longjmp from trixie's wasi-libc (bookworm's has none): its
# libsetjmp.a holds code with no memory or table addresses, which is checked,
# so it links into a PIE program as it is.
# libc.so is libc.a without exit.o (wasm-ld requires __wasm_call_dtors, which
# exit.o defines, to be in the program: libc_nonshared.a provides it), with
# musl's hidden exit hooks exported for libc_nonshared's exit, its
# constructors exported (they fill environ and the preopen table), and the
# hidden libc symbols that wasi-libc's emulation archives (signal, mman,
# process-clocks, getpid; linked into the program) use exported too, for
# example __lctrans_cur.
SYSROOT_PIE := $(BUILD)/sysroot-pie
PIE_LIBDIR  := $(SYSROOT_PIE)/lib/wasm32-wasi
CC_PIE       = $(CLANG) --target=$(TARGET) --sysroot=$(SYSROOT_PIE)
# A PIE program: PIC, default visibility (its symbols are exported, as with
# -rdynamic), memory imported from the shim, libc.so and libdl.so as NEEDED.
PIE_CFLAGS  := -fPIC -fvisibility=default
# __wasm_call_ctors exported: wasm-ld wraps a static command's _start with
# its constructors and destructors, but not a PIE's; libdl runs them.
# setjmp/longjmp: libsetjmp's functions are hidden, so --export-dynamic
# would not export them to plugins; named here, they are exported when linked.
PIE_LDFLAGS := -Wl,-pie -Wl,--experimental-pic -Wl,--import-memory -Wl,--export-dynamic \
               -Wl,--export=__wasm_call_ctors -ldl -lc_nonshared \
               -Wl,--export-if-defined=__wasm_setjmp -Wl,--export-if-defined=__wasm_setjmp_test \
               -Wl,--export-if-defined=__wasm_longjmp

sysroot-pie: $(SYSROOT_PIE)/.stamp
$(SYSROOT_PIE)/.stamp: $(LIBDL_SO) sysroot-overlay/src/libc_nonshared.c sysroot-overlay/include/dlfcn.h | $(TOOLCHAIN_STAMP)
	rm -rf $(SYSROOT_PIE) && mkdir -p $(SYSROOT_PIE)
	cp -a $(WASI_SYSROOT_PIC)/. $(SYSROOT_PIE)/
	cp $(PIE_LIBDIR)/libc.a $(BUILD)/libc-shared.a && $(LLVM_AR) d $(BUILD)/libc-shared.a exit.o
	$(LLVM_NM) --defined-only --extern-only $(BUILD)/libc-shared.a 2>/dev/null | awk 'NF == 3 { print $$3 }' | sort -u > $(BUILD)/libc.defined
	for a in $(PIE_LIBDIR)/libwasi-emulated-*.a; do $(LLVM_NM) --undefined-only $$a 2>/dev/null; done | \
	    awk '$$1 == "U" { print $$2 }' | sort -u | comm -12 - $(BUILD)/libc.defined | sed 's/^/-Wl,--export=/' > $(BUILD)/libc-emulated.exports
	$(CLANG) --target=$(TARGET) -shared -nostdlib -Wl,--no-entry -Wl,--experimental-pic \
	    -Wl,--whole-archive $(BUILD)/libc-shared.a -Wl,--no-whole-archive \
	    -Wl,--unresolved-symbols=import-dynamic -Wl,--export=__stdio_exit -Wl,--export=__funcs_on_exit \
	    -Wl,--export=__wasm_call_ctors $$(cat $(BUILD)/libc-emulated.exports) \
	    $(BUILTINS) -o $(PIE_LIBDIR)/libc.so
	rm -f $(PIE_LIBDIR)/libc.a $(BUILD)/libc-shared.a
	$(CLANG) --target=$(TARGET) --sysroot=$(SYSROOT_PIE) -O2 -fPIC -fvisibility=default \
	    -c sysroot-overlay/src/libc_nonshared.c -o $(BUILD)/libc_nonshared.o
	$(LLVM_AR) rcs $(PIE_LIBDIR)/libc_nonshared.a $(BUILD)/libc_nonshared.o
	cp $(LIBDL_SO) $(PIE_LIBDIR)/libdl.so
	cp sysroot-overlay/include/dlfcn.h $(SYSROOT_PIE)/include/dlfcn.h
	cp $(WASI_SYSROOT)/include/wasm32-wasi/setjmp.h $(SYSROOT_PIE)/include/setjmp.h
	cp $(WASI_SYSROOT)/include/wasm32-wasi/bits/setjmp.h $(SYSROOT_PIE)/include/bits/setjmp.h
	rm -rf $(BUILD)/setjmp-check && mkdir -p $(BUILD)/setjmp-check
	cd $(BUILD)/setjmp-check && $(LLVM_AR) x $(WASI_SYSROOT)/lib/wasm32-wasi/libsetjmp.a && \
	    ! $(WASM_OBJDUMP) -r *.o | grep -E 'R_WASM_(MEMORY_ADDR|TABLE_INDEX)_(SLEB|LEB|I32)' || \
	    { echo "libsetjmp.a is not position-independent" >&2; exit 1; }
	cp $(WASI_SYSROOT)/lib/wasm32-wasi/libsetjmp.a $(PIE_LIBDIR)/libsetjmp.a
	@echo "libc.so: $$(stat -c %s $(PIE_LIBDIR)/libc.so) bytes"
	touch $@

# ---- demo -----------------------------------------------------------------
DEMO := $(BUILD)/demo
demo: $(RUNNER) sysroot
	@mkdir -p $(DEMO)/plugins
	$(CC_WASM) -O2 -o $(DEMO)/main.wasm tests/demo/main.c $(PROGRAM_LDFLAGS)
	$(CC_WASM) -O2 $(PLUGIN_FLAGS) -o $(DEMO)/plugins/libgreet.so tests/demo/libgreet.c
	$(CC_WASM) -O2 $(PLUGIN_FLAGS) -o $(DEMO)/plugins/libcounter.so tests/demo/libcounter.c
	@echo "---- $(notdir $(RUNNER)) --dir plugins main.wasm plugins"
	cd $(DEMO) && $(RUNNER) --libdl $(LIBDL_SO) --dir plugins main.wasm plugins

# ---- tests ----------------------------------------------------------------
test: lint unit-test shim-test js-unit-test conformance scenarios demo-test cache-test real-programs \
      test-python-quick browser-test hostile python-host-test wasmer-test firefox-test size-check fuzz-smoke

# libdl denies unwrap/expect/panic/indexing on every API path (libdl/Cargo.toml).
lint: | $(TOOLCHAIN_STAMP)
	cargo fmt --check
	cd libdl/fuzz && cargo fmt --check
	cargo clippy -q -p libdl --all-targets -- -D warnings
	RUSTFLAGS="-C relocation-model=pic" $(CARGO_NIGHTLY) clippy -q -p libdl --target wasm32-unknown-unknown \
	    -Zbuild-std=core,alloc --target-dir $(BUILD)/cargo-clippy -- -D warnings

unit-test:
	cargo test -q -p libdl

shim-test:
	cargo test -q --release -p wasmdl-wasmtime

# The JS shim's own unit tests (its compiled-module cache).
js-unit-test:
	$(NODE) --test host-abi/js/cache.test.mjs

# The wasmtime runner's on-disk cache of compiled modules, through the runner:
# two processes filling it at once, damaged entries, a changed file.
cache-test: demo
	tests/cache/run.sh $(RUNNER) $(LIBDL_SO) $(DEMO) tests/demo/expected.out

# What tests/run-scenarios.sh builds programs and plugins with (BUILD, where
# to, is each caller's); every host's makefile runs the scenarios with it.
SCENARIO_ENV = CC="$(CC_WASM)" PROGRAM_LDFLAGS="$(PROGRAM_LDFLAGS)" PROGRAM_LDFLAGS_SLIM="$(PROGRAM_LDFLAGS_SLIM)" \
               PLUGIN_FLAGS="$(PLUGIN_FLAGS)" PIE_CC="$(CC_PIE) $(PIE_CFLAGS)" PIE_LDFLAGS="$(PIE_LDFLAGS)"

# Every scenario on every runner, with a statically linked main and with a
# PIE main against libc.so (runners named *-pie, which preopen libc.so's
# directory as /lib), each compared with the same golden files.
scenarios: $(RUNNER) sysroot sysroot-pie node-runner
	$(if $(NODE_SKIP),@echo "node $$($(NODE) --version) cannot compile wasm exnref exception handling (node 24+ can): skipping $(NODE_SKIP) on node")
	$(SCENARIO_ENV) BUILD=$(BUILD) SKIP="$(addprefix node:,$(NODE_SKIP)) $(addprefix node-pie:,$(NODE_SKIP))" \
	    tests/run-scenarios.sh "wasmtime=$(RUNNER) --libdl $(LIBDL_SO)" "node=$(NODE_RUNNER) --libdl $(LIBDL_SO)" \
	        "wasmtime-pie=$(RUNNER) --libdl $(LIBDL_SO) --dir $(PIE_LIBDIR)::/lib" \
	        "node-pie=$(NODE_RUNNER) --libdl $(LIBDL_SO) --dir $(PIE_LIBDIR)::/lib"

demo-test: demo node-runner sysroot-pie
	cd $(DEMO) && $(RUNNER) --libdl $(LIBDL_SO) --dir plugins main.wasm plugins > demo.out
	diff -u tests/demo/expected.out $(DEMO)/demo.out && echo "ok   demo [wasmtime]"
	cd $(DEMO) && $(NODE_RUNNER) --libdl $(LIBDL_SO) --dir plugins main.wasm plugins > demo.node.out
	diff -u tests/demo/expected.out $(DEMO)/demo.node.out && echo "ok   demo [node]"
	$(CC_PIE) $(PIE_CFLAGS) -O2 -o $(DEMO)/main-pie.wasm tests/demo/main.c $(PIE_LDFLAGS)
	cd $(DEMO) && $(RUNNER) --libdl $(LIBDL_SO) --dir $(PIE_LIBDIR)::/lib --dir plugins main-pie.wasm plugins > demo.pie.out
	diff -u tests/demo/expected.out $(DEMO)/demo.pie.out && echo "ok   demo [wasmtime-pie]"
	cd $(DEMO) && $(NODE_RUNNER) --libdl $(LIBDL_SO) --dir $(PIE_LIBDIR)::/lib --dir plugins main-pie.wasm plugins > demo.node-pie.out
	diff -u tests/demo/expected.out $(DEMO)/demo.node-pie.out && echo "ok   demo [node-pie]"

clean:
	rm -rf $(BUILD) target

# The cost of one call through a directly bound import, libdl's trampoline,
# and a host function forwarding the call (not part of make test).
bench-calls:
	cargo run -q --release -p wasmdl-wasmtime --example call_bench

# The JavaScript shim: Node runner, conformance suite on both runners, browser.
include host-abi/js/js.mk
# The Python host on wasmtime-py (not in make test yet): make python-host-test.
include host-abi/python/python-host.mk
include host-abi/wasmer/wasmer.mk

# Hostile modules on both runners; fuzzing (fuzz-smoke in make test, fuzz
# for long runs); benchmarks and the size budget of libdl.so.
include tests/hostile/hostile.mk
include libdl/fuzz/fuzz.mk
include bench/bench.mk
bench: bench-calls

# Real third-party programs (SQLite with its extensions, Lua with LPeg),
# built from Debian source packages at test time.
include tests/real/real.mk
include tests/python/python.mk
include tests/browser/browser.mk
