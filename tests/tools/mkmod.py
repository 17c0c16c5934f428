#!/usr/bin/env python3
"""Crafts modules for the error scenarios (and the hostile corpus).

  mkmod.py meminfo SRC DST MEMSIZE MEMALIGN TABLESIZE TABLEALIGN
      copy of side module SRC with its WASM_DYLINK_MEM_INFO replaced
  mkmod.py tag-import DST
      a side module that imports an exception tag (env.__cpp_exception)
  mkmod.py foreign-import DST
      a side module that imports a global from a module libdl does not know
"""
import sys


def leb(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v == 0:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def read_leb(b, i):
    v = shift = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return v, i


def section(sid, payload):
    return bytes([sid]) + leb(len(payload)) + payload


def name(s):
    b = s if isinstance(s, bytes) else s.encode()
    return leb(len(b)) + b


def dylink0(subsections):
    body = name("dylink.0")
    for sid, payload in subsections:
        body += bytes([sid]) + leb(len(payload)) + payload
    return section(0, body)


def meminfo(src, dst, memsize, memalign, tablesize, tablealign):
    b = open(src, "rb").read()
    assert b[:8] == b"\0asm\x01\0\0\0"
    assert b[8] == 0, "first section must be dylink.0"
    size, i = read_leb(b, 9)
    end = i + size
    nlen, j = read_leb(b, i)
    assert b[j:j + nlen] == b"dylink.0"
    j += nlen
    subs = []
    while j < end:
        sid = b[j]
        slen, k = read_leb(b, j + 1)
        subs.append((sid, b[k:k + slen]))
        j = k + slen
    new = leb(memsize) + leb(memalign) + leb(tablesize) + leb(tablealign)
    subs = [(1, new) if sid == 1 else (sid, p) for sid, p in subs]
    open(dst, "wb").write(b[:8] + dylink0(subs) + b[end:])


def tag_import(dst):
    types = section(1, leb(1) + bytes([0x60, 1, 0x7F, 0]))
    imports = section(2, leb(1) + name("env") + name("__cpp_exception") + bytes([0x04, 0x00, 0x00]))
    mem = leb(0) * 4
    open(dst, "wb").write(b"\0asm\x01\0\0\0" + dylink0([(1, mem)]) + types + imports)


def foreign_import(dst):
    imports = section(2, leb(1) + name("foo") + name("bar") + bytes([0x03, 0x7F, 0x00]))
    open(dst, "wb").write(b"\0asm\x01\0\0\0" + dylink0([(1, leb(0) * 4)]) + imports)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "meminfo":
        meminfo(args[0], args[1], *map(int, args[2:6]))
    elif cmd == "tag-import":
        tag_import(args[0])
    elif cmd == "foreign-import":
        foreign_import(args[0])
    else:
        sys.exit(__doc__)
