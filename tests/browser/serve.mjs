// A small static file server for the browser demo, on localhost.
//
//   node tests/browser/serve.mjs [--port N] [--libdl PATH] [--demo DIR]
//
// prints the page's URL and serves until stopped. Port 0 (the default) picks
// a free one. Serves:
//   /, /index.html, /worker.mjs, /wasi.mjs   this directory
//   /wasmdl.mjs                              host-abi/js/wasmdl.mjs
//   /libdl.so                                --libdl (default build/libdl.so)
//   /demo/...                                --demo (default build/demo)
// test.mjs imports `startServer`.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.so': 'application/octet-stream',
};

/** Starts the server; resolves to { server, url }. */
export function startServer({
  port = 0,
  libdl = path.join(root, 'build/libdl.so'),
  demo = path.join(root, 'build/demo'),
} = {}) {
  const fixed = {
    '/': path.join(here, 'index.html'),
    '/index.html': path.join(here, 'index.html'),
    '/worker.mjs': path.join(here, 'worker.mjs'),
    '/wasi.mjs': path.join(here, 'wasi.mjs'),
    '/wasmdl.mjs': path.join(root, 'host-abi/js/wasmdl.mjs'),
    '/libdl.so': path.resolve(libdl),
  };
  const demoDir = path.resolve(demo);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let file = fixed[url.pathname];
    if (!file && url.pathname.startsWith('/demo/')) {
      // Only files under the demo directory: no `..`, no absolute paths.
      const candidate = path.resolve(demoDir, `.${decodeURIComponent(url.pathname.slice('/demo'.length))}`);
      if (candidate.startsWith(demoDir + path.sep)) file = candidate;
    }
    if (req.method !== 'GET' || !file) {
      res.writeHead(404).end('not found\n');
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404).end('not found\n');
        return;
      }
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(data);
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({ server, url: `http://127.0.0.1:${server.address().port}/` });
    });
  });
}

// Run directly: serve until stopped.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = {};
  const args = process.argv.slice(2);
  while (args.length) {
    const opt = args.shift();
    const value = args.shift();
    if (value === undefined) {
      console.error('usage: serve.mjs [--port N] [--libdl PATH] [--demo DIR]');
      process.exit(2);
    }
    if (opt === '--port') options.port = Number(value);
    else if (opt === '--libdl') options.libdl = value;
    else if (opt === '--demo') options.demo = value;
    else {
      console.error(`serve.mjs: unknown option ${opt}`);
      process.exit(2);
    }
  }
  const { url } = await startServer(options);
  console.log(`serving the wasmdl demo at ${url}`);
}
