//! Small wasm modules libdl generates and compiles through the host ABI.
//!
//! * Caller forwarders: `dlsym`, `dlopen`, `atexit` and `__cxa_atexit` behave
//!   differently depending on which module calls them (RTLD_NEXT, the
//!   caller's RUNTIME_PATH, handlers that belong to the library). A side
//!   module importing one of them is bound to a generated function that calls
//!   libdl's `__wasmdl_*_from` export with the caller's id appended, so the
//!   call stays wasm-to-wasm.
//! * Indirect trampolines: what a weak undefined function import is bound to.
//!   The trampoline calls through a table slot that stays null (a call traps,
//!   as a call through a null function pointer would) until a library that
//!   defines the symbol joins the global scope; libdl then fills the slot, and
//!   the symbol's GOT cells, so the binding happens late, without a round trip
//!   through the host on any call.

use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::host::InstanceHandle;
use crate::loader::Loader;
use crate::parse::Sig;

fn leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn section(out: &mut Vec<u8>, id: u8, body: &[u8]) {
    out.push(id);
    leb(out, body.len() as u32);
    out.extend_from_slice(body);
}

fn encodable(v: u8) -> bool {
    matches!(v, 0x7f | 0x7e | 0x7d | 0x7c | 0x7b | 0x70 | 0x6f)
}

/// Whether a generated function can have this signature.
fn supported(sig: &Sig) -> bool {
    sig.params
        .iter()
        .chain(sig.results.iter())
        .all(|v| encodable(*v))
        && sig.params.len() <= 1000
}

/// A function type: `sig`, with an extra trailing i32 parameter if asked.
fn func_type(out: &mut Vec<u8>, sig: &Sig, extra_i32: bool) {
    out.push(0x60);
    leb(out, sig.params.len() as u32 + extra_i32 as u32);
    out.extend_from_slice(&sig.params);
    if extra_i32 {
        out.push(0x7f);
    }
    leb(out, sig.results.len() as u32);
    out.extend_from_slice(&sig.results);
}

/// The code section of a one-function module whose body passes its
/// parameters on, pushes `i32.const constant`, then runs `tail`.
fn forwarding_code(out: &mut Vec<u8>, params: usize, constant: u32, tail: &[u8]) {
    let mut body = alloc::vec![0u8]; // no locals
    for i in 0..params as u32 {
        body.push(0x20); // local.get
        leb(&mut body, i);
    }
    body.push(0x41); // i32.const
    sleb(&mut body, constant as i32);
    body.extend_from_slice(tail);
    let mut code = Vec::new();
    leb(&mut code, 1);
    leb(&mut code, body.len() as u32);
    code.extend_from_slice(&body);
    section(out, 10, &code);
}

const OP_CALL_INDIRECT: u8 = 0x11;
const OP_RETURN_CALL_INDIRECT: u8 = 0x13;

/// A module importing the process table and exporting `f: sig` that
/// forwards its arguments through table slot `slot`: with
/// `return_call_indirect` (a tail call, so that a call through the
/// trampoline returns straight to its caller: about a third cheaper on
/// wasmtime), or, for an engine without tail calls, `call_indirect`.
pub fn trampoline_module(sig: &Sig, slot: u32, tail: bool) -> Option<Vec<u8>> {
    if !supported(sig) {
        return None;
    }
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    let mut ty = alloc::vec![1u8];
    func_type(&mut ty, sig, false);
    section(&mut out, 1, &ty);
    let mut imp = Vec::new();
    leb(&mut imp, 1);
    for s in ["env", "__indirect_function_table"] {
        leb(&mut imp, s.len() as u32);
        imp.extend_from_slice(s.as_bytes());
    }
    imp.extend_from_slice(&[0x01, 0x70, 0x00, 0x00]); // table funcref, min 0
    section(&mut out, 2, &imp);
    section(&mut out, 3, &[1, 0]);
    section(&mut out, 7, &[1, 1, b'f', 0x00, 0]);
    // return_call_indirect or call_indirect (type 0) (table 0); end
    let op = if tail {
        OP_RETURN_CALL_INDIRECT
    } else {
        OP_CALL_INDIRECT
    };
    forwarding_code(&mut out, sig.params.len(), slot, &[op, 0x00, 0x00, 0x0b]);
    Some(out)
}

/// Instantiates a trampoline through `slot`; its export 0 is the function.
pub fn trampoline(l: &mut Loader, sig: &Sig, slot: u32) -> Result<InstanceHandle> {
    let mut bytes = trampoline_module(sig, slot, !l.no_tail_calls)
        .ok_or_else(|| Error::UnsupportedSignature { sig: sig.clone() })?;
    let mut compiled = l.host.compile(&bytes);
    if compiled.is_err() && !l.no_tail_calls {
        // Tail calls are a wasm 3.0 feature some engines lack: the same
        // module with `call_indirect` (its opcode is the body's fourth-last byte).
        l.no_tail_calls = true;
        if let Some(op) = bytes.len().checked_sub(4).and_then(|i| bytes.get_mut(i)) {
            *op = OP_CALL_INDIRECT;
        }
        compiled = l.host.compile(&bytes);
    }
    let module = compiled?;
    let imports = [crate::host::ImportDesc::new(
        crate::host::IMPORT_TABLE,
        0,
        0,
    )];
    let instance = l.host.instantiate(module, &imports);
    l.host.module_free(module);
    instance
}

/// Compiles and instantiates a generated module whose one import, `l.f`,
/// is libdl's export number `target`.
fn bound_to_libdl(l: &mut Loader, bytes: &[u8], target: u32) -> Result<InstanceHandle> {
    let libdl = l.get(l.libdl).ok_or(Error::NotInitialised)?.instance;
    let module = l.host.compile(bytes)?;
    let imports = [crate::host::ImportDesc::new(
        crate::host::IMPORT_EXPORT,
        libdl,
        target,
    )];
    let instance = l.host.instantiate(module, &imports);
    l.host.module_free(module);
    instance
}

/// A module exporting `f: sig` that calls `l.f(id)` (libdl's report of an
/// unresolved symbol, which does not return) and traps if it does.
pub fn reporter_module(sig: &Sig, id: u32) -> Option<Vec<u8>> {
    if !supported(sig) {
        return None;
    }
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    let mut ty = alloc::vec![2u8];
    func_type(&mut ty, sig, false);
    func_type(&mut ty, &Sig::default(), true); // (i32) -> ()
    section(&mut out, 1, &ty);
    section(&mut out, 2, &[1, 1, b'l', 1, b'f', 0x00, 1]);
    section(&mut out, 3, &[1, 0]);
    section(&mut out, 7, &[1, 1, b'f', 0x00, 1]);
    forwarding_code(&mut out, 0, id, &[0x10, 0x00, 0x00, 0x0b]); // call 0; unreachable; end
    Some(out)
}

/// Instantiates a reporter for unresolved symbol `id`, bound to libdl's
/// export `target`; its export 0 is the function.
pub fn reporter(l: &mut Loader, sig: &Sig, target: u32, id: u32) -> Result<InstanceHandle> {
    let bytes =
        reporter_module(sig, id).ok_or_else(|| Error::UnsupportedSignature { sig: sig.clone() })?;
    bound_to_libdl(l, &bytes, target)
}

/// A module importing `l.f: (sig.params..., i32) -> sig.results` and
/// exporting `f: sig -> sig.results` that calls it with `caller` appended.
pub fn forwarder_module(sig: &Sig, caller: u32) -> Option<Vec<u8>> {
    if !supported(sig) {
        return None;
    }
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    let mut ty = alloc::vec![2u8];
    func_type(&mut ty, sig, true);
    func_type(&mut ty, sig, false);
    section(&mut out, 1, &ty);
    section(&mut out, 2, &[1, 1, b'l', 1, b'f', 0x00, 0]);
    section(&mut out, 3, &[1, 1]);
    section(&mut out, 7, &[1, 1, b'f', 0x00, 1]);
    forwarding_code(&mut out, sig.params.len(), caller, &[0x10, 0x00, 0x0b]); // call 0; end
    Some(out)
}

fn sleb(out: &mut Vec<u8>, mut v: i32) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0);
        out.push(if done { b } else { b | 0x80 });
        if done {
            return;
        }
    }
}

/// Instantiates a forwarder bound to libdl's export `target`; returns the
/// instance (its export 0 is the function to bind the import to).
pub fn forwarder(l: &mut Loader, sig: &Sig, target: u32, caller: u32) -> Result<InstanceHandle> {
    let bytes = forwarder_module(sig, caller)
        .ok_or_else(|| Error::UnsupportedSignature { sig: sig.clone() })?;
    bound_to_libdl(l, &bytes, target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse, Expect};

    #[test]
    fn trampoline_parses_back() {
        let sig = Sig {
            params: alloc::vec![0x7e, 0x7d],
            results: alloc::vec![0x7c],
        };
        let m = parse(
            &trampoline_module(&sig, 300, true).unwrap(),
            Expect::Program,
        )
        .unwrap();
        assert_eq!(m.imports[0].kind, crate::parse::ImportKind::Table);
        assert_eq!(m.func_sig(m.exports[0].index), Some(&sig));
    }

    #[test]
    fn reporter_parses_back() {
        let sig = Sig {
            params: alloc::vec![0x7f],
            results: alloc::vec![0x7c],
        };
        let m = parse(&reporter_module(&sig, 5).unwrap(), Expect::Program).unwrap();
        assert_eq!(
            m.func_sig(0),
            Some(&Sig {
                params: alloc::vec![0x7f],
                results: alloc::vec![]
            })
        );
        assert_eq!(m.func_sig(m.exports[0].index), Some(&sig));
    }

    #[test]
    fn forwarder_parses_back() {
        let sig = Sig {
            params: alloc::vec![0x7f, 0x7f],
            results: alloc::vec![0x7f],
        };
        for caller in [0u32, 1, 63, 64, 200, 70000] {
            let bytes = forwarder_module(&sig, caller).unwrap();
            let m = parse(&bytes, Expect::Program).unwrap();
            assert_eq!(m.imports.len(), 1);
            let want_import = Sig {
                params: alloc::vec![0x7f, 0x7f, 0x7f],
                results: alloc::vec![0x7f],
            };
            assert_eq!(m.func_sig(0), Some(&want_import));
            assert_eq!(m.func_sig(m.exports[0].index), Some(&sig));
        }
        let mut b = Vec::new();
        sleb(&mut b, 64);
        assert_eq!(b, [0xc0, 0x00]);
    }
}
