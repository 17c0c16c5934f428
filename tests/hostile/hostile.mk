# The hostile corpus (tests/hostile/): small broken side modules, each
# dlopened by tests/hostile/main.c on both runners; stdout must equal
# tests/hostile/expected.out on each (so the two runners agree), and every
# file must end in a dlerror message or a clean load, never a trap.
# Included from the top Makefile, whose variables it uses.
#
#   make hostile          run it (part of make test)
#   make hostile-update   regenerate the corpus and the expected output (review the diff!)

HOSTILE_DIR    := $(ROOT)/tests/hostile
HOSTILE_OUT    := $(BUILD)/hostile
HOSTILE_CORPUS := $(HOSTILE_DIR)/corpus
HOSTILE_RUN     = --dir $(HOSTILE_CORPUS)::/h --env LD_LIBRARY_PATH=/h main.wasm /h

.PHONY: hostile hostile-update hostile-corpus-check

$(HOSTILE_OUT)/main.wasm: $(HOSTILE_DIR)/main.c $(SYSROOT_T)/.stamp
	@mkdir -p $(HOSTILE_OUT)
	$(CC_WASM) -O2 -o $@ $< $(PROGRAM_LDFLAGS)

# The committed corpus must be what gen.py makes.
hostile-corpus-check:
	@rm -rf $(HOSTILE_OUT)/gen && mkdir -p $(HOSTILE_OUT)/gen
	python3 $(HOSTILE_DIR)/gen.py $(HOSTILE_OUT)/gen
	@for f in $(HOSTILE_OUT)/gen/*.so; do cmp -s $$f $(HOSTILE_CORPUS)/$$(basename $$f) || { \
	    echo "tests/hostile/corpus/$$(basename $$f) differs from what gen.py makes (make hostile-update)"; exit 1; }; done
	@test "$$(ls $(HOSTILE_OUT)/gen)" = "$$(ls $(HOSTILE_CORPUS))" || { \
	    echo "tests/hostile/corpus/ has files gen.py does not make (make hostile-update)"; exit 1; }

hostile: $(HOSTILE_OUT)/main.wasm $(RUNNER) $(LIBDL_SO) node-runner hostile-corpus-check
	cd $(HOSTILE_OUT) && $(RUNNER) --libdl $(LIBDL_SO) $(HOSTILE_RUN) > wasmtime.out 2> wasmtime.err
	diff -u $(HOSTILE_DIR)/expected.out $(HOSTILE_OUT)/wasmtime.out && echo "ok   hostile [wasmtime]"
	cd $(HOSTILE_OUT) && $(NODE_RUNNER) --libdl $(LIBDL_SO) $(HOSTILE_RUN) > node.out 2> node.err
	diff -u $(HOSTILE_DIR)/expected.out $(HOSTILE_OUT)/node.out && echo "ok   hostile [node]"

hostile-update: $(HOSTILE_OUT)/main.wasm $(RUNNER) $(LIBDL_SO)
	python3 $(HOSTILE_DIR)/gen.py $(HOSTILE_CORPUS)
	cd $(HOSTILE_OUT) && $(RUNNER) --libdl $(LIBDL_SO) $(HOSTILE_RUN) > $(HOSTILE_DIR)/expected.out
