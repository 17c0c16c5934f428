//! The symbol index: every export of every registered module, in one hash
//! table, so that a lookup hashes the name once and probes once however many
//! modules a scope holds (what the GNU hash section does for ld.so, but
//! process-wide). A name defined by several modules has one entry per
//! definer; the scope being searched picks among them (the first in scope
//! order wins), so one index serves the global scope, every library's local
//! scope and `RTLD_NEXT`.
//!
//! Entries hold no names: a hit is confirmed against the defining module's
//! export name, which lives as long as the entry (both go when the module
//! is unregistered).

use core::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::loader::ModId;
use crate::parse::Module;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The name's hash (see [`SymIndex::hash`]).
    hash: u32,
    module: ModId,
    export: u32,
}

#[derive(Default)]
pub struct SymIndex {
    table: HashTable<Entry>,
    hasher: DefaultHashBuilder,
}

/// The table's 64-bit hash from an entry's 32 bits: hashbrown probes with the
/// low bits and tags with the top seven, so both halves carry the hash.
fn wide(hash: u32) -> u64 {
    u64::from(hash) | (u64::from(hash) << 32)
}

impl SymIndex {
    /// The hash a lookup of `name` starts from (computed once per lookup).
    pub fn hash(&self, name: &str) -> u32 {
        let h = self.hasher.hash_one(name);
        (h ^ (h >> 32)) as u32
    }

    /// Adds every export of module `id` (whose parsed form is `info`).
    pub fn insert(&mut self, id: ModId, info: &Module) {
        self.table.reserve(info.exports.len(), |e| wide(e.hash));
        for (i, e) in info.exports.iter().enumerate() {
            let entry = Entry {
                hash: self.hash(&e.name),
                module: id,
                export: i as u32,
            };
            self.table
                .insert_unique(wide(entry.hash), entry, |e| wide(e.hash));
        }
    }

    /// Removes every export of module `id` (`info` as given to `insert`).
    pub fn remove(&mut self, id: ModId, info: &Module) {
        for (i, e) in info.exports.iter().enumerate() {
            let h = self.hash(&e.name);
            if let Ok(found) = self.table.find_entry(wide(h), |x| {
                x.hash == h && x.module == id && x.export == i as u32
            }) {
                found.remove();
            }
        }
        // Give memory back once a large library has gone.
        if self.table.capacity() > 64 && self.table.len() < self.table.capacity() / 4 {
            self.table.shrink_to_fit(|e| wide(e.hash));
        }
    }

    /// The (module, export index) of every export whose name hashes to
    /// `hash`: a superset of the definers of that name, for the caller to
    /// confirm by name.
    pub fn candidates(&self, hash: u32) -> impl Iterator<Item = (ModId, u32)> + '_ {
        self.table
            .iter_hash(wide(hash))
            .filter(move |e| e.hash == hash)
            .map(|e| (e.module, e.export))
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}
