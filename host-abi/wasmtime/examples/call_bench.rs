//! `make bench-calls`: what one call costs when a module's import is bound
//! (a) directly to another instance's export at instantiation, (b) to the
//! trampoline libdl generates for lazy binding and import cycles (an
//! exported function doing `call_indirect` through a table slot), and (c) to
//! a host function that forwards the call, the way runtime-side linkers bind
//! imports they resolve late. All in one run, on one engine; each figure is
//! min/median/max over repeated runs, and ratios are to the direct call.

use std::time::Instant;
use wasmtime::*;

const CALLEE: &str =
    r#"(module (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add))"#;

/// Calls the import `n` times in a loop; returns the accumulated value.
const CALLER: &str = r#"(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (func (export "run") (param $n i32) (result i32) (local $acc i32)
    (block $done (loop $again
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $acc (call $f (local.get $acc)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $again)))
    (local.get $acc)))"#;

/// The same shape as libdl's codegen::trampoline_module: import the table,
/// forward the arguments through `return_call_indirect` (a tail call) on a
/// fixed slot.
const TRAMPOLINE: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (import "env" "__indirect_function_table" (table 1 funcref))
  (func (export "f") (type $t) local.get 0 i32.const 0 return_call_indirect (type $t)))"#;

/// The shape libdl generated before, with a plain `call_indirect`, for comparison.
const TRAMPOLINE_CALL: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (import "env" "__indirect_function_table" (table 1 funcref))
  (func (export "f") (type $t) local.get 0 i32.const 0 call_indirect (type $t)))"#;

const CALLS: i32 = 20_000_000;
const RUNS: usize = 7;

fn measure(store: &mut Store<()>, run: &TypedFunc<i32, i32>) -> Result<Vec<f64>> {
    run.call(&mut *store, 1_000_000)?; // warm up
    let mut ns = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = run.call(&mut *store, CALLS)?;
        let dt = t.elapsed().as_nanos() as f64;
        assert_eq!(r, CALLS, "every call must have happened");
        ns.push(dt / f64::from(CALLS));
    }
    ns.sort_by(|a, b| a.total_cmp(b));
    Ok(ns)
}

fn main() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let callee = Instance::new(&mut store, &Module::new(&engine, CALLEE)?, &[])?;
    let f = callee
        .get_func(&mut store, "f")
        .ok_or_else(|| Error::msg("no f"))?;
    let caller = Module::new(&engine, CALLER)?;

    // (a) direct
    let direct = Instance::new(&mut store, &caller, &[f.into()])?;
    // (b) trampoline through table slot 0
    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 1, None),
        Ref::Func(Some(f)),
    )?;
    let tramp = Instance::new(
        &mut store,
        &Module::new(&engine, TRAMPOLINE)?,
        &[table.into()],
    )?;
    let tf = tramp
        .get_func(&mut store, "f")
        .ok_or_else(|| Error::msg("no f"))?;
    let through_trampoline = Instance::new(&mut store, &caller, &[tf.into()])?;
    let tramp_call = Instance::new(
        &mut store,
        &Module::new(&engine, TRAMPOLINE_CALL)?,
        &[table.into()],
    )?;
    let tcf = tramp_call
        .get_func(&mut store, "f")
        .ok_or_else(|| Error::msg("no f"))?;
    let through_call_trampoline = Instance::new(&mut store, &caller, &[tcf.into()])?;
    // (c) a host function forwarding to the callee
    let typed_f = f.typed::<i32, i32>(&store)?;
    let host = Func::wrap(
        &mut store,
        move |mut c: Caller<'_, ()>, x: i32| -> Result<i32> { typed_f.call(&mut c, x) },
    );
    let through_host = Instance::new(&mut store, &caller, &[host.into()])?;

    let mut rows = Vec::new();
    for (name, inst) in [
        ("direct import", direct),
        ("libdl trampoline", through_trampoline),
        ("host forwarding", through_host),
        ("call_indirect tr.", through_call_trampoline),
    ] {
        let run = inst.get_typed_func::<i32, i32>(&mut store, "run")?;
        rows.push((name, measure(&mut store, &run)?));
    }
    let median = |v: &Vec<f64>| v[v.len() / 2];
    let base = median(&rows[0].1);
    println!("one call on wasmtime 48, {} calls x {} runs", CALLS, RUNS);
    println!(
        "{:<18} {:>9} {:>9} {:>9} {:>10}",
        "binding", "min ns", "median ns", "max ns", "vs direct"
    );
    for (name, v) in &rows {
        println!(
            "{:<18} {:>9.2} {:>9.2} {:>9.2} {:>9.2}x",
            name,
            v[0],
            median(v),
            v[v.len() - 1],
            median(v) / base
        );
    }
    let tr = median(&rows[1].1);
    let host = median(&rows[2].1);
    println!("trampoline / direct = {:.2} (target <= 1.3); host forwarding / trampoline = {:.1} (target >= 5)", tr / base, host / tr);
    Ok(())
}
