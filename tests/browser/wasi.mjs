// A minimal WASI preview 1 for the browser, with the interface of Node's
// `node:wasi` that host-abi/js/wasmdl.mjs expects: `wasiImport` and
// `start(instance)`, which binds the functions to `instance.exports.memory`,
// calls `instance.exports._start()` and returns the status given to
// `proc_exit` (0 if `_start` returns).
//
// What it supports: arguments, environment, stdout/stderr (to callbacks),
// read-only preopened directory trees held in memory (path_open, fd_read,
// fd_seek, fd_filestat_get, fd_close, ...; `..` within a preopen), clocks,
// random, proc_exit.
// Everything else returns ENOSYS. Enough for programs that dlopen plugins
// fetched over HTTP.

const ESUCCESS = 0;
const EBADF = 8;
const EFAULT = 21;
const EINVAL = 28;
const EISDIR = 31;
const ENOENT = 44;
const ENOSYS = 52;
const ENOTDIR = 54;
const EROFS = 69;
const ESPIPE = 70;
const ENOTCAPABLE = 76;

const FILETYPE_CHARACTER_DEVICE = 2;
const FILETYPE_DIRECTORY = 3;
const FILETYPE_REGULAR_FILE = 4;

const OFLAGS_CREAT = 1;
const OFLAGS_DIRECTORY = 2;
const OFLAGS_EXCL = 4;
const OFLAGS_TRUNC = 8;

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

export class BrowserWasi {
  /**
   * args: [argv0, ...]; env: { NAME: VALUE };
   * preopens: { guestPath: tree }, a tree being { name: Uint8Array (a file)
   *   or tree (a directory) }; one Uint8Array in two places is one file
   *   (one inode), as a hard or symbolic link is;
   * stdout, stderr: (bytes: Uint8Array) => void.
   */
  constructor({ args = [], env = {}, preopens = {}, stdout = () => {}, stderr = () => {} }) {
    const enc = new TextEncoder();
    this.args = args.map((a) => enc.encode(`${a}\0`));
    this.env = Object.entries(env).map(([k, v]) => enc.encode(`${k}=${v}\0`));
    this.instance = null;
    // The fd table: 0-2 stdio, then one fd per preopened directory.
    this.fds = new Map([
      [0, { type: 'stdin' }],
      [1, { type: 'out', write: stdout }],
      [2, { type: 'out', write: stderr }],
    ]);
    for (const [name, files] of Object.entries(preopens)) {
      this.fds.set(this.fds.size, { type: 'dir', name: enc.encode(name), trail: [{ files }], preopen: true });
    }
    this.nextFd = this.fds.size;
    this.wasiImport = {};
    for (const name of ALL) {
      const impl = this[name];
      this.wasiImport[name] = impl ? impl.bind(this) : () => ENOSYS;
    }
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
      if (e instanceof RangeError) return EFAULT;
      throw e;
    }
  }

  // -- arguments and environment ---------------------------------------------
  stringsSizes(list, countPtr, sizePtr) {
    return this.guard(() => {
      this.view.setUint32(countPtr, list.length, true);
      this.view.setUint32(sizePtr, list.reduce((n, s) => n + s.length, 0), true);
      return ESUCCESS;
    });
  }
  stringsGet(list, ptrsPtr, bufPtr) {
    return this.guard(() => {
      for (const [i, s] of list.entries()) {
        this.view.setUint32(ptrsPtr + 4 * i, bufPtr, true);
        if (!this.put(bufPtr, s)) return EFAULT;
        bufPtr += s.length;
      }
      return ESUCCESS;
    });
  }
  args_sizes_get(c, s) { return this.stringsSizes(this.args, c, s); }
  args_get(p, b) { return this.stringsGet(this.args, p, b); }
  environ_sizes_get(c, s) { return this.stringsSizes(this.env, c, s); }
  environ_get(p, b) { return this.stringsGet(this.env, p, b); }

  // -- clocks, random, process -------------------------------------------------
  clock_res_get(id, ptr) {
    return this.guard(() => (this.view.setBigUint64(ptr, 1000n, true), ESUCCESS));
  }
  clock_time_get(id, precision, ptr) {
    // 0 realtime, 1 monotonic (2, 3: CPU time, approximated by monotonic).
    const ms = id === 0 ? Date.now() : performance.now();
    return this.guard(() => (this.view.setBigUint64(ptr, BigInt(Math.round(ms * 1e6)), true), ESUCCESS));
  }
  random_get(ptr, len) {
    return this.guard(() => {
      const buf = new Uint8Array(this.instance.exports.memory.buffer, ptr, len);
      for (let i = 0; i < len; i += 65536) crypto.getRandomValues(buf.subarray(i, Math.min(len, i + 65536)));
      return ESUCCESS;
    });
  }
  proc_exit(code) {
    throw new WasiExit(code >>> 0);
  }
  sched_yield() {
    return ESUCCESS;
  }

  // -- file descriptors ----------------------------------------------------------
  fd_write(fd, iovs, count, nwrittenPtr) {
    const f = this.fds.get(fd);
    if (!f) return EBADF;
    if (f.type !== 'out') return EBADF; // everything else is read-only
    return this.guard(() => {
      let n = 0;
      for (let i = 0; i < count; i++) {
        const ptr = this.view.getUint32(iovs + 8 * i, true);
        const len = this.view.getUint32(iovs + 8 * i + 4, true);
        f.write(new Uint8Array(this.instance.exports.memory.buffer, ptr, len).slice());
        n += len;
      }
      this.view.setUint32(nwrittenPtr, n, true);
      return ESUCCESS;
    });
  }
  fd_read(fd, iovs, count, nreadPtr) {
    const f = this.fds.get(fd);
    if (!f) return EBADF;
    if (f.type === 'dir') return EISDIR;
    return this.guard(() => {
      let n = 0;
      if (f.type === 'file') {
        for (let i = 0; i < count; i++) {
          const ptr = this.view.getUint32(iovs + 8 * i, true);
          const len = this.view.getUint32(iovs + 8 * i + 4, true);
          const chunk = f.data.subarray(f.pos, f.pos + len);
          if (!this.put(ptr, chunk)) return EFAULT;
          f.pos += chunk.length;
          n += chunk.length;
          if (chunk.length < len) break;
        }
      } // stdin: always at end of file
      this.view.setUint32(nreadPtr, n, true);
      return ESUCCESS;
    });
  }
  fd_seek(fd, offset, whence, newOffsetPtr) {
    const f = this.fds.get(fd);
    if (!f) return EBADF;
    if (f.type !== 'file') return ESPIPE;
    const base = [0, f.pos, f.data.length][whence];
    if (base === undefined) return EINVAL;
    const pos = BigInt(base) + offset;
    if (pos < 0n) return EINVAL;
    f.pos = Number(pos);
    return this.guard(() => (this.view.setBigUint64(newOffsetPtr, pos, true), ESUCCESS));
  }
  fd_tell(fd, ptr) {
    const f = this.fds.get(fd);
    if (!f) return EBADF;
    if (f.type !== 'file') return ESPIPE;
    return this.guard(() => (this.view.setBigUint64(ptr, BigInt(f.pos), true), ESUCCESS));
  }
  fd_close(fd) {
    if (!this.fds.has(fd)) return EBADF;
    this.fds.delete(fd);
    return ESUCCESS;
  }
  fd_fdstat_get(fd, ptr) {
    const f = this.fds.get(fd);
    if (!f) return EBADF;
    const type = { dir: FILETYPE_DIRECTORY, file: FILETYPE_REGULAR_FILE }[f.type] ?? FILETYPE_CHARACTER_DEVICE;
    return this.guard(() => {
      const v = this.view;
      v.setUint8(ptr, type);
      v.setUint16(ptr + 2, 0, true); // fdflags
      v.setBigUint64(ptr + 8, 0xffffffffffffffffn, true); // rights
      v.setBigUint64(ptr + 16, 0xffffffffffffffffn, true); // inherited rights
      return ESUCCESS;
    });
  }
  fd_fdstat_set_flags() {
    return ESUCCESS;
  }
  /** A file's inode number: one per file contents object, never 0, so that
   *  programs (libdl among them) can tell two files apart. */
  inode(data) {
    this.inodes ??= new WeakMap();
    let ino = this.inodes.get(data);
    if (ino === undefined) {
      this.lastInode = (this.lastInode ?? 0n) + 1n;
      ino = this.lastInode;
      this.inodes.set(data, ino);
    }
    return ino;
  }
  /** A filestat: dev, ino, filetype, nlink, size, atim, mtim, ctim (64 bytes). */
  writeFilestat(ptr, type, size, ino = 0n) {
    return this.guard(() => {
      const v = this.view;
      for (let i = 0; i < 64; i += 8) v.setBigUint64(ptr + i, 0n, true);
      v.setBigUint64(ptr, 1n, true); // dev
      v.setBigUint64(ptr + 8, ino, true);
      v.setUint8(ptr + 16, type);
      v.setBigUint64(ptr + 24, 1n, true);
      v.setBigUint64(ptr + 32, BigInt(size), true);
      return ESUCCESS;
    });
  }
  fd_filestat_get(fd, ptr) {
    const f = this.fds.get(fd);
    if (!f) return EBADF;
    if (f.type === 'file') return this.writeFilestat(ptr, FILETYPE_REGULAR_FILE, f.data.length, this.inode(f.data));
    if (f.type === 'dir') return this.writeFilestat(ptr, FILETYPE_DIRECTORY, 0);
    return this.writeFilestat(ptr, FILETYPE_CHARACTER_DEVICE, 0);
  }
  fd_prestat_get(fd, ptr) {
    const f = this.fds.get(fd);
    if (!f || !f.preopen) return EBADF;
    return this.guard(() => {
      this.view.setUint8(ptr, 0); // a directory
      this.view.setUint32(ptr + 4, f.name.length, true);
      return ESUCCESS;
    });
  }
  fd_prestat_dir_name(fd, ptr, len) {
    const f = this.fds.get(fd);
    if (!f || !f.preopen) return EBADF;
    if (len < f.name.length) return EINVAL;
    return this.put(ptr, f.name) ? ESUCCESS : EFAULT;
  }

  // -- paths (read-only directory trees) ------------------------------------------
  /** The entry `path` names in directory fd `dirFd`: { dir } or { name, data }.
   *  `..` may climb within the preopened tree, never out of it. */
  lookup(dirFd, pathPtr, pathLen) {
    const dir = this.fds.get(dirFd);
    if (!dir) return { errno: EBADF };
    if (dir.type !== 'dir') return { errno: ENOTDIR };
    let path;
    try {
      path = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(this.instance.exports.memory.buffer, pathPtr, pathLen));
    } catch (e) {
      return { errno: e instanceof RangeError ? EFAULT : EINVAL };
    }
    if (path.startsWith('/')) return { errno: ENOTCAPABLE };
    // The directories from the preopen down to where we are.
    const trail = [...dir.trail];
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    for (const [i, part] of parts.entries()) {
      const here = trail[trail.length - 1];
      if (part === '..') {
        if (trail.length === 1) return { errno: ENOTCAPABLE };
        trail.pop();
        continue;
      }
      const entry = Object.hasOwn(here.files, part) ? here.files[part] : undefined;
      if (entry === undefined) return { errno: ENOENT };
      if (entry instanceof Uint8Array) {
        return i === parts.length - 1 ? { name: part, data: entry } : { errno: ENOTDIR };
      }
      trail.push({ name: part, files: entry });
    }
    return { dir: { trail } };
  }
  path_open(dirFd, dirflags, pathPtr, pathLen, oflags, rightsBase, rightsInheriting, fdflags, fdPtr) {
    const found = this.lookup(dirFd, pathPtr, pathLen);
    if (found.errno === ENOENT && oflags & OFLAGS_CREAT) return EROFS;
    if (found.errno) return found.errno;
    if (oflags & (OFLAGS_EXCL | OFLAGS_TRUNC)) return EROFS;
    let entry;
    if (found.dir) entry = { type: 'dir', trail: found.dir.trail };
    else if (oflags & OFLAGS_DIRECTORY) return ENOTDIR;
    else entry = { type: 'file', data: found.data, pos: 0 };
    const fd = this.nextFd++;
    this.fds.set(fd, entry);
    return this.guard(() => (this.view.setUint32(fdPtr, fd, true), ESUCCESS));
  }
  path_filestat_get(dirFd, flags, pathPtr, pathLen, ptr) {
    const found = this.lookup(dirFd, pathPtr, pathLen);
    if (found.errno) return found.errno;
    if (found.dir) return this.writeFilestat(ptr, FILETYPE_DIRECTORY, 0);
    return this.writeFilestat(ptr, FILETYPE_REGULAR_FILE, found.data.length, this.inode(found.data));
  }
}
