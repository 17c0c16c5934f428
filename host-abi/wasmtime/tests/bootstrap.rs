//! The "Starting a process" bootstrap, with a fake libdl and program in WAT,
//! through the library (`run_bytes`) and through the `wasmdl-run` binary.

use std::path::PathBuf;
use std::process::Command;

use wasmdl_wasmtime::*;

/// A fake libdl.so. `dylink.0` (the first section) says: 16 bytes of data
/// aligned to 2^3, 2 table slots aligned to 2^2; plus an unknown subsection
/// (type 3, 2 bytes) before it, which must be skipped. `__wasm_call_ctors`
/// stores 1 at `__memory_base`; `__wasmdl_init` records its arguments after
/// it and returns `$init_result`.
fn libdl_wat(init_result: i32, extra_import: &str) -> String {
    format!(
        r#"(module
  (@custom "dylink.0" (before first) "\03\02\aa\bb\01\04\10\03\02\02")
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 1 funcref))
  (import "env" "__stack_pointer" (global $sp (mut i32)))
  (import "env" "__memory_base" (global $mb i32))
  (import "env" "__table_base" (global $tb i32))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "last_error" (func (param i32 i32) (result i32)))
  {extra_import}
  (func (export "__wasm_call_ctors") (i32.store (global.get $mb) (i32.const 1)))
  (func (export "__wasmdl_init") (param i32 i32 i32 i32) (result i32)
    (i32.store offset=4 (global.get $mb) (local.get 0))
    (i32.store offset=8 (global.get $mb) (local.get 1))
    (i32.store offset=12 (global.get $mb) (local.get 2))
    (i32.store offset=16 (global.get $mb) (local.get 3))
    (i32.const {init_result}))
  (func (export "answer") (result i32) (i32.const 42))
  (func (export "sp") (result i32) (global.get $sp))
  (func (export "memory_base") (result i32) (global.get $mb))
  (func (export "table_base") (result i32) (global.get $tb))
)"#
    )
}

/// A program: checks what the bootstrap set up, exits with 10 + the first
/// failed check, or calls `proc_exit(answer())`.
/// Memory: 2 pages, so libdl's stack is [128 KiB, 128 KiB + 1 MiB); its data
/// follows at 128 KiB + 1 MiB (already 8-aligned). Table: 3 slots, so
/// `__table_base` = 4 (3 rounded up to 2^2) and the table grows to 6.
const PROGRAM: &str = r#"(module
  (import "env" "memory" (memory 2))
  (import "env" "__indirect_function_table" (table 3 funcref))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "libdl.so" "answer" (func $answer (result i32)))
  (import "libdl.so" "sp" (func $sp (result i32)))
  (import "libdl.so" "memory_base" (func $mb (result i32)))
  (import "libdl.so" "table_base" (func $tb (result i32)))
  (func $check (param i32 i32)
    (if (i32.eqz (local.get 0)) (then (call $exit (i32.add (i32.const 10) (local.get 1))))))
  (func (export "_start")
    (call $check (i32.eq (call $sp) (i32.const 0x120000)) (i32.const 1))
    (call $check (i32.eq (call $mb) (i32.const 0x120000)) (i32.const 2))
    (call $check (i32.eq (call $tb) (i32.const 4)) (i32.const 3))
    (call $check (i32.eq (table.size) (i32.const 6)) (i32.const 4))
    (call $check (i32.eq (memory.size) (i32.const 0x13)) (i32.const 5))
    ;; The constructor ran, and __wasmdl_init got handles (1, 1, 2, 2).
    (call $check (i32.eq (i32.load (i32.const 0x120000)) (i32.const 1)) (i32.const 6))
    (call $check (i32.eq (i32.load (i32.const 0x120004)) (i32.const 1)) (i32.const 7))
    (call $check (i32.eq (i32.load (i32.const 0x120008)) (i32.const 1)) (i32.const 8))
    (call $check (i32.eq (i32.load (i32.const 0x12000c)) (i32.const 2)) (i32.const 9))
    (call $check (i32.eq (i32.load (i32.const 0x120010)) (i32.const 2)) (i32.const 10))
    (call $exit (call $answer)))
)"#;

fn bin(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("valid wat")
}

fn config() -> Config {
    Config::new("program.wasm", "libdl.so")
}

fn run_wat(libdl: &str, program: &str) -> Result<i32, Failure> {
    run_bytes(&config(), &bin(libdl), &bin(program))
}

#[test]
fn dylink_mem_info_is_parsed() {
    let info = parse_dylink_mem_info(&bin(&libdl_wat(0, ""))).expect("parses");
    assert_eq!(
        info,
        DylinkMemInfo {
            memory_size: 16,
            memory_align: 3,
            table_size: 2,
            table_align: 2
        }
    );
    // Hostile inputs are errors, not panics.
    assert!(parse_dylink_mem_info(b"").is_err());
    assert!(parse_dylink_mem_info(b"\0asm\x01\0\0\0").is_err());
    assert!(
        parse_dylink_mem_info(b"\0asm\x01\0\0\0\0\xff\xff\xff\xff\x0f").is_err(),
        "section past the end"
    );
    assert!(
        parse_dylink_mem_info(b"\0asm\x01\0\0\0\0\x0a\x08dylink.0\x01\x05").is_err(),
        "subsection past the end"
    );
    assert!(
        parse_dylink_mem_info(b"\0asm\x01\0\0\0\0\x0b\x08dylink.0\x01\x80").is_err(),
        "truncated LEB"
    );
    assert!(
        parse_dylink_mem_info(b"\0asm\x01\0\0\0\0\x05\x04name").is_err(),
        "another custom section"
    );
    assert!(parse_dylink_mem_info(&bin("(module)")).is_err());
    let no_mem_info = b"\0asm\x01\0\0\0\0\x09\x08dylink.0";
    assert_eq!(
        parse_dylink_mem_info(no_mem_info),
        Ok(DylinkMemInfo::default())
    );
}

#[test]
fn program_runs_and_its_exit_status_comes_through() {
    assert_eq!(run_wat(&libdl_wat(0, ""), PROGRAM).expect("runs"), 42);
}

#[test]
fn returning_from_start_is_status_zero() {
    let program = r#"(module (import "env" "memory" (memory 1)) (import "env" "__indirect_function_table" (table 0 funcref))
                       (import "libdl.so" "answer" (func (result i32))) (func (export "_start")))"#;
    assert_eq!(run_wat(&libdl_wat(0, ""), program).expect("runs"), 0);
}

#[test]
fn a_trap_is_reported_as_a_trap() {
    let program = r#"(module (import "env" "memory" (memory 1)) (import "env" "__indirect_function_table" (table 0 funcref))
                       (func (export "_start") unreachable))"#;
    let failure = run_wat(&libdl_wat(0, ""), program).expect_err("traps");
    assert!(matches!(failure, Failure::Trap(_)), "{failure}");
    assert_eq!(failure.exit_code(), EXIT_TRAP);
    assert!(failure.to_string().contains("unreachable"), "{failure}");
}

#[test]
fn fatal_bootstrap_errors() {
    let fatal = |libdl: &str, program: &str, needle: &str| {
        let failure = run_wat(libdl, program).expect_err("fatal");
        assert!(matches!(failure, Failure::Fatal(_)), "{failure}");
        assert_eq!(failure.exit_code(), EXIT_FATAL);
        assert!(
            failure.to_string().contains(needle),
            "{needle:?} not in {failure}"
        );
    };
    let ok = libdl_wat(0, "");
    fatal("(module)", PROGRAM, "dylink.0");
    fatal(
        &libdl_wat(0, r#"(import "env" "foo" (func))"#),
        PROGRAM,
        "env.foo",
    );
    fatal(
        &libdl_wat(0, r#"(import "wasmdl_host_v0" "nope" (func))"#),
        PROGRAM,
        "wasmdl_host_v0.nope",
    );
    fatal(&libdl_wat(1, ""), PROGRAM, "__wasmdl_init returned 1");
    let missing = r#"(module (import "env" "memory" (memory 1)) (import "env" "__indirect_function_table" (table 0 funcref))
                       (import "libdl.so" "dlnope" (func)) (func (export "_start")))"#;
    fatal(&ok, missing, "libdl.so.dlnope");
    let no_memory = r#"(module (import "env" "__indirect_function_table" (table 0 funcref)) (func (export "_start")))"#;
    fatal(&ok, no_memory, "env.memory");
    let other = r#"(module (import "env" "memory" (memory 1)) (import "env" "__indirect_function_table" (table 0 funcref))
                     (import "env" "x" (func)) (func (export "_start")))"#;
    fatal(&ok, other, "env.x");
    // A maximum that leaves no room for libdl's region.
    let small = r#"(module (import "env" "memory" (memory 1 1)) (import "env" "__indirect_function_table" (table 0 funcref))
                     (func (export "_start")))"#;
    fatal(&ok, small, "memory");
    let failure = run_bytes(&config(), b"junk", &bin(PROGRAM)).expect_err("fatal");
    assert_eq!(failure.exit_code(), EXIT_FATAL);
}

#[test]
fn libdl_without_wasmdl_init_is_allowed() {
    // No __wasmdl_init, no constructors: the program must skip those checks.
    let libdl = r#"(module (@custom "dylink.0" (before first) "")
                     (import "env" "memory" (memory 1)) (func (export "answer") (result i32) (i32.const 5)))"#;
    let program = r#"(module (import "env" "memory" (memory 1)) (import "env" "__indirect_function_table" (table 0 funcref))
                       (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
                       (import "libdl.so" "answer" (func $answer (result i32)))
                       (func (export "_start") (call $exit (call $answer))))"#;
    assert_eq!(run_wat(libdl, program).expect("runs"), 5);
}

// ---- the wasmdl-run binary --------------------------------------------------

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmdl-run-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn runner() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasmdl-run"));
    cmd.env_remove("WASMDL_LIBDL");
    cmd
}

#[test]
fn runner_passes_exit_status_args_env_and_dirs() {
    let dir = temp_dir("run");
    std::fs::write(dir.join("libdl.so"), bin(&libdl_wat(0, ""))).unwrap();
    std::fs::write(dir.join("main.wasm"), bin(PROGRAM)).unwrap();
    let status = runner()
        .current_dir(&dir)
        .args(["--libdl", "libdl.so", "main.wasm"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(42));
    // $WASMDL_LIBDL instead of --libdl.
    let status = runner()
        .current_dir(&dir)
        .env("WASMDL_LIBDL", dir.join("libdl.so"))
        .arg("main.wasm")
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(42));

    // A program that exits with argc * 10 + environ count * 2 + (preopen fd 3
    // exists). (wasmtime-wasi allows exit statuses below 126 only.)
    let counter = r#"(module
      (import "env" "memory" (memory 1)) (import "env" "__indirect_function_table" (table 0 funcref))
      (import "wasi_snapshot_preview1" "args_sizes_get" (func $args (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_prestat_get" (func $pre (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (func (export "_start")
        (drop (call $args (i32.const 0) (i32.const 4)))
        (drop (call $env (i32.const 8) (i32.const 12)))
        (call $exit (i32.add (i32.add (i32.mul (i32.load (i32.const 0)) (i32.const 10))
                                      (i32.mul (i32.load (i32.const 8)) (i32.const 2)))
                             (i32.eqz (call $pre (i32.const 3) (i32.const 16)))))))"#;
    std::fs::write(dir.join("counter.wasm"), bin(counter)).unwrap();
    let out = runner()
        .current_dir(&dir)
        .args([
            "--libdl",
            "libdl.so",
            "--env",
            "A=1",
            "--dir",
            ".::/t",
            "counter.wasm",
            "x",
            "y",
        ])
        .output()
        .unwrap();
    // 3 args (counter.wasm x y) * 10 + 1 env * 2 + 1 preopen = 33.
    assert_eq!(
        out.status.code(),
        Some(33),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn runner_exit_codes_for_errors() {
    let dir = temp_dir("errors");
    std::fs::write(dir.join("libdl.so"), bin(&libdl_wat(0, ""))).unwrap();
    let trap = r#"(module (import "env" "memory" (memory 1)) (import "env" "__indirect_function_table" (table 0 funcref))
                    (func (export "_start") unreachable))"#;
    std::fs::write(dir.join("trap.wasm"), bin(trap)).unwrap();

    let out = runner()
        .current_dir(&dir)
        .args(["--libdl", "libdl.so", "trap.wasm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_TRAP));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("wasmdl-run: ") && stderr.contains("wasm backtrace"),
        "{stderr}"
    );

    let out = runner()
        .current_dir(&dir)
        .args(["--libdl", "libdl.so", "missing.wasm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_FATAL));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.wasm"));

    for args in [
        &[][..],
        &["--libdl"][..],
        &["--bogus", "x.wasm"][..],
        &["--stack-size", "lots", "x.wasm"][..],
        &["trap.wasm"][..],
    ] {
        let out = runner().current_dir(&dir).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage: wasmdl-run"),
            "{args:?}"
        );
    }
}
