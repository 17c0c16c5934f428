# Firefox ESR (SpiderMonkey) as a host: everything the other runners run,
# through tests/browser/runner.mjs, against the same golden files. Included
# from the top Makefile after js.mk, hostile.mk, real.mk and python.mk, whose
# variables it uses ($(NODE), $(LIBDL_SO), $(CC_WASM), $(PROGRAM_LDFLAGS),
# $(PLUGIN_FLAGS), $(CC_PIE), $(PIE_CFLAGS), $(PIE_LDFLAGS), $(PIE_LIBDIR),
# the hostile corpus's and the real programs' variables).
#
#   make firefox-test         all of the below, then stops the browser
#   make firefox-runner       installs firefox-esr and puppeteer-core if
#                             missing (tests/browser/run.sh), writes the launcher
#   make firefox-conformance  the host ABI conformance suite
#   make firefox-scenarios    every scenario, static and PIE main
#   make firefox-demo         the demo, static and PIE main (the demo's own
#                             page in both browsers: make browser-test)
#   make firefox-hostile      the hostile corpus
#   make firefox-real         SQLite and Lua, static and PIE main
#   make firefox-cpython      CPython's quick check (tests/python/quick.sh), PIE and static
#   make firefox-stop         stop the browser now (it stops itself after 60 s without runs)
#
# The runner does not start a browser per run: the first run starts a pool
# (tests/browser/pool.mjs) that keeps one headless Firefox and starts a fresh
# Worker per run, ~0.15 s a small program. The program's files are the
# host's, as under wasmtime (runner.mjs says how). Outputs go to
# $(BUILD)/browser/firefox; the real programs' results to
# $(BUILD)/real/results/*.firefox*, their builds shared with make real-programs.

FIREFOX_BUILD  := $(BUILD)/browser/firefox
# The runner as one command (quick.sh's RUNNERS takes one word).
FIREFOX_RUNNER := $(BUILD)/browser/wasmdl-run-firefox

.PHONY: firefox-test firefox-runner firefox-conformance firefox-scenarios firefox-demo firefox-hostile \
        firefox-real firefox-cpython firefox-stop

firefox-test: firefox-conformance firefox-scenarios firefox-demo firefox-hostile firefox-real firefox-cpython
	@$(FIREFOX_RUNNER) --stop

# The launcher names this checkout's runner.mjs: rewritten when this file changes.
$(FIREFOX_RUNNER): tests/browser/browser.mk
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec %s %s --browser firefox "$$@"\n' '$(NODE)' '$(ROOT)/tests/browser/runner.mjs' > $@
	chmod +x $@

firefox-runner: $(FIREFOX_RUNNER)
	@tests/browser/run.sh --install-only firefox
	@echo "firefox runner: $(FIREFOX_RUNNER) ($$(/usr/bin/firefox-esr --version 2>/dev/null))"

firefox-stop:
	@[ ! -x $(FIREFOX_RUNNER) ] || $(FIREFOX_RUNNER) --stop

firefox-conformance: firefox-runner
	BUILD=$(FIREFOX_BUILD) host-abi/conformance/run.sh $(FIREFOX_RUNNER)

firefox-scenarios: firefox-runner sysroot sysroot-pie
	$(SCENARIO_ENV) BUILD=$(FIREFOX_BUILD) tests/run-scenarios.sh "firefox=$(FIREFOX_RUNNER) --libdl $(LIBDL_SO)" \
	        "firefox-pie=$(FIREFOX_RUNNER) --libdl $(LIBDL_SO) --dir $(PIE_LIBDIR)::/lib"

FIREFOX_DEMO := $(FIREFOX_BUILD)/demo
firefox-demo: firefox-runner sysroot sysroot-pie
	@mkdir -p $(FIREFOX_DEMO)/plugins
	$(CC_WASM) -O2 -o $(FIREFOX_DEMO)/main.wasm tests/demo/main.c $(PROGRAM_LDFLAGS)
	$(CC_PIE) $(PIE_CFLAGS) -O2 -o $(FIREFOX_DEMO)/main-pie.wasm tests/demo/main.c $(PIE_LDFLAGS)
	$(CC_WASM) -O2 $(PLUGIN_FLAGS) -o $(FIREFOX_DEMO)/plugins/libgreet.so tests/demo/libgreet.c
	$(CC_WASM) -O2 $(PLUGIN_FLAGS) -o $(FIREFOX_DEMO)/plugins/libcounter.so tests/demo/libcounter.c
	cd $(FIREFOX_DEMO) && $(FIREFOX_RUNNER) --libdl $(LIBDL_SO) --dir plugins main.wasm plugins > demo.out
	diff -u tests/demo/expected.out $(FIREFOX_DEMO)/demo.out && echo "ok   demo [firefox]"
	cd $(FIREFOX_DEMO) && $(FIREFOX_RUNNER) --libdl $(LIBDL_SO) --dir $(PIE_LIBDIR)::/lib --dir plugins main-pie.wasm plugins > demo.pie.out
	diff -u tests/demo/expected.out $(FIREFOX_DEMO)/demo.pie.out && echo "ok   demo [firefox-pie]"

# The corpus and its program are tests/hostile's; the output is ours.
firefox-hostile: firefox-runner $(HOSTILE_OUT)/main.wasm $(LIBDL_SO) hostile-corpus-check
	@mkdir -p $(FIREFOX_BUILD)
	cd $(HOSTILE_OUT) && $(FIREFOX_RUNNER) --libdl $(LIBDL_SO) $(HOSTILE_RUN) > $(FIREFOX_BUILD)/hostile.out 2> $(FIREFOX_BUILD)/hostile.err || \
	    { echo "FAIL hostile [firefox]: exit status $$?"; sed 's/^/    | /' $(FIREFOX_BUILD)/hostile.err | tail -20; exit 1; }
	diff -u $(HOSTILE_DIR)/expected.out $(FIREFOX_BUILD)/hostile.out && echo "ok   hostile [firefox]"

# tests/real/run.sh with its runs named firefox and firefox-pie (REAL_WAYS).
firefox-real: firefox-runner sysroot sysroot-pie
	$(REAL_ENV) WAYS_RUNNER="$(FIREFOX_RUNNER) --libdl $(LIBDL_SO)" REAL_WAYS="firefox firefox-pie" \
	    tests/real/run.sh $(REAL_PROGRAMS)

# CPython with its extension modules as side modules, PIE and static.
firefox-cpython: firefox-runner python python-static
	RUNNERS="firefox=$(FIREFOX_RUNNER)" BUILD=$(BUILD) tests/python/quick.sh pie static
