# Runs CPython test modules (test.test_*) with unittest inside the wasm
# interpreter and prints one line of counts per module, then the failing
# test ids. Used by cpython-tests.sh, which compares the shared-module build
# with the reference build that has the modules built in.
#
#   python3 run_tests.py test_math test_json ...
import sys, time, unittest, io

def main(names):
    total_bad = 0
    for name in names:
        t0 = time.monotonic()
        stream = io.StringIO()
        try:
            suite = unittest.defaultTestLoader.loadTestsFromName("test." + name)
        except Exception as e:  # an import failure is a result too
            print(f"{name}: import-error {type(e).__name__}: {e}", flush=True)
            total_bad += 1
            continue
        result = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
        dt = time.monotonic() - t0
        print(f"{name}: run={result.testsRun} failures={len(result.failures)} "
              f"errors={len(result.errors)} skipped={len(result.skipped)} "
              f"({dt:.1f} s)", flush=True)
        for test, _ in result.failures + result.errors:
            print(f"    not ok {test.id()}", flush=True)
        total_bad += len(result.failures) + len(result.errors)
    return 1 if total_bad else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
