# Benchmarks (bench/): dlopen latency (engine compile vs libdl's own work),
# dlsym per lookup, start-up with 100 libraries, memory and table growth over
# 10,000 dlopen/dlclose cycles, the host process's resident memory per cycle,
# the compiled-module cache (wasmtime, warm cache directory), and the size of
# libdl.so; on the wasmtime and the Node runner, and natively: the same
# generated C sources and main.c built with the host compiler (NATIVE_CC) and
# run with glibc's dlopen, the column every figure is a ratio to. Not part of
# make test. Results: a table on stdout and JSON
# under bench/results/ (git-ignored).
# Included from the top Makefile, whose variables it uses.
#
#   make bench                 everything (BENCH_REPS runs of each figure, default 5)
#   make size-check            fails if the stripped libdl.so exceeds LIBDL_SIZE_BUDGET (part of make test)

BENCH_OUT  := $(BUILD)/bench
BENCH_REPS ?= 5
# The native column: the host C compiler, glibc's dlopen.
NATIVE_CC  ?= cc
BENCH_NATIVE := $(BENCH_OUT)/native
# The budget for libdl.so stripped of its name section (wasm-strip): 128 KiB,
# the target of issue 6 (it is ~124 KiB).
LIBDL_SIZE_BUDGET ?= 131072

.PHONY: bench bench-build size-check

bench-build: $(BENCH_OUT)/main.wasm $(BENCH_OUT)/.libs $(BENCH_NATIVE)/.built

$(BENCH_OUT)/main.wasm: $(ROOT)/bench/main.c $(SYSROOT_T)/.stamp
	@mkdir -p $(BENCH_OUT)
	$(CC_WASM) -O2 -o $@ $< $(PROGRAM_LDFLAGS)

# The synthetic libraries, built in dependency order (a library links against
# the .so files it NEEDs).
$(BENCH_OUT)/.libs: $(ROOT)/bench/gen.py $(SYSROOT_T)/.stamp
	@mkdir -p $(BENCH_OUT)/src
	python3 $(ROOT)/bench/gen.py $(BENCH_OUT)/src
	@cd $(BENCH_OUT) && while read so src deps; do \
	    $(CC_WASM) -O2 $(PLUGIN_FLAGS) -o $$so src/$$src $$deps || exit 1; \
	done < src/build.list
	@echo "bench: built $$(wc -l < $(BENCH_OUT)/src/build.list) libraries"
	@touch $@

# The native build of the same sources: libraries with -shared -fPIC, each with
# its soname and an $ORIGIN run path so that its NEEDED libraries are found
# beside it; main linked -ldl with an $ORIGIN run path.
$(BENCH_NATIVE)/.built: $(BENCH_OUT)/.libs $(ROOT)/bench/main.c
	@mkdir -p $(BENCH_NATIVE)
	$(NATIVE_CC) -O2 -o $(BENCH_NATIVE)/main $(ROOT)/bench/main.c -ldl -Wl,-rpath,'$$ORIGIN'
	@cd $(BENCH_NATIVE) && while read so src deps; do \
	    $(NATIVE_CC) -O2 -shared -fPIC -Wl,-soname,$$so -Wl,-rpath,'$$ORIGIN' -o $$so ../src/$$src $$deps || exit 1; \
	done < ../src/build.list
	@echo "bench: built $$(wc -l < $(BENCH_OUT)/src/build.list) native libraries with $(NATIVE_CC)"
	@touch $@

bench: bench-build $(RUNNER) $(LIBDL_SO) node-runner
	@mkdir -p $(ROOT)/bench/results
	python3 $(ROOT)/bench/bench.py --out $(BENCH_OUT) --reps $(BENCH_REPS) --libdl $(LIBDL_SO) \
	    --results $(ROOT)/bench/results --budget $(LIBDL_SIZE_BUDGET) \
	    --native $(BENCH_NATIVE) --disk-cache wasmtime \
	    "wasmtime=$(RUNNER) --libdl $(LIBDL_SO)" "node=$(NODE_RUNNER) --libdl $(LIBDL_SO)"

size-check: $(LIBDL_SO)
	@wasm-strip -o $(BUILD)/libdl.stripped.so $(LIBDL_SO)
	@s=$$(stat -c %s $(BUILD)/libdl.stripped.so); u=$$(stat -c %s $(LIBDL_SO)); \
	if [ $$s -le $(LIBDL_SIZE_BUDGET) ]; then \
	    echo "ok   size-check: libdl.so $$s bytes stripped ($$u with names), budget $(LIBDL_SIZE_BUDGET)"; \
	else \
	    echo "FAIL size-check: libdl.so $$s bytes stripped ($$u with names) exceeds the budget of $(LIBDL_SIZE_BUDGET)"; exit 1; fi
