// The wasmdl host ABI, version 0, for JavaScript engines (Node 20+, browsers).
//
// This file is the JavaScript reference shim: it implements
// `host-abi/SPEC.md` (import module `wasmdl_host_v0`) with the standard
// WebAssembly JS API, and the spec's "Starting a process" bootstrap. It is the
// counterpart of `host-abi/wasmtime/src/lib.rs` and behaves the same way,
// function for function; the ABI functions appear below in the spec's order.
// It depends on nothing but the platform.
//
// How the pieces fit:
//
// * WASI preview 1 is not implemented here. The caller passes an object with
//   the interface of Node's `node:wasi` `WASI` class: `wasiImport` (the
//   import functions) and `start(instance)`, which binds the WASI functions to
//   `instance.exports.memory`, calls `instance.exports._start()` and returns
//   the exit status given to `proc_exit` (Node: `returnOnExit: true`).
//   In a browser, pass any implementation with that interface
//   (`tests/browser/wasi.mjs` is the test pages' one).
// * The WASI memory problem of the spec ("WASI through IMPORT_HOST works on
//   the process memory") does not arise here: `node:wasi` functions are plain
//   JS functions bound to ONE memory, not to their caller's exports. We bind
//   them to the process memory by calling `wasi.start()` with a stand-in for
//   an instance, `{ exports: { memory, _start } }`, whose `_start` runs the
//   rest of the bootstrap and then the program's own `_start`. Every module
//   (libdl, the program, side modules) then gets the same functions, so no
//   forwarding module like the wasmtime shim's adapter is needed.
// * The JS API cannot reflect the types of imports and exports (the type
//   reflection proposal is not shipped in V8), and a JS function passed as an
//   import silently takes whatever type the import declares. So this shim
//   reads the types it needs from the module binary with a small
//   bounds-checked reader (`readModuleInfo`), and checks every descriptor and
//   every host function against the import's type itself, as wasmtime does.
// * The ABI functions never throw into the guest. Each one validates its
//   arguments (pointer ranges, live handles, indices) before it has any
//   effect, and on failure returns the spec's error code and records a
//   message for `last_error`. The one exception that does pass through is
//   `proc_exit` called from a start function during `instance_new`: it ends
//   the process, as on wasmtime.
// * Handles come from counters that only go up, starting at 1, so a freed
//   handle is never issued again and stays ERR_BADHANDLE forever.
//
// Limits of this engine, as the spec asks shims to document:
//
// * `instance_free`, `module_free` and `global_free` only drop the handle;
//   the JS garbage collector reclaims the object once nothing else (a table
//   slot, an importing instance) refers to it.
// * The process table is capped at MAX_TABLE_ELEMENTS entries (as in the
//   wasmtime shim); V8's own cap (10,000,000 entries) is lower, and growth
//   past either gives ERR_NOMEM.
// * The JS API binds imports by (module, name), so a module that imports the
//   same (module, name) twice must be given the same value for both;
//   otherwise `instance_new` returns ERR_LINK. (wasmtime binds by position and
//   has no such limit; compilers never emit such duplicates.)
// * Modules whose type section uses GC types (rec groups, struct types) are
//   rejected with ERR_COMPILE: the shim cannot read their import types.

// ---------------------------------------------------------------------------
// Constants of the spec
// ---------------------------------------------------------------------------

/** The import module name of this ABI version. */
export const ABI_MODULE = 'wasmdl_host_v0';
/** The import module of WASI preview 1. */
export const WASI_MODULE = 'wasi_snapshot_preview1';

// Error codes (SPEC.md, "Error codes").
export const OK = 0;
export const ERR_BADHANDLE = 1;
export const ERR_FAULT = 2;
export const ERR_INVAL = 3;
export const ERR_COMPILE = 4;
export const ERR_LINK = 5;
export const ERR_INSTANTIATE = 6;
export const ERR_NOMEM = 7;
export const ERR_RANGE = 8;
export const ERR_TYPE = 9;

// Import descriptor kinds (SPEC.md, `instance_new`).
export const IMPORT_MEMORY = 1;
export const IMPORT_TABLE = 2;
export const IMPORT_STACK_POINTER = 3;
export const IMPORT_GLOBAL = 4;
export const IMPORT_EXPORT = 5;
export const IMPORT_HOST = 6;

/** Size of one import descriptor in guest memory: three u32. */
const DESCRIPTOR_SIZE = 12;

/** Value types accepted by `global_new` (the wasm binary encodings). */
export const VALTYPE_I32 = 0x7f;
export const VALTYPE_I64 = 0x7e;

/** Exit status when the process cannot be started (as the wasmtime runner). */
export const EXIT_FATAL = 127;
/** Exit status after a trap, as `wasmtime run` does on Unix (128 + SIGABRT). */
export const EXIT_TRAP = 134;

/** Default size of the stack that libdl and side modules run on. */
export const DEFAULT_STACK_SIZE = 1 << 20;

/** The largest the process table may grow (entries); as in the wasmtime shim. */
export const MAX_TABLE_ELEMENTS = 1 << 24;

const PAGE_SIZE = 65536;

// The host functions' types, so that IMPORT_HOST and libdl's imports can be
// checked like wasmtime checks them ('i' = i32, 'I' = i64; params:results).
const ABI_TYPES = {
  last_error: 'ii:i',
  module_compile: 'iii:i',
  module_bytes: 'iiii:i',
  module_free: 'i:i',
  instance_new: 'iiii:i',
  instance_free: 'i:i',
  export_global_get: 'iii:i',
  export_to_table: 'iii:i',
  table_grow: 'ii:i',
  table_clear: 'ii:i',
  global_new: 'iiIi:i',
  global_set: 'iI:i',
  global_free: 'i:i',
};

// WASI preview 1 (wasi_snapshot_preview1.witx), every function.
const WASI_TYPES = {
  args_get: 'ii:i', args_sizes_get: 'ii:i', environ_get: 'ii:i', environ_sizes_get: 'ii:i',
  clock_res_get: 'ii:i', clock_time_get: 'iIi:i',
  fd_advise: 'iIIi:i', fd_allocate: 'iII:i', fd_close: 'i:i', fd_datasync: 'i:i',
  fd_fdstat_get: 'ii:i', fd_fdstat_set_flags: 'ii:i', fd_fdstat_set_rights: 'iII:i',
  fd_filestat_get: 'ii:i', fd_filestat_set_size: 'iI:i', fd_filestat_set_times: 'iIIi:i',
  fd_pread: 'iiiIi:i', fd_prestat_get: 'ii:i', fd_prestat_dir_name: 'iii:i',
  fd_pwrite: 'iiiIi:i', fd_read: 'iiii:i', fd_readdir: 'iiiIi:i', fd_renumber: 'ii:i',
  fd_seek: 'iIii:i', fd_sync: 'i:i', fd_tell: 'ii:i', fd_write: 'iiii:i',
  path_create_directory: 'iii:i', path_filestat_get: 'iiiii:i',
  path_filestat_set_times: 'iiiiIIi:i', path_link: 'iiiiiii:i', path_open: 'iiiiiIIii:i',
  path_readlink: 'iiiiii:i', path_remove_directory: 'iii:i', path_rename: 'iiiiii:i',
  path_symlink: 'iiiii:i', path_unlink_file: 'iii:i', poll_oneoff: 'iiii:i',
  proc_exit: 'i:', proc_raise: 'i:i', sched_yield: ':i', random_get: 'ii:i',
  sock_accept: 'iii:i', sock_recv: 'iiiiii:i', sock_send: 'iiiii:i', sock_shutdown: 'ii:i',
};

/** 'iiIi:i' -> { params: ['i32', 'i32', 'i64', 'i32'], results: ['i32'] } */
function funcType(short) {
  const [p, r] = short.split(':');
  const t = (c) => (c === 'I' ? 'i64' : 'i32');
  return { params: [...p].map(t), results: [...r].map(t) };
}

function funcTypeName(ty) {
  return `(${ty.params.join(', ')}) -> (${ty.results.join(', ')})`;
}

function sameFuncType(a, b) {
  const eq = (x, y) => x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.params, b.params) && eq(a.results, b.results);
}

function globalTypeName(ty) {
  return `${ty.mutable ? 'mut ' : ''}${ty.valtype}`;
}

// ---------------------------------------------------------------------------
// Reading module binaries (what the JS API cannot tell us)
// ---------------------------------------------------------------------------

/** A bounds-checked reader of wasm binary encodings. Throws on bad input. */
class Reader {
  constructor(bytes, what) {
    this.bytes = bytes;
    this.pos = 0;
    this.what = what;
  }
  get done() {
    return this.pos >= this.bytes.length;
  }
  take(n) {
    if (n > this.bytes.length - this.pos) throw new Error(`${this.what}: unexpected end of data`);
    const slice = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return slice;
  }
  /** take(n) without the view (a typed array made per export name adds up). */
  skip(n) {
    if (n > this.bytes.length - this.pos) throw new Error(`${this.what}: unexpected end of data`);
    this.pos += n;
  }
  byte() {
    // Not take(1)[0]: that makes a typed-array view per byte.
    if (this.pos >= this.bytes.length) throw new Error(`${this.what}: unexpected end of data`);
    return this.bytes[this.pos++];
  }
  /** An unsigned LEB128 u32 (at most 5 bytes, no bits above 32). */
  u32() {
    const first = this.bytes[this.pos];
    if (first < 0x80) { // one byte: most counts, indices and lengths
      this.pos++;
      return first;
    }
    // Shifts, not 2 ** (7 * i): Math.pow per byte made reading a module
    // with 20,000 exports slow before V8 optimised this.
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = this.byte();
      value |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value; // below 2^28: never negative
    }
    const b = this.byte(); // the fifth: 4 bits left
    if ((b & 0x7f) > 0x0f) throw new Error(`${this.what}: LEB128 value too large`);
    if (b & 0x80) throw new Error(`${this.what}: LEB128 value too long`);
    return (value | (b << 28)) >>> 0;
  }
  /** A signed LEB128 of any width, skipped. */
  skipSigned() {
    while (this.byte() & 0x80);
  }
  /** An unsigned LEB128 u64 (memory and table limits of 64-bit memories). */
  u64() {
    let value = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return value;
    }
    throw new Error(`${this.what}: LEB128 value too long`);
  }
  name() {
    return UTF8.decode(this.take(this.u32()));
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const UTF8_ENCODER = new TextEncoder();

const VALTYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };

/** A value type, as a string that compares equal for equal types. */
function readValType(r) {
  const b = r.byte();
  if (VALTYPES[b]) return VALTYPES[b];
  if (b === 0x63 || b === 0x64) {
    // (ref null? heaptype): the heap type is an s33, a type index or an
    // abstract type; spell out its bytes.
    const start = r.pos;
    r.skipSigned();
    const ht = [...r.bytes.subarray(start, r.pos)].join('.');
    return `ref${b === 0x63 ? ' null' : ''} ${ht}`;
  }
  if (b >= 0x69 && b <= 0x74) return `ref null ${b}`; // funcref, externref, ...
  throw new Error(`unknown value type 0x${b.toString(16)}`);
}

function readLimits(r, what) {
  const flags = r.byte();
  if (flags > 7) throw new Error(`${what}: bad limits flags 0x${flags.toString(16)}`);
  const is64 = (flags & 4) !== 0;
  const num = () => (is64 ? r.u64() : BigInt(r.u32()));
  const min = num();
  const max = flags & 1 ? num() : null;
  return { min, max, shared: (flags & 2) !== 0, is64 };
}

function readTableType(r) {
  const element = readValType(r);
  return { element, ...readLimits(r, 'table') };
}

function readGlobalType(r) {
  const valtype = readValType(r);
  const m = r.byte();
  if (m > 1) throw new Error('bad global mutability');
  return globalType(valtype, m === 1);
}

/** One object per global type: a library may define 10,000 globals of
 *  one or two types. Never changed once made. */
const GLOBAL_TYPES = [new Map(), new Map()]; // immutable, mutable: valtype -> type
function globalType(valtype, mutable) {
  const types = GLOBAL_TYPES[mutable ? 1 : 0];
  let t = types.get(valtype);
  if (t === undefined) types.set(valtype, (t = { valtype, mutable }));
  return t;
}

/** Skips a constant expression (a global's initialiser). */
function skipConstExpr(r) {
  for (;;) {
    const op = r.byte();
    switch (op) {
      case 0x0b: return; // end
      case 0x41: case 0x42: r.skipSigned(); break; // i32.const, i64.const
      case 0x43: r.skip(4); break; // f32.const
      case 0x44: r.skip(8); break; // f64.const
      case 0x23: case 0xd2: r.u32(); break; // global.get, ref.func
      case 0xd0: r.skipSigned(); break; // ref.null heaptype
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break; // extended const
      case 0xfd: // v128.const
        if (r.u32() !== 12) throw new Error('unsupported constant expression');
        r.skip(16);
        break;
      default:
        throw new Error(`unsupported constant expression opcode 0x${op.toString(16)}`);
    }
  }
}

const EXTERN_KINDS = ['function', 'table', 'memory', 'global', 'tag'];

/**
 * The import and export types of a module, from its binary:
 * `{ imports: [{module, name, kind, type}], exports: [{name, kind, type}] }`,
 * both in section order. `type` is a function type, a table type, a memory
 * type (limits), a global type, or for a tag the function type of its
 * parameters. The engine has validated the module already; this only has
 * to find the types.
 */
export function readModuleInfo(bytes) {
  const r = new Reader(bytes, 'module');
  r.skip(8); // magic and version, checked by the engine
  const types = [];
  const imports = [];
  const funcs = []; // function index space: types
  const globals = []; // global index space: global types
  const tables = [];
  const memories = [];
  const tags = []; // exception tags: function types
  const exports = new ExportList(bytes, { 0: funcs, 1: tables, 2: memories, 3: globals, 4: tags });
  while (!r.done) {
    const id = r.byte();
    const s = new Reader(r.take(r.u32()), 'module');
    const count = id >= 1 && id <= 13 && id !== 8 && id !== 12 ? s.u32() : 0;
    // The sections a library has one entry in per symbol (10,000 symbols:
    // 10,000 functions, globals and 20,000 exports) each in a small
    // function of its own, which V8 optimises soon, not in the loop below.
    if (id === 3) {
      readFunctionSection(s, count, types, funcs);
      continue;
    }
    if (id === 6) {
      readGlobalSection(s, count, globals);
      continue;
    }
    if (id === 7) {
      readExportSection(s, count, exports);
      continue;
    }
    for (let i = 0; i < count; i++) {
      switch (id) {
        case 1: { // type
          const form = s.byte();
          if (form !== 0x60) throw new Error('GC types (rec groups, subtypes) are not supported');
          const params = Array.from({ length: s.u32() }, () => readValType(s));
          const results = Array.from({ length: s.u32() }, () => readValType(s));
          types.push({ params, results });
          break;
        }
        case 2: { // import
          const module = s.name();
          const name = s.name();
          const kind = EXTERN_KINDS[s.byte()];
          let type = null;
          if (kind === 'function') {
            type = types[s.u32()];
            funcs.push(type);
          } else if (kind === 'table') {
            type = readTableType(s);
            tables.push(type);
          } else if (kind === 'memory') {
            type = readLimits(s, 'memory');
            memories.push(type);
          } else if (kind === 'global') {
            type = readGlobalType(s);
            globals.push(type);
          } else if (kind === 'tag') {
            s.byte(); // attribute: 0, an exception
            type = types[s.u32()];
            tags.push(type);
          } else {
            throw new Error('unknown import kind');
          }
          imports.push({ module, name, kind, type });
          break;
        }
        case 4: { // table (an initialiser expression may follow a 0x40 0x00 prefix)
          if (s.bytes[s.pos] === 0x40) {
            s.skip(2);
            tables.push(readTableType(s));
            skipConstExpr(s);
          } else {
            tables.push(readTableType(s));
          }
          break;
        }
        case 5: memories.push(readLimits(s, 'memory')); break;
        case 13: s.byte(); tags.push(types[s.u32()]); break; // tag
        default: // sections whose content we do not need
          i = count;
      }
    }
  }
  exports.seal();
  return { imports, exports };
}

function readFunctionSection(s, count, types, funcs) {
  for (let i = 0; i < count; i++) funcs.push(types[s.u32()]);
}

function readGlobalSection(s, count, globals) {
  for (let i = 0; i < count; i++) {
    globals.push(readGlobalType(s));
    skipConstExpr(s);
  }
}

/** Where each export's name is; the rest when asked (ExportList). */
function readExportSection(s, count, exports) {
  for (let i = 0; i < count; i++) {
    const len = s.u32();
    const offset = s.bytes.byteOffset + s.pos; // in the module's buffer
    s.skip(len);
    const kind = s.byte();
    exports.add(offset, len, kind, s.u32());
  }
}

/**
 * A module's exports, in section order, read only as far as the host needs
 * them: a library with 10,000 exports has one or two of them used as
 * imports or put in the table, so names are decoded and types looked up on
 * first use (`at`), not for every export at compile time.
 */
class ExportList {
  constructor(bytes, spaces) {
    this.bytes = bytes;
    this.spaces = spaces;
    this.length = 0;
    this.fields = new Uint32Array(64); // per export: name offset, name length, kind, index
    this.cache = new Map();
  }
  add(offset, len, kind, index) {
    if (kind >= EXTERN_KINDS.length) throw new Error(`unknown export kind ${kind}`);
    if (this.length * 4 === this.fields.length) {
      const grown = new Uint32Array(this.fields.length * 2);
      grown.set(this.fields);
      this.fields = grown;
    }
    const f = this.fields;
    const at = this.length * 4;
    f[at] = offset;
    f[at + 1] = len;
    f[at + 2] = kind;
    f[at + 3] = index;
    this.length++;
  }
  seal() {
    this.fields = this.fields.subarray(0, this.length * 4);
  }
  /** Export `i`: `{ name, kind, type }`, or undefined out of range. */
  at(i) {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) return undefined;
    let e = this.cache.get(i);
    if (!e) {
      const [offset, len, kind, index] = this.fields.subarray(i * 4, i * 4 + 4);
      const base = this.bytes.byteOffset;
      e = {
        name: UTF8.decode(this.bytes.subarray(offset - base, offset - base + len)),
        kind: EXTERN_KINDS[kind],
        type: this.spaces[kind][index],
      };
      this.cache.set(i, e);
    }
    return e;
  }
  /** The first export `pred` accepts (the bootstrap's few lookups by name). */
  find(pred) {
    for (let i = 0; i < this.length; i++) {
      const e = this.at(i);
      if (pred(e)) return e;
    }
    return undefined;
  }
}
/**
 * `WASM_DYLINK_MEM_INFO` of a side module's `dylink.0` section, which must be
 * its first section. A `dylink.0` without that subsection means zeros.
 */
export function parseDylinkMemInfo(bytes) {
  const notSide = 'not a side module: the first section is not a `dylink.0` custom section';
  const r = new Reader(bytes, 'dylink.0');
  const header = r.take(8);
  if (![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00].every((b, i) => header[i] === b)) {
    throw new Error('not a wasm module (bad header)');
  }
  if (r.done || r.byte() !== 0) throw new Error(notSide);
  const section = new Reader(r.take(r.u32()), 'dylink.0');
  const name = section.take(section.u32());
  if (String.fromCharCode(...name) !== 'dylink.0') throw new Error(notSide);
  const WASM_DYLINK_MEM_INFO = 1;
  while (!section.done) {
    const kind = section.byte();
    const sub = new Reader(section.take(section.u32()), 'dylink.0');
    if (kind === WASM_DYLINK_MEM_INFO) {
      const info = {
        memorySize: sub.u32(),
        memoryAlign: sub.u32(),
        tableSize: sub.u32(),
        tableAlign: sub.u32(),
      };
      if (info.memoryAlign >= 32 || info.tableAlign >= 32) {
        throw new Error('dylink.0: alignment out of range');
      }
      return info;
    }
  }
  return { memorySize: 0, memoryAlign: 0, tableSize: 0, tableAlign: 0 };
}

// ---------------------------------------------------------------------------
// Host state
// ---------------------------------------------------------------------------

/**
 * A handle table. Handles come from a counter that only goes up, so a freed
 * handle is never reissued; 0 is never issued.
 */
class Handles {
  constructor() {
    this.next = 1;
    this.live = new Map();
  }
  /** null once 2^32 - 1 handles have been issued. */
  insert(value) {
    if (this.next > 0xffffffff) return null;
    const handle = this.next++;
    this.live.set(handle, value);
    return handle;
  }
  get(handle) {
    return this.live.get(handle);
  }
  remove(handle) {
    const value = this.live.get(handle);
    this.live.delete(handle);
    return value;
  }
}

/** Why an ABI call failed: an error code and the message for `last_error`. */
class Fail extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function fail(code, message) {
  throw new Fail(code, message);
}

const hex = (n) => `0x${n.toString(16)}`;

/** Descriptor fields a kind does not use must be zero (ERR_INVAL). */
function unusedFieldsZero(a, b) {
  if (a !== 0 || b !== 0) fail(ERR_INVAL, 'unused descriptor fields must be zero');
}

/** The descriptor's kind of extern must be the import's (ERR_LINK). */
function expectKind(imp, want) {
  if (imp.kind !== want) fail(ERR_LINK, `the import is a ${imp.kind}, the descriptor gives a ${want}`);
}

/** How a failed import is named in `last_error`. */
function importContext(i, imp) {
  return `import ${i} (\`${imp.module}.${imp.name}\`)`;
}

/**
 * Compiled modules of this process, by their bytes (host-abi/SPEC.md,
 * "Caching compiled modules"): the same bytes are never compiled twice. The
 * key is the length and a 32-bit hash of the bytes; a hit is confirmed by
 * comparing every byte, so a collision costs a compile, never a wrong module.
 * A `WebAssembly.Module` holds compiled code only (no instance, no memory).
 * JavaScript engines keep no compiled code across runs that a shim can ask
 * for synchronously (see SPEC.md).
 */
export class ModuleCache {
  constructor() {
    this.entries = new Map(); // key -> [{ bytes, module, info }]
    this.hits = 0;
    this.compiles = 0;
  }
  static key(bytes) {
    // FNV-1a over 32-bit words (and the tail bytes), then the length: fast
    // enough next to V8's own decoding of the same bytes. A small integer,
    // not a string: a cache hit (every cycle of a dlopen/dlclose loop)
    // allocates nothing for it.
    let h = 0x811c9dc5;
    const words = bytes.length >>> 2;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < words; i++) h = Math.imul(h ^ view.getUint32(i * 4, true), 0x01000193);
    for (let i = words * 4; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    return Math.imul(h ^ bytes.length, 0x01000193) | 0;
  }
  /** `{ bytes, module, info }` for `bytes`, which may be a view of guest
   *  memory: read only during this call; on a miss the entry keeps a copy,
   *  made by `make(copy)` (which compiles and reads the module, and may
   *  throw) once per process. */
  get(bytes, make) {
    const key = ModuleCache.key(bytes);
    const same = this.entries.get(key) ?? [];
    for (const e of same) {
      if (sameBytes(e.bytes, bytes)) {
        this.hits++;
        return e;
      }
    }
    const copy = bytes.slice();
    const { module, info } = make(copy);
    const entry = { bytes: copy, module, info };
    this.compiles++;
    same.push(entry);
    this.entries.set(key, same);
    return entry;
  }
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The ABI's state for one process: the shared memory, table and
 * `__stack_pointer`, the WASI functions, and the handle tables.
 *
 * An extern (what an import can be bound to) is `{ kind, type, value }`:
 * `value` is what the JS API takes, `type` what the binary says it is.
 */
export class Host {
  constructor({ memory, table, stackPointer, wasiImport }) {
    this.memory = memory;
    this.table = table;
    this.stackPointer = stackPointer;
    this.modules = new Handles(); // { module, bytes, info }
    this.cache = new ModuleCache();
    this.instances = new Handles(); // { exports: [extern] } in export-section order
    this.globals = new Handles(); // extern of kind 'global'
    this.lastError = '';
    // The externs of IMPORT_MEMORY, IMPORT_TABLE and IMPORT_STACK_POINTER,
    // made once (an extern is never changed once made).
    this.memoryExtern = { kind: 'memory', type: null, value: memory };
    this.tableExtern = { kind: 'table', type: null, value: table };
    this.stackPointerExtern = { kind: 'global', type: globalType('i32', true), value: stackPointer };
    // A DataView of the memory's current buffer (a new one after growth).
    this.view = null;
    // Set when the guest calls `proc_exit`: the exception that WASI throws
    // to unwind then must pass through the shim untouched.
    this.exiting = false;
    this.wasi = this.wrapWasi(wasiImport);
    this.abi = this.abiFunctions();
  }

  /** WASI's functions as externs; `proc_exit` notes that the process is ending. */
  wrapWasi(wasiImport) {
    const wasi = new Map();
    for (const [name, short] of Object.entries(WASI_TYPES)) {
      let fn = wasiImport[name];
      if (typeof fn !== 'function') continue;
      if (name === 'proc_exit') {
        const procExit = fn;
        fn = (code) => {
          this.exiting = true;
          return procExit(code);
        };
      }
      if (name === 'poll_oneoff' && typeof wasiImport.clock_time_get === 'function') {
        const pollOneoff = fn;
        const clockTimeGet = wasiImport.clock_time_get;
        fn = (inPtr, outPtr, nsubs, neventsPtr) => {
          const restore = this.relativeClockSubscriptions(inPtr >>> 0, outPtr >>> 0, nsubs >>> 0, clockTimeGet);
          try {
            return pollOneoff(inPtr, outPtr, nsubs, neventsPtr);
          } finally {
            restore();
          }
        };
      }
      wasi.set(name, { kind: 'function', type: funcType(short), value: fn });
    }
    return wasi;
  }

  /**
   * Rewrites `poll_oneoff`'s clock subscriptions with an absolute deadline
   * (`subclockflags` bit 0) as relative timeouts, and returns a function that
   * puts the guest's subscriptions back. node 20's node:wasi (uvwasi) never
   * ends a poll on an absolute deadline, so `clock_nanosleep(...,
   * TIMER_ABSTIME, ...)` (and CPython's `time.sleep`) would hang. The current
   * time comes from the same WASI `clock_time_get`, written to the first 8
   * bytes of the events buffer, which the poll overwrites anyway. Nothing is
   * touched if a range is outside memory: the poll then reports the fault.
   */
  relativeClockSubscriptions(inPtr, outPtr, nsubs, clockTimeGet) {
    const SUBSCRIPTION = 48;
    const undo = [];
    const none = () => {};
    if (nsubs === 0 || inPtr + nsubs * SUBSCRIPTION > this.memory.buffer.byteLength) return none;
    if (outPtr + 8 > this.memory.buffer.byteLength) return none;
    for (let i = 0; i < nsubs; i++) {
      const sub = inPtr + i * SUBSCRIPTION;
      const v = new DataView(this.memory.buffer);
      // tag 0: clock; subscription_clock: id u32 @16, timeout u64 @24, flags u16 @40.
      if (v.getUint8(sub + 8) !== 0 || (v.getUint16(sub + 40, true) & 1) === 0) continue;
      const id = v.getUint32(sub + 16, true);
      if (clockTimeGet(id, 1n, outPtr) !== 0) continue;
      const now = new DataView(this.memory.buffer).getBigUint64(outPtr, true);
      const w = new DataView(this.memory.buffer);
      const deadline = w.getBigUint64(sub + 24, true);
      const flags = w.getUint16(sub + 40, true);
      undo.push([sub, deadline, flags]);
      // uvwasi waits in whole milliseconds, rounded down, on a loop clock
      // that may lag: rounded up, plus one, the wait never ends before the
      // deadline (sleeping a little longer is allowed, waking early is not).
      const MS = 1000000n;
      const left = deadline > now ? deadline - now : 0n;
      w.setBigUint64(sub + 24, left === 0n ? 0n : ((left + MS - 1n) / MS + 1n) * MS, true);
      w.setUint16(sub + 40, flags & ~1, true);
    }
    if (undo.length === 0) return none;
    return () => {
      const w = new DataView(this.memory.buffer);
      for (const [sub, deadline, flags] of undo) {
        w.setBigUint64(sub + 24, deadline, true);
        w.setUint16(sub + 40, flags, true);
      }
    };
  }

  /**
   * The shim's own definition of an import (IMPORT_HOST): WASI preview 1 and
   * this ABI, and nothing else. Null if there is none.
   */
  hostDefinition(module, name) {
    if (module === WASI_MODULE) return this.wasi.get(name) ?? null;
    if (module === ABI_MODULE && Object.hasOwn(this.abi, name)) return this.abi[name];
    return null;
  }

  // -------------------------------------------------------------------------
  // Guest memory access: every range checked
  // -------------------------------------------------------------------------
  //
  // Arguments arrive as JS numbers holding signed i32 values; `>>> 0` makes
  // them the u32 the spec means. `ptr + len` cannot overflow in a double.

  checkRange(ptr, len) {
    if (ptr + len > this.memory.buffer.byteLength) {
      fail(ERR_FAULT, `range ${hex(ptr)}+${hex(len)} is outside memory`);
    }
  }

  /** A DataView of the memory as it is now (growth replaces the buffer). */
  guestView() {
    const buffer = this.memory.buffer;
    if (this.view === null || this.view.buffer !== buffer) this.view = new DataView(buffer);
    return this.view;
  }

  writeGuest(ptr, bytes) {
    this.checkRange(ptr, bytes.length);
    new Uint8Array(this.memory.buffer, ptr, bytes.length).set(bytes);
  }

  writeU32(ptr, value) {
    this.checkRange(ptr, 4);
    this.guestView().setUint32(ptr, value, true);
  }

  writeU64(ptr, value) {
    this.checkRange(ptr, 8);
    this.guestView().setBigUint64(ptr, BigInt.asUintN(64, value), true);
  }

  // -------------------------------------------------------------------------
  // The ABI functions, in the spec's order
  // -------------------------------------------------------------------------

  /**
   * The `wasmdl_host_v0` functions as externs. Each wrapper turns guest
   * integers into u32, runs the function, and turns its outcome into the
   * error code, recording the message for `last_error`.
   */
  abiFunctions() {
    // No rest parameter: the ABI takes at most four arguments, and an array
    // per call would be garbage on every call.
    const define = (name, fn) => {
      const value = (a, b, c, d) => {
        try {
          fn(a, b, c, d);
          return OK;
        } catch (e) {
          if (e instanceof Fail) {
            this.lastError = e.message;
            return e.code;
          }
          // `proc_exit` in a start function: end the process.
          if (this.exiting) throw e;
          // A failure of the engine itself (an allocation refused) or a
          // bug of this shim: still never a trap for the guest.
          this.lastError = `${name}: ${e}`;
          return e instanceof RangeError ? ERR_NOMEM : ERR_INVAL;
        }
      };
      return { kind: 'function', type: funcType(ABI_TYPES[name]), value };
    };
    const u = (x) => x >>> 0;
    return {
      // `last_error` is the one function that returns a length, not a code.
      last_error: {
        kind: 'function',
        type: funcType(ABI_TYPES.last_error),
        value: (buf, cap) => this.last_error(u(buf), u(cap)),
      },
      module_compile: define('module_compile', (b, l, o) => this.module_compile(u(b), u(l), u(o))),
      module_bytes: define('module_bytes', (m, b, c, o) => this.module_bytes(u(m), u(b), u(c), u(o))),
      module_free: define('module_free', (m) => this.module_free(u(m))),
      instance_new: define('instance_new', (m, i, c, o) => this.instance_new(u(m), u(i), u(c), u(o))),
      instance_free: define('instance_free', (i) => this.instance_free(u(i))),
      export_global_get: define('export_global_get', (i, e, o) => this.export_global_get(u(i), u(e), u(o))),
      export_to_table: define('export_to_table', (i, e, t) => this.export_to_table(u(i), u(e), u(t))),
      table_grow: define('table_grow', (d, o) => this.table_grow(u(d), u(o))),
      table_clear: define('table_clear', (i, c) => this.table_clear(u(i), u(c))),
      // i64 parameters arrive as BigInt.
      global_new: define('global_new', (t, m, v, o) => this.global_new(u(t), u(m), v, u(o))),
      global_set: define('global_set', (g, v) => this.global_set(u(g), v)),
      global_free: define('global_free', (g) => this.global_free(u(g))),
    };
  }

  /** `last_error(buf, cap) -> len`. Never fails: a bad range copies nothing. */
  last_error(buf, cap) {
    const message = UTF8_ENCODER.encode(this.lastError);
    const n = Math.min(message.length, cap);
    if (buf + n <= this.memory.buffer.byteLength) this.writeGuest(buf, message.subarray(0, n));
    return message.length;
  }

  /** `module_compile(bytes, len, out_module) -> err`. */
  module_compile(bytes, len, outModule) {
    this.checkRange(bytes, len);
    this.checkRange(outModule, 4);
    // The guest's bytes in place: the cache copies them only to compile
    // them (a hit, a library opened again, copies nothing).
    const guestBytes = new Uint8Array(this.memory.buffer, bytes, len);
    const { bytes: kept, module, info } = this.cache.get(guestBytes, (binary) => {
      // The JS API takes only the binary format, never WAT text.
      let module;
      try {
        module = new WebAssembly.Module(binary);
      } catch (e) {
        if (e instanceof RangeError) fail(ERR_NOMEM, `${e.message}`);
        fail(ERR_COMPILE, `${e.message}`);
      }
      try {
        return { module, info: readModuleInfo(binary) };
      } catch (e) {
        fail(ERR_COMPILE, `this shim cannot read the module's types: ${e.message}`);
      }
    });
    const handle = this.modules.insert({ module, bytes: kept, info });
    if (handle === null) fail(ERR_NOMEM, 'out of module handles');
    this.writeU32(outModule, handle);
  }

  /** `module_bytes(module, buf, cap, out_len) -> err`. */
  module_bytes(module, buf, cap, outLen) {
    const loaded = this.modules.get(module);
    if (!loaded) fail(ERR_BADHANDLE, `module handle ${module} is not live`);
    const len = loaded.bytes.length;
    // Validate both outputs before writing either.
    this.checkRange(outLen, 4);
    if (cap >= len) {
      this.checkRange(buf, len);
      this.writeGuest(buf, loaded.bytes);
    }
    this.writeU32(outLen, len);
  }

  /** `module_free(module) -> err`. Instances made from the module are unaffected. */
  module_free(module) {
    if (!this.modules.remove(module)) fail(ERR_BADHANDLE, `module handle ${module} is not live`);
  }

  /** `instance_new(module, imports, count, out_instance) -> err`. */
  instance_new(module, imports, count, outInstance) {
    const loaded = this.modules.get(module);
    if (!loaded) fail(ERR_BADHANDLE, `module handle ${module} is not live`);
    // The count first: it is cheap, and it bounds the copy below.
    const wanted = loaded.info.imports;
    if (count !== wanted.length) {
      fail(ERR_INVAL, `${count} import descriptors given, the module has ${wanted.length} imports`);
    }
    this.checkRange(imports, count * DESCRIPTOR_SIZE);
    this.checkRange(outInstance, 4);

    // Resolve every descriptor and check it against its import before the
    // engine sees anything; then build the JS import object. Nothing runs
    // guest code before the engine instantiates, so the descriptors are
    // read in place; the message context is made only for a failure.
    const view = this.guestView();
    const importObject = Object.create(null);
    for (let i = 0; i < count; i++) {
      const imp = wanted[i];
      const at = imports + i * DESCRIPTOR_SIZE;
      let ext;
      try {
        ext = this.resolveDescriptor(imp, view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true));
        checkImportType(imp, ext);
      } catch (e) {
        if (e instanceof Fail) fail(e.code, `${importContext(i, imp)}: ${e.message}`);
        throw e;
      }
      let names = importObject[imp.module];
      if (names === undefined) names = importObject[imp.module] = Object.create(null);
      if (Object.hasOwn(names, imp.name) && names[imp.name] !== ext.value) {
        fail(ERR_LINK, `${importContext(i, imp)}: imported twice with different values; this engine binds imports by name`);
      }
      names[imp.name] = ext.value;
    }

    let instance;
    try {
      instance = new WebAssembly.Instance(loaded.module, importObject);
    } catch (e) {
      if (this.exiting) throw e; // `proc_exit` in the start function
      fail(ERR_INSTANTIATE, `${e}`);
    }
    const handle = this.instances.insert({ exports: new InstanceExports(instance, loaded.info) });
    if (handle === null) fail(ERR_NOMEM, 'out of instance handles');
    this.writeU32(outInstance, handle);
  }

  /** What one import descriptor names, checked against the import's kind. */
  resolveDescriptor(imp, kind, a, b) {
    switch (kind) {
      case IMPORT_MEMORY:
        unusedFieldsZero(a, b);
        expectKind(imp, 'memory');
        return this.memoryExtern;
      case IMPORT_TABLE:
        unusedFieldsZero(a, b);
        expectKind(imp, 'table');
        return this.tableExtern;
      case IMPORT_STACK_POINTER:
        unusedFieldsZero(a, b);
        expectKind(imp, 'global');
        return this.stackPointerExtern;
      case IMPORT_GLOBAL: {
        unusedFieldsZero(0, b);
        const global = this.globals.get(a);
        if (!global) fail(ERR_BADHANDLE, `global handle ${a} is not live`);
        expectKind(imp, 'global');
        return global;
      }
      case IMPORT_EXPORT: {
        const instance = this.instances.get(a);
        if (!instance) fail(ERR_BADHANDLE, `instance handle ${a} is not live`);
        const ext = instance.exports.at(b);
        if (!ext) {
          fail(ERR_RANGE, `export index ${b} out of range (instance ${a} has ${instance.exports.length} exports)`);
        }
        return ext;
      }
      case IMPORT_HOST: {
        unusedFieldsZero(a, b);
        const ext = this.hostDefinition(imp.module, imp.name);
        if (!ext) fail(ERR_LINK, 'the host has no definition for it');
        return ext;
      }
      default:
        fail(ERR_INVAL, `unknown descriptor kind ${kind}`);
    }
  }

  /** `instance_free(instance) -> err`. Only the handle goes (see the top). */
  instance_free(instance) {
    if (!this.instances.remove(instance)) fail(ERR_BADHANDLE, `instance handle ${instance} is not live`);
  }

  /** Export number `index` of a live instance (ERR_BADHANDLE, ERR_RANGE). */
  exportOf(instance, index) {
    const live = this.instances.get(instance);
    if (!live) fail(ERR_BADHANDLE, `instance handle ${instance} is not live`);
    const ext = live.exports.at(index);
    if (!ext) {
      fail(ERR_RANGE, `export index ${index} out of range (instance ${instance} has ${live.exports.length} exports)`);
    }
    return ext;
  }

  /** `export_global_get(instance, export_index, out_value) -> err`. */
  export_global_get(instance, index, outValue) {
    const ext = this.exportOf(instance, index);
    if (ext.kind !== 'global') fail(ERR_TYPE, `export ${index} is not a global`);
    let value;
    if (ext.type.valtype === 'i32') value = BigInt(ext.value.value >>> 0); // zero-extended
    else if (ext.type.valtype === 'i64') value = ext.value.value; // a BigInt
    else fail(ERR_TYPE, `export ${index} is a global of type ${ext.type.valtype}, not i32 or i64`);
    this.writeU64(outValue, value);
  }

  /** `export_to_table(instance, export_index, table_index) -> err`. */
  export_to_table(instance, index, tableIndex) {
    const ext = this.exportOf(instance, index);
    if (ext.kind !== 'function') fail(ERR_TYPE, `export ${index} is not a function`);
    const size = this.table.length;
    if (tableIndex >= size) fail(ERR_RANGE, `table index ${tableIndex} out of range (table size ${size})`);
    try {
      this.table.set(tableIndex, ext.value);
    } catch (e) {
      fail(ERR_TYPE, `${e.message}`);
    }
  }

  /** `table_grow(delta, out_old_size) -> err`. */
  table_grow(delta, outOldSize) {
    this.checkRange(outOldSize, 4);
    const size = this.table.length;
    if (size + delta > MAX_TABLE_ELEMENTS) {
      fail(ERR_NOMEM, `cannot grow the table by ${delta}: past its limit of ${MAX_TABLE_ELEMENTS} entries`);
    }
    let old;
    try {
      old = this.table.grow(delta); // new entries are null
    } catch (e) {
      fail(ERR_NOMEM, `cannot grow the table by ${delta}: ${e.message}`);
    }
    this.writeU32(outOldSize, old);
  }

  /** `table_clear(index, count) -> err`. All or nothing. */
  table_clear(index, count) {
    const size = this.table.length;
    if (index + count > size) {
      fail(ERR_RANGE, `table range ${index}+${count} out of range (table size ${size})`);
    }
    for (let i = index; i < index + count; i++) this.table.set(i, null);
  }

  /** `global_new(valtype, mutable, value, out_global) -> err`. `value` is a BigInt. */
  global_new(valtype, mutable, value, outGlobal) {
    let type;
    let initial;
    if (valtype === VALTYPE_I32) {
      type = 'i32';
      initial = Number(BigInt.asIntN(32, value)); // truncated
    } else if (valtype === VALTYPE_I64) {
      type = 'i64';
      initial = BigInt.asIntN(64, value);
    } else {
      fail(ERR_INVAL, `unknown value type ${hex(valtype)}`);
    }
    if (mutable !== 0 && mutable !== 1) fail(ERR_INVAL, `mutable must be 0 or 1, not ${mutable}`);
    this.checkRange(outGlobal, 4);
    // An immutable global is imported as its plain value (a Number or a
    // BigInt), which the JS API accepts for an immutable global import: no
    // WebAssembly.Global, with its own backing store, per global (libdl
    // makes two per library loaded, __memory_base and __table_base). Only a
    // mutable global needs the object, to be shared.
    const ext =
      mutable === 1
        ? { kind: 'global', type: globalType(type, true), value: new WebAssembly.Global({ value: type, mutable: true }, initial) }
        : { kind: 'global', type: globalType(type, false), value: initial };
    const handle = this.globals.insert(ext);
    if (handle === null) fail(ERR_NOMEM, 'out of global handles');
    this.writeU32(outGlobal, handle);
  }

  /** `global_set(global, value) -> err`. `value` is a BigInt. */
  global_set(global, value) {
    const g = this.globals.get(global);
    if (!g) fail(ERR_BADHANDLE, `global handle ${global} is not live`);
    if (!g.type.mutable) fail(ERR_TYPE, `global ${global} is immutable`);
    // Only mutable globals have a WebAssembly.Global (see global_new).
    // i32 globals take the low 32 bits.
    g.value.value = g.type.valtype === 'i32' ? Number(BigInt.asIntN(32, value)) : value;
  }

  /** `global_free(global) -> err`. Instances that imported it keep it. */
  global_free(global) {
    if (!this.globals.remove(global)) fail(ERR_BADHANDLE, `global handle ${global} is not live`);
  }

  // -------------------------------------------------------------------------
  // Registering the modules and instances the bootstrap made
  // -------------------------------------------------------------------------

  /** Gives a module a handle, as if `module_compile` had made it. */
  registerModule(module, bytes, info) {
    return this.modules.insert({ module, bytes, info });
  }

  /** Gives an instance a handle, as if `instance_new` had made it. */
  registerInstance(instance, info) {
    return this.instances.insert({ exports: new InstanceExports(instance, info) });
  }
}

/**
 * An instance's exports as externs, in export-section order (the order of
 * `WebAssembly.Module.exports` and of the binary): IMPORT_EXPORT and
 * `export_*` name an export by its position in this list.
 */
class InstanceExports {
  constructor(instance, info) {
    this.instance = instance;
    this.list = info.exports;
    this.cache = null; // export index -> extern, made on first use
  }
  get length() {
    return this.list.length;
  }
  at(i) {
    let ext = this.cache?.get(i);
    if (!ext) {
      const e = this.list.at(i);
      if (!e) return undefined;
      ext = { kind: e.kind, type: e.type, value: this.instance.exports[e.name] };
      (this.cache ??= new Map()).set(i, ext);
    }
    return ext;
  }
}

/**
 * Checks that `ext` can satisfy `imp`: same kind, and for functions,
 * globals and exception tags the same type. Memory and table limits are left
 * to the engine (ERR_INSTANTIATE), as in the wasmtime shim.
 */
function checkImportType(imp, ext) {
  if (imp.kind === 'function' && ext.kind === 'function') {
    if (!sameFuncType(ext.type, imp.type)) {
      fail(ERR_LINK, `function type ${funcTypeName(ext.type)} does not match the import's ${funcTypeName(imp.type)}`);
    }
  } else if (imp.kind === 'global' && ext.kind === 'global') {
    if (ext.type.valtype !== imp.type.valtype || ext.type.mutable !== imp.type.mutable) {
      fail(ERR_LINK, `global type ${globalTypeName(ext.type)} does not match the import's ${globalTypeName(imp.type)}`);
    }
  } else if (imp.kind === 'tag' && ext.kind === 'tag') {
    // Tags (setjmp/longjmp's __c_longjmp, C++'s __cpp_exception) are shared
    // between modules through IMPORT_EXPORT; their signatures must match.
    if (!sameFuncType(ext.type, imp.type)) {
      fail(ERR_LINK, `tag type ${funcTypeName(ext.type)} does not match the import's ${funcTypeName(imp.type)}`);
    }
  } else if (!((imp.kind === 'memory' || imp.kind === 'table') && imp.kind === ext.kind)) {
    fail(ERR_LINK, `the import is a ${imp.kind}, the descriptor gives a ${ext.kind}`);
  }
}

// ---------------------------------------------------------------------------
// Starting a process (SPEC.md, "Starting a process")
// ---------------------------------------------------------------------------

/** Why a process did not produce an exit status of its own. */
export class ProcessFailure extends Error {
  /** kind: 'fatal' (EXIT_FATAL) or 'trap' (EXIT_TRAP); cause: the error, if any. */
  constructor(kind, message, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.kind = kind;
  }
  get exitCode() {
    return this.kind === 'trap' ? EXIT_TRAP : EXIT_FATAL;
  }
}

const fatal = (message, cause) => new ProcessFailure('fatal', message, cause);

const alignUp = (value, alignLog2) => Math.ceil(value / 2 ** alignLog2) * 2 ** alignLog2;

/**
 * Runs a program with libdl.so. Returns the program's exit status (from
 * `proc_exit`, or 0 when `_start` returns); throws a ProcessFailure if the
 * process cannot start (`kind: 'fatal'`) or the program traps (`'trap'`).
 *
 * options:
 *   libdl, program   the binaries (Uint8Array or ArrayBuffer)
 *   wasi             a WASI preview 1 implementation with the interface of
 *                    Node's `WASI` (`wasiImport`, `start(instance)`), whose
 *                    `proc_exit` makes `start` return the status
 *   stackSize        bytes of stack for libdl and side modules
 *   libdlName, programName   for messages
 *
 * Compilation is synchronous (`new WebAssembly.Module`), because the guest's
 * `module_compile` must be: browsers allow that for large modules only off
 * the main thread, so run this in a Worker there.
 */
export function runProcess({
  libdl: libdlBytes,
  program: programBytes,
  wasi,
  stackSize = DEFAULT_STACK_SIZE,
  libdlName = 'libdl.so',
  programName = 'the program',
}) {
  libdlBytes = new Uint8Array(libdlBytes);
  programBytes = new Uint8Array(programBytes);

  // 1. Compile both, and read libdl.so's memory and table needs.
  const compile = (bytes, name) => {
    try {
      return { module: new WebAssembly.Module(bytes), info: readModuleInfo(bytes) };
    } catch (e) {
      throw fatal(`cannot compile ${name}: ${e.message}`, e);
    }
  };
  const libdl = compile(libdlBytes, libdlName);
  let mem;
  try {
    mem = parseDylinkMemInfo(libdlBytes);
  } catch (e) {
    throw fatal(`${libdlName}: ${e.message}`, e);
  }
  const program = compile(programBytes, programName);

  // 2. Memory and table as the program declares them.
  const find = (name, kind) =>
    program.info.imports.find((i) => i.module === 'env' && i.name === name && i.kind === kind);
  const memoryImport = find('memory', 'memory');
  const tableImport = find('__indirect_function_table', 'table');
  if (!memoryImport) throw fatal(`${programName}: the program does not import \`env.memory\` (link it with --import-memory)`);
  if (!tableImport) throw fatal(`${programName}: the program does not import \`env.__indirect_function_table\` (link it with --import-table)`);
  if (memoryImport.type.is64 || memoryImport.type.shared) {
    throw fatal(`${programName}: the program's memory must be a 32-bit unshared memory`);
  }
  if (tableImport.type.is64 || tableImport.type.element !== 'ref null 112') {
    throw fatal(`${programName}: the program's table must be a 32-bit funcref table`);
  }
  let memory;
  let table;
  try {
    const { min, max } = memoryImport.type;
    memory = new WebAssembly.Memory(max === null ? { initial: Number(min) } : { initial: Number(min), maximum: Number(max) });
    table = new WebAssembly.Table({ element: 'anyfunc', initial: Number(tableImport.type.min) });
  } catch (e) {
    throw fatal(`cannot create the process memory and table: ${e.message}`, e);
  }
  const stackPointer = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
  const host = new Host({ memory, table, stackPointer, wasiImport: wasi.wasiImport });

  // 3. libdl's region: its stack (16-byte aligned), then its data; its table slots.
  const stackBottom = memory.buffer.byteLength;
  const stackTop = stackBottom + alignUp(stackSize, 4);
  const memoryBase = alignUp(stackTop, mem.memoryAlign);
  const end = memoryBase + mem.memorySize;
  if (end > 2 ** 32) throw fatal("libdl's stack and data do not fit in a 4 GiB memory");
  const pages = Math.ceil(end / PAGE_SIZE) - stackBottom / PAGE_SIZE;
  try {
    memory.grow(pages);
  } catch (e) {
    throw fatal(`cannot grow memory by ${pages} pages for libdl's stack and data: ${e.message}`, e);
  }
  const tableBase = alignUp(table.length, mem.tableAlign);
  const slots = tableBase + mem.tableSize - table.length;
  try {
    table.grow(slots);
  } catch (e) {
    throw fatal(`cannot grow the table by ${slots} for libdl: ${e.message}`, e);
  }
  stackPointer.value = stackTop | 0;

  // Steps 4 to 7 run inside `wasi.start`, which first binds WASI to the
  // process memory and turns `proc_exit` into its return value.
  const body = () => {
    // 4. libdl.so, then its relocations and constructors.
    const constant = (v) => new WebAssembly.Global({ value: 'i32', mutable: false }, v | 0);
    const env = {
      memory,
      __indirect_function_table: table,
      __stack_pointer: stackPointer,
      __memory_base: constant(memoryBase),
      __table_base: constant(tableBase),
    };
    const libdlImports = Object.create(null);
    for (const imp of libdl.info.imports) {
      let value;
      if (imp.module === 'env' && Object.hasOwn(env, imp.name)) {
        value = env[imp.name];
      } else if (imp.module === WASI_MODULE || imp.module === ABI_MODULE) {
        const ext = host.hostDefinition(imp.module, imp.name);
        if (!ext) throw fatal(`${libdlName} imports \`${imp.module}.${imp.name}\`, which this runtime does not provide`);
        try {
          checkImportType(imp, ext);
        } catch (e) {
          throw fatal(`cannot instantiate ${libdlName}: \`${imp.module}.${imp.name}\`: ${e.message}`);
        }
        value = ext.value;
      } else {
        throw fatal(
          `${libdlName} imports \`${imp.module}.${imp.name}\`; it may import only env.memory, ` +
            'env.__indirect_function_table, env.__stack_pointer, env.__memory_base, env.__table_base, ' +
            `WASI preview 1 and ${ABI_MODULE}`,
        );
      }
      (libdlImports[imp.module] ??= Object.create(null))[imp.name] = value;
    }
    const libdlInstance = instantiate(host, libdl.module, libdlImports, `cannot instantiate ${libdlName}`);
    for (const name of ['__wasm_apply_data_relocs', '__wasm_call_ctors']) {
      const fn = libdlInstance.exports[name];
      if (fn === undefined) continue;
      guard(host, () => fn(), (e) => fatal(`${libdlName}'s ${name} failed: ${e}`, e));
    }

    // A PIE program (it has dylink.0): libdl places it, loads its NEEDED
    // tree (libc.so, ...), binds and initialises everything, and runs it
    // ("Starting a PIE program" in the spec).
    let pie = true;
    try {
      parseDylinkMemInfo(programBytes);
    } catch {
      pie = false;
    }
    if (pie) {
      const libdlModuleH = host.registerModule(libdl.module, libdlBytes, libdl.info);
      const libdlInstanceH = host.registerInstance(libdlInstance, libdl.info);
      const programH = host.registerModule(program.module, programBytes, program.info);
      const run = libdl.info.exports.find((e) => e.name === '__wasmdl_run');
      if (!run || run.kind !== 'function' || !sameFuncType(run.type, funcType('iii:i'))) {
        throw fatal(`${libdlName} cannot start PIE programs (no __wasmdl_run of type (i32, i32, i32) -> (i32))`);
      }
      const status = guard(
        host,
        () => libdlInstance.exports.__wasmdl_run(libdlModuleH, libdlInstanceH, programH),
        (e) => new ProcessFailure('trap', `${e}`, e),
      );
      // libdl has written its reason to stderr already.
      if (status < 0) throw fatal(`${libdlName} could not start ${programName}`);
      return;
    }

    // 5. The program, bound to libdl's exports.
    const programImports = Object.create(null);
    for (const imp of program.info.imports) {
      let value;
      if (imp.module === 'env' && imp.name === 'memory') value = memory;
      else if (imp.module === 'env' && imp.name === '__indirect_function_table') value = table;
      else if (imp.module === WASI_MODULE) {
        const ext = host.hostDefinition(imp.module, imp.name);
        if (!ext) throw fatal(`the program imports \`${imp.module}.${imp.name}\`, which this runtime does not provide`);
        try {
          checkImportType(imp, ext);
        } catch (e) {
          throw fatal(`cannot instantiate the program: \`${imp.module}.${imp.name}\`: ${e.message}`);
        }
        value = ext.value;
      } else if (imp.module === 'libdl.so') {
        value = libdlInstance.exports[imp.name];
        if (value === undefined) {
          throw fatal(`the program imports \`libdl.so.${imp.name}\`, which ${libdlName} does not export`);
        }
      } else {
        throw fatal(`the program imports \`${imp.module}.${imp.name}\`, which is not provided to programs`);
      }
      (programImports[imp.module] ??= Object.create(null))[imp.name] = value;
    }
    const mainInstance = instantiate(host, program.module, programImports, 'cannot instantiate the program');

    // 6. Handles for both, and libdl's own initialisation.
    const libdlModuleH = host.registerModule(libdl.module, libdlBytes, libdl.info);
    const libdlInstanceH = host.registerInstance(libdlInstance, libdl.info);
    const mainModuleH = host.registerModule(program.module, programBytes, program.info);
    const mainInstanceH = host.registerInstance(mainInstance, program.info);
    const init = libdl.info.exports.find((e) => e.name === '__wasmdl_init');
    if (init) {
      if (init.kind !== 'function' || !sameFuncType(init.type, funcType('iiii:i'))) {
        throw fatal(`${libdlName}'s __wasmdl_init has the wrong type (want (i32, i32, i32, i32) -> (i32))`);
      }
      const code = guard(
        host,
        () => libdlInstance.exports.__wasmdl_init(libdlModuleH, libdlInstanceH, mainModuleH, mainInstanceH),
        (e) => fatal(`${libdlName}'s __wasmdl_init failed: ${e}`, e),
      );
      // libdl has written its reason to stderr already.
      if (code !== 0) throw fatal(`${libdlName} failed to initialise (__wasmdl_init returned ${code})`);
    }

    // 7. The program.
    const start = program.info.exports.find((e) => e.name === '_start');
    if (!start || start.kind !== 'function' || !sameFuncType(start.type, funcType(':'))) {
      throw fatal(`${programName}: no \`_start\` of type () -> ()`);
    }
    guard(host, () => mainInstance.exports._start(), (e) => new ProcessFailure('trap', `${e}`, e));
  };

  // The WASI object stays referenced from this module while the program
  // runs, not only from stack frames: node:wasi frees its native state when
  // the object is collected (see wasmdl-run.mjs).
  runningWasi.add(wasi);
  try {
    return wasi.start({ exports: { memory, _start: body } }) ?? 0;
  } catch (e) {
    if (e instanceof ProcessFailure) throw e;
    // Anything else escaping `start` is a bug of the WASI implementation or
    // of this shim; report it as a failure to start.
    throw fatal(`${e}`, e);
  } finally {
    runningWasi.delete(wasi);
  }
}

/** The WASI objects of the processes running now (runProcess). */
const runningWasi = new Set();

/**
 * Runs guest code: `proc_exit`'s unwinding passes through untouched; any
 * other exception (a trap, a stack overflow) becomes `failure(e)`.
 */
function guard(host, fn, failure) {
  try {
    return fn();
  } catch (e) {
    if (host.exiting || e instanceof ProcessFailure) throw e;
    throw failure(e);
  }
}

/** `new WebAssembly.Instance` for the bootstrap: a failure is fatal. */
function instantiate(host, module, imports, what) {
  return guard(host, () => new WebAssembly.Instance(module, imports), (e) => fatal(`${what}: ${e.message}`, e));
}
