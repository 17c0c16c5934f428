// The browsers the tests drive, through puppeteer-core: Debian's Chromium
// over the DevTools protocol, Debian's Firefox ESR over WebDriver BiDi.
// Used by test.mjs (the demo) and pool.mjs (runner.mjs's browser).
//
// Why puppeteer-core for both: it drives the browsers Debian ships, Chromium
// by CDP and Firefox by WebDriver BiDi, the standard protocol Firefox speaks
// natively. playwright-core's Firefox support needs Playwright's own patched
// Firefox build, which is downloaded, not packaged. One library, one code
// path for both browsers.

import puppeteer from 'puppeteer-core';

export const BROWSERS = {
  chromium: {
    path: '/usr/bin/chromium',
    options: (executablePath) => ({
      browser: 'chrome',
      executablePath,
      headless: true,
      // As root (CI) Chromium needs --no-sandbox.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-component-update', '--disable-sync'],
    }),
  },
  firefox: {
    path: '/usr/bin/firefox-esr',
    options: (executablePath) => ({
      browser: 'firefox',
      executablePath,
      headless: true,
      protocol: 'webDriverBiDi',
    }),
  },
};

/** Launches browser `name` (a key of BROWSERS), with a fresh profile that
 *  puppeteer removes when the browser closes. */
export function launch(name, executablePath) {
  const b = BROWSERS[name];
  return puppeteer.launch(b.options(executablePath ?? b.path));
}

/** A wasm module of `bytes` bytes: the header and one custom section. */
function bigModule(bytes) {
  const payload = bytes - 8 - 1 - 5 - 2;
  const size = payload + 2; // the name's length byte and the name 'x'
  const module = new Uint8Array(bytes);
  // id 0, size as a 5-byte LEB128, name "x"
  module.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0]);
  module.set([(size & 127) | 128, ((size >>> 7) & 127) | 128, ((size >>> 14) & 127) | 128, ((size >>> 21) & 127) | 128, size >>> 28], 9);
  module.set([1, 0x78], 14);
  return module;
}

/**
 * Asks the browser's engine, on a blank page of the test's server, what the
 * host ABI, the shim and the scenarios may need; resolves to the answers
 * and a one-line summary:
 *   exnref        validates `(module (func (local exnref)))` (the sjlj scenario)
 *   tailCalls     validates a `return_call_indirect` (libdl's trampolines use
 *                 it where the engine has it, call_indirect otherwise)
 *   jspi          WebAssembly.Suspending and .promising (not used: the ABI is synchronous)
 *   syncMain      `new WebAssembly.Module` of 9 MB on the main thread: null or the error
 *   syncWorker    the same in a Worker (where the shim runs)
 *   sab           SharedArrayBuffer exists; isolated: crossOriginIsolated
 */
export async function engineReport(browser, serverUrl) {
  const page = await browser.newPage();
  try {
    await page.goto(`${serverUrl}blank.html`);
    const r = await page.evaluate(async (moduleSource) => {
      const bigModule = new Function(`return ${moduleSource}`)();
      const EXNREF = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 6, 1, 4, 1, 1, 105, 11]);
      const TAIL_CALL = new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 4, 4, 1, 112, 0, 1,
        10, 9, 1, 7, 0, 65, 0, 19, 0, 0, 11,
      ]);
      const compile = (bytes) => {
        try {
          new WebAssembly.Module(bytes);
          return null;
        } catch (e) {
          return `${e.name}: ${e.message}`;
        }
      };
      const size = 9 * 1024 * 1024;
      const source = `const bigModule = ${moduleSource};
        const compile = ${compile};
        postMessage(compile(bigModule(${size})));`;
      const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
      const syncWorker = await new Promise((resolve) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => resolve(`the worker failed: ${e.message}`);
      });
      worker.terminate();
      return {
        exnref: WebAssembly.validate(EXNREF),
        tailCalls: WebAssembly.validate(TAIL_CALL),
        jspi: typeof WebAssembly.Suspending === 'function' && typeof WebAssembly.promising === 'function',
        syncMain: compile(bigModule(size)),
        syncWorker,
        sab: typeof SharedArrayBuffer === 'function',
        isolated: self.crossOriginIsolated === true,
      };
    }, bigModule.toString());
    const yes = (v) => (v ? 'yes' : 'no');
    r.summary = [
      `exnref ${yes(r.exnref)}`,
      `tail calls ${yes(r.tailCalls)}`,
      `JSPI ${yes(r.jspi)} (unused: the ABI is synchronous)`,
      `9 MB synchronous compile: main thread ${r.syncMain === null ? 'allowed' : `refused (${r.syncMain.split(',')[0]})`}, ` +
        `worker ${r.syncWorker === null ? 'allowed' : `refused (${r.syncWorker})`}`,
      `SharedArrayBuffer ${r.sab ? 'yes' : `no${r.isolated ? '' : ' (page not cross-origin isolated)'}`} (unused: the memory is not shared)`,
    ].join('; ');
    return r;
  } finally {
    await page.close().catch(() => {});
  }
}

/**
 * Loads `url` (index.html with ?config=NAME) in a new page, waits until the
 * program has finished (body[data-done]), at most `timeoutMs` (0: no limit);
 * resolves to { stdout, stderr, status (a string, or null), state (the
 * status line), console (console lines and page errors), ms }.
 */
export async function runPage(browser, url, timeoutMs) {
  const page = await browser.newPage();
  const console_ = [];
  page.on('console', (m) => console_.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => console_.push(`[pageerror] ${e.message}`));
  const started = Date.now();
  try {
    await page.goto(url);
    await page.waitForSelector('body[data-done="1"]', { timeout: timeoutMs });
    const ms = Date.now() - started;
    const shown = await page.evaluate(() => ({
      stdout: document.getElementById('stdout').textContent,
      stderr: document.getElementById('stderr').textContent,
      state: document.getElementById('status').textContent,
      status: document.body.dataset.status ?? null,
    }));
    return { ...shown, console: console_, ms };
  } finally {
    await page.close().catch(() => {});
  }
}
