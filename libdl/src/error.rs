//! The one error type of libdl. Variants carry data (names, codes, sizes), not
//! prose; the text a user reads is made only at the `dlerror` boundary, by
//! [`Error::write_message`], in glibc's style (`NAME: message`).

use alloc::string::String;
use core::fmt::{self, Write};

use crate::parse::Sig;

/// WASI errno values libdl names in messages (`wasi_snapshot_preview1` `errno`).
pub mod errno {
    pub const ACCES: u16 = 2;
    pub const BADF: u16 = 8;
    pub const INVAL: u16 = 28;
    pub const IO: u16 = 29;
    pub const ISDIR: u16 = 31;
    pub const LOOP: u16 = 32;
    pub const MFILE: u16 = 33;
    pub const NAMETOOLONG: u16 = 37;
    pub const NOENT: u16 = 44;
    pub const NOMEM: u16 = 48;
    pub const NOTDIR: u16 = 54;
    pub const PERM: u16 = 63;
    pub const NOTCAPABLE: u16 = 76;

    /// The strerror text, as wasi-libc (musl) spells it.
    pub fn describe(code: u16) -> &'static str {
        match code {
            ACCES => "Permission denied",
            BADF => "Bad file descriptor",
            INVAL => "Invalid argument",
            IO => "I/O error",
            ISDIR => "Is a directory",
            LOOP => "Symbolic link loop",
            MFILE => "No file descriptors available",
            NAMETOOLONG => "Filename too long",
            NOENT => "No such file or directory",
            NOMEM => "Out of memory",
            NOTDIR => "Not a directory",
            PERM => "Operation not permitted",
            NOTCAPABLE => "Capabilities insufficient",
            _ => "Unknown error",
        }
    }
}

/// Why a host ABI call failed: the spec's error code, and the host's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFailure {
    pub op: &'static str,
    pub code: i32,
    pub message: String,
}

/// The details of a signature mismatch (boxed: keeps `Error` small).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub symbol: String,
    pub imported: Sig,
    pub defined: Sig,
    pub provider: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The file could not be opened or read (`errno` from WASI).
    Open { errno: u16 },
    /// The file is shorter than a module header, or has the wrong magic.
    NotWasm,
    /// A WebAssembly binary of a version libdl does not load (e.g. a component).
    UnsupportedVersion { version: u32 },
    /// A core module without a `dylink.0` section: not a side module.
    NoDylink,
    /// `dylink.0` exists but is not the first section, as the convention requires.
    DylinkNotFirst,
    /// The obsolete `dylink` (pre-LLVM-13) section.
    OldDylink,
    /// Malformed binary: what is wrong, and the byte offset where.
    Malformed { offset: usize, message: String },
    /// A dylink.0 subsection that may appear once appeared again.
    DuplicateSubsection { id: u8 },
    /// A value above one of the named limits in `parse` or `place`.
    Limit {
        what: &'static str,
        value: u64,
        limit: u64,
    },
    /// An import libdl does not know how to satisfy.
    UnsupportedImport { module: String, name: String },
    /// A non-weak symbol no module in scope defines.
    UndefinedSymbol { symbol: String },
    /// A symbol found, but as a function where data was needed or the reverse.
    SymbolKind {
        symbol: String,
        wanted: &'static str,
    },
    /// A function import whose signature differs from the definition found.
    SignatureMismatch(alloc::boxed::Box<Mismatch>),
    /// The memory region for a module's data could not be allocated.
    NoMemory { bytes: u64 },
    /// The table could not grow to give a module its slots.
    NoTable { slots: u64 },
    /// A host ABI call failed.
    Host(HostFailure),
    /// `dlsym`/`dlclose` with a handle that is not (or no longer) a loaded library.
    BadHandle,
    /// `dlopen` flags outside what libdl accepts.
    BadFlags { flags: i32 },
    /// A guest string pointer libdl was given is not a valid C string.
    BadString,
    /// The loader was used before `__wasmdl_init`, or initialised twice.
    NotInitialised,
    /// A required export (e.g. `__wasm_call_ctors`) has a type libdl cannot call.
    BadEntryPoint { name: &'static str },
    /// An active element segment writes table slots outside the module's
    /// WASM_DYLINK_MEM_INFO reservation.
    ElemOutsideReservation { slots: u32 },
    /// A NEEDED entry that is empty or contains a NUL byte.
    BadNeededName,
    /// A signature libdl cannot generate a trampoline or forwarder for
    /// (a reference type other than funcref/externref).
    UnsupportedSignature { sig: Sig },
    /// A `dlinfo` request libdl does not answer.
    DlinfoRequest { request: i32 },
    /// An import bound to a module of the same load that is not instantiated
    /// yet: a dependency cycle, which needs lazy binding.
    Cycle { symbol: String, provider: String },
    /// A failure in a dependency (or in binding it): the message names that
    /// module instead of the one `dlopen` was asked for, as glibc's does.
    InDependency(alloc::boxed::Box<(String, Error)>),
}

impl Error {
    /// Attributes this error to the dependency or module `name`.
    pub fn needed_by(self, name: &str) -> Error {
        match self {
            Error::InDependency(_) => self,
            e => Error::InDependency(alloc::boxed::Box::new((String::from(name), e))),
        }
    }
}

impl Error {
    /// Writes the dlerror text. `object` is the file (or handle's path) the
    /// failing operation was about, when there is one.
    pub fn write_message(&self, object: Option<&str>, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = self.write_message_fmt(object, out);
    }

    fn write_message_fmt(&self, object: Option<&str>, out: &mut String) -> fmt::Result {
        if let Error::InDependency(inner) = self {
            return inner.1.write_message_fmt(Some(&inner.0), out);
        }
        if let Some(object) = object {
            write!(out, "{object}: ")?;
        }
        match self {
            Error::Open { errno: e } if *e == errno::NOENT => {
                out.write_str("cannot open shared object file: No such file or directory")
            }
            Error::Open { errno: e } => {
                write!(out, "cannot open shared object file: {}", errno::describe(*e))
            }
            Error::NotWasm => out.write_str("not a WebAssembly module (bad magic number)"),
            Error::UnsupportedVersion { version } => write!(
                out,
                "unsupported WebAssembly binary version {version:#x} (only core modules, version 1, can be loaded)"
            ),
            Error::NoDylink => {
                out.write_str("not a dynamic library: no dylink.0 section (link it with -shared)")
            }
            Error::DylinkNotFirst => {
                out.write_str("malformed dynamic library: dylink.0 is not the first section")
            }
            Error::OldDylink => out.write_str(
                "unsupported dynamic library: obsolete \"dylink\" section (relink with LLVM 13 or later)",
            ),
            Error::Malformed { offset, message } => {
                write!(out, "malformed module at byte {offset:#x}: {message}")
            }
            Error::DuplicateSubsection { id } => {
                write!(out, "malformed dylink.0: subsection {id} appears twice")
            }
            Error::Limit { what, value, limit } => {
                write!(out, "{what} {value} exceeds the limit of {limit}")
            }
            Error::UnsupportedImport { module, name } => {
                write!(out, "unsupported import {module}.{name}")
            }
            Error::UndefinedSymbol { symbol } => write!(out, "undefined symbol: {symbol}"),
            Error::SymbolKind { symbol, wanted } => {
                write!(out, "symbol {symbol} is not {wanted}")
            }
            Error::SignatureMismatch(m) => write!(
                out,
                "symbol {}: signature mismatch: imported as {}, defined in {} as {}",
                m.symbol, m.imported, m.provider, m.defined
            ),
            Error::NoMemory { bytes } => {
                write!(out, "cannot allocate memory for the module's data ({bytes} bytes)")
            }
            Error::NoTable { slots } => {
                write!(out, "cannot grow the function table by {slots} slots")
            }
            Error::Host(f) => {
                write!(out, "{} failed (host error {})", f.op, f.code)?;
                if !f.message.is_empty() {
                    write!(out, ": {}", f.message)?;
                }
                Ok(())
            }
            Error::BadHandle => out.write_str("shared object not open"),
            Error::BadFlags { flags } => {
                write!(out, "invalid mode for dlopen(): {flags:#x}: ")?;
                out.write_str(crate::dlfcn::flags_problem(*flags))
            }
            Error::BadString => out.write_str("invalid string argument"),
            Error::NotInitialised => out.write_str("the dynamic loader is not initialised"),
            Error::BadEntryPoint { name } => write!(out, "{name} has an unexpected type"),
            Error::Cycle { symbol, provider } => write!(
                out,
                "cannot bind {symbol}: {provider} is part of a dependency cycle and is not instantiated yet"
            ),
            Error::InDependency(_) => Ok(()),
            Error::ElemOutsideReservation { slots } => write!(
                out,
                "malformed dynamic library: an element segment writes outside the {slots} table slots its dylink.0 reserves"
            ),
            Error::BadNeededName => out.write_str("malformed dylink.0: a needed library name is empty or contains a NUL byte"),
            Error::UnsupportedSignature { sig } => {
                write!(out, "cannot generate a binding for a function of type {sig}")
            }
            Error::DlinfoRequest { request } => write!(
                out,
                "unsupported dlinfo request {request} (RTLD_DI_LINKMAP and RTLD_DI_ORIGIN are supported)"
            ),
        }
    }
}

pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: Error, object: Option<&str>) -> String {
        let mut s = String::new();
        e.write_message(object, &mut s);
        s
    }

    #[test]
    fn glibc_style_messages() {
        assert_eq!(
            msg(
                Error::Open {
                    errno: errno::NOENT
                },
                Some("libfoo.so")
            ),
            "libfoo.so: cannot open shared object file: No such file or directory"
        );
        assert_eq!(
            msg(
                Error::UndefinedSymbol {
                    symbol: "bar".into()
                },
                Some("/p/a.so")
            ),
            "/p/a.so: undefined symbol: bar"
        );
        assert_eq!(
            msg(
                Error::UndefinedSymbol {
                    symbol: "bar".into()
                },
                None
            ),
            "undefined symbol: bar"
        );
    }
}
