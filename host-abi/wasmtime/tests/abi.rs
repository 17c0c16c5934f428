//! The `wasmdl_host_v0` functions driven by a WAT guest: valid input, and
//! hostile input that must give the exact error code without a trap.

use wasmdl_wasmtime::*;
use wasmtime::{Engine, Instance, MemoryType, Module, Ref, WasmParams, WasmResults};
use wasmtime_wasi::{I32Exit, WasiCtxBuilder};

/// The guest: imports memory, table and every ABI function, and re-exports
/// the functions so the test can call them with any arguments.
const GUEST: &str = r#"
(module
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 4 funcref))
  (import "wasmdl_host_v0" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "wasmdl_host_v0" "module_compile" (func $module_compile (param i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "module_bytes" (func $module_bytes (param i32 i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "module_free" (func $module_free (param i32) (result i32)))
  (import "wasmdl_host_v0" "instance_new" (func $instance_new (param i32 i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "instance_free" (func $instance_free (param i32) (result i32)))
  (import "wasmdl_host_v0" "export_global_get" (func $export_global_get (param i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "export_to_table" (func $export_to_table (param i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "table_grow" (func $table_grow (param i32 i32) (result i32)))
  (import "wasmdl_host_v0" "table_clear" (func $table_clear (param i32 i32) (result i32)))
  (import "wasmdl_host_v0" "global_new" (func $global_new (param i32 i32 i64 i32) (result i32)))
  (import "wasmdl_host_v0" "global_set" (func $global_set (param i32 i64) (result i32)))
  (import "wasmdl_host_v0" "global_free" (func $global_free (param i32) (result i32)))
  (export "last_error" (func $last_error))
  (export "module_compile" (func $module_compile))
  (export "module_bytes" (func $module_bytes))
  (export "module_free" (func $module_free))
  (export "instance_new" (func $instance_new))
  (export "instance_free" (func $instance_free))
  (export "export_global_get" (func $export_global_get))
  (export "export_to_table" (func $export_to_table))
  (export "table_grow" (func $table_grow))
  (export "table_clear" (func $table_clear))
  (export "global_new" (func $global_new))
  (export "global_set" (func $global_set))
  (export "global_free" (func $global_free))
  ;; Calls the `() -> i32` function in a table slot, as C calls a pointer.
  (type $ret_i32 (func (result i32)))
  (func (export "call_slot") (param i32) (result i32)
    (call_indirect (type $ret_i32) (local.get 0)))
  ;; A guest-side call, to show ABI functions also work called from wasm.
  (func (export "guest_compile") (param i32 i32 i32) (result i32)
    (call $module_compile (local.get 0) (local.get 1) (local.get 2)))
)
"#;

/// A side module with one import of each kind and exports of several kinds,
/// in an order that is not alphabetical: z(func)=0, a(i32)=1, big(i64)=2,
/// f(f32)=3, yield(func)=4, mb(i32 imported global)=5.
const LIB: &str = r#"
(module
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 0 funcref))
  (import "env" "__stack_pointer" (global $sp (mut i32)))
  (import "env" "__memory_base" (global $mb i32))
  (import "env" "helper" (func $helper (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (import "wasmdl_host_v0" "table_grow" (func $tg (param i32 i32) (result i32)))
  (func $z (export "z") (result i32) (i32.add (call $helper) (global.get $mb)))
  (global $a (export "a") i32 (i32.const -1))
  (global $big (export "big") i64 (i64.const 0x123456789abcdef0))
  (global $f (export "f") f32 (f32.const 1.5))
  (export "yield" (func $yield))
  (export "mb" (global $mb))
)
"#;

/// Exports `h: () -> i32` returning 7, for `IMPORT_EXPORT`.
const HELPER: &str = r#"(module (func (export "h") (result i32) (i32.const 7)) (global (export "g") i32 (i32.const 3)))"#;

// Scratch addresses in the guest's memory (one 64 KiB page).
const OUT: u32 = 0x100;
const OUT2: u32 = 0x108;
const DESCS: u32 = 0x1000;
const BYTES: u32 = 0x2000;
const MSG: u32 = 0x8000;
const PAGE: u32 = 0x10000;

struct T {
    p: Process,
    guest: Instance,
}

impl T {
    fn new() -> T {
        let engine = Engine::default();
        let wasi = WasiCtxBuilder::new().build_p1();
        let mut p = Process::new(&engine, wasi, MemoryType::new(1, None), 4).expect("process");
        let module = Module::new(&engine, GUEST).expect("guest compiles");
        let (memory, table) = (p.memory(), p.table());
        let mut linker = p.linker().clone();
        linker
            .define(&mut *p.store(), "env", "memory", memory)
            .expect("define");
        linker
            .define(&mut *p.store(), "env", "__indirect_function_table", table)
            .expect("define");
        let guest = linker
            .instantiate(p.store(), &module)
            .expect("guest instantiates");
        T { p, guest }
    }

    /// Calls a guest export; a trap fails the test (the host must not trap).
    fn call<P: WasmParams, R: WasmResults>(&mut self, name: &str, params: P) -> R {
        let f = self
            .guest
            .get_typed_func::<P, R>(self.p.store(), name)
            .expect("export");
        f.call(self.p.store(), params)
            .expect("the ABI call trapped")
    }

    fn write(&mut self, ptr: u32, bytes: &[u8]) {
        let memory = self.p.memory();
        memory
            .write(self.p.store(), ptr as usize, bytes)
            .expect("write");
    }

    fn read(&mut self, ptr: u32, len: u32) -> Vec<u8> {
        let mut buf = vec![0; len as usize];
        let memory = self.p.memory();
        memory
            .read(self.p.store(), ptr as usize, &mut buf)
            .expect("read");
        buf
    }

    fn u32_at(&mut self, ptr: u32) -> u32 {
        u32::from_le_bytes(self.read(ptr, 4).try_into().unwrap())
    }

    fn u64_at(&mut self, ptr: u32) -> u64 {
        u64::from_le_bytes(self.read(ptr, 8).try_into().unwrap())
    }

    fn last_error(&mut self) -> String {
        let n: u32 = self.call("last_error", (MSG, 0x1000u32));
        String::from_utf8(self.read(MSG, n.min(0x1000))).expect("utf-8")
    }

    fn compile_bytes(&mut self, bytes: &[u8]) -> (i32, u32) {
        self.write(BYTES, bytes);
        self.write(OUT, &[0; 4]);
        let code: i32 = self.call("module_compile", (BYTES, bytes.len() as u32, OUT));
        (code, self.u32_at(OUT))
    }

    fn compile(&mut self, wat: &str) -> u32 {
        let (code, handle) = self.compile_bytes(&wat::parse_str(wat).expect("wat"));
        assert_eq!(code, OK, "{}", self.last_error());
        assert_ne!(handle, 0);
        handle
    }

    fn instance_new(&mut self, module: u32, descs: &[(u32, u32, u32)]) -> (i32, u32) {
        let bytes: Vec<u8> = descs
            .iter()
            .flat_map(|&(k, a, b)| [k, a, b])
            .flat_map(u32::to_le_bytes)
            .collect();
        self.write(DESCS, &bytes);
        self.write(OUT, &[0; 4]);
        let code: i32 = self.call("instance_new", (module, DESCS, descs.len() as u32, OUT));
        (code, self.u32_at(OUT))
    }

    fn instantiate(&mut self, wat: &str, descs: &[(u32, u32, u32)]) -> u32 {
        let module = self.compile(wat);
        let (code, handle) = self.instance_new(module, descs);
        assert_eq!(code, OK, "{}", self.last_error());
        assert_ne!(handle, 0);
        handle
    }

    fn global_new(&mut self, valtype: u32, mutable: u32, value: i64) -> u32 {
        let code: i32 = self.call("global_new", (valtype, mutable, value, OUT));
        assert_eq!(code, OK, "{}", self.last_error());
        self.u32_at(OUT)
    }

    fn table_size(&mut self) -> u64 {
        let table = self.p.table();
        table.size(self.p.store())
    }

    fn slot_is_null(&mut self, i: u64) -> bool {
        let table = self.p.table();
        matches!(table.get(self.p.store(), i), Some(Ref::Func(None)))
    }

    /// The helper instance and the standard descriptors for `LIB`.
    fn lib_descriptors(&mut self) -> Vec<(u32, u32, u32)> {
        let helper = self.instantiate(HELPER, &[]);
        let memory_base = self.global_new(VALTYPE_I32, 0, 100);
        vec![
            (IMPORT_MEMORY, 0, 0),
            (IMPORT_TABLE, 0, 0),
            (IMPORT_STACK_POINTER, 0, 0),
            (IMPORT_GLOBAL, memory_base, 0),
            (IMPORT_EXPORT, helper, 0),
            (IMPORT_HOST, 0, 0),
            (IMPORT_HOST, 0, 0),
        ]
    }
}

#[test]
fn last_error_copies_what_fits_and_never_fails() {
    let mut t = T::new();
    assert_eq!(
        t.call::<_, u32>("last_error", (MSG, 100u32)),
        0,
        "no failure yet"
    );
    assert_eq!(t.call::<_, i32>("module_free", (42u32,)), ERR_BADHANDLE);
    let full = t.last_error();
    assert!(full.contains("42"), "{full}");
    let len = full.len() as u32;
    // A short buffer gets a prefix; the full length is still returned.
    t.write(MSG, &[0xaa; 16]);
    assert_eq!(t.call::<_, u32>("last_error", (MSG, 5u32)), len);
    assert_eq!(t.read(MSG, 6), [&full.as_bytes()[..5], &[0xaa]].concat());
    // Invalid ranges copy nothing and do not fail.
    assert_eq!(t.call::<_, u32>("last_error", (PAGE - 2, 100u32)), len);
    assert_eq!(
        t.call::<_, u32>("last_error", (u32::MAX - 3, 0x100u32)),
        len,
        "ptr+cap overflows"
    );
    assert_eq!(t.call::<_, u32>("last_error", (PAGE + 10, 0u32)), len);
    // The message survives successful calls.
    t.compile(HELPER);
    assert_eq!(t.last_error(), full);
}

#[test]
fn module_compile_valid_and_hostile() {
    let mut t = T::new();
    let bin = wat::parse_str(HELPER).unwrap();
    let (code, first) = t.compile_bytes(&bin);
    assert_eq!((code, first), (OK, 1));
    // Called from wasm code too.
    t.write(BYTES, &bin);
    assert_eq!(
        t.call::<_, i32>("guest_compile", (BYTES, bin.len() as u32, OUT)),
        OK
    );
    assert_eq!(t.u32_at(OUT), 2);

    // Not a module: garbage, WAT text (not accepted even though wasmtime could), truncated.
    assert_eq!(t.compile_bytes(b"\0asm\x01\0\0\0\x01\xff").0, ERR_COMPILE);
    assert!(!t.last_error().is_empty());
    assert_eq!(t.compile_bytes(HELPER.as_bytes()).0, ERR_COMPILE);
    assert_eq!(t.compile_bytes(&bin[..bin.len() - 3]).0, ERR_COMPILE);
    assert_eq!(t.compile_bytes(b"").0, ERR_COMPILE);
    // Invalid (well-formed but does not validate): i32.add on nothing.
    let invalid = wat::parse_str("(module (func (result i32) i32.add))");
    assert!(invalid.is_err() || t.compile_bytes(&invalid.unwrap()).0 == ERR_COMPILE);

    // Ranges.
    assert_eq!(
        t.call::<_, i32>("module_compile", (PAGE - 4, 8u32, OUT)),
        ERR_FAULT
    );
    assert_eq!(
        t.call::<_, i32>("module_compile", (BYTES, u32::MAX, OUT)),
        ERR_FAULT,
        "ptr+len overflows"
    );
    assert_eq!(
        t.call::<_, i32>("module_compile", (u32::MAX, 2u32, OUT)),
        ERR_FAULT
    );
    t.write(BYTES, &bin);
    assert_eq!(
        t.call::<_, i32>("module_compile", (BYTES, bin.len() as u32, PAGE - 3)),
        ERR_FAULT,
        "out_module"
    );
    assert_eq!(
        t.call::<_, i32>("module_compile", (BYTES, bin.len() as u32, u32::MAX)),
        ERR_FAULT
    );

    // Failed calls consumed no handle, and handles are never reused.
    assert_eq!(t.compile_bytes(&bin), (OK, 3));
    assert_eq!(t.call::<_, i32>("module_free", (3u32,)), OK);
    assert_eq!(t.compile_bytes(&bin), (OK, 4));
}

#[test]
fn module_bytes_valid_and_hostile() {
    let mut t = T::new();
    let bin = wat::parse_str(HELPER).unwrap();
    let (_, m) = t.compile_bytes(&bin);
    let len = bin.len() as u32;
    // Length query with cap 0 (buf is not touched, so even a bad buf is fine).
    assert_eq!(
        t.call::<_, i32>("module_bytes", (m, u32::MAX, 0u32, OUT2)),
        OK
    );
    assert_eq!(t.u32_at(OUT2), len);
    // Too small: length only.
    t.write(0x4000, &[0xee; 4]);
    assert_eq!(
        t.call::<_, i32>("module_bytes", (m, 0x4000u32, len - 1, OUT2)),
        OK
    );
    assert_eq!(t.read(0x4000, 4), [0xee; 4]);
    // Large enough: the original bytes.
    assert_eq!(
        t.call::<_, i32>("module_bytes", (m, 0x4000u32, len + 100, OUT2)),
        OK
    );
    assert_eq!(t.read(0x4000, len), bin);

    assert_eq!(
        t.call::<_, i32>("module_bytes", (0u32, 0x4000u32, 0u32, OUT2)),
        ERR_BADHANDLE
    );
    assert_eq!(
        t.call::<_, i32>("module_bytes", (99u32, 0x4000u32, 0u32, OUT2)),
        ERR_BADHANDLE
    );
    assert_eq!(
        t.call::<_, i32>("module_bytes", (m, 0x4000u32, 0u32, PAGE)),
        ERR_FAULT,
        "out_len"
    );
    t.write(OUT2, &[0; 4]);
    assert_eq!(
        t.call::<_, i32>("module_bytes", (m, PAGE - 10, len, OUT2)),
        ERR_FAULT,
        "buf"
    );
    assert_eq!(t.u32_at(OUT2), 0, "no partial effect");
    assert_eq!(
        t.call::<_, i32>("module_bytes", (m, u32::MAX - 1, len, OUT2)),
        ERR_FAULT,
        "buf+len overflows"
    );
    assert_eq!(t.call::<_, i32>("module_free", (m,)), OK);
    assert_eq!(
        t.call::<_, i32>("module_bytes", (m, 0x4000u32, 0u32, OUT2)),
        ERR_BADHANDLE,
        "freed"
    );
}

#[test]
fn module_free_valid_and_hostile() {
    let mut t = T::new();
    let m = t.compile(HELPER);
    let i = t.instance_new(m, &[]).1;
    assert_eq!(t.call::<_, i32>("module_free", (m,)), OK);
    assert_eq!(
        t.call::<_, i32>("module_free", (m,)),
        ERR_BADHANDLE,
        "double free"
    );
    assert_eq!(t.call::<_, i32>("module_free", (0u32,)), ERR_BADHANDLE);
    assert_eq!(t.call::<_, i32>("module_free", (u32::MAX,)), ERR_BADHANDLE);
    assert_eq!(
        t.instance_new(m, &[]).0,
        ERR_BADHANDLE,
        "instantiate a freed module"
    );
    // Instances made from it are unaffected.
    assert_eq!(t.call::<_, i32>("export_global_get", (i, 1u32, OUT2)), OK);
    assert_eq!(t.u64_at(OUT2), 3);
    assert!(t.compile(HELPER) > m, "freed handles are not reissued");
}

#[test]
fn instance_new_links_every_descriptor_kind() {
    let mut t = T::new();
    let descs = t.lib_descriptors();
    let lib = t.instantiate(LIB, &descs);
    // z = helper() + __memory_base, through the table.
    assert_eq!(t.call::<_, i32>("export_to_table", (lib, 0u32, 1u32)), OK);
    assert_eq!(t.call::<_, i32>("call_slot", (1u32,)), 107);
    // Export numbering is export-section order, not alphabetical.
    assert_eq!(t.call::<_, i32>("export_global_get", (lib, 1u32, OUT2)), OK);
    assert_eq!(t.u64_at(OUT2), 0xffff_ffff);
    assert_eq!(t.call::<_, i32>("export_global_get", (lib, 5u32, OUT2)), OK);
    assert_eq!(t.u64_at(OUT2), 100);
    // The IMPORT_HOST WASI function, re-exported, fits a `() -> i32` slot.
    assert_eq!(t.call::<_, i32>("export_to_table", (lib, 4u32, 2u32)), OK);
    assert_eq!(
        t.call::<_, i32>("call_slot", (2u32,)),
        0,
        "sched_yield succeeds"
    );
}

#[test]
fn instance_new_hostile_descriptors() {
    let mut t = T::new();
    let good = t.lib_descriptors();
    let m = t.compile(LIB);
    let with = |i: usize, d: (u32, u32, u32)| {
        let mut v = good.clone();
        v[i] = d;
        v
    };
    type Case = (Vec<(u32, u32, u32)>, i32, &'static str);
    let cases: Vec<Case> = vec![
        (good[..6].to_vec(), ERR_INVAL, "too few"),
        (
            [good.clone(), vec![(IMPORT_HOST, 0, 0)]].concat(),
            ERR_INVAL,
            "too many",
        ),
        (with(0, (0, 0, 0)), ERR_INVAL, "kind 0"),
        (with(0, (7, 0, 0)), ERR_INVAL, "kind 7"),
        (with(0, (IMPORT_MEMORY, 1, 0)), ERR_INVAL, "unused a"),
        (
            with(3, (IMPORT_GLOBAL, good[3].1, 9)),
            ERR_INVAL,
            "unused b",
        ),
        (with(5, (IMPORT_HOST, 0, 1)), ERR_INVAL, "unused b of host"),
        (
            with(0, (IMPORT_TABLE, 0, 0)),
            ERR_LINK,
            "table for a memory",
        ),
        (
            with(1, (IMPORT_MEMORY, 0, 0)),
            ERR_LINK,
            "memory for a table",
        ),
        (
            with(4, (IMPORT_MEMORY, 0, 0)),
            ERR_LINK,
            "memory for a function",
        ),
        (
            with(4, (IMPORT_STACK_POINTER, 0, 0)),
            ERR_LINK,
            "global for a function",
        ),
        (
            with(3, (IMPORT_STACK_POINTER, 0, 0)),
            ERR_LINK,
            "mutable global for an immutable one",
        ),
        (with(3, (IMPORT_GLOBAL, 0, 0)), ERR_BADHANDLE, "global 0"),
        (
            with(3, (IMPORT_GLOBAL, 999, 0)),
            ERR_BADHANDLE,
            "unknown global",
        ),
        (
            with(4, (IMPORT_EXPORT, 999, 0)),
            ERR_BADHANDLE,
            "unknown instance",
        ),
        (
            with(4, (IMPORT_EXPORT, good[4].1, 2)),
            ERR_RANGE,
            "export index out of range",
        ),
        (
            with(4, (IMPORT_EXPORT, good[4].1, u32::MAX)),
            ERR_RANGE,
            "export index u32::MAX",
        ),
        (
            with(4, (IMPORT_EXPORT, good[4].1, 1)),
            ERR_LINK,
            "a global export for a function",
        ),
        (
            with(4, (IMPORT_HOST, 0, 0)),
            ERR_LINK,
            "no host definition of env.helper",
        ),
    ];
    for (descs, want, what) in cases {
        let (code, out) = t.instance_new(m, &descs);
        assert_eq!(code, want, "{what}: {}", t.last_error());
        assert_eq!(out, 0, "{what}: no handle written");
    }

    // A global of the wrong type (i64 for i32), and a freed global.
    let g64 = t.global_new(VALTYPE_I64, 0, 1);
    assert_eq!(
        t.instance_new(m, &with(3, (IMPORT_GLOBAL, g64, 0))).0,
        ERR_LINK
    );
    assert_eq!(t.call::<_, i32>("global_free", (g64,)), OK);
    assert_eq!(
        t.instance_new(m, &with(3, (IMPORT_GLOBAL, g64, 0))).0,
        ERR_BADHANDLE
    );
    // A function export of the wrong signature.
    let wrong = t.instantiate(r#"(module (func (export "h") (param i32)))"#, &[]);
    assert_eq!(
        t.instance_new(m, &with(4, (IMPORT_EXPORT, wrong, 0))).0,
        ERR_LINK
    );
    // A freed instance.
    let helper = good[4].1;
    assert_eq!(t.call::<_, i32>("instance_free", (helper,)), OK);
    assert_eq!(t.instance_new(m, &good).0, ERR_BADHANDLE);

    // Ranges and handles of the call itself.
    assert_eq!(
        t.call::<_, i32>("instance_new", (999u32, DESCS, 0u32, OUT)),
        ERR_BADHANDLE
    );
    assert_eq!(
        t.call::<_, i32>("instance_new", (0u32, DESCS, 0u32, OUT)),
        ERR_BADHANDLE
    );
    assert_eq!(
        t.call::<_, i32>("instance_new", (m, PAGE - 12, 7u32, OUT)),
        ERR_FAULT
    );
    assert_eq!(
        t.call::<_, i32>("instance_new", (m, u32::MAX - 11, 7u32, OUT)),
        ERR_FAULT,
        "ptr+len overflows"
    );
    // The count is checked first, so a count whose byte size overflows is a wrong count.
    assert_eq!(
        t.call::<_, i32>("instance_new", (m, DESCS, 0x4000_0000u32, OUT)),
        ERR_INVAL,
        "count*12 overflows"
    );
    assert_eq!(
        t.call::<_, i32>("instance_new", (m, DESCS, 7u32, PAGE - 2)),
        ERR_FAULT,
        "out_instance"
    );
}

#[test]
fn instance_new_failures_after_linking() {
    let mut t = T::new();
    // A start function that traps.
    let trap = t.compile("(module (func $s unreachable) (start $s))");
    assert_eq!(t.instance_new(trap, &[]), (ERR_INSTANTIATE, 0));
    assert!(t.last_error().contains("unreachable"), "{}", t.last_error());
    // An active data segment past the end of the process memory (one page).
    let oob =
        t.compile(r#"(module (import "env" "memory" (memory 1)) (data (i32.const 65535) "ab"))"#);
    assert_eq!(
        t.instance_new(oob, &[(IMPORT_MEMORY, 0, 0)]).0,
        ERR_INSTANTIATE
    );
    // An element segment past the end of the table (4 slots).
    let elem = t.compile(
        r#"(module (import "env" "t" (table 1 funcref)) (func $f) (elem (i32.const 4) $f))"#,
    );
    assert_eq!(
        t.instance_new(elem, &[(IMPORT_TABLE, 0, 0)]).0,
        ERR_INSTANTIATE
    );
    // A memory import that wants more than the process memory has.
    let big = t.compile(r#"(module (import "env" "memory" (memory 2)))"#);
    let code = t.instance_new(big, &[(IMPORT_MEMORY, 0, 0)]).0;
    assert!(code == ERR_LINK || code == ERR_INSTANTIATE, "{code}");
    // Still healthy.
    t.instantiate(HELPER, &[]);
}

#[test]
fn proc_exit_in_a_start_function_ends_the_process() {
    let mut t = T::new();
    let m = t.compile(
        r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
             (func $s (call $exit (i32.const 7))) (start $s))"#,
    );
    t.write(DESCS, &[6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let f = t
        .guest
        .get_typed_func::<(u32, u32, u32, u32), i32>(t.p.store(), "instance_new")
        .unwrap();
    let err = f
        .call(t.p.store(), (m, DESCS, 1, OUT))
        .expect_err("exit unwinds");
    assert_eq!(err.downcast_ref::<I32Exit>().map(|e| e.0), Some(7));
}

#[test]
fn instance_free_valid_and_hostile() {
    let mut t = T::new();
    let i = t.instantiate(HELPER, &[]);
    assert_eq!(t.call::<_, i32>("export_to_table", (i, 0u32, 3u32)), OK);
    assert_eq!(t.call::<_, i32>("instance_free", (i,)), OK);
    assert_eq!(
        t.call::<_, i32>("instance_free", (i,)),
        ERR_BADHANDLE,
        "double free"
    );
    assert_eq!(t.call::<_, i32>("instance_free", (0u32,)), ERR_BADHANDLE);
    assert_eq!(
        t.call::<_, i32>("export_global_get", (i, 1u32, OUT2)),
        ERR_BADHANDLE
    );
    assert_eq!(
        t.call::<_, i32>("export_to_table", (i, 0u32, 2u32)),
        ERR_BADHANDLE
    );
    // Functions already in the table stay callable.
    assert_eq!(t.call::<_, i32>("call_slot", (3u32,)), 7);
    assert!(
        t.instantiate(HELPER, &[]) > i,
        "freed handles are not reissued"
    );
}

#[test]
fn export_global_get_valid_and_hostile() {
    let mut t = T::new();
    let descs = t.lib_descriptors();
    let lib = t.instantiate(LIB, &descs);
    assert_eq!(t.call::<_, i32>("export_global_get", (lib, 2u32, OUT2)), OK);
    assert_eq!(t.u64_at(OUT2), 0x1234_5678_9abc_def0, "i64 whole");
    assert_eq!(t.call::<_, i32>("export_global_get", (lib, 1u32, OUT2)), OK);
    assert_eq!(t.u64_at(OUT2), 0xffff_ffff, "i32 zero-extended");

    t.write(OUT2, &[0; 8]);
    assert_eq!(
        t.call::<_, i32>("export_global_get", (lib, 0u32, OUT2)),
        ERR_TYPE,
        "a function"
    );
    assert_eq!(
        t.call::<_, i32>("export_global_get", (lib, 3u32, OUT2)),
        ERR_TYPE,
        "an f32 global"
    );
    assert_eq!(
        t.call::<_, i32>("export_global_get", (lib, 6u32, OUT2)),
        ERR_RANGE
    );
    assert_eq!(
        t.call::<_, i32>("export_global_get", (lib, u32::MAX, OUT2)),
        ERR_RANGE
    );
    assert_eq!(
        t.call::<_, i32>("export_global_get", (77u32, 1u32, OUT2)),
        ERR_BADHANDLE
    );
    assert_eq!(t.u64_at(OUT2), 0, "nothing written on failure");
    assert_eq!(
        t.call::<_, i32>("export_global_get", (lib, 1u32, PAGE - 4)),
        ERR_FAULT
    );
    assert_eq!(
        t.call::<_, i32>("export_global_get", (lib, 1u32, u32::MAX - 3)),
        ERR_FAULT
    );
}

#[test]
fn export_to_table_valid_and_hostile() {
    let mut t = T::new();
    let i = t.instantiate(HELPER, &[]);
    assert_eq!(t.call::<_, i32>("export_to_table", (i, 0u32, 0u32)), OK);
    assert_eq!(t.call::<_, i32>("call_slot", (0u32,)), 7);
    assert_eq!(
        t.call::<_, i32>("export_to_table", (i, 1u32, 1u32)),
        ERR_TYPE,
        "a global"
    );
    assert!(t.slot_is_null(1));
    assert_eq!(
        t.call::<_, i32>("export_to_table", (i, 2u32, 1u32)),
        ERR_RANGE,
        "export index"
    );
    assert_eq!(
        t.call::<_, i32>("export_to_table", (i, 0u32, 4u32)),
        ERR_RANGE,
        "table index == size"
    );
    assert_eq!(
        t.call::<_, i32>("export_to_table", (i, 0u32, u32::MAX)),
        ERR_RANGE
    );
    assert_eq!(
        t.call::<_, i32>("export_to_table", (0u32, 0u32, 1u32)),
        ERR_BADHANDLE
    );
    // After growing, the new slots are usable.
    assert_eq!(t.call::<_, i32>("table_grow", (1u32, OUT2)), OK);
    assert_eq!(t.call::<_, i32>("export_to_table", (i, 0u32, 4u32)), OK);
    assert_eq!(t.call::<_, i32>("call_slot", (4u32,)), 7);
}

#[test]
fn table_grow_valid_and_hostile() {
    let mut t = T::new();
    assert_eq!(t.call::<_, i32>("table_grow", (3u32, OUT2)), OK);
    assert_eq!(t.u32_at(OUT2), 4);
    assert_eq!(t.table_size(), 7);
    assert!(t.slot_is_null(6));
    assert_eq!(t.call::<_, i32>("table_grow", (0u32, OUT2)), OK);
    assert_eq!(t.u32_at(OUT2), 7);
    assert_eq!(t.call::<_, i32>("table_grow", (u32::MAX, OUT2)), ERR_NOMEM);
    assert_eq!(
        t.call::<_, i32>("table_grow", (1u32 << 30, OUT2)),
        ERR_NOMEM
    );
    assert_eq!(t.call::<_, i32>("table_grow", (1u32, PAGE)), ERR_FAULT);
    assert_eq!(t.call::<_, i32>("table_grow", (1u32, u32::MAX)), ERR_FAULT);
    assert_eq!(t.table_size(), 7, "failed calls did not grow the table");
}

#[test]
fn table_clear_valid_and_hostile() {
    let mut t = T::new();
    let i = t.instantiate(HELPER, &[]);
    for slot in 0..4u32 {
        assert_eq!(t.call::<_, i32>("export_to_table", (i, 0u32, slot)), OK);
    }
    assert_eq!(t.call::<_, i32>("table_clear", (1u32, 2u32)), OK);
    assert!(!t.slot_is_null(0) && t.slot_is_null(1) && t.slot_is_null(2) && !t.slot_is_null(3));
    assert_eq!(
        t.call::<_, i32>("table_clear", (4u32, 0u32)),
        OK,
        "empty range at the end"
    );
    assert_eq!(t.call::<_, i32>("table_clear", (3u32, 2u32)), ERR_RANGE);
    assert_eq!(t.call::<_, i32>("table_clear", (5u32, 0u32)), ERR_RANGE);
    assert_eq!(
        t.call::<_, i32>("table_clear", (u32::MAX, 2u32)),
        ERR_RANGE,
        "index+count overflows u32"
    );
    assert_eq!(t.call::<_, i32>("table_clear", (0u32, u32::MAX)), ERR_RANGE);
    assert!(!t.slot_is_null(3), "nothing cleared on failure");
    assert_eq!(t.call::<_, i32>("call_slot", (3u32,)), 7);
}

#[test]
fn global_new_valid_and_hostile() {
    let mut t = T::new();
    let reader = r#"(module (import "env" "g" (global $g i32)) (import "env" "h" (global $h i64))
                      (export "g" (global $g)) (export "h" (global $h)))"#;
    let g = t.global_new(VALTYPE_I32, 0, 0x1_0000_0005); // truncated to 5
    let h = t.global_new(VALTYPE_I64, 0, -2);
    assert!(g != 0 && h > g);
    let i = t.instantiate(reader, &[(IMPORT_GLOBAL, g, 0), (IMPORT_GLOBAL, h, 0)]);
    assert_eq!(t.call::<_, i32>("export_global_get", (i, 0u32, OUT2)), OK);
    assert_eq!(t.u64_at(OUT2), 5);
    assert_eq!(t.call::<_, i32>("export_global_get", (i, 1u32, OUT2)), OK);
    assert_eq!(t.u64_at(OUT2), u64::MAX - 1);

    t.write(OUT, &[0; 4]);
    assert_eq!(
        t.call::<_, i32>("global_new", (0x7du32, 0u32, 0i64, OUT)),
        ERR_INVAL,
        "f32"
    );
    assert_eq!(
        t.call::<_, i32>("global_new", (0u32, 0u32, 0i64, OUT)),
        ERR_INVAL
    );
    assert_eq!(
        t.call::<_, i32>("global_new", (VALTYPE_I32, 2u32, 0i64, OUT)),
        ERR_INVAL,
        "mutable 2"
    );
    assert_eq!(
        t.call::<_, i32>("global_new", (VALTYPE_I32, 0u32, 0i64, PAGE - 1)),
        ERR_FAULT
    );
    assert_eq!(
        t.call::<_, i32>("global_new", (VALTYPE_I32, 0u32, 0i64, u32::MAX)),
        ERR_FAULT
    );
    assert_eq!(t.u32_at(OUT), 0);
    assert_eq!(
        t.global_new(VALTYPE_I32, 1, 0),
        h + 1,
        "failed calls consumed no handle"
    );
}

#[test]
fn global_set_valid_and_hostile() {
    let mut t = T::new();
    let reader = r#"(module (import "env" "g" (global $g (mut i32))) (export "g" (global $g)))"#;
    let g = t.global_new(VALTYPE_I32, 1, 1);
    let i = t.instantiate(reader, &[(IMPORT_GLOBAL, g, 0)]);
    assert_eq!(t.call::<_, i32>("global_set", (g, 0x7_0000_0009i64)), OK);
    assert_eq!(t.call::<_, i32>("export_global_get", (i, 0u32, OUT2)), OK);
    assert_eq!(t.u64_at(OUT2), 9, "low 32 bits, seen by the importer");
    let h = t.global_new(VALTYPE_I64, 1, 0);
    assert_eq!(t.call::<_, i32>("global_set", (h, i64::MIN)), OK);

    let c = t.global_new(VALTYPE_I32, 0, 1);
    assert_eq!(
        t.call::<_, i32>("global_set", (c, 2i64)),
        ERR_TYPE,
        "immutable"
    );
    assert_eq!(t.call::<_, i32>("global_set", (0u32, 2i64)), ERR_BADHANDLE);
    assert_eq!(
        t.call::<_, i32>("global_set", (1000u32, 2i64)),
        ERR_BADHANDLE
    );
    assert_eq!(t.call::<_, i32>("global_free", (g,)), OK);
    assert_eq!(
        t.call::<_, i32>("global_set", (g, 2i64)),
        ERR_BADHANDLE,
        "freed"
    );
}

#[test]
fn global_free_valid_and_hostile() {
    let mut t = T::new();
    let reader = r#"(module (import "env" "g" (global $g i32)) (export "g" (global $g)))"#;
    let g = t.global_new(VALTYPE_I32, 0, 11);
    let i = t.instantiate(reader, &[(IMPORT_GLOBAL, g, 0)]);
    assert_eq!(t.call::<_, i32>("global_free", (g,)), OK);
    assert_eq!(
        t.call::<_, i32>("global_free", (g,)),
        ERR_BADHANDLE,
        "double free"
    );
    assert_eq!(t.call::<_, i32>("global_free", (0u32,)), ERR_BADHANDLE);
    // The importer keeps it.
    assert_eq!(t.call::<_, i32>("export_global_get", (i, 0u32, OUT2)), OK);
    assert_eq!(t.u64_at(OUT2), 11);
    assert!(
        t.global_new(VALTYPE_I32, 0, 0) > g,
        "freed handles are not reissued"
    );
}

#[test]
fn handle_spaces_are_separate() {
    let mut t = T::new();
    let m = t.compile(HELPER);
    let g = t.global_new(VALTYPE_I32, 1, 0);
    assert_eq!((m, g), (1, 1));
    // Instance handle space is empty: module handle 1 is not an instance.
    assert_eq!(t.call::<_, i32>("instance_free", (1u32,)), ERR_BADHANDLE);
    let i = t.instance_new(m, &[]).1;
    assert_eq!(i, 1);
}
