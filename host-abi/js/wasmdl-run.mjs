#!/usr/bin/env node
// wasmdl-run for Node: runs a WASI preview 1 program with libdl.so, with the
// command line and exit statuses of the wasmtime runner
// (host-abi/wasmtime/src/main.rs):
//
//   node host-abi/js/wasmdl-run.mjs [--dir HOST[::GUEST]]... [--env NAME=VALUE]...
//        [--libdl PATH] [--stack-size BYTES] program.wasm [args...]
//
// Exit status: the program's own (`proc_exit(n)` gives n, returning from
// `_start` gives 0); 134 after a trap; 127 if the process cannot be started;
// 2 for a usage error.

import fs from 'node:fs';
import v8 from 'node:v8';
import { runProcess, ProcessFailure, DEFAULT_STACK_SIZE, EXIT_FATAL } from './wasmdl.mjs';

const USAGE =
  'usage: wasmdl-run [--dir HOST[::GUEST]]... [--env NAME=VALUE]... [--libdl PATH] [--stack-size BYTES] program.wasm [args...]';

/**
 * Parses the command line like the wasmtime runner: options come first, the
 * first other argument is the program, and everything after it belongs to
 * the program. Returns null for --help; throws a message for a usage error.
 */
function parseArgs(argv) {
  const args = [...argv];
  const config = { dirs: [], env: [], libdl: null, stackSize: DEFAULT_STACK_SIZE };
  for (;;) {
    const arg = args.shift();
    if (arg === undefined) throw 'no program given';
    // Accept both `--opt VALUE` and `--opt=VALUE`.
    const eq = arg.indexOf('=');
    const [opt, inline] = arg.startsWith('--') && eq >= 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? args.shift();
      if (v === undefined) throw `${opt} needs a value`;
      return v;
    };
    if (opt === '--dir') {
      const v = value();
      const sep = v.indexOf('::');
      config.dirs.push(sep >= 0 ? [v.slice(0, sep), v.slice(sep + 2)] : [v, v]);
    } else if (opt === '--env') {
      const v = value();
      const sep = v.indexOf('=');
      if (sep < 0) throw `--env ${v}: expected NAME=VALUE`;
      config.env.push([v.slice(0, sep), v.slice(sep + 1)]);
    } else if (opt === '--libdl') {
      config.libdl = value();
    } else if (opt === '--stack-size') {
      const v = value();
      if (!/^\+?[0-9]+$/.test(v) || Number(v) > 0xffffffff) throw `--stack-size ${v}: expected a number of bytes`;
      config.stackSize = Number(v);
    } else if (opt === '-h' || opt === '--help') {
      return null;
    } else if (opt === '--') {
      config.program = args.shift();
      if (config.program === undefined) throw 'no program given';
      break;
    } else if (arg.startsWith('-') && arg !== '-') {
      throw `unknown option ${arg}`;
    } else {
      config.program = arg;
      break;
    }
  }
  config.libdl ??= process.env.WASMDL_LIBDL || null;
  if (config.libdl === null) throw 'no libdl.so: give --libdl PATH or set WASMDL_LIBDL';
  config.args = args;
  return config;
}

// node 20's node:wasi calls are V8 "fast API calls" when wasm calls them
// directly, and a fast call must not start a garbage collection, but
// uvwasi's allocator reports its memory to V8
// (AdjustAmountOfExternalAllocatedMemory), which can: a large fd_write
// (a Lua script writing after building 500,000 strings) then collects
// objects still in use, first the WASI object itself, whose ~WASI destroys a
// locked uvwasi mutex: SIGABRT, exit 134, no message (otherwise heap
// corruption: V8 fatal errors, segfaults). So: ordinary API calls (set
// before any wasm is compiled; tests/real's lua-gc case catches this), and
// the WASI object referenced from the module for the life of the program,
// not only from stack frames.
v8.setFlagsFromString('--no-turbo-fast-api-calls');
let liveWasi = null;

// The JS heap's growth, bounded. What instantiating a module allocates
// outlives the scavenges (V8 makes a wasm instance's object in the old
// generation, and it keeps what it refers to alive), so only full GCs free
// it: in a dlopen/dlclose loop the old generation grew ~4.5 KB per cycle
// between full GCs. Two of V8's sizing rules then made the heap large:
// * it doubles the young generation, up to 16 MiB semi-spaces, when much
//   survives a scavenge; here it stays at its initial size (1 MiB
//   semi-spaces on 64-bit);
// * after a full GC it lets the old generation grow to up to ~4x what
//   survived before the next one (and one full GC in a dozen runs, finishing
//   an incremental marking, kept 15 MiB of the loop's garbage: 110 MiB
//   resident); here to 1.5x, or 8 MiB more, whichever is larger.
// Unbounded, 10,000 cycles took the process to ~100 MiB resident, ~130 MiB
// by 30,000 cycles, where it levelled off: garbage, not retention (with a full
// GC forced every 1,000 cycles the JS heap stays at 4 MiB). Bounded, ~75 MiB.
// The runner's own JavaScript allocates little (wasm code allocates nothing
// on the JS heap), so the extra collections cost no measurable time. V8 reads
// both flags whenever it sizes the heap, so setting them here, at run time,
// takes effect.
v8.setFlagsFromString('--semi-space-growth-factor=1');
v8.setFlagsFromString('--heap-growing-percent=50');

// Not done: compiling libdl.so with TurboFan before the program runs. V8
// (11.3, node 20) runs libdl in Liftoff and tiers up only functions that get
// hot, and a wasm function stays in the tier it was entered in (no on-stack
// replacement), so a first dlopen's loops over 20,000 exports run in
// Liftoff. V8 applies --no-wasm-lazy-compilation, --no-wasm-dynamic-tiering
// and --wasm-tiering-budget set just around libdl's compile to libdl's
// module alone, so it could be done without touching plugins; measured, as
// main-thread CPU time of libdl's work in a first dlopen of
// libsyms10000.so (V8's own compile of those bytes: 3.9 ms):
//   as now                               4.8-5.3 ms
//   eager Liftoff                        4.5 ms, start-up +5 ms
//   smaller tiering budget (2,000)       4.2 ms, +15 ms CPU per process,
//                                        +40 ms with 100 libraries
//   eager Liftoff, then all TurboFan     3.4 ms, +90 ms CPU per process,
//                                        ~+50 ms start-up
// Each costs every process more than it saves a dlopen.

async function main() {
  let config;
  try {
    config = parseArgs(process.argv.slice(2));
  } catch (message) {
    process.stderr.write(`wasmdl-run: ${message}\n${USAGE}\n`);
    return 2;
  }
  if (config === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const fatal = (message) => {
    process.stderr.write(`wasmdl-run: ${message}\n`);
    return EXIT_FATAL;
  };

  let libdl;
  let program;
  try {
    libdl = fs.readFileSync(config.libdl);
  } catch (e) {
    return fatal(`cannot read ${config.libdl}: ${e.message}`);
  }
  try {
    program = fs.readFileSync(config.program);
  } catch (e) {
    return fatal(`cannot read ${config.program}: ${e.message}`);
  }
  const preopens = {};
  for (const [hostPath, guestPath] of config.dirs) {
    try {
      if (!fs.statSync(hostPath).isDirectory()) throw new Error('not a directory');
    } catch (e) {
      return fatal(`cannot open directory ${hostPath}: ${e.message}`);
    }
    preopens[guestPath] = hostPath;
  }

  // node:wasi prints an ExperimentalWarning when loaded; keep stderr the
  // program's own. The listeners must go before the module is imported.
  process.removeAllListeners('warning');
  const { WASI } = await import('node:wasi');
  const wasi = (liveWasi = new WASI({
    version: 'preview1',
    args: [config.program, ...config.args],
    env: Object.fromEntries(config.env),
    preopens,
    // `proc_exit(n)` makes `start` return n instead of ending node at once.
    returnOnExit: true,
  }));

  try {
    const status = runProcess({
      libdl,
      program,
      wasi,
      stackSize: config.stackSize,
      libdlName: config.libdl,
      programName: config.program,
    });
    return status;
  } catch (e) {
    if (!(e instanceof ProcessFailure)) throw e;
    // After a trap, the engine's stack trace (wasm frames included).
    const detail = e.kind === 'trap' && e.cause?.stack ? `error while executing the program:\n${e.cause.stack}` : e.message;
    process.stderr.write(`wasmdl-run: ${detail}\n`);
    return e.exitCode;
  }
}

// Like a native process, only the low 8 bits of the status survive.
process.exitCode = (await main()) & 0xff;
