//! Compiled-module cache (host-abi/SPEC.md, "Caching compiled modules").
//!
//! `module_compile` and the start of a process go through [`ModuleCache`]:
//!
//! * **In the process**, the same bytes are never compiled twice: a module
//!   is kept by the SHA-256 of its bytes, so a library opened, closed and
//!   opened again, or loaded by two programs' worth of `dlopen`s, costs one
//!   compile. What is kept is the compiled code only (no instance, no
//!   memory): one entry per distinct module binary the process has seen.
//! * **On disk**, when a directory is given (`wasmdl-run --cache DIR` or
//!   `WASMDL_CACHE=DIR` in the runner's environment), compiled code survives
//!   across runs. An entry's file name is the SHA-256 of the module's bytes
//!   and a hash of the engine's compilation settings
//!   (`Engine::precompile_compatibility_hash`: wasmtime's version, target and
//!   flags), so a changed file or another wasmtime never finds a stale entry.
//!
//! wasmtime's own cache (`Config::cache`) is not used: it trusts what it reads
//! back, so a truncated or corrupted entry would be handed to
//! `Module::deserialize`, which runs the machine code it is given. Here an
//! entry is `Module::serialize`'s output followed by a trailer (its length,
//! its CRC-32 and a magic), checked before the entry is used; an entry that
//! fails any check is ignored and rewritten. The check finds damage (a
//! truncated write, a flipped bit), not tampering: whoever can write the
//! directory can write a valid entry, so it must be trusted like the
//! runner's own files. The trailer is at the end so that a checked entry can
//! be mapped by `Module::deserialize_file` as it is (wasmtime ignores bytes
//! after its own image), which copies nothing: for the 4.4 MB entry of a
//! 20,000-export library, 4.2 ms instead of 7.1 ms for reading it and
//! `Module::deserialize` (examples/cache_probe.rs). Nearly all of those
//! 4.2 ms is wasmtime decoding its metadata, above all the export names and
//! their index, which no engine setting shortens.
//! Writers create a uniquely named temporary file and rename it into place,
//! so two processes filling one cache at once each see either no entry or a
//! whole one.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// The last bytes of every entry; a new format gets a new magic.
const MAGIC: &[u8; 8] = b"WASMDLC2";
/// After the payload: its length (u64 LE), its CRC-32 (u32 LE), 4 zero
/// bytes, the magic.
const TRAILER: usize = 8 + 4 + 4 + 8;

/// Counts of what the cache did, for tests and `LD_DEBUG`-style reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Found in this process.
    pub memory_hits: u64,
    /// Read from the directory.
    pub disk_hits: u64,
    /// Compiled.
    pub compiles: u64,
    /// Directory entries ignored because they failed a check.
    pub rejected: u64,
    /// Directory entries written.
    pub written: u64,
}

pub struct ModuleCache {
    dir: Option<PathBuf>,
    modules: Mutex<HashMap<[u8; 32], Module>>,
    stats: Mutex<CacheStats>,
}

impl ModuleCache {
    /// A cache of this process only, or also of `dir` (created if missing).
    pub fn new(dir: Option<PathBuf>) -> ModuleCache {
        ModuleCache {
            dir,
            modules: Mutex::new(HashMap::new()),
            stats: Mutex::new(CacheStats::default()),
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    pub fn stats(&self) -> CacheStats {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self, f: impl FnOnce(&mut CacheStats)) {
        f(&mut self.stats.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// The compiled module for `bytes` (a wasm binary; WAT text is refused,
    /// as by `Module::from_binary`).
    pub fn compile(&self, engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Module> {
        let key: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(module) = self.lookup(&key) {
            self.count(|s| s.memory_hits += 1);
            return Ok(module);
        }
        let path = self.dir.as_ref().map(|dir| entry_path(dir, engine, &key));
        if let Some(module) = path.as_deref().and_then(|p| self.read_entry(engine, p)) {
            self.count(|s| s.disk_hits += 1);
            return Ok(self.remember(key, module));
        }
        let module = Module::from_binary(engine, bytes)?;
        self.count(|s| s.compiles += 1);
        if let Some(path) = path {
            // A cache that cannot be written only costs the next run a compile.
            if write_entry(&path, &module).is_ok() {
                self.count(|s| s.written += 1);
            }
        }
        Ok(self.remember(key, module))
    }

    fn lookup(&self, key: &[u8; 32]) -> Option<Module> {
        let modules = self.modules.lock().unwrap_or_else(|e| e.into_inner());
        modules.get(key).cloned()
    }

    /// Keeps `module` (or the one another thread kept first).
    fn remember(&self, key: [u8; 32], module: Module) -> Module {
        let mut modules = self.modules.lock().unwrap_or_else(|e| e.into_inner());
        modules.entry(key).or_insert(module).clone()
    }

    /// The module in entry `path`, if the entry is whole and was written by
    /// this engine's settings; otherwise None (and the entry is counted as
    /// rejected if it exists).
    fn read_entry(&self, engine: &Engine, path: &Path) -> Option<Module> {
        if !std::fs::exists(path).unwrap_or(false) {
            return None;
        }
        let module = check_entry(path).ok().filter(|whole| *whole).and_then(|_| {
            // SAFETY: the file holds what `Module::serialize` wrote for this
            // engine's settings (its name says so), unchanged: its length and
            // CRC-32 match the trailer written with it. Entries are replaced
            // only by rename, never written in place, so the file mapped is
            // whole. wasmtime checks the version and settings again.
            unsafe { Module::deserialize_file(engine, path) }.ok()
        });
        if module.is_none() {
            self.count(|s| s.rejected += 1);
        }
        module
    }
}

/// `DIR/<sha256 of the module>-<engine settings hash>.cwasm`.
fn entry_path(dir: &Path, engine: &Engine, key: &[u8; 32]) -> PathBuf {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!("{}-{:016x}.cwasm", hex(key), h.finish()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the entry at `path` is whole and unchanged. The payload is read
/// in pieces for its CRC-32, not into one buffer: `deserialize_file` maps it
/// afterwards, and a 5 MB allocation would cost more than the check.
fn check_entry(path: &Path) -> std::io::Result<bool> {
    let mut f = std::fs::File::open(path)?;
    let Some(payload_len) = f.metadata()?.len().checked_sub(TRAILER as u64) else {
        return Ok(false);
    };
    f.seek(SeekFrom::Start(payload_len))?;
    let mut trailer = [0u8; TRAILER];
    f.read_exact(&mut trailer)?;
    let (len, rest) = trailer.split_at(8);
    let (crc, rest) = rest.split_at(4);
    let (zero, magic) = rest.split_at(4);
    if magic != MAGIC || zero != [0; 4] || len != payload_len.to_le_bytes() {
        return Ok(false);
    }
    f.seek(SeekFrom::Start(0))?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut left = payload_len;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = f.read(&mut buf[..want])?;
        if n == 0 {
            return Ok(false);
        }
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(hasher.finalize().to_le_bytes() == crc)
}

fn write_entry(path: &Path, module: &Module) -> std::io::Result<()> {
    let payload = module.serialize().map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Unique among processes (pid) and among threads and calls (counter).
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tmp = path.with_extension(format!(
        "tmp.{}.{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&payload)?;
        f.write_all(&(payload.len() as u64).to_le_bytes())?;
        f.write_all(&crc32fast::hash(&payload).to_le_bytes())?;
        f.write_all(&[0; 4])?;
        f.write_all(MAGIC)?;
        f.sync_all()?;
        // Atomic: readers see the old entry (or none) or the whole new one.
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(n: i32) -> Vec<u8> {
        wat::parse_str(format!(
            "(module (func (export \"f\") (result i32) i32.const {n}))"
        ))
        .unwrap()
    }

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmdl-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn entries(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_same_bytes_compile_once_per_process() {
        let engine = Engine::default();
        let cache = ModuleCache::new(None);
        let a = module(1);
        cache.compile(&engine, &a).unwrap();
        cache.compile(&engine, &a).unwrap();
        cache.compile(&engine, &module(2)).unwrap();
        let s = cache.stats();
        assert_eq!((s.compiles, s.memory_hits, s.written), (2, 1, 0));
        assert!(
            cache.compile(&engine, b"(module)").is_err(),
            "text is refused"
        );
    }

    #[test]
    fn entries_survive_processes_and_a_changed_file_is_recompiled() {
        let dir = tempdir("survive");
        let engine = Engine::default();
        let first = ModuleCache::new(Some(dir.clone()));
        first.compile(&engine, &module(1)).unwrap();
        assert_eq!(first.stats().written, 1);
        // A new process (a new cache over the same directory).
        let second = ModuleCache::new(Some(dir.clone()));
        second.compile(&engine, &module(1)).unwrap();
        assert_eq!((second.stats().disk_hits, second.stats().compiles), (1, 0));
        // The file changed: another key, compiled, a second entry.
        second.compile(&engine, &module(7)).unwrap();
        assert_eq!(second.stats().compiles, 1);
        assert_eq!(entries(&dir).len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_truncated_or_corrupted_entry_is_rejected_and_rebuilt() {
        let dir = tempdir("corrupt");
        let engine = Engine::default();
        let bytes = module(3);
        ModuleCache::new(Some(dir.clone()))
            .compile(&engine, &bytes)
            .unwrap();
        let path = entries(&dir).pop().unwrap();
        let good = std::fs::read(&path).unwrap();
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[good.len() / 2] ^= 0x40;

        let mut bad_magic = good.clone();
        bad_magic[last] = b'X';
        let mut flipped_early = good.clone();
        flipped_early[100] ^= 1;
        for damaged in [
            good[..good.len() / 2].to_vec(),
            good[..10].to_vec(),
            Vec::new(),
            flipped,
            bad_magic,
            flipped_early,
        ] {
            std::fs::write(&path, &damaged).unwrap();
            let cache = ModuleCache::new(Some(dir.clone()));
            let m = cache.compile(&engine, &bytes).unwrap();
            let s = cache.stats();
            assert_eq!(
                (s.rejected, s.compiles, s.written),
                (1, 1, 1),
                "{} bytes",
                damaged.len()
            );
            assert!(m.get_export("f").is_some());
            assert_eq!(
                std::fs::read(&path).unwrap().len(),
                good.len(),
                "rewritten whole"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn threads_filling_one_directory_at_once_all_get_whole_entries() {
        let dir = tempdir("race");
        let engine = Engine::default();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for n in 0..8 {
                        let cache = ModuleCache::new(Some(dir.clone()));
                        cache.compile(&engine, &module(n)).unwrap();
                    }
                });
            }
        });
        let files = entries(&dir);
        assert_eq!(files.len(), 8, "no temporary file left: {files:?}");
        for f in files {
            assert!(check_entry(&f).unwrap(), "{f:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
