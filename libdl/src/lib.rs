//! # libdl: a dynamic linker that lives inside the WebAssembly program
//!
//! Compiled to `libdl.so`, a position-independent `dylink.0` side module, and
//! instantiated by a runtime's shim before the program (see
//! `host-abi/SPEC.md`). The shim gives it a handful of host functions
//! (compile, instantiate, read exported globals, place functions in the
//! table); everything else a linker does happens here, in the guest.
//!
//! ## The pipeline, for each module `dlopen` loads
//!
//! 1. [`read`]: find the file (a path, or a search through `LD_LIBRARY_PATH`,
//!    `/lib`, `/usr/lib`) among the preopened directories and read it through WASI.
//! 2. [`parse`]: check the header; read `dylink.0` (first section) and the
//!    type, import, function, global, export and element sections.
//! 3. compile, through the host.
//! 4. [`place`]: reserve zeroed, aligned memory and table slots (`WASM_DYLINK_MEM_INFO`).
//! 5. [`resolve`]: bind every import: memory, table, stack pointer, bases,
//!    `GOT.mem`/`GOT.func` cells, functions from the scope (signature checked), WASI.
//! 6. [`relocate`]: instantiate; fill what points into the module itself; run
//!    `__wasm_apply_data_relocs`.
//! 7. [`init`]: run `__wasm_call_ctors`, with the loader unlocked.
//!
//! Every lookup, in step 5 and in `dlsym`, goes through [`symtab`]: one
//! index of every export of every loaded module, searched with a scope
//! ([`loader::Scope`]), so its cost does not grow with the number of libraries.
//!
//! Steps 3–6 are one transaction ([`loader::Txn`]): a failure undoes them all.
//! [`dlfcn`] is the thin public surface; [`error::Error`] the one error type,
//! turned into text only for `dlerror()`.
//!
//! Reference: the tool-conventions dynamic-linking ABI,
//! <https://github.com/WebAssembly/tool-conventions/blob/main/DynamicLinking.md>.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_op_in_unsafe_fn)]
// `unsafe` lives in two places only, each allowing it by name: the wasm32
// host bindings (`host::wasm`) and the runtime glue (`rt`).
#![deny(unsafe_code)]
// The API paths deny unwrap/expect/panic/indexing (libdl/Cargo.toml); tests may.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

extern crate alloc;

pub mod codegen;
pub mod dlfcn;
pub mod error;
pub mod host;
pub mod init;
pub mod loader;
pub mod parse;
pub mod place;
pub mod query;
pub mod read;
pub mod relocate;
pub mod resolve;
pub mod symtab;
pub mod trace;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fakehost;

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
pub mod rt;

#[cfg(target_arch = "wasm32")]
#[allow(unused_imports)]
use rt as _;

/// Natively (unit tests), call_slot is never reached through a real table.
#[cfg(not(target_arch = "wasm32"))]
pub mod rt {
    pub fn call_slot(_slot: u32) {}
    pub fn call_exit_handler(_slot: u32, _arg: u32, _with_arg: bool) {}
    pub fn hook_program_exit() {}
}
