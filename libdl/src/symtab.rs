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

use core::hash::{BuildHasher, Hasher};

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

/// FxHash's step: one 32-bit word into the state.
fn fx_step(h: u32, word: u32) -> u32 {
    (h.rotate_left(5) ^ word).wrapping_mul(0x9e37_79b9)
}

/// Bytes into the state, four a step (the last word zero-padded).
fn fx_bytes(mut h: u32, bytes: &[u8]) -> u32 {
    let (words, rest) = bytes.as_chunks::<4>();
    for w in words {
        h = fx_step(h, u32::from_le_bytes(*w));
    }
    let mut tail = 0u32;
    for (i, b) in rest.iter().enumerate() {
        tail |= u32::from(*b) << (8 * i);
    }
    fx_step(h, tail)
}

/// MurmurHash3's `fmix32`: every input bit reaches every output bit, so
/// both the low bits hashbrown probes with and the top seven it tags with vary.
fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// A 32-bit hash of a symbol name.
pub fn symbol_hash(name: &str) -> u32 {
    let bytes = name.as_bytes();
    fmix32(fx_bytes(bytes.len() as u32, bytes))
}

/// The same hash for the loader's other maps (keyed by ids, slots and GOT
/// keys), so that libdl carries one hash function, in 32-bit arithmetic.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxBuild;

pub struct Fx(u32);

impl BuildHasher for FxBuild {
    type Hasher = Fx;
    fn build_hasher(&self) -> Fx {
        Fx(0)
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fx_bytes(self.0, bytes);
    }
    fn write_u8(&mut self, n: u8) {
        self.0 = fx_step(self.0, u32::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = fx_step(self.0, n);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = fx_step(fx_step(self.0, n as u32), (n >> 32) as u32);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        wide(fmix32(self.0))
    }
}

/// A hash map with [`FxBuild`].
pub type Map<K, V> = hashbrown::HashMap<K, V, FxBuild>;

/// The table's 64-bit hash from an entry's 32 bits: hashbrown probes with the
/// low bits and tags with the top seven, so both halves carry the hash.
fn wide(hash: u32) -> u64 {
    u64::from(hash) | (u64::from(hash) << 32)
}

impl SymIndex {
    /// Adds every export of module `id` (whose parsed form is `info`).
    pub fn insert(&mut self, id: ModId, info: &Module) {
        self.table.reserve(info.exports.len(), |e| wide(e.hash));
        for (i, e) in info.exports.iter().enumerate() {
            let entry = Entry {
                hash: symbol_hash(info.name_of(e)),
                module: id,
                export: i as u32,
            };
            self.table
                .insert_unique(wide(entry.hash), entry, |e| wide(e.hash));
        }
    }

    /// Removes every export of module `id` (`info` as given to `insert`).
    pub fn remove(&mut self, id: ModId, info: &Module) {
        // A module holding a good part of the index: one pass over the
        // table is cheaper than hashing each of its names again.
        if info.exports.len().saturating_mul(8) > self.table.len() {
            self.table.retain(|e| e.module != id);
        } else {
            self.remove_each(id, info);
        }
        // Give memory back once a large library has gone.
        if self.table.capacity() > 64 && self.table.len() < self.table.capacity() / 4 {
            self.table.shrink_to_fit(|e| wide(e.hash));
        }
    }

    fn remove_each(&mut self, id: ModId, info: &Module) {
        for (i, e) in info.exports.iter().enumerate() {
            let h = symbol_hash(info.name_of(e));
            if let Ok(found) = self.table.find_entry(wide(h), |x| {
                x.hash == h && x.module == id && x.export == i as u32
            }) {
                found.remove();
            }
        }
    }

    /// The (module, export index) of every export whose name hashes as
    /// `name` does: a superset of its definers, for the caller to confirm.
    pub fn candidates(&self, name: &str) -> impl Iterator<Item = (ModId, u32)> + '_ {
        let hash = symbol_hash(name);
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
    use super::{symbol_hash, SymIndex};
    use crate::parse::{ExportKind, Module};

    fn module(names: &[&str]) -> Module {
        let mut m = Module::default();
        for (i, n) in names.iter().enumerate() {
            m.push_export(n, ExportKind::Func, i as u32);
        }
        m
    }

    #[test]
    fn removal_by_name_or_by_sweep_takes_exactly_one_module() {
        let big: alloc::vec::Vec<alloc::string::String> =
            (0..100).map(|i| alloc::format!("f{i}")).collect();
        let big: alloc::vec::Vec<&str> = big.iter().map(|s| s.as_str()).collect();
        let mut ix = SymIndex::default();
        ix.insert(1, &module(&big));
        ix.insert(2, &module(&["f7", "g"]));
        ix.insert(3, &module(&["f7"]));
        let defs = |ix: &SymIndex, n: &str| {
            let mut v: alloc::vec::Vec<_> = ix.candidates(n).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(defs(&ix, "f7"), [(1, 7), (2, 0), (3, 0)]);
        // Small next to the table: removed name by name.
        ix.remove(2, &module(&["f7", "g"]));
        assert_eq!(defs(&ix, "f7"), [(1, 7), (3, 0)]);
        assert!(defs(&ix, "g").is_empty());
        // Most of the table: removed in one sweep.
        ix.remove(1, &module(&big));
        assert_eq!(defs(&ix, "f7"), [(3, 0)]);
        assert_eq!(ix.len(), 1);
    }

    #[test]
    fn symbol_hash_spreads_similar_names() {
        // Names that differ in one byte, in every position and in length,
        // hash apart, in the low bits and in the top seven alike.
        let names: alloc::vec::Vec<alloc::string::String> = (0..2000)
            .map(|i| alloc::format!("bench_f{i}"))
            .chain((0..9).map(|n| "x".repeat(n)))
            .collect();
        let mut low = hashbrown::HashSet::with_hasher(super::FxBuild);
        let mut top = hashbrown::HashSet::with_hasher(super::FxBuild);
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
