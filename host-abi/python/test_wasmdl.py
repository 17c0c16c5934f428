#!/usr/bin/env python3
"""Tests of the Python shim (wasmdl.py) beyond the conformance suite:

* hostile calls: thousands of ABI calls with arguments drawn from edge values
  (pointers at and past the end of memory, lengths that overflow 32 bits,
  freed, unissued and huge handles, bad descriptors), made by a wasm guest
  through the engine as libdl makes them. Each call must return one of the
  codes the spec lists for it, never trap, and a failing call must leave
  memory and the table as they were.
* the compiled-module cache: damaged, truncated and foreign entries are
  rejected and rewritten; what comes from disk behaves like a fresh compile.

usage: python test_wasmdl.py [CALLS] (default 4000)
"""

import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wasmdl  # noqa: E402
from wasmdl import (  # noqa: E402
    ABI_MODULE, ABI_TYPES, ERR_BADHANDLE, ERR_COMPILE, ERR_FAULT, ERR_INSTANTIATE, ERR_INVAL,
    ERR_LINK, ERR_NOMEM, ERR_RANGE, ERR_TYPE, OK,
)
from wasmtime import Instance, Limits, Module, WasiConfig, wat2wasm  # noqa: E402

# What each function may return (SPEC.md).
ALLOWED = {
    "module_compile": {OK, ERR_FAULT, ERR_COMPILE, ERR_NOMEM},
    "module_bytes": {OK, ERR_BADHANDLE, ERR_FAULT},
    "module_free": {OK, ERR_BADHANDLE},
    "instance_new": {OK, ERR_BADHANDLE, ERR_FAULT, ERR_INVAL, ERR_LINK, ERR_INSTANTIATE,
                     ERR_NOMEM, ERR_RANGE},
    "instance_free": {OK, ERR_BADHANDLE},
    "export_global_get": {OK, ERR_BADHANDLE, ERR_RANGE, ERR_TYPE, ERR_FAULT},
    "export_to_table": {OK, ERR_BADHANDLE, ERR_RANGE, ERR_TYPE},
    "table_grow": {OK, ERR_NOMEM, ERR_FAULT},
    "table_clear": {OK, ERR_RANGE},
    "global_new": {OK, ERR_INVAL, ERR_FAULT},
    "global_set": {OK, ERR_BADHANDLE, ERR_TYPE},
    "global_free": {OK, ERR_BADHANDLE},
}

# A module to compile and instantiate: one import of each kind, exports of
# each kind (an f32 global for ERR_TYPE), no data and no start function (so
# that a failed instantiation has no effect on memory).
TARGET = wat2wasm("""
(module
  (import "env" "memory" (memory 0))
  (import "env" "__indirect_function_table" (table 0 funcref))
  (import "env" "__stack_pointer" (global (mut i32)))
  (import "env" "g" (global i32))
  (import "env" "f" (func (param i32) (result i32)))
  (import "env" "t" (tag (param i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
  (import "wasmdl_host_v0" "last_error" (func (param i32 i32) (result i32)))
  (global (export "gi32") (mut i32) (i32.const -5))
  (global (export "gi64") i64 (i64.const -7))
  (global (export "gf32") f32 (f32.const 1.5))
  (tag (export "tag") (param i32))
  (func (export "fn") (param i32) (result i32) (local.get 0))
  (export "imported_fn" (func 0))
  (export "mem" (memory 0)))
""")


def guest_calling_abi(host):
    """A wasm module that imports every ABI function and re-exports it, so
    that the tests call through the engine, as libdl does."""
    imports = "".join('(import "%s" "%s" (func $%s %s))' % (
        ABI_MODULE, name, name, sig(short)) for name, short in ABI_TYPES.items())
    exports = "".join('(export "%s" (func $%s))' % (n, n) for n in ABI_TYPES)
    module = Module(host.engine, "(module %s %s)" % (imports, exports))
    instance = Instance(host.store, module, [host.host[(ABI_MODULE, n)][0] for n in ABI_TYPES])
    ex = instance.exports(host.store)
    return {n: ex[n] for n in ABI_TYPES}


def sig(short):
    params, results = short.split(":")
    t = lambda c: "i64" if c == "I" else "i32"
    return "(param %s) (result %s)" % (" ".join(t(c) for c in params),
                                       " ".join(t(c) for c in results))


def new_host(cache=None):
    engine = wasmdl.make_engine()
    return wasmdl.new_host(engine, WasiConfig(), Limits(1, 4), 4, cache)


def hostile_calls(calls, seed):
    rng = random.Random(seed)
    host = new_host()
    store, memory, table = host.store, host.memory, host.table
    abi = guest_calling_abi(host)
    page = 65536
    # Memory: TARGET's bytes at 0x1000, scratch for descriptors at 0x4000.
    memory.write(store, TARGET, 0x1000)

    def ptrs():
        size = memory.data_len(store)
        return [0, 4, 0x1000, 0x4000, 0x8000, size - 12, size - 8, size - 4, size - 1, size,
                size + 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFC, 0xFFFFFFFF,
                rng.randrange(1 << 32)]

    lens = [0, 1, 4, 8, 12, len(TARGET), len(TARGET) - 1, page, 0x7FFFFFFF, 0x80000000,
            0xFFFFFFFF, rng.randrange(1 << 32)]
    handles = [0, 1, 2, 3, 4, 5, 7, 10, 0x7FFFFFFF, 0xFFFFFFFF]
    values = [0, 1, -1, 1 << 31, -(1 << 63), (1 << 63) - 1, 0x7F, 0x7E, 0x7D]

    # A provider of what TARGET imports from env, registered as the
    # bootstrap registers libdl: instance handle 1 (exports: 0 fn, 1 g, 2 t).
    provider = Module(host.engine, """(module
        (func (export "fn") (param i32) (result i32) (local.get 0))
        (global (export "g") i32 (i32.const 42))
        (tag (export "t") (param i32)))""")
    provider_info = wasmdl.ModuleInfo(provider)
    assert host.register_instance(Instance(store, provider, []), provider_info) == 1
    right = [(1, 0, 0), (2, 0, 0), (3, 0, 0), (5, 1, 1), (5, 1, 0), (5, 1, 2), (6, 0, 0),
             (6, 0, 0)]

    def desc_bytes():
        """Descriptors for TARGET's 8 imports: the right ones, often with one
        of them wrong."""
        descs = list(right)
        if rng.random() < 0.6:
            i = rng.randrange(len(descs))
            descs[i] = (rng.randrange(9), rng.choice([0, 1, 2, rng.choice(handles)]),
                        rng.choice([0, 1, 2, 3, 4, rng.choice(lens)]))
        return b"".join(v.to_bytes(4, "little") for d in descs for v in d)

    # Each call starts from plausible arguments (scratch pointers, handles
    # issued so far) and, half of the time, has one argument replaced by an
    # edge value of its sort.
    issued = {"m": 0, "i": 1, "g": 0}

    def handle(kind):
        return rng.randrange(1, issued[kind] + 2)

    def scratch():
        return rng.choice([0x8000, 0x8100, 0x9000, 0xA000])

    edge = {"p": ptrs, "l": lambda: lens, "h": lambda: handles, "v": lambda: values,
            "x": lambda: lens}
    shapes = {
        "module_compile": lambda: [("p", 0x1000), ("l", len(TARGET)), ("p", scratch())],
        "module_bytes": lambda: [("h", handle("m")), ("p", scratch()),
                                 ("l", rng.choice([0, len(TARGET), 0x4000])), ("p", scratch())],
        "module_free": lambda: [("h", handle("m"))],
        "instance_new": lambda: [("h", handle("m")), ("p", 0x4000), ("l", 8), ("p", scratch())],
        "instance_free": lambda: [("h", rng.randrange(2, issued["i"] + 2))],  # not the provider
        "export_global_get": lambda: [("h", handle("i")), ("x", rng.randrange(8)),
                                      ("p", scratch())],
        "export_to_table": lambda: [("h", handle("i")), ("x", rng.randrange(8)),
                                    ("x", rng.randrange(table.size(store) + 1))],
        "table_grow": lambda: [("x", rng.choice([0, 1, 2, 100])), ("p", scratch())],
        "table_clear": lambda: [("x", rng.randrange(6)), ("x", rng.randrange(4))],
        "global_new": lambda: [("x", rng.choice([0x7F, 0x7E])), ("x", rng.randrange(2)),
                               ("v", rng.choice(values)), ("p", scratch())],
        "global_set": lambda: [("h", handle("g")), ("v", rng.choice(values))],
        "global_free": lambda: [("h", handle("g"))],
    }
    weights = {"module_free": 1, "instance_free": 1, "global_free": 1}
    names = [n for n in shapes for _ in range(weights.get(n, 4))]
    outputs = {"module_compile": ("m", 2), "instance_new": ("i", 3), "global_new": ("g", 3)}
    counts = {n: {} for n in shapes}
    for _ in range(calls):
        name = rng.choice(names)
        typed = shapes[name]()
        args = [v for _, v in typed]
        if rng.random() < 0.5:
            i = rng.randrange(len(args))
            args[i] = rng.choice(list(edge[typed[i][0]]()))
        if name == "instance_free" and args[0] == 1:
            args[0] = 0  # the provider stays
        if name == "instance_new":
            memory.write(store, desc_bytes(), 0x4000)
        memory.write(store, TARGET, 0x1000)  # edge pointers may have hit it
        i64_at = [i for i, c in enumerate(ABI_TYPES[name].split(":")[0]) if c == "I"]
        wasm_args = [a if i in i64_at else wasmdl.to_i32(a) for i, a in enumerate(args)]
        before = (bytes(memory.read(store, 0, memory.data_len(store))), table.size(store))
        try:
            code = abi[name](store, *wasm_args)
        except Exception as e:
            raise AssertionError("%s%r raised %r" % (name, tuple(args), e))
        if code not in ALLOWED[name]:
            raise AssertionError("%s%r returned %d" % (name, tuple(args), code))
        if code != OK:
            after = (bytes(memory.read(store, 0, memory.data_len(store))), table.size(store))
            if after != before:
                raise AssertionError("%s%r failed with %d but changed memory or the table"
                                     % (name, tuple(args), code))
            length = abi["last_error"](store, 0x8000, 256)
            if length <= 0:
                raise AssertionError("%s%r failed with %d and no message" % (name, tuple(args), code))
        elif name in outputs:
            kind, at = outputs[name]
            h = int.from_bytes(memory.read(store, args[at], args[at] + 4), "little")
            if h != issued[kind] + 1:
                raise AssertionError("%s%r issued handle %d after %d" % (name, tuple(args), h,
                                                                          issued[kind]))
            issued[kind] = h
        counts[name][code] = counts[name].get(code, 0) + 1
    # last_error itself, with hostile ranges: never traps.
    for p in ptrs():
        for n in lens:
            abi["last_error"](store, wasmdl.to_i32(p), wasmdl.to_i32(n))
    print("ok   hostile ABI calls [%d calls, seed %d]" % (calls, seed))
    for name in shapes:
        print("       %-18s %s" % (name, " ".join("%d:%d" % kv for kv in sorted(counts[name].items()))))


def cache_entries():
    with tempfile.TemporaryDirectory() as d:
        def fresh():
            cache = wasmdl.ModuleCache(d)
            return cache, new_host(cache)

        cache, host = fresh()
        module, info = cache.get(host.engine, TARGET)
        assert cache.stats["compiles"] == 1 and cache.stats["written"] == 1, cache.stats
        cache.get(host.engine, TARGET)
        assert cache.stats["memory_hits"] == 1, cache.stats
        (entry,) = [os.path.join(d, f) for f in os.listdir(d)]
        good = open(entry, "rb").read()

        cache, host = fresh()
        _, info2 = cache.get(host.engine, TARGET)
        assert cache.stats["disk_hits"] == 1, cache.stats
        assert info2.imports == info.imports and info2.export_count == info.export_count

        damaged = [good[:len(good) // 2], good[:-1], b"", bytearray(good)]
        damaged[3][len(good) // 3] ^= 0x40
        damaged.append(b"\0" * len(good))
        for bad in damaged:
            with open(entry, "wb") as f:
                f.write(bytes(bad))
            cache, host = fresh()
            cache.get(host.engine, TARGET)
            assert cache.stats == dict(compiles=1, memory_hits=0, disk_hits=0, rejected=1,
                                       written=1), cache.stats
            assert open(entry, "rb").read() != bytes(bad)
        # A failed compile is not kept, in memory or on disk.
        cache, host = fresh()
        for _ in range(2):
            try:
                cache.get(host.engine, b"\0asm\x01\0\0\0\xff")
                raise AssertionError("compiled an invalid module")
            except wasmdl.WasmtimeError:
                pass
        assert cache.stats["compiles"] == 0 and len(os.listdir(d)) == 1, cache.stats
        # WAT text is not a module: module_compile takes the binary format only.
        try:
            wasmdl.compile_binary(host.engine, b"(module)")
            raise AssertionError("compiled WAT text")
        except wasmdl.WasmtimeError:
            pass
    print("ok   compiled-module cache [damaged, truncated, empty entries rejected and rewritten]")


if __name__ == "__main__":
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    hostile_calls(calls, seed=int(os.environ.get("SEED", "1")))
    cache_entries()
