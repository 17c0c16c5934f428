// The Worker side of a run started by runner.mjs: the program runs here,
// in the browser, and everything outside the process (files, stdin, stdout,
// stderr, sleeping, the exit status) is a synchronous call to the runner's
// server (run-host.mjs):
//
//   runRemote(base, shared)   base: the run's URL prefix,
//                             'http://127.0.0.1:PORT/TOKEN/'; shared: the
//                             pool page's SharedArrayBuffer (sharedCaller)
//
// It fetches base + config.json, libdl.so and program.wasm, then runs the
// program with host-abi/js/wasmdl.mjs and wasi.mjs over RemoteFs, and ends
// with an `exit` (the status) or an `error` (the page or the shim failed)
// call. The pool page (pool.mjs) starts it in a fresh module Worker.
//
// A call is a request whose bytes are a 4-byte little-endian length, that
// many bytes of JSON ({ op, ...arguments }), then the payload (bytes
// written); the reply is framed the same way (JSON: the result, or
// { errno }; payload: bytes read). 64-bit values (inodes, sizes, times)
// travel as decimal strings. Two ways to make one synchronously from a
// Worker: through the pool page, a SharedArrayBuffer and the page's
// WebSocket (sharedCaller, ~0.4 ms), or a synchronous XMLHttpRequest
// (xhrCaller, ~2-3 ms, where the page is not cross-origin isolated; it sets
// no request header, so there is no CORS preflight).

import { runProcess, ProcessFailure } from './wasmdl.mjs';
import { BrowserWasi } from './wasi.mjs';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The largest payload one call carries: reads and writes longer than
 *  this are short (as POSIX allows), files larger are not read whole. */
export const MAX_PAYLOAD = 4 << 20;
/** The shared buffer's size: a reply (JSON and payload) must fit. */
export const SHARED_BYTES = 8 + MAX_PAYLOAD + (1 << 20);

function encode(op, args, payload) {
  const json = encoder.encode(JSON.stringify({ op, ...args }));
  const body = new Uint8Array(4 + json.length + (payload?.length ?? 0));
  new DataView(body.buffer).setUint32(0, json.length, true);
  body.set(json, 4);
  if (payload) body.set(payload, 4 + json.length);
  return body;
}
function decode(bytes) {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const reply = JSON.parse(decoder.decode(bytes.subarray(4, 4 + n)));
  reply.data = bytes.subarray(4 + n);
  return reply;
}

/** A synchronous call to the run's server by XMLHttpRequest (~2-3 ms a
 *  call): resolves to the reply's JSON, with its payload as `data`. */
export function xhrCaller(base) {
  const url = `${base}rpc`;
  return (op, args = {}, payload) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url, false);
    xhr.responseType = 'arraybuffer';
    xhr.send(encode(op, args, payload));
    if (xhr.status !== 200) throw new Error(`the runner did not answer ${op}: HTTP ${xhr.status}`);
    return decode(new Uint8Array(xhr.response));
  };
}

/**
 * A synchronous call through the pool page (~0.4 ms a call): the request
 * goes into `shared` (a SharedArrayBuffer: an Int32 state, 0 while waiting
 * and 1 when answered, an Int32 length, then the bytes), this Worker tells
 * the page (postMessage) and waits (Atomics.wait); the page sends the
 * bytes on its WebSocket to the run's server and puts the reply in the
 * same place. The page must be cross-origin isolated for a
 * SharedArrayBuffer.
 */
export function sharedCaller(shared) {
  const state = new Int32Array(shared, 0, 2);
  const bytes = new Uint8Array(shared, 8);
  return (op, args = {}, payload) => {
    const body = encode(op, args, payload);
    if (body.length > bytes.length) throw new Error(`${op}: a request of ${body.length} bytes does not fit`);
    bytes.set(body);
    Atomics.store(state, 1, body.length);
    Atomics.store(state, 0, 0);
    self.postMessage('call');
    Atomics.wait(state, 0, 0);
    return decode(bytes.slice(0, Atomics.load(state, 1)));
  };
}

const time = (t) => (t === null ? null : String(t));

/**
 * The FS interface of wasi.mjs over the runner's files: a root is the index
 * of a --dir, a handle the runner's number for an open file, or, for a
 * regular file opened only for reading and not larger than MAX_PAYLOAD, its
 * contents and status as they were when it was opened (one call in all:
 * dlopen opens, checks and reads each library whole). So a file opened for
 * reading does not see later writes, whoever makes them; one opened for
 * writing does, as on the host.
 */
export class RemoteFs {
  constructor(call) {
    this.call = call;
  }
  stat(root, rel, follow) { return this.call('stat', { root, rel, follow }); }
  open(root, rel, options) {
    const r = this.call('open', { root, rel, ...options, whole: !options.write ? MAX_PAYLOAD : 0 });
    if (r.whole) return { handle: { data: r.data, stat: r.stat }, stat: r.stat };
    return r;
  }
  read(handle, len, pos) {
    if (typeof handle === 'object') return { data: handle.data.subarray(pos, pos + len) };
    return this.call('read', { handle, len: Math.min(len, MAX_PAYLOAD), pos });
  }
  write(handle, data, pos) {
    if (typeof handle === 'object') return { errno: 8 }; // EBADF: opened for reading
    return this.call('write', { handle, pos }, data.subarray(0, MAX_PAYLOAD));
  }
  fstat(handle) { return typeof handle === 'object' ? handle.stat : this.call('fstat', { handle }); }
  truncate(handle, size) { return typeof handle === 'object' ? { errno: 8 } : this.call('truncate', { handle, size }); }
  sync(handle) { return typeof handle === 'object' ? {} : this.call('sync', { handle }); }
  close(handle) { return typeof handle === 'object' ? {} : this.call('close', { handle }); }
  readdir(root, rel) { return this.call('readdir', { root, rel }); }
  mkdir(root, rel) { return this.call('mkdir', { root, rel }); }
  rmdir(root, rel) { return this.call('rmdir', { root, rel }); }
  unlink(root, rel) { return this.call('unlink', { root, rel }); }
  rename(root, rel, root2, rel2) { return this.call('rename', { root, rel, root2, rel2 }); }
  link(root, rel, root2, rel2) { return this.call('link', { root, rel, root2, rel2 }); }
  symlink(target, root, rel) { return this.call('symlink', { target, root, rel }); }
  readlink(root, rel) { return this.call('readlink', { root, rel }); }
  setTimes(root, rel, follow, atim, mtim) {
    return this.call('setTimes', { root, rel, follow, atim: time(atim), mtim: time(mtim) });
  }
  fsetTimes(handle, atim, mtim) {
    if (typeof handle === 'object') return { errno: 8 };
    return this.call('fsetTimes', { handle, atim: time(atim), mtim: time(mtim) });
  }
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch ${url}: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** An error as text: V8's `stack` starts with the error's name and message,
 *  SpiderMonkey's holds only the frames. */
export function describe(e) {
  const stack = e?.stack ?? '';
  return stack.startsWith(`${e}`) ? stack : `${e}${stack ? `\n${stack}` : ''}`;
}

/** Runs the program of the run at `base`; its calls go through `shared`
 *  (sharedCaller) if given, by XMLHttpRequest otherwise. */
export async function runRemote(base, shared) {
  let call = xhrCaller(base);
  /** Writes all of `bytes` to the runner's stdout or stderr. */
  const out = (fd) => (bytes) => {
    for (let at = 0; at < bytes.length; at += MAX_PAYLOAD) call('out', { fd }, bytes.subarray(at, at + MAX_PAYLOAD));
  };
  try {
    const config = await (await fetch(`${base}config.json`)).json();
    // config.transport 'xhr': XMLHttpRequest even where the page offers more.
    if (shared?.byteLength >= SHARED_BYTES && config.transport !== 'xhr') call = sharedCaller(shared);
    const [libdl, program] = await Promise.all([fetchBytes(`${base}libdl.so`), fetchBytes(`${base}program.wasm`)]);
    const fs = new RemoteFs(call);
    const wasi = new BrowserWasi({
      args: config.args,
      env: config.env,
      mounts: config.dirs.map((guest, root) => ({ guest, fs, root })),
      stdout: out(1),
      stderr: out(2),
      stdin: (max) => call('stdin', { max: Math.min(max, MAX_PAYLOAD) }).data,
      sleep: (ms) => call('sleep', { ms }),
    });
    let status;
    try {
      status = runProcess({
        libdl,
        program,
        wasi,
        stackSize: config.stackSize ?? undefined,
        libdlName: config.libdlName,
        programName: config.args[0],
      });
    } catch (e) {
      if (!(e instanceof ProcessFailure)) throw e;
      out(2)(encoder.encode(`wasmdl: ${e.message}\n`));
      status = e.exitCode;
    }
    call('exit', { status });
  } catch (e) {
    call('error', { message: describe(e) });
  }
}
