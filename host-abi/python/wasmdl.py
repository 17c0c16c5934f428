"""The wasmdl host ABI, version 0, for Python on wasmtime-py.

This file is a shim written from `host-abi/SPEC.md` (import module
`wasmdl_host_v0`) on the `wasmtime` package from PyPI (wasmtime-py, the
wasmtime C API underneath), with the spec's "Starting a process" bootstrap.
The ABI functions appear below in the spec's order. The runner is
`wasmdl_run.py`, with the command line of `wasmdl-run`.

How the pieces fit:

* One `wasmtime.Store` holds everything: the process memory, the process
  function table, `__stack_pointer`, `libdl.so`, the program and every side
  module. Its WASI preview 1 context (`Store.set_wasi`) is the one every
  module shares, so they share one fd table.
* WASI is wasmtime's own (`Linker.define_wasi`), reached through a small
  generated adapter module: wasmtime's WASI finds the guest's memory through
  the export named `memory` of the instance that called it, and libdl.so and
  side modules export none (SPEC.md, "WASI through IMPORT_HOST works on the
  process memory"). The adapter imports the process memory and re-exports
  it, and exports one forwarding function per WASI function; every WASI
  import (libdl's, the program's, IMPORT_HOST's) is bound to those.
* `table_clear` goes through another generated helper whose one function is
  `table.fill`: the C API has no bulk table operation, and setting a million
  slots one Python call at a time would take seconds.
* Imports are bound by position (`Instance(store, module, externs)`), as in
  the Rust shim. An instance's exports are read one at a time by index from
  the C API (`wasmtime_instance_export_nth`) when an ABI call names them, not
  all at instantiation: a library with 20,000 exports gets one or two of them
  used by libdl.
* The ABI functions never raise into the guest. Each one validates its
  arguments (pointer ranges, live handles, indices) before it has any effect,
  and on failure returns the spec's error code and records a message for
  `last_error`. The one exception that does pass through is `proc_exit`
  called from a start function during `instance_new` (`ExitTrap`): it ends the
  process, as on the other runtimes.
* Handles come from counters that only go up, starting at 1, so a freed
  handle is never issued again and stays ERR_BADHANDLE forever.
* Compiled modules are kept by the SHA-256 of their bytes for the life of the
  process, and optionally in a directory across runs (`ModuleCache`).

Limits of this engine, as the spec asks shims to document:

* `instance_free`, `module_free` and `global_free` only drop the handle.
  wasmtime cannot free an instance before its store dies, so a freed
  instance's own state stays allocated until the process ends.
* A store admits at most MAX_INSTANCES instances over its life; past that,
  `instance_new` gives ERR_INSTANTIATE. The process table is capped at
  MAX_TABLE_ELEMENTS entries (ERR_NOMEM beyond), as in the Rust shim.
* Types are compared as the C API reports them: value types by kind, so two
  different typed function references compare equal here and are left to the
  engine, which checks them at instantiation (ERR_INSTANTIATE).
"""

import ctypes
import hashlib
import os
import struct
import sys
import tempfile
import zlib

import wasmtime
from wasmtime import (
    Config, Engine, ExitTrap, Func, FuncType, Global, GlobalType, Instance, Limits, Linker,
    Memory, MemoryType, Module, Store, Table, TableType, Tag, TagType, Trap, ValType, WasiConfig,
    WasmtimeError,
)
from wasmtime import _ffi as ffi  # the C API, for what wasmtime-py does not wrap
from wasmtime._extern import wrap_extern

# ---------------------------------------------------------------------------
# Constants of the spec
# ---------------------------------------------------------------------------

ABI_MODULE = "wasmdl_host_v0"
WASI_MODULE = "wasi_snapshot_preview1"

# Error codes (SPEC.md, "Error codes").
OK = 0
ERR_BADHANDLE = 1
ERR_FAULT = 2
ERR_INVAL = 3
ERR_COMPILE = 4
ERR_LINK = 5
ERR_INSTANTIATE = 6
ERR_NOMEM = 7
ERR_RANGE = 8
ERR_TYPE = 9

# Import descriptor kinds (SPEC.md, `instance_new`).
IMPORT_MEMORY = 1
IMPORT_TABLE = 2
IMPORT_STACK_POINTER = 3
IMPORT_GLOBAL = 4
IMPORT_EXPORT = 5
IMPORT_HOST = 6

DESCRIPTOR_SIZE = 12  # three u32

VALTYPE_I32 = 0x7F
VALTYPE_I64 = 0x7E

EXIT_FATAL = 127  # the process cannot be started
EXIT_TRAP = 134  # after a trap, as `wasmtime run` (128 + SIGABRT)

DEFAULT_STACK_SIZE = 1 << 20
MAX_INSTANCES = 1_000_000
MAX_TABLE_ELEMENTS = 1 << 24
U32 = 0xFFFFFFFF

# The ABI functions' types ('i' = i32, 'I' = i64; params:results), in the
# spec's order.
ABI_TYPES = {
    "last_error": "ii:i",
    "module_compile": "iii:i",
    "module_bytes": "iiii:i",
    "module_free": "i:i",
    "instance_new": "iiii:i",
    "instance_free": "i:i",
    "export_global_get": "iii:i",
    "export_to_table": "iii:i",
    "table_grow": "ii:i",
    "table_clear": "ii:i",
    "global_new": "iiIi:i",
    "global_set": "iI:i",
    "global_free": "i:i",
}

# WASI preview 1 (wasi_snapshot_preview1.witx), every function. The adapter
# forwards those the engine defines.
WASI_TYPES = {
    "args_get": "ii:i", "args_sizes_get": "ii:i", "environ_get": "ii:i",
    "environ_sizes_get": "ii:i", "clock_res_get": "ii:i", "clock_time_get": "iIi:i",
    "fd_advise": "iIIi:i", "fd_allocate": "iII:i", "fd_close": "i:i", "fd_datasync": "i:i",
    "fd_fdstat_get": "ii:i", "fd_fdstat_set_flags": "ii:i", "fd_fdstat_set_rights": "iII:i",
    "fd_filestat_get": "ii:i", "fd_filestat_set_size": "iI:i",
    "fd_filestat_set_times": "iIIi:i", "fd_pread": "iiiIi:i", "fd_prestat_get": "ii:i",
    "fd_prestat_dir_name": "iii:i", "fd_pwrite": "iiiIi:i", "fd_read": "iiii:i",
    "fd_readdir": "iiiIi:i", "fd_renumber": "ii:i", "fd_seek": "iIii:i", "fd_sync": "i:i",
    "fd_tell": "ii:i", "fd_write": "iiii:i", "path_create_directory": "iii:i",
    "path_filestat_get": "iiiii:i", "path_filestat_set_times": "iiiiIIi:i",
    "path_link": "iiiiiii:i", "path_open": "iiiiiIIii:i", "path_readlink": "iiiiii:i",
    "path_remove_directory": "iii:i", "path_rename": "iiiiii:i", "path_symlink": "iiiii:i",
    "path_unlink_file": "iii:i", "poll_oneoff": "iiii:i", "proc_exit": "i:",
    "proc_raise": "i:i", "sched_yield": ":i", "random_get": "ii:i", "sock_accept": "iii:i",
    "sock_recv": "iiiiii:i", "sock_send": "iiiii:i", "sock_shutdown": "ii:i",
}


def short_func_type(short):
    """'iiIi:i' -> FuncType([i32, i32, i64, i32], [i32])."""
    params, results = short.split(":")
    t = lambda c: ValType.i64() if c == "I" else ValType.i32()
    return FuncType([t(c) for c in params], [t(c) for c in results])


def short_key(short):
    """'iiIi:i' -> the type key of such a function (see `type_key`)."""
    params, results = short.split(":")
    t = lambda c: "i64" if c == "I" else "i32"
    return ("function", tuple(t(c) for c in params), tuple(t(c) for c in results))


# ---------------------------------------------------------------------------
# Types as comparable keys
# ---------------------------------------------------------------------------
#
# An extern's or import's type as a tuple: ("function", params, results),
# ("global", valtype, mutable), ("tag", params, results), ("memory",),
# ("table",). Memory and table limits are left to the engine, as in the
# other shims.

def type_key(ty):
    if isinstance(ty, FuncType):
        return ("function", tuple(map(str, ty.params)), tuple(map(str, ty.results)))
    if isinstance(ty, GlobalType):
        return ("global", str(ty.content), bool(ty.mutable))
    if isinstance(ty, TagType):
        f = ty.functype
        return ("tag", tuple(map(str, f.params)), tuple(map(str, f.results)))
    if isinstance(ty, MemoryType):
        return ("memory",)
    if isinstance(ty, TableType):
        return ("table",)
    raise WasmtimeError("unknown extern type")


def extern_key(store, ext):
    if isinstance(ext, (Func, Global, Tag, Memory, Table)):
        return type_key(ext.type(store))
    raise WasmtimeError("unknown extern")


def key_name(key):
    kind = key[0]
    if kind in ("function", "tag"):
        return "(%s) -> (%s)" % (", ".join(key[1]), ", ".join(key[2]))
    if kind == "global":
        return ("mut " if key[2] else "") + key[1]
    return kind


# ---------------------------------------------------------------------------
# Modules: compiling bytes (never WAT text), and what the shim keeps of them
# ---------------------------------------------------------------------------

def compile_binary(engine, data):
    """Compiles a wasm binary. Not `Module(engine, data)`, which would take
    bytes that do not start with a NUL as WAT text and translate them."""
    buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    ptr = ctypes.POINTER(ffi.wasmtime_module_t)()
    error = ffi.wasmtime_module_new(engine.ptr(), buf, len(data), ctypes.byref(ptr))
    if error:
        raise WasmtimeError._from_ptr(error)
    return Module._from_ptr(ptr)


class ModuleInfo:
    """What the shim needs of a compiled module: its imports in order, as
    (module, name, type key), and its export count (read when needed)."""

    def __init__(self, module):
        self.module = module
        self.imports = [(i.module, i.name or "", type_key(i.type)) for i in module.imports]
        self._export_count = None

    @property
    def export_count(self):
        if self._export_count is None:
            self._export_count = len(self.module.exports)
        return self._export_count


class ModuleCache:
    """Compiled modules (SPEC.md, "Caching compiled modules").

    In the process: by the SHA-256 of the bytes; the same bytes never compile
    twice. Across runs, if `directory` is given: `DIR/<SHA-256>-<settings>.cwasm`,
    holding `Module.serialize`'s output and a trailer (payload length u64 LE,
    CRC-32 u32 LE, 4 zero bytes, magic), checked before `Module.deserialize`
    gets it; an entry that fails a check is ignored and rewritten. Entries are
    written to a unique temporary file and renamed into place. `settings`
    hashes the wasmtime-py version, the machine and the engine settings
    (wasmtime also refuses an artifact of another version or configuration
    itself)."""

    MAGIC = b"WASMDLP1"
    TRAILER = struct.Struct("<QI4x8s")

    def __init__(self, directory=None, settings=""):
        self.directory = directory
        self.settings = hashlib.sha256(
            ("%s %s %s %s" % (getattr(wasmtime, "__version__", "?"), sys.platform,
                              os.uname().machine, settings)).encode()).hexdigest()[:16]
        self.modules = {}
        self.stats = dict(compiles=0, memory_hits=0, disk_hits=0, rejected=0, written=0)

    def get(self, engine, data):
        """(Module, ModuleInfo) for `data`; raises WasmtimeError if it does
        not compile."""
        key = hashlib.sha256(data).digest()
        hit = self.modules.get(key)
        if hit is not None:
            self.stats["memory_hits"] += 1
            return hit
        path = None
        module = None
        if self.directory:
            path = os.path.join(self.directory, "%s-%s.cwasm" % (key.hex(), self.settings))
            module = self._read(engine, path)
            if module is not None:
                self.stats["disk_hits"] += 1
        if module is None:
            module = compile_binary(engine, data)
            self.stats["compiles"] += 1
            if path is not None:
                self._write(path, module)
        entry = (module, ModuleInfo(module))
        self.modules[key] = entry
        return entry

    def _read(self, engine, path):
        try:
            with open(path, "rb") as f:
                entry = f.read()
        except OSError:
            return None
        t = self.TRAILER
        try:
            if len(entry) < t.size:
                raise ValueError("short entry")
            length, crc, magic = t.unpack_from(entry, len(entry) - t.size)
            payload = entry[:-t.size]
            if magic != self.MAGIC or length != len(payload) or zlib.crc32(payload) != crc:
                raise ValueError("damaged entry")
            return Module.deserialize(engine, payload)
        except (ValueError, WasmtimeError):
            self.stats["rejected"] += 1
            return None

    def _write(self, path, module):
        # A cache that cannot be written only costs the next run a compile.
        tmp = None
        try:
            payload = bytes(module.serialize())
            os.makedirs(self.directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.write(self.TRAILER.pack(len(payload), zlib.crc32(payload), self.MAGIC))
            os.replace(tmp, path)
            tmp = None
            self.stats["written"] += 1
        except (OSError, WasmtimeError):
            pass
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


# ---------------------------------------------------------------------------
# Host state
# ---------------------------------------------------------------------------

class Handles:
    """A handle table: handles come from a counter that only goes up, so a
    freed handle is never reissued; 0 is never issued."""

    def __init__(self):
        self.next = 1
        self.live = {}

    def insert(self, value):
        """The new handle, or None once 2^32 - 1 handles have been issued."""
        if self.next > U32:
            return None
        handle = self.next
        self.next += 1
        self.live[handle] = value
        return handle

    def get(self, handle):
        return self.live.get(handle)

    def remove(self, handle):
        return self.live.pop(handle, None)


class LoadedModule:
    def __init__(self, module, data, info):
        self.module = module
        self.bytes = data  # the original binary, for module_bytes
        self.info = info


class LiveInstance:
    """An instance and its exports in export-section order, read by index
    when first named, as (extern, type key)."""

    def __init__(self, instance, info):
        self.instance = instance
        self.info = info
        self.exports = {}

    def export(self, store, index):
        """Export number `index`, or None out of range."""
        hit = self.exports.get(index)
        if hit is None:
            item = ffi.wasmtime_extern_t()
            name = ctypes.POINTER(ctypes.c_char)()
            name_len = ctypes.c_size_t(0)
            if not ffi.wasmtime_instance_export_nth(
                    store._context(), ctypes.byref(self.instance._instance), index,
                    ctypes.byref(name), ctypes.byref(name_len), ctypes.byref(item)):
                return None
            ext = wrap_extern(item)
            hit = (ext, extern_key(store, ext))
            self.exports[index] = hit
        return hit


class Fail(Exception):
    """Why an ABI call failed: an error code and the message for last_error."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def export_by_name(store, instance, name):
    """An instance's export by name, or None (without reading every export)."""
    raw = name.encode()
    item = ffi.wasmtime_extern_t()
    if ffi.wasmtime_instance_export_get(store._context(), ctypes.byref(instance._instance),
                                        ctypes.create_string_buffer(raw), len(raw),
                                        ctypes.byref(item)):
        return wrap_extern(item)
    return None


class Host:
    """The ABI's state for one process: the store, the shared memory, table
    and `__stack_pointer`, the shim's own definitions (WASI through the
    adapter, and this ABI), and the handle tables."""

    def __init__(self, engine, store, memory, table, stack_pointer, cache):
        self.engine = engine
        self.store = store
        self.memory = memory
        self.table = table
        self.stack_pointer = stack_pointer
        self.cache = cache
        self.modules = Handles()
        self.instances = Handles()
        self.globals = Handles()  # Global
        self.last_error_message = ""
        # (module, name) -> (extern, type key): IMPORT_HOST's definitions.
        self.host = {}
        for name, short in ABI_TYPES.items():
            fn = Func(store, short_func_type(short), self._abi_entry(name), access_caller=True)
            self.host[(ABI_MODULE, name)] = (fn, short_key(short))
        self._add_wasi()
        self._table_fill = self._make_table_filler()

    # -- the shim's helpers: the WASI adapter and the table filler ----------

    def _add_wasi(self):
        """Instantiates the WASI adapter (see the top of this file) and
        records its functions as the shim's WASI definitions."""
        linker = Linker(self.engine)
        linker.define_wasi()
        funcs = []
        for name, short in WASI_TYPES.items():
            try:
                funcs.append((name, linker.get(self.store, WASI_MODULE, name)))
            except WasmtimeError:
                continue  # not provided by this engine
        imports, forwarders = [], []
        for i, (name, fn) in enumerate(funcs):
            ty = fn.type(self.store)
            sig = "(param %s) (result %s)" % (" ".join(map(str, ty.params)),
                                             " ".join(map(str, ty.results)))
            args = "".join("(local.get %d)" % p for p in range(len(ty.params)))
            imports.append('(import "%s" "%s" (func $f%d %s))' % (WASI_MODULE, name, i, sig))
            forwarders.append('(func (export "%s") %s (call $f%d %s))' % (name, sig, i, args))
        text = '(module (import "env" "memory" (memory 0)) %s (export "memory" (memory 0)) %s)' % (
            "\n".join(imports), "\n".join(forwarders))
        adapter = Instance(self.store, Module(self.engine, text),
                           [self.memory] + [fn for _, fn in funcs])
        exports = adapter.exports(self.store)
        for name, _ in funcs:
            fn = exports[name]
            self.host[(WASI_MODULE, name)] = (fn, extern_key(self.store, fn))

    def _make_table_filler(self):
        text = ('(module (import "env" "table" (table 0 funcref))'
                ' (func (export "clear") (param i32 i32)'
                ' (table.fill 0 (local.get 0) (ref.null func) (local.get 1))))')
        filler = Instance(self.store, Module(self.engine, text), [self.table])
        return filler.exports(self.store)["clear"]

    def host_definition(self, module, name):
        """The shim's own definition of an import (IMPORT_HOST): WASI preview 1
        and this ABI, and nothing else. None if there is none."""
        return self.host.get((module, name))

    # -- guest memory access: every range checked ------------------------------
    #
    # Arguments arrive as Python ints holding signed i32 values; `& U32` makes
    # them the u32 the spec means. Python integers do not overflow.

    def check_range(self, store, ptr, length):
        if ptr + length > self.memory.data_len(store):
            raise Fail(ERR_FAULT, "range %#x+%#x is outside memory" % (ptr, length))

    def _base(self, store):
        return ctypes.cast(self.memory.data_ptr(store), ctypes.c_void_p).value or 0

    def read_guest(self, store, ptr, length):
        self.check_range(store, ptr, length)
        return ctypes.string_at(self._base(store) + ptr, length) if length else b""

    def write_guest(self, store, ptr, data):
        self.check_range(store, ptr, len(data))
        if data:
            ctypes.memmove(self._base(store) + ptr, bytes(data), len(data))

    def write_u32(self, store, ptr, value):
        self.write_guest(store, ptr, struct.pack("<I", value))

    # -- the ABI functions, in the spec's order --------------------------------

    def _abi_entry(self, name):
        """The host function for ABI function `name`: turns the guest's
        integers into u32 (i64 values stay signed), runs the method, and turns
        its outcome into the error code, recording the message."""
        method = getattr(self, name)
        i64_at = [i for i, c in enumerate(ABI_TYPES[name].split(":")[0]) if c == "I"]

        def convert(args):
            return [a if i in i64_at else a & U32 for i, a in enumerate(args)]

        if name == "last_error":  # returns a length, not a code
            return lambda caller, *args: method(caller, *convert(args))

        def entry(caller, *args):
            try:
                method(caller, *convert(args))
                return OK
            except Fail as f:
                self.last_error_message = f.message
                return f.code
            except ExitTrap:
                raise  # `proc_exit` in a start function: end the process
            except MemoryError as e:
                self.last_error_message = "%s: out of host memory: %s" % (name, e)
                return ERR_NOMEM
            except Exception as e:  # the engine refused something, or a bug here
                self.last_error_message = "%s: %s" % (name, e)
                return ERR_INVAL
        return entry

    def last_error(self, caller, buf, cap):
        """`last_error(buf, cap) -> len`. Never fails: a bad range copies nothing."""
        message = self.last_error_message.encode("utf-8")
        n = min(len(message), cap)
        try:
            self.write_guest(caller, buf, message[:n])
        except Fail:
            pass
        return len(message)

    def module_compile(self, caller, data, length, out_module):
        binary = self.read_guest(caller, data, length)
        self.check_range(caller, out_module, 4)
        try:
            module, info = self.cache.get(self.engine, binary)
        except WasmtimeError as e:
            raise Fail(ERR_COMPILE, str(e))
        handle = self.modules.insert(LoadedModule(module, binary, info))
        if handle is None:
            raise Fail(ERR_NOMEM, "out of module handles")
        self.write_u32(caller, out_module, handle)

    def module_bytes(self, caller, module, buf, cap, out_len):
        loaded = self.modules.get(module)
        if loaded is None:
            raise Fail(ERR_BADHANDLE, "module handle %d is not live" % module)
        length = len(loaded.bytes)
        if length > U32:
            raise Fail(ERR_FAULT, "the module is larger than 4 GiB")
        # Validate both outputs before writing either.
        self.check_range(caller, out_len, 4)
        if cap >= length:
            self.write_guest(caller, buf, loaded.bytes)
        self.write_u32(caller, out_len, length)

    def module_free(self, caller, module):
        if self.modules.remove(module) is None:
            raise Fail(ERR_BADHANDLE, "module handle %d is not live" % module)

    def instance_new(self, caller, module, imports, count, out_instance):
        loaded = self.modules.get(module)
        if loaded is None:
            raise Fail(ERR_BADHANDLE, "module handle %d is not live" % module)
        wanted = loaded.info.imports
        # The count first: it is cheap, and it bounds the copy below.
        if count != len(wanted):
            raise Fail(ERR_INVAL, "%d import descriptors given, the module has %d imports"
                       % (count, len(wanted)))
        descriptors = self.read_guest(caller, imports, count * DESCRIPTOR_SIZE)
        self.check_range(caller, out_instance, 4)

        # Resolve every descriptor and check it against its import before the
        # engine sees anything.
        externs = []
        for i, (imp_module, imp_name, imp_key) in enumerate(wanted):
            kind, a, b = struct.unpack_from("<III", descriptors, i * DESCRIPTOR_SIZE)
            try:
                ext, key = self._resolve_descriptor(caller, imp_module, imp_name, imp_key,
                                                    kind, a, b)
                check_import_type(imp_key, key)
            except Fail as f:
                raise Fail(f.code, "import %d (`%s.%s`): %s" % (i, imp_module, imp_name, f.message))
            externs.append(ext)

        try:
            instance = Instance(caller, loaded.module, externs)
        except ExitTrap:
            raise  # `proc_exit` in the start function
        except (WasmtimeError, Trap) as e:
            raise Fail(ERR_INSTANTIATE, str(e))
        handle = self.instances.insert(LiveInstance(instance, loaded.info))
        if handle is None:
            raise Fail(ERR_NOMEM, "out of instance handles")
        self.write_u32(caller, out_instance, handle)

    def _resolve_descriptor(self, caller, imp_module, imp_name, imp_key, kind, a, b):
        """What one import descriptor names, as (extern, type key), checked
        against the import's kind."""
        imp_kind = imp_key[0]

        def unused_zero(fields_used):
            if (a, b)[fields_used:] != (0, 0)[fields_used:]:
                raise Fail(ERR_INVAL, "unused descriptor fields must be zero")

        def expect(want):
            if imp_kind != want:
                raise Fail(ERR_LINK, "the import is a %s, the descriptor gives a %s"
                           % (imp_kind, want))

        if kind == IMPORT_MEMORY:
            unused_zero(0)
            expect("memory")
            return self.memory, ("memory",)
        if kind == IMPORT_TABLE:
            unused_zero(0)
            expect("table")
            return self.table, ("table",)
        if kind == IMPORT_STACK_POINTER:
            unused_zero(0)
            expect("global")
            return self.stack_pointer, ("global", "i32", True)
        if kind == IMPORT_GLOBAL:
            unused_zero(1)
            g = self.globals.get(a)
            if g is None:
                raise Fail(ERR_BADHANDLE, "global handle %d is not live" % a)
            expect("global")
            return g
        if kind == IMPORT_EXPORT:
            return self._export_of(caller, a, b)
        if kind == IMPORT_HOST:
            unused_zero(0)
            definition = self.host_definition(imp_module, imp_name)
            if definition is None:
                raise Fail(ERR_LINK, "the host has no definition for it")
            return definition
        raise Fail(ERR_INVAL, "unknown descriptor kind %d" % kind)

    def instance_free(self, caller, instance):
        if self.instances.remove(instance) is None:
            raise Fail(ERR_BADHANDLE, "instance handle %d is not live" % instance)

    def _export_of(self, caller, instance, index):
        """Export `index` of a live instance (ERR_BADHANDLE, ERR_RANGE)."""
        live = self.instances.get(instance)
        if live is None:
            raise Fail(ERR_BADHANDLE, "instance handle %d is not live" % instance)
        hit = live.export(caller, index)
        if hit is None:
            raise Fail(ERR_RANGE, "export index %d out of range (instance %d has %d exports)"
                       % (index, instance, live.info.export_count))
        return hit

    def export_global_get(self, caller, instance, index, out_value):
        ext, key = self._export_of(caller, instance, index)
        if key[0] != "global":
            raise Fail(ERR_TYPE, "export %d is not a global" % index)
        if key[1] == "i32":
            value = ext.value(caller) & U32  # zero-extended
        elif key[1] == "i64":
            value = ext.value(caller) & 0xFFFFFFFFFFFFFFFF
        else:
            raise Fail(ERR_TYPE, "export %d is a global of type %s, not i32 or i64"
                       % (index, key[1]))
        self.write_guest(caller, out_value, struct.pack("<Q", value))

    def export_to_table(self, caller, instance, index, table_index):
        ext, key = self._export_of(caller, instance, index)
        if key[0] != "function":
            raise Fail(ERR_TYPE, "export %d is not a function" % index)
        size = self.table.size(caller)
        if table_index >= size:
            raise Fail(ERR_RANGE, "table index %d out of range (table size %d)"
                       % (table_index, size))
        try:
            self.table.set(caller, table_index, ext)
        except WasmtimeError as e:
            raise Fail(ERR_TYPE, str(e))

    def table_grow(self, caller, delta, out_old_size):
        self.check_range(caller, out_old_size, 4)
        size = self.table.size(caller)
        if size + delta > MAX_TABLE_ELEMENTS:
            raise Fail(ERR_NOMEM, "cannot grow the table by %d: past its limit of %d entries"
                       % (delta, MAX_TABLE_ELEMENTS))
        try:
            old = self.table.grow(caller, delta, None)  # new entries are null
        except WasmtimeError as e:
            raise Fail(ERR_NOMEM, "cannot grow the table by %d: %s" % (delta, e))
        self.write_u32(caller, out_old_size, old)

    def table_clear(self, caller, index, count):
        size = self.table.size(caller)
        if index + count > size:
            raise Fail(ERR_RANGE, "table range %d+%d out of range (table size %d)"
                       % (index, count, size))
        if count:
            # In range, so table.fill cannot trap. i32 arguments are signed.
            self._table_fill(caller, to_i32(index), to_i32(count))

    def global_new(self, caller, valtype, mutable, value, out_global):
        if valtype == VALTYPE_I32:
            content, initial, name = ValType.i32(), to_i32(value), "i32"  # truncated
        elif valtype == VALTYPE_I64:
            content, initial, name = ValType.i64(), value, "i64"
        else:
            raise Fail(ERR_INVAL, "unknown value type %#x" % valtype)
        if mutable not in (0, 1):
            raise Fail(ERR_INVAL, "mutable must be 0 or 1, not %d" % mutable)
        self.check_range(caller, out_global, 4)
        try:
            g = Global(caller, GlobalType(content, mutable == 1), initial)
        except WasmtimeError as e:
            raise Fail(ERR_NOMEM, str(e))
        handle = self.globals.insert((g, ("global", name, mutable == 1)))
        if handle is None:
            raise Fail(ERR_NOMEM, "out of global handles")
        self.write_u32(caller, out_global, handle)

    def global_set(self, caller, global_, value):
        entry = self.globals.get(global_)
        if entry is None:
            raise Fail(ERR_BADHANDLE, "global handle %d is not live" % global_)
        g, (_, valtype, mutable) = entry
        if not mutable:
            raise Fail(ERR_TYPE, "global %d is immutable" % global_)
        try:
            g.set_value(caller, to_i32(value) if valtype == "i32" else value)  # low 32 bits
        except WasmtimeError as e:
            raise Fail(ERR_TYPE, str(e))

    def global_free(self, caller, global_):
        if self.globals.remove(global_) is None:
            raise Fail(ERR_BADHANDLE, "global handle %d is not live" % global_)

    # -- registering what the bootstrap made -----------------------------------

    def register_module(self, module, data, info):
        """Gives a module a handle, as if `module_compile` had made it."""
        return self.modules.insert(LoadedModule(module, data, info))

    def register_instance(self, instance, info):
        """Gives an instance a handle, as if `instance_new` had made it."""
        return self.instances.insert(LiveInstance(instance, info))


def to_i32(value):
    """The low 32 bits of an integer, as a signed i32."""
    value &= U32
    return value - (1 << 32) if value & 0x80000000 else value


def check_import_type(imp_key, ext_key):
    """`ext` can satisfy the import: same kind, and for functions, globals and
    exception tags the same type. Memory and table limits are the engine's
    to check (ERR_INSTANTIATE)."""
    if imp_key[0] != ext_key[0]:
        raise Fail(ERR_LINK, "the import is a %s, the descriptor gives a %s"
                   % (imp_key[0], ext_key[0]))
    if imp_key != ext_key and imp_key[0] in ("function", "global", "tag"):
        what = "function type" if imp_key[0] == "function" else "%s type" % imp_key[0]
        raise Fail(ERR_LINK, "%s %s does not match the import's %s"
                   % (what, key_name(ext_key), key_name(imp_key)))


# ---------------------------------------------------------------------------
# Starting a process (SPEC.md, "Starting a process")
# ---------------------------------------------------------------------------

class ProcessFailure(Exception):
    """Why a process did not produce an exit status of its own: kind 'fatal'
    (EXIT_FATAL, it could not start) or 'trap' (EXIT_TRAP)."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind

    @property
    def exit_code(self):
        return EXIT_TRAP if self.kind == "trap" else EXIT_FATAL


def fatal(message):
    return ProcessFailure("fatal", message)


def align_up(value, align_log2):
    align = 1 << align_log2
    return (value + align - 1) // align * align


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n > len(self.data) - self.pos:
            raise ValueError("dylink.0: unexpected end of data")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def byte(self):
        return self.take(1)[0]

    def u32(self):
        value = 0
        for i in range(5):
            b = self.byte()
            if i == 4 and (b & 0x7F) > 0x0F:
                raise ValueError("dylink.0: LEB128 value too large")
            value |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                return value
        raise ValueError("dylink.0: LEB128 value too long")


def parse_dylink_mem_info(data):
    """WASM_DYLINK_MEM_INFO of a side module's `dylink.0` section, which must
    be its first section: (memory size, memory align log2, table size, table
    align log2); zeros without that subsection. Raises ValueError."""
    not_side = "not a side module: the first section is not a `dylink.0` custom section"
    r = _Reader(data)
    if r.take(8) != b"\0asm\x01\0\0\0":
        raise ValueError("not a wasm module (bad header)")
    if r.pos == len(data) or r.byte() != 0:
        raise ValueError(not_side)
    section = _Reader(r.take(r.u32()))
    if section.take(section.u32()) != b"dylink.0":
        raise ValueError(not_side)
    while section.pos < len(section.data):
        kind = section.byte()
        sub = _Reader(section.take(section.u32()))
        if kind == 1:  # WASM_DYLINK_MEM_INFO
            info = (sub.u32(), sub.u32(), sub.u32(), sub.u32())
            if info[1] >= 32 or info[3] >= 32:
                raise ValueError("dylink.0: alignment out of range")
            return info
    return (0, 0, 0, 0)


def is_side_module(data):
    try:
        parse_dylink_mem_info(data)
        return True
    except ValueError:
        return False


def make_engine():
    """The engine every process uses: wasmtime's defaults (exception handling
    is on by default in wasmtime 50)."""
    config = Config()
    if os.environ.get("WASMDL_PROFILE") == "perfmap":
        config.profiler = "perfmap"
    return Engine(config)


def wasi_config(program, args, dirs, env):
    """WASI preview 1 as `wasmtime run` gives it: stdio inherited, argv[0] the
    program path as given, `--env` pairs only, read-write preopens."""
    config = WasiConfig()
    config.argv = [program] + list(args)
    config.env = list(env)
    config.inherit_stdin()
    config.inherit_stdout()
    config.inherit_stderr()
    for host_path, guest_path in dirs:
        if not os.path.isdir(host_path):
            raise fatal("cannot open directory %s: not a directory" % host_path)
        try:
            config.preopen_dir(host_path, guest_path, True)
        except WasmtimeError as e:
            raise fatal("cannot open directory %s: %s" % (host_path, e))
    return config


def new_host(engine, wasi, memory_limits, table_min, cache=None):
    """A process's store, with WASI from `wasi` (a WasiConfig), a memory with
    `memory_limits` (pages), a funcref table of `table_min` entries (no
    maximum), `__stack_pointer` at 0, and the ABI's state."""
    store = Store(engine)
    store.set_wasi(wasi)
    store.set_limits(table_elements=MAX_TABLE_ELEMENTS, instances=MAX_INSTANCES)
    memory = Memory(store, MemoryType(Limits(memory_limits.min, memory_limits.max)))
    table = Table(store, TableType(ValType.funcref(), Limits(table_min, None)), None)
    stack_pointer = Global(store, GlobalType(ValType.i32(), True), 0)
    return Host(engine, store, memory, table, stack_pointer, cache or ModuleCache())


def _guest_call(fn, failure):
    """Runs guest code: returns (value, None), or (None, exit status) after
    `proc_exit`; any other failure becomes `failure(message)`."""
    try:
        return fn(), None
    except ExitTrap as e:
        return None, e.code
    except (Trap, WasmtimeError) as e:
        raise failure("%s" % e)


def run(libdl_bytes, program_bytes, *, program="program.wasm", args=(), dirs=(), env=(),
        stack_size=DEFAULT_STACK_SIZE, libdl_name="libdl.so", cache=None, engine=None):
    """Runs a program with libdl.so. Returns its exit status (from
    `proc_exit`, or 0 when `_start` returns); raises ProcessFailure if the
    process cannot start or the program traps."""
    engine = engine or make_engine()
    cache = cache or ModuleCache()
    prog_name = program

    # 1. Compile both, and read libdl.so's memory and table needs.
    def compile_(data, name):
        try:
            return cache.get(engine, data)
        except WasmtimeError as e:
            raise fatal("cannot compile %s: %s" % (name, e))
    libdl, libdl_info = compile_(libdl_bytes, libdl_name)
    try:
        mem_size, mem_align, table_size, table_align = parse_dylink_mem_info(libdl_bytes)
    except ValueError as e:
        raise fatal("%s: %s" % (libdl_name, e))
    main, main_info = compile_(program_bytes, prog_name)

    # 2. Memory and table as the program declares them.
    mem_type = table_type = None
    for imp in main.imports:
        if imp.module == "env" and imp.name == "memory" and isinstance(imp.type, MemoryType):
            mem_type = imp.type
        if imp.module == "env" and imp.name == "__indirect_function_table" \
                and isinstance(imp.type, TableType):
            table_type = imp.type
    if mem_type is None:
        raise fatal("%s: the program does not import `env.memory` (link it with --import-memory)"
                    % prog_name)
    if table_type is None:
        raise fatal("%s: the program does not import `env.__indirect_function_table` "
                    "(link it with --import-table)" % prog_name)
    if mem_type.is_64 or mem_type.is_shared:
        raise fatal("%s: the program's memory must be a 32-bit unshared memory" % prog_name)
    if str(table_type.element) != "funcref":
        raise fatal("%s: the program's table must be a 32-bit funcref table" % prog_name)

    try:
        host = new_host(engine, wasi_config(program, args, dirs, env), mem_type.limits,
                        table_type.limits.min, cache)
    except WasmtimeError as e:
        raise fatal("cannot create the process memory and table: %s" % e)
    store, memory, table, stack_pointer = host.store, host.memory, host.table, host.stack_pointer

    # 3. libdl's region: its stack (16-byte aligned), then its data; its slots.
    page = memory.page_size(store)
    stack_bottom = memory.data_len(store)
    stack_top = stack_bottom + align_up(stack_size, 4)
    memory_base = align_up(stack_top, mem_align)
    end = memory_base + mem_size
    if end > 1 << 32:
        raise fatal("libdl's stack and data do not fit in a 4 GiB memory")
    pages = (end + page - 1) // page - memory.size(store)
    try:
        memory.grow(store, pages)
    except WasmtimeError as e:
        raise fatal("cannot grow memory by %d pages for libdl's stack and data: %s" % (pages, e))
    old_table = table.size(store)
    table_base = align_up(old_table, table_align)
    slots = table_base + table_size - old_table
    try:
        table.grow(store, slots, None)
    except WasmtimeError as e:
        raise fatal("cannot grow the table by %d for libdl: %s" % (slots, e))
    stack_pointer.set_value(store, to_i32(stack_top))

    # 4. libdl.so, then its relocations and constructors.
    env_defs = {
        "memory": (memory, ("memory",)),
        "__indirect_function_table": (table, ("table",)),
        "__stack_pointer": (stack_pointer, ("global", "i32", True)),
        "__memory_base": (Global(store, GlobalType(ValType.i32(), False), to_i32(memory_base)),
                          ("global", "i32", False)),
        "__table_base": (Global(store, GlobalType(ValType.i32(), False), to_i32(table_base)),
                         ("global", "i32", False)),
    }
    externs = []
    for module, name, key in libdl_info.imports:
        if module == "env" and name in env_defs:
            definition = env_defs[name]
        elif module in (WASI_MODULE, ABI_MODULE):
            definition = host.host_definition(module, name)
            if definition is None:
                raise fatal("%s imports `%s.%s`, which this runtime does not provide"
                            % (libdl_name, module, name))
        else:
            raise fatal("%s imports `%s.%s`; it may import only env.memory, "
                        "env.__indirect_function_table, env.__stack_pointer, env.__memory_base, "
                        "env.__table_base, WASI preview 1 and %s"
                        % (libdl_name, module, name, ABI_MODULE))
        try:
            check_import_type(key, definition[1])
        except Fail as f:
            raise fatal("cannot instantiate %s: `%s.%s`: %s" % (libdl_name, module, name, f.message))
        externs.append(definition[0])
    libdl_instance, status = _guest_call(
        lambda: Instance(store, libdl, externs),
        lambda m: fatal("cannot instantiate %s: %s" % (libdl_name, m)))
    if status is not None:
        return status
    for name in ("__wasm_apply_data_relocs", "__wasm_call_ctors"):
        fn = export_by_name(store, libdl_instance, name)
        if fn is None:
            continue
        if not isinstance(fn, Func) or extern_key(store, fn) != ("function", (), ()):
            raise fatal("%s's %s is not a function of type () -> ()" % (libdl_name, name))
        _, status = _guest_call(lambda: fn(store),
                                lambda m: fatal("%s's %s failed: %s" % (libdl_name, name, m)))
        if status is not None:
            return status

    def libdl_function(name, short):
        fn = export_by_name(store, libdl_instance, name)
        if fn is None:
            return None
        if not isinstance(fn, Func) or extern_key(store, fn) != short_key(short):
            raise fatal("%s's %s has the wrong type (want %s)"
                        % (libdl_name, name, key_name(short_key(short))))
        return fn

    libdl_module_h = host.register_module(libdl, libdl_bytes, libdl_info)
    libdl_instance_h = host.register_instance(libdl_instance, libdl_info)

    # A PIE program (it has dylink.0): libdl places it, loads its NEEDED tree
    # (libc.so, ...), binds and initialises everything, and runs it.
    if is_side_module(program_bytes):
        program_h = host.register_module(main, program_bytes, main_info)
        run_fn = libdl_function("__wasmdl_run", "iii:i")
        if run_fn is None:
            raise fatal("%s cannot start PIE programs (no __wasmdl_run)" % libdl_name)
        result, status = _guest_call(
            lambda: run_fn(store, libdl_module_h, libdl_instance_h, program_h),
            lambda m: ProcessFailure("trap", m))
        if status is not None:
            return status
        if result < 0:  # libdl has written its reason to stderr already
            raise fatal("%s could not start %s" % (libdl_name, prog_name))
        return result

    # 5. The program, bound to libdl's exports.
    externs = []
    for module, name, key in main_info.imports:
        if module == "env" and name == "memory":
            externs.append(memory)
            continue
        if module == "env" and name == "__indirect_function_table":
            externs.append(table)
            continue
        if module == WASI_MODULE:
            definition = host.host_definition(module, name)
            if definition is None:
                raise fatal("the program imports `%s.%s`, which this runtime does not provide"
                            % (module, name))
            try:
                check_import_type(key, definition[1])
            except Fail as f:
                raise fatal("cannot instantiate the program: `%s.%s`: %s"
                            % (module, name, f.message))
            externs.append(definition[0])
        elif module == "libdl.so":
            ext = export_by_name(store, libdl_instance, name)
            if ext is None:
                raise fatal("the program imports `libdl.so.%s`, which %s does not export"
                            % (name, libdl_name))
            externs.append(ext)
        else:
            raise fatal("the program imports `%s.%s`, which is not provided to programs"
                        % (module, name))
    main_instance, status = _guest_call(
        lambda: Instance(store, main, externs),
        lambda m: fatal("cannot instantiate the program: %s" % m))
    if status is not None:
        return status

    # 6. Handles for both, and libdl's own initialisation.
    main_module_h = host.register_module(main, program_bytes, main_info)
    main_instance_h = host.register_instance(main_instance, main_info)
    init = libdl_function("__wasmdl_init", "iiii:i")
    if init is not None:
        code, status = _guest_call(
            lambda: init(store, libdl_module_h, libdl_instance_h, main_module_h, main_instance_h),
            lambda m: fatal("%s's __wasmdl_init failed: %s" % (libdl_name, m)))
        if status is not None:
            return status
        if code != 0:  # libdl has written its reason to stderr already
            raise fatal("%s failed to initialise (__wasmdl_init returned %d)" % (libdl_name, code))

    # 7. The program.
    start = export_by_name(store, main_instance, "_start")
    if not isinstance(start, Func) or extern_key(store, start) != ("function", (), ()):
        raise fatal("%s: no `_start` of type () -> ()" % prog_name)
    _, status = _guest_call(lambda: start(store), lambda m: ProcessFailure("trap", m))
    return 0 if status is None else status
