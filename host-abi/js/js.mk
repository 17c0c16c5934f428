# The JavaScript shim (host-abi/js/): the Node runner, the host ABI
# conformance suite on both runners, the scenarios on Node, the browser demo.
# Included from the top Makefile, whose variables it uses ($(ROOT), $(BUILD),
# $(LIBDL_SO), $(RUNNER), $(CC_WASM), $(PROGRAM_LDFLAGS), $(PLUGIN_FLAGS)).
#
#   make node-runner     check that node (20 or newer) can run the Node runner
#   make conformance     the host ABI conformance suite, on wasmtime and Node
#   make node-scenarios  the scenarios and the demo on the Node runner
#   make browser-test    the demo (static and PIE mains) in headless Chromium
#                        and Firefox ESR (installs chromium, firefox-esr and
#                        puppeteer-core if missing); browser-test-chromium,
#                        browser-test-firefox: in one of them
#   make browser-scenarios  the scenarios in the browsers (BROWSERS=chromium
#                        firefox), static and PIE mains, ~30 s a browser
#                        (Firefox's whole suite: make firefox-test,
#                        tests/browser/browser.mk)

NODE        ?= node
NODE_RUNNER := $(NODE) $(ROOT)/host-abi/js/wasmdl-run.mjs
JS_SHIM     := $(ROOT)/host-abi/js/wasmdl.mjs $(ROOT)/host-abi/js/wasmdl-run.mjs

.PHONY: node-runner conformance node-scenarios browser-test browser-test-chromium browser-test-firefox browser-scenarios

node-runner:
	@$(NODE) -e 'const v = +process.versions.node.split(".")[0]; if (v < 20) { console.error("node " + process.version + " is too old: the Node runner needs node 20 or newer"); process.exit(1) }'
	@$(NODE_RUNNER) --help > /dev/null && echo "node runner: $(NODE_RUNNER) (node $$($(NODE) --version))"

conformance: $(RUNNER) node-runner
	BUILD=$(BUILD) host-abi/conformance/run.sh $(RUNNER)
	BUILD=$(BUILD) host-abi/conformance/run.sh $(NODE_RUNNER)

# Scenarios built with wasm features this node's V8 may lack. sjlj uses
# exception handling with exnref (-wasm-use-legacy-eh=false), which V8 ships
# from node 24; node 20 and 22 reject it at compile time. The probe
# validates `(module (func (local exnref)))`; without it, sjlj is skipped,
# and said so.
NODE_HAS_EXNREF = $(shell $(NODE) -e 'process.stdout.write(String(WebAssembly.validate(new Uint8Array([0,97,115,109,1,0,0,0,1,4,1,96,0,0,3,2,1,0,10,6,1,4,1,1,105,11]))))')
NODE_SKIP       = $(if $(filter true,$(NODE_HAS_EXNREF)),,sjlj)
NODE_SCENARIOS  = $(filter-out $(NODE_SKIP),$(notdir $(patsubst %/,%,$(wildcard tests/scenarios/*/))))

node-scenarios: node-runner sysroot demo
	$(if $(NODE_SKIP),@echo "skip $(NODE_SKIP) [node]: node $$($(NODE) --version) cannot compile wasm exnref exception handling (node 24+ can)")
	CC="$(CC_WASM)" PROGRAM_LDFLAGS="$(PROGRAM_LDFLAGS)" PLUGIN_FLAGS="$(PLUGIN_FLAGS)" BUILD=$(BUILD) \
	    tests/run-scenarios.sh "node=$(NODE_RUNNER) --libdl $(LIBDL_SO)" -- $(NODE_SCENARIOS)
	cd $(DEMO) && $(NODE_RUNNER) --libdl $(LIBDL_SO) --dir plugins main.wasm plugins > demo.node.out
	diff -u tests/demo/expected.out $(DEMO)/demo.node.out && echo "ok   demo [node]"

browser-test browser-test-chromium browser-test-firefox: demo sysroot-pie
	$(CC_PIE) $(PIE_CFLAGS) -O2 -o $(DEMO)/main-pie.wasm tests/demo/main.c $(PIE_LDFLAGS)
	BUILD=$(BUILD) DEMO=$(DEMO) NODE=$(NODE) PIE_LIBDIR=$(PIE_LIBDIR) \
	    tests/browser/run.sh --browser $(if $(filter browser-test,$@),all,$(@:browser-test-%=%))

# The scenarios in headless browsers, through tests/browser/runner.mjs (one
# browser kept running per browser, a Worker per run: tests/browser/pool.mjs).
# Built in $(BUILD)/browser/scenarios, apart from make scenarios. The pools
# are stopped at the end.
BROWSERS     ?= chromium firefox
BROWSER_RUN   = $(NODE) $(ROOT)/tests/browser/runner.mjs --libdl $(LIBDL_SO) --browser
browser-scenarios: sysroot sysroot-pie
	tests/browser/run.sh --install-only $(BROWSERS)
	$(SCENARIO_ENV) BUILD=$(BUILD)/browser tests/run-scenarios.sh $(foreach b,$(BROWSERS),"$(b)=$(BROWSER_RUN) $(b)" "$(b)-pie=$(BROWSER_RUN) $(b) --dir $(PIE_LIBDIR)::/lib") \
	        $(if $(SCENARIOS),-- $(SCENARIOS)); \
	    status=$$?; for b in $(BROWSERS); do $(NODE) tests/browser/runner.mjs --browser $$b --stop; done; exit $$status
