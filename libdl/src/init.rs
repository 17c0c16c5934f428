//! Phase 7: initialise. Constructors run through `__wasm_call_ctors` (or
//! `_initialize`, for a module linked with a reactor crt), after
//! `__wasm_apply_data_relocs`, and after everything the module depends on has
//! been initialised.
//!
//! They run with the loader unlocked, since a constructor may itself call
//! `dlopen` or `dlsym`: the loader only finds the slot here; `dlfcn` calls it.

use crate::error::Result;
use crate::loader::{Loader, ModId, Txn};

impl Loader {
    pub fn init_slot(&mut self, id: ModId, txn: &mut Txn) -> Result<Option<u32>> {
        match self.entry_slot(id, "__wasm_call_ctors", txn)? {
            Some(slot) => Ok(Some(slot)),
            None => self.entry_slot(id, "_initialize", txn),
        }
    }
}
