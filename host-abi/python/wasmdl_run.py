#!/usr/bin/env python3
"""wasmdl-run for Python: runs a WASI preview 1 program with libdl.so on
wasmtime-py, with the command line and exit statuses of the wasmtime runner
(host-abi/wasmtime/src/main.rs):

  python3 host-abi/python/wasmdl_run.py [--dir HOST[::GUEST]]... [--env NAME=VALUE]...
      [--libdl PATH] [--stack-size BYTES] [--cache DIR] program.wasm [args...]

Exit status: the program's own (`proc_exit(n)` gives n, returning from
`_start` gives 0); 134 after a trap; 127 if the process cannot be started;
2 for a usage error. `WASMDL_LIBDL`, `WASMDL_CACHE` and `WASMDL_CACHE_STATS`
in the runner's own environment work as for `wasmdl-run`.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wasmdl  # noqa: E402

USAGE = ("usage: wasmdl-run [--dir HOST[::GUEST]]... [--env NAME=VALUE]... [--libdl PATH] "
         "[--stack-size BYTES] [--cache DIR] program.wasm [args...]")


class UsageError(Exception):
    pass


def parse_args(argv):
    """Options come first, the first other argument is the program, and
    everything after it belongs to the program. None for --help."""
    args = list(argv)
    config = dict(dirs=[], env=[], libdl=None, stack_size=wasmdl.DEFAULT_STACK_SIZE, cache=None)
    while True:
        if not args:
            raise UsageError("no program given")
        arg = args.pop(0)
        # Accept both `--opt VALUE` and `--opt=VALUE`.
        opt, inline = arg, None
        if arg.startswith("--") and "=" in arg:
            opt, inline = arg.split("=", 1)

        def value():
            if inline is not None:
                return inline
            if not args:
                raise UsageError("%s needs a value" % opt)
            return args.pop(0)

        if opt == "--dir":
            v = value()
            host, sep, guest = v.partition("::")
            config["dirs"].append((host, guest) if sep else (v, v))
        elif opt == "--env":
            v = value()
            name, sep, val = v.partition("=")
            if not sep:
                raise UsageError("--env %s: expected NAME=VALUE" % v)
            config["env"].append((name, val))
        elif opt == "--libdl":
            config["libdl"] = value()
        elif opt == "--stack-size":
            v = value()
            if not v.isdigit() or int(v) > wasmdl.U32:
                raise UsageError("--stack-size %s: expected a number of bytes" % v)
            config["stack_size"] = int(v)
        elif opt == "--cache":
            config["cache"] = value()
        elif opt in ("-h", "--help"):
            return None
        elif opt == "--":
            if not args:
                raise UsageError("no program given")
            config["program"] = args.pop(0)
            break
        elif arg.startswith("-") and arg != "-":
            raise UsageError("unknown option %s" % arg)
        else:
            config["program"] = arg
            break
    config["libdl"] = config["libdl"] or os.environ.get("WASMDL_LIBDL") or None
    if config["libdl"] is None:
        raise UsageError("no libdl.so: give --libdl PATH or set WASMDL_LIBDL")
    # Compiled code kept across runs: --cache DIR or WASMDL_CACHE=DIR in the
    # runner's own environment (not the program's); empty means none.
    config["cache"] = config["cache"] or os.environ.get("WASMDL_CACHE") or None
    config["args"] = args
    return config


def main(argv):
    try:
        config = parse_args(argv)
    except UsageError as e:
        sys.stderr.write("wasmdl-run: %s\n%s\n" % (e, USAGE))
        return 2
    if config is None:
        print(USAGE)
        return 0

    def fatal(message):
        sys.stderr.write("wasmdl-run: %s\n" % message)
        return wasmdl.EXIT_FATAL

    try:
        with open(config["libdl"], "rb") as f:
            libdl = f.read()
    except OSError as e:
        return fatal("cannot read %s: %s" % (config["libdl"], e.strerror or e))
    try:
        with open(config["program"], "rb") as f:
            program = f.read()
    except OSError as e:
        return fatal("cannot read %s: %s" % (config["program"], e.strerror or e))

    cache = wasmdl.ModuleCache(config["cache"])
    try:
        status = wasmdl.run(libdl, program, program=config["program"], args=config["args"],
                            dirs=config["dirs"], env=config["env"],
                            stack_size=config["stack_size"], libdl_name=config["libdl"],
                            cache=cache)
    except wasmdl.ProcessFailure as e:
        if e.kind == "trap":
            sys.stderr.write("wasmdl-run: error while executing %s:\n%s\n" % (config["program"], e))
        else:
            sys.stderr.write("wasmdl-run: %s\n" % e)
        status = e.exit_code
    if os.environ.get("WASMDL_CACHE_STATS"):
        s = cache.stats
        sys.stderr.write("wasmdl-run: cache: %d compiled, %d from memory, %d from disk, "
                         "%d rejected, %d written\n" % (s["compiles"], s["memory_hits"],
                                                       s["disk_hits"], s["rejected"], s["written"]))
    # Like a native process, only the low 8 bits of the status survive.
    return status & 0xFF


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: the store and its instances need no teardown, and the
    # engine's threads must not delay the exit.
    os._exit(code)
