#!/usr/bin/env python3
"""Writes the C sources of the benchmark's synthetic side modules into DIR.

  gen.py DIR

  libsyms<N>.c   N exported functions and N exported data symbols (N = 10, 1000, 10000)
  libchain<I>.c  a chain of 100 libraries: libchain<I> NEEDs libchain<I+1> (0..99)
  libdia*.c      a diamond of 100: libdiatop NEEDs libdia1..libdia98, each NEEDs libdiabot
Writes DIR/build.list: "output.so source.c [dependency.so...]", in build order.
"""
import os
import sys

SIZES = (10, 1000, 10000)
CHAIN = 100


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    plan = []

    def write(name, text, deps=()):
        with open(os.path.join(out, name + ".c"), "w") as f:
            f.write(text)
        plan.append(" ".join([name + ".so", name + ".c", *[d + ".so" for d in deps]]))

    for n in SIZES:
        lines = [f"int bench_f{i}(int x) {{ return x + {i}; }}\nint bench_d{i} = {i};" for i in range(n)]
        write(f"libsyms{n}", "\n".join(lines) + "\n")

    for i in reversed(range(CHAIN)):
        if i == CHAIN - 1:
            body = f"int chain{i}(void) {{ return 1; }}\n"
            deps = ()
        else:
            body = f"extern int chain{i + 1}(void);\nint chain{i}(void) {{ return chain{i + 1}() + 1; }}\n"
            deps = (f"libchain{i + 1}",)
        write(f"libchain{i}", body + f"int chain_data{i} = {i};\n", deps)

    write("libdiabot", "int dia_bottom(void) { return 1; }\n")
    mids = [f"libdia{i}" for i in range(1, CHAIN - 1)]
    for i in range(1, CHAIN - 1):
        write(f"libdia{i}", f"extern int dia_bottom(void);\nint dia{i}(void) {{ return dia_bottom() + {i}; }}\n",
              ("libdiabot",))
    calls = "".join(f"extern int dia{i}(void);\n" for i in range(1, CHAIN - 1))
    total = " + ".join(f"dia{i}()" for i in range(1, CHAIN - 1))
    write("libdiatop", calls + f"int dia_top(void) {{ return {total}; }}\n", mids)

    with open(os.path.join(out, "build.list"), "w") as f:
        f.write("\n".join(plan) + "\n")


if __name__ == "__main__":
    main()
