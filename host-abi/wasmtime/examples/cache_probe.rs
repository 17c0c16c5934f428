//! Where a warm-cache `module_compile` + `instance_new` of one side module
//! spends its time on the host (issue 10), outside the runner:
//!
//!   cargo run --release -p wasmdl-wasmtime --example cache_probe -- LIB.so [ITERS]
//!
//! Each iteration: a fresh `ModuleCache` over a warm directory (SHA-256 of the
//! bytes, the entry's CRC-32 check, `Module::deserialize_file`), then an
//! instance in a fresh store, importing a memory and `__memory_base` /
//! `__table_base` (and a table if it wants one), and its exports collected as
//! `instance_new` did before it looked exports up lazily (what that saved),
//! then every export looked up by name, as `export_of` does now (per lookup).
//! Prints min/median/max per step, in microseconds. PROBE_OPTS
//! (comma-separated: nounwind, noaddrmap, nocow, nolazytable, pooling,
//! nosignals, o0) changes the engine's settings, to compare. In one process,
//! after the first iteration, allocation is warm: the runner's fresh-process
//! figures are higher (its heap's pages are faulted in as wasmtime's
//! metadata is decoded).

use std::time::Instant;

use wasmdl_wasmtime::cache::ModuleCache;
use wasmtime::*;

fn mmm(v: &mut [f64]) -> String {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    format!("{:8.1} {:8.1} {:8.1}", v[0], v[v.len() / 2], v[v.len() - 1])
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = &args[1];
    let iters: usize = args.get(2).map_or(20, |s| s.parse().unwrap());
    let opts = std::env::var("PROBE_OPTS").unwrap_or_default();
    let mut config = Config::new();
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o {
            "nounwind" => {
                config.native_unwind_info(false);
            }
            "noaddrmap" => {
                config.generate_address_map(false);
            }
            "nocow" => {
                config.memory_init_cow(false);
            }
            "nolazytable" => {
                config.table_lazy_init(false);
            }
            "pooling" => {
                config.allocation_strategy(InstanceAllocationStrategy::pooling());
            }
            "nosignals" => {
                config.signals_based_traps(false);
            }
            "o0" => {
                config.cranelift_opt_level(OptLevel::None);
            }
            _ => panic!("unknown option {o}"),
        }
    }
    let engine = Engine::new(&config)?;
    let bytes = std::fs::read(path)?;
    let dir = std::env::temp_dir().join(format!("cache-probe-{}", opts.replace(',', "-")));
    // Fill the directory (a no-op when it is warm already).
    ModuleCache::new(Some(dir.clone())).compile(&engine, &bytes)?;
    let entry = std::fs::read_dir(&dir)?
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&hex_sha(&bytes))
        })
        .unwrap();

    let (mut names_t, mut lookup_t, mut deser_copy) = (vec![], vec![], vec![]);
    let (mut copy, mut sha, mut compile, mut deser, mut inst, mut exports, mut drop_t) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..iters {
        let t = Instant::now();
        let b = bytes.to_vec();
        copy.push(t.elapsed().as_secs_f64() * 1e6);

        let t = Instant::now();
        let _ = hex_sha(&b);
        sha.push(t.elapsed().as_secs_f64() * 1e6);

        let t = Instant::now();
        let cache = ModuleCache::new(Some(dir.clone()));
        let module = cache.compile(&engine, &b)?;
        compile.push(t.elapsed().as_secs_f64() * 1e6);
        assert_eq!(cache.stats().disk_hits, 1);

        let t = Instant::now();
        let m2 = unsafe { Module::deserialize_file(&engine, &entry)? };
        deser.push(t.elapsed().as_secs_f64() * 1e6);
        drop(m2);

        let t = Instant::now();
        let image = std::fs::read(&entry)?;
        let m3 = unsafe { Module::deserialize(&engine, &image)? };
        deser_copy.push(t.elapsed().as_secs_f64() * 1e6);
        drop(m3);

        let mut store = Store::new(&engine, ());
        let memory = Memory::new(&mut store, MemoryType::new(256, None))?;
        let table = Table::new(
            &mut store,
            TableType::new(RefType::FUNCREF, 20_000, None),
            Ref::Func(None),
        )?;
        let mut externs: Vec<Extern> = Vec::new();
        for imp in module.imports() {
            externs.push(match imp.ty() {
                ExternType::Memory(_) => memory.into(),
                ExternType::Table(_) => table.into(),
                ExternType::Global(_) => Global::new(
                    &mut store,
                    GlobalType::new(ValType::I32, Mutability::Const),
                    Val::I32(1024),
                )?
                .into(),
                other => panic!("import {other:?}"),
            });
        }
        let t = Instant::now();
        let instance = Instance::new(&mut store, &module, &externs)?;
        inst.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let ex: Vec<Extern> = instance
            .exports(&mut store)
            .map(|e| e.into_extern())
            .collect();
        exports.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let names: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
        names_t.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let mut n = 0;
        for name in &names {
            if instance.get_export(&mut store, name).is_some() {
                n += 1;
            }
        }
        assert_eq!(n, names.len());
        lookup_t.push(t.elapsed().as_secs_f64() * 1e6 / names.len() as f64 * 1000.0);
        let t = Instant::now();
        drop(ex);
        drop(store);
        drop(module);
        drop(cache);
        drop_t.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!("opts [{opts}], {iters} iterations, us: min median max");
    println!("  copy bytes          {}", mmm(&mut copy));
    println!("  sha256              {}", mmm(&mut sha));
    println!("  cache.compile (all) {}", mmm(&mut compile));
    println!("  deserialize_file    {}", mmm(&mut deser));
    println!("  read + deserialize  {}", mmm(&mut deser_copy));
    println!("  Instance::new       {}", mmm(&mut inst));
    println!("  exports collect     {}", mmm(&mut exports));
    println!("  names via exports() {}", mmm(&mut names_t));
    println!("  get_export, ns each {}", mmm(&mut lookup_t));
    println!("  drop all            {}", mmm(&mut drop_t));
    Ok(())
}

fn hex_sha(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
