//! Phase 6: relocate. Instantiate the module with the planned imports, then
//! finish what needed the instance: cells and table slots that point into the
//! module itself, and `__wasm_apply_data_relocs`, which writes the addresses
//! that the module's data segments hold (pointers to its own and other
//! modules' data and functions, read from `__memory_base`, `__table_base` and
//! the GOT). It must run before any constructor reads that data.
//!
//! May assume: phase 5 produced one descriptor per import, and every cell that
//! points elsewhere already holds its final value.

use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::loader::{Loader, ModId, Txn};
use crate::parse::{ExportKind, Sig};
use crate::resolve::{Fixup, Plan};

impl Loader {
    pub fn relocate(&mut self, id: ModId, plan: Plan, txn: &mut Txn) -> Result<()> {
        let module = self.get(id).ok_or(Error::BadHandle)?.module;
        let t0 = self.clock();
        let instance = self.host.instantiate(module, &plan.imports)?;
        self.stats.instantiate_ns += self.clock().saturating_sub(t0);
        let m = self.get_mut(id).ok_or(Error::BadHandle)?;
        m.instance = instance;
        m.instantiated = true;
        let base = m.place.memory_base;

        // Canonical slots handed out for this module's functions before it
        // existed (its own GOT.func entries, or a dependent's in a cycle).
        let pending: Vec<(u32, u32)> = self
            .owned_slots
            .iter()
            .filter(|((mid, _), _)| *mid == id)
            .map(|((_, e), slot)| (*e, *slot))
            .collect();
        for (export, slot) in pending {
            self.host.export_to_table(instance, export, slot)?;
        }
        for fix in plan.fixups {
            match fix {
                Fixup::DataCell { cell, export } => {
                    let raw = self.host.export_global_get(instance, export)? as u32;
                    self.host.global_set_i32(cell, base.wrapping_add(raw))?;
                }
            }
        }

        if let Some(slot) = self.entry_slot(id, "__wasm_apply_data_relocs", txn)? {
            let t0 = self.clock();
            self.host.call_slot(slot);
            self.stats.instantiate_ns += self.clock().saturating_sub(t0);
        }
        Ok(())
    }

    /// The canonical slot of an exported `() -> ()` entry point, if exported.
    pub fn entry_slot(
        &mut self,
        id: ModId,
        name: &'static str,
        txn: &mut Txn,
    ) -> Result<Option<u32>> {
        let Some(export) = self.export_index(id, name) else {
            return Ok(None);
        };
        let m = self.get(id).ok_or(Error::BadHandle)?;
        let e = m
            .info
            .exports
            .get(export as usize)
            .ok_or(Error::BadHandle)?;
        let void = Sig::default();
        if e.kind != ExportKind::Func || m.info.func_sig(e.index) != Some(&void) {
            return Err(Error::BadEntryPoint { name });
        }
        self.func_slot(id, export, Some(txn)).map(Some)
    }
}
