# Runs CPython test modules (test.test_*) with unittest inside the wasm
# interpreter and prints one line of counts per module, then the failing
# test ids. Used by cpython-tests.sh, which compares the shared-module build
# with the reference build that has the modules built in.
#
#   python3 run_tests.py [-x ID-PART]... test_math test_json ...
#
# -x leaves out the tests whose id contains ID-PART (counted as
# "excluded"), for tests that cannot finish on WASI at all (they hang).
import sys, time, unittest, io, importlib
from test import support

def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t

def main(args):
    excludes, names = [], []
    it = iter(args)
    for a in it:
        if a == "-x":
            excludes.append(next(it))
        else:
            names.append(a)
    total_bad = 0
    for name in names:
        t0 = time.monotonic()
        stream = io.StringIO()
        try:
            module = importlib.import_module("test." + name)
        except Exception as e:  # an import failure is a result too
            print(f"{name}: import-error {type(e).__name__}: {e}", flush=True)
            total_bad += 1
            continue
        counts = {"tests": 0, "kept": 0}
        results = []

        def run_suite(suite):
            tests = list(flatten(suite))
            kept = [t for t in tests if not any(x in t.id() for x in excludes)]
            counts["tests"] += len(tests)
            counts["kept"] += len(kept)
            results.append(unittest.TextTestRunner(stream=stream, verbosity=0).run(unittest.TestSuite(kept)))

        if hasattr(module, "test_main") and not hasattr(module, "load_tests"):
            # Old-style modules (test_decimal, ...) set up in test_main and
            # call support.run_unittest, which runs through _run_suite.
            saved = support._run_suite
            support._run_suite = run_suite
            try:
                module.test_main()
            except Exception as e:
                print(f"{name}: test_main raised {type(e).__name__}: {e}", flush=True)
                total_bad += 1
            finally:
                support._run_suite = saved
        else:
            run_suite(unittest.defaultTestLoader.loadTestsFromModule(module))
        result = unittest.TestResult()
        for r in results:
            result.testsRun += r.testsRun
            result.failures += r.failures
            result.errors += r.errors
            result.skipped += r.skipped
        tests, kept = [None] * counts["tests"], [None] * counts["kept"]
        dt = time.monotonic() - t0
        print(f"{name}: run={result.testsRun} failures={len(result.failures)} "
              f"errors={len(result.errors)} skipped={len(result.skipped)} "
              f"excluded={len(tests) - len(kept)} "
              f"({dt:.1f} s)", flush=True)
        for test, _ in result.failures + result.errors:
            print(f"    not ok {test.id()}", flush=True)
        total_bad += len(result.failures) + len(result.errors)
    return 1 if total_bad else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
