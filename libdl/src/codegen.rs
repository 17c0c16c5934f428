//! Small wasm modules libdl generates and compiles through the host ABI.
//!
//! For now: the stub a weak undefined function import is bound to. Code tests
//! the symbol's GOT.func cell (0) before calling, so the stub is never called
//! by correct code; if it is, it traps (`unreachable`), as a call through a
//! null function pointer would. One stub instance per signature, kept for the
//! life of the process.

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

/// A module exporting one function of type `sig` whose body is `unreachable`.
pub fn trap_stub_module(sig: &Sig) -> Option<Vec<u8>> {
    if !sig.params.iter().chain(sig.results.iter()).all(|v| encodable(*v)) {
        return None;
    }
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    let mut ty = Vec::new();
    leb(&mut ty, 1);
    ty.push(0x60);
    leb(&mut ty, sig.params.len() as u32);
    ty.extend_from_slice(&sig.params);
    leb(&mut ty, sig.results.len() as u32);
    ty.extend_from_slice(&sig.results);
    section(&mut out, 1, &ty);
    section(&mut out, 3, &[1, 0]);
    section(&mut out, 7, &[1, 1, b'f', 0x00, 0]);
    section(&mut out, 10, &[1, 3, 0, 0x00, 0x0b]);
    Some(out)
}

pub fn trap_stub(l: &mut Loader, sig: &Sig) -> Result<InstanceHandle> {
    if let Some(i) = l.stubs.get(sig) {
        return Ok(*i);
    }
    let bytes = trap_stub_module(sig).ok_or(Error::Limit {
        what: "value type code in a weak import's signature",
        value: 0,
        limit: 0,
    })?;
    let module = l.host.compile(&bytes)?;
    let instance = l.host.instantiate(module, &[]);
    l.host.module_free(module);
    let instance = instance?;
    l.stubs.insert(sig.clone(), instance);
    Ok(instance)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse, Expect, ExportKind};

    #[test]
    fn stub_parses_back_with_its_signature() {
        let sig = Sig { params: alloc::vec![0x7f, 0x7c], results: alloc::vec![0x7e] };
        let bytes = trap_stub_module(&sig).unwrap();
        let m = parse(&bytes, Expect::Program).unwrap();
        assert_eq!(m.exports[0].kind, ExportKind::Func);
        assert_eq!(m.func_sig(0), Some(&sig));
    }
}
