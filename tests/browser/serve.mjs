// A small static file server for the browser demo, on localhost.
//
//   node tests/browser/serve.mjs [--port N] [--libdl PATH] [--demo DIR] [--pie-lib DIR]
//
// prints the page's URL and serves until stopped. Port 0 (the default) picks
// a free one. Serves:
//   /, /index.html, /worker.mjs, /wasi.mjs   this directory
//   /wasmdl.mjs                              host-abi/js/wasmdl.mjs
//   /libdl.so                                --libdl (default build/libdl.so)
//   /demo/...                                --demo (default build/demo)
//   /lib/...                                 --pie-lib (libc.so's directory), if given
//   /blank.html                              an empty page (browsers.mjs's engine probes)
//   /config/NAME.json                        what the page runs with ?config=NAME:
//                                            `demo` (the default), `demo-pie`
//                                            (with --pie-lib), and any given
// test.mjs imports `startServer`. (runner.mjs runs programs otherwise:
// run-host.mjs serves each run, pool.mjs's page runs it.)

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.so': 'application/octet-stream',
};

const DEMO_PLUGINS = {
  'libgreet.so': '/demo/plugins/libgreet.so',
  'libcounter.so': '/demo/plugins/libcounter.so',
};

/** The page's configurations for the demo: a static main, and a PIE main
 *  against libc.so (preopened as /lib, as `make demo-test` does). */
export const DEMO_CONFIGS = {
  demo: {
    libdl: '/libdl.so',
    program: '/demo/main.wasm',
    args: ['main.wasm', 'plugins'],
    dirs: { plugins: DEMO_PLUGINS },
  },
  'demo-pie': {
    libdl: '/libdl.so',
    program: '/demo/main-pie.wasm',
    args: ['main-pie.wasm', 'plugins'],
    dirs: { '/lib': { 'libc.so': '/lib/libc.so' }, plugins: DEMO_PLUGINS },
  },
};

/**
 * Starts the server; resolves to { server, url }. `mounts` maps more URL
 * prefixes ('/fs/0') to host directories; `configs` adds named
 * configurations for the page (see index.html).
 */
export function startServer({
  port = 0,
  libdl = path.join(root, 'build/libdl.so'),
  demo = path.join(root, 'build/demo'),
  pieLib,
  mounts = {},
  configs = {},
} = {}) {
  const fixed = {
    '/': path.join(here, 'index.html'),
    '/index.html': path.join(here, 'index.html'),
    '/worker.mjs': path.join(here, 'worker.mjs'),
    '/wasi.mjs': path.join(here, 'wasi.mjs'),
    '/wasmdl.mjs': path.join(root, 'host-abi/js/wasmdl.mjs'),
    '/libdl.so': path.resolve(libdl),
  };
  const dirs = Object.entries({ '/demo': demo, ...(pieLib ? { '/lib': pieLib } : {}), ...mounts }).map(
    ([prefix, dir]) => [`${prefix}/`, path.resolve(dir)],
  );
  const allConfigs = { demo: DEMO_CONFIGS.demo, ...(pieLib ? { 'demo-pie': DEMO_CONFIGS['demo-pie'] } : {}), ...configs };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const send = (type, data) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(data);
    };
    if (req.method === 'GET' && url.pathname === '/blank.html') {
      send(TYPES['.html'], '<!doctype html><title>blank</title>\n');
      return;
    }
    const config = /^\/config\/([\w.-]+)\.json$/.exec(url.pathname);
    if (req.method === 'GET' && config && Object.hasOwn(allConfigs, config[1])) {
      send(TYPES['.json'], JSON.stringify(allConfigs[config[1]]));
      return;
    }
    let file = fixed[url.pathname];
    for (const [prefix, dir] of dirs) {
      if (file || !url.pathname.startsWith(prefix)) continue;
      // Only files under the directory: no `..`, no absolute paths.
      const candidate = path.resolve(dir, `.${decodeURIComponent(url.pathname.slice(prefix.length - 1))}`);
      if (candidate.startsWith(dir + path.sep)) file = candidate;
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
      send(TYPES[path.extname(file)] ?? 'application/octet-stream', data);
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
  const names = { '--port': 'port', '--libdl': 'libdl', '--demo': 'demo', '--pie-lib': 'pieLib' };
  const args = process.argv.slice(2);
  while (args.length) {
    const opt = args.shift();
    const value = args.shift();
    if (value === undefined) {
      console.error('usage: serve.mjs [--port N] [--libdl PATH] [--demo DIR] [--pie-lib DIR]');
      process.exit(2);
    }
    if (!names[opt]) {
      console.error(`serve.mjs: unknown option ${opt}`);
      process.exit(2);
    }
    options[names[opt]] = opt === '--port' ? Number(value) : value;
  }
  const { url } = await startServer(options);
  console.log(`serving the wasmdl demo at ${url}`);
  if (options.pieLib) console.log(`the PIE demo: ${url}?config=demo-pie`);
}
