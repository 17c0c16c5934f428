# Fuzzing libdl natively with cargo-fuzz (libFuzzer; nightly). The targets
# (libdl/fuzz/fuzz_targets/): parse, parse_diff (parse.rs against its
# wasmparser-reader reference, src/parse_ref.rs), analyze (import/export analysis), load
# (the whole load plan over the checking host double, libdl/src/fakehost.rs).
# Seeds: the real side modules of the scenarios and the demo, and the hostile
# corpus; each target keeps its corpus under build/fuzz/corpus/TARGET, logs
# under build/fuzz/logs, crash reproducers under build/fuzz/artifacts/TARGET,
# and one line per run in build/fuzz/totals.tsv (target, seconds, execs, status).
# Included from the top Makefile, whose variables it uses.
#
#   make fuzz-smoke   each target for FUZZ_SMOKE_TIME s (part of make test); fails on a crash
#   make fuzz         each target for FUZZ_TIME s, in parallel (make -j3 fuzz for one core each)
#   make fuzz-replay  run every file of the hostile corpus through each target once

FUZZ_DIR        := $(ROOT)/libdl/fuzz
FUZZ_OUT        := $(BUILD)/fuzz
FUZZ_TARGETS    := parse parse_diff analyze load
FUZZ_SMOKE_TIME ?= 60
FUZZ_TIME       ?= 3600
FUZZ_BIN        := $(FUZZ_OUT)/target/x86_64-unknown-linux-gnu/release

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-replay $(addprefix fuzz-run-,$(FUZZ_TARGETS))

# -a: debug assertions and overflow checks on, as in the unit tests.
fuzz-build:
	@command -v cargo-fuzz >/dev/null || $(CARGO_NIGHTLY) install cargo-fuzz --locked
	cd $(FUZZ_DIR) && $(CARGO_NIGHTLY) fuzz build -O -a --target-dir $(FUZZ_OUT)/target

fuzz-replay: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    $(FUZZ_BIN)/$$t $(ROOT)/tests/hostile/corpus/* > $(FUZZ_OUT)/replay-$$t.log 2>&1 || { \
	        tail -30 $(FUZZ_OUT)/replay-$$t.log; echo "FAIL fuzz-replay $$t"; exit 1; }; \
	    echo "ok   fuzz-replay $$t ($$(ls $(ROOT)/tests/hostile/corpus | wc -l) files)"; done

fuzz-smoke: fuzz-replay
	@for t in $(FUZZ_TARGETS); do $(FUZZ_DIR)/run.sh $$t $(FUZZ_SMOKE_TIME) $(FUZZ_OUT) || exit 1; done

fuzz: $(addprefix fuzz-run-,$(FUZZ_TARGETS))
	@awk -F'\t' '{ s[$$1] += $$2; n[$$1] += $$3 } END { for (t in s) printf "fuzz total %-8s %7d s %12d execs\n", t, s[t], n[t] }' $(FUZZ_OUT)/totals.tsv

$(addprefix fuzz-run-,$(FUZZ_TARGETS)): fuzz-run-%: fuzz-build
	$(FUZZ_DIR)/run.sh $* $(FUZZ_TIME) $(FUZZ_OUT)
