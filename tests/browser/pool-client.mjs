// runner.mjs's side of the browser pool (pool.mjs): finds the pool of a
// browser, starting it when there is none, and asks it for runs. Kept apart
// from pool.mjs so that a run does not load puppeteer.
//
// The pool's socket name (in Linux's abstract namespace: a NUL, then the
// name; not given to pool.mjs with the NUL, which no argument may hold) holds the user, the
// browser and a hash of the pool's code (pool.mjs, browsers.mjs): a changed
// pool is a new one, and the old one exits when idle. The pool's log:
// $TMPDIR/wasmdl-browser-pool-UID-BROWSER.log.

import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const START_MS = 120_000;

function uid() {
  return process.getuid?.() ?? 0;
}

export function socketName(browser) {
  const hash = crypto.createHash('sha256');
  for (const f of ['pool.mjs', 'browsers.mjs']) hash.update(fs.readFileSync(path.join(here, f)));
  return `wasmdl-browser-pool-${uid()}-${browser}-${hash.digest('hex').slice(0, 12)}`;
}

export function logPath(browser) {
  return path.join(os.tmpdir(), `wasmdl-browser-pool-${uid()}-${browser}.log`);
}

/** A request to the pool: resolves to the response (status, a readable
 *  stream), rejects with the connection's error (ECONNREFUSED: no pool). */
function request(socket, method, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: `\0${socket}`, method, path: url, agent: false }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

function startPool(browser, socket, idle) {
  const log = fs.openSync(logPath(browser), 'a');
  const args = [path.join(here, 'pool.mjs'), '--browser', browser, '--socket', socket, '--idle', String(idle)];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  fs.closeSync(log);
  return child;
}

/**
 * Starts a run in the pool of `browser`: its Worker runs remote.mjs against
 * `base`. Resolves to the pool's reply, which stays open: its body says
 * `started`, and later `error: ...` if the page or the browser fails;
 * destroying it ends the run (the pool terminates the Worker). Starts the
 * pool if none answers (`idle`: its idle limit in seconds).
 */
export async function startRun(browser, base, { idle = 60 } = {}) {
  const socket = socketName(browser);
  const body = JSON.stringify({ base });
  const deadline = Date.now() + START_MS;
  let child = null; // the pool this runner started, until it exits
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    let response;
    try {
      response = await request(socket, 'POST', '/run', body);
    } catch (e) {
      // No pool, or one exiting as we came: start one, unless ours is
      // still starting (or another runner's won the name, and ours exited).
      if (e.code !== 'ECONNREFUSED' && e.code !== 'ENOENT' && e.code !== 'ECONNRESET' && e.code !== 'EPIPE') throw e;
      if (!child || child.exitCode !== null || child.signalCode !== null) child = startPool(browser, socket, idle);
    }
    // 503: a pool that takes no more runs (stopping, or its page is gone),
    // and exits; then another starts.
    if (response?.statusCode === 503) response.resume();
    else if (response) return response;
    if (Date.now() > deadline) throw new Error(`the ${browser} pool did not start (see ${logPath(browser)})`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** Asks the pool of `browser` to stop (when its last run ends); false if
 *  there was none. */
export async function stopPool(browser) {
  try {
    const response = await request(socketName(browser), 'POST', '/stop', '');
    response.resume();
    return true;
  } catch {
    return false;
  }
}

/** The pool's status ({ pid, browser, version, active, runs }), or null. */
export async function poolStatus(browser) {
  try {
    const response = await request(socketName(browser), 'GET', '/status', '');
    let text = '';
    for await (const chunk of response) text += chunk;
    return JSON.parse(text);
  } catch {
    return null;
  }
}
