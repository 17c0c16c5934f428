//! The wasmdl host ABI, version 0, for Wasmer.
//!
//! This file implements `host-abi/SPEC.md` (import module `wasmdl_host_v0`)
//! on the `wasmer` crate (7.x, Cranelift), written from the spec as a runtime
//! author would; `process.rs` does the spec's "Starting a process" and
//! `wasi.rs` sets up WASI preview 1. The ABI functions appear below in the
//! spec's order.
//!
//! How the pieces fit:
//!
//! * One [`Store`] holds everything: the process memory, the process table,
//!   `__stack_pointer`, `libdl.so`, the program and every side module. The
//!   ABI's state, [`Host`], is the data of one [`FunctionEnv`] in that store;
//!   WASI's (wasmer-wasix's `WasiEnv`) is another.
//! * `IMPORT_HOST` binds an import to the shim's own definitions: the WASI
//!   preview 1 functions of wasmer-wasix and this ABI's functions, each made
//!   once per process ([`Host::host_defs`]). WASIX's own dynamic linker and
//!   its other import modules (`wasix_32v1`, `wasi`) are not offered.
//! * wasmer-wasix does not look for its caller's `memory` export (as
//!   wasmtime-wasi and Node's WASI do): its functions use the memory its
//!   environment was initialised with, which is the process memory
//!   (`wasi.rs`). So libdl, side modules and programs that export no memory
//!   can call WASI directly, and the shim needs no forwarding module.
//! * The ABI functions never trap on guest input. Each validates its
//!   arguments (pointer ranges with checked arithmetic, live handles,
//!   indices) before it has any effect, and on failure returns the spec's
//!   error code and records a message for `last_error`.
//! * Handles are issued from counters that only go up, starting at 1, so a
//!   freed handle is never issued again.
//!
//! Limits of this engine, as the spec asks shims to document:
//!
//! * `instance_free` and `global_free` only drop the handle. A Wasmer
//!   [`Store`] keeps every instance, function, global, table and memory made
//!   in it (its `StoreObjects` are append-only vectors) until the store is
//!   dropped; a Rust `Instance` value is only a set of indices into them. So
//!   a freed instance's own state (its `vmctx`: globals, function and import
//!   tables; side modules define no memory or table) and every global
//!   `global_new` made stay allocated until the process ends. README.md
//!   gives the measured cost per `dlopen`/`dlclose` cycle.
//! * The process table is created with a maximum of [`MAX_TABLE_ELEMENTS`]
//!   entries. Wasmer grows a table by resizing a `Vec` to the new length, so
//!   without a maximum a `table.grow` of 2^31 entries, from guest code or
//!   through `table_grow`, would try to allocate 16 GiB and abort the host.
//!   The maximum is not observable by modules that import the table without
//!   one of their own (all of them, in practice), and growth past it fails
//!   as wasmtime's store limit makes it fail there.
//! * Wasmer has no store-wide cap on instances (wasmtime's is 10,000 by
//!   default), so nothing needs raising.
//! * Wasmer's Cranelift backend has no tail calls (`return_call*` is refused
//!   at validation, `ERR_COMPILE`). libdl notices when its first trampoline
//!   does not compile and uses `call_indirect` trampolines from then on.

pub mod cache;
pub mod process;
pub mod wasi;

use std::collections::HashMap;
use std::sync::Arc;

use wasmer::{
    AsStoreRef, Engine, Extern, ExternType, Function, FunctionEnv, FunctionEnvMut, Global,
    GlobalType, ImportType, InstantiationError, Memory, Module, Mutability, RuntimeError, Store,
    Table, Type, Value,
};

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

/// The largest the process table may grow (entries); see the top of this file.
pub const MAX_TABLE_ELEMENTS: u32 = 1 << 24;

// ---------------------------------------------------------------------------
// Host state
// ---------------------------------------------------------------------------

/// The ABI's state: the data of the `FunctionEnv` its functions run with.
pub struct Host {
    /// Memory, table and `__stack_pointer`, made with the store.
    shared: Shared,
    /// The shim's own definitions, for `IMPORT_HOST`: import module, then
    /// name. Filled once the functions exist (they need this environment).
    host_defs: HashMap<&'static str, HashMap<String, Extern>>,
    modules: Handles<Arc<LoadedModule>>,
    instances: Handles<LiveInstance>,
    globals: Handles<Global>,
    /// The message of the last failing call, for `last_error`.
    last_error: String,
    /// Compiled modules, by their bytes (cache.rs).
    cache: Arc<cache::ModuleCache>,
    engine: Engine,
}

/// The process-wide objects every module shares.
#[derive(Clone)]
pub struct Shared {
    pub memory: Memory,
    pub table: Table,
    pub stack_pointer: Global,
}

/// A compiled module, shared by its handle and the instances made from it.
struct LoadedModule {
    module: Module,
    /// The original binary, for `module_bytes` (Wasmer keeps none).
    bytes: Arc<[u8]>,
}

/// A live instance: its exports in export-section order, which is how the
/// ABI names them (`IMPORT_EXPORT`, `export_*`). Wasmer builds an
/// instance's `Exports` map in the module's export order; the values are
/// copied out of it once, so that an index is found in constant time.
struct LiveInstance {
    exports: Vec<Extern>,
}

impl LiveInstance {
    fn new(instance: &wasmer::Instance) -> LiveInstance {
        LiveInstance {
            exports: instance.exports.iter().map(|(_, e)| e.clone()).collect(),
        }
    }
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
    /// `instance_new`). That is not an instantiation failure: the error
    /// unwinds through the host call and ends the process.
    Exit(RuntimeError),
}

fn fail<T>(code: i32, message: impl Into<String>) -> Result<T, Fail> {
    Err(Fail::Code(code, message.into()))
}

type AbiResult<T = ()> = Result<T, Fail>;
type Env<'a> = FunctionEnvMut<'a, Host>;

/// Turns an ABI function's result into its return value: the error code,
/// after recording the message for `last_error`.
fn finish(env: &mut Env<'_>, result: AbiResult) -> Result<i32, RuntimeError> {
    match result {
        Ok(()) => Ok(OK),
        Err(Fail::Code(code, message)) => {
            env.data_mut().last_error = message;
            Ok(code)
        }
        Err(Fail::Exit(exit)) => Err(exit),
    }
}

/// Whether a guest error is WASI's `proc_exit` (wasmer-wasix raises it as
/// a `WasiError::Exit` inside a `RuntimeError`), and its status if so.
pub fn exit_status(e: &RuntimeError) -> Option<i32> {
    match e.downcast_ref::<wasmer_wasix::WasiError>() {
        Some(wasmer_wasix::WasiError::Exit(code)) => Some(code.raw()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Guest memory access: every range checked, without overflow
// ---------------------------------------------------------------------------

/// The byte range `[ptr, ptr + len)` if it lies inside a memory of
/// `memory_len` bytes.
fn guest_range(memory_len: u64, ptr: u32, len: u32) -> Option<(u64, u64)> {
    let end = u64::from(ptr).checked_add(u64::from(len))?; // cannot overflow
    (end <= memory_len).then_some((u64::from(ptr), end))
}

fn fault<T>(ptr: u32, len: impl Into<u64>) -> AbiResult<T> {
    fail(
        ERR_FAULT,
        format!("range {ptr:#x}+{:#x} is outside memory", len.into()),
    )
}

/// Checks a range up front, so that a call can fail before it has any effect.
fn check_range(env: &Env<'_>, ptr: u32, len: u32) -> AbiResult {
    let size = env.data().shared.memory.view(env).data_size();
    match guest_range(size, ptr, len) {
        Some(_) => Ok(()),
        None => fault(ptr, len),
    }
}

fn read_guest(env: &Env<'_>, ptr: u32, len: u32) -> AbiResult<Vec<u8>> {
    let view = env.data().shared.memory.view(env);
    if guest_range(view.data_size(), ptr, len).is_none() {
        return fault(ptr, len);
    }
    // The range is inside memory (at most 4 GiB), so the buffer is bounded.
    let mut buf = vec![0u8; len as usize];
    match view.read(u64::from(ptr), &mut buf) {
        Ok(()) => Ok(buf),
        Err(_) => fault(ptr, len),
    }
}

fn write_guest(env: &Env<'_>, ptr: u32, bytes: &[u8]) -> AbiResult {
    let view = env.data().shared.memory.view(env);
    let len = bytes.len() as u64;
    let inside = u32::try_from(len)
        .ok()
        .and_then(|l| guest_range(view.data_size(), ptr, l));
    match inside.map(|_| view.write(u64::from(ptr), bytes)) {
        Some(Ok(())) => Ok(()),
        _ => fault(ptr, len),
    }
}

fn write_u32(env: &Env<'_>, ptr: u32, value: u32) -> AbiResult {
    write_guest(env, ptr, &value.to_le_bytes())
}

// ---------------------------------------------------------------------------
// The ABI functions, in the spec's order
// ---------------------------------------------------------------------------

/// Makes the `wasmdl_host_v0` functions in `store`, in the spec's order, for
/// the ABI state `env`. Every parameter is an `i32` in wasm (`u32` here)
/// except the `i64` values.
pub fn abi_functions(store: &mut Store, env: &FunctionEnv<Host>) -> Vec<(&'static str, Function)> {
    /// `name(args) -> err` calls the Rust function of the same name and
    /// turns its result into the error code.
    macro_rules! abi {
        ($name:ident($($arg:ident: $ty:ty),*)) => {
            (
                stringify!($name),
                Function::new_typed_with_env(
                    store,
                    env,
                    |mut c: Env<'_>, $($arg: $ty),*| -> Result<i32, RuntimeError> {
                        let result = $name(&mut c, $($arg),*);
                        finish(&mut c, result)
                    },
                ),
            )
        };
    }
    vec![
        // `last_error` is the one function that returns a length, not a code.
        (
            "last_error",
            Function::new_typed_with_env(store, env, |c: Env<'_>, buf: u32, cap: u32| {
                last_error(&c, buf, cap)
            }),
        ),
        abi!(module_compile(bytes: u32, len: u32, out_module: u32)),
        abi!(module_bytes(module: u32, buf: u32, cap: u32, out_len: u32)),
        abi!(module_free(module: u32)),
        abi!(instance_new(module: u32, imports: u32, count: u32, out_instance: u32)),
        abi!(instance_free(instance: u32)),
        abi!(export_global_get(instance: u32, export_index: u32, out_value: u32)),
        abi!(export_to_table(instance: u32, export_index: u32, table_index: u32)),
        abi!(table_grow(delta: u32, out_old_size: u32)),
        abi!(table_clear(index: u32, count: u32)),
        abi!(global_new(valtype: u32, mutable: u32, value: i64, out_global: u32)),
        abi!(global_set(global: u32, value: i64)),
        abi!(global_free(global: u32)),
    ]
}

/// `last_error(buf, cap) -> len`. Never fails: a bad range copies nothing.
fn last_error(env: &Env<'_>, buf: u32, cap: u32) -> u32 {
    let message = env.data().last_error.as_bytes();
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
    let n = len.min(cap) as usize;
    if let Some(prefix) = message.get(..n) {
        let prefix = prefix.to_vec();
        // The result is ignored on purpose: an invalid range copies nothing
        // (write_guest checks the whole range before writing any of it).
        let _ = write_guest(env, buf, &prefix);
    }
    len
}

/// `module_compile(bytes, len, out_module) -> err`.
fn module_compile(env: &mut Env<'_>, bytes: u32, len: u32, out_module: u32) -> AbiResult {
    let binary = read_guest(env, bytes, len)?;
    check_range(env, out_module, 4)?;
    // Through the cache, which compiles with `Module::from_binary` (never
    // `Module::new`, which would take WAT text too) and full validation.
    let host = env.data();
    let module = match host.cache.compile(&host.engine, &binary) {
        Ok(module) => module,
        Err(e) => return fail(ERR_COMPILE, e),
    };
    let loaded = Arc::new(LoadedModule {
        module,
        bytes: binary.into(),
    });
    let Some(handle) = env.data_mut().modules.insert(loaded) else {
        return fail(ERR_NOMEM, "out of module handles");
    };
    write_u32(env, out_module, handle)
}

/// `module_bytes(module, buf, cap, out_len) -> err`.
fn module_bytes(env: &mut Env<'_>, module: u32, buf: u32, cap: u32, out_len: u32) -> AbiResult {
    let Some(loaded) = env.data().modules.get(module) else {
        return fail(ERR_BADHANDLE, format!("module handle {module} is not live"));
    };
    let bytes = Arc::clone(&loaded.bytes);
    let Ok(len) = u32::try_from(bytes.len()) else {
        return fail(ERR_FAULT, "the module is larger than 4 GiB");
    };
    // Both outputs are checked before either is written; `buf` only when it
    // is written (cap >= len).
    check_range(env, out_len, 4)?;
    if cap >= len {
        check_range(env, buf, len)?;
        write_guest(env, buf, &bytes)?;
    }
    write_u32(env, out_len, len)
}

/// `module_free(module) -> err`. Instances made from the module are unaffected.
fn module_free(env: &mut Env<'_>, module: u32) -> AbiResult {
    match env.data_mut().modules.remove(module) {
        Some(_) => Ok(()),
        None => fail(ERR_BADHANDLE, format!("module handle {module} is not live")),
    }
}

/// `instance_new(module, imports, count, out_instance) -> err`.
fn instance_new(
    env: &mut Env<'_>,
    module: u32,
    imports: u32,
    count: u32,
    out_instance: u32,
) -> AbiResult {
    let Some(loaded) = env.data().modules.get(module).cloned() else {
        return fail(ERR_BADHANDLE, format!("module handle {module} is not live"));
    };
    let module = &loaded.module;
    // The count first: it is cheap, and it bounds the copy below.
    let wanted = module.imports().len();
    if usize::try_from(count).ok() != Some(wanted) {
        return fail(
            ERR_INVAL,
            format!("{count} import descriptors given, the module has {wanted} imports"),
        );
    }
    let Some(descriptors_len) = count.checked_mul(DESCRIPTOR_SIZE) else {
        return fault(imports, u64::from(count) * u64::from(DESCRIPTOR_SIZE));
    };
    let descriptors = read_guest(env, imports, descriptors_len)?;
    check_range(env, out_instance, 4)?;

    // Resolve every descriptor and check it against its import before the
    // engine sees anything. The first bad descriptor decides the code.
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
        let ext = resolve_descriptor(env, &import, kind, a, b)
            .map_err(|f| with_context(f, &context()))?;
        check_import_type(&*env, &import, &ext).map_err(|f| with_context(f, &context()))?;
        externs.push(ext);
    }

    let instance = match wasmer::Instance::new_by_index(&mut *env, module, &externs) {
        Ok(instance) => instance,
        Err(InstantiationError::Start(e)) if exit_status(&e).is_some() => {
            return Err(Fail::Exit(e))
        }
        // A trap in a start function or a segment out of bounds: the
        // message without the backtrace Display would add.
        Err(InstantiationError::Start(e)) => {
            return fail(
                ERR_INSTANTIATE,
                format!("instantiation trapped: {}", e.message()),
            )
        }
        Err(InstantiationError::Link(e)) => return fail(ERR_LINK, e.to_string()),
        Err(e) => return fail(ERR_INSTANTIATE, e.to_string()),
    };
    let live = LiveInstance::new(&instance);
    let Some(handle) = env.data_mut().instances.insert(live) else {
        return fail(ERR_NOMEM, "out of instance handles");
    };
    write_u32(env, out_instance, handle)
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
    env: &Env<'_>,
    import: &ImportType,
    kind: u32,
    a: u32,
    b: u32,
) -> AbiResult<Extern> {
    let host = env.data();
    let import_kind = extern_type_name(import.ty());
    let unused_zero = |a_used: bool| -> AbiResult {
        if b == 0 && (a_used || a == 0) {
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
            unused_zero(false)?;
            expect("memory")?;
            Ok(Extern::Memory(host.shared.memory.clone()))
        }
        IMPORT_TABLE => {
            unused_zero(false)?;
            expect("table")?;
            Ok(Extern::Table(host.shared.table.clone()))
        }
        IMPORT_STACK_POINTER => {
            unused_zero(false)?;
            expect("global")?;
            Ok(Extern::Global(host.shared.stack_pointer.clone()))
        }
        IMPORT_GLOBAL => {
            unused_zero(true)?;
            let Some(global) = host.globals.get(a) else {
                return fail(ERR_BADHANDLE, format!("global handle {a} is not live"));
            };
            expect("global")?;
            Ok(Extern::Global(global.clone()))
        }
        IMPORT_EXPORT => export_of(env, a, b),
        IMPORT_HOST => {
            unused_zero(false)?;
            // Only WASI preview 1 and this ABI are defined; the functions
            // were made once, with the process, and are shared by every
            // instance that imports them.
            match host
                .host_defs
                .get(import.module())
                .and_then(|names| names.get(import.name()))
            {
                Some(ext) => Ok(ext.clone()),
                None => fail(ERR_LINK, "the host has no definition for it"),
            }
        }
        _ => fail(ERR_INVAL, format!("unknown descriptor kind {kind}")),
    }
}

/// Checks that `ext` can satisfy `import`: same kind, and for functions,
/// globals and tags the same type. Memory and table limits are left to the
/// engine (`ERR_LINK`).
fn check_import_type(store: &impl AsStoreRef, import: &ImportType, ext: &Extern) -> AbiResult {
    match (import.ty(), ext) {
        (ExternType::Function(want), Extern::Function(f)) => {
            let have = f.ty(store);
            if have == *want {
                Ok(())
            } else {
                fail(
                    ERR_LINK,
                    format!("function type {have} does not match the import's {want}"),
                )
            }
        }
        (ExternType::Global(want), Extern::Global(g)) => {
            let have = g.ty(store);
            if have.ty == want.ty && have.mutability == want.mutability {
                Ok(())
            } else {
                fail(
                    ERR_LINK,
                    format!(
                        "global type {} does not match the import's {}",
                        global_type_name(&have),
                        global_type_name(want)
                    ),
                )
            }
        }
        (ExternType::Memory(_), Extern::Memory(_)) | (ExternType::Table(_), Extern::Table(_)) => {
            Ok(())
        }
        // Exception tags (setjmp/longjmp's __c_longjmp, C++'s
        // __cpp_exception) are shared between modules; their types must match.
        (ExternType::Tag(want), Extern::Tag(t)) => {
            let have = t.ty(store);
            if have.params == want.params {
                Ok(())
            } else {
                fail(
                    ERR_LINK,
                    format!(
                        "tag type {:?} does not match the import's {:?}",
                        have.params, want.params
                    ),
                )
            }
        }
        (want, have) => fail(
            ERR_LINK,
            format!(
                "the import is a {}, the descriptor gives a {}",
                extern_type_name(want),
                extern_type_name(&have.ty(store))
            ),
        ),
    }
}

fn extern_type_name(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Function(_) => "function",
        ExternType::Global(_) => "global",
        ExternType::Memory(_) => "memory",
        ExternType::Table(_) => "table",
        ExternType::Tag(_) => "tag",
    }
}

fn global_type_name(ty: &GlobalType) -> String {
    let mutability = match ty.mutability {
        Mutability::Var => "mut ",
        Mutability::Const => "",
    };
    format!("{mutability}{}", ty.ty)
}

/// `instance_free(instance) -> err`. Only the handle goes; see the top of
/// this file for what the store keeps.
fn instance_free(env: &mut Env<'_>, instance: u32) -> AbiResult {
    match env.data_mut().instances.remove(instance) {
        Some(_) => Ok(()),
        None => fail(
            ERR_BADHANDLE,
            format!("instance handle {instance} is not live"),
        ),
    }
}

/// Export number `index` of a live instance (`ERR_BADHANDLE`, `ERR_RANGE`).
fn export_of(env: &Env<'_>, instance: u32, index: u32) -> AbiResult<Extern> {
    let Some(live) = env.data().instances.get(instance) else {
        return fail(
            ERR_BADHANDLE,
            format!("instance handle {instance} is not live"),
        );
    };
    match usize::try_from(index)
        .ok()
        .and_then(|i| live.exports.get(i))
    {
        Some(ext) => Ok(ext.clone()),
        None => fail(
            ERR_RANGE,
            format!(
                "export index {index} out of range (instance {instance} has {} exports)",
                live.exports.len()
            ),
        ),
    }
}

/// `export_global_get(instance, export_index, out_value) -> err`.
fn export_global_get(env: &mut Env<'_>, instance: u32, index: u32, out_value: u32) -> AbiResult {
    let Extern::Global(global) = export_of(env, instance, index)? else {
        return fail(ERR_TYPE, format!("export {index} is not a global"));
    };
    let value: u64 = match global.get(&mut *env) {
        Value::I32(v) => u64::from(v as u32), // zero-extended
        Value::I64(v) => v as u64,
        other => {
            return fail(
                ERR_TYPE,
                format!(
                    "export {index} is a global of type {}, not i32 or i64",
                    other.ty()
                ),
            )
        }
    };
    write_guest(env, out_value, &value.to_le_bytes())
}

/// `export_to_table(instance, export_index, table_index) -> err`.
fn export_to_table(env: &mut Env<'_>, instance: u32, index: u32, table_index: u32) -> AbiResult {
    let Extern::Function(func) = export_of(env, instance, index)? else {
        return fail(ERR_TYPE, format!("export {index} is not a function"));
    };
    let table = env.data().shared.table.clone();
    let size = table.size(&*env);
    if table_index >= size {
        return fail(
            ERR_RANGE,
            format!("table index {table_index} out of range (table size {size})"),
        );
    }
    match table.set(&mut *env, table_index, Value::FuncRef(Some(func))) {
        Ok(()) => Ok(()),
        Err(e) => fail(ERR_TYPE, e.message()),
    }
}

/// `table_grow(delta, out_old_size) -> err`.
fn table_grow(env: &mut Env<'_>, delta: u32, out_old_size: u32) -> AbiResult {
    check_range(env, out_old_size, 4)?;
    let table = env.data().shared.table.clone();
    // The table's maximum makes Wasmer refuse growth past the limit before
    // it allocates anything; the check here only gives a better message.
    let size = table.size(&*env);
    if u64::from(size) + u64::from(delta) > u64::from(MAX_TABLE_ELEMENTS) {
        return fail(
            ERR_NOMEM,
            format!(
                "cannot grow the table by {delta}: {size} + {delta} entries is more than this host's limit of {MAX_TABLE_ELEMENTS}"
            ),
        );
    }
    let old = match table.grow(&mut *env, delta, Value::FuncRef(None)) {
        Ok(old) => old,
        Err(e) => {
            return fail(
                ERR_NOMEM,
                format!("cannot grow the table by {delta}: {}", e.message()),
            )
        }
    };
    write_u32(env, out_old_size, old)
}

/// `table_clear(index, count) -> err`. All or nothing.
fn table_clear(env: &mut Env<'_>, index: u32, count: u32) -> AbiResult {
    let table = env.data().shared.table.clone();
    let size = table.size(&*env);
    let end = u64::from(index) + u64::from(count); // cannot overflow u64
    if end > u64::from(size) {
        return fail(
            ERR_RANGE,
            format!("table range {index}+{count} out of range (table size {size})"),
        );
    }
    // Wasmer's API has no table fill; each entry is in range, so no set fails.
    for i in index..index + count {
        if let Err(e) = table.set(&mut *env, i, Value::FuncRef(None)) {
            return fail(ERR_RANGE, e.message());
        }
    }
    Ok(())
}

/// `global_new(valtype, mutable, value, out_global) -> err`.
fn global_new(
    env: &mut Env<'_>,
    valtype: u32,
    mutable: u32,
    value: i64,
    out_global: u32,
) -> AbiResult {
    let initial = match valtype {
        VALTYPE_I32 => Value::I32(value as i32), // truncated
        VALTYPE_I64 => Value::I64(value),
        _ => return fail(ERR_INVAL, format!("unknown value type {valtype:#x}")),
    };
    let mutable = match mutable {
        0 => false,
        1 => true,
        _ => return fail(ERR_INVAL, format!("mutable must be 0 or 1, not {mutable}")),
    };
    check_range(env, out_global, 4)?;
    let global = if mutable {
        Global::new_mut(&mut *env, initial)
    } else {
        Global::new(&mut *env, initial)
    };
    let Some(handle) = env.data_mut().globals.insert(global) else {
        return fail(ERR_NOMEM, "out of global handles");
    };
    write_u32(env, out_global, handle)
}

/// `global_set(global, value) -> err`.
fn global_set(env: &mut Env<'_>, global: u32, value: i64) -> AbiResult {
    let Some(g) = env.data().globals.get(global).cloned() else {
        return fail(ERR_BADHANDLE, format!("global handle {global} is not live"));
    };
    let ty = g.ty(&*env);
    if ty.mutability == Mutability::Const {
        return fail(ERR_TYPE, format!("global {global} is immutable"));
    }
    let new = match ty.ty {
        Type::I32 => Value::I32(value as i32), // the low 32 bits
        _ => Value::I64(value),
    };
    match g.set(&mut *env, new) {
        Ok(()) => Ok(()),
        Err(e) => fail(ERR_TYPE, e.message()),
    }
}

/// `global_free(global) -> err`. Instances that imported it keep it.
fn global_free(env: &mut Env<'_>, global: u32) -> AbiResult {
    match env.data_mut().globals.remove(global) {
        Some(_) => Ok(()),
        None => fail(ERR_BADHANDLE, format!("global handle {global} is not live")),
    }
}

// ---------------------------------------------------------------------------
// The ABI state's life
// ---------------------------------------------------------------------------

impl Host {
    /// The state of a process whose shared objects are `shared`, compiling
    /// with `engine` through `cache`.
    pub fn new(shared: Shared, engine: Engine, cache: Arc<cache::ModuleCache>) -> Host {
        Host {
            shared,
            host_defs: HashMap::new(),
            modules: Handles::new(),
            instances: Handles::new(),
            globals: Handles::new(),
            last_error: String::new(),
            cache,
            engine,
        }
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Makes `ext` the definition of `module.name` for `IMPORT_HOST`.
    pub fn define(&mut self, module: &'static str, name: &str, ext: Extern) {
        self.host_defs
            .entry(module)
            .or_default()
            .insert(name.to_string(), ext);
    }

    /// The shim's definition of `module.name`, if it has one.
    pub fn host_def(&self, module: &str, name: &str) -> Option<&Extern> {
        self.host_defs.get(module)?.get(name)
    }

    /// Gives a module a handle, as if `module_compile` had made it. `bytes`
    /// is what `module_bytes` will return.
    pub fn register_module(&mut self, module: Module, bytes: &[u8]) -> Result<u32, String> {
        let loaded = Arc::new(LoadedModule {
            module,
            bytes: bytes.into(),
        });
        self.modules
            .insert(loaded)
            .ok_or_else(|| "out of module handles".into())
    }

    /// Gives an instance a handle, as if `instance_new` had made it.
    pub fn register_instance(&mut self, instance: &wasmer::Instance) -> Result<u32, String> {
        self.instances
            .insert(LiveInstance::new(instance))
            .ok_or_else(|| "out of instance handles".into())
    }
}

/// Makes the ABI's environment in `store` with its functions defined for
/// `IMPORT_HOST`, and WASI's functions (`wasi_defs`) beside them.
pub fn new_host_env(
    store: &mut Store,
    host: Host,
    wasi_defs: Vec<(String, Extern)>,
) -> FunctionEnv<Host> {
    let env = FunctionEnv::new(store, host);
    let functions = abi_functions(store, &env);
    let host = env.as_mut(store);
    for (name, f) in functions {
        host.define(ABI_MODULE, name, Extern::Function(f));
    }
    for (name, ext) in wasi_defs {
        host.define(WASI_MODULE, &name, ext);
    }
    env
}
