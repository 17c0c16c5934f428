//! Starting a process (SPEC.md, "Starting a process" and "Starting a PIE
//! program") on Wasmer: the engine, the store with its shared objects,
//! `libdl.so`, then the program.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmer::sys::{CompilerConfig, Cranelift, EngineBuilder, NativeEngineExt, Target};
use wasmer::{
    Engine, Extern, ExternType, FunctionEnv, Global, Instance, Memory, MemoryType, Module, Pages,
    RuntimeError, Store, Table, TableType, Type, Value,
};
use wasmer_wasix::WasiFunctionEnv;

use crate::cache::ModuleCache;
use crate::wasi::{wasi_functions, WasiConfig};
use crate::{exit_status, new_host_env, Host, Shared, ABI_MODULE, MAX_TABLE_ELEMENTS, WASI_MODULE};

/// Exit status when the process cannot be started (a file cannot be read,
/// `libdl.so` or the program does not compile or link, `__wasmdl_init`
/// fails or traps, `__wasmdl_run` is negative), as the ELF loader does.
pub const EXIT_FATAL: i32 = 127;
/// Exit status after a trap (128 + SIGABRT), as `wasmtime run` gives.
pub const EXIT_TRAP: i32 = 134;
/// Default size of the stack that libdl and side modules run on.
pub const DEFAULT_STACK_SIZE: u32 = 1 << 20;

/// What to run, as given to `wasmdl-run-wasmer`.
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
    /// A directory of compiled modules kept across runs (cache.rs).
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
    Fatal(String),
    /// The program trapped ([`EXIT_TRAP`]); the message has the wasm
    /// backtrace.
    Trap(String),
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Fatal(_) => EXIT_FATAL,
            Failure::Trap(_) => EXIT_TRAP,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Fatal(m) | Failure::Trap(m) => f.write_str(m),
        }
    }
}

fn fatal(message: impl Into<String>) -> Failure {
    Failure::Fatal(message.into())
}

/// A guest error as text: the message, then the wasm backtrace.
pub fn describe(e: &RuntimeError) -> String {
    let mut s = e.message();
    if !e.trace().is_empty() {
        s.push_str("\nwasm backtrace:");
        for (i, frame) in e.trace().iter().enumerate() {
            let name = frame.function_name().map_or_else(
                || format!("<function {}>", frame.func_index()),
                str::to_string,
            );
            s.push_str(&format!(
                "\n  {i:>3}: {:#x} - {}!{name}",
                frame.module_offset(),
                frame.module_name()
            ));
        }
    }
    s
}

/// An `Err` from guest code is either `proc_exit` (the exit status) or a
/// real failure.
fn exit_or(e: RuntimeError, what: &str, failure: fn(String) -> Failure) -> Result<i32, Failure> {
    match exit_status(&e) {
        Some(status) => Ok(status),
        None => Err(failure(format!("{what}: {}", describe(&e)))),
    }
}

// ---------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------

/// The `wasmer` crate's version, which Cargo.toml pins (the crate does not
/// export it).
const WASMER_VERSION: &str = "7.4.2";

/// The engine every module of a process is compiled with: Cranelift,
/// Wasmer's default backend (LLVM is not available here), with the
/// wasm features it supports on this target, which include exception
/// handling with `exnref` and exclude tail calls. Also returns a
/// description of what makes its code valid, for the on-disk cache.
pub fn engine() -> (Engine, String) {
    let compiler = Cranelift::default();
    let target = Target::default();
    let features = compiler.supported_features_for_target(&target);
    let engine: Engine = EngineBuilder::new(compiler)
        .set_features(Some(features.clone()))
        .set_target(Some(target))
        .engine()
        .into();
    let settings = format!(
        "wasmer {WASMER_VERSION} {} {:?} {:?}",
        engine.deterministic_id(),
        engine.target(),
        features
    );
    (engine, settings)
}

/// The engine in a few lines, for `--engine-info` and the test targets'
/// output: what it is, its wasm features, and what it lacks that the spec
/// or libdl can use (each with what follows from it).
pub fn engine_info(engine: &Engine) -> Vec<String> {
    let compiler = Cranelift::default();
    let f = compiler.supported_features_for_target(engine.target());
    let features = [
        ("threads", f.threads),
        ("reference-types", f.reference_types),
        ("simd", f.simd),
        ("bulk-memory", f.bulk_memory),
        ("multi-value", f.multi_value),
        ("tail-call", f.tail_call),
        ("multi-memory", f.multi_memory),
        ("memory64", f.memory64),
        ("exceptions", f.exceptions),
        ("relaxed-simd", f.relaxed_simd),
        ("extended-const", f.extended_const),
        ("wide-arithmetic", f.wide_arithmetic),
    ];
    let list = |on: bool| {
        features
            .iter()
            .filter(|(_, v)| *v == on)
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut lines = vec![
        format!(
            "engine: Wasmer {WASMER_VERSION}, Cranelift ({}), {}",
            engine.deterministic_id(),
            engine.target().triple()
        ),
        format!("wasm features on: {}", list(true)),
        format!("wasm features off: {}", list(false)),
    ];
    // A one-function module with `return_call`: refused if tail calls are off.
    let tail_call =
        b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x03\x02\x01\0\x0a\x06\x01\x04\0\x12\0\x0b";
    if Module::validate(engine, tail_call).is_err() {
        lines.push(
            "missing: tail calls (return_call, return_call_indirect), refused at compile time: \
             libdl falls back to call_indirect trampolines (one more frame per call through one)"
                .to_string(),
        );
    }
    // `(func (local exnref))`: exception handling with exnref.
    let exnref =
        b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x03\x02\x01\0\x0a\x06\x01\x04\x01\x01\x69\x0b";
    if Module::validate(engine, exnref).is_err() {
        lines.push(
            "missing: exception handling with exnref: setjmp/longjmp and C++ exceptions cannot run"
                .to_string(),
        );
    }
    lines
}

// ---------------------------------------------------------------------------
// The process
// ---------------------------------------------------------------------------

/// A process: the store with its shared objects, the ABI's environment and
/// WASI's.
pub struct Process {
    pub store: Store,
    pub host: FunctionEnv<Host>,
    pub wasi: WasiFunctionEnv,
    pub shared: Shared,
}

impl Process {
    /// A process with a fresh memory of type `memory`, a `funcref` table of
    /// `table_min` entries (and this host's maximum, see lib.rs) and a
    /// `__stack_pointer` of 0, with WASI and this ABI defined.
    pub fn new(
        engine: &Engine,
        cache: Arc<ModuleCache>,
        wasi: &WasiConfig<'_>,
        memory: MemoryType,
        table_min: u32,
    ) -> Result<Process, String> {
        let mut store = Store::new(engine.clone());
        let memory = Memory::new(&mut store, memory)
            .map_err(|e| format!("cannot create the memory: {e}"))?;
        if table_min > MAX_TABLE_ELEMENTS {
            return Err(format!(
                "the program's table ({table_min} entries) is larger than this host's limit of {MAX_TABLE_ELEMENTS}"
            ));
        }
        let table = Table::new(
            &mut store,
            TableType::new(Type::FuncRef, table_min, Some(MAX_TABLE_ELEMENTS)),
            Value::FuncRef(None),
        )
        .map_err(|e| format!("cannot create the table: {}", e.message()))?;
        let stack_pointer = Global::new_mut(&mut store, Value::I32(0));
        let shared = Shared {
            memory,
            table,
            stack_pointer,
        };
        let (wasi, wasi_defs) =
            wasi_functions(&mut store, engine, wasi, &shared.memory, &shared.table)?;
        let host = Host::new(shared.clone(), engine.clone(), cache);
        let host = new_host_env(&mut store, host, wasi_defs);
        Ok(Process {
            store,
            host,
            wasi,
            shared,
        })
    }

    /// The shim's definition of an import of libdl or the program.
    fn host_def(&self, module: &str, name: &str) -> Option<Extern> {
        self.host
            .as_ref(&self.store)
            .host_def(module, name)
            .cloned()
    }

    /// Step 3: grows memory by the stack and libdl's data, and the table by
    /// libdl's slots, and points `__stack_pointer` at the top of the stack.
    fn reserve_libdl_region(
        &mut self,
        info: &DylinkMemInfo,
        stack_size: u32,
    ) -> Result<LibdlRegion, String> {
        const PAGE: u64 = 65536;
        let Shared {
            memory,
            table,
            stack_pointer,
        } = &self.shared;
        let store = &mut self.store;
        let stack_bottom = memory.view(&*store).data_size();
        let stack_top = stack_bottom + align_up(u64::from(stack_size), 4); // 16-byte aligned: 2^4
        let memory_base = align_up(stack_top, info.memory_align);
        let end = memory_base + u64::from(info.memory_size);
        if end > 1 << 32 {
            return Err("libdl's stack and data do not fit in a 4 GiB memory".into());
        }
        let pages = end.div_ceil(PAGE).saturating_sub(stack_bottom / PAGE);
        let pages_u32 = u32::try_from(pages).map_err(|_| "libdl's region is too large")?;
        memory.grow(&mut *store, Pages(pages_u32)).map_err(|e| {
            format!("cannot grow memory by {pages} pages for libdl's stack and data: {e}")
        })?;

        let table_size = u64::from(table.size(&*store));
        let table_base = align_up(table_size, info.table_align);
        let slots = table_base + u64::from(info.table_size) - table_size;
        if table_size + slots > u64::from(MAX_TABLE_ELEMENTS) {
            return Err(format!(
                "libdl's {slots} table slots do not fit in the table"
            ));
        }
        table
            .grow(&mut *store, slots as u32, Value::FuncRef(None))
            .map_err(|e| {
                format!(
                    "cannot grow the table by {slots} for libdl: {}",
                    e.message()
                )
            })?;

        stack_pointer
            .set(&mut *store, Value::I32(stack_top as u32 as i32))
            .map_err(|e| e.message())?;
        Ok(LibdlRegion {
            memory_base: memory_base as u32,
            table_base: table_base as u32,
        })
    }

    /// Step 4: instantiates libdl.so. It may import only the process objects,
    /// its bases, WASI and this ABI.
    fn instantiate_libdl(
        &mut self,
        libdl: &Module,
        region: &LibdlRegion,
    ) -> Result<Instance, String> {
        let memory_base = Global::new(&mut self.store, Value::I32(region.memory_base as i32));
        let table_base = Global::new(&mut self.store, Value::I32(region.table_base as i32));
        let mut externs = Vec::new();
        for import in libdl.imports() {
            let ext = match (import.module(), import.name()) {
                ("env", "memory") => Extern::Memory(self.shared.memory.clone()),
                ("env", "__indirect_function_table") => Extern::Table(self.shared.table.clone()),
                ("env", "__stack_pointer") => Extern::Global(self.shared.stack_pointer.clone()),
                ("env", "__memory_base") => Extern::Global(memory_base.clone()),
                ("env", "__table_base") => Extern::Global(table_base.clone()),
                (module @ (WASI_MODULE | ABI_MODULE), name) => {
                    self.host_def(module, name).ok_or_else(|| {
                        format!("libdl.so imports `{module}.{name}`, which this runtime does not provide")
                    })?
                }
                (module, name) => {
                    return Err(format!(
                        "libdl.so imports `{module}.{name}`; it may import only env.memory, env.__indirect_function_table, \
                         env.__stack_pointer, env.__memory_base, env.__table_base, WASI preview 1 and {ABI_MODULE}"
                    ))
                }
            };
            externs.push(ext);
        }
        Instance::new_by_index(&mut self.store, libdl, &externs)
            .map_err(|e| format!("cannot instantiate libdl.so: {e}"))
    }

    /// Calls a `() -> ()` export if the instance has it.
    fn call_if_exported(&mut self, instance: &Instance, name: &str) -> Result<(), RuntimeError> {
        let Ok(func) = instance.exports.get_function(name) else {
            return Ok(());
        };
        func.call(&mut self.store, &[]).map(|_| ())
    }

    /// Step 5: instantiates the program: the process objects, WASI, and each
    /// `libdl.so.NAME` bound to libdl's export `NAME`.
    fn instantiate_program(
        &mut self,
        program: &Module,
        libdl: &Instance,
    ) -> Result<Instance, String> {
        let mut externs = Vec::new();
        for import in program.imports() {
            let ext = match (import.module(), import.name()) {
                ("env", "memory") => Extern::Memory(self.shared.memory.clone()),
                ("env", "__indirect_function_table") => Extern::Table(self.shared.table.clone()),
                (WASI_MODULE, name) => self.host_def(WASI_MODULE, name).ok_or_else(|| {
                    format!("the program imports `{WASI_MODULE}.{name}`, which this runtime does not provide")
                })?,
                ("libdl.so", name) => libdl.exports.get_extern(name).cloned().ok_or_else(|| {
                    format!("the program imports `libdl.so.{name}`, which libdl.so does not export")
                })?,
                (module, name) => {
                    return Err(format!(
                        "the program imports `{module}.{name}`, which is not provided to programs"
                    ))
                }
            };
            externs.push(ext);
        }
        Instance::new_by_index(&mut self.store, program, &externs)
            .map_err(|e| format!("cannot instantiate the program: {e}"))
    }

    fn register_module(&mut self, module: Module, bytes: &[u8]) -> Result<i32, Failure> {
        let host = self.host.as_mut(&mut self.store);
        host.register_module(module, bytes)
            .map(|h| h as i32)
            .map_err(Failure::Fatal)
    }

    fn register_instance(&mut self, instance: &Instance) -> Result<i32, Failure> {
        let host = self.host.as_mut(&mut self.store);
        host.register_instance(instance)
            .map(|h| h as i32)
            .map_err(Failure::Fatal)
    }
}

// ---------------------------------------------------------------------------
// Running a program
// ---------------------------------------------------------------------------

/// Runs `config.program` with `config.libdl`, compiling through `cache`
/// with `engine`. Returns the program's exit status.
pub fn run(config: &Config, engine: &Engine, cache: &Arc<ModuleCache>) -> Result<i32, Failure> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| fatal(format!("cannot read {}: {e}", path.display())))
    };
    let libdl = read(&config.libdl)?;
    let program = read(&config.program)?;
    // wasmer-wasix runs its file I/O and task manager on Tokio: one worker
    // thread (the guest runs on this thread), entered for the whole run and
    // dropped after the process, which waits for I/O still in flight.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| fatal(format!("cannot start a Tokio runtime: {e}")))?;
    let guard = runtime.enter();
    let status = run_bytes(config, engine, cache, &libdl, &program);
    drop(guard);
    drop(runtime);
    status
}

fn run_bytes(
    config: &Config,
    engine: &Engine,
    cache: &Arc<ModuleCache>,
    libdl_bytes: &[u8],
    program_bytes: &[u8],
) -> Result<i32, Failure> {
    // 1. Compile both, and read libdl.so's memory and table needs.
    let libdl = cache
        .compile(engine, libdl_bytes)
        .map_err(|e| fatal(format!("cannot compile {}: {e}", config.libdl.display())))?;
    let info = parse_dylink_mem_info(libdl_bytes)
        .map_err(|e| fatal(format!("{}: {e}", config.libdl.display())))?;
    let program = cache
        .compile(engine, program_bytes)
        .map_err(|e| fatal(format!("cannot compile {}: {e}", config.program.display())))?;

    // 2. Memory and table as the program declares them.
    let (memory_type, table_min) = program_memory_and_table(&program)
        .map_err(|e| fatal(format!("{}: {e}", config.program.display())))?;
    let program_name = config.program.to_string_lossy();
    let wasi = WasiConfig {
        program_name: &program_name,
        args: &config.args,
        env: &config.env,
        dirs: &config.dirs,
    };
    let mut process = Process::new(engine, Arc::clone(cache), &wasi, memory_type, table_min)
        .map_err(Failure::Fatal)?;

    let status = start(
        &mut process,
        config,
        (libdl, libdl_bytes, &info),
        (program, program_bytes),
    );
    // Close WASI's files (flushing what is buffered) as wasmer-wasix does
    // when a process ends.
    let code = status.as_ref().map_or(1, |s| *s);
    process
        .wasi
        .data(&process.store)
        .blocking_on_exit(Some(wasmer_wasix::types::wasi::ExitCode::from(code as u16)));
    status
}

/// Steps 3 to 7 of the bootstrap, static or PIE.
fn start(
    process: &mut Process,
    config: &Config,
    (libdl, libdl_bytes, info): (Module, &[u8], &DylinkMemInfo),
    (program, program_bytes): (Module, &[u8]),
) -> Result<i32, Failure> {
    // 3. libdl's region: its stack, then its data; its table slots.
    let region = process
        .reserve_libdl_region(info, config.stack_size)
        .map_err(Failure::Fatal)?;

    // 4. libdl.so, then its relocations and constructors.
    let libdl_instance = process
        .instantiate_libdl(&libdl, &region)
        .map_err(Failure::Fatal)?;
    for name in ["__wasm_apply_data_relocs", "__wasm_call_ctors"] {
        if let Err(e) = process.call_if_exported(&libdl_instance, name) {
            return exit_or(e, &format!("libdl.so's {name} failed"), Failure::Fatal);
        }
    }
    let libdl_module_h = process.register_module(libdl, libdl_bytes)?;
    let libdl_instance_h = process.register_instance(&libdl_instance)?;

    // A PIE program (it has dylink.0): libdl places it, loads its NEEDED
    // tree (libc.so, ...), binds and initialises everything, and runs it.
    if parse_dylink_mem_info(program_bytes).is_ok() {
        let program_h = process.register_module(program, program_bytes)?;
        let run = libdl_instance
            .exports
            .get_typed_function::<(i32, i32, i32), i32>(&process.store, "__wasmdl_run")
            .map_err(|e| {
                fatal(format!(
                    "libdl.so cannot start PIE programs (no __wasmdl_run): {e}"
                ))
            })?;
        return match run.call(
            &mut process.store,
            libdl_module_h,
            libdl_instance_h,
            program_h,
        ) {
            // libdl has written its reason to stderr already.
            Ok(status) if status < 0 => Err(fatal(format!(
                "libdl.so could not start {}",
                config.program.display()
            ))),
            Ok(status) => Ok(status),
            Err(e) => exit_or(
                e,
                &format!("error while executing {}", config.program.display()),
                Failure::Trap,
            ),
        };
    }

    // 5. The program, bound to libdl's exports.
    let main_instance = process
        .instantiate_program(&program, &libdl_instance)
        .map_err(Failure::Fatal)?;

    // 6. Handles for it, and libdl's own initialisation.
    let main_module_h = process.register_module(program, program_bytes)?;
    let main_instance_h = process.register_instance(&main_instance)?;
    if libdl_instance.exports.get_extern("__wasmdl_init").is_some() {
        let init = libdl_instance
            .exports
            .get_typed_function::<(i32, i32, i32, i32), i32>(&process.store, "__wasmdl_init")
            .map_err(|e| fatal(format!("libdl.so's __wasmdl_init has the wrong type: {e}")))?;
        let args = (
            libdl_module_h,
            libdl_instance_h,
            main_module_h,
            main_instance_h,
        );
        match init.call(&mut process.store, args.0, args.1, args.2, args.3) {
            Ok(0) => {}
            // libdl has written its reason to stderr already.
            Ok(code) => {
                return Err(fatal(format!(
                    "libdl.so failed to initialise (__wasmdl_init returned {code})"
                )))
            }
            Err(e) => return exit_or(e, "libdl.so's __wasmdl_init failed", Failure::Fatal),
        }
    }

    // 7. The program.
    let start = main_instance
        .exports
        .get_typed_function::<(), ()>(&process.store, "_start")
        .map_err(|e| {
            fatal(format!(
                "{}: no `_start` of type () -> (): {e}",
                config.program.display()
            ))
        })?;
    match start.call(&mut process.store) {
        Ok(()) => Ok(0),
        Err(e) => exit_or(
            e,
            &format!("error while executing {}", config.program.display()),
            Failure::Trap,
        ),
    }
}

/// The program's `env.memory` type and `env.__indirect_function_table`
/// minimum, from its imports.
fn program_memory_and_table(program: &Module) -> Result<(MemoryType, u32), String> {
    let mut memory = None;
    let mut table = None;
    for import in program.imports() {
        match (import.module(), import.name(), import.ty()) {
            ("env", "memory", ExternType::Memory(ty)) => memory = Some(*ty),
            ("env", "__indirect_function_table", ExternType::Table(ty)) => table = Some(*ty),
            _ => {}
        }
    }
    let memory =
        memory.ok_or("the program does not import `env.memory` (link it with --import-memory)")?;
    let table = table.ok_or(
        "the program does not import `env.__indirect_function_table` (link it with --import-table)",
    )?;
    if memory.shared {
        return Err("the program's memory must be an unshared memory".into());
    }
    if table.ty != Type::FuncRef {
        return Err("the program's table must be a funcref table".into());
    }
    Ok((memory, table.minimum))
}

// ---------------------------------------------------------------------------
// dylink.0
// ---------------------------------------------------------------------------

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
