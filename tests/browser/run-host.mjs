// The server of one browser run (runner.mjs starts it): it serves the
// Worker's code (remote.mjs, wasi.mjs, host-abi/js/wasmdl.mjs), the run's
// configuration, libdl.so and the program, and answers the Worker's
// synchronous calls (remote.mjs says how they are framed), on a WebSocket
// from the pool page or by HTTP POST to rpc, with the host's files, this
// process's stdin, stdout and stderr:
//
//   startRunHost({ files, config, roots, onOut, onExit, onError }) -> { url, touched, close }
//
// files: { 'libdl.so': path, 'program.wasm': path }; config: what remote.mjs
// reads as config.json; roots: the host directory of each --dir, in order
// (a Worker's root is an index into it). Everything is under
// http://127.0.0.1:PORT/TOKEN/ (TOKEN random), with CORS open: the pool
// page that starts the Worker has an origin of its own.
//
// The file operations are Node's synchronous ones on the host's files, so
// a program sees what it would see under wasmtime: real inodes, sizes and
// times, files that other processes see. Paths are under a root (no `..`
// reaches above it); symbolic links are followed wherever they lead (a test
// host, not a sandbox).

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const CODE = {
  'remote.mjs': path.join(here, 'remote.mjs'),
  'wasi.mjs': path.join(here, 'wasi.mjs'),
  'wasmdl.mjs': path.join(root, 'host-abi/js/wasmdl.mjs'),
};

// Node's error codes as WASI errnos (wasi.mjs's E).
const ERRNO = {
  EACCES: 2, EAGAIN: 6, EBADF: 8, EBUSY: 10, EEXIST: 20, EFBIG: 22, EINTR: 27, EINVAL: 28, EIO: 29, EISDIR: 31,
  ELOOP: 32, EMFILE: 33, EMLINK: 34, ENAMETOOLONG: 37, ENFILE: 41, ENODEV: 43, ENOENT: 44, ENOMEM: 48,
  ENOSPC: 51, ENOSYS: 52, ENOTDIR: 54, ENOTEMPTY: 55, ENOTSUP: 58, EOPNOTSUPP: 58, ENXIO: 60, EOVERFLOW: 61,
  EPERM: 63, EPIPE: 64, EROFS: 69, ESPIPE: 70, ETXTBSY: 74, EXDEV: 75,
};
const EBADF = 8;
const EINVAL = 28;
const EEXIST = 20;
const EISDIR = 31;
const ENOTDIR = 54;
const ELOOP = 32;
const ENOTCAPABLE = 76;
const OFLAGS_CREAT = 1;
const OFLAGS_DIRECTORY = 2;
const OFLAGS_EXCL = 4;
const OFLAGS_TRUNC = 8;
const MAX_READ = 4 << 20; // remote.mjs's MAX_PAYLOAD

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NOFOLLOW } = fs.constants;

function filetype(st) {
  if (st.isFile()) return 4;
  if (st.isDirectory()) return 3;
  if (st.isSymbolicLink()) return 7;
  if (st.isCharacterDevice()) return 2;
  if (st.isBlockDevice()) return 1;
  if (st.isSocket()) return 6;
  return 0;
}
const statOut = (st) => ({
  filetype: filetype(st),
  dev: String(st.dev),
  ino: String(st.ino),
  nlink: String(st.nlink),
  size: String(st.size),
  atim: String(st.atimeNs),
  mtim: String(st.mtimeNs),
  ctim: String(st.ctimeNs),
});
const BIG = { bigint: true };
/** A time in nanoseconds (a string) as fs.utimes takes it: seconds. */
const seconds = (ns) => Number(BigInt(ns) / 1000n) / 1e6;

class Files {
  constructor(roots) {
    this.roots = roots;
    this.handles = new Map();
    this.nextHandle = 1;
  }
  /** The host path of `rel` under root `root`; never above it. */
  path(rootIndex, rel) {
    const top = this.roots[rootIndex];
    if (top === undefined || typeof rel !== 'string') throw Object.assign(new Error('bad root'), { code: 'EBADF' });
    if (rel === '') return top;
    if (rel.split('/').some((p) => p === '..' || p === '.' || p === '')) {
      throw Object.assign(new Error('bad path'), { code: 'ENOTCAPABLE' });
    }
    return path.join(top, rel);
  }
  fd(handle) {
    const fd = this.handles.get(handle);
    if (fd === undefined) throw Object.assign(new Error('bad handle'), { code: 'EBADF' });
    return fd;
  }
  /** One operation: its JSON result, and bytes for read. */
  do(a, payload) {
    switch (a.op) {
      case 'stat': {
        const p = this.path(a.root, a.rel);
        return statOut(a.follow ? fs.statSync(p, BIG) : fs.lstatSync(p, BIG));
      }
      case 'open': {
        const p = this.path(a.root, a.rel);
        let st = null;
        try {
          st = a.follow ? fs.statSync(p, BIG) : fs.lstatSync(p, BIG);
        } catch (e) {
          if (e.code !== 'ENOENT' || !(a.oflags & OFLAGS_CREAT)) throw e;
        }
        if (st) {
          if (a.oflags & OFLAGS_CREAT && a.oflags & OFLAGS_EXCL) return { errno: EEXIST };
          if (st.isDirectory()) {
            if (a.write || a.oflags & OFLAGS_TRUNC) return { errno: EISDIR };
            return { dir: true, stat: statOut(st) };
          }
          if (a.oflags & OFLAGS_DIRECTORY) return { errno: ENOTDIR };
          if (!a.follow && st.isSymbolicLink()) return { errno: ELOOP };
        }
        let flags = a.read && a.write ? O_RDWR : a.write ? O_WRONLY : O_RDONLY;
        if (a.oflags & OFLAGS_CREAT) flags |= O_CREAT;
        if (a.oflags & OFLAGS_EXCL) flags |= O_EXCL;
        if (a.oflags & OFLAGS_TRUNC) flags |= O_TRUNC;
        if (a.append) flags |= O_APPEND;
        if (!a.follow) flags |= O_NOFOLLOW;
        const fd = fs.openSync(p, flags, 0o666);
        const fst = fs.fstatSync(fd, BIG);
        // Read whole (remote.mjs keeps it): a regular file opened only for
        // reading, not empty (/proc's files say 0 and are not), not too big.
        if (a.whole && !a.write && fst.isFile() && fst.size > 0n && fst.size <= BigInt(a.whole)) {
          try {
            const data = Buffer.alloc(Number(fst.size));
            let n = 0;
            while (n < data.length) {
              const got = fs.readSync(fd, data, n, data.length - n, n);
              if (got === 0) break;
              n += got;
            }
            return [{ whole: true, stat: statOut(fst) }, data.subarray(0, n)];
          } finally {
            fs.closeSync(fd);
          }
        }
        const handle = this.nextHandle++;
        this.handles.set(handle, fd);
        return { handle, stat: statOut(fst) };
      }
      case 'read': {
        const fd = this.fd(a.handle);
        const buf = Buffer.alloc(Math.min(a.len, MAX_READ));
        const n = fs.readSync(fd, buf, 0, buf.length, a.pos);
        return [{}, buf.subarray(0, n)];
      }
      case 'write': {
        const fd = this.fd(a.handle);
        if (a.pos === null) {
          // Appending: at the end, whether or not the file is O_APPEND.
          const n = fs.writeSync(fd, payload, 0, payload.length, Number(fs.fstatSync(fd).size));
          return { n, end: Number(fs.fstatSync(fd).size) };
        }
        const n = fs.writeSync(fd, payload, 0, payload.length, a.pos);
        return { n, end: a.pos + n };
      }
      case 'fstat':
        return statOut(fs.fstatSync(this.fd(a.handle), BIG));
      case 'truncate':
        fs.ftruncateSync(this.fd(a.handle), a.size);
        return {};
      case 'sync':
        fs.fsyncSync(this.fd(a.handle));
        return {};
      case 'close': {
        const fd = this.fd(a.handle);
        this.handles.delete(a.handle);
        fs.closeSync(fd);
        return {};
      }
      case 'readdir': {
        const p = this.path(a.root, a.rel);
        const entries = fs.readdirSync(p, { withFileTypes: true }).map((d) => {
          let ino = '0';
          try {
            ino = String(fs.lstatSync(path.join(p, d.name), BIG).ino);
          } catch {
            // gone since the listing: inode 0
          }
          return { name: d.name, filetype: filetype(d), ino };
        });
        const self = fs.statSync(p, BIG);
        const parent = fs.statSync(path.join(p, '..'), BIG);
        return {
          entries: [
            { name: '.', filetype: 3, ino: String(self.ino) },
            { name: '..', filetype: 3, ino: String(parent.ino) },
            ...entries,
          ],
        };
      }
      case 'mkdir':
        fs.mkdirSync(this.path(a.root, a.rel), 0o777);
        return {};
      case 'rmdir':
        fs.rmdirSync(this.path(a.root, a.rel));
        return {};
      case 'unlink':
        fs.unlinkSync(this.path(a.root, a.rel));
        return {};
      case 'rename':
        fs.renameSync(this.path(a.root, a.rel), this.path(a.root2, a.rel2));
        return {};
      case 'link':
        fs.linkSync(this.path(a.root, a.rel), this.path(a.root2, a.rel2));
        return {};
      case 'symlink':
        fs.symlinkSync(a.target, this.path(a.root, a.rel));
        return {};
      case 'readlink':
        return { target: fs.readlinkSync(this.path(a.root, a.rel)) };
      case 'setTimes': {
        const p = this.path(a.root, a.rel);
        const st = a.follow ? fs.statSync(p, BIG) : fs.lstatSync(p, BIG);
        const at = seconds(a.atim ?? st.atimeNs);
        const mt = seconds(a.mtim ?? st.mtimeNs);
        if (a.follow) fs.utimesSync(p, at, mt);
        else fs.lutimesSync(p, at, mt);
        return {};
      }
      case 'fsetTimes': {
        const fd = this.fd(a.handle);
        const st = fs.fstatSync(fd, BIG);
        fs.futimesSync(fd, seconds(a.atim ?? st.atimeNs), seconds(a.mtim ?? st.mtimeNs));
        return {};
      }
      default:
        return { errno: EINVAL };
    }
  }
  closeAll() {
    for (const fd of this.handles.values()) {
      try {
        fs.closeSync(fd);
      } catch {
        // already gone
      }
    }
    this.handles.clear();
  }
}

/** This process's stdin, read only when the program first reads it. */
class Stdin {
  constructor(stream) {
    this.stream = stream;
    this.chunks = [];
    this.ended = false;
    this.waiting = [];
    this.started = false;
  }
  start() {
    this.started = true;
    this.stream.on('data', (chunk) => {
      this.chunks.push(chunk);
      this.wake();
    });
    this.stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
    this.stream.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }
  wake() {
    while (this.waiting.length && (this.chunks.length || this.ended)) this.waiting.shift()();
  }
  /** Up to `max` bytes, waiting for some; an empty buffer at the end. */
  read(max) {
    if (!this.started) this.start();
    return new Promise((resolve) => {
      const take = () => {
        if (!this.chunks.length) return resolve(Buffer.alloc(0));
        const first = this.chunks[0];
        if (first.length <= max) this.chunks.shift();
        else this.chunks[0] = first.subarray(max);
        resolve(first.subarray(0, max));
      };
      if (this.chunks.length || this.ended) take();
      else this.waiting.push(take);
    });
  }
  stop() {
    if (this.started) this.stream.destroy();
  }
}

function frame(json, payload) {
  const j = Buffer.from(JSON.stringify(json));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(j.length, 0);
  return payload ? Buffer.concat([head, j, payload]) : Buffer.concat([head, j]);
}

// ---- a WebSocket server: as much of RFC 6455 as a browser's client needs ----
// (written here rather than taken from npm's `ws`: ~90 lines, one dependency fewer)
/** Completes the opening handshake; false (and the socket destroyed) if
 *  the request is not one. */
function acceptWebSocket(req, socket) {
  const key = req.headers['sec-websocket-key'];
  if (req.headers.upgrade?.toLowerCase() !== 'websocket' || !key) {
    socket.destroy();
    return false;
  }
  const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.setNoDelay(true);
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  return true;
}
/** Calls onMessage(Buffer) for each whole message from the client
 *  (masked frames, fragments joined); answers pings and closes. */
function readWebSocket(socket, onMessage) {
  let chunks = [];
  let have = 0;
  let fragments = [];
  const take = (n) => {
    const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, have);
    chunks = [all.subarray(n)];
    have -= n;
    return all.subarray(0, n);
  };
  const peek = () => (chunks.length === 1 ? chunks[0] : ((chunks = [Buffer.concat(chunks, have)]), chunks[0]));
  socket.on('data', (chunk) => {
    chunks.push(chunk);
    have += chunk.length;
    for (;;) {
      if (have < 2) return;
      const head = peek();
      let len = head[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (have < 4) return;
        len = head.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (have < 10) return;
        len = Number(head.readBigUInt64BE(2));
        at = 10;
      }
      const masked = (head[1] & 0x80) !== 0;
      if (have < at + (masked ? 4 : 0) + len) return;
      const fin = (head[0] & 0x80) !== 0;
      const opcode = head[0] & 0x0f;
      const frame = Buffer.from(take(at + (masked ? 4 : 0) + len));
      const payload = frame.subarray(at + (masked ? 4 : 0));
      if (masked) {
        const mask = frame.subarray(at, at + 4);
        for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      }
      if (opcode === 8) {
        socket.end(Buffer.from([0x88, 0]));
        return;
      }
      if (opcode === 9) socket.write(Buffer.concat([Buffer.from([0x8a, payload.length]), payload]));
      if (opcode === 0 || opcode === 1 || opcode === 2) {
        fragments.push(payload);
        if (fin) {
          const message = fragments.length === 1 ? fragments[0] : Buffer.concat(fragments);
          fragments = [];
          onMessage(message);
        }
      }
    }
  });
  socket.on('error', () => {});
}
/** Sends `data` as one binary message. */
function sendWebSocket(socket, data) {
  if (socket.destroyed) return;
  let head;
  if (data.length < 126) head = Buffer.from([0x82, data.length]);
  else if (data.length < 65536) {
    head = Buffer.from([0x82, 126, 0, 0]);
    head.writeUInt16BE(data.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x82;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(data.length), 2);
  }
  socket.write(Buffer.concat([head, data]));
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST',
  'access-control-allow-headers': '*',
  'cache-control': 'no-store',
};

/**
 * Starts the run's server on 127.0.0.1; resolves to { url (the base, ending
 * in '/'), touched (whether the browser has asked for anything yet),
 * close() }. onOut(fd, bytes), onExit(status), onError(message) report the
 * Worker's output and its end; onError also when the page's WebSocket
 * closes before close() (the page or the browser went away).
 * WASMDL_BROWSER_TRACE set: the requests on stderr, and the calls counted.
 */
export function startRunHost({ files, config, roots, onOut, onExit, onError, stdin = process.stdin }) {
  const token = crypto.randomBytes(12).toString('hex');
  const disk = new Files(roots);
  const input = new Stdin(stdin);
  const served = { ...CODE, ...files };

  const counts = process.env.WASMDL_BROWSER_TRACE ? new Map() : null;
  if (counts) process.on('exit', () => process.stderr.write(`rpc: ${JSON.stringify(Object.fromEntries(counts))}\n`));
  const answer = async (a, payload) => {
    counts?.set(a.op, (counts.get(a.op) ?? 0) + 1);
    switch (a.op) {
      case 'out':
        onOut(a.fd, payload);
        return {};
      case 'stdin':
        return [{}, await input.read(Math.max(1, Math.min(a.max, 1 << 20)))];
      case 'sleep':
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(a.ms, 2 ** 31 - 1))));
        return {};
      case 'exit':
        onExit(a.status);
        return {};
      case 'error':
        onError(a.message);
        return {};
      default:
        try {
          return disk.do(a, payload);
        } catch (e) {
          if (e.code === 'ENOTCAPABLE') return { errno: ENOTCAPABLE };
          return { errno: ERRNO[e.code] ?? (e.code === undefined ? EBADF : 29) };
        }
    }
  };

  /** One framed call (remote.mjs): the framed reply. */
  const call = async (body) => {
    try {
      const n = body.readUInt32LE(0);
      const a = JSON.parse(body.subarray(4, 4 + n).toString());
      const r = await answer(a, body.subarray(4 + n));
      return Array.isArray(r) ? frame(r[0], r[1]) : frame(r);
    } catch (e) {
      return frame({ errno: EINVAL, message: e.message });
    }
  };

  const server = http.createServer((req, res) => {
    touched = true;
    if (counts) process.stderr.write(`http: ${req.method} ${req.url}\n`);
    const prefix = `/${token}/`;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS).end();
      return;
    }
    if (!req.url.startsWith(prefix)) {
      res.writeHead(404, CORS).end('not found\n');
      return;
    }
    const name = req.url.slice(prefix.length);
    if (req.method === 'GET' && name === 'config.json') {
      res.writeHead(200, { ...CORS, 'content-type': 'application/json' }).end(JSON.stringify(config));
      return;
    }
    if (req.method === 'GET' && Object.hasOwn(served, name)) {
      fs.readFile(served[name], (err, data) => {
        if (err) res.writeHead(404, CORS).end(`cannot read ${served[name]}: ${err.message}\n`);
        else {
          const type = name.endsWith('.mjs') ? 'text/javascript; charset=utf-8' : 'application/octet-stream';
          res.writeHead(200, { ...CORS, 'content-type': type }).end(data);
        }
      });
      return;
    }
    if (req.method === 'POST' && name === 'rpc') {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const reply = await call(Buffer.concat(chunks));
        res.writeHead(200, { ...CORS, 'content-type': 'application/octet-stream' }).end(reply);
      });
      return;
    }
    res.writeHead(404, CORS).end('not found\n');
  });
  server.keepAliveTimeout = 60_000;
  // The pool page's WebSocket (remote.mjs's sharedCaller): one call per
  // message, answered in order.
  const sockets = new Set();
  let closed = false;
  let touched = false; // a request came from the browser
  server.on('upgrade', (req, socket) => {
    if (counts) process.stderr.write(`upgrade: ${req.url}\n`);
    if (req.url !== `/${token}/ws` || !acceptWebSocket(req, socket)) return;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      // The page closes it once the run is over; before, it means that the
      // page or the browser went away.
      if (!closed) onError?.('the page closed its connection to the runner (did the page or the browser crash?)');
    });
    let queue = Promise.resolve();
    readWebSocket(socket, (message) => {
      queue = queue.then(async () => sendWebSocket(socket, await call(message)));
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}${`/${token}/`}`,
        /** Whether the browser has asked for anything yet. */
        get touched() {
          return touched;
        },
        close() {
          closed = true;
          input.stop();
          disk.closeAll();
          server.close();
          server.closeAllConnections();
          for (const socket of sockets) socket.destroy();
        },
      });
    });
  });
}
