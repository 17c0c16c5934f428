# CPython 3.11 for WASI with its extension modules as side modules loaded
# through libdl (tests/python/build.sh says how; docs/python.md is the guide).
# Included from the top Makefile; uses its CLANG, LLVM_AR, WASI_SYSROOT_PIC,
# SYSROOT_PIE, SYSROOT_T, LIBDL_SO, PIE_LDFLAGS, PROGRAM_LDFLAGS,
# PLUGIN_FLAGS, RUNNER, BUILD and TC.
#
#   make python              build/python: the PIE interpreter, installed
#   make python-static       build/python-static: the statically linked one
#   make test-python-quick   a quick check of both kinds on both runners
#   make test-python         CPython's own tests of the shared modules against
#                            a built-in reference, and third-party extensions
#
# Sources are cached in $(TC)/real-src (kept by `make clean`), builds in
# $(BUILD)/python-build with stamp files: a second run does nothing.

PYTHON_ENV = CLANG=$(CLANG) LLVM_AR=$(LLVM_AR) LLVM_NM=$(LLVM_NM) BUILD=$(BUILD) TC=$(TC) \
    WASI_SYSROOT_PIC=$(WASI_SYSROOT_PIC) SYSROOT_PIE=$(SYSROOT_PIE) SYSROOT=$(SYSROOT_T) \
    LIBDL_SO=$(LIBDL_SO) PIE_LDFLAGS="$(PIE_LDFLAGS)" PROGRAM_LDFLAGS="$(PROGRAM_LDFLAGS)" \
    PLUGIN_FLAGS="$(PLUGIN_FLAGS)" RUNNER=$(RUNNER)

.PHONY: python python-static test-python-quick test-python
python: $(RUNNER) sysroot sysroot-pie
	$(PYTHON_ENV) tests/python/build.sh pie

python-static: $(RUNNER) sysroot sysroot-pie
	$(PYTHON_ENV) tests/python/build.sh static

# Both kinds, both runners: about a minute when built.
test-python-quick: python python-static node-runner
	BUILD=$(BUILD) tests/python/quick.sh pie static

# CPython's own tests of the shared modules, on both runners, beside a
# reference build with those modules built in (build/python-ref); then
# third-party C extensions built from their PyPI sdists, with their own tests.
test-python: python node-runner
	$(PYTHON_ENV) tests/python/cpython-tests.sh
	$(PYTHON_ENV) tests/python/thirdparty.sh
	BUILD=$(BUILD) tests/python/measure.sh
