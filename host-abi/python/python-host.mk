# The Python host (host-abi/python/): the shim wasmdl.py and the runner
# wasmdl_run.py on wasmtime-py (PyPI `wasmtime`, the wasmtime C API
# underneath), installed into a virtual environment under .toolchain/.
# Included from the top Makefile, whose variables it uses ($(TC), $(ROOT),
# $(BUILD), $(LIBDL_SO), $(CC_WASM), $(PROGRAM_LDFLAGS), $(PLUGIN_FLAGS),
# $(CC_PIE), $(PIE_CFLAGS), $(PIE_LDFLAGS), $(PIE_LIBDIR), the hostile
# corpus's and the real programs' variables).
#
#   make python-host-runner       create the venv (pip install wasmtime==50.*) and check the runner
#   make python-host-test         everything below on the Python runner
#   make python-host-unit         the shim's own tests (test_wasmdl.py: hostile ABI calls, cache)
#   make python-host-conformance  the host ABI conformance suite
#   make python-host-scenarios    every scenario, static and PIE main
#   make python-host-demo         the demo, static and PIE main
#   make python-host-hostile      the hostile corpus
#   make python-host-real         SQLite and Lua, static and PIE main
#   make python-host-cache        the on-disk compiled-module cache (tests/cache/run.sh)
#   make python-host-cpython      CPython's quick check (tests/python/quick.sh), both kinds
#
# Outputs go to $(BUILD)/python-host (the real programs' builds are shared
# with tests/real, whose stamps make a second run only run the programs).

PY_HOST_VENV    := $(TC)/venv-python-host
PY_HOST_PYTHON  := $(PY_HOST_VENV)/bin/python
PY_HOST_STAMP   := $(PY_HOST_VENV)/.wasmtime-50
PY_HOST_WASMTIME ?= wasmtime==50.*
# The runner as one command (the venv's python on host-abi/python/wasmdl_run.py).
PY_RUNNER       := $(PY_HOST_VENV)/bin/wasmdl-run-py
PY_HOST_BUILD   := $(BUILD)/python-host

.PHONY: python-host-runner python-host-test python-host-conformance python-host-scenarios \
        python-host-demo python-host-hostile python-host-real python-host-unit python-host-cache python-host-cpython

$(PY_HOST_STAMP):
	rm -rf $(PY_HOST_VENV)
	python3 -m venv $(PY_HOST_VENV)
	$(PY_HOST_VENV)/bin/pip install -q '$(PY_HOST_WASMTIME)'
	touch $@

# The launcher names this checkout's wasmdl_run.py: rewritten when this file changes.
$(PY_RUNNER): $(PY_HOST_STAMP) host-abi/python/python-host.mk
	printf '#!/bin/sh\nexec %s %s "$$@"\n' '$(PY_HOST_PYTHON)' '$(ROOT)/host-abi/python/wasmdl_run.py' > $@
	chmod +x $@

python-host-runner: $(PY_RUNNER)
	@$(PY_RUNNER) --help > /dev/null && echo "python runner: $(PY_RUNNER) (wasmtime-py $$($(PY_HOST_PYTHON) -c 'import importlib.metadata as m; print(m.version("wasmtime"))'))"

python-host-test: python-host-unit python-host-conformance python-host-scenarios python-host-demo python-host-cache \
                  python-host-hostile python-host-real python-host-cpython

# CPython with its extension modules as side modules, PIE and static.
python-host-cpython: python-host-runner python python-static
	RUNNERS="python=$(PY_RUNNER)" BUILD=$(BUILD) tests/python/quick.sh pie static

python-host-unit: python-host-runner
	$(PY_HOST_PYTHON) host-abi/python/test_wasmdl.py

python-host-conformance: python-host-runner
	BUILD=$(PY_HOST_BUILD) host-abi/conformance/run.sh $(PY_RUNNER)

# The runners are named as in `make scenarios` (python, python-pie: a name
# ending in -pie runs the PIE main, with libc.so's directory as /lib).
python-host-scenarios: python-host-runner sysroot sysroot-pie
	$(SCENARIO_ENV) BUILD=$(PY_HOST_BUILD) tests/run-scenarios.sh "python=$(PY_RUNNER) --libdl $(LIBDL_SO)" \
	        "python-pie=$(PY_RUNNER) --libdl $(LIBDL_SO) --dir $(PIE_LIBDIR)::/lib"

PY_HOST_DEMO := $(PY_HOST_BUILD)/demo
python-host-demo: python-host-runner sysroot sysroot-pie
	@mkdir -p $(PY_HOST_DEMO)/plugins
	$(CC_WASM) -O2 -o $(PY_HOST_DEMO)/main.wasm tests/demo/main.c $(PROGRAM_LDFLAGS)
	$(CC_PIE) $(PIE_CFLAGS) -O2 -o $(PY_HOST_DEMO)/main-pie.wasm tests/demo/main.c $(PIE_LDFLAGS)
	$(CC_WASM) -O2 $(PLUGIN_FLAGS) -o $(PY_HOST_DEMO)/plugins/libgreet.so tests/demo/libgreet.c
	$(CC_WASM) -O2 $(PLUGIN_FLAGS) -o $(PY_HOST_DEMO)/plugins/libcounter.so tests/demo/libcounter.c
	cd $(PY_HOST_DEMO) && $(PY_RUNNER) --libdl $(LIBDL_SO) --dir plugins main.wasm plugins > demo.out
	diff -u tests/demo/expected.out $(PY_HOST_DEMO)/demo.out && echo "ok   demo [python]"
	cd $(PY_HOST_DEMO) && $(PY_RUNNER) --libdl $(LIBDL_SO) --dir $(PIE_LIBDIR)::/lib --dir plugins main-pie.wasm plugins > demo.pie.out
	diff -u tests/demo/expected.out $(PY_HOST_DEMO)/demo.pie.out && echo "ok   demo [python-pie]"

# The on-disk cache (--cache DIR) through the runner, as for wasmtime-run.
python-host-cache: python-host-demo
	tests/cache/run.sh $(PY_RUNNER) $(LIBDL_SO) $(PY_HOST_DEMO) tests/demo/expected.out

# The corpus and its program are tests/hostile's (hostile.mk, included after
# this file: its HOSTILE_OUT is not defined yet where prerequisites are read,
# hence the path spelt out); the output is ours.
python-host-hostile: python-host-runner $(BUILD)/hostile/main.wasm $(LIBDL_SO) hostile-corpus-check
	@mkdir -p $(PY_HOST_BUILD)
	cd $(HOSTILE_OUT) && $(PY_RUNNER) --libdl $(LIBDL_SO) $(HOSTILE_RUN) > $(PY_HOST_BUILD)/hostile.out 2> $(PY_HOST_BUILD)/hostile.err
	diff -u $(HOSTILE_DIR)/expected.out $(PY_HOST_BUILD)/hostile.out && echo "ok   hostile [python]"

# tests/real/run.sh with its runs named python and python-pie (REAL_WAYS).
python-host-real: python-host-runner sysroot sysroot-pie
	$(REAL_ENV) WAYS_RUNNER="$(PY_RUNNER) --libdl $(LIBDL_SO)" REAL_WAYS="python python-pie" \
	    tests/real/run.sh $(REAL_PROGRAMS)
