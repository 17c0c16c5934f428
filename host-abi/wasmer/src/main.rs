//! `wasmdl-run-wasmer`: runs a WASI preview 1 program with `libdl.so` on
//! Wasmer, with `wasmdl-run`'s command line. See `host-abi/SPEC.md`.
//!
//! Exit status: the program's own (`proc_exit(n)` gives n, returning from
//! `_start` gives 0); 134 after a trap; 127 if the process cannot be started;
//! 2 for a usage error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use wasmdl_wasmer::cache::ModuleCache;
use wasmdl_wasmer::process::{engine, run, Config, DEFAULT_STACK_SIZE};

const USAGE: &str = "usage: wasmdl-run-wasmer [--dir HOST[::GUEST]]... [--env NAME=VALUE]... [--libdl PATH] [--stack-size BYTES] [--cache DIR] program.wasm [args...]\n       wasmdl-run-wasmer --engine-info";

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::EngineInfo) => {
            engine_info();
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("wasmdl-run-wasmer: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (engine, settings) = engine();
    let cache = Arc::new(ModuleCache::new(config.cache_dir.clone(), &settings));
    let status = match run(&config, &engine, &cache) {
        Ok(status) => status,
        Err(failure) => {
            eprintln!("wasmdl-run-wasmer: {failure}");
            failure.exit_code()
        }
    };
    // WASMDL_CACHE_STATS (in the runner's environment): what the compiled-
    // module cache did, on stderr, in the words of wasmdl-run (which
    // tests/cache/run.sh reads).
    if std::env::var_os("WASMDL_CACHE_STATS").is_some() {
        let s = cache.stats();
        eprintln!(
            "wasmdl-run: cache: {} compiled, {} from memory, {} from disk, {} rejected, {} written",
            s.compiles, s.memory_hits, s.disk_hits, s.rejected, s.written
        );
    }
    // Like a native process, only the low 8 bits of the status survive.
    ExitCode::from(status as u8)
}

/// `--engine-info`: the engine, its features, and what it lacks.
fn engine_info() {
    let (engine, _) = engine();
    for line in wasmdl_wasmer::process::engine_info(&engine) {
        println!("{line}");
    }
}

enum Command {
    Run(Config),
    Help,
    EngineInfo,
}

/// Parses the command line by hand, as wasmdl-run does: options come first,
/// the first other argument is the program, and everything after it belongs
/// to the program.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut dirs = Vec::new();
    let mut env = Vec::new();
    let mut libdl: Option<PathBuf> = None;
    let mut stack_size = DEFAULT_STACK_SIZE;
    let mut cache_dir: Option<PathBuf> = None;
    let program = loop {
        let Some(arg) = args.next() else {
            return Err("no program given".into());
        };
        // Accept both `--opt VALUE` and `--opt=VALUE`.
        let (opt, inline) = match arg.split_once('=') {
            Some((opt, value)) if opt.starts_with("--") => {
                (opt.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{opt} needs a value"))
        };
        match opt.as_str() {
            "--dir" => {
                let v = value()?;
                let (host, guest) = match v.split_once("::") {
                    Some((host, guest)) => (host.to_string(), guest.to_string()),
                    None => (v.clone(), v.clone()),
                };
                dirs.push((PathBuf::from(host), guest));
            }
            "--env" => {
                let v = value()?;
                let Some((name, val)) = v.split_once('=') else {
                    return Err(format!("--env {v}: expected NAME=VALUE"));
                };
                env.push((name.to_string(), val.to_string()));
            }
            "--libdl" => libdl = Some(PathBuf::from(value()?)),
            "--stack-size" => {
                let v = value()?;
                stack_size = v
                    .parse()
                    .map_err(|_| format!("--stack-size {v}: expected a number of bytes"))?;
            }
            "--cache" => cache_dir = Some(PathBuf::from(value()?)),
            "--engine-info" => return Ok(Command::EngineInfo),
            "-h" | "--help" => return Ok(Command::Help),
            "--" => break args.next().ok_or("no program given")?,
            _ if arg.starts_with('-') && arg != "-" => return Err(format!("unknown option {arg}")),
            _ => break arg,
        }
    };
    let libdl = match libdl.or_else(|| std::env::var_os("WASMDL_LIBDL").map(PathBuf::from)) {
        Some(path) => path,
        None => return Err("no libdl.so: give --libdl PATH or set WASMDL_LIBDL".into()),
    };
    let mut config = Config::new(program, libdl);
    config.args = args.collect();
    config.dirs = dirs;
    config.env = env;
    config.stack_size = stack_size;
    // Compiled code kept across runs: --cache DIR, or WASMDL_CACHE=DIR in
    // the runner's own environment (not the program's); empty means none.
    config.cache_dir = cache_dir
        .or_else(|| std::env::var_os("WASMDL_CACHE").map(PathBuf::from))
        .filter(|d| !d.as_os_str().is_empty());
    Ok(Command::Run(config))
}
