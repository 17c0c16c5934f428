//! Phase 4: place. Reserve the module's memory region (`WASM_DYLINK_MEM_INFO`
//! `memorysize`, zeroed, aligned to `2^memoryalignment`) and its table slots
//! (`tablesize`, aligned to `2^tablealignment`).
//!
//! Memory comes from libdl's own allocator, which only ever takes pages from
//! `memory.grow`; the program's allocator owns `[__heap_base, initial end)` and
//! its own `memory.grow` pages, so the two never overlap (docs/memory-layout.md).
//!
//! Table slots are managed here: the table's first part belongs to the program
//! and libdl (placed by the shim), everything after `first_free` is ours. Freed
//! ranges are kept, coalesced, and reused before the table grows.

use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::host::Host;
use crate::parse::MemInfo;

/// Largest memory region one module may ask for.
pub const MAX_MODULE_MEMORY: u32 = 1 << 30;
/// Largest number of table slots one module may ask for.
pub const MAX_MODULE_TABLE: u32 = 1 << 20;

/// A module's reserved space. `memory_base`/`table_base` are what it imports
/// as `env.__memory_base` / `env.__table_base`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placement {
    pub memory_base: u32,
    pub memory_size: u32,
    memory_align: u32,
    pub table_base: u32,
    pub table_size: u32,
}

/// Free-range allocator over table indices `[start, end)`.
#[derive(Debug, Default)]
pub struct TableAlloc {
    /// Sorted, non-overlapping, non-adjacent free ranges (start, len).
    free: Vec<(u32, u32)>,
    /// Current table size as far as we know (the end of our space).
    end: u32,
    /// Slots currently handed out.
    pub in_use: u32,
}

fn align_up(v: u32, align_log2: u32) -> Option<u32> {
    let mask = 1u32.checked_shl(align_log2)?.checked_sub(1)?;
    Some(v.checked_add(mask)? & !mask)
}

impl TableAlloc {
    /// Our space starts at the table's current size `end`.
    pub fn new(end: u32) -> Self {
        TableAlloc {
            free: Vec::new(),
            end,
            in_use: 0,
        }
    }

    pub fn size(&self) -> u32 {
        self.end
    }

    /// `count` slots aligned to `2^align_log2`. `grow(delta)` grows the real
    /// table and returns its old size.
    pub fn alloc(
        &mut self,
        count: u32,
        align_log2: u32,
        grow: &mut dyn FnMut(u32) -> Result<u32>,
    ) -> Result<u32> {
        if count == 0 {
            return Ok(0);
        }
        // First fit among free ranges.
        for i in 0..self.free.len() {
            let Some(&(start, len)) = self.free.get(i) else {
                break;
            };
            let Some(a) = align_up(start, align_log2) else {
                continue;
            };
            let pad = a - start;
            if pad.checked_add(count).is_some_and(|need| need <= len) {
                self.take(i, a, count);
                self.in_use += count;
                return Ok(a);
            }
        }
        // Grow: the new space starts at the table's current size.
        let a = align_up(self.end, align_log2).ok_or(Error::NoTable {
            slots: count.into(),
        })?;
        let new_end = a.checked_add(count).ok_or(Error::NoTable {
            slots: count.into(),
        })?;
        let delta = new_end - self.end;
        let old = grow(delta)?;
        if old != self.end {
            // Someone else grew the table; our view is stale. Recover by
            // treating [self.end, old) as not ours and retrying at `old`.
            self.end = old.checked_add(delta).ok_or(Error::NoTable {
                slots: delta.into(),
            })?;
            let a2 = align_up(old, align_log2).ok_or(Error::NoTable {
                slots: count.into(),
            })?;
            if a2.checked_add(count).is_some_and(|e| e <= self.end) {
                self.release_range(
                    a2.saturating_add(count),
                    self.end - a2.saturating_add(count),
                );
                self.release_range(old, a2 - old);
                self.in_use += count;
                return Ok(a2);
            }
            return Err(Error::NoTable {
                slots: count.into(),
            });
        }
        let old_end = self.end;
        self.end = new_end;
        self.release_range(old_end, a - old_end);
        self.in_use += count;
        Ok(a)
    }

    /// Removes [a, a+count) from free range i, keeping the leftovers.
    fn take(&mut self, i: usize, a: u32, count: u32) {
        let Some(&(start, len)) = self.free.get(i) else {
            return;
        };
        let end = start + len;
        self.free.remove(i);
        let mut at = i;
        if a > start {
            self.free.insert(at, (start, a - start));
            at += 1;
        }
        if a + count < end {
            self.free.insert(at, (a + count, end - (a + count)));
        }
    }

    /// Returns slots to the free list (caller has cleared them in the table).
    pub fn free(&mut self, start: u32, count: u32) {
        if count == 0 {
            return;
        }
        self.in_use = self.in_use.saturating_sub(count);
        self.release_range(start, count);
    }

    fn release_range(&mut self, start: u32, count: u32) {
        if count == 0 {
            return;
        }
        let pos = self.free.partition_point(|&(s, _)| s < start);
        self.free.insert(pos, (start, count));
        // Coalesce with the next, then with the previous.
        if let (Some(&(s, l)), Some(&(ns, nl))) = (self.free.get(pos), self.free.get(pos + 1)) {
            if s + l == ns {
                if let Some(e) = self.free.get_mut(pos) {
                    e.1 = l + nl;
                }
                self.free.remove(pos + 1);
            }
        }
        if pos > 0 {
            if let (Some(&(ps, pl)), Some(&(s, l))) = (self.free.get(pos - 1), self.free.get(pos)) {
                if ps + pl == s {
                    if let Some(e) = self.free.get_mut(pos - 1) {
                        e.1 = pl + l;
                    }
                    self.free.remove(pos);
                }
            }
        }
    }

    #[cfg(test)]
    fn free_ranges(&self) -> &[(u32, u32)] {
        &self.free
    }
}

/// Reserves memory and table space for a module. On failure nothing is kept.
pub fn place(host: &mut dyn Host, table: &mut TableAlloc, mi: &MemInfo) -> Result<Placement> {
    if mi.memory_size > MAX_MODULE_MEMORY {
        return Err(Error::Limit {
            what: "module memory size",
            value: mi.memory_size.into(),
            limit: MAX_MODULE_MEMORY.into(),
        });
    }
    if mi.table_size > MAX_MODULE_TABLE {
        return Err(Error::Limit {
            what: "module table size",
            value: mi.table_size.into(),
            limit: MAX_MODULE_TABLE.into(),
        });
    }
    // Even an empty module gets one byte, so that every module has a distinct
    // address range (dladdr) and `__memory_base` is never 0.
    let size = mi.memory_size.max(1);
    let memory_base = host.mem_alloc(size, mi.memory_align)?;
    let table_base = match table.alloc(mi.table_size, mi.table_align, &mut |d| host.table_grow(d)) {
        Ok(b) => b,
        Err(e) => {
            host.mem_free(memory_base, size, mi.memory_align);
            return Err(e);
        }
    };
    Ok(Placement {
        memory_base,
        memory_size: size,
        memory_align: mi.memory_align,
        table_base,
        table_size: mi.table_size,
    })
}

/// Gives back what [`place`] reserved. The caller has dropped the instance.
pub fn unplace(host: &mut dyn Host, table: &mut TableAlloc, p: &Placement) {
    if p.table_size > 0 {
        host.table_clear(p.table_base, p.table_size);
        table.free(p.table_base, p.table_size);
    }
    host.mem_free(p.memory_base, p.memory_size, p.memory_align);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grower(size: &mut u32) -> impl FnMut(u32) -> Result<u32> + '_ {
        move |d| {
            let old = *size;
            *size += d;
            Ok(old)
        }
    }

    #[test]
    fn grows_aligns_and_reuses() {
        let mut real = 5u32;
        let mut t = TableAlloc::new(5);
        let a = t.alloc(3, 0, &mut grower(&mut real)).unwrap();
        assert_eq!((a, real), (5, 8));
        // Aligned to 4: pad 8..8 none, 8..12
        let b = t.alloc(4, 2, &mut grower(&mut real)).unwrap();
        assert_eq!((b, real), (8, 12));
        // Aligned to 8 at 16: padding 12..16 becomes free.
        let c = t.alloc(2, 3, &mut grower(&mut real)).unwrap();
        assert_eq!((c, real), (16, 18));
        assert_eq!(t.free_ranges(), &[(12, 4)]);
        // Fits in the padding.
        let d = t.alloc(3, 0, &mut grower(&mut real)).unwrap();
        assert_eq!((d, real), (12, 18));
        assert_eq!(t.free_ranges(), &[(15, 1)]);
        // Free and coalesce everything back.
        t.free(a, 3);
        t.free(b, 4);
        t.free(d, 3);
        t.free(c, 2);
        assert_eq!(t.free_ranges(), &[(5, 13)]);
        assert_eq!(t.in_use, 0);
        // Reuse: no growth for a later load.
        let e = t.alloc(13, 0, &mut grower(&mut real)).unwrap();
        assert_eq!((e, real), (5, 18));
    }

    #[test]
    fn growth_failure_leaves_state_unchanged() {
        let mut t = TableAlloc::new(10);
        let r = t.alloc(4, 0, &mut |_| Err(Error::NoTable { slots: 4 }));
        assert_eq!(r.unwrap_err(), Error::NoTable { slots: 4 });
        assert_eq!(t.size(), 10);
        assert_eq!(t.in_use, 0);
        assert!(t.free_ranges().is_empty());
    }

    #[test]
    fn huge_alignment_does_not_overflow() {
        let mut t = TableAlloc::new(u32::MAX - 2);
        let mut never = |_| -> Result<u32> { Ok(0) };
        assert!(t.alloc(4, 16, &mut never).is_err());
    }
}
