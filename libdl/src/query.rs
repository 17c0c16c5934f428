//! Questions about what is loaded, after loading: the scope `dlsym` searches
//! for a handle (and for `RTLD_NEXT`), which module and symbol an address
//! belongs to (`dladdr`), and the registration of exit handlers.

use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::loader::{Kind, Loader, ModId};
use crate::parse::{ExportKind, Sig};

/// What `dladdr` reports, as addresses in the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrInfo {
    pub fname: u32,
    pub fbase: u32,
    pub sname: u32,
    pub saddr: u32,
}

impl Loader {
    /// `dlinfo(RTLD_DI_LINKMAP)`: the address of the module's `link_map`,
    /// after linking every module's into one list in load order (the program
    /// first), as glibc's `_r_debug` list is.
    pub fn link_map(&mut self, id: ModId) -> Result<u32> {
        self.get(id).ok_or(Error::BadHandle)?;
        // The program first, then the rest in load order.
        let program = self.program;
        let mut order: Vec<usize> = (0..self.modules.len()).collect();
        crate::loader::sort_small(&mut order, |&i| {
            self.modules.get(i).is_none_or(|m| m.id != program)
        });
        let addrs: Vec<u32> = order
            .iter()
            .filter_map(|&i| self.modules.get(i))
            .map(|m| m.link_map.as_ptr() as usize as u32)
            .collect();
        let n = addrs.len();
        for (pos, &i) in order.iter().enumerate() {
            let next = if pos + 1 < n {
                addrs.get(pos + 1).copied().unwrap_or(0)
            } else {
                0
            };
            let prev = if pos > 0 {
                addrs.get(pos - 1).copied().unwrap_or(0)
            } else {
                0
            };
            if let Some(m) = self.modules.get_mut(i) {
                *m.link_map = [
                    m.place.memory_base,
                    m.path_c.as_ptr() as usize as u32,
                    0,
                    next,
                    prev,
                ];
            }
        }
        let m = self.get(id).ok_or(Error::BadHandle)?;
        Ok(m.link_map.as_ptr() as usize as u32)
    }

    /// `dlinfo(RTLD_DI_ORIGIN)`: the directory the module was loaded from.
    pub fn origin(&self, id: ModId) -> Result<alloc::string::String> {
        let m = self.get(id).ok_or(Error::BadHandle)?;
        Ok(crate::read::dirname(&m.path))
    }

    /// The modules `dlsym(handle)` searches: the library and its dependencies
    /// breadth-first; for the program's handle (`dlopen(NULL)`), the global scope.
    pub fn handle_scope(&self, id: ModId) -> Result<Vec<ModId>> {
        let m = self.get(id).ok_or(Error::BadHandle)?;
        Ok(match m.kind {
            Kind::Program => self.global_scope.clone(),
            _ if m.local_scope.is_empty() => alloc::vec![id],
            _ => m.local_scope.clone(),
        })
    }

    /// `RTLD_NEXT` from `caller`: the modules after it in the scope it was
    /// loaded into: the global scope if it is there, otherwise the local scope
    /// of the library it was loaded with.
    pub fn next_scope(&self, caller: ModId) -> Vec<ModId> {
        let after = |scope: &[ModId]| -> Option<Vec<ModId>> {
            let pos = scope.iter().position(|id| *id == caller)?;
            Some(scope.get(pos + 1..).unwrap_or(&[]).to_vec())
        };
        if let Some(v) = after(&self.global_scope) {
            return v;
        }
        self.modules
            .iter()
            .find_map(|m| after(&m.local_scope))
            .unwrap_or_default()
    }

    /// The module and function index whose address is table slot `slot`.
    pub fn slot_owner(&self, slot: u32) -> Option<(ModId, u32)> {
        if let Some(((m, e), _)) = self.func_slots.iter().find(|(_, s)| **s == slot) {
            let func = self.get(*m)?.info.exports.get(*e as usize)?.index;
            return Some((*m, func));
        }
        self.modules.iter().find_map(|m| {
            let in_range = m.kind != Kind::Side
                || (slot >= m.place.table_base && slot - m.place.table_base < m.place.table_size);
            if !in_range {
                return None;
            }
            m.elem_slots
                .iter()
                .find(|(_, s)| **s == slot)
                .map(|(f, _)| (m.id, *f))
        })
    }

    /// The signature of the function in `slot`, if libdl knows whose it is.
    pub fn slot_sig(&self, slot: u32) -> Option<&Sig> {
        let (m, f) = self.slot_owner(slot)?;
        self.get(m)?.info.func_sig(f)
    }

    /// atexit/__cxa_atexit from a side module: the handler runs when the
    /// module unloads (or at exit). Refused (-1 to the caller) unless the slot
    /// holds a function of the right type, so that running it cannot trap.
    pub fn register_exit(
        &mut self,
        caller: ModId,
        slot: u32,
        arg: u32,
        with_arg: bool,
    ) -> Result<()> {
        let want = Sig {
            params: if with_arg {
                alloc::vec![0x7f]
            } else {
                Vec::new()
            },
            results: Vec::new(),
        };
        if self.slot_sig(slot) != Some(&want) {
            return Err(Error::BadHandle);
        }
        let m = self.get_mut(caller).ok_or(Error::BadHandle)?;
        m.exit_handlers.push((slot, arg, with_arg));
        Ok(())
    }

    /// `dladdr`: the module containing `addr` (a side module's data, a
    /// function's table slot, or the program's data), and the nearest symbol
    /// at or below it.
    pub fn addr_info(&mut self, addr: u32) -> Option<AddrInfo> {
        // The data region of a module libdl placed (a side module, a PIE program).
        let data_owner = self
            .modules
            .iter()
            .find(|m| {
                m.placed()
                    && addr >= m.place.memory_base
                    && addr - m.place.memory_base < m.place.memory_size
            })
            .map(|m| m.id);
        if let Some(id) = data_owner {
            return self.data_symbol(id, addr);
        }
        // A function pointer: a table slot whose owner libdl knows.
        if let Some((id, func)) = self.slot_owner(addr) {
            let m = self.get(id)?;
            let export = m
                .info
                .exports
                .iter()
                .position(|e| e.kind == ExportKind::Func && e.index == func);
            let (fname, fbase) = (m.path_c.as_ptr() as usize as u32, m.place.memory_base);
            let (sname, saddr) = match export {
                Some(e) => (self.name_c(id, e as u32)?, addr),
                None => (0, 0), // a static function: no name, as in ELF
            };
            return Some(AddrInfo {
                fname,
                fbase,
                sname,
                saddr,
            });
        }
        // The program's static data, [__global_base, __data_end) as wasm-ld
        // exports them (else up to __heap_base). Table indices, which are
        // small, never reach here unless libdl knows no owner for them.
        let program = self.program;
        let start = self.export_value(program, "__global_base").unwrap_or(1024);
        let end = match self.export_value(program, "__data_end") {
            Some(e) => e,
            None => self.export_value(program, "__heap_base")?,
        };
        if addr >= start && addr < end {
            return self.data_symbol(program, addr);
        }
        None
    }

    fn export_value(&mut self, id: ModId, name: &str) -> Option<u32> {
        let e = self.export_index(id, name)?;
        let instance = self.get(id)?.instance;
        self.host
            .export_global_get(instance, e)
            .ok()
            .map(|v| v as u32)
    }

    /// The data export of `id` with the greatest address not above `addr`.
    fn data_symbol(&mut self, id: ModId, addr: u32) -> Option<AddrInfo> {
        let m = self.get(id)?;
        let instance = m.instance;
        let globals: Vec<u32> = m
            .info
            .exports
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == ExportKind::Global && !m.info.name_of(e).starts_with("__"))
            .map(|(i, _)| i as u32)
            .collect();
        let mut best: Option<(u32, u32)> = None;
        for e in globals {
            let Ok(raw) = self.host.export_global_get(instance, e) else {
                continue;
            };
            let a = self.get(id)?.data_address(raw as u32);
            if a <= addr && best.is_none_or(|(ba, _)| a > ba) {
                best = Some((a, e));
            }
        }
        let m = self.get(id)?;
        let (fname, fbase) = (m.path_c.as_ptr() as usize as u32, m.place.memory_base);
        let (sname, saddr) = match best {
            Some((a, e)) => (self.name_c(id, e)?, a),
            None => (0, 0),
        };
        Some(AddrInfo {
            fname,
            fbase,
            sname,
            saddr,
        })
    }

    /// A NUL-terminated copy of an export's name that lives as long as the module.
    fn name_c(&mut self, id: ModId, export: u32) -> Option<u32> {
        let m = self.get_mut(id)?;
        if !m.names_c.contains_key(&export) {
            let name = m
                .info
                .name_of(m.info.exports.get(export as usize)?)
                .as_bytes();
            let mut v = Vec::with_capacity(name.len() + 1);
            v.extend_from_slice(name);
            v.push(0);
            m.names_c.insert(export, v);
        }
        m.names_c.get(&export).map(|v| v.as_ptr() as usize as u32)
    }
}
