//! The public `dlfcn` surface, last and thin: decode C arguments, take the
//! loader lock, run the pipeline, and turn an `Error` into the `dlerror()`
//! string. Flag values are wasi-libc's `<dlfcn.h>` (where `RTLD_LOCAL` is 8,
//! not 0 as in glibc/musl).

use alloc::string::String;
use alloc::vec::Vec;
use spin::Mutex;

use crate::error::{Error, Result};
use crate::loader::{Loader, ModId, OpenFlags};

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
}

static LAST_ERROR: Mutex<LastError> = Mutex::new(LastError { text: Vec::new(), pending: false });

fn set_error(e: &Error, object: Option<&str>) {
    let mut s = String::new();
    e.write_message(object, &mut s);
    let mut le = LAST_ERROR.lock();
    le.text.clear();
    le.text.extend_from_slice(s.as_bytes());
    le.text.push(0);
    le.pending = true;
}

/// `dlerror()`: the pending message (valid until the next failing call), or
/// None; reading it clears it, as POSIX requires.
pub fn take_error() -> Option<*const u8> {
    let mut le = LAST_ERROR.lock();
    if !le.pending {
        return None;
    }
    le.pending = false;
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
        global: mode & RTLD_GLOBAL != 0,
        noload: mode & RTLD_NOLOAD != 0,
        nodelete: mode & RTLD_NODELETE != 0,
    })
}

fn with_loader<T>(f: impl FnOnce(&mut Loader) -> Result<T>) -> Result<T> {
    let mut guard = LOADER.lock();
    let l = guard.as_mut().ok_or(Error::NotInitialised)?;
    f(l)
}

/// `dlopen`. `None` is `dlopen(NULL)`: the program's handle.
pub fn open(name: Option<&[u8]>, mode: i32) -> usize {
    let result = (|| {
        let flags = decode_flags(mode)?;
        let Some(name) = name else {
            return with_loader(|l| Ok(Some((l.program, None))));
        };
        let name = core::str::from_utf8(name).map_err(|_| Error::BadString)?;
        with_loader(|l| Ok(l.open(name, flags)?.map(|o| (o.id, o.init_slot))))
    })();
    match result {
        Ok(Some((id, init))) => {
            // Constructors run with the lock released: they may call dlopen.
            if let Some(slot) = init {
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

/// `dlsym`.
pub fn sym(handle: usize, name: &[u8]) -> usize {
    let mut object: Option<String> = None;
    let result = (|| {
        let name = core::str::from_utf8(name).map_err(|_| Error::BadString)?;
        with_loader(|l| {
            let scope: Vec<ModId> = match handle {
                RTLD_DEFAULT => l.global_scope.clone(),
                RTLD_NEXT => return Err(Error::UnsupportedImport { module: String::from("dlsym"), name: String::from("RTLD_NEXT") }),
                h => {
                    let id = ModId::try_from(h).map_err(|_| Error::BadHandle)?;
                    let m = l.get(id).ok_or(Error::BadHandle)?;
                    object = Some(m.path.clone());
                    // The program's handle searches the global scope, as in glibc.
                    if id == l.program { l.global_scope.clone() } else { alloc::vec![id] }
                }
            };
            let def = l.lookup(&scope, name).ok_or_else(|| Error::UndefinedSymbol { symbol: String::from(name) })?;
            l.address_of(def, None)
        })
    })();
    match result {
        Ok(addr) => addr as usize,
        Err(e) => {
            let obj = if matches!(e, Error::BadHandle) { None } else { object };
            set_error(&e, obj.as_deref());
            0
        }
    }
}

/// `dlclose`: 0 on success, non-zero (with a dlerror message) on failure.
pub fn close(handle: usize) -> i32 {
    let result = ModId::try_from(handle)
        .map_err(|_| Error::BadHandle)
        .and_then(|id| with_loader(|l| l.close(id)));
    match result {
        Ok(()) => 0,
        Err(e) => {
            set_error(&e, None);
            1
        }
    }
}

/// Bootstrap entry point the shim calls once both libdl and the program are
/// instantiated (host-abi/SPEC.md, "Starting a process").
pub fn init(host: alloc::boxed::Box<dyn crate::host::Host + Send>, libdl: (u32, u32), program: (u32, u32)) -> Result<()> {
    let mut guard = LOADER.lock();
    if guard.is_some() {
        return Err(Error::NotInitialised);
    }
    *guard = Some(Loader::new(host, libdl, program)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        assert_eq!(decode_flags(RTLD_NOW).unwrap(), OpenFlags::default());
        assert!(decode_flags(RTLD_LAZY | RTLD_GLOBAL).unwrap().global);
        assert!(decode_flags(RTLD_NOW | RTLD_NOLOAD).unwrap().noload);
        assert!(decode_flags(RTLD_NOW | RTLD_NODELETE | RTLD_LOCAL).unwrap().nodelete);
        for bad in [0, RTLD_LAZY | RTLD_NOW, RTLD_NOW | RTLD_LOCAL | RTLD_GLOBAL, RTLD_NOW | 0x10000, RTLD_GLOBAL] {
            assert_eq!(decode_flags(bad).unwrap_err(), Error::BadFlags { flags: bad }, "{bad:#x}");
        }
    }
}
