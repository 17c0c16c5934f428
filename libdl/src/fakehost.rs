//! A test double of the host ABI, and tests of the loader's planning and
//! transaction logic run natively against it. The double checks every
//! request: handles must be live, descriptors must match the module's
//! imports, table indices must be inside the table, and it counts what is
//! alive so a test can assert that a failed `dlopen` left nothing behind.
//!
//! Also built with the `fuzzing` feature (no_std crate, std for this module
//! only), for the targets in `libdl/fuzz/`: the builders below are public and
//! the double refuses (with an error, as a real engine would) what a real host
//! could not do, such as growing the table past a million slots.
#![cfg_attr(
    not(test),
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

#[cfg(not(test))]
extern crate std;

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use std::collections::BTreeMap;

#[cfg(test)]
use crate::error::Error;
use crate::error::{errno, Result};
use crate::host::*;
use crate::loader::Loader;
#[cfg(test)]
use crate::loader::OpenFlags;
use crate::parse::tests::{dylink0, leb, mem_info, module, string};
use crate::parse::{parse, Expect, ExportKind, ImportKind};

/// The largest table the double grows to (a real engine has a limit too).
pub const MAX_TABLE: usize = 1 << 20;

/// The double: state behind a lock, so a test keeps a view of it while the
/// loader owns the host.
#[derive(Clone, Default)]
pub struct FakeHost(pub std::sync::Arc<std::sync::Mutex<FakeState>>);

#[derive(Default)]
pub struct FakeState {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Other paths to files in `files`: symlinks, or other spellings.
    pub links: BTreeMap<String, String>,
    /// A host that gives no file identity (inode 0).
    pub no_identity: bool,
    /// An engine without tail calls: refuses a module with `return_call_indirect`
    /// (checked as libdl's trampolines end: opcode, type 0, table 0, `end`).
    pub no_tail_calls: bool,
    /// How many modules with a tail-call trampoline were compiled.
    pub tail_call_modules: u32,
    pub modules: BTreeMap<u32, Vec<u8>>,
    pub instances: BTreeMap<u32, u32>,
    pub globals: BTreeMap<u32, (bool, u32)>,
    pub table: Vec<Option<(u32, u32)>>,
    pub memory: BTreeMap<u32, u32>,
    pub next: u32,
    pub next_addr: u32,
    pub calls: Vec<u32>,
    pub env: Vec<(String, String)>,
}

impl FakeState {
    fn handle(&mut self) -> u32 {
        self.next += 1;
        self.next
    }

    /// What is alive: (modules, instances, globals, memory blocks, table slots in use).
    pub fn alive(&self) -> (usize, usize, usize, usize, usize) {
        let used = self.table.iter().filter(|e| e.is_some()).count();
        (
            self.modules.len(),
            self.instances.len(),
            self.globals.len(),
            self.memory.len(),
            used,
        )
    }

    /// The export `export` of live instance `i`, checked to exist and have `kind`.
    fn check_export(&self, i: u32, export: u32, kind: ExportKind, what: &str) {
        let m = self
            .instances
            .get(&i)
            .unwrap_or_else(|| panic!("{what}: dead instance"));
        let info = parse(&self.modules[m], Expect::Program).unwrap();
        let e = info
            .exports
            .get(export as usize)
            .unwrap_or_else(|| panic!("{what}: no export {export}"));
        assert_eq!(
            e.kind,
            kind,
            "{what}: export {} has the wrong kind",
            info.name_of(e)
        );
    }
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        impl Host for FakeHost {
            $(fn $name(&mut self, $($arg: $ty),*) -> $ret { self.0.lock().unwrap().$name($($arg),*) })*
        }
    };
}

delegate! {
    compile(bytes: &[u8]) -> Result<ModuleHandle>;
    module_bytes(m: ModuleHandle) -> Result<Vec<u8>>;
    module_free(m: ModuleHandle) -> ();
    instantiate(m: ModuleHandle, imports: &[ImportDesc]) -> Result<InstanceHandle>;
    instance_free(i: InstanceHandle) -> ();
    export_global_get(i: InstanceHandle, export: u32) -> Result<u64>;
    export_to_table(i: InstanceHandle, export: u32, slot: u32) -> Result<()>;
    table_grow(delta: u32) -> Result<u32>;
    table_clear(index: u32, count: u32) -> ();
    global_new_i32(mutable: bool, value: u32) -> Result<GlobalHandle>;
    global_set_i32(g: GlobalHandle, value: u32) -> Result<()>;
    global_free(g: GlobalHandle) -> ();
    call_slot(slot: u32) -> ();
    mem_alloc(size: u32, align_log2: u32) -> Result<u32>;
    mem_free(addr: u32, size: u32, align_log2: u32) -> ();
    read_file(path: &str) -> core::result::Result<(Vec<u8>, Option<crate::host::FileId>), u16>;
    getenv(name: &str) -> Option<String>;
    stderr(text: &str) -> ();
}

impl Host for FakeState {
    fn compile(&mut self, bytes: &[u8]) -> Result<ModuleHandle> {
        parse(bytes, Expect::Program)?;
        if bytes.ends_with(&[0x13, 0, 0, 0x0b]) {
            if self.no_tail_calls {
                let why = "tail calls are not enabled".to_string();
                return Err(failure("module_compile", 4, why));
            }
            self.tail_call_modules += 1;
        }
        let h = self.handle();
        self.modules.insert(h, bytes.to_vec());
        Ok(h)
    }
    fn module_bytes(&mut self, m: ModuleHandle) -> Result<Vec<u8>> {
        self.modules
            .get(&m)
            .cloned()
            .ok_or(failure("module_bytes", 1, String::new()))
    }
    fn module_free(&mut self, m: ModuleHandle) {
        assert!(
            self.modules.remove(&m).is_some(),
            "module_free of a dead handle"
        );
    }
    fn instantiate(&mut self, m: ModuleHandle, imports: &[ImportDesc]) -> Result<InstanceHandle> {
        let bytes = self.modules.get(&m).expect("instantiate: dead module");
        let info = parse(bytes, Expect::Program).unwrap();
        assert_eq!(
            info.imports.len(),
            imports.len(),
            "one descriptor per import"
        );
        for (imp, d) in info.imports.iter().zip(imports) {
            match (imp.kind, d.kind) {
                (ImportKind::Memory, IMPORT_MEMORY) | (ImportKind::Table, IMPORT_TABLE) => {}
                (ImportKind::Global { .. }, IMPORT_STACK_POINTER) => {}
                (ImportKind::Global { mutable, .. }, IMPORT_GLOBAL) => {
                    let g = self
                        .globals
                        .get(&d.a)
                        .expect("IMPORT_GLOBAL of a dead global");
                    assert_eq!(g.0, mutable, "{}.{}: mutability", imp.module, imp.name);
                }
                (ImportKind::Func { .. }, IMPORT_EXPORT) => {
                    assert!(
                        self.instances.contains_key(&d.a),
                        "IMPORT_EXPORT of a dead instance"
                    )
                }
                (ImportKind::Func { .. }, IMPORT_HOST) => {}
                (k, d) => panic!("{}.{}: descriptor {d} for {k:?}", imp.module, imp.name),
            }
        }
        // Active element segments fill table slots, as the engine does; one
        // outside the table makes instantiation fail (and change nothing).
        let mut filled = Vec::new();
        for seg in &info.elems {
            let base = match seg.offset.global {
                None => 0,
                Some(g) => {
                    let Some(pos) = info
                        .imports
                        .iter()
                        .enumerate()
                        .filter(|(_, i)| matches!(i.kind, ImportKind::Global { .. }))
                        .nth(g as usize)
                        .map(|(pos, _)| pos)
                    else {
                        continue;
                    };
                    match imports.get(pos) {
                        Some(d) if d.kind == IMPORT_GLOBAL => self.globals[&d.a].1,
                        _ => continue,
                    }
                }
            };
            let start = u64::from(base.wrapping_add(seg.offset.value as u32));
            if start + seg.funcs.len() as u64 > self.table.len() as u64 {
                return Err(failure(
                    "instantiate",
                    6,
                    "table index is out of bounds".to_string(),
                ));
            }
            filled.extend((0..seg.funcs.len() as u64).map(|i| (start + i) as usize));
        }
        let h = self.handle();
        for slot in filled {
            self.table[slot] = Some((h, u32::MAX));
        }
        self.instances.insert(h, m);
        Ok(h)
    }
    fn instance_free(&mut self, i: InstanceHandle) {
        assert!(
            self.instances.remove(&i).is_some(),
            "instance_free of a dead handle"
        );
    }
    fn export_global_get(&mut self, i: InstanceHandle, export: u32) -> Result<u64> {
        self.check_export(i, export, ExportKind::Global, "export_global_get");
        // A recognisable fake address per export: 0x100 + 4 * index.
        Ok(0x100 + u64::from(export) * 4)
    }
    fn export_to_table(&mut self, i: InstanceHandle, export: u32, slot: u32) -> Result<()> {
        self.check_export(i, export, ExportKind::Func, "export_to_table");
        let e = self
            .table
            .get_mut(slot as usize)
            .expect("export_to_table: slot outside table");
        *e = Some((i, export));
        Ok(())
    }
    fn table_grow(&mut self, delta: u32) -> Result<u32> {
        let old = self.table.len() as u32;
        if self.table.len() + delta as usize > MAX_TABLE {
            return Err(failure("table_grow", 1, "table limit".to_string()));
        }
        self.table.resize(self.table.len() + delta as usize, None);
        Ok(old)
    }
    fn table_clear(&mut self, index: u32, count: u32) {
        let end = index
            .checked_add(count)
            .expect("table_clear: index + count overflows");
        for s in index..end {
            *self
                .table
                .get_mut(s as usize)
                .expect("table_clear outside table") = None;
        }
    }
    fn global_new_i32(&mut self, mutable: bool, value: u32) -> Result<GlobalHandle> {
        let h = self.handle();
        self.globals.insert(h, (mutable, value));
        Ok(h)
    }
    fn global_set_i32(&mut self, g: GlobalHandle, value: u32) -> Result<()> {
        let e = self
            .globals
            .get_mut(&g)
            .expect("global_set of a dead global");
        assert!(e.0, "global_set of an immutable global");
        e.1 = value;
        Ok(())
    }
    fn global_free(&mut self, g: GlobalHandle) {
        assert!(
            self.globals.remove(&g).is_some(),
            "global_free of a dead handle"
        );
    }
    fn call_slot(&mut self, slot: u32) {
        assert!(
            self.table.get(slot as usize).is_some_and(|e| e.is_some()),
            "call of an empty slot"
        );
        self.calls.push(slot);
    }
    fn mem_alloc(&mut self, size: u32, align_log2: u32) -> Result<u32> {
        assert!(align_log2 < 32, "mem_alloc: alignment 2^{align_log2}");
        let align = 1u64 << align_log2;
        let addr = (u64::from(self.next_addr) + 0x10000 + align - 1) & !(align - 1);
        // Out of (4 GiB of) memory: refused, as the real allocator does.
        if addr + u64::from(size) > u64::from(u32::MAX) {
            return Err(failure("mem_alloc", 1, "out of memory".to_string()));
        }
        let addr = addr as u32;
        self.next_addr = addr + size;
        self.memory.insert(addr, size);
        Ok(addr)
    }
    fn mem_free(&mut self, addr: u32, size: u32, _: u32) {
        assert_eq!(
            self.memory.remove(&addr),
            Some(size),
            "mem_free of a block not allocated"
        );
    }
    /// A path in `links` reads its target (a symlink, or another spelling);
    /// a file's identity is its position among the files.
    fn read_file(
        &mut self,
        path: &str,
    ) -> core::result::Result<(Vec<u8>, Option<crate::host::FileId>), u16> {
        let path = self.links.get(path).map(String::as_str).unwrap_or(path);
        let ino = self
            .files
            .keys()
            .position(|k| k == path)
            .ok_or(errno::NOENT)?;
        let bytes = self.files.get(path).cloned().ok_or(errno::NOENT)?;
        let file = crate::host::FileId {
            dev: 1,
            ino: ino as u64 + 1,
        };
        Ok((bytes, (!self.no_identity).then_some(file)))
    }
    fn getenv(&mut self, name: &str) -> Option<String> {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
    fn stderr(&mut self, _: &str) {}
}

// ---- module builders ------------------------------------------------------

/// Type section with the given signatures (params, results) as value codes.
pub fn types(sigs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut t = Vec::new();
    leb(&mut t, sigs.len() as u32);
    for (p, r) in sigs {
        t.push(0x60);
        leb(&mut t, p.len() as u32);
        t.extend_from_slice(p);
        leb(&mut t, r.len() as u32);
        t.extend_from_slice(r);
    }
    t
}

pub enum Imp<'a> {
    Func(&'a str, &'a str, u32),
    Global(&'a str, &'a str, bool),
    Memory,
    Table,
}

pub fn imports(list: &[Imp<'_>]) -> Vec<u8> {
    let mut s = Vec::new();
    leb(&mut s, list.len() as u32);
    for i in list {
        match i {
            Imp::Func(m, n, ty) => {
                string(&mut s, m);
                string(&mut s, n);
                s.push(0);
                leb(&mut s, *ty);
            }
            Imp::Global(m, n, mutable) => {
                string(&mut s, m);
                string(&mut s, n);
                s.extend_from_slice(&[3, 0x7f, *mutable as u8]);
            }
            Imp::Memory => {
                string(&mut s, "env");
                string(&mut s, "memory");
                s.extend_from_slice(&[2, 0, 0]);
            }
            Imp::Table => {
                string(&mut s, "env");
                string(&mut s, "__indirect_function_table");
                s.extend_from_slice(&[1, 0x70, 0, 0]);
            }
        }
    }
    s
}

/// Exports: (name, kind byte, index).
pub fn exports(list: &[(&str, u8, u32)]) -> Vec<u8> {
    let mut s = Vec::new();
    leb(&mut s, list.len() as u32);
    for (n, k, i) in list {
        string(&mut s, n);
        s.push(*k);
        leb(&mut s, *i);
    }
    s
}

/// `count` defined functions of type `ty`, with `unreachable` bodies.
pub fn funcs_and_code(count: u32, ty: u32) -> [(u8, Vec<u8>); 2] {
    let mut f = Vec::new();
    leb(&mut f, count);
    let mut c = Vec::new();
    leb(&mut c, count);
    for _ in 0..count {
        leb(&mut f, ty);
        c.extend_from_slice(&[3, 0, 0x00, 0x0b]);
    }
    [(3, f), (10, c)]
}

/// A defined immutable i32 global section with `count` globals `i32.const 0`.
pub fn globals(count: u32) -> Vec<u8> {
    let mut g = Vec::new();
    leb(&mut g, count);
    for _ in 0..count {
        g.extend_from_slice(&[0x7f, 0, 0x41, 0, 0x0b]);
    }
    g
}

/// The program: exports `host_fn: () -> i32` (func 0) and data `host_data` (global 0).
pub fn program() -> Vec<u8> {
    let [f, c] = funcs_and_code(1, 0);
    module(&[
        (1, types(&[(&[], &[0x7f])])),
        f,
        (6, globals(1)),
        (7, exports(&[("host_fn", 0, 0), ("host_data", 3, 0)])),
        c,
    ])
}

/// A side module importing the standard env items plus `extra`, defining
/// `__wasm_call_ctors` and `__wasm_apply_data_relocs` (type 1: () -> ()).
pub fn side(extra: &[Imp<'_>], mem: u32) -> Vec<u8> {
    let mut list = vec![
        Imp::Memory,
        Imp::Table,
        Imp::Global("env", "__memory_base", false),
        Imp::Global("env", "__table_base", false),
    ];
    let nfunc_imports = extra.iter().filter(|i| matches!(i, Imp::Func(..))).count() as u32;
    list.extend(extra.iter().map(|i| match i {
        Imp::Func(m, n, t) => Imp::Func(m, n, *t),
        Imp::Global(m, n, b) => Imp::Global(m, n, *b),
        Imp::Memory => Imp::Memory,
        Imp::Table => Imp::Table,
    }));
    let [f, c] = funcs_and_code(2, 1);
    module(&[
        (0, dylink0(&[mem_info(mem, 3, 2, 0)])),
        (1, types(&[(&[], &[0x7f]), (&[], &[]), (&[0x7c], &[0x7c])])),
        (2, imports(&list)),
        f,
        (
            7,
            exports(&[
                ("__wasm_call_ctors", 0, nfunc_imports),
                ("__wasm_apply_data_relocs", 0, nfunc_imports + 1),
            ]),
        ),
        c,
    ])
}

/// `side(extra, mem)` with a NEEDED subsection naming `needed`.
pub fn side_needing(extra: &[Imp<'_>], needed: &[&str]) -> Vec<u8> {
    let so = side(extra, 16);
    let plain_dylink = module(&[(0, dylink0(&[mem_info(16, 3, 2, 0)]))]).len() - 8;
    let mut n = Vec::new();
    leb(&mut n, needed.len() as u32);
    for name in needed {
        string(&mut n, name);
    }
    let mut out = module(&[(0, dylink0(&[mem_info(16, 3, 2, 0), (2, n)]))]);
    out.extend_from_slice(&so[8 + plain_dylink..]);
    out
}

pub fn loader_with(files: &[(&str, Vec<u8>)]) -> (Loader, FakeHost) {
    let view = FakeHost::default();
    let mut host = view.0.lock().unwrap();
    host.table = vec![None; 10];
    let libdl = module(&[(0, dylink0(&[mem_info(0, 0, 0, 0)]))]);
    let (pm, lm) = (
        host.compile(&program()).unwrap(),
        host.compile(&libdl).unwrap(),
    );
    let (pi, li) = (
        host.instantiate(pm, &[]).unwrap(),
        host.instantiate(lm, &[]).unwrap(),
    );
    for (p, b) in files {
        host.files.insert(p.to_string(), b.clone());
    }
    drop(host);
    let l = Loader::new(
        alloc::boxed::Box::new(view.clone()),
        (lm, li),
        Some((pm, pi)),
    )
    .unwrap();
    (l, view)
}

#[test]
fn loads_binds_and_runs_entry_points_in_order() {
    let so = side(
        &[
            Imp::Func("env", "host_fn", 0),
            Imp::Global("GOT.mem", "host_data", true),
            Imp::Global("GOT.func", "host_fn", true),
        ],
        64,
    );
    let (mut l, view) = loader_with(&[("/p/a.so", so)]);
    let before = view.0.lock().unwrap().globals.len();
    let opened = l
        .open("/p/a.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    let h = view.0.lock().unwrap();
    // __memory_base, __table_base, and one cell each for GOT.mem and GOT.func.
    assert_eq!(h.globals.len(), before + 4);
    let got_mem = h
        .globals
        .values()
        .filter(|(m, v)| *m && *v == 0x104)
        .count();
    assert_eq!(
        got_mem, 1,
        "GOT.mem.host_data holds the program's absolute address"
    );
    // __wasm_apply_data_relocs ran during the load; the constructors are left to the caller.
    assert_eq!(h.calls.len(), 1);
    let init = *opened.init_slots.first().unwrap();
    assert_ne!(Some(init), h.calls.first().copied());
    assert!(h.table[init as usize].is_some());

    drop(h);
    // Opening again shares the module; closing twice unloads it completely.
    let again = l
        .open("/p/a.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    assert_eq!(again.id, opened.id);
    assert!(again.init_slots.is_empty(), "constructors run once");
    assert!(l.close(opened.id).unwrap().is_empty());
    assert!(l.get(opened.id).is_some());
    let dying = l.close(opened.id).unwrap();
    assert_eq!(dying.len(), 1);
    l.finish_close(&[dying[0].0]);
    assert!(l.get(opened.id).is_none());
    let h = view.0.lock().unwrap();
    assert_eq!(h.globals.len(), before, "all globals released");
    assert_eq!(h.instances.len(), 2, "only the program and libdl remain");
    assert_eq!(h.modules.len(), 2);
    assert!(h.memory.is_empty());
    // One slot stays: the canonical address of the program's host_fn, which
    // GOT.func.host_fn needed. It lives as long as the program, so that the
    // function's address is the same for every later load.
    assert_eq!(l.table.in_use, 1);
    let live: Vec<_> = h.table.iter().skip(10).flatten().collect();
    assert_eq!(live.len(), 1);
    assert_eq!(
        live[0].0,
        l.get(l.program).unwrap().instance,
        "the program's function"
    );
    drop(h);
    assert_eq!(l.close(opened.id).unwrap_err(), Error::BadHandle);
}

#[test]
fn failed_loads_leave_nothing_behind() {
    let undefined = side(
        &[
            Imp::Global("GOT.func", "host_fn", true),
            Imp::Func("env", "nowhere", 0),
        ],
        32,
    );
    let mismatch = side(
        &[
            Imp::Global("GOT.mem", "host_data", true),
            Imp::Func("env", "host_fn", 2),
        ],
        32,
    );
    let kind = side(&[Imp::Global("GOT.func", "host_data", true)], 32);
    let (mut l, view) = loader_with(&[
        ("/p/u.so", undefined),
        ("/p/m.so", mismatch),
        ("/p/k.so", kind),
    ]);
    let globals = view.0.lock().unwrap().globals.len();
    let table = view.0.lock().unwrap().table.len();

    let e = l.open("/p/u.so", OpenFlags::default(), None).unwrap_err();
    assert_eq!(
        e,
        Error::UndefinedSymbol {
            symbol: "nowhere".into()
        }
    );
    let e = l.open("/p/m.so", OpenFlags::default(), None).unwrap_err();
    let mut msg = String::new();
    e.write_message(Some("/p/m.so"), &mut msg);
    assert_eq!(
        msg,
        "/p/m.so: symbol host_fn: signature mismatch: imported as (f64) -> (f64), defined in main program as () -> (i32)"
    );
    let e = l.open("/p/k.so", OpenFlags::default(), None).unwrap_err();
    assert_eq!(
        e,
        Error::SymbolKind {
            symbol: "host_data".into(),
            wanted: "a function"
        }
    );
    assert_eq!(
        l.open("/p/none.so", OpenFlags::default(), None)
            .unwrap_err(),
        Error::Open {
            errno: errno::NOENT
        }
    );

    let h = view.0.lock().unwrap();
    assert_eq!(h.globals.len(), globals, "no global survives a failed load");
    assert_eq!(h.modules.len(), 2);
    assert_eq!(h.instances.len(), 2);
    assert!(h.memory.is_empty());
    assert_eq!(l.modules.len(), 2);
    assert!(l.got.is_empty() && l.func_slots.is_empty());
    assert_eq!(l.table.in_use, 0);
    // The table may have grown, but every slot handed out is back and empty.
    assert!(h.table.iter().skip(table.min(10)).all(|e| e.is_none()));
    drop(h);
    assert!(l
        .open(
            "/p/u.so",
            OpenFlags {
                noload: true,
                ..OpenFlags::default()
            },
            None
        )
        .unwrap()
        .is_none());
}

#[test]
fn weak_undefined_symbols_bind_to_zero_and_a_trampoline() {
    let mut so = side(
        &[
            Imp::Func("env", "maybe", 0),
            Imp::Global("GOT.func", "maybe", true),
            Imp::Global("GOT.mem", "maybe_data", true),
        ],
        16,
    );
    // IMPORT_INFO marks both symbols weak (wasm-ld names them under "env").
    let mut info = Vec::new();
    leb(&mut info, 2);
    for n in ["maybe", "maybe_data"] {
        string(&mut info, "env");
        string(&mut info, n);
        leb(&mut info, crate::parse::WASM_SYM_BINDING_WEAK);
    }
    let dylink = dylink0(&[mem_info(16, 3, 2, 0), (4, info)]);
    // Replace the dylink.0 section (the first one) of the built module.
    let old_len = {
        let m = module(&[(0, dylink0(&[mem_info(16, 3, 2, 0)]))]);
        m.len() - 8
    };
    let mut rebuilt = module(&[(0, dylink)]);
    rebuilt.extend_from_slice(&so[8 + old_len..]);
    so = rebuilt;
    for tail_calls in [true, false] {
        weak_symbols_in(&so, tail_calls);
    }
}

/// Loads `so` (a side module with weak undefined `maybe` and `maybe_data`)
/// on an engine with or without tail calls.
#[cfg(test)]
fn weak_symbols_in(so: &[u8], tail_calls: bool) {
    let (mut l, view) = loader_with(&[("/p/w.so", so.to_vec())]);
    view.0.lock().unwrap().no_tail_calls = !tail_calls;
    l.open("/p/w.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    // The trampoline: a tail call where the engine has them.
    let tails = view.0.lock().unwrap().tail_call_modules;
    assert_eq!(tails, u32::from(tail_calls));
    assert_eq!(l.no_tail_calls, !tail_calls);
    let zero_cells = view
        .0
        .lock()
        .unwrap()
        .globals
        .values()
        .filter(|(m, v)| *m && *v == 0)
        .count();
    assert_eq!(
        zero_cells, 2,
        "GOT.func.maybe and GOT.mem.maybe_data hold 0"
    );
    let m = l.modules.last().unwrap();
    assert_eq!(
        m.weak_slots.len(),
        1,
        "maybe() goes through a trampoline slot, bound later"
    );
    assert_eq!(m.helpers.len(), 1);
}

#[test]
fn search_path_and_global_scope() {
    let so = side(&[], 8);
    let (mut l, _view) = loader_with(&[("/usr/lib/libq.so", so.clone()), ("/opt/lib/libq.so", so)]);
    let a = l
        .open(
            "libq.so",
            OpenFlags {
                global: true,
                ..OpenFlags::default()
            },
            None,
        )
        .unwrap()
        .unwrap();
    assert_eq!(l.get(a.id).unwrap().path, "/usr/lib/libq.so");
    assert_eq!(l.global_scope.last(), Some(&a.id));
    // Already loaded under that file name: the same handle, without a search.
    let b = l
        .open("libq.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    assert_eq!(a.id, b.id);
}

#[test]
fn a_library_is_its_file_whatever_path_reaches_it() {
    let so = side(&[], 8);
    let (mut l, view) = loader_with(&[("/p/libx.so", so.clone()), ("/p/liby.so", so)]);
    {
        let mut h = view.0.lock().unwrap();
        h.links.insert("/p/link.so".into(), "/p/libx.so".into());
        h.links
            .insert("/p/./sub/../libx.so".into(), "/p/libx.so".into());
    }
    let modules = |l: &Loader| l.modules.len();
    let a = l
        .open("/p/libx.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    let count = modules(&l);
    let noload = OpenFlags {
        noload: true,
        ..OpenFlags::default()
    };
    // RTLD_NOLOAD finds it through another spelling, and nothing else.
    let n = l.open("/p/link.so", noload, None).unwrap().unwrap();
    assert_eq!(n.id, a.id);
    assert!(l.open("/p/liby.so", noload, None).unwrap().is_none());
    for other in ["/p/link.so", "/p/./sub/../libx.so"] {
        let b = l.open(other, OpenFlags::default(), None).unwrap().unwrap();
        assert_eq!(b.id, a.id, "{other}");
        assert!(b.init_slots.is_empty(), "constructors run once");
    }
    assert_eq!(modules(&l), count, "no second copy");
    // A different file with the same bytes is another library.
    let y = l
        .open("/p/liby.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    assert_ne!(y.id, a.id);
    // Four references to libx (open, noload, two spellings): unloaded at the fourth close.
    for _ in 0..3 {
        assert!(l.close(a.id).unwrap().is_empty());
        assert!(l.get(a.id).is_some());
    }
    let dying = l.close(a.id).unwrap();
    assert_eq!(dying.len(), 1);
    l.finish_close(&[dying[0].0]);
    assert!(l.get(a.id).is_none());
}

#[test]
fn without_file_identity_paths_decide() {
    // A host whose filestat gives inode 0 for every file (an in-memory
    // browser filesystem): two files are two libraries.
    let so = side(&[], 8);
    let (mut l, view) = loader_with(&[("/p/liba.so", so.clone()), ("/p/libb.so", so)]);
    view.0.lock().unwrap().no_identity = true;
    let a = l
        .open("/p/liba.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    let b = l
        .open("/p/libb.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    assert_ne!(a.id, b.id);
    let again = l
        .open("/p/liba.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    assert_eq!(again.id, a.id);
}

#[test]
fn dependency_trees_load_once_in_order_and_unload_together() {
    // A needs B and C; both need D (a diamond). B imports a function A does not.
    let d = side_needing(&[], &[]);
    let b = side_needing(&[Imp::Func("env", "host_fn", 0)], &["libd.so"]);
    let c = side_needing(&[], &["libd.so", "libdl.so"]);
    let a = side_needing(&[], &["libb.so", "libc.so"]);
    let (mut l, view) = loader_with(&[
        ("/lib/libd.so", d),
        ("/lib/libb.so", b),
        ("/lib/libc.so", c),
        ("/p/liba.so", a),
    ]);
    let opened = l
        .open("/p/liba.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    let paths: Vec<String> = l.modules.iter().skip(2).map(|m| m.path.clone()).collect();
    assert_eq!(
        paths,
        ["/p/liba.so", "/lib/libb.so", "/lib/libc.so", "/lib/libd.so"],
        "loaded once each, BFS"
    );
    // dlsym(handle) scope: the library, then its dependencies breadth-first (libdl included).
    let scope: Vec<String> = l
        .get(opened.id)
        .unwrap()
        .local_scope
        .iter()
        .map(|id| l.get(*id).unwrap().path.clone())
        .collect();
    assert_eq!(
        scope,
        [
            "/p/liba.so",
            "/lib/libb.so",
            "/lib/libc.so",
            "/lib/libd.so",
            "libdl.so"
        ]
    );
    // Instantiated (and so initialised) dependencies first: D, then B, C, then A.
    let inst = |p: &str| l.modules.iter().find(|m| m.path == p).unwrap().instance;
    assert!(
        inst("/lib/libd.so") < inst("/lib/libb.so") && inst("/lib/libb.so") < inst("/p/liba.so")
    );
    assert!(inst("/lib/libc.so") < inst("/p/liba.so"));
    assert_eq!(
        opened.init_slots.len(),
        4,
        "four constructors, dependencies first"
    );
    // One dlclose of the root unloads the whole tree; libdl stays.
    let dying = l.close(opened.id).unwrap();
    let ids: Vec<_> = dying.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 4);
    l.finish_close(&ids);
    assert_eq!(l.modules.len(), 2);
    let h = view.0.lock().unwrap();
    assert_eq!(h.instances.len(), 2);
    assert!(h.memory.is_empty());
}

#[test]
fn a_failure_anywhere_in_the_tree_undoes_the_whole_load() {
    let d = side_needing(&[Imp::Func("env", "nowhere", 0)], &[]);
    let b = side_needing(&[], &["libd.so"]);
    let a = side_needing(&[], &["libb.so", "libmissing.so"]);
    let a2 = side_needing(&[], &["libb.so"]);
    let (mut l, view) = loader_with(&[
        ("/lib/libd.so", d),
        ("/lib/libb.so", b),
        ("/p/a.so", a),
        ("/p/a2.so", a2),
    ]);
    let e = l.open("/p/a.so", OpenFlags::default(), None).unwrap_err();
    let mut msg = String::new();
    e.write_message(Some("/p/a.so"), &mut msg);
    assert_eq!(
        msg,
        "libmissing.so: cannot open shared object file: No such file or directory"
    );
    let e = l.open("/p/a2.so", OpenFlags::default(), None).unwrap_err();
    msg.clear();
    e.write_message(Some("/p/a2.so"), &mut msg);
    assert_eq!(msg, "/lib/libd.so: undefined symbol: nowhere");
    assert_eq!(l.modules.len(), 2, "nothing of either tree is left");
    let h = view.0.lock().unwrap();
    assert_eq!(h.instances.len(), 2);
    assert_eq!(h.modules.len(), 2);
    assert!(h.memory.is_empty());
    assert_eq!(l.table.in_use, 0);
}

#[test]
fn cycles_and_self_references_are_refused_cleanly() {
    let a = side_needing(&[Imp::Func("env", "from_b", 0)], &["libb.so"]);
    // B needs A back and exports nothing A wants: A's import cannot bind.
    let b = side_needing(&[], &["liba.so"]);
    let selfref = side_needing(&[], &["libself.so"]);
    let (mut l, _view) = loader_with(&[
        ("/lib/liba.so", a),
        ("/lib/libb.so", b),
        ("/lib/libself.so", selfref),
    ]);
    // A self-reference is the library itself: it loads.
    let s = l
        .open("libself.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    assert!(l.get(s.id).unwrap().deps.is_empty());
    assert_eq!(
        l.close(s.id).unwrap().len(),
        1,
        "and it unloads on its last dlclose"
    );
    let e = l.open("liba.so", OpenFlags::default(), None).unwrap_err();
    assert_eq!(
        e,
        Error::UndefinedSymbol {
            symbol: "from_b".into()
        }
    );
    assert_eq!(
        l.modules.len(),
        3,
        "program, libdl and libself.so (closed, not yet finished)"
    );
}

#[test]
fn the_symbol_index_finds_the_first_definer_in_any_scope_and_forgets_unloaded_modules() {
    use crate::loader::Scope;
    let d = side_needing(&[], &[]);
    let a = side_needing(&[], &["libd.so"]);
    let (mut l, _view) = loader_with(&[("/lib/libd.so", d), ("/p/liba.so", a)]);
    let before = l.symbols.len();
    let opened = l
        .open("/p/liba.so", OpenFlags::default(), None)
        .unwrap()
        .unwrap();
    assert_eq!(l.symbols.len(), before + 4, "two exports each");
    let m = l.get(opened.id).unwrap();
    let (order, sorted) = (m.local_scope.clone(), m.local_sorted.clone());
    let libd = order[1];
    let found =
        |l: &Loader, scope: Scope<'_>, name: &str| l.lookup_in(scope, name).map(|d| d.module);
    // Both definers are in scope: the first in scope order wins, whichever
    // way the scope finds positions.
    assert_eq!(
        found(&l, Scope::list(&order), "__wasm_call_ctors"),
        Some(opened.id)
    );
    let indexed = Scope {
        order: &order,
        sorted: Some(&sorted),
    };
    assert_eq!(found(&l, indexed, "__wasm_call_ctors"), Some(opened.id));
    let reversed: Vec<_> = order.iter().rev().copied().collect();
    assert_eq!(
        found(&l, Scope::list(&reversed), "__wasm_call_ctors"),
        Some(libd)
    );
    // Not in the scope, or not defined at all: a miss.
    assert_eq!(found(&l, indexed, "host_fn"), None);
    assert_eq!(found(&l, indexed, "no_such_symbol"), None);
    assert_eq!(
        l.lookup(&l.global_scope.clone(), "host_fn")
            .map(|d| d.module),
        Some(l.program)
    );
    assert_eq!(l.export_index(libd, "__wasm_apply_data_relocs"), Some(1));
    // dlsym remembers an address, and only while the module is loaded.
    let def = l.lookup(&order, "__wasm_apply_data_relocs").unwrap();
    let slot = l.symbol_address(def).unwrap();
    let again = l.lookup(&order, "__wasm_apply_data_relocs").unwrap();
    assert_eq!(again.cached, slot);
    let dying = l.close(opened.id).unwrap();
    let ids: Vec<_> = dying.iter().map(|(id, _)| *id).collect();
    l.finish_close(&ids);
    assert_eq!(
        l.symbols.len(),
        before,
        "the unloaded modules' exports are gone"
    );
    assert_eq!(found(&l, Scope::list(&order), "__wasm_call_ctors"), None);
}
