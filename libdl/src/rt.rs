//! The wasm32 runtime glue: the exported C functions, libdl's heap, the panic
//! handler, C strings from guest pointers, and calls through table slots.
//! With `host.rs` this is where libdl's `unsafe` lives.

use core::ffi::{c_char, c_int, c_void};

use crate::dlfcn;

/// libdl's own heap: dlmalloc over [`GrowOnly`].
#[global_allocator]
static HEAP: Heap = Heap(spin::Mutex::new(dlmalloc::Dlmalloc::new_with_allocator(GrowOnly)));

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
        // Never hand out a region ending exactly at 4 GiB (a pointer must not wrap).
        let len = if base.wrapping_add(len) == 0 { len - 16 } else { len };
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

#[no_mangle]
pub extern "C" fn dlopen(file: *const c_char, mode: c_int) -> *mut c_void {
    let name = if file.is_null() {
        None
    } else {
        match c_str(file) {
            Some(s) => Some(s),
            // A bad pointer is an error, not dlopen(NULL).
            None => Some(&b"\xff"[..]),
        }
    };
    dlfcn::open(name, mode) as *mut c_void
}

#[no_mangle]
pub extern "C" fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void {
    let name = c_str(name).unwrap_or(b"\xff");
    dlfcn::sym(handle as usize, name) as *mut c_void
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

/// Called by the shim once (SPEC.md, "Starting a process"). Non-zero on failure,
/// after writing the reason to stderr.
#[no_mangle]
pub extern "C" fn __wasmdl_init(libdl_module: u32, libdl_instance: u32, main_module: u32, main_instance: u32) -> c_int {
    use crate::host::{Host, WasmHost};
    let host = alloc::boxed::Box::new(WasmHost::new());
    match dlfcn::init(host, (libdl_module, libdl_instance), (main_module, main_instance)) {
        Ok(()) => 0,
        Err(e) => {
            let mut s = alloc::string::String::from("libdl: cannot start: ");
            e.write_message(None, &mut s);
            s.push('\n');
            WasmHost::new().stderr(&s);
            1
        }
    }
}
