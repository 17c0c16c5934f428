//! The wasm32 runtime glue: the exported C functions, libdl's heap, the panic
//! handler, C strings from guest pointers, and calls through table slots.
//! With `host.rs` this is where libdl's `unsafe` lives.

use core::ffi::{c_char, c_int, c_void};

use crate::dlfcn;

/// libdl's own heap: dlmalloc over [`GrowOnly`].
#[global_allocator]
static HEAP: Heap = Heap(spin::Mutex::new(dlmalloc::Dlmalloc::new_with_allocator(
    GrowOnly,
)));

/// dlmalloc's system allocator for libdl: pages come only from `memory.grow`.
/// (dlmalloc's own wasm backend first takes `[__heap_base, __heap_end)`,
/// which in our process belongs to the program's allocator: using it would
/// make the two heaps overlap. See docs/memory-layout.md.)
struct GrowOnly;

const PAGE: usize = 64 * 1024;

// SAFETY: alloc returns either null or a fresh, zeroed, page-aligned region
// that nothing else owns (memory.grow hands each page out once); the other
// methods never release memory, which dlmalloc allows.
unsafe impl dlmalloc::Allocator for GrowOnly {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        let pages = size.div_ceil(PAGE);
        let prev = core::arch::wasm32::memory_grow(0, pages);
        if prev == usize::MAX {
            return (core::ptr::null_mut(), 0, 0);
        }
        let base = prev * PAGE;
        let len = pages * PAGE;
        follow_memory_end((base + len) as u32);
        // Never hand out a region ending exactly at 4 GiB (a pointer must not wrap).
        let len = if base.wrapping_add(len) == 0 {
            len - 16
        } else {
            len
        };
        (base as *mut u8, len, 0)
    }
    fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 {
        core::ptr::null_mut()
    }
    fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool {
        false
    }
    fn free(&self, _: *mut u8, _: usize) -> bool {
        false
    }
    fn can_release_part(&self, _: u32) -> bool {
        false
    }
    fn allocates_zeros(&self) -> bool {
        true
    }
    fn page_size(&self) -> usize {
        PAGE
    }
}

/// Globals kept equal to the end of memory after each of libdl's grows: a PIE
/// program's `__heap_base` and `__heap_end`, so that its malloc, whenever it
/// first runs, finds `[__heap_base, sbrk(0))` empty and never adopts pages
/// libdl took (docs/memory-layout.md). Plain atomics, not the loader lock:
/// the allocator runs while that lock is held.
static MEMORY_END_CELLS: [core::sync::atomic::AtomicU32; 2] = [
    core::sync::atomic::AtomicU32::new(0),
    core::sync::atomic::AtomicU32::new(0),
];

pub fn track_memory_end(g: u32) {
    use core::sync::atomic::Ordering::Relaxed;
    for cell in &MEMORY_END_CELLS {
        if cell.compare_exchange(0, g, Relaxed, Relaxed).is_ok() {
            return;
        }
    }
}

fn follow_memory_end(end: u32) {
    use core::sync::atomic::Ordering::Relaxed;
    for cell in &MEMORY_END_CELLS {
        let g = cell.load(Relaxed);
        if g != 0 {
            crate::host::set_global_raw(g, end);
        }
    }
}

struct Heap(spin::Mutex<dlmalloc::Dlmalloc<GrowOnly>>);

// SAFETY: every method forwards to dlmalloc under the lock, with the layout's
// size and alignment, which is dlmalloc's contract.
unsafe impl core::alloc::GlobalAlloc for Heap {
    unsafe fn alloc(&self, l: core::alloc::Layout) -> *mut u8 {
        // SAFETY: forwarded under the lock (see the impl's SAFETY).
        unsafe { self.0.lock().malloc(l.size(), l.align()) }
    }
    unsafe fn alloc_zeroed(&self, l: core::alloc::Layout) -> *mut u8 {
        // SAFETY: as above.
        unsafe { self.0.lock().calloc(l.size(), l.align()) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: core::alloc::Layout) {
        // SAFETY: as above; p came from this allocator with layout l.
        unsafe { self.0.lock().free(p, l.size(), l.align()) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: core::alloc::Layout, new: usize) -> *mut u8 {
        // SAFETY: as above.
        unsafe { self.0.lock().realloc(p, l.size(), l.align(), new) }
    }
}

/// Reachable only through a bug in libdl (API paths deny unwrap/expect/panic
/// and slice indexing). Say so on stderr, then trap.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    use crate::host::Host;
    crate::host::WasmHost::new().stderr("libdl: internal error (panic); aborting\n");
    core::arch::wasm32::unreachable()
}

/// Longest C string libdl reads from a guest pointer (a path or a symbol).
const MAX_C_STRING: usize = 64 * 1024;

/// The bytes of the NUL-terminated string at `p`, if `p` is non-null, the
/// string lies inside memory, and it is at most MAX_C_STRING long.
fn c_str<'a>(p: *const c_char) -> Option<&'a [u8]> {
    let addr = p as usize;
    let mem_end = core::arch::wasm32::memory_size(0).checked_mul(65536)?;
    if addr == 0 || addr >= mem_end {
        return None;
    }
    let len = (mem_end - addr).min(MAX_C_STRING + 1);
    // SAFETY: [addr, addr+len) lies inside linear memory, which is always
    // readable; the slice is only read, and not kept past this call's caller.
    let bytes = unsafe { core::slice::from_raw_parts(p as *const u8, len) };
    let n = bytes.iter().position(|b| *b == 0)?;
    bytes.get(..n)
}

/// Calls the `() -> ()` function in table slot `slot`.
pub fn call_slot(slot: u32) {
    // SAFETY: on wasm32 a function pointer is a table index. Callers pass only
    // slots the loader filled with an export it checked to be `() -> ()`.
    let f: extern "C" fn() = unsafe { core::mem::transmute(slot as usize) };
    f();
}

/// Calls an exit handler: `void f(void *arg)` (from __cxa_atexit) or
/// `void f(void)` (from atexit).
pub fn call_exit_handler(slot: u32, arg: u32, with_arg: bool) {
    if with_arg {
        // SAFETY: as call_slot; __cxa_atexit's contract is that the function
        // takes the pointer it was registered with (the loader checked the
        // slot holds a function of type (i32) -> () when it was registered).
        let f: extern "C" fn(u32) = unsafe { core::mem::transmute(slot as usize) };
        f(arg);
    } else {
        // SAFETY: atexit's contract: a `void (*)(void)`, checked at registration.
        let f: extern "C" fn() = unsafe { core::mem::transmute(slot as usize) };
        f();
    }
}

#[no_mangle]
pub extern "C" fn dlopen(file: *const c_char, mode: c_int) -> *mut c_void {
    __wasmdl_dlopen_from(file, mode, 0)
}

fn name_arg<'a>(file: *const c_char) -> Option<&'a [u8]> {
    if file.is_null() {
        None
    } else {
        // A bad pointer is an error (invalid string), not dlopen(NULL).
        Some(c_str(file).unwrap_or(b"\xff"))
    }
}

fn caller_id(caller: u32) -> Option<u32> {
    (caller != 0).then_some(caller)
}

/// `dlopen` on behalf of module `caller` (0: the program), whose RUNTIME_PATH
/// is searched. Side modules' `dlopen` imports are bound to forwarders that
/// call this.
#[no_mangle]
pub extern "C" fn __wasmdl_dlopen_from(
    file: *const c_char,
    mode: c_int,
    caller: u32,
) -> *mut c_void {
    dlfcn::open(name_arg(file), mode, caller_id(caller)) as *mut c_void
}

#[no_mangle]
pub extern "C" fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void {
    __wasmdl_dlsym_from(handle, name, 0)
}

/// `dlsym` on behalf of module `caller` (0: the program), for RTLD_NEXT.
#[no_mangle]
pub extern "C" fn __wasmdl_dlsym_from(
    handle: *mut c_void,
    name: *const c_char,
    caller: u32,
) -> *mut c_void {
    let name = c_str(name).unwrap_or(b"\xff");
    dlfcn::sym(handle as usize, name, caller) as *mut c_void
}

#[no_mangle]
pub extern "C" fn dlclose(handle: *mut c_void) -> c_int {
    dlfcn::close(handle as usize)
}

#[no_mangle]
pub extern "C" fn dlerror() -> *mut c_char {
    match dlfcn::take_error() {
        Some(p) => p as *mut c_char,
        None => core::ptr::null_mut(),
    }
}

/// `Dl_info` as wasm32 lays it out: four 32-bit pointers.
#[repr(C)]
pub struct DlInfo {
    dli_fname: u32,
    dli_fbase: u32,
    dli_sname: u32,
    dli_saddr: u32,
}

/// `dladdr`: non-zero and `*info` filled if `addr` is inside a loaded module.
// A C entry point: `info` comes from C, and is bounds-checked against linear
// memory before the one write through it.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn dladdr(addr: *const c_void, info: *mut DlInfo) -> c_int {
    let Some(found) = dlfcn::addr(addr as usize as u32) else {
        return 0;
    };
    let end = core::arch::wasm32::memory_size(0).saturating_mul(65536);
    let at = info as usize;
    if at == 0
        || at
            .checked_add(core::mem::size_of::<DlInfo>())
            .is_none_or(|e| e > end)
    {
        return 0;
    }
    let out = DlInfo {
        dli_fname: found.fname,
        dli_fbase: found.fbase,
        dli_sname: found.sname,
        dli_saddr: found.saddr,
    };
    // SAFETY: [info, info+16) was checked to lie inside linear memory, which
    // is always writable; an unaligned pointer is handled by write_unaligned.
    unsafe { core::ptr::write_unaligned(info, out) };
    1
}

/// Whether [at, at+len) lies inside linear memory.
fn in_memory(at: usize, len: usize) -> bool {
    let end = core::arch::wasm32::memory_size(0).saturating_mul(65536);
    at != 0 && at.checked_add(len).is_some_and(|e| e <= end)
}

/// `dlinfo`: 0, or -1 with a dlerror message. RTLD_DI_ORIGIN writes the
/// directory into `arg`, which the caller sizes (PATH_MAX, as glibc says).
// A C entry point: `arg` comes from C and is bounds-checked before each write.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn dlinfo(handle: *mut c_void, request: c_int, arg: *mut c_void) -> c_int {
    let Some(answer) = dlfcn::info(handle as usize, request) else {
        return -1;
    };
    let at = arg as usize;
    match answer {
        dlfcn::Info::Pointer(p) => {
            if !in_memory(at, 4) {
                return -1;
            }
            // SAFETY: [arg, arg+4) is inside linear memory (checked above).
            unsafe { core::ptr::write_unaligned(arg as *mut u32, p) };
        }
        dlfcn::Info::Text(t) => {
            if !in_memory(at, t.len() + 1) {
                return -1;
            }
            // SAFETY: [arg, arg+len+1) is inside linear memory (checked above),
            // and the source is a live String that does not overlap it.
            unsafe {
                core::ptr::copy_nonoverlapping(t.as_ptr(), arg as *mut u8, t.len());
                core::ptr::write((arg as *mut u8).add(t.len()), 0);
            }
        }
    }
    0
}

/// Called by the reporter in the slot of a function RTLD_LAZY left unbound:
/// says which symbol and module, then ends the program with status 125.
/// (glibc exits 127 after "symbol lookup error", but WASI runtimes reserve
/// statuses from 126 up: wasmtime turns them into traps.)
pub const UNRESOLVED_EXIT_STATUS: u32 = 125;

#[no_mangle]
pub extern "C" fn __wasmdl_unresolved(id: u32) {
    use crate::host::Host;
    let msg = dlfcn::unresolved_message(id);
    crate::host::WasmHost::new().stderr(&msg);
    crate::host::exit(UNRESOLVED_EXIT_STATUS);
}

/// `atexit` of side module `caller` (bound through a forwarder).
#[no_mangle]
pub extern "C" fn __wasmdl_atexit_from(func: u32, caller: u32) -> c_int {
    dlfcn::register_exit(caller, func, 0, false)
}

/// `__cxa_atexit` of side module `caller` (bound through a forwarder). The
/// handler belongs to the module that registered it, whatever `dso` says.
#[no_mangle]
pub extern "C" fn __wasmdl_cxa_atexit_from(func: u32, arg: u32, _dso: u32, caller: u32) -> c_int {
    dlfcn::register_exit(caller, func, arg, true)
}

/// Registers [`run_exit_handlers`] with the process's `atexit`, if any.
pub fn hook_program_exit() {
    if let Some(slot) = dlfcn::program_atexit_slot() {
        // SAFETY: the slot holds the process's `atexit`, whose type was
        // checked to be (i32) -> i32.
        let atexit: extern "C" fn(u32) -> i32 = unsafe { core::mem::transmute(slot as usize) };
        atexit(run_exit_handlers as extern "C" fn() as usize as u32);
    }
}

/// Registered with the program's `atexit` at start-up: runs the exit
/// handlers of libraries still loaded when the program exits.
extern "C" fn run_exit_handlers() {
    dlfcn::run_exit_handlers();
}

/// Called by the shim to start a PIE program (SPEC.md, "Starting a PIE
/// program"): returns its exit status if `_start` returns, or
/// [`STARTUP_FAILURE`] if the program could not be loaded (the reason is on
/// stderr).
#[no_mangle]
pub extern "C" fn __wasmdl_run(
    libdl_module: u32,
    libdl_instance: u32,
    program_module: u32,
) -> c_int {
    use crate::host::{Host, WasmHost};
    let host = alloc::boxed::Box::new(WasmHost::new());
    match dlfcn::run_program(host, (libdl_module, libdl_instance), program_module) {
        Ok(status) => status,
        Err(e) => {
            let mut s = alloc::string::String::from("libdl: cannot start the program: ");
            e.write_message(None, &mut s);
            s.push('\n');
            WasmHost::new().stderr(&s);
            STARTUP_FAILURE
        }
    }
}

/// `__wasmdl_run`'s result when the program could not be loaded: never an
/// exit status (those are 0..=255), so the shim can tell it apart and exit
/// with its own status for loader failures.
pub const STARTUP_FAILURE: c_int = -1;

/// Called by the shim once (SPEC.md, "Starting a process"). Non-zero on failure,
/// after writing the reason to stderr.
#[no_mangle]
pub extern "C" fn __wasmdl_init(
    libdl_module: u32,
    libdl_instance: u32,
    main_module: u32,
    main_instance: u32,
) -> c_int {
    use crate::host::{Host, WasmHost};
    let host = alloc::boxed::Box::new(WasmHost::new());
    match dlfcn::init(
        host,
        (libdl_module, libdl_instance),
        (main_module, main_instance),
    ) {
        Ok(()) => {
            hook_program_exit();
            0
        }
        Err(e) => {
            let mut s = alloc::string::String::from("libdl: cannot start: ");
            e.write_message(None, &mut s);
            s.push('\n');
            WasmHost::new().stderr(&s);
            1
        }
    }
}
