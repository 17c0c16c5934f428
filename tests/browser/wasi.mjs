// A WASI preview 1 for the browser, with the interface of Node's `node:wasi`
// that host-abi/js/wasmdl.mjs expects: `wasiImport` and `start(instance)`,
// which binds the functions to `instance.exports.memory`, calls
// `instance.exports._start()` and returns the status given to `proc_exit`
// (0 if `_start` returns).
//
// The file system is behind a small synchronous interface (FS below), with
// two implementations:
//   MemoryFs   read-only directory trees held in memory, fetched before the
//              program starts (the demo page, index.html + worker.mjs)
//   RemoteFs   (remote.mjs) the host's files, through synchronous requests
//              from the Worker to the process that started the run
//              (runner.mjs and run-host.mjs): reading, writing, creating,
//              removing, renaming, listing, links, times
// The rest: arguments, environment, stdin (a callback; end of file without
// one), stdout and stderr (callbacks), clocks, sleeping (poll_oneoff on
// clocks: a callback that blocks, or a busy wait), random, proc_exit.
// Sockets and proc_raise return ENOSYS.
//
// Paths are resolved here, lexically: `..` may climb within a preopened
// directory, never above it (ENOTCAPABLE). The FS sees a root (its own
// token for a preopen) and a path relative to it, with no `.`, `..` or
// empty parts ('' is the root itself). A test host, not a sandbox: RemoteFs
// follows symbolic links wherever they point, as the host's kernel does.
//
// The FS interface (every method synchronous; a failure is { errno }):
//   stat(root, rel, follow)        -> stat
//   open(root, rel, { oflags, read, write, append, follow })
//                                  -> { dir: true, stat } or { handle, stat }
//   read(handle, len, pos)         -> { data: Uint8Array }  (shorter at the end)
//   write(handle, data, pos)       -> { n, end }  (pos null: append; end: the new position)
//   fstat(handle) -> stat; truncate(handle, size); sync(handle); close(handle)
//   readdir(root, rel)             -> { entries: [{ name, filetype, ino }] } ('.' and '..' first)
//   mkdir, rmdir, unlink (root, rel); rename(root, rel, root2, rel2);
//   link(root, rel, root2, rel2); symlink(target, root, rel); readlink(root, rel) -> { target }
//   setTimes(root, rel, follow, atim, mtim, flags) / fsetTimes(handle, atim, mtim, flags)
// where a stat is { filetype, dev, ino, nlink, size, atim, mtim, ctim }
// (numbers or BigInts; times in nanoseconds) and an unsupported method
// returns { errno: ENOSYS } or is absent.

export const E = {
  SUCCESS: 0, ACCES: 2, AGAIN: 6, BADF: 8, BUSY: 10, EXIST: 20, FAULT: 21, FBIG: 22, INTR: 27, INVAL: 28,
  IO: 29, ISDIR: 31, LOOP: 32, MFILE: 33, MLINK: 34, NAMETOOLONG: 37, NFILE: 41, NODEV: 43, NOENT: 44,
  NOMEM: 48, NOSPC: 51, NOSYS: 52, NOTDIR: 54, NOTEMPTY: 55, NOTSUP: 58, NOTTY: 59, NXIO: 60,
  OVERFLOW: 61, PERM: 63, PIPE: 64, RANGE: 68, ROFS: 69, SPIPE: 70, TXTBSY: 74, XDEV: 75, NOTCAPABLE: 76,
};

export const FILETYPE = { UNKNOWN: 0, BLOCK_DEVICE: 1, CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4, SYMBOLIC_LINK: 7 };

export const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 };
const FDFLAGS_APPEND = 1;
const LOOKUP_SYMLINK_FOLLOW = 1;
const FSTFLAGS = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 };
const RIGHT_FD_READ = 1n << 1n;
const RIGHT_FD_WRITE = 1n << 6n;
const ALL_RIGHTS = 0x1fffffffn;

/** Thrown by proc_exit to unwind the guest; `start` turns it into a status. */
export class WasiExit extends Error {
  constructor(code) {
    super(`proc_exit(${code})`);
    this.code = code;
  }
}

// Every preview 1 function, so that programs importing all of them link.
const ALL = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get', 'sock_accept',
  'sock_recv', 'sock_send', 'sock_shutdown',
];

/**
 * Read-only directory trees in memory: a tree is { name: Uint8Array (a
 * file) or tree (a directory) }; one Uint8Array in two places is one file
 * (one inode), as a hard or symbolic link is. A root is a tree.
 */
export class MemoryFs {
  constructor() {
    this.inodes = new WeakMap();
    this.lastInode = 0n;
  }
  inode(object) {
    let ino = this.inodes.get(object);
    if (ino === undefined) {
      ino = ++this.lastInode;
      this.inodes.set(object, ino);
    }
    return ino;
  }
  find(root, rel) {
    let here = root;
    for (const part of rel ? rel.split('/') : []) {
      if (here instanceof Uint8Array) return { errno: E.NOTDIR };
      if (!Object.hasOwn(here, part)) return { errno: E.NOENT };
      here = here[part];
    }
    return { entry: here };
  }
  statOf(entry) {
    const file = entry instanceof Uint8Array;
    return {
      filetype: file ? FILETYPE.REGULAR_FILE : FILETYPE.DIRECTORY,
      dev: 1, ino: this.inode(entry), nlink: 1, size: file ? entry.length : 0, atim: 0, mtim: 0, ctim: 0,
    };
  }
  stat(root, rel) {
    const found = this.find(root, rel);
    return found.errno ? found : this.statOf(found.entry);
  }
  open(root, rel, { oflags, write }) {
    const found = this.find(root, rel);
    if (found.errno) return found.errno === E.NOENT && oflags & OFLAGS.CREAT ? { errno: E.ROFS } : found;
    if (oflags & OFLAGS.CREAT && oflags & OFLAGS.EXCL) return { errno: E.EXIST };
    const stat = this.statOf(found.entry);
    if (!(found.entry instanceof Uint8Array)) return write ? { errno: E.ISDIR } : { dir: true, stat };
    if (oflags & OFLAGS.DIRECTORY) return { errno: E.NOTDIR };
    if (write || oflags & OFLAGS.TRUNC) return { errno: E.ROFS };
    return { handle: found.entry, stat };
  }
  read(data, len, pos) {
    return { data: data.subarray(pos, pos + len) };
  }
  fstat(data) {
    return this.statOf(data);
  }
  close() {
    return {};
  }
  readdir(root, rel) {
    const found = this.find(root, rel);
    if (found.errno) return found;
    if (found.entry instanceof Uint8Array) return { errno: E.NOTDIR };
    const entries = [
      { name: '.', filetype: FILETYPE.DIRECTORY, ino: this.inode(found.entry) },
      { name: '..', filetype: FILETYPE.DIRECTORY, ino: 0 },
    ];
    for (const [name, entry] of Object.entries(found.entry)) {
      const { filetype, ino } = this.statOf(entry);
      entries.push({ name, filetype, ino });
    }
    return { entries };
  }
  write() { return { errno: E.BADF }; }
  truncate() { return { errno: E.ROFS }; }
  sync() { return {}; }
  mkdir() { return { errno: E.ROFS }; }
  rmdir() { return { errno: E.ROFS }; }
  unlink() { return { errno: E.ROFS }; }
  rename() { return { errno: E.ROFS }; }
  link() { return { errno: E.ROFS }; }
  symlink() { return { errno: E.ROFS }; }
  readlink(root, rel) {
    const found = this.find(root, rel);
    return found.errno ? found : { errno: E.INVAL };
  }
  setTimes() { return { errno: E.ROFS }; }
  fsetTimes() { return { errno: E.ROFS }; }
}

export class BrowserWasi {
  /**
   * args: [argv0, ...]; env: { NAME: VALUE };
   * preopens: { guestPath: tree } (MemoryFs trees, see above);
   * mounts: [{ guest, fs, root }] (directories of another FS, after the preopens);
   * stdout, stderr: (bytes: Uint8Array) => void;
   * stdin: (max: number) => Uint8Array (empty at the end; default: always at the end);
   * sleep: (ms: number) => void, blocking (default: a busy wait).
   */
  constructor({ args = [], env = {}, preopens = {}, mounts = [], stdout = () => {}, stderr = () => {}, stdin, sleep }) {
    const enc = new TextEncoder();
    this.args = args.map((a) => enc.encode(`${a}\0`));
    this.env = Object.entries(env).map(([k, v]) => enc.encode(`${k}=${v}\0`));
    this.instance = null;
    this.stdin = stdin ?? (() => new Uint8Array(0));
    this.sleep = sleep ?? ((ms) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    });
    const stdio = (filetype, rights) => ({ kind: 'stdio', filetype, rights, inheriting: 0n, flags: 0 });
    // The fd table: 0-2 stdio, then one fd per preopened directory.
    this.fds = new Map([
      [0, { ...stdio(FILETYPE.CHARACTER_DEVICE, ALL_RIGHTS & ~RIGHT_FD_WRITE), read: true }],
      [1, { ...stdio(FILETYPE.CHARACTER_DEVICE, ALL_RIGHTS & ~RIGHT_FD_READ), write: stdout }],
      [2, { ...stdio(FILETYPE.CHARACTER_DEVICE, ALL_RIGHTS & ~RIGHT_FD_READ), write: stderr }],
    ]);
    const memory = new MemoryFs();
    const all = [...Object.entries(preopens).map(([guest, tree]) => ({ guest, fs: memory, root: tree })), ...mounts];
    for (const { guest, fs, root } of all) {
      this.fds.set(this.fds.size, { ...this.dirEntry(fs, root, ''), preopen: enc.encode(guest) });
    }
    this.wasiImport = {};
    for (const name of ALL) {
      const impl = this[name];
      this.wasiImport[name] = impl ? impl.bind(this) : () => E.NOSYS;
    }
  }

  dirEntry(fs, root, rel) {
    return { kind: 'dir', fs, root, rel, filetype: FILETYPE.DIRECTORY, rights: ALL_RIGHTS, inheriting: ALL_RIGHTS, flags: 0 };
  }

  start(instance) {
    this.instance = instance;
    try {
      instance.exports._start();
      return 0;
    } catch (e) {
      if (e instanceof WasiExit) return e.code;
      throw e;
    }
  }

  // Views of the memory, made per call: memory.grow detaches old buffers.
  get view() {
    return new DataView(this.instance.exports.memory.buffer);
  }
  get bytes() {
    return new Uint8Array(this.instance.exports.memory.buffer);
  }
  /** Copies `src` to guest memory at `ptr`; false if it does not fit. */
  put(ptr, src) {
    const mem = this.bytes;
    if (ptr + src.length > mem.length) return false;
    mem.set(src, ptr);
    return true;
  }
  /** Runs `fn`, turning a memory access out of bounds into EFAULT. */
  guard(fn) {
    try {
      return fn();
    } catch (e) {
      if (e instanceof RangeError) return E.FAULT;
      throw e;
    }
  }
  /** The buffers of an iovec array: [{ ptr, len }]. */
  iovecs(iovs, count) {
    const v = this.view;
    const list = [];
    for (let i = 0; i < count; i++) list.push({ ptr: v.getUint32(iovs + 8 * i, true), len: v.getUint32(iovs + 8 * i + 4, true) });
    return list;
  }
  /** The bytes of an iovec array, gathered (a copy). */
  gather(iovs, count) {
    const list = this.iovecs(iovs, count);
    const total = list.reduce((n, b) => n + b.len, 0);
    const out = new Uint8Array(total);
    const mem = this.bytes;
    let at = 0;
    for (const { ptr, len } of list) {
      if (ptr + len > mem.length) throw new RangeError('iovec out of bounds');
      out.set(mem.subarray(ptr, ptr + len), at);
      at += len;
    }
    return out;
  }
  /** Scatters `data` into an iovec array; returns the bytes placed. */
  scatter(iovs, count, data) {
    let at = 0;
    for (const { ptr, len } of this.iovecs(iovs, count)) {
      if (at >= data.length) break;
      const chunk = data.subarray(at, at + len);
      if (!this.put(ptr, chunk)) throw new RangeError('iovec out of bounds');
      at += chunk.length;
    }
    return at;
  }
  string(ptr, len) {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(this.instance.exports.memory.buffer, ptr, len));
  }

  // -- arguments and environment ---------------------------------------------
  stringsSizes(list, countPtr, sizePtr) {
    return this.guard(() => {
      this.view.setUint32(countPtr, list.length, true);
      this.view.setUint32(sizePtr, list.reduce((n, s) => n + s.length, 0), true);
      return E.SUCCESS;
    });
  }
  stringsGet(list, ptrsPtr, bufPtr) {
    return this.guard(() => {
      for (const [i, s] of list.entries()) {
        this.view.setUint32(ptrsPtr + 4 * i, bufPtr, true);
        if (!this.put(bufPtr, s)) return E.FAULT;
        bufPtr += s.length;
      }
      return E.SUCCESS;
    });
  }
  args_sizes_get(c, s) { return this.stringsSizes(this.args, c, s); }
  args_get(p, b) { return this.stringsGet(this.args, p, b); }
  environ_sizes_get(c, s) { return this.stringsSizes(this.env, c, s); }
  environ_get(p, b) { return this.stringsGet(this.env, p, b); }

  // -- clocks, random, process -------------------------------------------------
  /** Clock `id` now, in nanoseconds: 0 realtime, 1 monotonic (2, 3: CPU
   *  time, approximated by monotonic); undefined for another id. */
  now(id) {
    if (id === 0) return BigInt(Date.now()) * 1000000n;
    if (id >= 1 && id <= 3) return BigInt(Math.round(performance.now() * 1e6));
    return undefined;
  }
  clock_res_get(id, ptr) {
    if (this.now(id) === undefined) return E.INVAL;
    return this.guard(() => (this.view.setBigUint64(ptr, 1000n, true), E.SUCCESS));
  }
  clock_time_get(id, precision, ptr) {
    const t = this.now(id);
    if (t === undefined) return E.INVAL;
    return this.guard(() => (this.view.setBigUint64(ptr, t, true), E.SUCCESS));
  }
  random_get(ptr, len) {
    return this.guard(() => {
      const buf = new Uint8Array(this.instance.exports.memory.buffer, ptr, len);
      for (let i = 0; i < len; i += 65536) crypto.getRandomValues(buf.subarray(i, Math.min(len, i + 65536)));
      return E.SUCCESS;
    });
  }
  proc_exit(code) {
    throw new WasiExit(code >>> 0);
  }
  sched_yield() {
    return E.SUCCESS;
  }
  /** Clock subscriptions sleep until the earliest one is due; fd
   *  subscriptions are ready at once (stdin and files never block here). */
  poll_oneoff(inPtr, outPtr, nsubs, neventsPtr) {
    if (nsubs === 0) return E.INVAL;
    return this.guard(() => {
      const v = this.view;
      const subs = [];
      for (let i = 0; i < nsubs; i++) {
        const p = inPtr + 48 * i;
        const sub = { userdata: v.getBigUint64(p, true), tag: v.getUint8(p + 8) };
        if (sub.tag === 0) {
          const id = v.getUint32(p + 16, true);
          const timeout = v.getBigUint64(p + 24, true);
          const abs = v.getUint16(p + 40, true) & 1;
          const now = this.now(id);
          if (now === undefined) sub.error = E.INVAL;
          else sub.deadline = { id, at: abs ? timeout : now + timeout };
        } else if (sub.tag === 1 || sub.tag === 2) {
          sub.fd = v.getUint32(p + 16, true);
          if (!this.fds.has(sub.fd)) sub.error = E.BADF;
        } else sub.error = E.INVAL;
        subs.push(sub);
      }
      const ready = (s) => s.error !== undefined || s.fd !== undefined || this.now(s.deadline.id) >= s.deadline.at;
      for (;;) {
        if (subs.some(ready)) break;
        let wait = Infinity;
        for (const s of subs) wait = Math.min(wait, Number(s.deadline.at - this.now(s.deadline.id)) / 1e6);
        this.sleep(Math.max(1, Math.ceil(wait)));
      }
      let n = 0;
      for (const s of subs) {
        if (!ready(s)) continue;
        const p = outPtr + 32 * n++;
        for (let i = 0; i < 32; i += 8) v.setBigUint64(p + i, 0n, true);
        v.setBigUint64(p, s.userdata, true);
        v.setUint16(p + 8, s.error ?? 0, true);
        v.setUint8(p + 10, s.tag);
      }
      v.setUint32(neventsPtr, n, true);
      return E.SUCCESS;
    });
  }

  // -- file descriptors ----------------------------------------------------------
  /** The lowest free fd. */
  newFd(entry) {
    let fd = 3;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, entry);
    return fd;
  }
  fd_write(fd, iovs, count, nwrittenPtr) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    return this.guard(() => {
      const data = this.gather(iovs, count);
      let n;
      if (f.kind === 'stdio') {
        if (!f.write) return E.BADF;
        if (data.length) f.write(data);
        n = data.length;
      } else if (f.kind === 'file') {
        if (!f.writable) return E.BADF;
        const r = f.fs.write(f.handle, data, f.append ? null : f.pos);
        if (r.errno) return r.errno;
        n = r.n;
        f.pos = r.end;
      } else return E.BADF;
      this.view.setUint32(nwrittenPtr, n, true);
      return E.SUCCESS;
    });
  }
  fd_pwrite(fd, iovs, count, offset, nwrittenPtr) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    if (f.kind !== 'file') return f.kind === 'stdio' ? E.SPIPE : E.BADF;
    if (!f.writable) return E.BADF;
    return this.guard(() => {
      const r = f.fs.write(f.handle, this.gather(iovs, count), Number(offset));
      if (r.errno) return r.errno;
      this.view.setUint32(nwrittenPtr, r.n, true);
      return E.SUCCESS;
    });
  }
  fd_read(fd, iovs, count, nreadPtr) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    if (f.kind === 'dir') return E.ISDIR;
    return this.guard(() => {
      const total = this.iovecs(iovs, count).reduce((n, b) => n + b.len, 0);
      let data;
      if (f.kind === 'stdio') {
        if (!f.read) return E.BADF;
        data = total ? this.stdin(total) : new Uint8Array(0);
      } else {
        if (!f.readable) return E.BADF;
        const r = f.fs.read(f.handle, total, f.pos);
        if (r.errno) return r.errno;
        data = r.data;
        f.pos += data.length;
      }
      this.view.setUint32(nreadPtr, this.scatter(iovs, count, data), true);
      return E.SUCCESS;
    });
  }
  fd_pread(fd, iovs, count, offset, nreadPtr) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    if (f.kind !== 'file') return f.kind === 'dir' ? E.ISDIR : E.SPIPE;
    if (!f.readable) return E.BADF;
    return this.guard(() => {
      const total = this.iovecs(iovs, count).reduce((n, b) => n + b.len, 0);
      const r = f.fs.read(f.handle, total, Number(offset));
      if (r.errno) return r.errno;
      this.view.setUint32(nreadPtr, this.scatter(iovs, count, r.data), true);
      return E.SUCCESS;
    });
  }
  fd_seek(fd, offset, whence, newOffsetPtr) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    if (f.kind !== 'file') return f.kind === 'dir' ? E.BADF : E.SPIPE;
    let base;
    if (whence === 0) base = 0;
    else if (whence === 1) base = f.pos;
    else if (whence === 2) {
      const st = f.fs.fstat(f.handle);
      if (st.errno) return st.errno;
      base = Number(st.size);
    } else return E.INVAL;
    const pos = BigInt(base) + offset;
    if (pos < 0n) return E.INVAL;
    f.pos = Number(pos);
    return this.guard(() => (this.view.setBigUint64(newOffsetPtr, pos, true), E.SUCCESS));
  }
  fd_tell(fd, ptr) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    if (f.kind !== 'file') return f.kind === 'dir' ? E.BADF : E.SPIPE;
    return this.guard(() => (this.view.setBigUint64(ptr, BigInt(f.pos), true), E.SUCCESS));
  }
  fd_close(fd) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    this.fds.delete(fd);
    if (f.kind === 'file') {
      const r = f.fs.close(f.handle);
      if (r.errno) return r.errno;
    }
    return E.SUCCESS;
  }
  fd_renumber(from, to) {
    const f = this.fds.get(from);
    if (!f || !this.fds.has(to)) return E.BADF;
    if (from === to) return E.SUCCESS;
    this.fd_close(to);
    this.fds.set(to, f);
    this.fds.delete(from);
    return E.SUCCESS;
  }
  fd_fdstat_get(fd, ptr) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    return this.guard(() => {
      const v = this.view;
      v.setUint8(ptr, f.filetype);
      v.setUint16(ptr + 2, f.flags, true);
      v.setBigUint64(ptr + 8, f.rights, true);
      v.setBigUint64(ptr + 16, f.inheriting, true);
      return E.SUCCESS;
    });
  }
  fd_fdstat_set_flags(fd, flags) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    f.flags = flags;
    if (f.kind === 'file') f.append = (flags & FDFLAGS_APPEND) !== 0;
    return E.SUCCESS;
  }
  fd_fdstat_set_rights(fd, rights, inheriting) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    if ((rights & ~f.rights) !== 0n || (inheriting & ~f.inheriting) !== 0n) return E.NOTCAPABLE;
    f.rights = rights;
    f.inheriting = inheriting;
    return E.SUCCESS;
  }
  fd_advise(fd) {
    return this.fds.has(fd) ? E.SUCCESS : E.BADF;
  }
  fd_allocate(fd, offset, len) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    if (f.kind !== 'file') return E.BADF;
    const st = f.fs.fstat(f.handle);
    if (st.errno) return st.errno;
    const end = Number(offset + len);
    if (end <= Number(st.size)) return E.SUCCESS;
    return f.fs.truncate(f.handle, end).errno ?? E.SUCCESS;
  }
  fd_sync(fd) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    return f.kind === 'file' ? (f.fs.sync(f.handle).errno ?? E.SUCCESS) : E.SUCCESS;
  }
  fd_datasync(fd) {
    return this.fd_sync(fd);
  }
  /** A filestat (64 bytes): dev, ino, filetype, nlink, size, atim, mtim, ctim. */
  writeFilestat(ptr, st) {
    if (st.errno) return st.errno;
    return this.guard(() => {
      const v = this.view;
      for (let i = 0; i < 64; i += 8) v.setBigUint64(ptr + i, 0n, true);
      v.setBigUint64(ptr, BigInt(st.dev), true);
      v.setBigUint64(ptr + 8, BigInt(st.ino), true);
      v.setUint8(ptr + 16, st.filetype);
      v.setBigUint64(ptr + 24, BigInt(st.nlink), true);
      v.setBigUint64(ptr + 32, BigInt(st.size), true);
      v.setBigUint64(ptr + 40, BigInt(st.atim), true);
      v.setBigUint64(ptr + 48, BigInt(st.mtim), true);
      v.setBigUint64(ptr + 56, BigInt(st.ctim), true);
      return E.SUCCESS;
    });
  }
  fd_filestat_get(fd, ptr) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    if (f.kind === 'file') return this.writeFilestat(ptr, f.fs.fstat(f.handle));
    if (f.kind === 'dir') return this.writeFilestat(ptr, f.fs.stat(f.root, f.rel, true));
    return this.writeFilestat(ptr, { filetype: f.filetype, dev: 0, ino: 0, nlink: 1, size: 0, atim: 0, mtim: 0, ctim: 0 });
  }
  fd_filestat_set_size(fd, size) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    if (f.kind !== 'file') return E.BADF;
    return f.fs.truncate(f.handle, Number(size)).errno ?? E.SUCCESS;
  }
  times(atim, mtim, flags) {
    if ((flags & FSTFLAGS.ATIM && flags & FSTFLAGS.ATIM_NOW) || (flags & FSTFLAGS.MTIM && flags & FSTFLAGS.MTIM_NOW)) return null;
    const now = this.now(0);
    return {
      atim: flags & FSTFLAGS.ATIM_NOW ? now : flags & FSTFLAGS.ATIM ? atim : null,
      mtim: flags & FSTFLAGS.MTIM_NOW ? now : flags & FSTFLAGS.MTIM ? mtim : null,
    };
  }
  fd_filestat_set_times(fd, atim, mtim, flags) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    const t = this.times(atim, mtim, flags);
    if (!t) return E.INVAL;
    if (f.kind === 'file') return f.fs.fsetTimes(f.handle, t.atim, t.mtim).errno ?? E.SUCCESS;
    if (f.kind === 'dir') return f.fs.setTimes(f.root, f.rel, true, t.atim, t.mtim).errno ?? E.SUCCESS;
    return E.SUCCESS;
  }
  fd_prestat_get(fd, ptr) {
    const f = this.fds.get(fd);
    if (!f || !f.preopen) return E.BADF;
    return this.guard(() => {
      this.view.setUint8(ptr, 0); // a directory
      this.view.setUint32(ptr + 4, f.preopen.length, true);
      return E.SUCCESS;
    });
  }
  fd_prestat_dir_name(fd, ptr, len) {
    const f = this.fds.get(fd);
    if (!f || !f.preopen) return E.BADF;
    if (len < f.preopen.length) return E.INVAL;
    return this.put(ptr, f.preopen) ? E.SUCCESS : E.FAULT;
  }
  /** Directory entries (24-byte headers: next cookie, inode, name length,
   *  type; then the name), from entry `cookie` on, as many as fit. */
  fd_readdir(fd, buf, bufLen, cookie, bufusedPtr) {
    const f = this.fds.get(fd);
    if (!f) return E.BADF;
    if (f.kind !== 'dir') return E.NOTDIR;
    if (cookie === 0n || !f.listing) {
      const r = f.fs.readdir(f.root, f.rel);
      if (r.errno) return r.errno;
      const enc = new TextEncoder();
      f.listing = r.entries.map((e) => ({ ...e, name: enc.encode(e.name) }));
    }
    return this.guard(() => {
      const out = new Uint8Array(bufLen);
      let used = 0;
      for (let i = Number(cookie); i < f.listing.length && used < bufLen; i++) {
        const e = f.listing[i];
        const record = new Uint8Array(24 + e.name.length);
        const rv = new DataView(record.buffer);
        rv.setBigUint64(0, BigInt(i + 1), true);
        rv.setBigUint64(8, BigInt(e.ino), true);
        rv.setUint32(16, e.name.length, true);
        rv.setUint8(20, e.filetype);
        record.set(e.name, 24);
        const n = Math.min(record.length, bufLen - used);
        out.set(record.subarray(0, n), used);
        used += n;
      }
      if (!this.put(buf, out.subarray(0, used))) return E.FAULT;
      this.view.setUint32(bufusedPtr, used, true);
      return E.SUCCESS;
    });
  }

  // -- paths -------------------------------------------------------------------------
  /** Where `path` (in guest memory) leads from directory fd `dirFd`:
   *  { fs, root, rel } or { errno }. */
  resolve(dirFd, pathPtr, pathLen) {
    const dir = this.fds.get(dirFd);
    if (!dir) return { errno: E.BADF };
    if (dir.kind !== 'dir') return { errno: E.NOTDIR };
    let path;
    try {
      path = this.string(pathPtr, pathLen);
    } catch (e) {
      return { errno: e instanceof RangeError ? E.FAULT : E.INVAL };
    }
    return this.resolveString(dir, path);
  }
  resolveString(dir, path) {
    if (path === '') return { errno: E.NOENT };
    if (path.startsWith('/')) return { errno: E.NOTCAPABLE };
    const parts = dir.rel ? dir.rel.split('/') : [];
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (!parts.length) return { errno: E.NOTCAPABLE };
        parts.pop();
      } else parts.push(part);
    }
    return { fs: dir.fs, root: dir.root, rel: parts.join('/') };
  }
  path_open(dirFd, dirflags, pathPtr, pathLen, oflags, rightsBase, rightsInheriting, fdflags, fdPtr) {
    const at = this.resolve(dirFd, pathPtr, pathLen);
    if (at.errno) return at.errno;
    const read = (rightsBase & RIGHT_FD_READ) !== 0n;
    const write = (rightsBase & RIGHT_FD_WRITE) !== 0n;
    const append = (fdflags & FDFLAGS_APPEND) !== 0;
    const r = at.fs.open(at.root, at.rel, { oflags, read, write, append, follow: (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0 });
    if (r.errno) return r.errno;
    const entry = r.dir
      ? { ...this.dirEntry(at.fs, at.root, at.rel), rights: rightsBase, inheriting: rightsInheriting }
      : {
          kind: 'file', fs: at.fs, handle: r.handle, pos: 0, append, readable: read, writable: write,
          filetype: FILETYPE.REGULAR_FILE, rights: rightsBase, inheriting: rightsInheriting, flags: fdflags,
        };
    const fd = this.newFd(entry);
    return this.guard(() => (this.view.setUint32(fdPtr, fd, true), E.SUCCESS));
  }
  path_filestat_get(dirFd, flags, pathPtr, pathLen, ptr) {
    const at = this.resolve(dirFd, pathPtr, pathLen);
    if (at.errno) return at.errno;
    return this.writeFilestat(ptr, at.fs.stat(at.root, at.rel, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0));
  }
  path_filestat_set_times(dirFd, flags, pathPtr, pathLen, atim, mtim, fstflags) {
    const at = this.resolve(dirFd, pathPtr, pathLen);
    if (at.errno) return at.errno;
    const t = this.times(atim, mtim, fstflags);
    if (!t) return E.INVAL;
    return at.fs.setTimes(at.root, at.rel, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0, t.atim, t.mtim).errno ?? E.SUCCESS;
  }
  path_create_directory(dirFd, pathPtr, pathLen) {
    const at = this.resolve(dirFd, pathPtr, pathLen);
    if (at.errno) return at.errno;
    return at.fs.mkdir(at.root, at.rel).errno ?? E.SUCCESS;
  }
  path_remove_directory(dirFd, pathPtr, pathLen) {
    const at = this.resolve(dirFd, pathPtr, pathLen);
    if (at.errno) return at.errno;
    return at.fs.rmdir(at.root, at.rel).errno ?? E.SUCCESS;
  }
  path_unlink_file(dirFd, pathPtr, pathLen) {
    const at = this.resolve(dirFd, pathPtr, pathLen);
    if (at.errno) return at.errno;
    return at.fs.unlink(at.root, at.rel).errno ?? E.SUCCESS;
  }
  /** Two paths on one FS, or EXDEV. */
  twoPaths(fd1, ptr1, len1, fd2, ptr2, len2) {
    const a = this.resolve(fd1, ptr1, len1);
    if (a.errno) return a;
    const b = this.resolve(fd2, ptr2, len2);
    if (b.errno) return b;
    if (a.fs !== b.fs) return { errno: E.XDEV };
    return { a, b };
  }
  path_rename(fd, oldPtr, oldLen, newFd, newPtr, newLen) {
    const r = this.twoPaths(fd, oldPtr, oldLen, newFd, newPtr, newLen);
    if (r.errno) return r.errno;
    return r.a.fs.rename(r.a.root, r.a.rel, r.b.root, r.b.rel).errno ?? E.SUCCESS;
  }
  path_link(oldFd, oldFlags, oldPtr, oldLen, newFd, newPtr, newLen) {
    const r = this.twoPaths(oldFd, oldPtr, oldLen, newFd, newPtr, newLen);
    if (r.errno) return r.errno;
    return r.a.fs.link(r.a.root, r.a.rel, r.b.root, r.b.rel).errno ?? E.SUCCESS;
  }
  path_symlink(targetPtr, targetLen, dirFd, pathPtr, pathLen) {
    let target;
    try {
      target = this.string(targetPtr, targetLen);
    } catch (e) {
      return e instanceof RangeError ? E.FAULT : E.INVAL;
    }
    const at = this.resolve(dirFd, pathPtr, pathLen);
    if (at.errno) return at.errno;
    return at.fs.symlink(target, at.root, at.rel).errno ?? E.SUCCESS;
  }
  path_readlink(dirFd, pathPtr, pathLen, buf, bufLen, bufusedPtr) {
    const at = this.resolve(dirFd, pathPtr, pathLen);
    if (at.errno) return at.errno;
    const r = at.fs.readlink(at.root, at.rel);
    if (r.errno) return r.errno;
    return this.guard(() => {
      const bytes = new TextEncoder().encode(r.target).subarray(0, bufLen);
      if (!this.put(buf, bytes)) return E.FAULT;
      this.view.setUint32(bufusedPtr, bytes.length, true);
      return E.SUCCESS;
    });
  }
}
