// The browser pool: one headless browser, kept running across runs, so that
// a run by runner.mjs costs a Worker's start, not a browser's (Firefox takes
// ~3-5 s to start). runner.mjs starts it on first use (pool-client.mjs) and
// talks to it over a Unix socket in Linux's abstract namespace (no file to
// go stale: the name is free again once this process is gone):
//
//   node tests/browser/pool.mjs --browser chromium|firefox --socket NAME [--idle SECONDS]
//
// (NAME without the abstract namespace's leading NUL.) It launches the
// browser with puppeteer (browsers.mjs), opens one page, served by its own
// HTTP server on 127.0.0.1, and then lets puppeteer go: a WebDriver BiDi or
// DevTools session watches every request of the page (Firefox keeps their
// bodies for it), which made each of a program's requests several times
// slower. From then on the page takes its orders by long polling (POST
// /next): start a Worker for a run, stop it. Requests on the socket:
//   POST /run    body { base }: the page starts a fresh module Worker running
//                remote.mjs's runRemote(base), base being the run's own
//                server (run-host.mjs), which the Worker talks to directly.
//                The reply says `started` and stays open; when the runner
//                closes the connection (its run is over, it timed out, it was
//                killed), the Worker is terminated. If the page stops
//                polling (it crashed), the reply ends with `error: ...`.
//   POST /stop   stop taking runs; exit when the last one ends
//   GET /status  { pid, browser, version, active, runs }
// It exits, and stops the browser, after --idle seconds (default 60) with
// no run, when stopped, on SIGTERM, SIGINT or SIGHUP, if the browser goes
// away, or if the page stops polling. (Killed with SIGKILL, it leaves the
// browser behind.) The page reloads itself every RECYCLE_RUNS runs, when
// no run is going on.

import http from 'node:http';
import fs from 'node:fs';
import { BROWSERS, launch } from './browsers.mjs';

const RECYCLE_RUNS = 200;
// The page always has a poll waiting here, but for the moment between an
// answer and its next poll; a poll with nothing to do is answered after
// POLL_HOLD_MS. A page that has not polled again PAGE_LATE_MS after an
// answer is gone (its process crashed, say): the pool ends its runs and
// exits, and the next runner starts a new one. (A poll broken off by a
// crash is not seen here: the browser keeps the connection.)
const POLL_HOLD_MS = 2000;
const PAGE_LATE_MS = 5000;

const opts = { idle: 60 };
const argv = process.argv.slice(2);
while (argv.length) {
  const opt = argv.shift();
  const value = argv.shift();
  if (opt === '--browser') opts.browser = value;
  else if (opt === '--socket') opts.socket = value;
  else if (opt === '--idle') opts.idle = Number(value);
  else {
    console.error(`pool.mjs: unknown option ${opt}`);
    process.exit(2);
  }
}
if (!BROWSERS[opts.browser] || !opts.socket) {
  console.error('usage: pool.mjs --browser chromium|firefox --socket NAME [--idle SECONDS]');
  process.exit(2);
}
const log = (message) => console.log(`${new Date().toISOString()} pool [${opts.browser} ${process.pid}]: ${message}`);

// The page. It is cross-origin isolated (COOP and COEP headers), for a
// SharedArrayBuffer per run: the Worker's synchronous calls go through it
// and the page's WebSocket to the run's server (remote.mjs, sharedCaller),
// ~0.4 ms a call where a synchronous XMLHttpRequest from the Worker takes
// ~2-3 ms. A Worker of another origin's module is not allowed, so a blob:
// module imports remote.mjs from the run's server. A Worker that cannot even
// load (its module does not fetch or parse) says so to the runner, as the
// Worker itself would.
const PAGE = `<!doctype html><meta charset="utf-8"><title>wasmdl pool</title>
<script>
const SHARED_BYTES = 8 + (5 << 20); // remote.mjs's SHARED_BYTES
const runs = new Map();
function frame(message) {
  const json = new TextEncoder().encode(JSON.stringify(message));
  const body = new Uint8Array(4 + json.length);
  new DataView(body.buffer).setUint32(0, json.length, true);
  body.set(json, 4);
  return body;
}
function start(id, base) {
  const shared = self.crossOriginIsolated ? new SharedArrayBuffer(SHARED_BYTES) : null;
  const source = 'import { runRemote } from ' + JSON.stringify(base + 'remote.mjs') + ';' +
    (shared ? 'self.onmessage = ({ data }) => runRemote(' + JSON.stringify(base) + ', data);'
            : 'runRemote(' + JSON.stringify(base) + ');');
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url, { type: 'module' });
  URL.revokeObjectURL(url);
  const run = { worker };
  // Said to the runner by HTTP, the Worker being unable to.
  const fail = (message) => fetch(base + 'rpc', { method: 'POST', body: frame({ op: 'error', message }) }).catch(() => {});
  worker.onerror = (e) => {
    e.preventDefault();
    fail('the Worker failed: ' + (e.message || 'its module did not load (' + base + 'remote.mjs)'));
  };
  if (shared) {
    const state = new Int32Array(shared, 0, 2);
    const bytes = new Uint8Array(shared, 8);
    let waiting = false;
    let queued = null;
    const answer = (reply) => {
      if (reply.length > bytes.length) reply = frame({ errno: 61, message: 'the reply does not fit' });
      bytes.set(reply);
      waiting = false;
      Atomics.store(state, 1, reply.length);
      Atomics.store(state, 0, 1);
      Atomics.notify(state, 0);
    };
    const ws = new WebSocket(base.replace(/^http/, 'ws') + 'ws');
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (queued) ws.send(queued);
      queued = null;
    };
    ws.onmessage = ({ data }) => answer(new Uint8Array(data));
    ws.onclose = () => {
      if (!runs.has(id)) return; // stopped
      fail("the page's WebSocket to the runner closed");
      if (waiting) answer(frame({ errno: 29, message: 'the runner closed the connection' }));
    };
    worker.onmessage = ({ data }) => {
      if (data !== 'call') return;
      waiting = true;
      const request = bytes.slice(0, Atomics.load(state, 1));
      if (ws.readyState === WebSocket.OPEN) ws.send(request);
      else if (ws.readyState === WebSocket.CONNECTING) queued = request;
      else answer(frame({ errno: 29, message: 'the runner closed the connection' }));
    };
    worker.postMessage(shared);
    run.ws = ws;
  }
  runs.set(id, run);
}
function stop(id) {
  const run = runs.get(id);
  runs.delete(id);
  run?.worker.terminate();
  run?.ws?.close();
}
(async () => {
  for (;;) {
    let orders;
    try {
      const state = JSON.stringify({ runs: runs.size, isolated: self.crossOriginIsolated });
      const r = await fetch('/next', { method: 'POST', body: state });
      orders = await r.json();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    for (const o of orders) {
      if (o.start) start(o.start, o.base);
      else if (o.stop) stop(o.stop);
      else if (o.reload) return location.reload();
    }
  }
})();
</script>`;

let version = '';
let proc = null; // the browser's process
let active = 0;
let runs = 0;
let pageRuns = 0;
let nextId = 1;
let lastActivity = Date.now();
let draining = false; // asked to stop: no new runs, exit after the last
let exiting = false;
const open = new Map(); // run id -> its reply
const orders = [];
let poll = null; // the page's waiting /next request: { res, timer }
let lastAnswer = Date.now(); // when the last poll was answered
let pageReady;
let pageState = null; // the page's first poll: { runs, isolated }
const pageReadyPromise = new Promise((resolve) => (pageReady = resolve));

function answerPoll() {
  if (!poll) return;
  const { res, timer } = poll;
  poll = null;
  lastAnswer = Date.now();
  clearTimeout(timer);
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(orders.splice(0)));
}
function order(o) {
  orders.push(o);
  answerPoll();
}

const pageServer = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/next') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (!pageState) {
        try {
          pageState = JSON.parse(body);
        } catch {
          pageState = {};
        }
        pageReady();
      }
      if (poll) answerPoll();
      poll = { res, timer: setTimeout(answerPoll, POLL_HOLD_MS) };
      if (orders.length) answerPoll();
    });
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
  }).end(PAGE);
});
pageServer.keepAliveTimeout = 60_000;

async function start() {
  await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  const pageUrl = `http://127.0.0.1:${pageServer.address().port}/`;
  const started = Date.now();
  const browser = await launch(opts.browser);
  proc = browser.process();
  try {
    version = await browser.version();
    const page = (await browser.pages())[0] ?? (await browser.newPage());
    await page.goto(pageUrl);
    await browser.disconnect();
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  proc.on('exit', () => {
    if (exiting) return;
    failRuns('the browser went away');
    shutdown('the browser went away');
  });
  await pageReadyPromise;
  const calls = pageState.isolated
    ? 'through a SharedArrayBuffer and a WebSocket'
    : 'by XMLHttpRequest (the page is not cross-origin isolated)';
  log(`${version} ready in ${((Date.now() - started) / 1000).toFixed(1)} s; calls ${calls}`);
}
// Started once the socket is ours (another pool may have it).
let ready = null;

function failRuns(message) {
  for (const [id, res] of open) {
    open.delete(id);
    res.end(`error: ${message}\n`);
  }
}

/** The browser's profile directory (puppeteer's temporary one). */
function profileDir() {
  const args = proc?.spawnargs ?? [];
  const i = args.indexOf('--profile');
  if (i >= 0) return args[i + 1];
  const dataDir = args.find((a) => a.startsWith('--user-data-dir='));
  return dataDir?.slice('--user-data-dir='.length);
}

async function shutdown(why) {
  if (exiting) return;
  exiting = true;
  log(`exiting: ${why}`);
  control.close();
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    const gone = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
  const dir = profileDir();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => shutdown(signal));

async function run(req, res, base) {
  try {
    await ready;
  } catch (e) {
    res.writeHead(500).end(`error: cannot start ${opts.browser}: ${e.message}\n`);
    // Nothing to keep: the next runner starts a new pool.
    shutdown('the browser did not start');
    return;
  }
  if (res.destroyed) return;
  if (!pageAlive()) {
    // Refused, not failed: the runner tries again, with a new pool.
    res.writeHead(503).end('error: the page stopped polling\n');
    pageGone();
    return;
  }
  const id = nextId++;
  active++;
  runs++;
  pageRuns++;
  open.set(id, res);
  res.on('close', () => {
    open.delete(id);
    active--;
    lastActivity = Date.now();
    order({ stop: id });
    if (active === 0 && pageRuns >= RECYCLE_RUNS) {
      pageRuns = 0;
      order({ reload: true });
    }
    if (draining && active === 0) shutdown('stopped');
  });
  order({ start: id, base });
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.write('started\n');
}

const control = http.createServer((req, res) => {
  lastActivity = Date.now();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/run') {
      let base;
      try {
        ({ base } = JSON.parse(Buffer.concat(chunks).toString()));
      } catch {
        res.writeHead(400).end('error: expected { base }\n');
        return;
      }
      if (draining || exiting) {
        res.writeHead(503).end('error: the pool is stopping\n');
        return;
      }
      run(req, res, base);
    } else if (req.method === 'POST' && req.url === '/stop') {
      res.end('stopping\n');
      log('asked to stop');
      control.close();
      draining = true;
      if (active === 0) shutdown('stopped');
    } else if (req.method === 'GET' && req.url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ pid: process.pid, browser: opts.browser, version, active, runs })}\n`);
    } else res.writeHead(404).end('error: not found\n');
  });
});
control.on('error', (e) => {
  // Another pool already has the name: it serves the runs.
  if (e.code === 'EADDRINUSE') process.exit(0);
  log(`control socket: ${e.message}`);
  process.exit(1);
});
control.listen(`\0${opts.socket}`, () => {
  log(`listening (idle limit ${opts.idle} s)`);
  ready = start();
  ready.catch((e) => log(`cannot start: ${e.message}`));
});

/** Whether the page polls (see PAGE_LATE_MS). */
const pageAlive = () => poll !== null || Date.now() - lastAnswer < PAGE_LATE_MS;
function pageGone() {
  failRuns(`the page stopped polling for orders (did it crash?)`);
  shutdown('the page stopped polling');
}

setInterval(() => {
  if (active === 0 && Date.now() - lastActivity > opts.idle * 1000) shutdown(`idle for ${opts.idle} s`);
  else if (version && pageState && !pageAlive()) pageGone();
}, 1000);
