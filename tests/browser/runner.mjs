// A runner with wasmdl-run's command line that runs the program in a
// browser: in a Web Worker of a page of headless Chromium or Firefox, with
// host-abi/js/wasmdl.mjs and the page's WASI (wasi.mjs) over the host's
// files. For run-scenarios.sh, the conformance suite, the hostile corpus,
// tests/real and CPython's python3 launcher:
//
//   node tests/browser/runner.mjs --browser chromium|firefox [--libdl PATH]
//        [--dir HOST[::GUEST]]... [--env NAME=VALUE]... [--stack-size BYTES]
//        [--timeout SECONDS] program.wasm [args...]
//   node tests/browser/runner.mjs --browser chromium|firefox --stop
//
// It writes the program's stdout and stderr as they come, passes its own
// stdin to the program when the program reads it, and exits with the
// program's status, or:
//   70   (EX_SOFTWARE) the browser, the page or the Worker failed before the
//        program had a status (said so on stderr)
//   124  the run took longer than --timeout (default 600 s, or
//        WASMDL_BROWSER_TIMEOUT; 0: no limit)
//   127  libdl.so, the program or a --dir cannot be read
//   2    a usage error
// After a trap the status is 134, as with the other runners ("wasmdl: ..."
// on stderr).
//
// The browser is not started per run: a pool (pool.mjs), started by the
// first run and reached over a local socket, keeps one browser and one page
// and starts a fresh Worker per run; it exits after 60 s without runs
// (--idle SECONDS or WASMDL_BROWSER_POOL_IDLE sets it), or when stopped
// (--stop: it ends once its last run does). Per run this process serves the
// Worker's code, libdl.so, the program and the program's files, stdin,
// stdout and stderr over HTTP on 127.0.0.1 (run-host.mjs; remote.mjs is the
// Worker's side; HTTP and a WebSocket). The program's files are the host's,
// read and written when the program asks, as under wasmtime (wasi.mjs and
// remote.mjs say what differs). A run the pool fails before its Worker asked
// for anything (the pool's page had crashed) is tried again.
//
// WASMDL_BROWSER_TRACE=1 prints the Worker's requests and, at the end, how
// many calls of each kind it made; WASMDL_BROWSER_TRANSPORT=xhr makes the
// calls by XMLHttpRequest (remote.mjs). The pool's log: see pool-client.mjs.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRunHost } from './run-host.mjs';
import { startRun, stopPool } from './pool-client.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const BROWSER_NAMES = ['chromium', 'firefox'];
const USAGE =
  'usage: runner.mjs --browser chromium|firefox [--libdl PATH] [--dir HOST[::GUEST]]... [--env NAME=VALUE]... ' +
  '[--stack-size BYTES] [--timeout SECONDS] [--idle SECONDS] program.wasm [args...]\n' +
  '       runner.mjs --browser chromium|firefox --stop';
const EX_SOFTWARE = 70;
const EXIT_TIMEOUT = 124;
const EXIT_FATAL = 127;

const usage = (message) => {
  process.stderr.write(`runner.mjs: ${message}\n${USAGE}\n`);
  process.exit(2);
};
const number = (opt, v) => (/^[0-9]+$/.test(v) ? Number(v) : usage(`${opt} ${v}: expected a number`));
const opts = {
  browser: null,
  libdl: process.env.WASMDL_LIBDL ?? path.join(root, 'build/libdl.so'),
  dirs: [],
  env: {},
  stackSize: null,
  timeout: Number(process.env.WASMDL_BROWSER_TIMEOUT ?? 600),
  idle: Number(process.env.WASMDL_BROWSER_POOL_IDLE ?? 60),
  stop: false,
};
const argv = process.argv.slice(2);
while (argv.length && argv[0].startsWith('--')) {
  const arg = argv.shift();
  const eq = arg.indexOf('=');
  const [opt, inline] = eq >= 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
  const value = () => inline ?? argv.shift() ?? usage(`${opt} needs a value`);
  if (opt === '--browser') opts.browser = value();
  else if (opt === '--libdl') opts.libdl = value();
  else if (opt === '--dir') {
    const v = value();
    const sep = v.indexOf('::');
    opts.dirs.push(sep >= 0 ? { host: v.slice(0, sep), guest: v.slice(sep + 2) } : { host: v, guest: v });
  } else if (opt === '--env') {
    const v = value();
    const sep = v.indexOf('=');
    if (sep < 0) usage(`--env ${v}: expected NAME=VALUE`);
    opts.env[v.slice(0, sep)] = v.slice(sep + 1);
  } else if (opt === '--stack-size') opts.stackSize = number(opt, value());
  else if (opt === '--timeout') opts.timeout = number(opt, value());
  else if (opt === '--idle') opts.idle = number(opt, value());
  else if (opt === '--stop') opts.stop = true;
  else if (opt === '--') break;
  else usage(`unknown option ${opt}`);
}
if (!BROWSER_NAMES.includes(opts.browser)) usage('--browser chromium or firefox');
if (opts.stop) {
  await stopPool(opts.browser);
  process.exit(0);
}
const [program, ...args] = argv;
if (!program) usage('no program');

const say = (message) => process.stderr.write(`runner.mjs [${opts.browser}]: ${message}\n`);
const fatal = (message) => {
  say(message);
  process.exit(EXIT_FATAL);
};
for (const [what, file] of [['libdl.so', opts.libdl], ['the program', program]]) {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    if (!fs.statSync(file).isFile()) throw new Error('not a file');
  } catch (e) {
    fatal(`cannot read ${what} ${file}: ${e.message}`);
  }
}
const roots = opts.dirs.map(({ host }) => {
  try {
    if (!fs.statSync(host).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    fatal(`cannot open directory ${host}: ${e.message}`);
  }
  return path.resolve(host);
});

/** Ends the run: output flushed, everything closed, the status returned. */
let finished = false;
let host = null;
let pool = null;
async function finish(status) {
  if (finished) return;
  finished = true;
  pool?.destroy();
  host?.close();
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write('', resolve))));
  process.exit(status & 0xff);
}

host = await startRunHost({
  files: { 'libdl.so': path.resolve(opts.libdl), 'program.wasm': path.resolve(program) },
  config: {
    args: [program, ...args],
    env: opts.env,
    dirs: opts.dirs.map(({ guest }) => guest),
    stackSize: opts.stackSize,
    libdlName: opts.libdl,
    transport: process.env.WASMDL_BROWSER_TRANSPORT,
  },
  roots,
  onOut: (fd, bytes) => (fd === 2 ? process.stderr : process.stdout).write(bytes),
  onExit: (status) => finish(Number(status)),
  onError: (message) => {
    say(`failed: ${message}`);
    finish(EX_SOFTWARE);
  },
});

if (opts.timeout > 0) {
  setTimeout(() => {
    say(`timed out after ${opts.timeout} s`);
    finish(EXIT_TIMEOUT);
  }, opts.timeout * 1000).unref();
}

// A run the pool fails before the browser asked this process for anything
// (the pool's page had crashed, say) never started: it is tried again,
// twice at most, with a new pool if need be.
async function start(tries) {
  try {
    pool = await startRun(opts.browser, host.url, { idle: opts.idle });
  } catch (e) {
    say(e.message);
    finish(EX_SOFTWARE);
    return;
  }
  let said = '';
  pool.setEncoding('utf8');
  pool.on('data', (text) => (said += text));
  const failed = (message) => {
    if (finished) return;
    if (!host.touched && tries > 0) start(tries - 1);
    else {
      say(message);
      finish(EX_SOFTWARE);
    }
  };
  pool.on('end', () => {
    const error = said.split('\n').find((line) => line.startsWith('error: '));
    failed(error ? error.slice('error: '.length) : `the pool ended the run: ${said.trim() || `HTTP ${pool.statusCode}`}`);
  });
  pool.on('error', (e) => failed(`the browser pool went away: ${e.message}`));
}
await start(2);
