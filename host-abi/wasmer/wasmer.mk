# The Wasmer host (host-abi/wasmer/): the shim and the runner
# wasmdl-run-wasmer on the `wasmer` crate (Cranelift) with wasmer-wasix's
# WASI preview 1. A Cargo workspace of its own (see its README.md), built
# into $(BUILD)/wasmer/target. `make test` runs wasmer-test.
# Included from the top Makefile, whose variables it uses ($(ROOT), $(BUILD),
# $(LIBDL_SO), $(CC_WASM), $(PROGRAM_LDFLAGS), $(PROGRAM_LDFLAGS_SLIM),
# $(PLUGIN_FLAGS), $(CC_PIE), $(PIE_CFLAGS), $(PIE_LDFLAGS), $(PIE_LIBDIR),
# $(TC), $(SYSROOT_T), the hostile corpus's and the real programs' variables).
#
#   make wasmer-runner       build the runner (cargo build --release) and say what the engine lacks
#   make wasmer-test         everything below on the Wasmer runner
#   make wasmer-unit         the shim's own tests (tests/abi.rs: hostile ABI calls, table limit, cache)
#   make wasmer-conformance  the host ABI conformance suite
#   make wasmer-scenarios    every scenario, static and PIE main
#   make wasmer-demo         the demo, static and PIE main
#   make wasmer-hostile      the hostile corpus
#   make wasmer-real         SQLite and Lua, static and PIE main
#   make wasmer-cache        the on-disk compiled-module cache (tests/cache/run.sh)
#   make wasmer-cpython      CPython's quick check (tests/python/quick.sh), both kinds
#   make wasmer-rss          host memory growth per dlopen/dlclose cycle, next to wasmtime's (not in wasmer-test)
#
# Outputs go to $(BUILD)/wasmer (the real programs' builds are shared with
# tests/real, whose stamps make a second run only run the programs; their
# results are $(BUILD)/real/results/*.wasmer*).

WASMER_DIR    := $(ROOT)/host-abi/wasmer
WASMER_BUILD  := $(BUILD)/wasmer
WASMER_RUNNER := $(WASMER_BUILD)/target/release/wasmdl-run-wasmer
WASMER_SRC    := $(wildcard host-abi/wasmer/src/*.rs) host-abi/wasmer/Cargo.toml host-abi/wasmer/Cargo.lock \
                 host-abi/wasmer/.cargo/config.toml

.PHONY: wasmer-runner wasmer-test wasmer-unit wasmer-conformance wasmer-scenarios wasmer-demo wasmer-hostile \
        wasmer-real wasmer-cache wasmer-rss wasmer-cpython

# The crate's .cargo/config.toml puts its target directory under $(BUILD);
# cargo reads it from the crate's directory.
$(WASMER_RUNNER): $(WASMER_SRC)
	cd $(WASMER_DIR) && cargo build -q --release --locked
	@touch $@

wasmer-runner: $(WASMER_RUNNER)
	@echo "wasmer runner: $(WASMER_RUNNER)"
	@$(WASMER_RUNNER) --engine-info | sed 's/^/    /'

wasmer-test: wasmer-unit wasmer-conformance wasmer-scenarios wasmer-demo wasmer-cache wasmer-hostile wasmer-real \
             wasmer-cpython

# CPython with its extension modules as side modules, PIE and static.
wasmer-cpython: wasmer-runner python python-static
	RUNNERS="wasmer=$(WASMER_RUNNER)" BUILD=$(BUILD) tests/python/quick.sh pie static

# With the release profile, so that it reuses the runner's build of Wasmer.
wasmer-unit: wasmer-runner
	cd $(WASMER_DIR) && cargo test -q --release --locked --test abi

wasmer-conformance: wasmer-runner
	BUILD=$(WASMER_BUILD) host-abi/conformance/run.sh $(WASMER_RUNNER)

# The runners are named as in `make scenarios` (wasmer, wasmer-pie: a name
# ending in -pie runs the PIE main, with libc.so's directory as /lib).
wasmer-scenarios: wasmer-runner sysroot sysroot-pie
	$(SCENARIO_ENV) BUILD=$(WASMER_BUILD) tests/run-scenarios.sh "wasmer=$(WASMER_RUNNER) --libdl $(LIBDL_SO)" \
	        "wasmer-pie=$(WASMER_RUNNER) --libdl $(LIBDL_SO) --dir $(PIE_LIBDIR)::/lib"

WASMER_DEMO := $(WASMER_BUILD)/demo
wasmer-demo: wasmer-runner sysroot sysroot-pie
	@mkdir -p $(WASMER_DEMO)/plugins
	$(CC_WASM) -O2 -o $(WASMER_DEMO)/main.wasm tests/demo/main.c $(PROGRAM_LDFLAGS)
	$(CC_PIE) $(PIE_CFLAGS) -O2 -o $(WASMER_DEMO)/main-pie.wasm tests/demo/main.c $(PIE_LDFLAGS)
	$(CC_WASM) -O2 $(PLUGIN_FLAGS) -o $(WASMER_DEMO)/plugins/libgreet.so tests/demo/libgreet.c
	$(CC_WASM) -O2 $(PLUGIN_FLAGS) -o $(WASMER_DEMO)/plugins/libcounter.so tests/demo/libcounter.c
	cd $(WASMER_DEMO) && $(WASMER_RUNNER) --libdl $(LIBDL_SO) --dir plugins main.wasm plugins > demo.out
	diff -u tests/demo/expected.out $(WASMER_DEMO)/demo.out && echo "ok   demo [wasmer]"
	cd $(WASMER_DEMO) && $(WASMER_RUNNER) --libdl $(LIBDL_SO) --dir $(PIE_LIBDIR)::/lib --dir plugins main-pie.wasm plugins > demo.pie.out
	diff -u tests/demo/expected.out $(WASMER_DEMO)/demo.pie.out && echo "ok   demo [wasmer-pie]"

# The on-disk cache (--cache DIR) through the runner, as for wasmdl-run.
wasmer-cache: wasmer-demo
	tests/cache/run.sh $(WASMER_RUNNER) $(LIBDL_SO) $(WASMER_DEMO) tests/demo/expected.out

# The corpus and its program are tests/hostile's (hostile.mk, included after
# this file: its HOSTILE_OUT is not defined yet where prerequisites are read,
# hence the path spelt out); the output is ours.
wasmer-hostile: wasmer-runner $(BUILD)/hostile/main.wasm $(LIBDL_SO) hostile-corpus-check
	@mkdir -p $(WASMER_BUILD)
	cd $(HOSTILE_OUT) && $(WASMER_RUNNER) --libdl $(LIBDL_SO) $(HOSTILE_RUN) > $(WASMER_BUILD)/hostile.out 2> $(WASMER_BUILD)/hostile.err
	diff -u $(HOSTILE_DIR)/expected.out $(WASMER_BUILD)/hostile.out && echo "ok   hostile [wasmer]"

# tests/real/run.sh with its runs named wasmer and wasmer-pie (REAL_WAYS).
wasmer-real: wasmer-runner sysroot sysroot-pie
	$(REAL_ENV) WAYS_RUNNER="$(WASMER_RUNNER) --libdl $(LIBDL_SO)" REAL_WAYS="wasmer wasmer-pie" \
	    tests/real/run.sh $(REAL_PROGRAMS)

# What a dlopen/dlclose cycle costs the host's resident memory, measured as
# make bench does (bench/main.c's churn; bench.mk's build, included after
# this file, hence the paths spelt out), on this runner and the wasmtime one
# (as it is: order-only, so that this target never rebuilds it).
wasmer-rss: wasmer-runner $(BUILD)/bench/main.wasm $(BUILD)/bench/.libs $(LIBDL_SO) | $(RUNNER)
	python3 host-abi/wasmer/rss_per_cycle.py $(BUILD)/bench "wasmer=$(WASMER_RUNNER) --libdl $(LIBDL_SO)" \
	    "wasmtime=$(RUNNER) --libdl $(LIBDL_SO)"
