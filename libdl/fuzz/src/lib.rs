//! Fuzz harnesses for libdl, shared by the targets in `fuzz_targets/` (and
//! usable from a plain test to replay a corpus file).
//!
//! Everything a module file can reach: `parse` (both expectations, error
//! messages), the import/export analysis later phases do on its result, and
//! the whole load plan run natively over `fakehost`, the checking double of
//! the host ABI (it panics on any bad request: dead handles, descriptors that
//! do not match imports, slots outside the table, exports of the wrong kind,
//! immutable globals set).

use std::collections::BTreeSet;

use libdl::fakehost::{exports, globals, loader_with, side_needing, types, FakeHost};
use libdl::loader::{Loader, OpenFlags};
use libdl::parse::tests::module;
use libdl::parse::{parse, Expect, ExportKind, ImportKind, Module};

pub mod parse_ref;

/// libdl's `parse` against the reference (`parse_ref`, built on wasmparser's
/// `Parser` and section readers throughout): both must accept or both
/// refuse, and what both accept must give the same module. Error messages
/// and offsets may differ. What this checks is the part libdl reads itself
/// on wasmparser's `BinaryReader`: globals, exports and element segments,
/// with constant expressions skipped by hand where the reference uses
/// wasmparser's operator reader. Two differences are by design: libdl
/// refuses a constant expression holding a non-constant instruction
/// (`parse::NOT_CONST`), which no valid module has; and it skips the code
/// section's bodies by the section's size, where the reference reads each
/// body's size, so a file the reference refuses inside the code section's
/// bodies may be accepted (the engine refuses it).
pub fn parse_diff(data: &[u8]) {
    for expect in [Expect::SideModule, Expect::Program] {
        let new = parse(data, expect);
        let old = parse_ref::parse(
            data,
            if expect == Expect::Program {
                parse_ref::Expect::Program
            } else {
                parse_ref::Expect::SideModule
            },
        );
        match (&new, &old) {
            (Ok(n), Ok(o)) => assert_eq!(format!("{n:?}"), format!("{o:?}")),
            (Err(n), Err(o)) => {
                if n != o && std::env::var_os("LIBDL_FUZZ_VERBOSE").is_some() {
                    eprintln!("parse_diff: new {n:?}\n            ref {o:?}");
                }
            }
            (Err(libdl::error::Error::Malformed { message, .. }), Ok(_))
                if message == libdl::parse::NOT_CONST => {}
            (_, Err(libdl::error::Error::Malformed { offset, .. }))
                if refused_in_code_bodies(data, *offset) => {}
            (n, o) => panic!("parse differs from the reference: {n:?} vs {o:?}"),
        }
    }
}

/// Whether wasmparser's parser refuses `data` at `offset` while reading the
/// bodies of the code section: while it still expects a body (wherever a
/// body's size or bytes run to), or, all read, at bytes left inside the
/// section.
fn refused_in_code_bodies(data: &[u8], offset: usize) -> bool {
    use wasmparser::Payload::{CodeSectionEntry, CodeSectionStart};
    // (end of the code section, bodies promised, bodies read)
    let mut code: Option<(usize, u32, u32)> = None;
    for p in wasmparser::Parser::new(0).parse_all(data) {
        match p {
            Ok(CodeSectionStart {
                count,
                unchecked_range,
                ..
            }) => code = Some((unchecked_range.end as usize, count, 0)),
            Ok(CodeSectionEntry(_)) => {
                if let Some((_, _, read)) = &mut code {
                    *read += 1;
                }
            }
            Ok(_) => code = None,
            Err(e) => {
                return e.offset() as usize == offset
                    && code.is_some_and(|(end, count, read)| read < count || offset < end)
            }
        }
    }
    false
}

/// The file under test is placed here (and at `/q/libx.so` for NEEDED).
pub const PATH: &str = "/p/x.so";

fn message(e: &libdl::error::Error) -> String {
    let mut s = String::new();
    e.write_message(Some(PATH), &mut s);
    assert!(!s.is_empty(), "empty dlerror text for {e:?}");
    let mut t = String::new();
    e.write_message(None, &mut t);
    assert!(!t.is_empty(), "empty dlerror text for {e:?}");
    s
}

/// (a) `parse` with both expectations; a side module that parses is a
/// program that parses, identically.
pub fn parse_both(data: &[u8]) {
    let side = parse(data, Expect::SideModule);
    let prog = parse(data, Expect::Program);
    match (&side, &prog) {
        (Ok(s), Ok(p)) => {
            assert!(s.dylink.is_some());
            assert_eq!(
                format!("{s:?}"),
                format!("{p:?}"),
                "same module, either expectation"
            );
        }
        (Ok(_), Err(e)) => panic!("a side module that is not a program: {e:?}"),
        (Err(e), Ok(p)) => {
            assert!(
                p.dylink.is_none(),
                "refused as a side module only for lack of dylink.0: {e:?}"
            );
            message(e);
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "the same error either way");
            message(a);
        }
    }
}

/// Everything the loader asks of a parsed module, over every index.
fn analyze_module(m: &Module) {
    for imp in &m.imports {
        let _ = m.import_is_weak(&imp.module, &imp.name);
        if let ImportKind::Func { ty } = imp.kind {
            if let Some(sig) = m.type_sig(ty) {
                let text = sig.to_string();
                assert!(text.contains(" -> "));
            }
        }
    }
    for e in &m.exports {
        if e.kind == ExportKind::Func {
            if let Some(sig) = m.func_sig(e.index) {
                let _ = sig.to_string();
            }
        }
    }
    for seg in &m.elems {
        for f in &seg.funcs {
            let _ = m.func_sig(*f);
        }
    }
    let n = m.funcs.len() as u32;
    for f in [0, n.wrapping_sub(1), n, n.wrapping_add(1), u32::MAX] {
        let _ = m.func_sig(f);
        let _ = m.type_sig(f);
    }
    if let Some(d) = &m.dylink {
        for (module, name, _) in &d.import_info {
            let _ = m.import_is_weak(module, name);
        }
        for name in &d.needed {
            let c = libdl::read::candidates(name, Some("/q::/r/"), &d.runtime_path, Some("/p"));
            assert!(!c.is_empty());
        }
    }
}

/// (b) import/export analysis.
pub fn analyze(data: &[u8]) {
    if let Ok(m) = parse(data, Expect::Program) {
        analyze_module(&m);
    }
}

/// A program that defines what `m` imports from `env` (functions with the
/// imported signature) and as `GOT.mem`/`GOT.func` (data, functions), so that
/// a well-formed side module binds and the later phases run.
fn program_for(m: &Module) -> Vec<u8> {
    let mut sigs: Vec<(Vec<u8>, Vec<u8>)> = vec![(vec![], vec![0x7f])];
    let mut func_types = vec![0u32];
    let mut exps: Vec<(String, u8, u32)> =
        vec![("host_fn".into(), 0, 0), ("host_data".into(), 3, 0)];
    let mut seen: BTreeSet<String> = exps.iter().map(|e| e.0.clone()).collect();
    let mut nglobals = 1u32;
    for imp in &m.imports {
        if seen.contains(&imp.name) {
            continue;
        }
        match (imp.module.as_str(), imp.kind) {
            ("env", ImportKind::Func { ty }) => {
                let Some(sig) = m.type_sig(ty) else { continue };
                let ok = |v: &[u8]| v.iter().all(|c| *c != 0);
                if !ok(&sig.params) || !ok(&sig.results) {
                    continue;
                }
                sigs.push((sig.params.clone(), sig.results.clone()));
                func_types.push(sigs.len() as u32 - 1);
                exps.push((imp.name.clone(), 0, func_types.len() as u32 - 1));
            }
            ("GOT.mem", _) => {
                exps.push((imp.name.clone(), 3, nglobals));
                nglobals += 1;
            }
            _ => continue,
        }
        seen.insert(imp.name.clone());
    }
    let sig_refs: Vec<(&[u8], &[u8])> = sigs.iter().map(|(p, r)| (&p[..], &r[..])).collect();
    let mut f = Vec::new();
    let mut c = Vec::new();
    libdl::parse::tests::leb(&mut f, func_types.len() as u32);
    libdl::parse::tests::leb(&mut c, func_types.len() as u32);
    for t in &func_types {
        libdl::parse::tests::leb(&mut f, *t);
        c.extend_from_slice(&[3, 0, 0x00, 0x0b]);
    }
    let exp_refs: Vec<(&str, u8, u32)> =
        exps.iter().map(|(n, k, i)| (n.as_str(), *k, *i)).collect();
    module(&[
        (1, types(&sig_refs)),
        (3, f),
        (6, globals(nglobals)),
        (7, exports(&exp_refs)),
        (10, c),
    ])
}

/// A loader over the double with `program` as the main program and `files`.
fn setup(program: Vec<u8>, files: &[(&str, Vec<u8>)], env: &[(&str, &str)]) -> (Loader, FakeHost) {
    let view = FakeHost::default();
    let mut h = view.0.lock().unwrap();
    h.table = vec![None; 10];
    for (k, v) in env {
        h.env.push((k.to_string(), v.to_string()));
    }
    use libdl::host::Host;
    let libdl_so = module(&[(
        0,
        libdl::parse::tests::dylink0(&[libdl::parse::tests::mem_info(0, 0, 0, 0)]),
    )]);
    let pm = h
        .compile(&program)
        .expect("the synthesized program compiles");
    let lm = h.compile(&libdl_so).unwrap();
    let (pi, li) = (
        h.instantiate(pm, &[]).unwrap(),
        h.instantiate(lm, &[]).unwrap(),
    );
    for (p, b) in files {
        h.files.insert(p.to_string(), b.clone());
    }
    drop(h);
    let l = Loader::new(Box::new(view.clone()), (lm, li), Some((pm, pi))).expect("loader");
    (l, view)
}

type Alive = (usize, usize, usize, usize);

fn alive(view: &FakeHost) -> (Alive, usize) {
    let (m, i, g, mem, t) = view.0.lock().unwrap().alive();
    ((m, i, g, mem), t)
}

/// One dlopen of `name` and, if it loads, dlsym of every export of `data`'s
/// module (plus misses), a second dlopen, and the two dlcloses; checks that
/// nothing outlives the library.
fn open_use_close(l: &mut Loader, view: &FakeHost, name: &str, flags: OpenFlags, names: &[String]) {
    let (base, table_before) = alive(view);
    let nmods = l.modules.len();
    match l.open(name, flags, None) {
        Err(e) => {
            let text = message(&e);
            if std::env::var_os("LIBDL_FUZZ_VERBOSE").is_some() {
                eprintln!("open {name}: {text}");
            }
            let (now, table_now) = alive(view);
            assert_eq!(now, base, "a failed dlopen left host objects alive: {e:?}");
            assert_eq!(
                table_now, table_before,
                "a failed dlopen left table slots filled: {e:?}"
            );
            assert_eq!(
                l.modules.len(),
                nmods,
                "a failed dlopen left modules registered: {e:?}"
            );
            assert!(l.got.is_empty(), "GOT cells after a failed dlopen");
        }
        Ok(None) => panic!("dlopen without RTLD_NOLOAD returned nothing"),
        Ok(Some(opened)) => {
            if std::env::var_os("LIBDL_FUZZ_VERBOSE").is_some() {
                eprintln!("open {name}: loaded");
            }
            {
                let h = view.0.lock().unwrap();
                for s in &opened.init_slots {
                    assert!(
                        h.table.get(*s as usize).is_some_and(|e| e.is_some()),
                        "constructor slot {s} empty"
                    );
                }
            }
            let scope = l.handle_scope(opened.id).expect("scope of a live handle");
            for n in names.iter().map(String::as_str).chain([
                "__no_such_symbol",
                "",
                "host_fn",
                "host_data",
            ]) {
                if let Some(def) = l.lookup(&scope, n) {
                    match l.address_of(def, None) {
                        Ok(addr) => {
                            if def.kind == ExportKind::Func {
                                let h = view.0.lock().unwrap();
                                if std::env::var_os("LIBDL_FUZZ_VERBOSE").is_some()
                                    && h.table.get(addr as usize).is_none_or(|e| e.is_none())
                                {
                                    let m = l.get(def.module).unwrap();
                                    eprintln!("def {def:?} path {} instantiated {} place {:?} elem_slots {:?} owned {:?} elems {:?}", m.path, m.instantiated, m.place, m.elem_slots, l.owned_slots, m.info.elems);
                                }
                                assert!(
                                    h.table.get(addr as usize).is_some_and(|e| e.is_some()),
                                    "dlsym({n}) slot {addr} empty"
                                );
                            }
                        }
                        Err(e) => {
                            message(&e);
                        }
                    }
                }
                let _ = l.lookup(&l.global_scope.clone(), n);
            }
            let _ = l.origin(opened.id);
            let _ = l.link_map(opened.id);
            let _ = l.addr_info(0x10000);
            let again = l
                .open(name, flags, None)
                .expect("second dlopen")
                .expect("loaded");
            assert_eq!(again.id, opened.id);
            assert!(again.init_slots.is_empty());
            assert!(l.close(opened.id).expect("first dlclose").is_empty());
            let dying = l.close(opened.id).expect("second dlclose");
            let ids: Vec<_> = dying.iter().map(|(id, _)| *id).collect();
            l.finish_close(&ids);
            assert!(l.get(opened.id).is_none());
            assert_eq!(
                l.modules.len(),
                nmods,
                "modules left after the last dlclose"
            );
            let (now, _) = alive(view);
            assert_eq!(now, base, "host objects left after the last dlclose");
            assert!(l.close(opened.id).is_err(), "dlclose of a dead handle");
        }
    }
}

/// (c) the whole load plan: the input as `/p/x.so` opened directly (with the
/// plain program, then with one that defines what it imports), then as
/// `libx.so`, a NEEDED dependency of another library, found through
/// `LD_LIBRARY_PATH`.
pub fn load(data: &[u8]) {
    let parsed = parse(data, Expect::Program).ok();
    let names: Vec<String> = parsed
        .as_ref()
        .map(|m| {
            m.exports
                .iter()
                .take(64)
                .map(|e| m.name_of(e).to_string())
                .collect()
        })
        .unwrap_or_default();
    let flags = OpenFlags {
        global: data.last().is_some_and(|b| b & 1 != 0),
        ..OpenFlags::default()
    };

    let (mut l, view) = loader_with(&[(PATH, data.to_vec())]);
    open_use_close(&mut l, &view, PATH, flags, &names);
    drop(l);

    let Some(m) = parsed else { return };
    let program = program_for(&m);
    let wrapper = side_needing(&[], &["libx.so"]);
    let (mut l, view) = setup(
        program,
        &[
            (PATH, data.to_vec()),
            ("/q/libx.so", data.to_vec()),
            ("/p/w.so", wrapper),
        ],
        &[("LD_LIBRARY_PATH", "/nowhere:/q")],
    );
    open_use_close(&mut l, &view, PATH, flags, &names);
    open_use_close(&mut l, &view, "/p/w.so", OpenFlags::default(), &names);
    open_use_close(&mut l, &view, "libx.so", flags, &names);
}
