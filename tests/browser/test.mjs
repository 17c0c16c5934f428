// The browser test: serves the demo page, loads it in headless Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core), waits for the
// program to finish, and checks that the page shows exactly
// tests/demo/expected.out and that the program exited with status 0.
//
//   node tests/browser/test.mjs [--libdl PATH] [--demo DIR] [--chromium PATH]
//
// Exit status: 0 if the page matches, 1 otherwise.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const options = { chromium: '/usr/bin/chromium' };
const argv = process.argv.slice(2);
while (argv.length) {
  const opt = argv.shift().replace(/^--/, '');
  options[opt] = argv.shift();
}
const expected = fs.readFileSync(path.join(root, 'tests/demo/expected.out'), 'utf8');
const TIMEOUT_MS = 60_000;

const { server, url } = await startServer({ libdl: options.libdl, demo: options.demo });
// A fresh profile every run, removed afterwards.
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmdl-chromium-'));
let context;
let ok = false;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: options.chromium,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const console_ = [];
  page.on('console', (m) => console_.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => console_.push(`[pageerror] ${e.message}`));
  await page.goto(url);
  await page.waitForSelector('body[data-done="1"]', { timeout: TIMEOUT_MS });
  const shown = await page.textContent('#stdout');
  const stderr = await page.textContent('#stderr');
  const status = await page.getAttribute('body', 'data-status');
  const state = await page.textContent('#status');
  if (shown === expected && status === '0') {
    ok = true;
    console.log(`ok   demo [chromium ${context.browser()?.version() ?? ''}]`.trimEnd());
  } else {
    console.log(`FAIL demo [chromium]: ${state}`);
    if (shown !== expected) {
      console.log('--- expected (tests/demo/expected.out)');
      console.log(expected);
      console.log('--- shown by the page');
      console.log(shown);
    }
    if (stderr) console.log(`--- stderr\n${stderr}`);
    for (const line of console_) console.log(line);
  }
} catch (e) {
  console.log(`FAIL demo [chromium]: ${e.message}`);
} finally {
  await context?.close().catch(() => {});
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
