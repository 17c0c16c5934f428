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
//!
//! The hash is [`symbol_hash`], not hashbrown's default: foldhash multiplies
//! 64 by 64 bits into 128, which wasm has no instruction for, and on V8's
//! baseline tier hashing 20,000 names that way took longer than reading the
//! file they came from. Like GNU hash's, it is fixed, not seeded: a library
//! crafted to collide slows its own `dlopen`, as it would under ld.so.

use hashbrown::HashTable;

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
}

/// A 32-bit hash of a symbol name, four bytes a step in 32-bit arithmetic
/// (FxHash's step), finished with MurmurHash3's `fmix32` so that both the
/// low bits hashbrown probes with and the high bits it tags with vary.
pub fn symbol_hash(name: &str) -> u32 {
    const K: u32 = 0x9e37_79b9;
    let bytes = name.as_bytes();
    let mut h = bytes.len() as u32;
    let (words, rest) = bytes.as_chunks::<4>();
    for w in words {
        h = (h.rotate_left(5) ^ u32::from_le_bytes(*w)).wrapping_mul(K);
    }
    let mut tail = 0u32;
    for (i, b) in rest.iter().enumerate() {
        tail |= u32::from(*b) << (8 * i);
    }
    h = (h.rotate_left(5) ^ tail).wrapping_mul(K);
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// The table's 64-bit hash from an entry's 32 bits: hashbrown probes with the
/// low bits and tags with the top seven, so both halves carry the hash.
fn wide(hash: u32) -> u64 {
    u64::from(hash) | (u64::from(hash) << 32)
}

impl SymIndex {
    /// The hash a lookup of `name` starts from (computed once per lookup).
    pub fn hash(&self, name: &str) -> u32 {
        symbol_hash(name)
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

#[cfg(test)]
mod tests {
    use super::symbol_hash;

    #[test]
    fn symbol_hash_spreads_similar_names() {
        // Names that differ in one byte, in every position and in length,
        // hash apart, in the low bits and in the top seven alike.
        let names: alloc::vec::Vec<alloc::string::String> = (0..2000)
            .map(|i| alloc::format!("bench_f{i}"))
            .chain((0..9).map(|n| "x".repeat(n)))
            .collect();
        let mut low = hashbrown::HashSet::new();
        let mut top = hashbrown::HashSet::new();
        for n in &names {
            low.insert(symbol_hash(n) & 0xfff);
            top.insert(symbol_hash(n) >> 25);
        }
        assert!(low.len() > 1500, "{} of 4096 low values", low.len());
        assert_eq!(top.len(), 128, "every tag value used");
        assert_ne!(symbol_hash("ab"), symbol_hash("ba"));
        assert_ne!(symbol_hash(""), symbol_hash("\0"));
    }
}
