//! The wasmdl host ABI, version 0, for wasmtime.
//!
//! This file is the reference shim: it implements `host-abi/SPEC.md` (import
//! module `wasmdl_host_v0`) on a [`wasmtime::Linker`], and the spec's
//! "Starting a process" bootstrap. Read it next to the spec; the functions of
//! the ABI appear below in the spec's order.
//!
//! How the pieces fit:
//!
//! * One [`Store`] holds everything: the process memory, the process function
//!   table, `__stack_pointer`, `libdl.so`, the program and every side module.
//!   Its data, [`Host`], holds the WASI preview 1 context (so all of them share
//!   one fd table) and the ABI's handle tables.
//! * WASI is reached through a small generated adapter module, because
//!   wasmtime-wasi looks for the memory export of its caller and libdl.so and
//!   side modules export none (see `instantiate_wasi_adapter`).
//! * The ABI functions never trap on guest input. Each one validates its
//!   arguments (pointer ranges with checked arithmetic, live handles, indices)
//!   before it has any effect, and on failure returns the spec's error code and
//!   records a message for `last_error`.
//! * Handles are issued from monotonic counters starting at 1, so a freed
//!   handle is never issued again and stays `ERR_BADHANDLE` forever.
//!
//! Limits of this engine, as the spec asks shims to document:
//!
//! * `instance_free` only drops the handle. wasmtime cannot free an instance
//!   before its store dies, so a freed instance's own state (its globals, any
//!   memory or table it defined; side modules normally define neither) stays
//!   allocated until the process ends. The same holds for `global_free`.
//! * A store admits at most [`MAX_INSTANCES`] instances over its life (wasmtime's
//!   default is 10,000, too few for a program that opens and closes
//!   libraries in a loop); past that, `instance_new` gives `ERR_INSTANTIATE`.
//! * The process table is capped at [`MAX_TABLE_ELEMENTS`] entries, so that a
//!   hostile `table_grow` gets `ERR_NOMEM` instead of exhausting host memory.

pub mod cache;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use wasmtime::{
    AsContext, Caller, Engine, Error, Extern, ExternType, Global, GlobalType, ImportType, Instance,
    Linker, Memory, MemoryType, Module, Mutability, Ref, RefType, Store, StoreLimits,
    StoreLimitsBuilder, Table, TableType, Val, ValType,
};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

// ---------------------------------------------------------------------------
// Constants of the spec
// ---------------------------------------------------------------------------

/// The import module name of this ABI version.
pub const ABI_MODULE: &str = "wasmdl_host_v0";
/// The import module of WASI preview 1.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// Error codes (SPEC.md, "Error codes").
pub const OK: i32 = 0;
pub const ERR_BADHANDLE: i32 = 1;
pub const ERR_FAULT: i32 = 2;
pub const ERR_INVAL: i32 = 3;
pub const ERR_COMPILE: i32 = 4;
pub const ERR_LINK: i32 = 5;
pub const ERR_INSTANTIATE: i32 = 6;
pub const ERR_NOMEM: i32 = 7;
pub const ERR_RANGE: i32 = 8;
pub const ERR_TYPE: i32 = 9;

/// Import descriptor kinds (SPEC.md, `instance_new`).
pub const IMPORT_MEMORY: u32 = 1;
pub const IMPORT_TABLE: u32 = 2;
pub const IMPORT_STACK_POINTER: u32 = 3;
pub const IMPORT_GLOBAL: u32 = 4;
pub const IMPORT_EXPORT: u32 = 5;
pub const IMPORT_HOST: u32 = 6;

/// Size of one import descriptor in guest memory: three `u32`.
const DESCRIPTOR_SIZE: u32 = 12;

/// Value types accepted by `global_new` (the wasm binary encodings).
pub const VALTYPE_I32: u32 = 0x7f;
pub const VALTYPE_I64: u32 = 0x7e;

/// Exit status when the process cannot be started (a file cannot be read,
/// `libdl.so` or the program does not compile or link, `__wasmdl_init`
/// fails). 127 is what the ELF dynamic loader uses when it cannot load a
/// program's libraries.
pub const EXIT_FATAL: i32 = 127;
/// Exit status after a trap, as `wasmtime run` does on Unix (128 + SIGABRT).
pub const EXIT_TRAP: i32 = 134;

/// Default size of the stack that libdl and side modules run on.
pub const DEFAULT_STACK_SIZE: u32 = 1 << 20;

/// Instances a process may create over its life (each `dlopen` of a new
/// library makes one, plus small generated helpers).
pub const MAX_INSTANCES: usize = 1_000_000;

/// The largest the process table may grow (entries). Far above what real
/// programs use; it turns a hostile `table_grow` into `ERR_NOMEM`.
pub const MAX_TABLE_ELEMENTS: usize = 1 << 24;

// ---------------------------------------------------------------------------
// Host state
// ---------------------------------------------------------------------------

/// The data of the process's [`Store`]: WASI plus the ABI's state.
pub struct Host {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
    /// The shim's own definitions (this ABI and WASI), for `IMPORT_HOST`.
    /// Set once by [`Process::new`], when the linker is complete (its WASI
    /// functions live in the store, and the store's data holds the linker).
    linker: Option<Arc<Linker<Host>>>,
    /// Memory, table and `__stack_pointer`. Set by [`Process::new`] right
    /// after the store exists (they live in the store).
    shared: Option<Shared>,
    modules: Handles<Arc<LoadedModule>>,
    instances: Handles<LiveInstance>,
    globals: Handles<Global>,
    /// The message of the last failing call, for `last_error`.
    last_error: String,
    /// Compiled modules, by their bytes (cache.rs).
    cache: Arc<cache::ModuleCache>,
}

/// The process-wide objects every module shares.
#[derive(Clone, Copy)]
struct Shared {
    memory: Memory,
    table: Table,
    stack_pointer: Global,
}

/// A compiled module, shared by its handle and the instances made from it.
struct LoadedModule {
    module: Module,
    /// The original binary, for `module_bytes` (wasmtime does not keep it)
    /// and for the names of its exports.
    bytes: Arc<[u8]>,
    /// Its export names in export-section order, read on first use.
    export_names: OnceLock<ExportNames>,
}

impl LoadedModule {
    fn new(module: Module, bytes: Arc<[u8]>) -> Arc<LoadedModule> {
        Arc::new(LoadedModule {
            module,
            bytes,
            export_names: OnceLock::new(),
        })
    }

    fn export_names(&self) -> &ExportNames {
        self.export_names
            .get_or_init(|| ExportNames::new(&self.module, &self.bytes))
    }
}

/// `IMPORT_EXPORT` and `export_*` name an export by its position in the
/// export section; wasmtime finds an instance's exports by name. This is the
/// position-to-name map: the names' places in the module's binary, found by
/// one pass over its export section (or, should that ever disagree with the
/// engine, the engine's own list).
///
/// Exports are looked up one at a time, when libdl asks for one, rather than
/// all gathered when the instance is made: that cost 1 ms for a library of
/// 20,000 exports (wasmtime 48), most of which a `dlopen` never touches.
struct ExportNames {
    /// None: the names are in the module's binary.
    text: Option<String>,
    ranges: Vec<(u32, u32)>,
}

impl ExportNames {
    fn new(module: &Module, bytes: &[u8]) -> ExportNames {
        let count = module.exports().len();
        if let Some(ranges) = export_name_ranges(bytes).filter(|r| r.len() == count) {
            return ExportNames { text: None, ranges };
        }
        let mut text = String::new();
        let mut ranges = Vec::with_capacity(count);
        for export in module.exports() {
            let start = text.len() as u32;
            text.push_str(export.name());
            ranges.push((start, text.len() as u32));
        }
        ExportNames {
            text: Some(text),
            ranges,
        }
    }

    fn len(&self) -> usize {
        self.ranges.len()
    }

    fn get<'a>(&'a self, bytes: &'a [u8], index: usize) -> Option<&'a str> {
        let &(start, end) = self.ranges.get(index)?;
        let text = self.text.as_ref().map_or(bytes, |t| t.as_bytes());
        std::str::from_utf8(text.get(start as usize..end as usize)?).ok()
    }
}

/// Where each export's name lies in a module's binary, in export-section
/// order; None if the binary cannot be read so far (the engine accepted it,
/// so that does not happen).
fn export_name_ranges(module: &[u8]) -> Option<Vec<(u32, u32)>> {
    let mut r = Reader {
        bytes: module,
        pos: 0,
    };
    if r.take(8).ok()? != b"\0asm\x01\0\0\0" {
        return None;
    }
    const EXPORT_SECTION: u8 = 7;
    while r.pos < module.len() {
        let id = r.byte().ok()?;
        let size = r.u32().ok()? as usize;
        let start = r.pos;
        let mut section = Reader {
            bytes: r.take(size).ok()?,
            pos: 0,
        };
        if id != EXPORT_SECTION {
            continue;
        }
        let count = section.u32().ok()? as usize;
        // Each export takes at least 3 bytes.
        let mut ranges = Vec::with_capacity(count.min(size / 3));
        for _ in 0..count {
            let len = section.u32().ok()? as usize;
            let name_start = start + section.pos;
            section.take(len).ok()?;
            section.byte().ok()?; // kind
            section.u32().ok()?; // index
            ranges.push((
                u32::try_from(name_start).ok()?,
                u32::try_from(name_start + len).ok()?,
            ));
        }
        return Some(ranges);
    }
    Some(Vec::new())
}

struct LiveInstance {
    instance: Instance,
    module: Arc<LoadedModule>,
}

/// A handle table. Handles come from a counter that only goes up, so a freed
/// handle is never reissued; 0 is never issued.
struct Handles<T> {
    next: u32,
    live: HashMap<u32, T>,
}

impl<T> Handles<T> {
    fn new() -> Self {
        Handles {
            next: 1,
            live: HashMap::new(),
        }
    }

    /// `None` once 2^32 - 1 handles have been issued.
    fn insert(&mut self, value: T) -> Option<u32> {
        let handle = self.next;
        self.next = self.next.checked_add(1)?;
        self.live.insert(handle, value);
        Some(handle)
    }

    fn get(&self, handle: u32) -> Option<&T> {
        self.live.get(&handle)
    }

    fn remove(&mut self, handle: u32) -> Option<T> {
        self.live.remove(&handle)
    }
}

/// Why an ABI call failed.
enum Fail {
    /// An error code for the guest, and the message `last_error` will return.
    Code(i32, String),
    /// The guest asked to exit (`proc_exit` in a start function run by
    /// `instance_new`). That is not an instantiation failure: it unwinds
    /// through the host call and ends the process.
    Exit(Error),
}

fn fail<T>(code: i32, message: impl Into<String>) -> Result<T, Fail> {
    Err(Fail::Code(code, message.into()))
}

type AbiResult<T = ()> = Result<T, Fail>;

/// Turns an ABI function's result into its return value: the error code,
/// after recording the message for `last_error`.
fn finish(caller: &mut Caller<'_, Host>, result: AbiResult) -> wasmtime::Result<i32> {
    match result {
        Ok(()) => Ok(OK),
        Err(Fail::Code(code, message)) => {
            caller.data_mut().last_error = message;
            Ok(code)
        }
        Err(Fail::Exit(exit)) => Err(exit),
    }
}

fn shared(caller: &Caller<'_, Host>) -> AbiResult<Shared> {
    match caller.data().shared {
        Some(shared) => Ok(shared),
        None => fail(ERR_INVAL, "the process has no memory and table yet"),
    }
}

// ---------------------------------------------------------------------------
// Guest memory access: every range checked, without overflow
// ---------------------------------------------------------------------------

/// The byte range `[ptr, ptr + len)` if it lies inside a memory of
/// `memory_len` bytes.
fn guest_range(memory_len: usize, ptr: u32, len: u32) -> Option<std::ops::Range<usize>> {
    let start = usize::try_from(ptr).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    (end <= memory_len).then_some(start..end)
}

/// Checks a range up front, so that a call can fail before it has any effect.
fn check_range(caller: &Caller<'_, Host>, ptr: u32, len: u32) -> AbiResult {
    let memory = shared(caller)?.memory;
    match guest_range(memory.data_size(caller), ptr, len) {
        Some(_) => Ok(()),
        None => fail(
            ERR_FAULT,
            format!("range {ptr:#x}+{len:#x} is outside memory"),
        ),
    }
}

fn read_guest(caller: &Caller<'_, Host>, ptr: u32, len: u32) -> AbiResult<Vec<u8>> {
    let memory = shared(caller)?.memory;
    let data = memory.data(caller);
    match guest_range(data.len(), ptr, len).and_then(|r| data.get(r)) {
        Some(bytes) => Ok(bytes.to_vec()),
        None => fail(
            ERR_FAULT,
            format!("range {ptr:#x}+{len:#x} is outside memory"),
        ),
    }
}

fn write_guest(caller: &mut Caller<'_, Host>, ptr: u32, bytes: &[u8]) -> AbiResult {
    let memory = shared(caller)?.memory;
    let data = memory.data_mut(&mut *caller);
    let range = u32::try_from(bytes.len())
        .ok()
        .and_then(|len| guest_range(data.len(), ptr, len));
    match range.and_then(|r| data.get_mut(r)) {
        Some(dest) => {
            dest.copy_from_slice(bytes);
            Ok(())
        }
        None => fail(
            ERR_FAULT,
            format!("range {ptr:#x}+{:#x} is outside memory", bytes.len()),
        ),
    }
}

fn write_u32(caller: &mut Caller<'_, Host>, ptr: u32, value: u32) -> AbiResult {
    write_guest(caller, ptr, &value.to_le_bytes())
}

// ---------------------------------------------------------------------------
// The ABI functions, in the spec's order
// ---------------------------------------------------------------------------

/// Defines one ABI function on the linker: `name(args) -> err` calls the Rust
/// function of the same name and turns its result into the error code.
macro_rules! define {
    ($linker:ident, $name:ident($($arg:ident: $ty:ty),*)) => {
        $linker.func_wrap(ABI_MODULE, stringify!($name), |mut c: Caller<'_, Host>, $($arg: $ty),*| {
            let result = $name(&mut c, $($arg),*);
            finish(&mut c, result)
        })?;
    };
}

/// Defines the `wasmdl_host_v0` functions on `linker`, in the spec's order.
/// Every parameter is an `i32` in wasm (`u32` here) except the `i64` values.
pub fn add_to_linker(linker: &mut Linker<Host>) -> wasmtime::Result<()> {
    // `last_error` is the one function that returns a length, not a code.
    linker.func_wrap(
        ABI_MODULE,
        "last_error",
        |mut c: Caller<'_, Host>, buf: u32, cap: u32| last_error(&mut c, buf, cap),
    )?;
    define!(linker, module_compile(bytes: u32, len: u32, out_module: u32));
    define!(linker, module_bytes(module: u32, buf: u32, cap: u32, out_len: u32));
    define!(linker, module_free(module: u32));
    define!(linker, instance_new(module: u32, imports: u32, count: u32, out_instance: u32));
    define!(linker, instance_free(instance: u32));
    define!(linker, export_global_get(instance: u32, export_index: u32, out_value: u32));
    define!(linker, export_to_table(instance: u32, export_index: u32, table_index: u32));
    define!(linker, table_grow(delta: u32, out_old_size: u32));
    define!(linker, table_clear(index: u32, count: u32));
    define!(linker, global_new(valtype: u32, mutable: u32, value: i64, out_global: u32));
    define!(linker, global_set(global: u32, value: i64));
    define!(linker, global_free(global: u32));
    Ok(())
}

/// `last_error(buf, cap) -> len`. Never fails: a bad range copies nothing.
fn last_error(caller: &mut Caller<'_, Host>, buf: u32, cap: u32) -> u32 {
    let message = caller.data().last_error.clone().into_bytes();
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
    let n = len.min(cap) as usize;
    if let Some(prefix) = message.get(..n) {
        // The result is ignored on purpose: an invalid range copies nothing.
        let _ = write_guest(caller, buf, prefix);
    }
    len
}

/// `module_compile(bytes, len, out_module) -> err`.
fn module_compile(
    caller: &mut Caller<'_, Host>,
    bytes: u32,
    len: u32,
    out_module: u32,
) -> AbiResult {
    let binary = read_guest(caller, bytes, len)?;
    check_range(caller, out_module, 4)?;
    // Through the cache, which compiles with `from_binary` (`Module::new`
    // would also accept WAT text).
    let cache = Arc::clone(&caller.data().cache);
    let module = match cache.compile(caller.engine(), &binary) {
        Ok(module) => module,
        Err(e) => return fail(ERR_COMPILE, format!("{e:#}")),
    };
    let loaded = LoadedModule::new(module, binary.into());
    let Some(handle) = caller.data_mut().modules.insert(loaded) else {
        return fail(ERR_NOMEM, "out of module handles");
    };
    write_u32(caller, out_module, handle)
}

/// `module_bytes(module, buf, cap, out_len) -> err`.
fn module_bytes(
    caller: &mut Caller<'_, Host>,
    module: u32,
    buf: u32,
    cap: u32,
    out_len: u32,
) -> AbiResult {
    let Some(loaded) = caller.data().modules.get(module) else {
        return fail(ERR_BADHANDLE, format!("module handle {module} is not live"));
    };
    let bytes = Arc::clone(&loaded.bytes);
    let Ok(len) = u32::try_from(bytes.len()) else {
        return fail(ERR_FAULT, "the module is larger than 4 GiB");
    };
    // Validate both outputs before writing either.
    check_range(caller, out_len, 4)?;
    if cap >= len {
        check_range(caller, buf, len)?;
        write_guest(caller, buf, &bytes)?;
    }
    write_u32(caller, out_len, len)
}

/// `module_free(module) -> err`. Instances made from the module are unaffected.
fn module_free(caller: &mut Caller<'_, Host>, module: u32) -> AbiResult {
    match caller.data_mut().modules.remove(module) {
        Some(_) => Ok(()),
        None => fail(ERR_BADHANDLE, format!("module handle {module} is not live")),
    }
}

/// `instance_new(module, imports, count, out_instance) -> err`.
fn instance_new(
    caller: &mut Caller<'_, Host>,
    module: u32,
    imports: u32,
    count: u32,
    out_instance: u32,
) -> AbiResult {
    let Some(loaded) = caller.data().modules.get(module).cloned() else {
        return fail(ERR_BADHANDLE, format!("module handle {module} is not live"));
    };
    let module = loaded.module.clone();
    // The count first: it is cheap, and it bounds the copy below.
    let wanted = module.imports().len();
    if usize::try_from(count).ok() != Some(wanted) {
        return fail(
            ERR_INVAL,
            format!("{count} import descriptors given, the module has {wanted} imports"),
        );
    }
    let Some(descriptors_len) = count.checked_mul(DESCRIPTOR_SIZE) else {
        return fail(
            ERR_FAULT,
            format!("{count} import descriptors do not fit in memory"),
        );
    };
    let descriptors = read_guest(caller, imports, descriptors_len)?;
    check_range(caller, out_instance, 4)?;

    // Resolve every descriptor and check it against its import before the
    // engine sees anything.
    let mut externs = Vec::with_capacity(wanted);
    let chunks = descriptors.chunks_exact(DESCRIPTOR_SIZE as usize);
    for (i, (import, desc)) in module.imports().zip(chunks).enumerate() {
        let word = |at: usize| {
            desc.get(at..at + 4)
                .and_then(|w| w.try_into().ok())
                .map_or(0, u32::from_le_bytes)
        };
        let (kind, a, b) = (word(0), word(4), word(8));
        let context = || format!("import {i} (`{}.{}`)", import.module(), import.name());
        let ext = resolve_descriptor(caller, &import, kind, a, b)
            .map_err(|f| with_context(f, &context()))?;
        check_import_type(&*caller, &import, &ext).map_err(|f| with_context(f, &context()))?;
        externs.push(ext);
    }

    let instance = match Instance::new(&mut *caller, &module, &externs) {
        Ok(instance) => instance,
        Err(e) if e.is::<I32Exit>() => return Err(Fail::Exit(e)),
        Err(e) => return fail(ERR_INSTANTIATE, format!("{e:#}")),
    };
    let live = LiveInstance {
        instance,
        module: loaded,
    };
    let Some(handle) = caller.data_mut().instances.insert(live) else {
        return fail(ERR_NOMEM, "out of instance handles");
    };
    write_u32(caller, out_instance, handle)
}

/// Prefixes a failure's message with where it happened.
fn with_context(f: Fail, context: &str) -> Fail {
    match f {
        Fail::Code(code, message) => Fail::Code(code, format!("{context}: {message}")),
        exit => exit,
    }
}

/// What one import descriptor names, checked against the import's kind.
fn resolve_descriptor(
    caller: &mut Caller<'_, Host>,
    import: &ImportType<'_>,
    kind: u32,
    a: u32,
    b: u32,
) -> AbiResult<Extern> {
    let shared = shared(caller)?;
    let import_kind = extern_type_name(&import.ty());
    let unused_zero = |fields_used: u32| -> AbiResult {
        let ok = match fields_used {
            0 => a == 0 && b == 0,
            _ => b == 0,
        };
        if ok {
            Ok(())
        } else {
            fail(ERR_INVAL, "unused descriptor fields must be zero")
        }
    };
    let expect = |want: &str| -> AbiResult {
        if import_kind == want {
            Ok(())
        } else {
            fail(
                ERR_LINK,
                format!("the import is a {import_kind}, the descriptor gives a {want}"),
            )
        }
    };
    match kind {
        IMPORT_MEMORY => {
            unused_zero(0)?;
            expect("memory")?;
            Ok(Extern::Memory(shared.memory))
        }
        IMPORT_TABLE => {
            unused_zero(0)?;
            expect("table")?;
            Ok(Extern::Table(shared.table))
        }
        IMPORT_STACK_POINTER => {
            unused_zero(0)?;
            expect("global")?;
            Ok(Extern::Global(shared.stack_pointer))
        }
        IMPORT_GLOBAL => {
            unused_zero(1)?;
            let Some(global) = caller.data().globals.get(a).copied() else {
                return fail(ERR_BADHANDLE, format!("global handle {a} is not live"));
            };
            expect("global")?;
            Ok(Extern::Global(global))
        }
        IMPORT_EXPORT => export_of(caller, a, b),
        IMPORT_HOST => {
            unused_zero(0)?;
            let Some(linker) = caller.data().linker.clone() else {
                return fail(ERR_LINK, "this process has no host definitions");
            };
            // The linker holds exactly the shim's own definitions: WASI
            // preview 1 and this ABI. Functions defined with `func_wrap` are
            // store-independent, so this makes a fresh `Func` in our store.
            match linker.try_get_by_import(&mut *caller, import) {
                Ok(Some(ext)) => Ok(ext),
                Ok(None) => fail(ERR_LINK, "the host has no definition for it"),
                Err(e) => fail(ERR_NOMEM, format!("{e:#}")),
            }
        }
        _ => fail(ERR_INVAL, format!("unknown descriptor kind {kind}")),
    }
}

/// Checks that `ext` can satisfy `import`: same kind, and for functions and
/// globals the same type. Memory and table limits are left to the engine
/// (`ERR_INSTANTIATE`).
fn check_import_type(store: impl AsContext, import: &ImportType<'_>, ext: &Extern) -> AbiResult {
    match (import.ty(), ext) {
        (ExternType::Func(want), Extern::Func(f)) => {
            let have = f.ty(&store);
            if have.matches(&want) {
                Ok(())
            } else {
                fail(
                    ERR_LINK,
                    format!("function type {have} does not match the import's {want}"),
                )
            }
        }
        (ExternType::Global(want), Extern::Global(g)) => {
            let have = g.ty(&store);
            if ValType::eq(have.content(), want.content()) && have.mutability() == want.mutability()
            {
                Ok(())
            } else {
                fail(
                    ERR_LINK,
                    format!(
                        "global type {} does not match the import's {}",
                        global_type_name(&have),
                        global_type_name(&want)
                    ),
                )
            }
        }
        (ExternType::Memory(_), Extern::Memory(_)) | (ExternType::Table(_), Extern::Table(_)) => {
            Ok(())
        }
        // Exception tags (setjmp/longjmp's __c_longjmp, C++'s
        // __cpp_exception) are shared between modules; their signatures must match.
        (ExternType::Tag(want), Extern::Tag(t)) => {
            let have = t.ty(&store);
            if have.ty().matches(want.ty()) {
                Ok(())
            } else {
                fail(
                    ERR_LINK,
                    format!(
                        "tag type {} does not match the import's {}",
                        have.ty(),
                        want.ty()
                    ),
                )
            }
        }
        (want, have) => fail(
            ERR_LINK,
            format!(
                "the import is a {}, the descriptor gives a {}",
                extern_type_name(&want),
                extern_type_name(&have.ty(&store))
            ),
        ),
    }
}

fn extern_type_name(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Func(_) => "function",
        ExternType::Global(_) => "global",
        ExternType::Memory(_) => "memory",
        ExternType::Table(_) => "table",
        ExternType::Tag(_) => "tag",
    }
}

fn global_type_name(ty: &GlobalType) -> String {
    let mutability = match ty.mutability() {
        Mutability::Var => "mut ",
        Mutability::Const => "",
    };
    format!("{mutability}{}", ty.content())
}

/// `instance_free(instance) -> err`. Only the handle goes; see the top of
/// this file for what wasmtime keeps.
fn instance_free(caller: &mut Caller<'_, Host>, instance: u32) -> AbiResult {
    match caller.data_mut().instances.remove(instance) {
        Some(_) => Ok(()),
        None => fail(
            ERR_BADHANDLE,
            format!("instance handle {instance} is not live"),
        ),
    }
}

/// Export number `index` of a live instance (`ERR_BADHANDLE`, `ERR_RANGE`).
fn export_of(caller: &mut Caller<'_, Host>, instance: u32, index: u32) -> AbiResult<Extern> {
    let Some(live) = caller.data().instances.get(instance) else {
        return fail(
            ERR_BADHANDLE,
            format!("instance handle {instance} is not live"),
        );
    };
    let (handle, loaded) = (live.instance, Arc::clone(&live.module));
    let names = loaded.export_names();
    let Some(name) = usize::try_from(index)
        .ok()
        .and_then(|i| names.get(&loaded.bytes, i))
    else {
        return fail(
            ERR_RANGE,
            format!(
                "export index {index} out of range (instance {instance} has {} exports)",
                names.len()
            ),
        );
    };
    match handle.get_export(&mut *caller, name) {
        Some(ext) => Ok(ext),
        None => fail(
            ERR_RANGE,
            format!("export {index} (`{name}`) not found in instance {instance}"),
        ),
    }
}

/// `export_global_get(instance, export_index, out_value) -> err`.
fn export_global_get(
    caller: &mut Caller<'_, Host>,
    instance: u32,
    index: u32,
    out_value: u32,
) -> AbiResult {
    let Extern::Global(global) = export_of(caller, instance, index)? else {
        return fail(ERR_TYPE, format!("export {index} is not a global"));
    };
    let value: u64 = match global.get(&mut *caller) {
        Val::I32(v) => u64::from(v as u32), // zero-extended
        Val::I64(v) => v as u64,
        other => {
            return fail(
                ERR_TYPE,
                format!(
                    "export {index} is a global of type {}, not i32 or i64",
                    other
                        .ty(&*caller)
                        .map_or_else(|_| "?".to_string(), |t| t.to_string())
                ),
            )
        }
    };
    write_guest(caller, out_value, &value.to_le_bytes())
}

/// `export_to_table(instance, export_index, table_index) -> err`.
fn export_to_table(
    caller: &mut Caller<'_, Host>,
    instance: u32,
    index: u32,
    table_index: u32,
) -> AbiResult {
    let Extern::Func(func) = export_of(caller, instance, index)? else {
        return fail(ERR_TYPE, format!("export {index} is not a function"));
    };
    let table = shared(caller)?.table;
    let size = table.size(&*caller);
    if u64::from(table_index) >= size {
        return fail(
            ERR_RANGE,
            format!("table index {table_index} out of range (table size {size})"),
        );
    }
    match table.set(&mut *caller, u64::from(table_index), Ref::Func(Some(func))) {
        Ok(()) => Ok(()),
        Err(e) => fail(ERR_TYPE, format!("{e:#}")),
    }
}

/// `table_grow(delta, out_old_size) -> err`.
fn table_grow(caller: &mut Caller<'_, Host>, delta: u32, out_old_size: u32) -> AbiResult {
    check_range(caller, out_old_size, 4)?;
    let table = shared(caller)?.table;
    let old = match table.grow(&mut *caller, u64::from(delta), Ref::Func(None)) {
        Ok(old) => old,
        Err(e) => {
            return fail(
                ERR_NOMEM,
                format!("cannot grow the table by {delta}: {e:#}"),
            )
        }
    };
    // A 32-bit table never exceeds u32 entries.
    write_u32(caller, out_old_size, u32::try_from(old).unwrap_or(u32::MAX))
}

/// `table_clear(index, count) -> err`. All or nothing.
fn table_clear(caller: &mut Caller<'_, Host>, index: u32, count: u32) -> AbiResult {
    let table = shared(caller)?.table;
    let size = table.size(&*caller);
    let end = u64::from(index) + u64::from(count); // cannot overflow u64
    if end > size {
        return fail(
            ERR_RANGE,
            format!("table range {index}+{count} out of range (table size {size})"),
        );
    }
    match table.fill(
        &mut *caller,
        u64::from(index),
        Ref::Func(None),
        u64::from(count),
    ) {
        Ok(()) => Ok(()),
        Err(e) => fail(ERR_RANGE, format!("{e:#}")),
    }
}

/// `global_new(valtype, mutable, value, out_global) -> err`.
fn global_new(
    caller: &mut Caller<'_, Host>,
    valtype: u32,
    mutable: u32,
    value: i64,
    out_global: u32,
) -> AbiResult {
    let (content, initial) = match valtype {
        VALTYPE_I32 => (ValType::I32, Val::I32(value as i32)), // truncated
        VALTYPE_I64 => (ValType::I64, Val::I64(value)),
        _ => return fail(ERR_INVAL, format!("unknown value type {valtype:#x}")),
    };
    let mutability = match mutable {
        0 => Mutability::Const,
        1 => Mutability::Var,
        _ => return fail(ERR_INVAL, format!("mutable must be 0 or 1, not {mutable}")),
    };
    check_range(caller, out_global, 4)?;
    let global = match Global::new(&mut *caller, GlobalType::new(content, mutability), initial) {
        Ok(global) => global,
        Err(e) => return fail(ERR_NOMEM, format!("{e:#}")),
    };
    let Some(handle) = caller.data_mut().globals.insert(global) else {
        return fail(ERR_NOMEM, "out of global handles");
    };
    write_u32(caller, out_global, handle)
}

/// `global_set(global, value) -> err`.
fn global_set(caller: &mut Caller<'_, Host>, global: u32, value: i64) -> AbiResult {
    let Some(g) = caller.data().globals.get(global).copied() else {
        return fail(ERR_BADHANDLE, format!("global handle {global} is not live"));
    };
    let ty = g.ty(&*caller);
    if ty.mutability() == Mutability::Const {
        return fail(ERR_TYPE, format!("global {global} is immutable"));
    }
    let new = match ty.content() {
        ValType::I32 => Val::I32(value as i32), // the low 32 bits
        _ => Val::I64(value),
    };
    match g.set(&mut *caller, new) {
        Ok(()) => Ok(()),
        Err(e) => fail(ERR_TYPE, format!("{e:#}")),
    }
}

/// `global_free(global) -> err`. Instances that imported it keep it.
fn global_free(caller: &mut Caller<'_, Host>, global: u32) -> AbiResult {
    match caller.data_mut().globals.remove(global) {
        Some(_) => Ok(()),
        None => fail(ERR_BADHANDLE, format!("global handle {global} is not live")),
    }
}

// ---------------------------------------------------------------------------
// The process: one store, one linker
// ---------------------------------------------------------------------------

/// A process under construction or running: the store with its memory, table
/// and `__stack_pointer`, and the linker that defines WASI and the ABI.
pub struct Process {
    store: Store<Host>,
    linker: Arc<Linker<Host>>,
    shared: Shared,
}

impl Process {
    /// Compile modules through `cache` from now on (by default, a cache of
    /// this process only).
    pub fn set_module_cache(&mut self, cache: Arc<cache::ModuleCache>) {
        self.store.data_mut().cache = cache;
    }

    /// A process with a fresh memory of type `memory`, a `funcref` table of
    /// `table_min` entries (no maximum) and a `__stack_pointer` of 0, whose
    /// linker defines `wasmdl_host_v0` and WASI preview 1 (from `wasi`).
    pub fn new(
        engine: &Engine,
        wasi: WasiP1Ctx,
        memory: MemoryType,
        table_min: u32,
    ) -> wasmtime::Result<Process> {
        let host = Host {
            wasi,
            limits: StoreLimitsBuilder::new()
                .table_elements(MAX_TABLE_ELEMENTS)
                .instances(MAX_INSTANCES)
                .build(),
            linker: None,
            shared: None,
            modules: Handles::new(),
            instances: Handles::new(),
            globals: Handles::new(),
            last_error: String::new(),
            cache: Arc::new(cache::ModuleCache::new(None)),
        };
        let mut store = Store::new(engine, host);
        store.limiter(|host| &mut host.limits);

        let memory = Memory::new(&mut store, memory)?;
        let table = Table::new(
            &mut store,
            TableType::new(RefType::FUNCREF, table_min, None),
            Ref::Func(None),
        )?;
        let stack_pointer = Global::new(
            &mut store,
            GlobalType::new(ValType::I32, Mutability::Var),
            Val::I32(0),
        )?;
        let shared = Shared {
            memory,
            table,
            stack_pointer,
        };
        store.data_mut().shared = Some(shared);

        // The linker every module is linked against: this ABI, and WASI
        // through the adapter (see `instantiate_wasi_adapter`).
        let mut linker = Linker::new(engine);
        add_to_linker(&mut linker)?;
        let adapter = instantiate_wasi_adapter(&mut store, memory)?;
        let wasi_funcs: Vec<(String, Extern)> = adapter
            .exports(&mut store)
            .filter_map(|e| Some((e.name().to_string(), Extern::Func(e.into_func()?))))
            .collect();
        for (name, func) in wasi_funcs {
            linker.define(&store, WASI_MODULE, &name, func)?;
        }
        let linker = Arc::new(linker);
        store.data_mut().linker = Some(Arc::clone(&linker));
        Ok(Process {
            store,
            linker,
            shared,
        })
    }

    pub fn store(&mut self) -> &mut Store<Host> {
        &mut self.store
    }

    /// The linker with `wasmdl_host_v0` and WASI preview 1 defined. Its WASI
    /// functions belong to this process's store; clone it to add definitions.
    pub fn linker(&self) -> &Linker<Host> {
        &self.linker
    }

    pub fn memory(&self) -> Memory {
        self.shared.memory
    }

    pub fn table(&self) -> Table {
        self.shared.table
    }

    pub fn stack_pointer(&self) -> Global {
        self.shared.stack_pointer
    }

    /// Gives a module a handle, as if `module_compile` had made it. `bytes`
    /// is what `module_bytes` will return.
    pub fn register_module(&mut self, module: Module, bytes: &[u8]) -> wasmtime::Result<u32> {
        let loaded = LoadedModule::new(module, bytes.into());
        self.store
            .data_mut()
            .modules
            .insert(loaded)
            .ok_or_else(|| Error::msg("out of module handles"))
    }

    /// Gives an instance of module handle `module` a handle, as if
    /// `instance_new` had made it.
    pub fn register_instance(&mut self, module: u32, instance: Instance) -> wasmtime::Result<u32> {
        let host = self.store.data_mut();
        let module = host
            .modules
            .get(module)
            .cloned()
            .ok_or_else(|| Error::msg(format!("module handle {module} is not live")))?;
        host.instances
            .insert(LiveInstance { instance, module })
            .ok_or_else(|| Error::msg("out of instance handles"))
    }
}

/// Instantiates the WASI adapter: a generated module that imports the process
/// memory and exports it as `memory`, and forwards every WASI preview 1
/// function of wasmtime-wasi.
///
/// Why: wasmtime-wasi finds the guest's memory through the export named
/// `memory` of the instance that called it (`Caller::get_export`). libdl.so
/// and side modules import memory and export none, and a program linked with
/// `--import-memory` need not export it either. Called through the adapter,
/// WASI always has the adapter as its caller, and so the process memory.
fn instantiate_wasi_adapter(store: &mut Store<Host>, memory: Memory) -> wasmtime::Result<Instance> {
    let mut wasi = Linker::new(store.engine());
    wasmtime_wasi::p1::add_to_linker_sync(&mut wasi, |host: &mut Host| &mut host.wasi)?;
    let mut funcs: Vec<(String, wasmtime::Func)> = wasi
        .iter(&mut *store)
        .filter(|(module, _, _)| *module == WASI_MODULE)
        .filter_map(|(_, name, ext)| Some((name.to_string(), ext.into_func()?)))
        .collect();
    funcs.sort_by(|a, b| a.0.cmp(&b.0));

    let mut imports = String::new();
    let mut forwarders = String::new();
    for (i, (name, func)) in funcs.iter().enumerate() {
        let ty = func.ty(&*store);
        let params: Vec<String> = ty.params().map(|t| t.to_string()).collect();
        let results: Vec<String> = ty.results().map(|t| t.to_string()).collect();
        let sig = format!(
            "(param {}) (result {})",
            params.join(" "),
            results.join(" ")
        );
        let args: String = (0..params.len())
            .map(|p| format!("(local.get {p})"))
            .collect();
        imports.push_str(&format!(
            "(import \"{WASI_MODULE}\" \"{name}\" (func $f{i} {sig}))\n"
        ));
        forwarders.push_str(&format!(
            "(func (export \"{name}\") {sig} (call $f{i} {args}))\n"
        ));
    }
    let text = format!("(module\n(import \"env\" \"memory\" (memory 0))\n{imports}(export \"memory\" (memory 0))\n{forwarders})");
    let module = Module::new(store.engine(), text)?;
    let mut externs = vec![Extern::Memory(memory)];
    externs.extend(funcs.into_iter().map(|(_, f)| Extern::Func(f)));
    Instance::new(&mut *store, &module, &externs)
}

// ---------------------------------------------------------------------------
// Starting a process (SPEC.md, "Starting a process")
// ---------------------------------------------------------------------------

/// What to run, as given to `wasmdl-run`.
#[derive(Clone, Debug)]
pub struct Config {
    /// The program; also its `argv[0]`, as given.
    pub program: PathBuf,
    /// `argv[1..]`.
    pub args: Vec<String>,
    /// `libdl.so`.
    pub libdl: PathBuf,
    /// Preopened directories: (host path, guest path).
    pub dirs: Vec<(PathBuf, String)>,
    /// Environment variables of the program.
    pub env: Vec<(String, String)>,
    /// Bytes of stack for libdl and side modules (rounded up to 16).
    pub stack_size: u32,
    /// A directory of compiled modules kept across runs (cache.rs); None:
    /// this process only.
    pub cache_dir: Option<PathBuf>,
}

impl Config {
    pub fn new(program: impl Into<PathBuf>, libdl: impl Into<PathBuf>) -> Config {
        Config {
            program: program.into(),
            args: Vec::new(),
            libdl: libdl.into(),
            dirs: Vec::new(),
            env: Vec::new(),
            stack_size: DEFAULT_STACK_SIZE,
            cache_dir: None,
        }
    }
}

/// Why a process did not produce an exit status of its own.
#[derive(Debug)]
pub enum Failure {
    /// The process could not be started ([`EXIT_FATAL`]).
    Fatal(Error),
    /// The program trapped ([`EXIT_TRAP`]). The error carries the wasm
    /// backtrace; `Display` prints it.
    Trap(Error),
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Fatal(_) => EXIT_FATAL,
            Failure::Trap(_) => EXIT_TRAP,
        }
    }

    pub fn error(&self) -> &Error {
        match self {
            Failure::Fatal(e) | Failure::Trap(e) => e,
        }
    }
}

/// The error and its causes, one per line (a trap's causes include the wasm
/// backtrace). Unlike `{:?}`, never the Rust backtrace of the runner itself.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error = self.error();
        write!(f, "{error}")?;
        for (i, cause) in error.chain().skip(1).enumerate() {
            if i == 0 {
                write!(f, "\n\nCaused by:")?;
            }
            write!(f, "\n    {i}: {cause}")?;
        }
        Ok(())
    }
}

fn fatal(message: impl Into<String>) -> Failure {
    Failure::Fatal(Error::msg(message.into()))
}

/// Runs `config.program` with `config.libdl`, read from their paths. Returns
/// the program's exit status.
pub fn run(config: &Config) -> Result<i32, Failure> {
    let cache = Arc::new(cache::ModuleCache::new(config.cache_dir.clone()));
    run_with_cache(config, &cache)
}

/// Like [`run`], compiling through `cache` (whose statistics the caller can
/// read afterwards).
pub fn run_with_cache(config: &Config, cache: &Arc<cache::ModuleCache>) -> Result<i32, Failure> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| fatal(format!("cannot read {}: {e}", path.display())))
    };
    let libdl = read(&config.libdl)?;
    let program = read(&config.program)?;
    run_bytes_with_cache(config, &libdl, &program, cache)
}

/// Like [`run`], with `libdl.so` and the program given as bytes (the paths in
/// `config` are then only used for `argv[0]` and messages).
pub fn run_bytes(
    config: &Config,
    libdl_bytes: &[u8],
    program_bytes: &[u8],
) -> Result<i32, Failure> {
    let cache = Arc::new(cache::ModuleCache::new(config.cache_dir.clone()));
    run_bytes_with_cache(config, libdl_bytes, program_bytes, &cache)
}

fn run_bytes_with_cache(
    config: &Config,
    libdl_bytes: &[u8],
    program_bytes: &[u8],
    cache: &Arc<cache::ModuleCache>,
) -> Result<i32, Failure> {
    // 1. Compile both, and read libdl.so's memory and table needs.
    // WASMDL_PROFILE=perfmap writes /tmp/perf-PID.map, so that `perf
    // record` names the guest's functions (libdl's included).
    let mut engine_config = wasmtime::Config::new();
    if std::env::var_os("WASMDL_PROFILE").is_some_and(|v| v == "perfmap") {
        engine_config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    } else {
        // No native unwind information (.eh_frame) for compiled code. wasm
        // backtraces and traps do not use it (wasmtime walks frame pointers),
        // nor do host panics (caught at the host-call boundary); only native
        // unwinders do (gdb, `perf --call-graph dwarf`), so profiling runs
        // keep it. It is 17% of a cached entry (880 KB of the 5.3 MB entry
        // of a 20,000-export library) and of the data checked and mapped on
        // a warm dlopen, and less work for a cold one. The setting is part
        // of `precompile_compatibility_hash`: entries written with it on
        // have another name, and are not read.
        engine_config.native_unwind_info(false);
    }
    let engine = Engine::new(&engine_config).map_err(|e| fatal(format!("{e:#}")))?;
    let libdl = cache
        .compile(&engine, libdl_bytes)
        .map_err(|e| fatal(format!("cannot compile {}: {e:#}", config.libdl.display())))?;
    let info = parse_dylink_mem_info(libdl_bytes)
        .map_err(|e| fatal(format!("{}: {e}", config.libdl.display())))?;
    let program = cache.compile(&engine, program_bytes).map_err(|e| {
        fatal(format!(
            "cannot compile {}: {e:#}",
            config.program.display()
        ))
    })?;

    // 2. Memory and table as the program declares them.
    let (memory_type, table_min) = program_memory_and_table(&program)
        .map_err(|e| fatal(format!("{}: {e}", config.program.display())))?;
    let wasi = wasi_context(config).map_err(Failure::Fatal)?;
    let mut process =
        Process::new(&engine, wasi, memory_type, table_min).map_err(Failure::Fatal)?;
    process.set_module_cache(Arc::clone(cache));

    // 3. libdl's region: its stack, then its data; its table slots.
    let region = process
        .reserve_libdl_region(&info, config.stack_size)
        .map_err(Failure::Fatal)?;

    // 4. libdl.so, then its relocations and constructors.
    let libdl_instance = process
        .instantiate_libdl(&libdl, &region)
        .map_err(Failure::Fatal)?;
    for name in ["__wasm_apply_data_relocs", "__wasm_call_ctors"] {
        if let Err(e) = process.call_if_exported(libdl_instance, name) {
            return exit_or(e, Failure::Fatal);
        }
    }

    // A PIE program (it has dylink.0): libdl places it, loads its NEEDED
    // tree (libc.so, ...), binds and initialises everything, and runs it.
    if parse_dylink_mem_info(program_bytes).is_ok() {
        return run_pie(
            &mut process,
            config,
            (libdl, libdl_bytes, libdl_instance),
            program,
            program_bytes,
        );
    }

    // 5. The program, bound to libdl's exports.
    let main_instance = process
        .instantiate_program(&program, libdl_instance)
        .map_err(Failure::Fatal)?;

    // 6. Handles for both, and libdl's own initialisation.
    let (libdl_module_h, libdl_instance_h) =
        register_libdl(&mut process, libdl, libdl_bytes, libdl_instance)?;
    let main_module_h = process
        .register_module(program, program_bytes)
        .map_err(Failure::Fatal)?;
    let main_instance_h = process
        .register_instance(main_module_h, main_instance)
        .map_err(Failure::Fatal)?;
    if libdl_instance
        .get_export(&mut process.store, "__wasmdl_init")
        .is_some()
    {
        let init = libdl_instance
            .get_typed_func::<(u32, u32, u32, u32), i32>(&mut process.store, "__wasmdl_init")
            .map_err(|e| {
                fatal(format!(
                    "libdl.so's __wasmdl_init has the wrong type: {e:#}"
                ))
            })?;
        let args = (
            libdl_module_h,
            libdl_instance_h,
            main_module_h,
            main_instance_h,
        );
        match init.call(&mut process.store, args) {
            Ok(0) => {}
            // libdl has written its reason to stderr already.
            Ok(code) => {
                return Err(fatal(format!(
                    "libdl.so failed to initialise (__wasmdl_init returned {code})"
                )))
            }
            Err(e) => return exit_or(e, Failure::Fatal),
        }
    }

    // 7. The program.
    let start = main_instance
        .get_typed_func::<(), ()>(&mut process.store, "_start")
        .map_err(|e| {
            fatal(format!(
                "{}: no `_start` of type () -> (): {e:#}",
                config.program.display()
            ))
        })?;
    match start.call(&mut process.store, ()) {
        Ok(()) => Ok(0),
        Err(e) => exit_or(e, Failure::Trap),
    }
}

/// An `Err` from guest code is either `proc_exit` (the exit status) or a
/// real failure.
fn exit_or(e: Error, failure: fn(Error) -> Failure) -> Result<i32, Failure> {
    match e.downcast_ref::<I32Exit>() {
        Some(exit) => Ok(exit.0),
        None => Err(failure(e)),
    }
}

fn wasi_context(config: &Config) -> wasmtime::Result<WasiP1Ctx> {
    let mut builder = WasiCtxBuilder::new();
    // The shim runs wasm synchronously: do file I/O on this thread rather
    // than hop to Tokio's blocking pool and back for each call (about 1 ms
    // of a first dlopen, and per read after it).
    builder.allow_blocking_current_thread(true);
    builder.inherit_stdio();
    builder.arg(config.program.to_string_lossy());
    builder.args(&config.args);
    builder.envs(&config.env);
    for (host, guest) in &config.dirs {
        builder
            .preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(|e| e.context(format!("cannot open directory {}", host.display())))?;
    }
    Ok(builder.build_p1())
}

/// The program's `env.memory` type and `env.__indirect_function_table`
/// minimum, from its imports.
/// "Starting a PIE program": register libdl and the (uninstantiated)
/// program, then `__wasmdl_run(libdl_module, libdl_instance, program_module)`.
/// Handles for libdl's module and instance, which both bootstraps pass it.
fn register_libdl(
    process: &mut Process,
    libdl: Module,
    libdl_bytes: &[u8],
    libdl_instance: Instance,
) -> Result<(u32, u32), Failure> {
    let module = process
        .register_module(libdl, libdl_bytes)
        .map_err(Failure::Fatal)?;
    let instance = process
        .register_instance(module, libdl_instance)
        .map_err(Failure::Fatal)?;
    Ok((module, instance))
}

fn run_pie(
    process: &mut Process,
    config: &Config,
    (libdl, libdl_bytes, libdl_instance): (Module, &[u8], Instance),
    program: Module,
    program_bytes: &[u8],
) -> Result<i32, Failure> {
    let (libdl_module_h, libdl_instance_h) =
        register_libdl(process, libdl, libdl_bytes, libdl_instance)?;
    let program_h = process
        .register_module(program, program_bytes)
        .map_err(Failure::Fatal)?;
    let run = libdl_instance
        .get_typed_func::<(u32, u32, u32), i32>(&mut process.store, "__wasmdl_run")
        .map_err(|e| {
            fatal(format!(
                "libdl.so cannot start PIE programs (no __wasmdl_run): {e:#}"
            ))
        })?;
    match run.call(
        &mut process.store,
        (libdl_module_h, libdl_instance_h, program_h),
    ) {
        // libdl has written its reason to stderr already.
        Ok(status) if status < 0 => Err(fatal(format!(
            "libdl.so could not start {}",
            config.program.display()
        ))),
        Ok(status) => Ok(status),
        Err(e) => exit_or(e, Failure::Trap),
    }
}

fn program_memory_and_table(program: &Module) -> Result<(MemoryType, u32), String> {
    let mut memory = None;
    let mut table = None;
    for import in program.imports() {
        match (import.module(), import.name(), import.ty()) {
            ("env", "memory", ExternType::Memory(ty)) => memory = Some(ty),
            ("env", "__indirect_function_table", ExternType::Table(ty)) => table = Some(ty),
            _ => {}
        }
    }
    let memory =
        memory.ok_or("the program does not import `env.memory` (link it with --import-memory)")?;
    let table = table.ok_or(
        "the program does not import `env.__indirect_function_table` (link it with --import-table)",
    )?;
    if memory.is_64() || memory.is_shared() {
        return Err("the program's memory must be a 32-bit unshared memory".into());
    }
    if table.is_64() || !RefType::eq(table.element(), &RefType::FUNCREF) {
        return Err("the program's table must be a 32-bit funcref table".into());
    }
    let table_min =
        u32::try_from(table.minimum()).map_err(|_| "the program's table is too large")?;
    Ok((memory, table_min))
}

/// `WASM_DYLINK_MEM_INFO` of a side module's `dylink.0` section.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DylinkMemInfo {
    pub memory_size: u32,
    /// log2 of the data alignment.
    pub memory_align: u32,
    pub table_size: u32,
    /// log2 of the table-slot alignment.
    pub table_align: u32,
}

/// Reads `WASM_DYLINK_MEM_INFO` from a module's `dylink.0` section, which must
/// be its first section. A `dylink.0` without that subsection means zeros.
pub fn parse_dylink_mem_info(module: &[u8]) -> Result<DylinkMemInfo, String> {
    const NOT_SIDE_MODULE: &str =
        "not a side module: the first section is not a `dylink.0` custom section";
    let mut r = Reader {
        bytes: module,
        pos: 0,
    };
    if r.take(8)? != b"\0asm\x01\0\0\0" {
        return Err("not a wasm module (bad header)".into());
    }
    if r.pos == module.len() || r.byte()? != 0 {
        return Err(NOT_SIDE_MODULE.into());
    }
    let size = r.u32()?;
    let mut section = Reader {
        bytes: r.take(size as usize)?,
        pos: 0,
    };
    let name_len = section.u32()?;
    if section.take(name_len as usize)? != b"dylink.0" {
        return Err(NOT_SIDE_MODULE.into());
    }
    const WASM_DYLINK_MEM_INFO: u8 = 1;
    while section.pos < section.bytes.len() {
        let kind = section.byte()?;
        let size = section.u32()?;
        let mut sub = Reader {
            bytes: section.take(size as usize)?,
            pos: 0,
        };
        if kind == WASM_DYLINK_MEM_INFO {
            let info = DylinkMemInfo {
                memory_size: sub.u32()?,
                memory_align: sub.u32()?,
                table_size: sub.u32()?,
                table_align: sub.u32()?,
            };
            if info.memory_align >= 32 || info.table_align >= 32 {
                return Err("dylink.0: alignment out of range".into());
            }
            return Ok(info);
        }
    }
    Ok(DylinkMemInfo::default())
}

/// A bounds-checked reader of wasm binary encodings.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let slice = end
            .and_then(|end| self.bytes.get(self.pos..end))
            .ok_or("dylink.0: unexpected end of data")?;
        self.pos += n;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, String> {
        let bytes = self.take(1)?;
        bytes
            .first()
            .copied()
            .ok_or_else(|| "dylink.0: unexpected end of data".into())
    }

    /// An unsigned LEB128 `u32` (at most 5 bytes, no bits above 32).
    fn u32(&mut self) -> Result<u32, String> {
        let mut value: u32 = 0;
        for i in 0..5 {
            let b = self.byte()?;
            let bits = u32::from(b & 0x7f);
            if i == 4 && bits > 0x0f {
                return Err("dylink.0: LEB128 value too large".into());
            }
            value |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("dylink.0: LEB128 value too long".into())
    }
}

/// Where step 3 put libdl.
struct LibdlRegion {
    memory_base: u32,
    table_base: u32,
}

fn align_up(value: u64, align_log2: u32) -> u64 {
    let align = 1u64 << align_log2; // align_log2 < 32, checked by the parser
    value.div_ceil(align) * align
}

impl Process {
    /// Step 3: grows memory by the stack and libdl's data, and the table by
    /// libdl's slots, and points `__stack_pointer` at the top of the stack.
    fn reserve_libdl_region(
        &mut self,
        info: &DylinkMemInfo,
        stack_size: u32,
    ) -> wasmtime::Result<LibdlRegion> {
        let Shared {
            memory,
            table,
            stack_pointer,
        } = self.shared;
        let store = &mut self.store;
        let page = memory.page_size(&*store);
        let stack_bottom = memory.data_size(&*store) as u64;
        let stack_top = stack_bottom + align_up(u64::from(stack_size), 4); // 16-byte aligned: 2^4
        let memory_base = align_up(stack_top, info.memory_align);
        let end = memory_base + u64::from(info.memory_size);
        if end > 1 << 32 {
            wasmtime::bail!("libdl's stack and data do not fit in a 4 GiB memory");
        }
        let pages = end.div_ceil(page).saturating_sub(memory.size(&*store));
        memory.grow(&mut *store, pages).map_err(|e| {
            e.context(format!(
                "cannot grow memory by {pages} pages for libdl's stack and data"
            ))
        })?;

        let table_size = table.size(&*store);
        let table_base = align_up(table_size, info.table_align);
        let slots = table_base + u64::from(info.table_size) - table_size;
        table
            .grow(&mut *store, slots, Ref::Func(None))
            .map_err(|e| e.context(format!("cannot grow the table by {slots} for libdl")))?;

        stack_pointer.set(&mut *store, Val::I32(stack_top as u32 as i32))?;
        Ok(LibdlRegion {
            memory_base: u32::try_from(memory_base)?,
            table_base: u32::try_from(table_base)?,
        })
    }

    /// Step 4: instantiates libdl.so. It may import only the process objects,
    /// its bases, WASI and this ABI.
    fn instantiate_libdl(
        &mut self,
        libdl: &Module,
        region: &LibdlRegion,
    ) -> wasmtime::Result<Instance> {
        let store = &mut self.store;
        let constant = |store: &mut Store<Host>, v: u32| {
            Global::new(
                store,
                GlobalType::new(ValType::I32, Mutability::Const),
                Val::I32(v as i32),
            )
        };
        let memory_base = constant(store, region.memory_base)?;
        let table_base = constant(store, region.table_base)?;
        let mut externs = Vec::new();
        for import in libdl.imports() {
            let ext = match (import.module(), import.name()) {
                ("env", "memory") => Extern::Memory(self.shared.memory),
                ("env", "__indirect_function_table") => Extern::Table(self.shared.table),
                ("env", "__stack_pointer") => Extern::Global(self.shared.stack_pointer),
                ("env", "__memory_base") => Extern::Global(memory_base),
                ("env", "__table_base") => Extern::Global(table_base),
                (WASI_MODULE, _) | (ABI_MODULE, _) => self.linker.try_get_by_import(&mut *store, &import)?.ok_or_else(|| {
                    Error::msg(format!("libdl.so imports `{}.{}`, which this runtime does not provide", import.module(), import.name()))
                })?,
                (module, name) => wasmtime::bail!(
                    "libdl.so imports `{module}.{name}`; it may import only env.memory, env.__indirect_function_table, \
                     env.__stack_pointer, env.__memory_base, env.__table_base, WASI preview 1 and {ABI_MODULE}"
                ),
            };
            externs.push(ext);
        }
        Instance::new(&mut *store, libdl, &externs)
            .map_err(|e| e.context("cannot instantiate libdl.so"))
    }

    /// Calls a `() -> ()` export if the instance has it.
    fn call_if_exported(&mut self, instance: Instance, name: &str) -> wasmtime::Result<()> {
        if instance.get_export(&mut self.store, name).is_none() {
            return Ok(());
        }
        let func = instance.get_typed_func::<(), ()>(&mut self.store, name)?;
        func.call(&mut self.store, ()).map_err(|e| {
            if e.is::<I32Exit>() {
                e
            } else {
                e.context(format!("libdl.so's {name} failed"))
            }
        })
    }

    /// Step 5: instantiates the program: the process objects, WASI, and each
    /// `libdl.so.NAME` bound to libdl's export `NAME`.
    fn instantiate_program(
        &mut self,
        program: &Module,
        libdl: Instance,
    ) -> wasmtime::Result<Instance> {
        let store = &mut self.store;
        let mut externs = Vec::new();
        for import in program.imports() {
            let ext = match (import.module(), import.name()) {
                ("env", "memory") => Extern::Memory(self.shared.memory),
                ("env", "__indirect_function_table") => Extern::Table(self.shared.table),
                (WASI_MODULE, _) => self
                    .linker
                    .try_get_by_import(&mut *store, &import)?
                    .ok_or_else(|| {
                        Error::msg(format!(
                            "the program imports `{}.{}`, which this runtime does not provide",
                            import.module(),
                            import.name()
                        ))
                    })?,
                ("libdl.so", name) => libdl.get_export(&mut *store, name).ok_or_else(|| {
                    Error::msg(format!(
                        "the program imports `libdl.so.{name}`, which libdl.so does not export"
                    ))
                })?,
                (module, name) => wasmtime::bail!(
                    "the program imports `{module}.{name}`, which is not provided to programs"
                ),
            };
            externs.push(ext);
        }
        Instance::new(&mut *store, program, &externs)
            .map_err(|e| e.context("cannot instantiate the program"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names read from the binary are the engine's, in its order: every
    /// kind of export, a name that is not ASCII, an empty name, custom
    /// sections around the export section.
    #[test]
    fn export_names_follow_the_export_section() {
        let wat = r#"(module
            (@custom "before" "xyz")
            (import "env" "g" (global i32))
            (memory 1)
            (table 2 funcref)
            (global $h i32 (i32.const 5))
            (func $f)
            (export "f" (func $f))
            (export "mémoire" (memory 0))
            (export "" (table 0))
            (export "h" (global $h))
            (export "imported" (global 0))
            (export "f again" (func $f))
            (@custom "after" "abc"))"#;
        let bytes = wat::parse_str(wat).unwrap();
        let engine = Engine::default();
        let module = Module::from_binary(&engine, &bytes).unwrap();
        let names = ExportNames::new(&module, &bytes);
        assert!(names.text.is_none(), "read from the binary");
        let want: Vec<&str> = module.exports().map(|e| e.name()).collect();
        let got: Vec<&str> = (0..names.len())
            .map(|i| names.get(&bytes, i).unwrap())
            .collect();
        assert_eq!(got, want);
        assert_eq!(names.get(&bytes, want.len()), None);

        // A binary that does not match (as `register_module` could be given):
        // the engine's own list.
        let other = ExportNames::new(&module, &wat::parse_str("(module)").unwrap());
        assert!(other.text.is_some());
        let got: Vec<&str> = (0..other.len())
            .map(|i| other.get(&[], i).unwrap())
            .collect();
        assert_eq!(got, want);
    }
}
