// A runner for tests/run-scenarios.sh that runs the program in a browser:
// the same page as the browser test (index.html, worker.mjs, wasi.mjs and
// host-abi/js/wasmdl.mjs in a Worker), in headless Chromium or Firefox.
// It takes wasmdl-run's command line, in the current directory:
//
//   node tests/browser/runner.mjs --browser chromium|firefox [--libdl PATH]
//        [--dir HOST[::GUEST]]... [--env NAME=VALUE]... program.wasm [args...]
//
// writes the program's stdout and stderr, and exits with its status (70,
// EX_SOFTWARE, if the browser or the page failed before the program had a
// status; 2 for a usage error). One
// browser per run (2 to 6 s to start), so it is for a suite run by hand
// (make browser-scenarios), not for make test.
//
// What the page's WASI (wasi.mjs) lacks, and so what a program here cannot
// do: write, create or remove files, list directories, sleep (poll_oneoff),
// read stdin. Each preopened directory is read whole at the start, symbolic
// links resolved (a link and its target are one file, one inode).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSERS, launch, runPage } from './browsers.mjs';
import { startServer } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const USAGE =
  'usage: runner.mjs --browser chromium|firefox [--libdl PATH] [--dir HOST[::GUEST]]... [--env NAME=VALUE]... program.wasm [args...]';

const usage = (message) => {
  process.stderr.write(`runner.mjs: ${message}\n${USAGE}\n`);
  process.exit(2);
};
const opts = { browser: null, libdl: process.env.WASMDL_LIBDL ?? path.join(root, 'build/libdl.so'), dirs: [], env: {} };
const argv = process.argv.slice(2);
while (argv.length && argv[0].startsWith('--')) {
  const arg = argv.shift();
  const eq = arg.indexOf('=');
  const [opt, inline] = eq >= 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
  const value = () => inline ?? argv.shift() ?? usage(`${opt} needs a value`);
  if (opt === '--browser') opts.browser = value();
  else if (opt === '--libdl') opts.libdl = value();
  else if (opt === '--dir') {
    const [host, guest] = value().split('::');
    opts.dirs.push({ host, guest: guest ?? host });
  } else if (opt === '--env') {
    const v = value();
    const sep = v.indexOf('=');
    if (sep < 0) usage(`--env ${v}: expected NAME=VALUE`);
    opts.env[v.slice(0, sep)] = v.slice(sep + 1);
  } else if (opt === '--') break;
  else usage(`unknown option ${opt}`);
}
if (!BROWSERS[opts.browser]) usage('--browser chromium or firefox');
const [program, ...args] = argv;
if (!program) usage('no program');

/**
 * The tree of directory `dir` (served under `url`, the directory `top`),
 * as worker.mjs takes it: { name: url or tree }. A symbolic link to a file
 * under `top` gets its target's url; other links are left out.
 */
function listTree(dir, top, url) {
  const tree = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    let real = full;
    if (entry.isSymbolicLink()) {
      try {
        real = fs.realpathSync(full);
      } catch {
        continue; // dangling
      }
      if (!real.startsWith(top + path.sep) || !fs.statSync(real).isFile()) continue;
    }
    const rel = path.relative(top, real).split(path.sep).map(encodeURIComponent).join('/');
    if (entry.isDirectory()) tree[entry.name] = listTree(full, top, url);
    else if (fs.statSync(real).isFile()) tree[entry.name] = `${url}/${rel}`;
  }
  return tree;
}

const mounts = {};
const dirs = {};
for (const [i, { host, guest }] of opts.dirs.entries()) {
  const top = fs.realpathSync(host);
  mounts[`/fs/${i}`] = top;
  dirs[guest] = listTree(top, top, `/fs/${i}`);
}
const programPath = fs.realpathSync(program);
mounts['/program'] = path.dirname(programPath);
const config = {
  libdl: '/libdl.so',
  program: `/program/${encodeURIComponent(path.basename(programPath))}`,
  args: [program, ...args],
  env: opts.env,
  dirs,
};

const { server, url } = await startServer({ libdl: opts.libdl, mounts, configs: { run: config } });
let browser;
let status = 70; // EX_SOFTWARE: no status from the program
try {
  browser = await launch(opts.browser);
  // No time limit: run-scenarios.sh has its own (SCENARIO_TIMEOUT).
  const run = await runPage(browser, `${url}?config=run`, 0);
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  if (run.status !== null) status = Number(run.status);
  else process.stderr.write(`runner.mjs [${opts.browser}]: ${run.state}\n${run.console.join('\n')}\n`);
} catch (e) {
  process.stderr.write(`runner.mjs [${opts.browser}]: ${e.message}\n`);
} finally {
  await browser?.close().catch(() => {});
  server.close();
}
process.exitCode = status;
