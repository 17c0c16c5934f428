# The JavaScript shim (host-abi/js/): the Node runner, the host ABI
# conformance suite on both runners, the scenarios on Node, the browser demo.
# Included from the top Makefile, whose variables it uses ($(ROOT), $(BUILD),
# $(LIBDL_SO), $(RUNNER), $(CC_WASM), $(PROGRAM_LDFLAGS), $(PLUGIN_FLAGS)).
#
#   make node-runner     check that node (20 or newer) can run the Node runner
#   make conformance     the host ABI conformance suite, on wasmtime and Node
#   make node-scenarios  the scenarios and the demo on the Node runner
#   make browser-test    the demo in headless Chromium (installs chromium and
#                        playwright-core if missing)

NODE        ?= node
NODE_RUNNER := $(NODE) $(ROOT)/host-abi/js/wasmdl-run.mjs
JS_SHIM     := $(ROOT)/host-abi/js/wasmdl.mjs $(ROOT)/host-abi/js/wasmdl-run.mjs

.PHONY: node-runner conformance node-scenarios browser-test

node-runner:
	@$(NODE) -e 'const v = +process.versions.node.split(".")[0]; if (v < 20) { console.error("node " + process.version + " is too old: the Node runner needs node 20 or newer"); process.exit(1) }'
	@$(NODE_RUNNER) --help > /dev/null && echo "node runner: $(NODE_RUNNER) (node $$($(NODE) --version))"

conformance: $(RUNNER) $(LIBDL_SO) node-runner
	BUILD=$(BUILD) host-abi/conformance/run.sh $(RUNNER)
	BUILD=$(BUILD) host-abi/conformance/run.sh $(NODE_RUNNER)

node-scenarios: node-runner sysroot demo
	CC="$(CC_WASM)" PROGRAM_LDFLAGS="$(PROGRAM_LDFLAGS)" PLUGIN_FLAGS="$(PLUGIN_FLAGS)" BUILD=$(BUILD) \
	    tests/run-scenarios.sh "node=$(NODE_RUNNER) --libdl $(LIBDL_SO)"
	cd $(DEMO) && $(NODE_RUNNER) --libdl $(LIBDL_SO) --dir plugins main.wasm plugins > demo.node.out
	diff -u tests/demo/expected.out $(DEMO)/demo.node.out && echo "ok   demo [node]"

browser-test: demo
	BUILD=$(BUILD) DEMO=$(DEMO) NODE=$(NODE) tests/browser/run.sh
