//! Compiled-module cache (host-abi/SPEC.md, "Caching compiled modules").
//!
//! `module_compile` and the start of a process go through [`ModuleCache`]:
//!
//! * **In the process**, the same bytes are compiled once: a module is kept
//!   by the SHA-256 of its bytes (compiled code only, no instance or
//!   memory), one entry per distinct binary the process has seen. A failed
//!   compile is not kept.
//! * **On disk**, when a directory is given (`--cache DIR` or
//!   `WASMDL_CACHE=DIR` in the runner's environment), compiled code survives
//!   across runs. An entry is `DIR/<SHA-256 of the bytes>-<settings>.cwasm`
//!   (the extension is the other runners', so that tests/cache/run.sh runs
//!   unchanged), where `<settings>` hashes what makes Wasmer's code valid:
//!   Wasmer's version, the compiler's deterministic id (Cranelift and its
//!   options), the target (triple and CPU features) and the wasm features.
//!   The file holds `Module::serialize`'s output and a trailer (its length,
//!   its CRC-32, a magic), checked before `Module::deserialize` sees it:
//!   Wasmer checks its own header and the archive's layout, but runs the
//!   machine code it is given. An entry that fails a check is ignored and
//!   rewritten. The check finds damage, not tampering: the directory must
//!   be trusted like the runner's own files. Writers create a uniquely named
//!   temporary file and rename it into place, so concurrent processes see
//!   no entry or a whole one. Nothing is ever deleted.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use wasmer::{Engine, Module};

/// The last bytes of every entry; a new format gets a new magic.
const MAGIC: &[u8; 8] = b"WASMDLW1";
/// After the payload: its length (u64 LE), its CRC-32 (u32 LE), 4 zero
/// bytes, the magic.
const TRAILER: usize = 8 + 4 + 4 + 8;

/// Counts of what the cache did (`WASMDL_CACHE_STATS`).
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
    /// What makes compiled code valid, hashed (see the top of this file).
    settings: u64,
    modules: Mutex<HashMap<[u8; 32], Module>>,
    stats: Mutex<CacheStats>,
}

impl ModuleCache {
    /// A cache of this process only, or also of `dir` (created if missing),
    /// for an engine whose compilation settings are described by `settings`.
    pub fn new(dir: Option<PathBuf>, settings: &str) -> ModuleCache {
        let mut h = DefaultHasher::new();
        settings.hash(&mut h);
        ModuleCache {
            dir,
            settings: h.finish(),
            modules: Mutex::new(HashMap::new()),
            stats: Mutex::new(CacheStats::default()),
        }
    }

    pub fn stats(&self) -> CacheStats {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self, f: impl FnOnce(&mut CacheStats)) {
        f(&mut self.stats.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// The compiled module for `bytes`, a wasm binary (WAT text is refused,
    /// as by `Module::from_binary`, which also validates fully). The error
    /// is the engine's message.
    pub fn compile(&self, engine: &Engine, bytes: &[u8]) -> Result<Module, String> {
        let key: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(module) = self.lookup(&key) {
            self.count(|s| s.memory_hits += 1);
            return Ok(module);
        }
        let path = self.dir.as_ref().map(|dir| self.entry_path(dir, &key));
        if let Some(module) = path.as_deref().and_then(|p| self.read_entry(engine, p)) {
            self.count(|s| s.disk_hits += 1);
            return Ok(self.remember(key, module));
        }
        let module = Module::from_binary(engine, bytes).map_err(|e| e.to_string())?;
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

    /// `DIR/<sha256 of the module>-<settings hash>.cwasm`.
    fn entry_path(&self, dir: &Path, key: &[u8; 32]) -> PathBuf {
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        dir.join(format!("{hex}-{:016x}.cwasm", self.settings))
    }

    /// The module in entry `path`, if the entry is whole; otherwise None
    /// (and the entry is counted as rejected if it exists).
    fn read_entry(&self, engine: &Engine, path: &Path) -> Option<Module> {
        let data = match std::fs::read(path) {
            Ok(data) => data,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(_) => {
                self.count(|s| s.rejected += 1);
                return None;
            }
        };
        let module = checked_payload(&data).and_then(|payload| {
            // SAFETY: the payload is what `Module::serialize` wrote for this
            // engine's settings (the file's name says so), unchanged: its
            // length and CRC-32 match the trailer written with it. Wasmer
            // checks its own header and archive layout again.
            unsafe { Module::deserialize(engine, payload.to_vec()) }.ok()
        });
        if module.is_none() {
            self.count(|s| s.rejected += 1);
        }
        module
    }
}

/// The payload of a whole, unchanged entry.
fn checked_payload(data: &[u8]) -> Option<&[u8]> {
    let payload_len = data.len().checked_sub(TRAILER)?;
    let (payload, trailer) = data.split_at(payload_len);
    let (len, rest) = trailer.split_at(8);
    let (crc, rest) = rest.split_at(4);
    let (zero, magic) = rest.split_at(4);
    let whole = magic == MAGIC
        && zero == [0; 4]
        && len == (payload_len as u64).to_le_bytes()
        && crc == crc32fast::hash(payload).to_le_bytes();
    whole.then_some(payload)
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
