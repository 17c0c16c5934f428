//! What libdl needs from outside the guest: the host ABI
//! (`host-abi/SPEC.md`, import module `wasmdl_host_v0`), the guest's own
//! memory allocator, and WASI for files and the environment.
//!
//! The loader is written against the [`Host`] trait so that its planning logic
//! runs natively in unit tests with a test double; [`WasmHost`] is the real
//! implementation, and this file's `wasm` module is where its `unsafe` lives.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, HostFailure, Result};

/// Import descriptor kinds (SPEC.md, `instance_new`).
pub const IMPORT_MEMORY: u32 = 1;
pub const IMPORT_TABLE: u32 = 2;
pub const IMPORT_STACK_POINTER: u32 = 3;
pub const IMPORT_GLOBAL: u32 = 4;
pub const IMPORT_EXPORT: u32 = 5;
pub const IMPORT_HOST: u32 = 6;

/// Value types for `global_new`.
pub const VALTYPE_I32: u32 = 0x7f;

/// One import descriptor, laid out as the spec says (three little-endian u32).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportDesc {
    pub kind: u32,
    pub a: u32,
    pub b: u32,
}

impl ImportDesc {
    pub const fn new(kind: u32, a: u32, b: u32) -> Self {
        ImportDesc { kind, a, b }
    }
}

/// Handles issued by the host. Zero is never valid.
pub type ModuleHandle = u32;
pub type InstanceHandle = u32;
pub type GlobalHandle = u32;

pub trait Host {
    fn compile(&mut self, bytes: &[u8]) -> Result<ModuleHandle>;
    fn module_bytes(&mut self, module: ModuleHandle) -> Result<Vec<u8>>;
    fn module_free(&mut self, module: ModuleHandle);
    fn instantiate(
        &mut self,
        module: ModuleHandle,
        imports: &[ImportDesc],
    ) -> Result<InstanceHandle>;
    fn instance_free(&mut self, instance: InstanceHandle);
    fn export_global_get(&mut self, instance: InstanceHandle, export: u32) -> Result<u64>;
    fn export_to_table(&mut self, instance: InstanceHandle, export: u32, slot: u32) -> Result<()>;
    fn table_grow(&mut self, delta: u32) -> Result<u32>;
    fn table_clear(&mut self, index: u32, count: u32);
    fn global_new_i32(&mut self, mutable: bool, value: u32) -> Result<GlobalHandle>;
    fn global_set_i32(&mut self, global: GlobalHandle, value: u32) -> Result<()>;
    fn global_free(&mut self, global: GlobalHandle);

    /// Calls a `() -> ()` function that sits in table slot `slot`.
    fn call_slot(&mut self, slot: u32);

    /// Zeroed memory for a module's data; returns its address.
    fn mem_alloc(&mut self, size: u32, align_log2: u32) -> Result<u32>;
    fn mem_free(&mut self, addr: u32, size: u32, align_log2: u32);

    /// Reads a whole file through WASI, with the identity of the file read
    /// (from the same descriptor; None if the host gives none); `Err(errno)`
    /// on failure.
    fn read_file(&mut self, path: &str) -> core::result::Result<(Vec<u8>, Option<FileId>), u16>;
    /// The value of an environment variable of the process.
    fn getenv(&mut self, name: &str) -> Option<String>;
    /// Writes to the process's stderr (LD_DEBUG, fatal messages).
    fn stderr(&mut self, text: &str);
    /// The program's name, `argv[0]`, for `dladdr` and messages.
    fn program_name(&mut self) -> Option<String> {
        None
    }
    /// The current end of linear memory (bytes).
    fn memory_end(&mut self) -> u32 {
        0
    }
    /// Keep global `g` equal to the end of memory whenever libdl grows it
    /// (a PIE program's `__heap_base`/`__heap_end`; see dlfcn::run_program).
    fn track_memory_end(&mut self, _g: GlobalHandle) {}
    /// A monotonic clock in nanoseconds, for `LD_DEBUG=statistics` (only read
    /// when statistics are on).
    fn now_ns(&mut self) -> u64 {
        0
    }
}

/// What identifies a file, whatever path reached it: its device and inode,
/// as WASI's `filestat` gives them. glibc identifies a loaded library the
/// same way, so every spelling of a path and every symlink gives one handle.
/// Inode 0 means the host gives no identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

/// Maps a host error code to an `Error`, fetching the host's message.
pub fn failure(op: &'static str, code: i32, message: String) -> Error {
    Error::Host(HostFailure { op, code, message })
}

#[cfg(target_arch = "wasm32")]
pub use wasm::{exit, set_global_raw, WasmHost};

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod wasm {
    use super::*;
    use crate::error::errno;
    use crate::read;
    use alloc::alloc::{alloc_zeroed, dealloc, Layout};

    #[link(wasm_import_module = "wasmdl_host_v0")]
    extern "C" {
        fn last_error(buf: *mut u8, cap: u32) -> u32;
        fn module_compile(bytes: *const u8, len: u32, out_module: *mut u32) -> i32;
        fn module_bytes(module: u32, buf: *mut u8, cap: u32, out_len: *mut u32) -> i32;
        fn module_free(module: u32) -> i32;
        fn instance_new(module: u32, imports: *const ImportDesc, count: u32, out: *mut u32) -> i32;
        fn instance_free(instance: u32) -> i32;
        fn export_global_get(instance: u32, export: u32, out_value: *mut u64) -> i32;
        fn export_to_table(instance: u32, export: u32, table_index: u32) -> i32;
        fn table_grow(delta: u32, out_old_size: *mut u32) -> i32;
        fn table_clear(index: u32, count: u32) -> i32;
        fn global_new(valtype: u32, mutable: u32, value: i64, out_global: *mut u32) -> i32;
        fn global_set(global: u32, value: i64) -> i32;
        fn global_free(global: u32) -> i32;
    }

    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn fd_prestat_get(fd: u32, out: *mut [u32; 2]) -> u16;
        fn fd_prestat_dir_name(fd: u32, buf: *mut u8, len: u32) -> u16;
        fn path_open(
            dirfd: u32,
            lookupflags: u32,
            path: *const u8,
            path_len: u32,
            oflags: u32,
            rights_base: u64,
            rights_inheriting: u64,
            fdflags: u32,
            out_fd: *mut u32,
        ) -> u16;
        fn fd_filestat_get(fd: u32, out: *mut [u64; 8]) -> u16;
        fn fd_read(fd: u32, iovs: *const [u32; 2], iovs_len: u32, out_nread: *mut u32) -> u16;
        fn fd_write(fd: u32, iovs: *const [u32; 2], iovs_len: u32, out_n: *mut u32) -> u16;
        fn fd_close(fd: u32) -> u16;
        fn environ_sizes_get(out_count: *mut u32, out_size: *mut u32) -> u16;
        fn environ_get(environ: *mut *mut u8, buf: *mut u8) -> u16;
        fn args_sizes_get(out_count: *mut u32, out_size: *mut u32) -> u16;
        fn args_get(argv: *mut *mut u8, buf: *mut u8) -> u16;
        fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> u16;
        fn proc_exit(code: u32) -> !;
    }

    /// Sets a host global without going through a `Host` (for the allocator,
    /// which must not take the loader's lock). Errors are ignored: a stale
    /// handle only means nobody reads that global any more.
    pub fn set_global_raw(g: u32, value: u32) {
        // SAFETY: handle/value-only call.
        unsafe { global_set(g, value as i64) };
    }

    /// Ends the process (WASI `proc_exit`).
    pub fn exit(code: u32) -> ! {
        // SAFETY: proc_exit does not return; it takes only an integer.
        unsafe { proc_exit(code) }
    }

    /// The real host. Zero-sized: all state lives on the other side.
    pub struct WasmHost {
        /// Preopened directories (fd, guest path), read once.
        preopens: Option<Vec<(u32, String)>>,
        /// Environment, read once (`NAME=VALUE` strings).
        environ: Option<Vec<String>>,
    }

    impl Default for WasmHost {
        fn default() -> Self {
            Self::new()
        }
    }

    impl WasmHost {
        pub const fn new() -> Self {
            WasmHost {
                preopens: None,
                environ: None,
            }
        }

        fn check(&mut self, op: &'static str, code: i32) -> Result<()> {
            if code == 0 {
                return Ok(());
            }
            let mut buf = alloc::vec![0u8; 512];
            // SAFETY: buf is a live, writable allocation of buf.len() bytes.
            let n = unsafe { last_error(buf.as_mut_ptr(), buf.len() as u32) } as usize;
            buf.truncate(n.min(512));
            let message = String::from_utf8_lossy(&buf).into_owned();
            Err(failure(op, code, message))
        }

        fn preopens(&mut self) -> &[(u32, String)] {
            let list = self.preopens.get_or_insert_with(|| {
                let mut list = Vec::new();
                // Preopens are numbered from 3 up to the first fd that is not one.
                for fd in 3u32..4096 {
                    let mut stat = [0u32; 2];
                    // SAFETY: stat is a live 8-byte buffer, the size of a prestat.
                    if unsafe { fd_prestat_get(fd, &mut stat) } != 0 {
                        break;
                    }
                    if stat[0] != 0 {
                        continue; // not a directory preopen
                    }
                    let mut name = alloc::vec![0u8; stat[1] as usize];
                    // SAFETY: name has exactly the length the host told us.
                    if unsafe { fd_prestat_dir_name(fd, name.as_mut_ptr(), name.len() as u32) } != 0
                    {
                        continue;
                    }
                    // Some runtimes NUL-terminate the name.
                    while name.last() == Some(&0) {
                        name.pop();
                    }
                    list.push((fd, String::from_utf8_lossy(&name).into_owned()));
                }
                list
            });
            list
        }
    }

    /// Rights libdl asks for: fd_read (1<<1), fd_seek (1<<2), fd_filestat_get (1<<21).
    const RIGHTS_READ: u64 = (1 << 1) | (1 << 2) | (1 << 21);
    /// `lookupflags::symlink_follow`.
    const LOOKUP_SYMLINK_FOLLOW: u32 = 1;
    /// `filetype::regular_file`.
    const FILETYPE_REGULAR: u8 = 4;
    /// Largest module file libdl reads.
    const MAX_FILE_BYTES: u64 = 1 << 30;

    impl Host for WasmHost {
        fn compile(&mut self, bytes: &[u8]) -> Result<ModuleHandle> {
            let mut h = 0u32;
            // SAFETY: bytes is a live slice; h is a live u32 the host writes on success.
            let code = unsafe { module_compile(bytes.as_ptr(), bytes.len() as u32, &mut h) };
            self.check("module_compile", code)?;
            Ok(h)
        }

        fn module_bytes(&mut self, module: ModuleHandle) -> Result<Vec<u8>> {
            let mut len = 0u32;
            // SAFETY: a zero-capacity request only writes `len`, a live u32.
            let code = unsafe { module_bytes(module, core::ptr::null_mut(), 0, &mut len) };
            self.check("module_bytes", code)?;
            let mut buf = alloc::vec![0u8; len as usize];
            // SAFETY: buf has `len` writable bytes, the size the host reported.
            let code = unsafe { module_bytes(module, buf.as_mut_ptr(), len, &mut len) };
            self.check("module_bytes", code)?;
            buf.truncate(len as usize);
            Ok(buf)
        }

        fn module_free(&mut self, module: ModuleHandle) {
            // SAFETY: handle-only call; a stale handle is reported, not undefined.
            unsafe { module_free(module) };
        }

        fn instantiate(
            &mut self,
            module: ModuleHandle,
            imports: &[ImportDesc],
        ) -> Result<InstanceHandle> {
            let mut h = 0u32;
            // SAFETY: imports is a live slice of #[repr(C)] descriptors; h is a live u32.
            let code =
                unsafe { instance_new(module, imports.as_ptr(), imports.len() as u32, &mut h) };
            self.check("instantiate", code)?;
            Ok(h)
        }

        fn instance_free(&mut self, instance: InstanceHandle) {
            // SAFETY: handle-only call.
            unsafe { instance_free(instance) };
        }

        fn export_global_get(&mut self, instance: InstanceHandle, export: u32) -> Result<u64> {
            let mut v = 0u64;
            // SAFETY: v is a live u64.
            let code = unsafe { export_global_get(instance, export, &mut v) };
            self.check("export_global_get", code)?;
            Ok(v)
        }

        fn export_to_table(
            &mut self,
            instance: InstanceHandle,
            export: u32,
            slot: u32,
        ) -> Result<()> {
            // SAFETY: handle/index-only call.
            let code = unsafe { export_to_table(instance, export, slot) };
            self.check("export_to_table", code)
        }

        fn table_grow(&mut self, delta: u32) -> Result<u32> {
            let mut old = 0u32;
            // SAFETY: old is a live u32.
            let code = unsafe { table_grow(delta, &mut old) };
            if code != 0 {
                return Err(Error::NoTable {
                    slots: delta.into(),
                });
            }
            Ok(old)
        }

        fn table_clear(&mut self, index: u32, count: u32) {
            // SAFETY: index-only call.
            unsafe { table_clear(index, count) };
        }

        fn global_new_i32(&mut self, mutable: bool, value: u32) -> Result<GlobalHandle> {
            let mut h = 0u32;
            // SAFETY: h is a live u32.
            let code = unsafe { global_new(VALTYPE_I32, mutable as u32, value as i64, &mut h) };
            self.check("global_new", code)?;
            Ok(h)
        }

        fn global_set_i32(&mut self, global: GlobalHandle, value: u32) -> Result<()> {
            // SAFETY: handle/value-only call.
            let code = unsafe { global_set(global, value as i64) };
            self.check("global_set", code)
        }

        fn global_free(&mut self, global: GlobalHandle) {
            // SAFETY: handle-only call.
            unsafe { global_free(global) };
        }

        fn call_slot(&mut self, slot: u32) {
            // SAFETY: on wasm32 a function pointer is a table index. The loader
            // only passes a slot it has just filled with an export whose type
            // it checked to be `() -> ()`, so the call_indirect cannot trap on
            // a signature mismatch.
            let f: extern "C" fn() = unsafe { core::mem::transmute(slot as usize) };
            f();
        }

        fn mem_alloc(&mut self, size: u32, align_log2: u32) -> Result<u32> {
            let layout = Layout::from_size_align(size as usize, 1usize << align_log2)
                .map_err(|_| Error::NoMemory { bytes: size.into() })?;
            // SAFETY: layout has non-zero size (place() asks for at least 1 byte).
            let p = unsafe { alloc_zeroed(layout) };
            if p.is_null() {
                return Err(Error::NoMemory { bytes: size.into() });
            }
            Ok(p as usize as u32)
        }

        fn mem_free(&mut self, addr: u32, size: u32, align_log2: u32) {
            if let Ok(layout) = Layout::from_size_align(size as usize, 1usize << align_log2) {
                // SAFETY: addr came from mem_alloc with this same layout.
                unsafe { dealloc(addr as usize as *mut u8, layout) };
            }
        }

        fn read_file(
            &mut self,
            path: &str,
        ) -> core::result::Result<(Vec<u8>, Option<FileId>), u16> {
            let (dirfd, rel) = read::find_preopen(self.preopens(), path).ok_or(errno::NOENT)?;
            let mut fd = 0u32;
            // SAFETY: rel is a live string; fd is a live u32.
            let e = unsafe {
                path_open(
                    dirfd,
                    LOOKUP_SYMLINK_FOLLOW,
                    rel.as_ptr(),
                    rel.len() as u32,
                    0,
                    RIGHTS_READ,
                    0,
                    0,
                    &mut fd,
                )
            };
            if e != 0 {
                return Err(e);
            }
            let result = read_fd(fd);
            // SAFETY: fd was opened above and is closed once.
            unsafe { fd_close(fd) };
            result
        }

        fn getenv(&mut self, name: &str) -> Option<String> {
            let environ = self.environ.get_or_insert_with(read_environ);
            environ.iter().find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (k == name).then(|| String::from(v))
            })
        }

        fn memory_end(&mut self) -> u32 {
            (core::arch::wasm32::memory_size(0) as u32).wrapping_mul(65536)
        }

        fn track_memory_end(&mut self, g: GlobalHandle) {
            crate::rt::track_memory_end(g);
        }

        fn now_ns(&mut self) -> u64 {
            let mut t = 0u64;
            // SAFETY: t is a live u64; clock 1 is the monotonic clock.
            if unsafe { clock_time_get(1, 1000, &mut t) } != 0 {
                return 0;
            }
            t
        }

        fn program_name(&mut self) -> Option<String> {
            let (mut count, mut size) = (0u32, 0u32);
            // SAFETY: two live u32 outputs.
            if unsafe { args_sizes_get(&mut count, &mut size) } != 0 || count == 0 {
                return None;
            }
            let mut ptrs: Vec<*mut u8> = alloc::vec![core::ptr::null_mut(); count as usize];
            let mut buf = alloc::vec![0u8; size as usize];
            // SAFETY: both buffers have the sizes the host reported.
            if unsafe { args_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()) } != 0 {
                return None;
            }
            let first = buf.split(|b| *b == 0).next()?;
            Some(String::from_utf8_lossy(first).into_owned())
        }

        fn stderr(&mut self, text: &str) {
            let mut rest = text.as_bytes();
            while !rest.is_empty() {
                let iov = [rest.as_ptr() as usize as u32, rest.len() as u32];
                let mut n = 0u32;
                // SAFETY: the iovec points into `rest`, live for the call.
                if unsafe { fd_write(2, &iov, 1, &mut n) } != 0 || n == 0 {
                    return;
                }
                rest = rest.get(n as usize..).unwrap_or(&[]);
            }
        }
    }

    fn read_fd(fd: u32) -> core::result::Result<(Vec<u8>, Option<FileId>), u16> {
        let mut st = [0u64; 8];
        // SAFETY: st is a live 64-byte buffer, the size of a filestat.
        let e = unsafe { fd_filestat_get(fd, &mut st) };
        if e != 0 {
            return Err(e);
        }
        // filestat: dev u64, ino u64, filetype u8 (+pad), nlink u64, size u64, ...
        let filetype = (st[2] & 0xff) as u8;
        if filetype != FILETYPE_REGULAR {
            return Err(if filetype == 3 {
                errno::ISDIR
            } else {
                errno::INVAL
            });
        }
        let size = st[4];
        if size > MAX_FILE_BYTES {
            return Err(errno::NOMEM);
        }
        // Read into the vector's spare capacity: zeroing the bytes first
        // (resize, or a zeroing allocation) costs as much again as the read.
        // One byte more than the file, so that the read finding the end
        // has room and the buffer is not reallocated just to learn that.
        let mut buf: Vec<u8> = Vec::new();
        buf.try_reserve_exact(size as usize + 1)
            .map_err(|_| errno::NOMEM)?;
        loop {
            if buf.len() == buf.capacity() {
                // The file may have grown since fd_filestat_get; read on.
                if buf.len() as u64 >= MAX_FILE_BYTES {
                    return Err(errno::NOMEM);
                }
                buf.try_reserve(64 * 1024).map_err(|_| errno::NOMEM)?;
            }
            let len = buf.len();
            let spare = buf.spare_capacity_mut();
            let iov = [spare.as_mut_ptr() as usize as u32, spare.len() as u32];
            let room = spare.len();
            let mut n = 0u32;
            // SAFETY: the iovec covers buf's spare capacity, which is
            // allocated and may be written.
            let e = unsafe { fd_read(fd, &iov, 1, &mut n) };
            if e != 0 {
                return Err(e);
            }
            if n == 0 {
                break;
            }
            if n as usize > room {
                return Err(errno::IO); // more than asked for: a broken host
            }
            // SAFETY: fd_read wrote the first n bytes of the spare capacity
            // (checked to lie within it just above).
            unsafe { buf.set_len(len + n as usize) };
        }
        // Inode 0 is no file's: a host that tracks no identity (an
        // in-memory browser filesystem) gives 0, and paths alone then decide.
        let file = (st[1] != 0).then_some(FileId {
            dev: st[0],
            ino: st[1],
        });
        Ok((buf, file))
    }

    fn read_environ() -> Vec<String> {
        let (mut count, mut size) = (0u32, 0u32);
        // SAFETY: two live u32 outputs.
        if unsafe { environ_sizes_get(&mut count, &mut size) } != 0 {
            return Vec::new();
        }
        let mut ptrs: Vec<*mut u8> = alloc::vec![core::ptr::null_mut(); count as usize];
        let mut buf = alloc::vec![0u8; size as usize];
        // SAFETY: both buffers have the sizes the host reported.
        if unsafe { environ_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()) } != 0 {
            return Vec::new();
        }
        buf.split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    }
}
