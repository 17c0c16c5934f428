// The browser test: serves the demo page, loads it in headless Chromium
// (Debian's /usr/bin/chromium, over the DevTools protocol) and in headless
// Firefox ESR (Debian's /usr/bin/firefox-esr, SpiderMonkey, over WebDriver
// BiDi), both driven by puppeteer-core, waits for the program to finish, and
// checks that the page shows exactly tests/demo/expected.out and that the
// program exited with status 0. It runs the static demo main, and the PIE
// main against libc.so when --pie-lib is given and main-pie.wasm is built.
// Before the demo it asks each browser's engine what the host ABI and the
// scenarios may need (engineReport) and prints it: a part that cannot run
// is skipped with its reason, never silently.
//
//   node tests/browser/test.mjs [--browser chromium|firefox|all] [--libdl PATH]
//        [--demo DIR] [--pie-lib DIR] [--chromium PATH] [--firefox PATH]
//
// Exit status: 0 if every page run matches, 1 otherwise.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSERS, launch, engineReport, runPage } from './browsers.mjs';
import { startServer } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const options = { browser: 'all', demo: path.join(root, 'build/demo') };
const argv = process.argv.slice(2);
while (argv.length) {
  const opt = argv.shift().replace(/^--/, '');
  options[opt.replace(/-(.)/g, (_, c) => c.toUpperCase())] = argv.shift();
}
const names = options.browser === 'all' ? Object.keys(BROWSERS) : [options.browser];
for (const name of names) {
  if (!BROWSERS[name]) {
    console.error(`test.mjs: unknown browser ${name} (chromium, firefox or all)`);
    process.exit(2);
  }
}
const expected = fs.readFileSync(path.join(root, 'tests/demo/expected.out'), 'utf8');
const TIMEOUT_MS = 60_000;

const pages = ['demo'];
let pieSkip = null;
if (!options.pieLib) pieSkip = 'no --pie-lib (libc.so\'s directory) given';
else if (!fs.existsSync(path.join(options.demo, 'main-pie.wasm'))) pieSkip = `${options.demo}/main-pie.wasm is not built`;
else pages.push('demo-pie');

const { server, url } = await startServer({ libdl: options.libdl, demo: options.demo, pieLib: options.pieLib });
let pass = 0;
let fail = 0;
let skip = 0;
try {
  for (const name of names) {
    const started = Date.now();
    let browser;
    try {
      browser = await launch(name, options[name]);
      const engine = await engineReport(browser, url);
      console.log(`${name}: ${await browser.version()}; ${engine.summary}`);
      for (const page of pages) {
        const run = await runPage(browser, `${url}?config=${page}`, TIMEOUT_MS);
        const seconds = (run.ms / 1000).toFixed(1);
        if (run.stdout === expected && run.status === '0') {
          pass++;
          console.log(`ok   ${page} [${name}] (${seconds} s)`);
          continue;
        }
        fail++;
        console.log(`FAIL ${page} [${name}]: ${run.state}`);
        if (run.stdout !== expected) {
          console.log('--- expected (tests/demo/expected.out)');
          console.log(expected);
          console.log('--- shown by the page');
          console.log(run.stdout);
        }
        if (run.stderr) console.log(`--- stderr\n${run.stderr}`);
        for (const line of run.console) console.log(line);
      }
      if (pieSkip) {
        skip++;
        console.log(`skip demo-pie [${name}]: ${pieSkip}`);
      }
    } catch (e) {
      fail++;
      console.log(`FAIL [${name}]: ${e.message}`);
    } finally {
      await browser?.close().catch(() => {});
      console.log(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s with the browser's start`);
    }
  }
} finally {
  server.close();
}
console.log(`browser-test: ${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`);
process.exitCode = fail === 0 ? 0 : 1;
