#!/usr/bin/env python3
"""Generates the hostile corpus: small, deliberately broken side modules.

  gen.py DIR     write every module into DIR (replacing what is there)

Each file is built from a minimal valid side module (`ok-base.so`) by breaking
one thing. The C program tests/hostile/main.c dlopens each and prints the
dlerror text; tests/hostile/expected.out is what both runners must print.
A few are valid by policy (an unknown dylink.0 subsection, a library NEEDing
itself, an empty dylink.0) and load; they are named ok-*.

Files stay well under 1 KB. Names are sorted by main.c, so the order of the
expected output is the order of the names.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from mkmod import leb, name, section  # noqa: E402  (shared encoders)

MAGIC = b"\0asm\x01\0\0\0"


def sleb(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if (v == 0 and not b & 0x40) or (v == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def vec(items):
    return leb(len(items)) + b"".join(items)


sub = section  # a dylink.0 subsection is framed like a section


def meminfo(size=0, align=0, tsize=0, talign=0):
    return sub(1, leb(size) + leb(align) + leb(tsize) + leb(talign))


def needed(*names):
    return sub(2, vec([name(n) for n in names]))


def dylink0(*subs):
    return section(0, name("dylink.0") + b"".join(subs))


I32, I64 = 0x7F, 0x7E
FUNCREF = 0x70


def functype(params=(), results=()):
    return bytes([0x60]) + vec([bytes([p]) for p in params]) + vec([bytes([r]) for r in results])


def imp_func(mod, field, ty):
    return name(mod) + name(field) + b"\x00" + leb(ty)


def imp_global(mod, field, valtype=I32, mutable=0):
    return name(mod) + name(field) + bytes([0x03, valtype, mutable])


IMP_MEMORY = name("env") + name("memory") + b"\x02\x00\x00"
IMP_TABLE = name("env") + name("__indirect_function_table") + b"\x01\x70\x00\x00"
IMP_BASES = [imp_global("env", "__memory_base"), imp_global("env", "__table_base")]
STD_IMPORTS = [IMP_MEMORY, IMP_TABLE] + IMP_BASES


def exp(field, kind, index):
    return name(field) + bytes([kind]) + leb(index)


BODY_EMPTY = b"\x02\x00\x0b"          # no locals, end
BODY_UNREACHABLE = b"\x03\x00\x00\x0b"


def side(dylink=None, types=None, imports=None, funcs=None, exports=None,
         code=None, extra=(), before=b""):
    """A side module; every part can be replaced (None: the default)."""
    if dylink is None:
        dylink = dylink0(meminfo())
    if types is None:
        types = section(1, vec([functype()]))
    if imports is None:
        imports = section(2, vec(STD_IMPORTS))
    if funcs is None:
        funcs = section(3, vec([leb(0)]))
    if exports is None:
        exports = section(7, vec([exp("hostile_fn", 0, 0)]))
    if code is None:
        code = section(10, vec([BODY_EMPTY]))
    return MAGIC + before + dylink + types + imports + funcs + exports + b"".join(extra) + code


def corpus():
    c = {}
    base = side()
    c["ok-base.so"] = base

    # ---- the header
    c["empty.so"] = b""
    c["header-truncated.so"] = MAGIC[:6]
    c["header-elf.so"] = b"\x7fELF\x02\x01\x01\x00" + b"\0" * 8
    c["header-version-2.so"] = b"\0asm\x02\0\0\0"
    c["header-component.so"] = b"\0asm\x0d\0\x01\0"
    c["header-only.so"] = MAGIC

    # ---- dylink.0 placement
    c["dylink-missing.so"] = side(dylink=b"")
    c["dylink-old-name.so"] = side(dylink=section(0, name("dylink") + leb(0) * 4))
    after_dylink = base[len(MAGIC) + len(dylink0(meminfo())):]
    c["dylink-not-first.so"] = MAGIC + section(0, name("producers")) + dylink0(meminfo()) + after_dylink
    c["dylink-twice.so"] = MAGIC + dylink0(meminfo()) + dylink0(meminfo()) + after_dylink
    c["dylink-after-types.so"] = MAGIC + section(1, vec([functype()])) + dylink0(meminfo())
    c["dylink-bad-name-utf8.so"] = MAGIC + section(0, name(b"\xff\xfedylink.0")) + base[len(MAGIC):]
    c["ok-dylink-empty.so"] = side(dylink=dylink0())

    # ---- dylink.0 subsections
    c["sub-dup-meminfo.so"] = side(dylink=dylink0(meminfo(), meminfo(16)))
    c["sub-dup-needed.so"] = side(dylink=dylink0(meminfo(), needed("a.so"), needed("b.so")))
    c["ok-sub-unknown.so"] = side(dylink=dylink0(meminfo(), sub(0x42, b"\1\2\3"), sub(0x7f, b"")))
    c["sub-size-past-end.so"] = side(dylink=section(0, name("dylink.0") + b"\x01\x7f" + leb(0) * 4))
    c["sub-size-leb-overflow.so"] = side(dylink=section(0, name("dylink.0") + b"\x01\xff\xff\xff\xff\x7f"))
    c["sub-truncated-meminfo.so"] = side(dylink=dylink0(sub(1, leb(16) + leb(2))))
    c["sub-trailing-bytes.so"] = side(dylink=dylink0(sub(1, leb(0) * 4 + b"\x00\x00")))
    c["meminfo-leb-overflow.so"] = side(dylink=dylink0(sub(1, b"\xff\xff\xff\xff\x7f" + leb(0) * 3)))
    c["meminfo-leb-too-long.so"] = side(dylink=dylink0(sub(1, b"\x80\x80\x80\x80\x80\x00" + leb(0) * 3)))
    c["meminfo-size-4g.so"] = side(dylink=dylink0(meminfo(size=0xFFFFFFFF)))
    c["meminfo-size-1g-plus-1.so"] = side(dylink=dylink0(meminfo(size=(1 << 30) + 1)))
    c["meminfo-align-17.so"] = side(dylink=dylink0(meminfo(size=16, align=17)))
    c["meminfo-align-4g.so"] = side(dylink=dylink0(meminfo(size=16, align=0xFFFFFFFF)))
    c["meminfo-table-4g.so"] = side(dylink=dylink0(meminfo(tsize=0xFFFFFFFF)))
    c["meminfo-table-2m.so"] = side(dylink=dylink0(meminfo(tsize=2_000_000)))
    c["meminfo-table-align-31.so"] = side(dylink=dylink0(meminfo(tsize=1, talign=31)))

    # ---- NEEDED
    c["needed-missing.so"] = side(dylink=dylink0(meminfo(), needed("libhostile-nowhere.so")))
    c["ok-needed-self.so"] = side(dylink=dylink0(meminfo(), needed("ok-needed-self.so")))
    c["needed-cycle-a.so"] = side(
        dylink=dylink0(meminfo(), needed("needed-cycle-b.so")),
        types=section(1, vec([functype()])),
        imports=section(2, vec(STD_IMPORTS + [imp_func("env", "cycle_b_fn", 0)])),
        exports=section(7, vec([exp("cycle_a_fn", 0, 1)])))
    c["needed-cycle-b.so"] = side(
        dylink=dylink0(meminfo(), needed("needed-cycle-a.so")),
        imports=section(2, vec(STD_IMPORTS + [imp_func("env", "cycle_a_fn", 0)])),
        exports=section(7, vec([exp("cycle_b_fn", 0, 1)])))
    c["needed-count-1025.so"] = side(dylink=dylink0(meminfo(), sub(2, leb(1025))))
    c["needed-count-4g.so"] = side(dylink=dylink0(meminfo(), sub(2, leb(0xFFFFFFFF))))
    c["needed-empty-name.so"] = side(dylink=dylink0(meminfo(), needed("")))
    c["needed-nul-in-name.so"] = side(dylink=dylink0(meminfo(), needed(b"ok-base.so\0evil")))
    c["needed-invalid-utf8.so"] = side(dylink=dylink0(meminfo(), needed(b"lib\xff\xfe.so")))
    c["needed-dotdot.so"] = side(dylink=dylink0(meminfo(), needed("../../../../etc/passwd")))
    c["needed-dir.so"] = side(dylink=dylink0(meminfo(), needed("/h")))
    c["needed-not-wasm.so"] = side(dylink=dylink0(meminfo(), needed("header-elf.so")))
    c["needed-broken-dep.so"] = side(dylink=dylink0(meminfo(), needed("meminfo-align-17.so")))
    c["rpath-origin-loop.so"] = side(dylink=dylink0(
        meminfo(), needed("libhostile-nowhere.so"), sub(5, vec([name("$ORIGIN/$ORIGIN/${ORIGIN}/..")] * 3))))
    c["rpath-invalid-utf8.so"] = side(dylink=dylink0(meminfo(), sub(5, vec([name(b"\xc0\xaf")]))))
    c["import-info-weak-missing.so"] = side(
        dylink=dylink0(meminfo(), sub(4, vec([name("env") + name("nowhere_fn") + leb(1)]))),
        imports=section(2, vec(STD_IMPORTS + [imp_func("env", "nowhere_fn", 0)])),
        exports=section(7, vec([exp("hostile_fn", 0, 1)])))
    c["export-info-unknown-flags.so"] = side(dylink=dylink0(
        meminfo(), sub(3, vec([name("hostile_fn") + leb(0xFFFFFFFF), name("no_such") + leb(0x400)]))))

    # ---- sections
    c["section-size-past-end.so"] = MAGIC + dylink0(meminfo()) + b"\x01" + leb(1000) + vec([functype()])
    c["section-size-leb-overflow.so"] = MAGIC + dylink0(meminfo()) + b"\x01\xff\xff\xff\xff\x7f"
    c["section-unknown-id.so"] = MAGIC + dylink0(meminfo()) + section(0x7E, b"\0\0")
    c["section-out-of-order.so"] = side(extra=[section(1, vec([functype()]))])
    c["section-truncated.so"] = base[:-2]
    c["types-count-4g.so"] = side(types=section(1, leb(0xFFFFFFFF)))
    c["types-bad-form.so"] = side(types=section(1, vec([b"\x5f\x00\x00"])))
    c["funcs-count-2m.so"] = side(funcs=section(3, leb(2_000_000)))
    c["code-count-mismatch.so"] = side(code=section(10, vec([])))
    c["code-body-garbage.so"] = side(code=section(10, vec([b"\x03\x00\xff\x0b"])))

    # ---- imports
    c["imports-count-4g.so"] = side(imports=section(2, leb(0xFFFFFFFF)))
    c["import-unknown-kind.so"] = side(imports=section(2, vec(STD_IMPORTS + [name("env") + name("x") + b"\x05\x00"])))
    c["import-tag.so"] = side(imports=section(2, vec(STD_IMPORTS + [name("env") + name("__cpp_exception") + b"\x04\x00\x00"])))
    c["import-foreign-module.so"] = side(imports=section(2, vec(STD_IMPORTS + [imp_global("foo", "bar")])))
    c["import-undefined-func.so"] = side(imports=section(2, vec(STD_IMPORTS + [imp_func("env", "hostile_nowhere", 0)])),
                                         exports=section(7, vec([exp("hostile_fn", 0, 1)])))
    c["import-undefined-data.so"] = side(imports=section(2, vec(STD_IMPORTS + [imp_global("GOT.mem", "hostile_nowhere", I32, 1)])))
    c["import-func-bad-type.so"] = side(imports=section(2, vec(STD_IMPORTS + [imp_func("env", "malloc", 99)])),
                                        exports=section(7, vec([exp("hostile_fn", 0, 1)])))
    c["import-signature-mismatch.so"] = side(
        types=section(1, vec([functype(), functype((I64, I64, I64), (I64,))])),
        imports=section(2, vec(STD_IMPORTS + [imp_func("env", "malloc", 1)])),
        exports=section(7, vec([exp("hostile_fn", 0, 1)])))
    c["import-got-func-of-data.so"] = side(imports=section(2, vec(STD_IMPORTS + [imp_global("GOT.func", "errno", I32, 1)])))
    c["import-got-mem-immutable.so"] = side(imports=section(2, vec(STD_IMPORTS + [imp_global("GOT.mem", "errno", I32, 0)])))
    c["import-got-mem-i64.so"] = side(imports=section(2, vec(STD_IMPORTS + [imp_global("GOT.mem", "errno", I64, 1)])))
    c["import-memory-base-i64.so"] = side(imports=section(2, vec(
        [IMP_MEMORY, IMP_TABLE, imp_global("env", "__memory_base", I64), IMP_BASES[1]])))
    c["import-memory-base-mutable.so"] = side(imports=section(2, vec(
        [IMP_MEMORY, IMP_TABLE, imp_global("env", "__memory_base", I32, 1), IMP_BASES[1]])))
    c["import-memory-huge-min.so"] = side(imports=section(2, vec(
        [name("env") + name("memory") + b"\x02\x00" + leb(65537)] + [IMP_TABLE] + IMP_BASES)))
    c["import-memory64.so"] = side(imports=section(2, vec(
        [name("env") + name("memory") + b"\x02\x04\x00"] + [IMP_TABLE] + IMP_BASES)))
    c["import-table-huge-min.so"] = side(imports=section(2, vec(
        [IMP_MEMORY, name("env") + name("__indirect_function_table") + b"\x01\x70\x00" + leb(0xFFFFFFFF)] + IMP_BASES)))
    c["import-memory-as-func.so"] = side(imports=section(2, vec([imp_func("env", "memory", 0), IMP_TABLE] + IMP_BASES)),
                                         exports=section(7, vec([exp("hostile_fn", 0, 1)])))
    c["import-name-invalid-utf8.so"] = side(imports=section(2, vec(STD_IMPORTS + [name("env") + name(b"\xed\xa0\x80") + b"\x00\x00"])))
    c["import-name-nul.so"] = side(imports=section(2, vec(STD_IMPORTS + [imp_func("env", "mal\0loc", 0)])),
                                   exports=section(7, vec([exp("hostile_fn", 0, 1)])))
    c["import-stack-pointer-immutable.so"] = side(imports=section(2, vec(STD_IMPORTS + [imp_global("env", "__stack_pointer", I32, 0)])))

    # ---- exports and entry points
    c["exports-count-4g.so"] = side(exports=section(7, leb(0xFFFFFFFF)))
    c["exports-duplicate.so"] = side(exports=section(7, vec([exp("hostile_fn", 0, 0), exp("hostile_fn", 0, 0)])))
    c["export-name-invalid-utf8.so"] = side(exports=section(7, vec([name(b"\x80abc") + b"\x00\x00"])))
    c["export-bad-index.so"] = side(exports=section(7, vec([exp("hostile_fn", 0, 77)])))
    c["export-bad-kind.so"] = side(exports=section(7, vec([name("hostile_fn") + b"\x09\x00"])))
    c["ctors-wrong-type.so"] = side(
        types=section(1, vec([functype(), functype((I32,), (I32,))])),
        funcs=section(3, vec([leb(1)])),
        code=section(10, vec([b"\x04\x00\x20\x00\x0b"])),
        exports=section(7, vec([exp("__wasm_call_ctors", 0, 0)])))
    c["relocs-wrong-type.so"] = side(
        types=section(1, vec([functype(), functype((), (I32,))])),
        funcs=section(3, vec([leb(1)])),
        code=section(10, vec([b"\x04\x00\x41\x00\x0b"])),
        exports=section(7, vec([exp("__wasm_apply_data_relocs", 0, 0)])))
    c["ctors-is-global.so"] = side(
        exports=section(7, vec([exp("__wasm_call_ctors", 3, 0)])))
    c["start-traps.so"] = side(code=section(10, vec([BODY_UNREACHABLE])), extra=[section(8, leb(0))])
    # Not here: a module whose own __wasm_apply_data_relocs or constructor
    # traps. libdl calls them in the program's thread, as ld.so does, so the
    # trap is the program's (as a segfault in a constructor is natively).

    # ---- element and data segments (plain i32.const offsets: an offset
    # with i32.add needs extended-const, which not every engine has)
    elem_far = vec([b"\x00" + b"\x41" + sleb(0x7FFFFFF0) + b"\x0b" + vec([leb(0)])])
    c["elem-out-of-table.so"] = side(extra=[section(9, elem_far)])
    # Found by the load fuzz target: MEM_INFO reserves no table slots, but an
    # element segment puts 2 functions at __table_base, i.e. in slots that
    # belong to nobody (or to another module). libdl does not check element
    # segments against the reservation (loader.rs, elem_slots).
    elem_outside = vec([b"\x00" + b"\x23\x01\x0b" + vec([leb(0), leb(0)])])
    c["elem-outside-reservation.so"] = side(dylink=dylink0(meminfo(tsize=0)), extra=[section(9, elem_outside)])
    c["elem-outside-reservation-2.so"] = side(dylink=dylink0(meminfo(tsize=1)), extra=[section(9, elem_outside)])
    data_far = section(11, vec([b"\x00" + b"\x41" + sleb(0x7FFFFFF0) + b"\x0b" + name(b"xxxxxxxx")]))
    c["data-out-of-memory.so"] = side() + data_far
    c["datacount-mismatch.so"] = MAGIC + dylink0(meminfo()) + section(12, leb(5))
    # Found by the parse_diff fuzz target: the hand-written parser forgot the
    # data section when it checked the data count at the end of the module,
    # and refused every module with a data count section.
    c["ok-datacount.so"] = side(extra=[section(12, leb(1))]) + section(11, vec([b"\x01" + name(b"xy")]))
    return c


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".so"):
            os.remove(os.path.join(out, f))
    for fname, data in sorted(corpus().items()):
        assert len(data) < 1024, fname
        with open(os.path.join(out, fname), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
