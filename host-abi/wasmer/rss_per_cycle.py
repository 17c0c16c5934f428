#!/usr/bin/env python3
"""The host's resident memory per dlopen/dlclose cycle, measured as
bench/bench.py measures it for `make bench`: bench/main.c's `churn` mode
opens and closes /b/libsyms10.so BIG and SMALL times; the growth per cycle
is the difference of the two runs' peak RSS (VmHWM of /proc/PID/status,
polled from outside) over the cycles between, so that what the first cycles
cost once (compiling, warming up) is left out.

usage: rss_per_cycle.py BENCH-OUT 'NAME=RUNNER --libdl LIBDL'... [--reps N]
       (BENCH-OUT: bench/bench.mk's build, with main.wasm and libsyms10.so)
"""

import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

BIG, SMALL = 10000, 1000


def peak_rss_kb(cmd, cwd):
    with tempfile.TemporaryFile("w+") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, text=True)
        peak = 0
        while p.poll() is None:
            try:
                with open(f"/proc/{p.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.005)
        out.seek(0)
        text = out.read()
    if p.returncode != 0 or "churn cycles" not in text:
        sys.exit(f"rss: {' '.join(cmd)} failed ({p.returncode}):\n{text}")
    return peak


def main():
    args = sys.argv[1:]
    reps = 3
    if "--reps" in args:
        i = args.index("--reps")
        reps = int(args[i + 1])
        del args[i:i + 2]
    if len(args) < 2:
        sys.exit(__doc__)
    out, runners = os.path.abspath(args[0]), args[1:]
    for spec in runners:
        name, cmd = spec.split("=", 1)
        base = shlex.split(cmd) + ["--dir", f"{out}::/b", "--env", "LD_LIBRARY_PATH=/b",
                                   os.path.join(out, "main.wasm"), "churn", "/b/libsyms10.so", "bench_f0"]
        per, bigs = [], []
        for _ in range(reps):
            big = peak_rss_kb(base + [str(BIG)], out)
            small = peak_rss_kb(base + [str(SMALL)], out)
            bigs.append(big)
            per.append((big - small) * 1024 / (BIG - SMALL))
        print(f"{name}: host RSS growth per dlopen/dlclose cycle {statistics.median(per):.0f} bytes "
              f"(median of {reps}; min {min(per):.0f}, max {max(per):.0f}); "
              f"peak RSS after {BIG} cycles {statistics.median(bigs) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
