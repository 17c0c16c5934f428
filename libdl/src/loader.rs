//! The loader's state (loaded modules, scopes, GOT cells, canonical function
//! slots) and the `dlopen` pipeline, written once here as a transaction: any
//! failure undoes every step before it, so a failed `dlopen` leaves nothing
//! behind (no registered module, no memory, no table slots, no host objects).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::host::{FileId, GlobalHandle, Host, InstanceHandle, ModuleHandle};
use crate::parse::{self, Expect, ExportKind, Module, Sig};
use crate::place::{self, Placement, TableAlloc};
use crate::read;
use crate::symtab::{Map as HashMap, SymIndex};
use crate::trace::{Stats, Trace, DEBUG_BINDINGS, DEBUG_LIBS, DEBUG_STATISTICS, DEBUG_SYMBOLS};

pub type ModId = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The statically linked program (absolute data addresses, its own table entries).
    Program,
    /// libdl itself.
    Libdl,
    /// A side module loaded by `dlopen`.
    Side,
}

pub struct Loaded {
    pub id: ModId,
    /// The path it was found at (or the program's name).
    pub path: String,
    /// The file it was read from (a library; not the program or libdl),
    /// which identifies it whatever path reaches it.
    pub file: Option<FileId>,
    pub kind: Kind,
    pub module: ModuleHandle,
    pub instance: InstanceHandle,
    pub info: Module,
    /// Addresses `dlsym` has computed, by export index (0: not yet), so that
    /// a repeated lookup asks the host nothing. Allocated on first use.
    pub addr_cache: Vec<u32>,
    /// Function index → the table slot its own element segments put it in.
    pub elem_slots: HashMap<u32, u32>,
    pub place: Placement,
    pub refcount: u32,
    pub nodelete: bool,
    /// `__memory_base` / `__table_base` globals created for it.
    pub owned_globals: Vec<GlobalHandle>,
    /// GOT cells it imported (released when it unloads).
    pub got_refs: Vec<GotKey>,
    /// Its direct dependencies (dylink.0 NEEDED), each holding one reference.
    pub deps: Vec<ModId>,
    /// For a library opened by `dlopen`: itself and its dependencies in
    /// breadth-first order, the scope `dlsym(handle)` searches.
    pub local_scope: Vec<ModId>,
    /// `local_scope`'s positions, sorted by module ([`Scope::sorted`]).
    pub local_sorted: Vec<(ModId, u32)>,
    /// Generated helper instances bound to its imports (forwarders,
    /// trampolines).
    pub helpers: Vec<InstanceHandle>,
    /// Weak undefined functions it imports through a trampoline: the symbol
    /// and the table slot the trampoline calls through (owned by this module).
    pub weak_slots: Vec<(String, u32)>,
    /// Those slots once bound late (released when this module unloads).
    pub bound_slots: Vec<u32>,
    /// The path, NUL-terminated, for `dladdr`'s `dli_fname`.
    pub path_c: Vec<u8>,
    /// Its `struct link_map` for `dlinfo(RTLD_DI_LINKMAP)`: l_addr, l_name,
    /// l_ld, l_next, l_prev, as wasm32 lays them out. Boxed: its address must
    /// not move while the module is loaded.
    pub link_map: alloc::boxed::Box<[u32; 5]>,
    /// NUL-terminated export names handed out by `dladdr`, by export index.
    pub names_c: HashMap<u32, Vec<u8>>,
    /// Functions registered with atexit/__cxa_atexit by this module's code,
    /// in registration order: (function slot, argument, whether it takes one).
    pub exit_handlers: Vec<(u32, u32, bool)>,
    /// Whether its instance exists yet (false while being bound).
    pub instantiated: bool,
    /// When it was initialised, in the process's order; destructors run in
    /// the reverse of this order.
    pub init_seq: u64,
}

impl Loaded {
    /// The address of a data export whose global holds `raw`.
    pub fn data_address(&self, raw: u32) -> u32 {
        // Exports of a module libdl placed (a side module, or a PIE program)
        // are relative to its __memory_base; a static program's are absolute.
        if self.placed() {
            self.place.memory_base.wrapping_add(raw)
        } else {
            raw
        }
    }

    /// Whether libdl placed this module (its data at `__memory_base`).
    pub fn placed(&self) -> bool {
        self.kind == Kind::Side || self.place.memory_size > 0
    }
}

/// What a GOT cell points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// Export `export` of module `module`.
    Def(ModId, u32),
    /// A weak symbol no module defines (yet): the cell holds 0.
    Missing(String),
}

/// One shared cell per (GOT.mem | GOT.func, target): every module that binds
/// the symbol to the same definition shares it, so a later update reaches all.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GotKey {
    pub func: bool,
    pub target: Target,
}

pub struct GotCell {
    pub global: GlobalHandle,
    pub users: u32,
}

/// Everything a load created, so that a failure can undo it: the modules
/// registered (each with its module handle, placement, instance and owned
/// globals), GOT cells and canonical slots created for them, and references
/// taken on modules that were already loaded.
#[derive(Default)]
pub struct Txn {
    pub registered: Vec<ModId>,
    pub cells: Vec<GotKey>,
    pub slots: Vec<(ModId, u32)>,
    pub refs: Vec<ModId>,
}

/// A scope to search: modules in order, and, when the scope keeps one, their
/// positions sorted by module, so that a lookup finds where a definer stands
/// in a scope of any length in a few steps.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub order: &'a [ModId],
    pub sorted: Option<&'a [(ModId, u32)]>,
}

impl<'a> Scope<'a> {
    pub fn list(order: &'a [ModId]) -> Scope<'a> {
        Scope {
            order,
            sorted: None,
        }
    }

    /// Where module `id` stands in the scope, if it is in it.
    pub fn position(&self, id: ModId) -> Option<usize> {
        match self.sorted {
            Some(s) => {
                let i = search_sorted(s, id, |(m, _)| *m)?;
                s.get(i).map(|(_, p)| *p as usize)
            }
            None => self.order.iter().position(|m| *m == id),
        }
    }
}

/// Finds `key` in `v`, sorted by `key_of` with no key twice: the hot step
/// of every lookup, written out so that it stays a tight loop at opt-level
/// "z" (where the slice method's comparison closure is not inlined).
#[inline]
fn search_sorted<T>(v: &[T], key: u32, key_of: impl Fn(&T) -> u32) -> Option<usize> {
    // Ids are handed out consecutively, so keys are usually dense: try the
    // index the first key predicts before searching.
    let guess = key.wrapping_sub(key_of(v.first()?)) as usize;
    if v.get(guess).is_some_and(|k| key_of(k) == key) {
        return Some(guess);
    }
    // Branch-free halving (the comparison becomes a select): a binary
    // search's branches are as unpredictable as branches get.
    let mut size = v.len();
    let mut base = 0usize;
    while size > 1 {
        let half = size / 2;
        let mid = base + half;
        base = if key_of(v.get(mid)?) <= key {
            mid
        } else {
            base
        };
        size -= half;
    }
    (key_of(v.get(base)?) == key).then_some(base)
}

/// A stable insertion sort by key. What libdl sorts is short (the modules
/// of a scope, the libraries a dlclose unloads), and this one loop is about
/// 10 KB less of libdl.so than the standard library's sorts it replaces.
pub fn sort_small<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 {
            match (v.get(j - 1), v.get(j)) {
                (Some(a), Some(b)) if key(a) > key(b) => v.swap(j - 1, j),
                _ => break,
            }
            j -= 1;
        }
    }
}

/// The positions of a scope's modules, sorted by module (the first position
/// of a module listed twice).
pub fn sorted_positions(order: &[ModId]) -> Vec<(ModId, u32)> {
    let mut v: Vec<(ModId, u32)> = order
        .iter()
        .enumerate()
        .map(|(i, m)| (*m, i as u32))
        .collect();
    sort_small(&mut v, |p| *p);
    v.dedup_by_key(|(m, _)| *m);
    v
}

/// A symbol found by lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Def {
    pub module: ModId,
    pub export: u32,
    pub kind: ExportKind,
    /// The address `dlsym` remembered for it (`Loaded::addr_cache`), 0 if none.
    pub cached: u32,
}

/// Flags the loader understands, decoded from the `dlopen` mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenFlags {
    pub lazy: bool,
    pub global: bool,
    pub noload: bool,
    pub nodelete: bool,
}

/// A library `dlopen` loaded, whose constructors still have to run (outside
/// the loader lock, since they may call `dlopen` themselves), dependencies first.
#[derive(Debug)]
pub struct Opened {
    pub id: ModId,
    pub init_slots: Vec<u32>,
}

/// What `dlclose` unloaded, whose exit handlers (newest first, module by
/// module) must run before the memory is reused: (function slot, argument,
/// whether it takes one).
pub type ExitCalls = Vec<(u32, u32, bool)>;

pub struct Loader {
    pub host: Box<dyn Host + Send>,
    /// Registered modules, in increasing id order; `ids` mirrors their ids,
    /// so that `get` binary-searches a compact array.
    pub modules: Vec<Loaded>,
    ids: Vec<ModId>,
    next_id: ModId,
    pub program: ModId,
    pub libdl: ModId,
    /// The program, libdl, then RTLD_GLOBAL libraries in load order.
    pub global_scope: Vec<ModId>,
    /// `global_scope`'s positions, sorted by module; kept by
    /// [`Loader::global_scope_changed`].
    pub global_sorted: Vec<(ModId, u32)>,
    /// Every export of every registered module, by name.
    pub symbols: SymIndex,
    pub table: TableAlloc,
    pub got: HashMap<GotKey, GotCell>,
    /// Canonical table slot of a function export: every address of the
    /// function, in every module, is this one number.
    pub func_slots: HashMap<(ModId, u32), u32>,
    /// Canonical slots libdl allocated itself (as opposed to element-segment slots).
    pub owned_slots: HashMap<(ModId, u32), u32>,
    /// Symbols the linker would define for an executable, which libdl
    /// defines for a PIE program (`__heap_base`, `__heap_end`).
    pub synthetic: Vec<(String, u32)>,
    /// argv[0].
    pub program_name: String,
    /// Whether the load in progress is RTLD_LAZY.
    pub lazy: bool,
    /// Symbols left unbound by RTLD_LAZY: (symbol, module needing it), by the
    /// id their reporter passes to `__wasmdl_unresolved`.
    pub unresolved: Vec<(String, String)>,
    /// What the current `dlopen` cost (LD_DEBUG=statistics).
    pub stats: Stats,
    /// Counter behind `Loaded::init_seq`.
    pub init_counter: u64,
    /// The engine refused a tail call (`return_call_indirect`): trampolines
    /// are generated with a plain `call_indirect` from then on.
    pub no_tail_calls: bool,
    pub trace: Trace,
}

impl Loader {
    /// Registers the program and libdl (already instantiated by the shim).
    /// `program`: the statically linked program the shim instantiated, or
    /// None for a PIE program, which [`Loader::load_program`] loads.
    pub fn new(
        mut host: Box<dyn Host + Send>,
        libdl: (ModuleHandle, InstanceHandle),
        program: Option<(ModuleHandle, InstanceHandle)>,
    ) -> Result<Loader> {
        let trace = Trace::from_env(host.getenv("LD_DEBUG").as_deref());
        let program_name = host
            .program_name()
            .unwrap_or_else(|| String::from("main program"));
        let table_size = host.table_grow(0)?;
        let mut l = Loader {
            host,
            modules: Vec::new(),
            ids: Vec::new(),
            next_id: 1,
            program: 0,
            libdl: 0,
            global_scope: Vec::new(),
            global_sorted: Vec::new(),
            symbols: SymIndex::default(),
            table: TableAlloc::new(table_size),
            got: HashMap::default(),
            func_slots: HashMap::default(),
            owned_slots: HashMap::default(),
            init_counter: 0,
            no_tail_calls: false,
            lazy: false,
            unresolved: Vec::new(),
            synthetic: Vec::new(),
            program_name: String::new(),
            stats: Stats::default(),
            trace,
        };
        if l.trace.enabled(crate::trace::DEBUG_HELP) {
            l.host.stderr(crate::trace::HELP);
        }
        if let Some(program) = program {
            l.program = l.register_preloaded(program_name.clone(), Kind::Program, program)?;
            l.global_scope.push(l.program);
        }
        l.libdl = l.register_preloaded(String::from("libdl.so"), Kind::Libdl, libdl)?;
        l.global_scope.push(l.libdl);
        l.global_scope_changed();
        l.program_name = program_name;
        Ok(l)
    }

    fn register_preloaded(
        &mut self,
        path: String,
        kind: Kind,
        (module, instance): (ModuleHandle, InstanceHandle),
    ) -> Result<ModId> {
        let bytes = self.host.module_bytes(module)?;
        let expect = if kind == Kind::Program {
            Expect::Program
        } else {
            Expect::SideModule
        };
        let info = parse::parse(&bytes, expect)?;
        drop(bytes);
        let id = self.alloc_id();
        let mut m = Loaded::new(id, path, kind, module, info, Placement::default());
        m.instance = instance;
        m.instantiated = true;
        m.refcount = 1;
        m.nodelete = true;
        self.register(m);
        Ok(id)
    }

    fn alloc_id(&mut self) -> ModId {
        let id = self.next_id;
        // Ids are never reused, so a stale handle never names a new library.
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// Modules are kept in registration order, which is increasing id order
    /// (ids are never reused), so a lookup is a binary search.
    pub fn get(&self, id: ModId) -> Option<&Loaded> {
        let i = search_sorted(&self.ids, id, |k| *k)?;
        self.modules.get(i)
    }

    pub fn get_mut(&mut self, id: ModId) -> Option<&mut Loaded> {
        let i = search_sorted(&self.ids, id, |k| *k)?;
        self.modules.get_mut(i)
    }

    pub fn find_by_path(&self, path: &str) -> Option<ModId> {
        self.modules
            .iter()
            .find(|m| m.kind == Kind::Side && m.path == path)
            .map(|m| m.id)
    }

    /// `dlopen(name, flags)`: steps 1–6 of the pipeline for the library and
    /// every dependency not yet loaded, as one transaction; the caller runs
    /// the constructors (step 7) with the lock released.
    pub fn open(
        &mut self,
        name: &str,
        flags: OpenFlags,
        caller: Option<ModId>,
    ) -> Result<Option<Opened>> {
        // A library already loaded under this name or path is shared.
        if let Some(id) = self.already_loaded(name) {
            self.reopen(id, flags);
            return Ok(Some(Opened {
                id,
                init_slots: Vec::new(),
            }));
        }
        if flags.noload {
            // Another spelling of a loaded library's path, or a symlink to
            // it, is that library: glibc opens the file to compare.
            return Ok(self.loaded_file(name, caller).map(|id| {
                self.reopen(id, flags);
                Opened {
                    id,
                    init_slots: Vec::new(),
                }
            }));
        }
        let mut txn = Txn::default();
        self.stats = Stats::default();
        self.lazy = flags.lazy;
        match self.load_tree(name, flags, caller, &mut txn) {
            Ok(opened) => {
                self.stats.got_cells = txn.cells.len() as u32;
                self.trace_statistics(name);
                Ok(Some(opened))
            }
            Err(e) => {
                self.rollback(txn);
                Err(e)
            }
        }
    }

    /// The loaded library that the file `name` finds (searched for as a
    /// `dlopen` by `caller` would) is, if any.
    fn loaded_file(&mut self, name: &str, caller: Option<ModId>) -> Option<ModId> {
        let (rpath, origin) = self.search_context(caller);
        let (_, _, file) =
            read::read_module(&mut *self.host, name, &rpath, origin.as_deref(), false).ok()?;
        self.find_by_file(file?)
    }

    fn find_by_file(&self, file: FileId) -> Option<ModId> {
        self.modules
            .iter()
            .find(|m| m.kind == Kind::Side && m.file == Some(file))
            .map(|m| m.id)
    }

    fn already_loaded(&self, name: &str) -> Option<ModId> {
        self.modules
            .iter()
            .find(|m| m.kind == Kind::Side && (m.path == name || name_matches(&m.path, name)))
            .map(|m| m.id)
    }

    /// A NEEDED entry satisfied by a module already loaded: libdl itself
    /// (`libdl.so`), or a library loaded under that file name or path.
    fn loaded_for_needed(&self, name: &str) -> Option<ModId> {
        if name == "libdl.so" {
            return Some(self.libdl);
        }
        self.already_loaded(name)
    }

    fn reopen(&mut self, id: ModId, flags: OpenFlags) {
        let mut scope = Vec::new();
        if let Some(m) = self.get_mut(id) {
            m.refcount = m.refcount.saturating_add(1);
            m.nodelete |= flags.nodelete;
            scope = m.local_scope.clone();
        }
        if flags.global {
            self.make_global(&scope);
        }
    }

    /// RTLD_GLOBAL: the library and its dependencies join the global scope,
    /// and weak undefined symbols other modules wait for may now be defined.
    fn make_global(&mut self, scope: &[ModId]) {
        let mut added = false;
        for id in scope {
            if !self.global_scope.contains(id) {
                self.global_scope.push(*id);
                added = true;
            }
        }
        if added {
            self.global_scope_changed();
            self.bind_late_weak();
        }
    }

    /// Binds weak undefined symbols that the global scope now defines: the
    /// trampolines' slots get the function, and the shared GOT cells waiting
    /// on the name (`Target::Missing`) get its address. Best effort: a
    /// symbol whose definition has the wrong kind or signature stays unbound.
    fn bind_late_weak(&mut self) {
        let scope = self.global_scope.clone();
        let waiting: Vec<(ModId, String, u32)> = self
            .modules
            .iter()
            .flat_map(|m| m.weak_slots.iter().map(move |(n, s)| (m.id, n.clone(), *s)))
            .collect();
        for (importer, name, slot) in waiting {
            let Some(def) = self.lookup(&scope, &name) else {
                continue;
            };
            if def.kind != ExportKind::Func || def.module == importer {
                continue;
            }
            let want = self.import_sig(importer, &name);
            let have = self.get(def.module).and_then(|p| {
                let f = p.info.exports.get(def.export as usize)?.index;
                p.info.func_sig(f).cloned()
            });
            if want.is_none() || want != have {
                continue;
            }
            let Some(provider) = self.get(def.module).map(|p| p.instance) else {
                continue;
            };
            if self
                .host
                .export_to_table(provider, def.export, slot)
                .is_ok()
            {
                if let Some(m) = self.get_mut(importer) {
                    m.weak_slots.retain(|(n, s)| !(*n == name && *s == slot));
                    // The slot now belongs to the binding, not the importer's
                    // free list: it is released with the importer's helpers.
                    m.bound_slots.push(slot);
                }
                self.trace_binding(format_args!("{name} -> late binding to slot {slot}"));
            }
        }
        let missing: Vec<(GotKey, GlobalHandle)> = self
            .got
            .iter()
            .filter(|(k, _)| matches!(k.target, Target::Missing(_)))
            .map(|(k, c)| (k.clone(), c.global))
            .collect();
        for (key, global) in missing {
            let Target::Missing(name) = &key.target else {
                continue;
            };
            let Some(def) = self.lookup(&scope, name) else {
                continue;
            };
            let kind_ok = (def.kind == ExportKind::Func) == key.func;
            if !kind_ok {
                continue;
            }
            if let Ok(addr) = self.address_of(def, None) {
                let _ = self.host.global_set_i32(global, addr);
            }
        }
    }

    /// The signature a module imports `env.name` with.
    fn import_sig(&self, id: ModId, name: &str) -> Option<Sig> {
        let m = self.get(id)?;
        m.info.imports.iter().find_map(|i| match i.kind {
            parse::ImportKind::Func { ty } if i.module == "env" && i.name == name => {
                m.info.type_sig(ty).cloned()
            }
            _ => None,
        })
    }

    /// Loads `name` and its dependency tree.
    fn load_tree(
        &mut self,
        name: &str,
        flags: OpenFlags,
        caller: Option<ModId>,
        txn: &mut Txn,
    ) -> Result<Opened> {
        // The library itself is searched for with the calling module's
        // RUNTIME_PATH, as glibc does.
        let root = self.load_one(name, caller, txn)?;
        if !txn.registered.contains(&root) {
            // The file is a library already loaded, under another path.
            self.reopen(root, flags);
            return Ok(Opened {
                id: root,
                init_slots: Vec::new(),
            });
        }
        self.load_dependencies(root, flags, txn)
    }

    /// A PIE program, compiled by the shim (`module`): libdl places it,
    /// loads its NEEDED tree into the global scope (the program first), and
    /// binds it like any module. Returns the constructors to run, its
    /// dependencies' first.
    pub fn load_program(&mut self, module: ModuleHandle) -> Result<Opened> {
        let mut txn = Txn::default();
        self.stats = Stats::default();
        let result = (|| {
            let bytes = self.host.module_bytes(module)?;
            let info = parse::parse(&bytes, Expect::SideModule)?;
            drop(bytes);
            let mem_info = info.dylink.as_ref().map(|d| d.mem_info).unwrap_or_default();
            let placement = place::place(&mut *self.host, &mut self.table, &mem_info)?;
            check_elem_segments(&info, &placement)?;
            let id = self.alloc_id();
            let name = self.program_name.clone();
            self.register(Loaded::new(
                id,
                name,
                Kind::Program,
                module,
                info,
                placement,
            ));
            txn.registered.push(id);
            self.program = id;
            // The program, then libdl, then its dependencies: the global scope.
            self.global_scope.insert(0, id);
            self.global_scope_changed();
            // Bound lazily unless LD_BIND_NOW is set, as glibc's ld.so does
            // for a program: libc.so refers to symbols a program may never
            // define (its fallback __main_argc_argv calls `main`, which
            // clang renames), harmless unless called.
            let bind_now = self
                .host
                .getenv("LD_BIND_NOW")
                .is_some_and(|v| !v.is_empty());
            self.lazy = !bind_now;
            let flags = OpenFlags {
                global: true,
                nodelete: true,
                lazy: !bind_now,
                ..OpenFlags::default()
            };
            // Constructors: the dependencies', then the program's (wasm-ld
            // does not wrap a PIE's _start with them, as it does a static one's).
            self.load_dependencies(id, flags, &mut txn)
        })();
        if result.is_err() {
            txn.registered.retain(|r| *r != self.program);
            self.rollback(txn);
        }
        result
    }

    /// Steps 1–6 for the dependency tree of `root` (registered, placed).
    fn load_dependencies(
        &mut self,
        root: ModId,
        flags: OpenFlags,
        txn: &mut Txn,
    ) -> Result<Opened> {
        // Steps 1–4 for every new module, breadth-first: the order of the
        // library's local scope.
        let mut bfs = alloc::vec![root];
        let mut next = 0;
        while let Some(&id) = bfs.get(next) {
            next += 1;
            let needed = self
                .get(id)
                .and_then(|m| m.info.dylink.as_ref())
                .map(|d| d.needed.clone())
                .unwrap_or_default();
            for n in needed {
                let dep = match self.loaded_for_needed(&n) {
                    Some(dep) => dep,
                    None => self
                        .load_one(&n, Some(id), txn)
                        .map_err(|e| e.needed_by(&n))?,
                };
                // A module naming itself needs nothing more (and must not
                // hold a reference on itself, or it could never unload).
                if dep == id {
                    continue;
                }
                if let Some(m) = self.get_mut(id) {
                    if !m.deps.contains(&dep) {
                        m.deps.push(dep);
                        // Each dependent holds one reference on what it needs.
                        if let Some(d) = self.get_mut(dep) {
                            d.refcount = d.refcount.saturating_add(1);
                        }
                        txn.refs.push(dep);
                    }
                }
                if !bfs.contains(&dep) {
                    bfs.push(dep);
                }
            }
        }

        // Steps 5–6 in dependency order (dependencies before their users), so
        // that what a module imports from a dependency exists when it is bound.
        let order = self.dependency_order(root, &txn.registered);
        let mut scope = self.global_scope.clone();
        for id in &bfs {
            if !scope.contains(id) {
                scope.push(*id);
            }
        }
        let mut init_slots = Vec::new();
        for id in &order {
            let t0 = self.clock();
            let result = self.resolve(*id, &scope, txn).and_then(|plan| {
                self.stats.imports += plan.imports.len() as u32;
                let t1 = self.clock();
                self.stats.resolve_ns += t1.saturating_sub(t0);
                let engine = self.stats.instantiate_ns;
                let r = self.relocate(*id, plan, txn);
                // relocate() counts the engine's share itself.
                let engine = self.stats.instantiate_ns.saturating_sub(engine);
                self.stats.relocate_ns += self.clock().saturating_sub(t1).saturating_sub(engine);
                r
            });
            // An error in a dependency names the dependency, as glibc's does.
            if let Err(e) = result {
                let path = self.get(*id).map(|m| m.path.clone()).unwrap_or_default();
                return Err(if *id == root { e } else { e.needed_by(&path) });
            }
            if let Some(slot) = self.init_slot(*id, txn)? {
                init_slots.push(slot);
            }
            self.init_counter += 1;
            let seq = self.init_counter;
            if let Some(m) = self.get_mut(*id) {
                m.init_seq = seq;
            }
        }

        if let Some(m) = self.get_mut(root) {
            m.refcount = m.refcount.saturating_add(1);
            m.nodelete |= flags.nodelete;
            m.local_sorted = sorted_positions(&bfs);
            m.local_scope = bfs.clone();
        }
        if flags.global {
            self.make_global(&bfs);
        }
        for id in &order {
            let path = self.get(*id).map(|m| m.path.clone()).unwrap_or_default();
            self.trace_libs(&path, "loaded");
        }
        Ok(Opened {
            id: root,
            init_slots,
        })
    }

    /// Post-order of the new modules reachable from `root`: every module after
    /// its dependencies. A cycle is cut where it closes; binding across it is
    /// then refused by `resolve` (it needs lazy binding).
    fn dependency_order(&self, root: ModId, new: &[ModId]) -> Vec<ModId> {
        let mut order = Vec::new();
        let mut visiting: Vec<ModId> = Vec::new();
        let mut stack: Vec<(ModId, usize)> = alloc::vec![(root, 0)];
        visiting.push(root);
        while let Some((id, i)) = stack.pop() {
            let deps = self.get(id).map(|m| m.deps.as_slice()).unwrap_or(&[]);
            match deps.get(i) {
                Some(&dep) => {
                    stack.push((id, i + 1));
                    if new.contains(&dep) && !visiting.contains(&dep) {
                        visiting.push(dep);
                        stack.push((dep, 0));
                    }
                }
                None => order.push(id),
            }
        }
        order
    }

    /// What a search on behalf of `requester` uses: its RUNTIME_PATH and
    /// its directory (for `$ORIGIN`).
    fn search_context(&self, requester: Option<ModId>) -> (Vec<String>, Option<String>) {
        match requester.and_then(|r| self.get(r)) {
            Some(r) => (
                r.info
                    .dylink
                    .as_ref()
                    .map(|d| d.runtime_path.clone())
                    .unwrap_or_default(),
                Some(read::dirname(&r.path)),
            ),
            None => (Vec::new(), None),
        }
    }

    /// Steps 1–4 for one module: read, parse, compile, place, register. A
    /// file already loaded (found by another path) gives that module.
    fn load_one(&mut self, name: &str, requester: Option<ModId>, txn: &mut Txn) -> Result<ModId> {
        let (rpath, origin) = self.search_context(requester);
        let t0 = self.clock();
        let libs = self.trace.enabled(DEBUG_LIBS);
        let (path, bytes, file) =
            read::read_module(&mut *self.host, name, &rpath, origin.as_deref(), libs)?;
        if let Some(id) = self
            .find_by_path(&path)
            .or_else(|| file.and_then(|f| self.find_by_file(f)))
        {
            if libs {
                let msg = alloc::format!("{path}: the file of an object already loaded");
                self.trace_libs(&msg, "found");
            }
            return Ok(id);
        }
        self.trace_libs(&path, "loading");
        let t1 = self.clock();
        let info = parse::parse(&bytes, Expect::SideModule)?;
        let mem_info = info.dylink.as_ref().map(|d| d.mem_info).unwrap_or_default();
        if let Some(d) = info.dylink.as_ref().filter(|d| d.unknown_subsections > 0) {
            let msg = alloc::format!(
                "{path}: skipped {} unknown dylink.0 subsection(s)",
                d.unknown_subsections
            );
            self.trace_libs(&msg, "note:");
        }

        let t2 = self.clock();
        let module = self.host.compile(&bytes)?;
        drop(bytes);
        let t3 = self.clock();
        let placement = match place::place(&mut *self.host, &mut self.table, &mem_info) {
            Ok(p) => p,
            Err(e) => {
                self.host.module_free(module);
                return Err(e);
            }
        };
        let t4 = self.clock();
        self.stats.read_ns += t1.saturating_sub(t0);
        self.stats.parse_ns += t2.saturating_sub(t1);
        self.stats.compile_ns += t3.saturating_sub(t2);
        self.stats.place_ns += t4.saturating_sub(t3);
        self.stats.modules += 1;
        if self.trace.enabled(DEBUG_LIBS) {
            let msg = alloc::format!(
                "{path}: memory [{:#x}, +{:#x}) table [{}, +{})",
                placement.memory_base,
                placement.memory_size,
                placement.table_base,
                placement.table_size
            );
            self.trace_libs(&msg, "placed");
        }
        if let Err(e) = check_elem_segments(&info, &placement) {
            place::unplace(&mut *self.host, &mut self.table, &placement);
            self.host.module_free(module);
            return Err(e);
        }
        let id = self.alloc_id();
        let t5 = self.clock();
        let mut loaded = Loaded::new(id, path, Kind::Side, module, info, placement);
        loaded.file = file;
        self.register(loaded);
        // Indexing its symbols is resolution's groundwork.
        self.stats.resolve_ns += self.clock().saturating_sub(t5);
        txn.registered.push(id);
        Ok(id)
    }

    /// Undoes a failed load, newest first.
    pub fn rollback(&mut self, txn: Txn) {
        for (module, export) in txn.slots.into_iter().rev() {
            self.release_slot(module, export);
        }
        for key in txn.cells.into_iter().rev() {
            if let Some(cell) = self.got.remove(&key) {
                self.host.global_free(cell.global);
            }
        }
        for dep in txn.refs {
            if let Some(d) = self.get_mut(dep) {
                d.refcount = d.refcount.saturating_sub(1);
            }
        }
        for id in txn.registered.into_iter().rev() {
            let Some(pos) = self.modules.iter().position(|m| m.id == id) else {
                continue;
            };
            let m = self.unregister(pos);
            for key in &m.got_refs {
                self.release_cell(key);
            }
            for g in &m.owned_globals {
                self.host.global_free(*g);
            }
            if m.instantiated {
                self.host.instance_free(m.instance);
            }
            for h in &m.helpers {
                self.host.instance_free(*h);
            }
            for (_, slot) in &m.weak_slots {
                self.host.table_clear(*slot, 1);
                self.table.free(*slot, 1);
            }
            place::unplace(&mut *self.host, &mut self.table, &m.place);
            self.host.module_free(m.module);
        }
    }

    /// Drops one user of a GOT cell, freeing it with its last user.
    pub fn release_cell(&mut self, key: &GotKey) {
        let free = match self.got.get_mut(key) {
            Some(cell) => {
                cell.users = cell.users.saturating_sub(1);
                cell.users == 0
            }
            None => false,
        };
        if free {
            if let Some(cell) = self.got.remove(key) {
                self.host.global_free(cell.global);
            }
        }
    }

    /// Clears and frees a canonical slot libdl allocated.
    fn release_slot(&mut self, module: ModId, export: u32) {
        self.func_slots.remove(&(module, export));
        if let Some(slot) = self.owned_slots.remove(&(module, export)) {
            self.host.table_clear(slot, 1);
            self.table.free(slot, 1);
        }
    }

    /// `dlclose`: drop a reference. Returns the modules whose last reference
    /// went, in unload order (a library before its dependencies), with their
    /// exit handlers; the caller runs those handlers with the lock released,
    /// then calls [`Loader::finish_close`].
    pub fn close(&mut self, id: ModId) -> Result<Vec<(ModId, ExitCalls)>> {
        let m = self.get_mut(id).ok_or(Error::BadHandle)?;
        if m.kind != Kind::Side {
            return Ok(Vec::new()); // the program and libdl are never unloaded
        }
        let mut dying = Vec::new();
        self.drop_ref(id, &mut dying);
        // Finalise in the reverse of the order of initialisation, as glibc
        // does: a library before what it depends on.
        sort_small(&mut dying, |id| {
            core::cmp::Reverse(self.get(*id).map_or(0, |m| m.init_seq))
        });
        Ok(dying
            .into_iter()
            .map(|id| {
                let calls = self
                    .get_mut(id)
                    .map(|m| core::mem::take(&mut m.exit_handlers))
                    .unwrap_or_default();
                (id, calls.into_iter().rev().collect())
            })
            .collect())
    }

    fn drop_ref(&mut self, id: ModId, dying: &mut Vec<ModId>) {
        let Some(m) = self.get_mut(id) else { return };
        if m.kind != Kind::Side {
            return;
        }
        m.refcount = m.refcount.saturating_sub(1);
        if m.refcount > 0 || m.nodelete || dying.contains(&id) {
            return;
        }
        dying.push(id);
        let deps = m.deps.clone();
        for dep in deps {
            self.drop_ref(dep, dying);
        }
    }

    /// At program exit: every exit handler still registered, newest module
    /// first, each module's newest first.
    pub fn take_all_exit_handlers(&mut self) -> ExitCalls {
        let mut calls = Vec::new();
        let mut order: Vec<&mut Loaded> = self.modules.iter_mut().collect();
        sort_small(&mut order, |m| core::cmp::Reverse(m.init_seq));
        for m in order {
            calls.extend(core::mem::take(&mut m.exit_handlers).into_iter().rev());
        }
        calls
    }

    /// Unloads modules `close` returned, once their exit handlers have run.
    pub fn finish_close(&mut self, dying: &[ModId]) {
        for id in dying {
            self.unload(*id);
        }
    }

    fn unload(&mut self, id: ModId) {
        let Some(pos) = self.modules.iter().position(|m| m.id == id) else {
            return;
        };
        let m = self.unregister(pos);
        self.trace_libs(&m.path, "unloading");
        self.global_scope.retain(|s| *s != id);
        self.global_scope_changed();
        let slots: Vec<(ModId, u32)> = self
            .func_slots
            .keys()
            .filter(|(mid, _)| *mid == id)
            .copied()
            .collect();
        for (mid, e) in slots {
            self.release_slot(mid, e);
        }
        for key in &m.got_refs {
            self.release_cell(key);
        }
        // Cells other modules hold that point into this one now dangle, as a
        // pointer into an unloaded ELF object does; zero them rather than
        // leave a stale address.
        let dangling: Vec<GlobalHandle> = self
            .got
            .iter()
            .filter(|(k, _)| matches!(k.target, Target::Def(mid, _) if mid == id))
            .map(|(_, c)| c.global)
            .collect();
        for g in dangling {
            let _ = self.host.global_set_i32(g, 0);
        }
        self.got
            .retain(|k, _| !matches!(k.target, Target::Def(mid, _) if mid == id));
        for g in &m.owned_globals {
            self.host.global_free(*g);
        }
        self.host.instance_free(m.instance);
        for h in &m.helpers {
            self.host.instance_free(*h);
        }
        for slot in m
            .weak_slots
            .iter()
            .map(|(_, s)| *s)
            .chain(m.bound_slots.iter().copied())
        {
            self.host.table_clear(slot, 1);
            self.table.free(slot, 1);
        }
        place::unplace(&mut *self.host, &mut self.table, &m.place);
        self.host.module_free(m.module);
    }

    /// Looks `name` up in `scope`, in order; the first definition wins.
    pub fn lookup(&self, scope: &[ModId], name: &str) -> Option<Def> {
        self.lookup_in(Scope::list(scope), name)
    }

    /// `lookup` through the symbol index: one hash of the name, then only
    /// the modules that define it, of which the earliest in scope wins.
    pub fn lookup_in(&self, scope: Scope<'_>, name: &str) -> Option<Def> {
        // Every dlsym comes here: a plain loop that asks the scope first
        // (cheap) and confirms the name only for a better definer. (Built
        // on `definers`, hits cost ~10 ns more at opt-level "z".)
        let mut best: Option<(usize, Def)> = None;
        for (module, export) in self.symbols.candidates(name) {
            let Some(pos) = scope.position(module) else {
                continue;
            };
            if best.is_some_and(|(p, d)| (p, d.export) < (pos, export)) {
                continue;
            }
            let Some(m) = self.get(module) else {
                continue;
            };
            let Some(e) = m.info.exports.get(export as usize) else {
                continue;
            };
            if m.info.name_of(e) == name && matches!(e.kind, ExportKind::Func | ExportKind::Global)
            {
                let def = Def {
                    module,
                    export,
                    kind: e.kind,
                    cached: m.addr_cache.get(export as usize).copied().unwrap_or(0),
                };
                best = Some((pos, def));
            }
        }
        best.map(|(_, d)| d)
    }

    /// The index of module `id`'s export `name` (of any kind).
    pub fn export_index(&self, id: ModId, name: &str) -> Option<u32> {
        self.definers(name)
            .filter(|(m, _)| m.id == id)
            .map(|(_, export)| export)
            .min()
    }

    /// Every export named `name`, of every registered module: the symbol
    /// index's candidates, confirmed by name.
    fn definers<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a Loaded, u32)> + 'a {
        self.symbols
            .candidates(name)
            .filter_map(move |(module, export)| {
                let m = self.get(module)?;
                let e = m.info.exports.get(export as usize)?;
                (m.info.name_of(e) == name).then_some((m, export))
            })
    }

    /// Adds a module to the registry and its exports to the symbol index.
    fn register(&mut self, m: Loaded) {
        self.symbols.insert(m.id, &m.info);
        self.ids.push(m.id);
        self.modules.push(m);
    }

    /// Removes the module at `pos` from the registry and the symbol index.
    fn unregister(&mut self, pos: usize) -> Loaded {
        let m = self.modules.remove(pos);
        self.ids.retain(|i| *i != m.id);
        self.symbols.remove(m.id, &m.info);
        m
    }

    /// Keeps `global_sorted` in step with `global_scope`.
    pub fn global_scope_changed(&mut self) {
        self.global_sorted = sorted_positions(&self.global_scope);
    }

    /// `address_of` for `dlsym`, remembered per export: a function's
    /// canonical slot and an immutable data export's address do not change
    /// while the module is loaded.
    pub fn symbol_address(&mut self, def: Def) -> Result<u32> {
        if def.cached != 0 {
            return Ok(def.cached);
        }
        let i = def.export as usize;
        let Some(m) = self.get(def.module) else {
            return Err(Error::BadHandle);
        };
        let fixed = match def.kind {
            ExportKind::Func => true,
            _ => m
                .info
                .exports
                .get(i)
                .and_then(|e| m.info.globals.get(e.index as usize))
                .is_some_and(|(_, mutable)| !mutable),
        };
        let addr = self.address_of(def, None)?;
        if let Some(m) = self.get_mut(def.module).filter(|_| fixed) {
            if m.addr_cache.is_empty() {
                m.addr_cache = alloc::vec![0; m.info.exports.len()];
            }
            if let Some(c) = m.addr_cache.get_mut(i) {
                *c = addr;
            }
        }
        Ok(addr)
    }

    /// The address a symbol has for C: a table slot for a function, a memory
    /// address for data.
    pub fn address_of(&mut self, def: Def, txn: Option<&mut Txn>) -> Result<u32> {
        match def.kind {
            ExportKind::Func => self.func_slot(def.module, def.export, txn),
            _ => {
                let m = self.get(def.module).ok_or(Error::BadHandle)?;
                let instance = m.instance;
                let raw = self.host.export_global_get(instance, def.export)? as u32;
                let m = self.get(def.module).ok_or(Error::BadHandle)?;
                Ok(m.data_address(raw))
            }
        }
    }

    /// The address of data export `export` of a module placed but not yet
    /// instantiated, when its global is an immutable plain `i32.const` (as
    /// wasm-ld writes a side module's data exports); None otherwise, and
    /// always for an instantiated module (ask its instance instead).
    pub fn placed_data_address(&self, module: ModId, export: u32) -> Option<u32> {
        let m = self.get(module)?;
        if m.instantiated || !m.placed() {
            return None;
        }
        let e = m.info.exports.get(export as usize)?;
        if e.kind != ExportKind::Global {
            return None;
        }
        if m.info.globals.get(e.index as usize).is_none_or(|g| g.1) {
            return None; // mutable: its value may change before it is read
        }
        // In global order, as the parser pushed them.
        let i = search_sorted(&m.info.i32_inits, e.index, |(g, _)| *g)?;
        let (_, raw) = m.info.i32_inits.get(i)?;
        Some(m.data_address(*raw as u32))
    }

    /// The canonical table slot of a function export. Reuses the slot the
    /// module's own element segment gives it, so that `&f` taken inside the
    /// defining module compares equal to the address every other module sees.
    pub fn func_slot(&mut self, module: ModId, export: u32, txn: Option<&mut Txn>) -> Result<u32> {
        if let Some(s) = self.func_slots.get(&(module, export)) {
            return Ok(*s);
        }
        let m = self.get(module).ok_or(Error::BadHandle)?;
        let func = m
            .info
            .exports
            .get(export as usize)
            .map(|e| e.index)
            .ok_or(Error::BadHandle)?;
        if let Some(&slot) = m.elem_slots.get(&func) {
            self.func_slots.insert((module, export), slot);
            return Ok(slot);
        }
        let (instance, instantiated) = (m.instance, m.instantiated);
        let slot = self.table.alloc(1, 0, &mut |d| self.host.table_grow(d))?;
        if instantiated {
            if let Err(e) = self.host.export_to_table(instance, export, slot) {
                self.table.free(slot, 1);
                return Err(e);
            }
        }
        self.func_slots.insert((module, export), slot);
        self.owned_slots.insert((module, export), slot);
        if let Some(txn) = txn {
            txn.slots.push((module, export));
        }
        Ok(slot)
    }

    pub fn trace_libs(&mut self, what: &str, verb: &str) {
        if self.trace.enabled(DEBUG_LIBS) {
            let line = alloc::format!("libdl: {verb} {what}\n");
            self.host.stderr(&line);
        }
    }

    /// Monotonic nanoseconds when statistics are on; 0 otherwise (no clock call).
    pub fn clock(&mut self) -> u64 {
        if self.trace.enabled(DEBUG_STATISTICS) {
            self.host.now_ns()
        } else {
            0
        }
    }

    fn trace_statistics(&mut self, name: &str) {
        if !self.trace.enabled(DEBUG_STATISTICS) {
            return;
        }
        let s = self.stats;
        let us = |ns: u64| ns / 1000;
        let line = alloc::format!(
            "libdl: statistics: dlopen {name}: {} module(s), {} imports, {} new GOT cells\n\
             libdl: statistics:   engine compile {} us, instantiate {} us; libdl {} us (read {}, parse {}, place {}, resolve {}, relocate {})\n",
            s.modules,
            s.imports,
            s.got_cells,
            us(s.compile_ns),
            us(s.instantiate_ns),
            us(s.libdl_ns()),
            us(s.read_ns),
            us(s.parse_ns),
            us(s.place_ns),
            us(s.resolve_ns),
            us(s.relocate_ns),
        );
        self.host.stderr(&line);
    }

    /// `lookup`, traced under LD_DEBUG=symbols as glibc does.
    pub fn lookup_traced(&mut self, scope: &[ModId], name: &str) -> Option<Def> {
        let found = self.lookup(scope, name);
        if self.trace.enabled(DEBUG_SYMBOLS) {
            let mut text = String::new();
            for id in scope {
                let Some(m) = self.get(*id) else { continue };
                text.push_str(&alloc::format!(
                    "libdl: symbol={name}; lookup in file={}\n",
                    m.path
                ));
                if found.is_some_and(|d| d.module == *id) {
                    break;
                }
            }
            if found.is_none() {
                text.push_str(&alloc::format!("libdl: symbol={name}: not found\n"));
            }
            self.host.stderr(&text);
        }
        found
    }

    pub fn trace_binding(&mut self, line: core::fmt::Arguments<'_>) {
        if self.trace.enabled(DEBUG_BINDINGS) {
            let line = alloc::format!("libdl: binding {line}\n");
            self.host.stderr(&line);
        }
    }
}

impl Loaded {
    fn new(
        id: ModId,
        path: String,
        kind: Kind,
        module: ModuleHandle,
        info: Module,
        place: Placement,
    ) -> Loaded {
        let elem_slots = elem_slots(&info, kind, place.table_base);
        Loaded {
            id,
            path: path.clone(),
            file: None,
            kind,
            module,
            instance: 0,
            info,
            addr_cache: Vec::new(),
            elem_slots,
            place,
            refcount: 0,
            nodelete: false,
            owned_globals: Vec::new(),
            got_refs: Vec::new(),
            deps: Vec::new(),
            local_scope: Vec::new(),
            local_sorted: Vec::new(),
            helpers: Vec::new(),
            weak_slots: Vec::new(),
            bound_slots: Vec::new(),
            path_c: path_c(&path),
            link_map: alloc::boxed::Box::new([0; 5]),
            names_c: HashMap::default(),
            exit_handlers: Vec::new(),
            instantiated: false,
            init_seq: 0,
        }
    }
}

/// The global index of a module's `env.__table_base` import, if any.
fn table_base_global(info: &Module) -> Option<u32> {
    info.imports
        .iter()
        .filter(|i| matches!(i.kind, parse::ImportKind::Global { .. }))
        .position(|i| i.module == "env" && i.name == "__table_base")
        .map(|p| p as u32)
}

/// A placed module's active element segments must write only the table
/// slots reserved for it (`[__table_base, +tablesize)`): relative to
/// `__table_base` and inside the reservation. Otherwise instantiation would
/// overwrite other modules' (or the program's) function pointers.
fn check_elem_segments(info: &Module, place: &Placement) -> Result<()> {
    let table_base_global = table_base_global(info);
    for seg in &info.elems {
        let inside = seg.offset.global.is_some()
            && seg.offset.global == table_base_global
            && u32::try_from(seg.offset.value).ok().is_some_and(|start| {
                start
                    .checked_add(seg.funcs.len() as u32)
                    .is_some_and(|end| end <= place.table_size)
            });
        if !inside {
            return Err(Error::ElemOutsideReservation {
                slots: place.table_size,
            });
        }
    }
    Ok(())
}

/// Where a module's own active element segments put its functions. For the
/// program the offsets are absolute; for a side module, relative to its
/// imported `__table_base`.
fn elem_slots(info: &Module, kind: Kind, table_base: u32) -> HashMap<u32, u32> {
    let table_base_global = table_base_global(info);
    let mut out = HashMap::default();
    for seg in &info.elems {
        let base = match (seg.offset.global, kind) {
            (None, _) => 0u32,
            (Some(g), Kind::Side | Kind::Program) if Some(g) == table_base_global => table_base,
            _ => continue,
        };
        let start = base.wrapping_add(seg.offset.value as u32);
        for (i, f) in seg.funcs.iter().enumerate() {
            if *f != u32::MAX {
                out.entry(*f).or_insert(start.wrapping_add(i as u32));
            }
        }
    }
    out
}

fn path_c(path: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(path.len() + 1);
    v.extend_from_slice(path.as_bytes());
    v.push(0);
    v
}

/// Whether a loaded path is what `dlopen(name)` asks for by file name.
fn name_matches(path: &str, name: &str) -> bool {
    !name.contains('/') && path.rsplit('/').next() == Some(name)
}
