//! Phase 5: resolve. Choose what satisfies each import of the module being
//! loaded, as the host ABI's import descriptors, in import order:
//!
//! | import | bound to |
//! |---|---|
//! | `env.memory`, `env.__indirect_function_table`, `env.__stack_pointer` | the process's |
//! | `env.__memory_base`, `env.__table_base` | new immutable globals holding the placement |
//! | `GOT.mem.X` | the shared cell holding X's address |
//! | `GOT.func.X` | the shared cell holding X's canonical table slot |
//! | `env.X` (function) | the export X of the first module in scope that defines it, signature checked |
//! | `wasi_snapshot_preview1.*` | the host's WASI |
//!
//! Scope: the global scope (program, libdl, `RTLD_GLOBAL` libraries in load
//! order), then the module itself. A definition in the module itself is known
//! only after instantiation, so its cells are filled in phase 6 (`Fixup`).
//! A weak undefined symbol (IMPORT_INFO `WASM_SYM_BINDING_WEAK`) gets a cell
//! holding 0, and a function import bound to a generated stub that traps.
//!
//! May assume: the module is registered (`Loaded`, not instantiated) and
//! placed. Everything created is recorded in the `Txn`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::codegen;
use crate::error::{Error, Mismatch, Result};
use crate::host::{
    ImportDesc, IMPORT_EXPORT, IMPORT_GLOBAL, IMPORT_HOST, IMPORT_MEMORY, IMPORT_STACK_POINTER,
    IMPORT_TABLE,
};
use crate::loader::{Def, GotCell, GotKey, Loader, ModId, Target, Txn};
use crate::parse::{ExportKind, ImportKind, Sig};

/// Functions whose behaviour depends on the calling module, and libdl's
/// export that takes the caller's id as an extra last argument.
pub const FORWARDED: [(&str, &str); 4] = [
    ("dlsym", "__wasmdl_dlsym_from"),
    ("dlopen", "__wasmdl_dlopen_from"),
    ("atexit", "__wasmdl_atexit_from"),
    ("__cxa_atexit", "__wasmdl_cxa_atexit_from"),
];

/// Work left for phase 6, once the instance exists. (Canonical slots of the
/// module's own functions are filled then too, for every slot handed out.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fixup {
    /// Set `cell` to the address of the module's own data export `export`.
    DataCell { cell: u32, export: u32 },
}

pub struct Plan {
    pub imports: Vec<ImportDesc>,
    pub fixups: Vec<Fixup>,
}

impl Loader {
    pub fn resolve(&mut self, id: ModId, scope: &[ModId], txn: &mut Txn) -> Result<Plan> {
        let m = self.get(id).ok_or(Error::BadHandle)?;
        let imports = m.info.imports.clone();
        let place = m.place;
        let mut plan = Plan {
            imports: Vec::with_capacity(imports.len()),
            fixups: Vec::new(),
        };

        for imp in &imports {
            let desc = match (imp.module.as_str(), imp.name.as_str(), imp.kind) {
                ("env", "memory", ImportKind::Memory) => ImportDesc::new(IMPORT_MEMORY, 0, 0),
                ("env", "__indirect_function_table", ImportKind::Table) => {
                    ImportDesc::new(IMPORT_TABLE, 0, 0)
                }
                (
                    "env",
                    "__stack_pointer",
                    ImportKind::Global {
                        ty: 0x7f,
                        mutable: true,
                    },
                ) => ImportDesc::new(IMPORT_STACK_POINTER, 0, 0),
                (
                    "env",
                    base @ ("__memory_base" | "__table_base"),
                    ImportKind::Global {
                        ty: 0x7f,
                        mutable: false,
                    },
                ) => {
                    let v = if base == "__memory_base" {
                        place.memory_base
                    } else {
                        place.table_base
                    };
                    let g = self.host.global_new_i32(false, v)?;
                    if let Some(m) = self.get_mut(id) {
                        m.owned_globals.push(g);
                    }
                    ImportDesc::new(IMPORT_GLOBAL, g, 0)
                }
                (
                    "GOT.mem",
                    sym,
                    ImportKind::Global {
                        ty: 0x7f,
                        mutable: true,
                    },
                ) => {
                    let weak = self.is_weak(id, "GOT.mem", sym);
                    self.bind_got(id, scope, sym, false, weak, txn, &mut plan.fixups)?
                }
                (
                    "GOT.func",
                    sym,
                    ImportKind::Global {
                        ty: 0x7f,
                        mutable: true,
                    },
                ) => {
                    let weak = self.is_weak(id, "GOT.func", sym);
                    self.bind_got(id, scope, sym, true, weak, txn, &mut plan.fixups)?
                }
                ("env", sym, ImportKind::Func { ty }) => {
                    let weak = self.is_weak(id, "env", sym);
                    self.bind_func(id, scope, sym, ty, weak, txn)?
                }
                ("wasi_snapshot_preview1", _, ImportKind::Func { .. }) => {
                    ImportDesc::new(IMPORT_HOST, 0, 0)
                }
                // Exception tags (`__c_longjmp` for setjmp/longjmp,
                // `__cpp_exception`) must be one tag per process, so that an
                // exception thrown in one module is caught in another: bind
                // to the definition in scope (normally the program's).
                ("env", sym, ImportKind::Tag) => self.bind_tag(id, scope, sym)?,
                _ => {
                    return Err(Error::UnsupportedImport {
                        module: imp.module.clone(),
                        name: imp.name.clone(),
                    })
                }
            };
            plan.imports.push(desc);
        }
        Ok(plan)
    }

    fn bind_tag(&mut self, id: ModId, scope: &[ModId], sym: &str) -> Result<ImportDesc> {
        for m in scope.iter().filter(|m| **m != id) {
            let Some(export) = self.export_index(*m, sym) else {
                continue;
            };
            let Some(provider) = self.get(*m) else {
                continue;
            };
            if provider
                .info
                .exports
                .get(export as usize)
                .is_some_and(|e| e.kind == ExportKind::Tag)
            {
                self.require_instantiated(*m, sym)?;
                let instance = self.get(*m).map(|p| p.instance).unwrap_or(0);
                self.trace_binding(format_args!("tag {sym}"));
                return Ok(ImportDesc::new(IMPORT_EXPORT, instance, export));
            }
        }
        Err(Error::UndefinedSymbol {
            symbol: String::from(sym),
        })
    }

    /// `dlsym`, `dlopen`, `atexit` and `__cxa_atexit` imported by a side
    /// module go to a forwarder that tells libdl which module is calling.
    fn bind_forwarded(&mut self, id: ModId, sym: &str, want: &Sig) -> Result<Option<ImportDesc>> {
        let Some(&(_, target)) = FORWARDED.iter().find(|(name, _)| *name == sym) else {
            return Ok(None);
        };
        // A program's exit handlers are the process's: they stay libc's.
        let is_program = self
            .get(id)
            .is_some_and(|m| m.kind == crate::loader::Kind::Program);
        if is_program && matches!(sym, "atexit" | "__cxa_atexit") {
            return Ok(None);
        }
        let Some(export) = self.export_index(self.libdl, target) else {
            return Ok(None);
        };
        let libdl = self.get(self.libdl).ok_or(Error::NotInitialised)?;
        let func = libdl
            .info
            .exports
            .get(export as usize)
            .map(|e| e.index)
            .unwrap_or(u32::MAX);
        let mut expected = libdl.info.func_sig(func).cloned().unwrap_or_default();
        expected.params.pop(); // the caller id the forwarder appends
        if &expected != want {
            return Err(Error::SignatureMismatch(alloc::boxed::Box::new(Mismatch {
                symbol: String::from(sym),
                imported: want.clone(),
                defined: expected,
                provider: String::from("libdl.so"),
            })));
        }
        let instance = codegen::forwarder(self, want, export, id)?;
        if let Some(m) = self.get_mut(id) {
            m.helpers.push(instance);
        }
        self.trace_binding(format_args!("{sym} -> libdl.so {target} (caller {id})"));
        Ok(Some(ImportDesc::new(IMPORT_EXPORT, instance, 0)))
    }

    /// Binding to a module not yet instantiated happens only inside a
    /// dependency cycle; it needs lazy binding (trampolines), not available yet.
    fn require_instantiated(&self, provider: ModId, sym: &str) -> Result<()> {
        match self.get(provider) {
            Some(p) if p.instantiated => Ok(()),
            Some(p) => Err(Error::Cycle {
                symbol: String::from(sym),
                provider: p.path.clone(),
            }),
            None => Err(Error::BadHandle),
        }
    }

    fn is_weak(&self, id: ModId, module: &str, name: &str) -> bool {
        // IMPORT_INFO names the symbol's own import (module "env" for both
        // the function and its GOT entries, as wasm-ld writes it).
        self.get(id).is_some_and(|m| {
            m.info.import_is_weak(module, name) || m.info.import_is_weak("env", name)
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_got(
        &mut self,
        id: ModId,
        scope: &[ModId],
        sym: &str,
        func: bool,
        weak: bool,
        txn: &mut Txn,
        fixups: &mut Vec<Fixup>,
    ) -> Result<ImportDesc> {
        let wanted = if func {
            ExportKind::Func
        } else {
            ExportKind::Global
        };
        let target = match self.lookup_traced(scope, sym) {
            Some(def) if def.kind == wanted => Target::Def(def.module, def.export),
            Some(_) => {
                return Err(Error::SymbolKind {
                    symbol: String::from(sym),
                    wanted: if func { "a function" } else { "data" },
                })
            }
            None if weak => Target::Missing(String::from(sym)),
            None => match self.synthetic.iter().find(|(n, _)| n == sym) {
                // A symbol the linker defines for executables: `__heap_base`
                // and `__heap_end`, kept at the end of memory (dlfcn::run_program).
                Some(_) if !func => {
                    let end = self.host.memory_end();
                    let g = self.host.global_new_i32(true, end)?;
                    self.host.track_memory_end(g);
                    if let Some(m) = self.get_mut(id) {
                        m.owned_globals.push(g);
                    }
                    return Ok(ImportDesc::new(IMPORT_GLOBAL, g, 0));
                }
                _ => {
                    return Err(Error::UndefinedSymbol {
                        symbol: String::from(sym),
                    })
                }
            },
        };
        let key = GotKey {
            func,
            target: target.clone(),
        };
        if let Some(cell) = self.got.get_mut(&key) {
            cell.users = cell.users.saturating_add(1);
            let g = cell.global;
            if let Some(m) = self.get_mut(id) {
                m.got_refs.push(key);
            }
            return Ok(ImportDesc::new(IMPORT_GLOBAL, g, 0));
        }

        // A new cell. Its value: known now for other modules' definitions,
        // after instantiation for the module's own (a fixup).
        let value = match &target {
            Target::Missing(_) => 0,
            // A function's canonical slot can be handed out before its module
            // is instantiated; relocate() fills it then.
            Target::Def(m, e) if func => self.func_slot(*m, *e, Some(txn))?,
            // A provider placed but not instantiated yet (a library bound
            // before one it uses but does not NEED, such as a program's
            // -lfoo before libc.so): its data export's address follows from
            // its placement, as an ELF linker's relocations follow from where
            // objects are mapped.
            Target::Def(m, e) if *m != id => match self.placed_data_address(*m, *e) {
                Some(addr) => addr,
                None => {
                    self.require_instantiated(*m, sym)?;
                    let def = Def {
                        module: *m,
                        export: *e,
                        kind: wanted,
                        cached: 0,
                    };
                    self.address_of(def, Some(txn))?
                }
            },
            Target::Def(_, _) => 0,
        };
        let g = self.host.global_new_i32(true, value)?;
        if let Target::Def(m, e) = target {
            if m == id && !func {
                fixups.push(Fixup::DataCell { cell: g, export: e });
            }
        }
        let own = matches!(target, Target::Def(m, _) if m == id && !func);
        self.trace_binding(format_args!(
            "{} {sym} -> {}",
            if func { "GOT.func" } else { "GOT.mem" },
            if own {
                String::from("own definition (set after instantiation)")
            } else {
                alloc::format!("{value:#x}")
            }
        ));
        self.got.insert(
            key.clone(),
            GotCell {
                global: g,
                users: 1,
            },
        );
        txn.cells.push(key.clone());
        if let Some(m) = self.get_mut(id) {
            m.got_refs.push(key);
        }
        Ok(ImportDesc::new(IMPORT_GLOBAL, g, 0))
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_func(
        &mut self,
        id: ModId,
        scope: &[ModId],
        sym: &str,
        ty: u32,
        weak: bool,
        txn: &mut Txn,
    ) -> Result<ImportDesc> {
        let m = self.get(id).ok_or(Error::BadHandle)?;
        let want = m.info.type_sig(ty).cloned().ok_or(Error::Malformed {
            offset: 0,
            message: String::from("function import with a non-function type"),
        })?;
        if let Some(desc) = self.bind_forwarded(id, sym, &want)? {
            return Ok(desc);
        }
        let Some(def) = self.lookup_traced(scope, sym) else {
            if weak || self.lazy {
                return self.bind_later(id, sym, &want, weak);
            }
            return Err(Error::UndefinedSymbol {
                symbol: String::from(sym),
            });
        };
        let provider = self.get(def.module).ok_or(Error::BadHandle)?;
        if def.kind != ExportKind::Func {
            return Err(Error::SymbolKind {
                symbol: String::from(sym),
                wanted: "a function",
            });
        }
        let func = provider
            .info
            .exports
            .get(def.export as usize)
            .map(|e| e.index)
            .unwrap_or(u32::MAX);
        let have = provider.info.func_sig(func).cloned().unwrap_or_default();
        if have != want {
            return Err(Error::SignatureMismatch(alloc::boxed::Box::new(Mismatch {
                symbol: String::from(sym),
                imported: want,
                defined: have,
                provider: provider.path.clone(),
            })));
        }
        let (instance, ready, path) = (
            provider.instance,
            provider.instantiated && def.module != id,
            provider.path.clone(),
        );
        if ready {
            self.trace_binding(format_args!("{sym} -> {path}"));
            return Ok(ImportDesc::new(IMPORT_EXPORT, instance, def.export));
        }
        // The provider is this module itself (an interposable alias) or a
        // module of the same load not instantiated yet (a dependency cycle,
        // such as libc.so needing the program's main): call through its
        // canonical slot, which relocate() fills when the provider exists.
        let slot = self.func_slot(def.module, def.export, Some(txn))?;
        let tramp = codegen::trampoline(self, &want, slot)?;
        if let Some(m) = self.get_mut(id) {
            m.helpers.push(tramp);
        }
        self.trace_binding(format_args!("{sym} -> {path} (through slot {slot}: cycle)"));
        Ok(ImportDesc::new(IMPORT_EXPORT, tramp, 0))
    }

    /// A function not defined now: weak (a trampoline whose slot stays null
    /// until bound), or left unbound by RTLD_LAZY (the slot holds a reporter
    /// that names the symbol and the module, and ends the program, if it is
    /// called before a library defining it joins the global scope).
    fn bind_later(&mut self, id: ModId, sym: &str, want: &Sig, weak: bool) -> Result<ImportDesc> {
        let slot = self.table.alloc(1, 0, &mut |d| self.host.table_grow(d))?;
        if let Some(m) = self.get_mut(id) {
            m.weak_slots.push((String::from(sym), slot));
        }
        if !weak {
            let target = self
                .export_index(self.libdl, "__wasmdl_unresolved")
                .ok_or(Error::NotInitialised)?;
            let path = self.get(id).map(|m| m.path.clone()).unwrap_or_default();
            self.unresolved.push((String::from(sym), path));
            let report_id = self.unresolved.len() as u32 - 1;
            let reporter = codegen::reporter(self, want, target, report_id)?;
            if let Some(m) = self.get_mut(id) {
                m.helpers.push(reporter);
            }
            self.host.export_to_table(reporter, 0, slot)?;
        }
        let tramp = codegen::trampoline(self, want, slot)?;
        if let Some(m) = self.get_mut(id) {
            m.helpers.push(tramp);
        }
        let why = if weak { "weak" } else { "RTLD_LAZY" };
        self.trace_binding(format_args!(
            "{sym} -> (undefined, {why}: slot {slot}, bound later)"
        ));
        Ok(ImportDesc::new(IMPORT_EXPORT, tramp, 0))
    }
}
