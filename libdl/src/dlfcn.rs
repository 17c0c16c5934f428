//! The public `dlfcn` surface, last and thin: decode C arguments, take the
//! loader lock, run the pipeline, and turn an `Error` into the `dlerror()`
//! string. Flag values are wasi-libc's `<dlfcn.h>` (where `RTLD_LOCAL` is 8,
//! not 0 as in glibc/musl).

use alloc::string::String;
use alloc::vec::Vec;
use spin::Mutex;

use crate::error::{Error, Result};
use crate::loader::{Loader, ModId, OpenFlags, Scope};

pub const RTLD_LAZY: i32 = 1;
pub const RTLD_NOW: i32 = 2;
pub const RTLD_NOLOAD: i32 = 4;
pub const RTLD_LOCAL: i32 = 8;
pub const RTLD_GLOBAL: i32 = 256;
pub const RTLD_NODELETE: i32 = 4096;
/// Handle values of `RTLD_DEFAULT` and `RTLD_NEXT`.
pub const RTLD_DEFAULT: usize = 0;
pub const RTLD_NEXT: usize = usize::MAX;

static LOADER: Mutex<Option<Loader>> = Mutex::new(None);

/// The pending `dlerror()` message, NUL-terminated. (Per thread once threads exist.)
struct LastError {
    text: Vec<u8>,
    pending: bool,
    /// A `dlsym` miss not yet formatted: programs probe for optional
    /// symbols, so a miss only copies the name (and the object searched)
    /// into buffers it reuses, and `dlerror` writes the message.
    miss: bool,
    symbol: Vec<u8>,
    object: Option<Vec<u8>>,
}

static LAST_ERROR: Mutex<LastError> = Mutex::new(LastError {
    text: Vec::new(),
    pending: false,
    miss: false,
    symbol: Vec::new(),
    object: None,
});

fn set_error(e: &Error, object: Option<&str>) {
    let mut s = String::new();
    e.write_message(object, &mut s);
    let mut le = LAST_ERROR.lock();
    le.text.clear();
    le.text.extend_from_slice(s.as_bytes());
    le.text.push(0);
    le.pending = true;
    le.miss = false;
}

/// Records "undefined symbol" for `dlerror`, formatted when asked for.
fn set_miss(symbol: &[u8], object: Option<&str>) {
    let mut le = LAST_ERROR.lock();
    le.symbol.clear();
    le.symbol.extend_from_slice(symbol);
    match (object, &mut le.object) {
        (Some(o), Some(buf)) => {
            buf.clear();
            buf.extend_from_slice(o.as_bytes());
        }
        (o, slot) => *slot = o.map(|o| o.as_bytes().to_vec()),
    }
    le.pending = true;
    le.miss = true;
}

/// `dlerror()`: the pending message (valid until the next failing call), or
/// None; reading it clears it, as POSIX requires.
pub fn take_error() -> Option<*const u8> {
    let mut le = LAST_ERROR.lock();
    if !le.pending {
        return None;
    }
    le.pending = false;
    if core::mem::take(&mut le.miss) {
        let e = Error::UndefinedSymbol {
            symbol: String::from_utf8_lossy(&le.symbol).into_owned(),
        };
        let object = le.object.as_deref().map(String::from_utf8_lossy);
        let mut s = String::new();
        e.write_message(object.as_deref(), &mut s);
        le.text.clear();
        le.text.extend_from_slice(s.as_bytes());
        le.text.push(0);
    }
    Some(le.text.as_ptr())
}

/// Why a mode is invalid (for the message); "" if it is valid.
pub fn flags_problem(mode: i32) -> &'static str {
    let known = RTLD_LAZY | RTLD_NOW | RTLD_NOLOAD | RTLD_LOCAL | RTLD_GLOBAL | RTLD_NODELETE;
    let binding = mode & (RTLD_LAZY | RTLD_NOW);
    if mode & !known != 0 {
        "unknown flag bits"
    } else if binding == 0 {
        "one of RTLD_LAZY and RTLD_NOW is required"
    } else if binding == (RTLD_LAZY | RTLD_NOW) {
        "RTLD_LAZY and RTLD_NOW are exclusive"
    } else if mode & (RTLD_LOCAL | RTLD_GLOBAL) == (RTLD_LOCAL | RTLD_GLOBAL) {
        "RTLD_LOCAL and RTLD_GLOBAL are exclusive"
    } else {
        ""
    }
}

/// Validates a `dlopen` mode: exactly one of RTLD_LAZY/RTLD_NOW (as glibc),
/// at most one of RTLD_LOCAL/RTLD_GLOBAL, no unknown bits.
pub fn decode_flags(mode: i32) -> Result<OpenFlags> {
    if !flags_problem(mode).is_empty() {
        return Err(Error::BadFlags { flags: mode });
    }
    Ok(OpenFlags {
        lazy: mode & RTLD_LAZY != 0,
        global: mode & RTLD_GLOBAL != 0,
        noload: mode & RTLD_NOLOAD != 0,
        nodelete: mode & RTLD_NODELETE != 0,
    })
}

fn with_loader<T>(f: impl FnOnce(&mut Loader) -> Result<T>) -> Result<T> {
    let mut guard = LOADER.lock();
    let Some(l) = guard.as_mut() else {
        return Err(Error::NotInitialised);
    };
    f(l)
}

/// `dlopen`. `None` is `dlopen(NULL)`: the program's handle. `caller` is
/// the calling side module (None for the program).
pub fn open(name: Option<&[u8]>, mode: i32, caller: Option<ModId>) -> usize {
    let result = (|| {
        let flags = decode_flags(mode)?;
        let Some(name) = name else {
            return with_loader(|l| Ok(Some((l.program, Vec::new()))));
        };
        let name = core::str::from_utf8(name).map_err(|_| Error::BadString)?;
        with_loader(|l| Ok(l.open(name, flags, caller)?.map(|o| (o.id, o.init_slots))))
    })();
    match result {
        Ok(Some((id, init))) => {
            // Constructors run with the lock released, since they may call
            // dlopen; dependencies' first.
            for slot in init {
                crate::rt::call_slot(slot);
            }
            id as usize
        }
        Ok(None) => 0, // RTLD_NOLOAD of a library that is not loaded
        Err(e) => {
            // As glibc: a bad mode is not about any file.
            let object = match e {
                Error::BadFlags { .. } => None,
                _ => name.map(String::from_utf8_lossy),
            };
            set_error(&e, object.as_deref());
            0
        }
    }
}

/// `dlsym`. `caller` is the calling module (the program for 0), which
/// `RTLD_NEXT` needs.
pub fn sym(handle: usize, name: &[u8], caller: ModId) -> usize {
    // The library a handle names, for an error message only.
    let mut object: Option<ModId> = None;
    let result = (|| {
        let name = core::str::from_utf8(name).map_err(|_| Error::BadString)?;
        with_loader(|l| {
            // The scope is borrowed, not copied: dlsym allocates nothing on
            // the common paths (LD_DEBUG=symbols takes the traced path).
            let traced = l.trace.enabled(crate::trace::DEBUG_SYMBOLS);
            let next;
            let global = Scope {
                order: &l.global_scope,
                sorted: Some(&l.global_sorted),
            };
            let scope = match handle {
                RTLD_DEFAULT => global,
                RTLD_NEXT => {
                    next = l.next_scope(if caller == 0 { l.program } else { caller });
                    Scope::list(&next)
                }
                h => {
                    let id = ModId::try_from(h).map_err(|_| Error::BadHandle)?;
                    let Some(m) = l.get(id) else {
                        return Err(Error::BadHandle);
                    };
                    object = Some(id);
                    match m.kind {
                        crate::loader::Kind::Program => global,
                        _ if m.local_scope.is_empty() => Scope::list(core::slice::from_ref(&m.id)),
                        _ => Scope {
                            order: &m.local_scope,
                            sorted: Some(&m.local_sorted),
                        },
                    }
                }
            };
            let found = if traced {
                let scope = scope.order.to_vec();
                l.lookup_traced(&scope, name)
            } else {
                l.lookup_in(scope, name)
            };
            let Some(def) = found else {
                let path = object.and_then(|id| l.get(id)).map(|m| m.path.as_str());
                set_miss(name.as_bytes(), path);
                return Ok(0);
            };
            l.symbol_address(def)
        })
    })();
    match result {
        Ok(addr) => addr as usize,
        Err(e) => {
            let path = match (&e, object) {
                (Error::BadHandle, _) | (_, None) => None,
                (_, Some(id)) => with_loader(|l| Ok(l.get(id).map(|m| m.path.clone())))
                    .ok()
                    .flatten(),
            };
            set_error(&e, path.as_deref());
            0
        }
    }
}

/// `dlinfo` requests (glibc's values).
pub const RTLD_DI_LINKMAP: i32 = 2;
pub const RTLD_DI_ORIGIN: i32 = 6;

/// What `dlinfo` hands back for the C side to write.
pub enum Info {
    /// RTLD_DI_LINKMAP: store this pointer.
    Pointer(u32),
    /// RTLD_DI_ORIGIN: copy this string (with a NUL).
    Text(String),
}

/// `dlinfo`: the answer, or -1 after setting dlerror.
pub fn info(handle: usize, request: i32) -> Option<Info> {
    let result = ModId::try_from(handle)
        .map_err(|_| Error::BadHandle)
        .and_then(|id| {
            with_loader(|l| match request {
                RTLD_DI_LINKMAP => l.link_map(id).map(Info::Pointer),
                RTLD_DI_ORIGIN => l.origin(id).map(Info::Text),
                _ => Err(Error::DlinfoRequest { request }),
            })
        });
    match result {
        Ok(i) => Some(i),
        Err(e) => {
            set_error(&e, None);
            None
        }
    }
}

/// atexit / __cxa_atexit from side module `caller`: 0, or -1 if refused.
pub fn register_exit(caller: ModId, slot: u32, arg: u32, with_arg: bool) -> i32 {
    match with_loader(|l| l.register_exit(caller, slot, arg, with_arg)) {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

/// The message for unresolved symbol `id` (RTLD_LAZY), called when it is.
pub fn unresolved_message(id: u32) -> String {
    let found = with_loader(|l| Ok(l.unresolved.get(id as usize).cloned()))
        .ok()
        .flatten();
    match found {
        Some((sym, module)) => alloc::format!(
            "libdl: fatal error: {module}: symbol {sym} was called but is not defined (left unbound by RTLD_LAZY)\n"
        ),
        None => String::from("libdl: fatal error: an unresolved symbol was called\n"),
    }
}

/// Runs what is still registered, at program exit.
pub fn run_exit_handlers() {
    let calls = with_loader(|l| Ok(l.take_all_exit_handlers())).unwrap_or_default();
    for (slot, arg, with_arg) in calls {
        crate::rt::call_exit_handler(slot, arg, with_arg);
    }
}

/// `dladdr`.
pub fn addr(addr: u32) -> Option<crate::query::AddrInfo> {
    with_loader(|l| Ok(l.addr_info(addr))).ok().flatten()
}

/// The process's `atexit` (the program's own in a static program, libc.so's
/// in a PIE program), as a table slot, to hook libdl's exit handlers into the
/// program's exit; None if there is none.
pub fn program_atexit_slot() -> Option<u32> {
    with_loader(|l| {
        let scope = l.global_scope.clone();
        let def = l.lookup(&scope, "atexit").ok_or(Error::NotInitialised)?;
        let m = l.get(def.module).ok_or(Error::NotInitialised)?;
        let func = m
            .info
            .exports
            .get(def.export as usize)
            .map(|e| e.index)
            .ok_or(Error::NotInitialised)?;
        let want = crate::parse::Sig {
            params: alloc::vec![0x7f],
            results: alloc::vec![0x7f],
        };
        if def.kind != crate::parse::ExportKind::Func || m.info.func_sig(func) != Some(&want) {
            return Err(Error::BadEntryPoint { name: "atexit" });
        }
        l.func_slot(def.module, def.export, None)
    })
    .ok()
}

/// `dlclose`: 0 on success, non-zero (with a dlerror message) on failure.
/// The exit handlers of what unloads (its destructors, and its atexit and
/// __cxa_atexit registrations) run with the lock released, newest first,
/// before its memory and table slots are given back.
pub fn close(handle: usize) -> i32 {
    let result = ModId::try_from(handle)
        .map_err(|_| Error::BadHandle)
        .and_then(|id| with_loader(|l| l.close(id)));
    match result {
        Ok(dying) => {
            for (_, calls) in &dying {
                for &(slot, arg, with_arg) in calls {
                    crate::rt::call_exit_handler(slot, arg, with_arg);
                }
            }
            let ids: Vec<ModId> = dying.iter().map(|(id, _)| *id).collect();
            let _ = with_loader(|l| {
                l.finish_close(&ids);
                Ok(())
            });
            0
        }
        Err(e) => {
            set_error(&e, None);
            1
        }
    }
}

/// Bootstrap entry point the shim calls once both libdl and the program are
/// instantiated (host-abi/SPEC.md, "Starting a process").
pub fn init(
    host: alloc::boxed::Box<dyn crate::host::Host + Send>,
    libdl: (u32, u32),
    program: (u32, u32),
) -> Result<()> {
    let mut guard = LOADER.lock();
    if guard.is_some() {
        return Err(Error::NotInitialised);
    }
    *guard = Some(Loader::new(host, libdl, Some(program))?);
    Ok(())
}

/// `__heap_base` and `__heap_end` for a PIE program are GOT cells holding
/// the end of memory, kept there whenever libdl grows memory (rt.rs).
/// wasi-libc's malloc adopts `[__heap_base, sbrk(0))` as its first region at
/// its first call; kept at the end of memory, that range is empty, so the
/// program's heap comes only from its own memory.grow and never overlaps
/// libdl's pages. (A fixed address cannot work: that libc computes the size
/// as an `int` and compares it with a `size_t`, so any address above the end
/// adopts a huge region, and any below adopts libdl's pages.)
pub const PIE_LINKER_SYMBOLS: [&str; 2] = ["__heap_base", "__heap_end"];

/// Starts a PIE program (host-abi/SPEC.md): load it and its dependencies,
/// run their constructors, then its `_start`. Returns the exit status when
/// `_start` returns (proc_exit ends the process without returning).
pub fn run_program(
    host: alloc::boxed::Box<dyn crate::host::Host + Send>,
    libdl: (u32, u32),
    program_module: u32,
) -> Result<i32> {
    let (init, start) = {
        let mut guard = LOADER.lock();
        if guard.is_some() {
            return Err(Error::NotInitialised);
        }
        let mut l = Loader::new(host, libdl, None)?;
        for name in PIE_LINKER_SYMBOLS {
            l.synthetic.push((String::from(name), 0));
        }
        let opened = l.load_program(program_module)?;
        let program = l.program;
        let mut txn = crate::loader::Txn::default();
        let start = match l.entry_slot(program, "_initialize", &mut txn)? {
            Some(init) => alloc::vec![init],
            None => Vec::new(),
        };
        let start_slot = l.entry_slot(program, "_start", &mut txn)?;
        // After _start returns (main returned 0; otherwise it called exit):
        // what exit would do, atexit handlers and stdio flushing. A static
        // command gets this call from wasm-ld's wrapper of _start.
        let dtors = l.entry_slot(program, "__wasm_call_dtors", &mut txn)?;
        *guard = Some(l);
        (
            opened.init_slots,
            start
                .into_iter()
                .chain(start_slot)
                .chain(dtors)
                .collect::<Vec<u32>>(),
        )
    };
    for slot in init {
        crate::rt::call_slot(slot);
    }
    crate::rt::hook_program_exit();
    for slot in start {
        crate::rt::call_slot(slot);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        assert_eq!(decode_flags(RTLD_NOW).unwrap(), OpenFlags::default());
        assert!(decode_flags(RTLD_LAZY | RTLD_GLOBAL).unwrap().global);
        assert!(decode_flags(RTLD_LAZY).unwrap().lazy);
        assert!(decode_flags(RTLD_NOW | RTLD_NOLOAD).unwrap().noload);
        assert!(
            decode_flags(RTLD_NOW | RTLD_NODELETE | RTLD_LOCAL)
                .unwrap()
                .nodelete
        );
        for bad in [
            0,
            RTLD_LAZY | RTLD_NOW,
            RTLD_NOW | RTLD_LOCAL | RTLD_GLOBAL,
            RTLD_NOW | 0x10000,
            RTLD_GLOBAL,
        ] {
            assert_eq!(
                decode_flags(bad).unwrap_err(),
                Error::BadFlags { flags: bad },
                "{bad:#x}"
            );
        }
    }
}
