//! Tests of the Wasmer shim beyond the conformance suite
//! (host-abi/conformance, which `make wasmer-conformance` runs):
//!
//! * hostile calls: thousands of ABI calls with arguments drawn from edge
//!   values (pointers at and past the end of memory, lengths that overflow
//!   32 bits, freed, unissued and huge handles, bad descriptors), made by a
//!   wasm guest through the engine, as libdl makes them. Each call must
//!   return one of the codes the spec lists for it, never trap, and a
//!   failing call must leave memory and the table as they were; handles are
//!   issued in order.
//! * the compiled-module cache: the same bytes compile once; damaged,
//!   truncated and empty entries are rejected and rewritten; failed
//!   compiles are not kept; WAT text is refused.
//!
//! The guests are wasm binaries encoded here (the crate has no WAT parser:
//! `module_compile` takes binaries only). `cargo test --release` (make
//! wasmer-unit) reuses the runner's build of the dependencies.

use std::sync::Arc;

use wasmdl_wasmer::cache::ModuleCache;
use wasmdl_wasmer::process::{engine, Process};
use wasmdl_wasmer::wasi::WasiConfig;
use wasmdl_wasmer::*;
use wasmer::{Extern, Function, Instance, MemoryType, Module, Pages, Value};

// ---------------------------------------------------------------------------
// A small wasm binary encoder
// ---------------------------------------------------------------------------

fn leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn name(out: &mut Vec<u8>, s: &str) {
    leb(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

fn section(out: &mut Vec<u8>, id: u8, items: &[Vec<u8>]) {
    let mut body = Vec::new();
    leb(&mut body, items.len() as u32);
    for item in items {
        body.extend_from_slice(item);
    }
    out.push(id);
    leb(out, body.len() as u32);
    out.extend_from_slice(&body);
}

const I32: u8 = 0x7f;
const I64: u8 = 0x7e;

fn func_type(params: &[u8], results: &[u8]) -> Vec<u8> {
    let mut t = vec![0x60];
    leb(&mut t, params.len() as u32);
    t.extend_from_slice(params);
    leb(&mut t, results.len() as u32);
    t.extend_from_slice(results);
    t
}

fn import(module: &str, field: &str, desc: &[u8]) -> Vec<u8> {
    let mut i = Vec::new();
    name(&mut i, module);
    name(&mut i, field);
    i.extend_from_slice(desc);
    i
}

fn export(field: &str, kind: u8, index: u32) -> Vec<u8> {
    let mut e = Vec::new();
    name(&mut e, field);
    e.push(kind);
    leb(&mut e, index);
    e
}

const HEADER: &[u8] = b"\0asm\x01\0\0\0";

/// The module the hostile calls compile and instantiate: one import of each
/// kind, exports of each kind (an f32 global for ERR_TYPE), no data and no
/// start function (so that a failed instantiation has no effect on memory).
///
/// ```wat
/// (import "env" "memory" (memory 0))
/// (import "env" "__indirect_function_table" (table 0 funcref))
/// (import "env" "__stack_pointer" (global (mut i32)))
/// (import "env" "g" (global i32))
/// (import "env" "f" (func (param i32) (result i32)))
/// (import "env" "t" (tag (param i32)))
/// (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
/// (import "wasmdl_host_v0" "last_error" (func (param i32 i32) (result i32)))
/// exports: 0 gi32 (mut i32 -5), 1 gi64 (i64 -7), 2 gf32 (f32 1.5), 3 tag,
///          4 fn (identity), 5 imported_fn, 6 mem
/// ```
fn target() -> Vec<u8> {
    let mut m = HEADER.to_vec();
    section(
        &mut m,
        1,
        &[
            func_type(&[I32], &[I32]),
            func_type(&[], &[I32]),
            func_type(&[I32, I32], &[I32]),
            func_type(&[I32], &[]),
        ],
    );
    section(
        &mut m,
        2,
        &[
            import("env", "memory", &[0x02, 0x00, 0x00]),
            import(
                "env",
                "__indirect_function_table",
                &[0x01, 0x70, 0x00, 0x00],
            ),
            import("env", "__stack_pointer", &[0x03, I32, 0x01]),
            import("env", "g", &[0x03, I32, 0x00]),
            import("env", "f", &[0x00, 0x00]),
            import("env", "t", &[0x04, 0x00, 0x03]),
            import("wasi_snapshot_preview1", "sched_yield", &[0x00, 0x01]),
            import("wasmdl_host_v0", "last_error", &[0x00, 0x02]),
        ],
    );
    section(&mut m, 3, &[vec![0x00]]); // one function of type 0
    section(&mut m, 13, &[vec![0x00, 0x03]]); // one tag of type 3
    section(
        &mut m,
        6,
        &[
            vec![I32, 0x01, 0x41, 0x7b, 0x0b],              // mut i32 -5
            vec![I64, 0x00, 0x42, 0x79, 0x0b],              // i64 -7
            vec![0x7d, 0x00, 0x43, 0, 0, 0xc0, 0x3f, 0x0b], // f32 1.5
        ],
    );
    section(
        &mut m,
        7,
        &[
            export("gi32", 3, 2),
            export("gi64", 3, 3),
            export("gf32", 3, 4),
            export("tag", 4, 1),
            export("fn", 0, 3),
            export("imported_fn", 0, 0),
            export("mem", 2, 0),
        ],
    );
    section(&mut m, 10, &[vec![4, 0x00, 0x20, 0x00, 0x0b]]); // local.get 0
    m
}

/// What `target()`'s `env` imports come from: exports 0 fn, 1 g (i32 42),
/// 2 t (tag (param i32)).
fn provider() -> Vec<u8> {
    let mut m = HEADER.to_vec();
    section(
        &mut m,
        1,
        &[func_type(&[I32], &[I32]), func_type(&[I32], &[])],
    );
    section(&mut m, 3, &[vec![0x00]]);
    section(&mut m, 13, &[vec![0x00, 0x01]]);
    section(&mut m, 6, &[vec![I32, 0x00, 0x41, 42, 0x0b]]);
    section(
        &mut m,
        7,
        &[export("fn", 0, 0), export("g", 3, 0), export("t", 4, 0)],
    );
    section(&mut m, 10, &[vec![4, 0x00, 0x20, 0x00, 0x0b]]);
    m
}

/// The ABI's functions and their signatures (`I` is an i64 parameter).
const ABI: &[(&str, &str)] = &[
    ("last_error", "ii"),
    ("module_compile", "iii"),
    ("module_bytes", "iiii"),
    ("module_free", "i"),
    ("instance_new", "iiii"),
    ("instance_free", "i"),
    ("export_global_get", "iii"),
    ("export_to_table", "iii"),
    ("table_grow", "ii"),
    ("table_clear", "ii"),
    ("global_new", "iiIi"),
    ("global_set", "iI"),
    ("global_free", "i"),
];

/// A module that imports every ABI function and re-exports it, so that the
/// tests call through the engine, as libdl does.
fn caller() -> Vec<u8> {
    let mut m = HEADER.to_vec();
    let types: Vec<Vec<u8>> = ABI
        .iter()
        .map(|(_, sig)| {
            let params: Vec<u8> = sig
                .bytes()
                .map(|c| if c == b'I' { I64 } else { I32 })
                .collect();
            func_type(&params, &[I32])
        })
        .collect();
    section(&mut m, 1, &types);
    let imports: Vec<Vec<u8>> = ABI
        .iter()
        .enumerate()
        .map(|(i, (n, _))| import(ABI_MODULE, n, &[0x00, i as u8]))
        .collect();
    section(&mut m, 2, &imports);
    let exports: Vec<Vec<u8>> = ABI
        .iter()
        .enumerate()
        .map(|(i, (n, _))| export(n, 0, i as u32))
        .collect();
    section(&mut m, 7, &exports);
    m
}

// ---------------------------------------------------------------------------
// A process to call into
// ---------------------------------------------------------------------------

struct Fixture {
    process: Process,
    abi: Vec<Function>,
    _runtime: tokio::runtime::Runtime,
}

impl Fixture {
    /// A process with a memory of 1 page (at most 4) and a table of 4
    /// entries; the provider registered as instance handle 1, as the
    /// bootstrap registers libdl.
    fn new(cache: Arc<ModuleCache>) -> Fixture {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let _guard = runtime.enter();
        let (engine, _) = engine();
        let wasi = WasiConfig {
            program_name: "test",
            args: &[],
            env: &[],
            dirs: &[],
        };
        let memory = MemoryType::new(Pages(1), Some(Pages(4)), false);
        let mut process = Process::new(&engine, cache, &wasi, memory, 4).unwrap();
        let provider = Module::from_binary(&engine, &provider()).unwrap();
        let provider = Instance::new_by_index(&mut process.store, &provider, &[]).unwrap();
        let handle = process
            .host
            .as_mut(&mut process.store)
            .register_instance(&provider)
            .unwrap();
        assert_eq!(handle, 1);
        let caller = Module::from_binary(&engine, &caller()).unwrap();
        let imports: Vec<Extern> = ABI
            .iter()
            .map(|(n, _)| {
                process
                    .host
                    .as_ref(&process.store)
                    .host_def(ABI_MODULE, n)
                    .cloned()
                    .unwrap()
            })
            .collect();
        let caller = Instance::new_by_index(&mut process.store, &caller, &imports).unwrap();
        let abi = ABI
            .iter()
            .map(|(n, _)| caller.exports.get_function(n).unwrap().clone())
            .collect();
        drop(_guard);
        Fixture {
            process,
            abi,
            _runtime: runtime,
        }
    }

    fn call(&mut self, name: &str, args: &[u64]) -> Result<i32, String> {
        let i = ABI.iter().position(|(n, _)| *n == name).unwrap();
        let sig = ABI[i].1.as_bytes();
        let values: Vec<Value> = args
            .iter()
            .zip(sig)
            .map(|(&a, &t)| {
                if t == b'I' {
                    Value::I64(a as i64)
                } else {
                    Value::I32(a as u32 as i32)
                }
            })
            .collect();
        match self.abi[i].call(&mut self.process.store, &values) {
            Ok(r) => Ok(r[0].unwrap_i32()),
            Err(e) => Err(e.message()),
        }
    }

    fn memory(&self) -> Vec<u8> {
        let view = self.process.shared.memory.view(&self.process.store);
        let mut bytes = vec![0; view.data_size() as usize];
        view.read(0, &mut bytes).unwrap();
        bytes
    }

    fn write(&self, at: u64, bytes: &[u8]) {
        let view = self.process.shared.memory.view(&self.process.store);
        view.write(at, bytes).unwrap();
    }

    fn read_u32(&self, at: u64) -> u32 {
        let mut b = [0; 4];
        let view = self.process.shared.memory.view(&self.process.store);
        view.read(at, &mut b).unwrap();
        u32::from_le_bytes(b)
    }

    /// The table: its size and which entries are null.
    fn table(&mut self) -> Vec<bool> {
        let table = self.process.shared.table.clone();
        let size = table.size(&self.process.store);
        (0..size)
            .map(|i| {
                matches!(
                    table.get(&mut self.process.store, i),
                    Some(Value::FuncRef(None))
                )
            })
            .collect()
    }
}

/// What each function may return (SPEC.md).
fn allowed(name: &str) -> &'static [i32] {
    match name {
        "module_compile" => &[OK, ERR_FAULT, ERR_COMPILE, ERR_NOMEM],
        "module_bytes" => &[OK, ERR_BADHANDLE, ERR_FAULT],
        "module_free" | "instance_free" | "global_free" => &[OK, ERR_BADHANDLE],
        "instance_new" => &[
            OK,
            ERR_BADHANDLE,
            ERR_FAULT,
            ERR_INVAL,
            ERR_LINK,
            ERR_INSTANTIATE,
            ERR_NOMEM,
            ERR_RANGE,
        ],
        "export_global_get" => &[OK, ERR_BADHANDLE, ERR_RANGE, ERR_TYPE, ERR_FAULT],
        "export_to_table" => &[OK, ERR_BADHANDLE, ERR_RANGE, ERR_TYPE],
        "table_grow" => &[OK, ERR_NOMEM, ERR_FAULT],
        "table_clear" => &[OK, ERR_RANGE],
        "global_new" => &[OK, ERR_INVAL, ERR_FAULT],
        "global_set" => &[OK, ERR_BADHANDLE, ERR_TYPE],
        _ => unreachable!("{name}"),
    }
}

/// xorshift64*: reproducible, and no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[test]
fn hostile_abi_calls() {
    let calls: usize = std::env::var("WASMDL_TEST_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(6000);
    let seed = 0x5eed_0001;
    let mut rng = Rng(seed);
    let mut f = Fixture::new(Arc::new(ModuleCache::new(None, "test")));
    let target = target();
    const TARGET_AT: u64 = 0x1000;
    const DESCS_AT: u64 = 0x4000;
    let scratch = [0x8000u64, 0x8100, 0x9000, 0xa000];
    let lens: Vec<u64> = vec![
        0,
        1,
        4,
        8,
        12,
        target.len() as u64,
        target.len() as u64 - 1,
        0x10000,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
    ];
    let handles = [0u64, 1, 2, 3, 4, 5, 7, 10, 0x7fff_ffff, 0xffff_ffff];
    let values = [
        0u64,
        1,
        u64::MAX,
        1 << 31,
        1 << 63,
        (1 << 63) - 1,
        0x7f,
        0x7e,
        0x7d,
    ];
    // Descriptors for target()'s 8 imports.
    let right: [(u32, u32, u32); 8] = [
        (IMPORT_MEMORY, 0, 0),
        (IMPORT_TABLE, 0, 0),
        (IMPORT_STACK_POINTER, 0, 0),
        (IMPORT_EXPORT, 1, 1),
        (IMPORT_EXPORT, 1, 0),
        (IMPORT_EXPORT, 1, 2),
        (IMPORT_HOST, 0, 0),
        (IMPORT_HOST, 0, 0),
    ];
    let names = [
        "module_compile",
        "module_compile",
        "module_bytes",
        "module_bytes",
        "module_free",
        "instance_new",
        "instance_new",
        "instance_new",
        "instance_free",
        "export_global_get",
        "export_global_get",
        "export_to_table",
        "export_to_table",
        "table_grow",
        "table_clear",
        "table_clear",
        "global_new",
        "global_new",
        "global_set",
        "global_free",
    ];
    // Handles issued so far, per kind (the provider is instance 1).
    let (mut modules, mut instances, mut globals) = (0u64, 1u64, 0u64);
    let mut counts: std::collections::BTreeMap<&str, std::collections::BTreeMap<i32, u32>> =
        Default::default();
    for call in 0..calls {
        let name = rng.pick(&names);
        let size = f.memory().len() as u64;
        let table_size = f.table().len() as u64;
        let pointers = [
            0,
            4,
            TARGET_AT,
            DESCS_AT,
            0x8000,
            size - 12,
            size - 8,
            size - 4,
            size - 1,
            size,
            size + 1,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_fff0,
            0xffff_fffc,
            0xffff_ffff,
            rng.next() & 0xffff_ffff,
        ];
        let s = rng.pick(&scratch);
        // (kind of argument, plausible value): p pointer, l length, h handle,
        // v i64 value, x small number.
        let mut args: Vec<(u8, u64)> = match name {
            "module_compile" => vec![(b'p', TARGET_AT), (b'l', target.len() as u64), (b'p', s)],
            "module_bytes" => vec![
                (b'h', 1 + rng.below(modules + 1)),
                (b'p', rng.pick(&scratch)),
                (b'l', rng.pick(&[0, target.len() as u64, 0x4000])),
                (b'p', s),
            ],
            "module_free" => vec![(b'h', 1 + rng.below(modules + 1))],
            "instance_new" => vec![
                (b'h', 1 + rng.below(modules + 1)),
                (b'p', DESCS_AT),
                (b'l', 8),
                (b'p', s),
            ],
            "instance_free" => vec![(b'h', 2 + rng.below(instances))], // not the provider
            "export_global_get" => vec![
                (b'h', 1 + rng.below(instances + 1)),
                (b'x', rng.below(8)),
                (b'p', s),
            ],
            "export_to_table" => vec![
                (b'h', 1 + rng.below(instances + 1)),
                (b'x', rng.below(8)),
                (b'x', rng.below(table_size + 1)),
            ],
            "table_grow" => vec![(b'x', rng.pick(&[0, 1, 2, 100])), (b'p', s)],
            "table_clear" => vec![(b'x', rng.below(table_size + 2)), (b'x', rng.below(4))],
            "global_new" => vec![
                (b'x', rng.pick(&[0x7f, 0x7e])),
                (b'x', rng.below(2)),
                (b'v', rng.pick(&values)),
                (b'p', s),
            ],
            "global_set" => vec![
                (b'h', 1 + rng.below(globals + 1)),
                (b'v', rng.pick(&values)),
            ],
            "global_free" => vec![(b'h', 1 + rng.below(globals + 1))],
            _ => unreachable!(),
        };
        // Half of the calls get one argument replaced by an edge value of its sort.
        if rng.chance(50) {
            let i = rng.below(args.len() as u64) as usize;
            args[i].1 = match args[i].0 {
                b'p' => rng.pick(&pointers),
                b'h' => rng.pick(&handles),
                b'v' => rng.pick(&values),
                _ => rng.pick(&lens),
            };
        }
        if name == "instance_free" && args[0].1 == 1 {
            args[0].1 = 0; // the provider stays
        }
        if name == "instance_new" {
            let mut descs = right;
            if rng.chance(60) {
                let i = rng.below(8) as usize;
                let (h, l) = (rng.pick(&handles), rng.pick(&lens));
                descs[i] = (
                    rng.below(9) as u32,
                    rng.pick(&[0, 1, 2, h]) as u32,
                    rng.pick(&[0, 1, 2, 3, 4, l]) as u32,
                );
            }
            let bytes: Vec<u8> = descs
                .iter()
                .flat_map(|&(k, a, b)| [k, a, b])
                .flat_map(u32::to_le_bytes)
                .collect();
            f.write(DESCS_AT, &bytes);
        }
        f.write(TARGET_AT, &target); // edge pointers may have hit it
        let args: Vec<u64> = args.iter().map(|&(_, v)| v).collect();
        let before = (f.memory(), f.table());
        let code = f
            .call(name, &args)
            .unwrap_or_else(|e| panic!("call {call}: {name}{args:x?} trapped: {e}"));
        assert!(
            allowed(name).contains(&code),
            "call {call}: {name}{args:x?} returned {code}"
        );
        if code != OK {
            assert!(
                (f.memory(), f.table()) == before,
                "call {call}: {name}{args:x?} failed with {code} but changed memory or the table"
            );
            let len = f.call("last_error", &[0x8000, 256]).unwrap();
            assert!(
                len > 0,
                "call {call}: {name}{args:x?} failed with {code} and no message"
            );
        } else {
            let (counter, at) = match name {
                "module_compile" => (&mut modules, args[2]),
                "instance_new" => (&mut instances, args[3]),
                "global_new" => (&mut globals, args[3]),
                _ => {
                    *counts.entry(name).or_default().entry(code).or_default() += 1;
                    continue;
                }
            };
            let handle = u64::from(f.read_u32(at));
            assert_eq!(
                handle,
                *counter + 1,
                "call {call}: {name}{args:x?}: handle out of order"
            );
            *counter = handle;
        }
        *counts.entry(name).or_default().entry(code).or_default() += 1;
    }
    // last_error itself, with hostile ranges: never traps.
    let size = f.memory().len() as u64;
    for p in [0, size - 1, size, 0xffff_fff0, 0xffff_ffff] {
        for n in [0, 1, 4, 256, 0x7fff_ffff, 0xffff_ffff] {
            f.call("last_error", &[p, n]).unwrap();
        }
    }
    println!("ok   hostile ABI calls [{calls} calls, seed {seed:#x}]");
    for (name, codes) in &counts {
        let codes: Vec<String> = codes.iter().map(|(c, n)| format!("{c}:{n}")).collect();
        println!("       {name:<18} {}", codes.join(" "));
    }
    // Every function was called, and each returned OK at least once.
    for name in names {
        assert!(
            counts.get(name).is_some_and(|c| c.contains_key(&OK)),
            "{name} never succeeded"
        );
    }
}

#[test]
fn table_growth_past_the_limit_is_refused_not_attempted() {
    let mut f = Fixture::new(Arc::new(ModuleCache::new(None, "test")));
    for delta in [MAX_TABLE_ELEMENTS, 0x7fff_ffff, 0xffff_ffff] {
        let code = f.call("table_grow", &[u64::from(delta), 0x8000]).unwrap();
        assert_eq!(code, ERR_NOMEM, "table_grow({delta:#x})");
    }
    assert_eq!(f.table().len(), 4);
    // Up to the limit it grows (2^24 entries: 128 MiB of host memory).
    let code = f
        .call("table_grow", &[u64::from(MAX_TABLE_ELEMENTS - 4), 0x8000])
        .unwrap();
    assert_eq!(code, OK);
    assert_eq!(f.call("table_grow", &[1, 0x8000]).unwrap(), ERR_NOMEM);
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmdl-wasmer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_same_bytes_compile_once_per_process_and_failures_are_not_kept() {
    let (engine, settings) = engine();
    let cache = ModuleCache::new(None, &settings);
    cache.compile(&engine, &target()).unwrap();
    cache.compile(&engine, &target()).unwrap();
    cache.compile(&engine, &provider()).unwrap();
    let s = cache.stats();
    assert_eq!((s.compiles, s.memory_hits, s.written), (2, 1, 0));
    for _ in 0..2 {
        assert!(cache.compile(&engine, b"\0asm\x01\0\0\0\xff").is_err());
    }
    assert!(
        cache.compile(&engine, b"(module)").is_err(),
        "WAT text is refused"
    );
    assert_eq!(cache.stats().compiles, 2);
}

#[test]
fn damaged_cache_entries_are_rejected_and_rewritten() {
    let dir = tempdir("cache");
    let (engine, settings) = engine();
    let bytes = target();
    let first = ModuleCache::new(Some(dir.clone()), &settings);
    first.compile(&engine, &bytes).unwrap();
    assert_eq!(first.stats().written, 1);
    let entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1);
    let path = &entries[0];
    assert!(path.to_string_lossy().ends_with(".cwasm"));
    let good = std::fs::read(path).unwrap();
    // A new process takes it from disk, and it behaves as compiled.
    let second = ModuleCache::new(Some(dir.clone()), &settings);
    let m = second.compile(&engine, &bytes).unwrap();
    assert_eq!((second.stats().disk_hits, second.stats().compiles), (1, 0));
    assert_eq!(m.exports().count(), 7);
    assert_eq!(m.imports().count(), 8);
    // Other settings: another entry, not this one.
    let other = ModuleCache::new(Some(dir.clone()), "other settings");
    other.compile(&engine, &bytes).unwrap();
    assert_eq!((other.stats().disk_hits, other.stats().compiles), (0, 1));
    std::fs::remove_file(
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p != path)
            .unwrap(),
    )
    .unwrap();

    let mut flipped = good.clone();
    flipped[good.len() / 3] ^= 0x40;
    let mut bad_magic = good.clone();
    *bad_magic.last_mut().unwrap() = b'X';
    for damaged in [
        good[..good.len() / 2].to_vec(),
        good[..good.len() - 1].to_vec(),
        good[..10].to_vec(),
        Vec::new(),
        flipped,
        bad_magic,
        vec![0; good.len()],
    ] {
        std::fs::write(path, &damaged).unwrap();
        let cache = ModuleCache::new(Some(dir.clone()), &settings);
        let m = cache.compile(&engine, &bytes).unwrap();
        let s = cache.stats();
        assert_eq!(
            (s.rejected, s.compiles, s.written),
            (1, 1, 1),
            "{} bytes",
            damaged.len()
        );
        assert_eq!(m.exports().count(), 7);
        assert_eq!(std::fs::read(path).unwrap(), good, "rewritten whole");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
