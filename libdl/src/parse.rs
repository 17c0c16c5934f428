//! Phase 2: parse. From the bytes of a module, everything later phases need:
//! the `dylink.0` section, types, imports, the type of every function and
//! global, exports, and where active element segments put functions.
//!
//! The `dylink.0` format is the tool-conventions text:
//! <https://github.com/WebAssembly/tool-conventions/blob/main/DynamicLinking.md>.
//! It must be the first section. Subsections read: `WASM_DYLINK_MEM_INFO`,
//! `WASM_DYLINK_NEEDED`, `WASM_DYLINK_EXPORT_INFO`, `WASM_DYLINK_IMPORT_INFO`,
//! `WASM_DYLINK_RUNTIME_PATH` (and `WASM_DYLINK_TARGET_ARCH`, ignored).
//!
//! **Unknown-subsection policy**: an unknown subsection id is skipped and
//! counted (`Dylink::unknown_subsections`), as the convention's framing
//! (id, size) allows, so that modules from newer toolchains still load; a known
//! subsection that appears twice is an error, since a later copy would
//! silently override the first.
//!
//! This phase does not validate code: the engine does that when the host
//! compiles the module. It assumes nothing about its input; every count is
//! checked against a named limit before anything is allocated for it.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use wasmparser::{BinaryReader, Dylink0Subsection, ExternalKind, Parser, Payload, TypeRef};

use crate::error::{Error, Result};

/// Named limits. A module above any of them is refused with `Error::Limit`.
pub const MAX_IMPORTS: usize = 100_000;
pub const MAX_EXPORTS: usize = 1_000_000;
pub const MAX_FUNCTIONS: usize = 1_000_000;
pub const MAX_NEEDED: usize = 1_024;
pub const MAX_NAME_BYTES: usize = 64 * 1024;
/// log2 of the largest alignment a module may ask for (64 KiB, one page).
pub const MAX_ALIGN_LOG2: u32 = 16;

/// `WASM_SYM_BINDING_WEAK`, the flag of EXPORT_INFO/IMPORT_INFO entries.
pub const WASM_SYM_BINDING_WEAK: u32 = 0x1;
/// `WASM_SYM_TLS`, an EXPORT_INFO flag.
pub const WASM_SYM_TLS: u32 = 0x400;

/// `WASM_DYLINK_MEM_INFO`. Alignments are log2, as in the binary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemInfo {
    pub memory_size: u32,
    pub memory_align: u32,
    pub table_size: u32,
    pub table_align: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dylink {
    pub mem_info: MemInfo,
    pub needed: Vec<String>,
    pub runtime_path: Vec<String>,
    /// EXPORT_INFO: (name, flags).
    pub export_info: Vec<(String, u32)>,
    /// IMPORT_INFO: (module, field, flags).
    pub import_info: Vec<(String, String, u32)>,
    pub unknown_subsections: u32,
}

/// A value type, by its binary code (0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64,
/// 0x7b v128, reference types by their short codes; anything else 0x00).
pub type ValCode = u8;

/// A function signature.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Sig {
    pub params: Vec<ValCode>,
    pub results: Vec<ValCode>,
}

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, v: &[ValCode]) -> fmt::Result {
            f.write_str("(")?;
            for (i, c) in v.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(val_name(*c))?;
            }
            f.write_str(")")
        }
        list(f, &self.params)?;
        f.write_str(" -> ")?;
        list(f, &self.results)
    }
}

pub fn val_name(c: ValCode) -> &'static str {
    match c {
        0x7f => "i32",
        0x7e => "i64",
        0x7d => "f32",
        0x7c => "f64",
        0x7b => "v128",
        0x70 => "funcref",
        0x6f => "externref",
        _ => "ref",
    }
}

fn val_code(v: wasmparser::ValType) -> ValCode {
    use wasmparser::ValType::*;
    match v {
        I32 => 0x7f,
        I64 => 0x7e,
        F32 => 0x7d,
        F64 => 0x7c,
        V128 => 0x7b,
        Ref(r) if r.is_func_ref() => 0x70,
        Ref(r) if r.is_extern_ref() => 0x6f,
        Ref(_) => 0x00,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// A function of type index `ty`.
    Func {
        ty: u32,
    },
    Memory,
    Table,
    Global {
        ty: ValCode,
        mutable: bool,
    },
    Tag,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: ImportKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Func,
    Global,
    Memory,
    Table,
    Tag,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub name: String,
    pub kind: ExportKind,
    /// Index in the function (or global, ...) index space.
    pub index: u32,
}

/// A constant offset expression of an active element segment, in the forms
/// compilers emit: `i32.const N`, `global.get G`, `global.get G; i32.const N; i32.add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConstOffset {
    pub global: Option<u32>,
    pub value: i32,
}

/// Functions an active element segment places in table 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElemSegment {
    pub offset: ConstOffset,
    pub funcs: Vec<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct Module {
    /// Present for side modules; `None` for a program without `dylink.0`.
    pub dylink: Option<Dylink>,
    /// Function signatures by type index (`None` for non-function types).
    pub types: Vec<Option<Sig>>,
    pub imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub funcs: Vec<u32>,
    /// Type of every global, imported ones first.
    pub globals: Vec<(ValCode, bool)>,
    pub exports: Vec<Export>,
    pub elems: Vec<ElemSegment>,
}

impl Module {
    /// The signature of function `func` (in the function index space).
    pub fn func_sig(&self, func: u32) -> Option<&Sig> {
        let ty = *self.funcs.get(func as usize)?;
        self.types.get(ty as usize)?.as_ref()
    }

    /// The signature of a function import's type.
    pub fn type_sig(&self, ty: u32) -> Option<&Sig> {
        self.types.get(ty as usize)?.as_ref()
    }

    /// Whether IMPORT_INFO marks `module.name` weak.
    pub fn import_is_weak(&self, module: &str, name: &str) -> bool {
        self.dylink.as_ref().is_some_and(|d| {
            d.import_info
                .iter()
                .any(|(m, n, f)| m == module && n == name && f & WASM_SYM_BINDING_WEAK != 0)
        })
    }
}

/// Whether the module must carry `dylink.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A side module: `dylink.0` required, first.
    SideModule,
    /// A program (statically linked main): `dylink.0` optional.
    Program,
}

const WASM_MAGIC: [u8; 4] = *b"\0asm";

fn malformed(e: wasmparser::BinaryReaderError) -> Error {
    bad(e.offset(), e.message())
}

fn bad(offset: u64, message: &str) -> Error {
    Error::Malformed {
        offset: offset as usize,
        message: message.to_string(),
    }
}

fn limit(what: &'static str, value: usize, max: usize) -> Result<()> {
    if value > max {
        return Err(Error::Limit {
            what,
            value: value as u64,
            limit: max as u64,
        });
    }
    Ok(())
}

fn name(s: &str) -> Result<String> {
    limit("symbol name length", s.len(), MAX_NAME_BYTES)?;
    Ok(s.to_string())
}

pub fn parse(bytes: &[u8], expect: Expect) -> Result<Module> {
    match bytes.get(0..4) {
        Some(m) if m == WASM_MAGIC => {}
        _ => return Err(Error::NotWasm),
    }
    let version = match bytes.get(4..8) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => return Err(Error::NotWasm),
    };
    if version != 1 {
        return Err(Error::UnsupportedVersion { version });
    }

    let mut m = Module::default();
    let mut first_section = true;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(malformed)?;
        let is_first = first_section;
        if !matches!(payload, Payload::Version { .. }) {
            first_section = false;
        }
        match payload {
            Payload::Version { .. } => {}
            Payload::CustomSection(c) => match c.name() {
                "dylink" => return Err(Error::OldDylink),
                "dylink.0" => {
                    if !is_first || m.dylink.is_some() {
                        return Err(Error::DylinkNotFirst);
                    }
                    // What `c.as_known()` gives for this name, without
                    // linking in the readers of every other known section.
                    let reader = BinaryReader::new(c.data(), c.data_offset());
                    m.dylink = Some(parse_dylink0(wasmparser::Dylink0SectionReader::new(
                        reader,
                    ))?);
                }
                _ => {}
            },
            Payload::TypeSection(r) => {
                for group in r {
                    let group = group.map_err(malformed)?;
                    for sub in group.into_types() {
                        let sig = match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => Some(Sig {
                                params: f.params().iter().map(|v| val_code(*v)).collect(),
                                results: f.results().iter().map(|v| val_code(*v)).collect(),
                            }),
                            _ => None,
                        };
                        m.types.push(sig);
                        limit("number of types", m.types.len(), MAX_FUNCTIONS)?;
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.map_err(malformed)?;
                    let kind = match imp.ty {
                        TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                            m.funcs.push(ty);
                            ImportKind::Func { ty }
                        }
                        TypeRef::Memory(_) => ImportKind::Memory,
                        TypeRef::Table(_) => ImportKind::Table,
                        TypeRef::Global(g) => {
                            let ty = val_code(g.content_type);
                            m.globals.push((ty, g.mutable));
                            ImportKind::Global {
                                ty,
                                mutable: g.mutable,
                            }
                        }
                        TypeRef::Tag(_) => ImportKind::Tag,
                    };
                    m.imports.push(Import {
                        module: name(imp.module)?,
                        name: name(imp.name)?,
                        kind,
                    });
                    limit("number of imports", m.imports.len(), MAX_IMPORTS)?;
                }
            }
            Payload::FunctionSection(r) => {
                limit("number of functions", r.count() as usize, MAX_FUNCTIONS)?;
                for ty in r {
                    m.funcs.push(ty.map_err(malformed)?);
                }
            }
            Payload::GlobalSection(r) => {
                limit("number of globals", r.count() as usize, MAX_FUNCTIONS)?;
                let mut rd = section_reader(bytes, r.range())?;
                for _ in 0..r.count() {
                    let ty = rd.read::<wasmparser::GlobalType>().map_err(malformed)?;
                    skip_const_expr(&mut rd)?;
                    m.globals.push((val_code(ty.content_type), ty.mutable));
                }
                section_end(&rd)?;
            }
            Payload::ExportSection(r) => {
                limit("number of exports", r.count() as usize, MAX_EXPORTS)?;
                for e in r {
                    let e = e.map_err(malformed)?;
                    let kind = match e.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                        ExternalKind::Global => ExportKind::Global,
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Table => ExportKind::Table,
                        ExternalKind::Tag => ExportKind::Tag,
                    };
                    m.exports.push(Export {
                        name: name(e.name)?,
                        kind,
                        index: e.index,
                    });
                }
            }
            Payload::ElementSection(r) => {
                let mut rd = section_reader(bytes, r.range())?;
                for _ in 0..r.count() {
                    read_element(&mut rd, &mut m)?;
                }
                section_end(&rd)?;
            }
            // Skip function bodies without reading them.
            Payload::CodeSectionStart { .. } | Payload::CodeSectionEntry(_) => {}
            _ => {}
        }
    }

    if expect == Expect::SideModule && m.dylink.is_none() {
        return Err(Error::NoDylink);
    }
    Ok(m)
}

// ---- global and element sections, read by hand ----------------------------
//
// wasmparser's readers for these sections skip each constant expression with
// its full operator decoder (tens of kilobytes of libdl.so, for a handful of
// opcodes). These read them with the same `BinaryReader` calls, in the same
// order, so a module gets the same result and the same error (message and
// offset) as from wasmparser's `GlobalSectionReader`/`ElementSectionReader`,
// except that a constant expression holding an instruction that is not a
// constant instruction (which no valid module has: the engine refuses it
// anyway) is refused here, with `NOT_CONST`.

/// The message for an instruction a constant expression cannot hold.
pub const NOT_CONST: &str = "non-constant instruction in a constant expression";

/// A reader over a section's payload (`range`, within `bytes`), past its count.
fn section_reader(bytes: &[u8], range: core::ops::Range<u64>) -> Result<BinaryReader<'_>> {
    let body = bytes
        .get(range.start as usize..range.end as usize)
        .unwrap_or_default();
    let mut rd = BinaryReader::new(body, range.start);
    rd.read_var_u32().map_err(malformed)?;
    Ok(rd)
}

/// What wasmparser's section iterator checks after the last item.
fn section_end(rd: &BinaryReader<'_>) -> Result<()> {
    if rd.eof() {
        return Ok(());
    }
    Err(bad(
        rd.original_position(),
        "section size mismatch: unexpected data at the end of the section",
    ))
}

/// Skips a constant expression, up to and including its final `end`:
/// `i32/i64/f32/f64.const`, `global.get`, `ref.null`, `ref.func`, the
/// extended-const arithmetic and the GC constant instructions.
fn skip_const_expr(r: &mut BinaryReader<'_>) -> Result<()> {
    loop {
        let pos = r.original_position();
        let res = match r.read_u8().map_err(malformed)? {
            OP_END => return Ok(()),
            OP_I32_CONST => r.read_var_i32().map(drop),
            0x42 => r.read_var_i64().map(drop),
            0x43 => r.read_bytes(4).map(drop),
            0x44 => r.read_bytes(8).map(drop),
            OP_GLOBAL_GET | OP_REF_FUNC => r.read_var_u32().map(drop),
            0xd0 => r.read::<wasmparser::HeapType>().map(drop),
            // i32.add/sub/mul, i64.add/sub/mul
            0x6a..=0x6c | 0x7c..=0x7e => Ok(()),
            // struct.new(_default), array.new(_default), array.new_fixed,
            // any.convert_extern, extern.convert_any, ref.i31
            0xfb => match r.read_var_u32().map_err(malformed)? {
                0 | 1 | 6 | 7 => r.read_var_u32().map(drop),
                8 => r.read_var_u32().and_then(|_| r.read_var_u32()).map(drop),
                0x1a..=0x1c => Ok(()),
                _ => return Err(bad(pos, NOT_CONST)),
            },
            // As wasmparser without its `simd` feature.
            0xfd => return Err(bad(pos, "unexpected SIMD opcode: 0xfd")),
            _ => return Err(bad(pos, NOT_CONST)),
        };
        res.map_err(malformed)?;
    }
}

/// One element segment, as wasmparser's `Element` reader reads it; an active
/// segment of table 0 with a recognised offset is recorded.
fn read_element(rd: &mut BinaryReader<'_>, m: &mut Module) -> Result<()> {
    let flags = rd.read_var_u32().map_err(malformed)?;
    if flags & !0b111 != 0 {
        return Err(bad(
            rd.original_position() - 1,
            "invalid flags byte in element segment",
        ));
    }
    // Active: the table index, and where its offset expression starts.
    let mut active = None;
    if flags & 0b001 == 0 {
        let table = if flags & 0b010 == 0 {
            0
        } else {
            rd.read_var_u32().map_err(malformed)?
        };
        active = (table == 0).then(|| rd.clone());
        skip_const_expr(rd)?;
    }
    let exprs = flags & 0b100 != 0;
    if flags & 0b011 != 0 {
        if exprs {
            rd.read::<wasmparser::RefType>().map_err(malformed)?;
        } else if rd.read::<ExternalKind>().map_err(malformed)? != ExternalKind::Func {
            return Err(bad(
                rd.original_position() - 1,
                "only the function external type is supported in elem segment",
            ));
        }
    }
    let count = rd.read_var_u32().map_err(malformed)?;
    let mut items = rd.clone();
    for _ in 0..count {
        if exprs {
            skip_const_expr(rd)?;
        } else {
            rd.read_var_u32().map_err(malformed)?;
        }
    }
    let Some(offset) = active.and_then(const_offset) else {
        return Ok(());
    };
    let mut funcs = Vec::new();
    for _ in 0..count {
        if exprs {
            // `ref.func F`; a null or other entry keeps positions aligned.
            let mut r = items.clone();
            funcs.push(match r.read_u8() {
                Ok(OP_REF_FUNC) => r.read_var_u32().unwrap_or(u32::MAX),
                _ => u32::MAX,
            });
            skip_const_expr(&mut items)?;
        } else {
            funcs.push(items.read_var_u32().map_err(malformed)?);
        }
    }
    limit("number of element entries", funcs.len(), MAX_FUNCTIONS)?;
    m.elems.push(ElemSegment { offset, funcs });
    Ok(())
}

fn parse_dylink0(reader: wasmparser::Dylink0SectionReader<'_>) -> Result<Dylink> {
    let mut d = Dylink::default();
    let mut seen: u32 = 0;
    for sub in reader {
        let sub = sub.map_err(malformed)?;
        let id: u8 = match &sub {
            Dylink0Subsection::MemInfo(_) => 1,
            Dylink0Subsection::Needed(_) => 2,
            Dylink0Subsection::ExportInfo(_) => 3,
            Dylink0Subsection::ImportInfo(_) => 4,
            Dylink0Subsection::RuntimePath(_) => 5,
            Dylink0Subsection::TargetArch(_) => 6,
            Dylink0Subsection::Unknown { ty, .. } => *ty,
        };
        if !matches!(sub, Dylink0Subsection::Unknown { .. }) {
            let bit = 1u32 << id;
            if seen & bit != 0 {
                return Err(Error::DuplicateSubsection { id });
            }
            seen |= bit;
        }
        match sub {
            Dylink0Subsection::MemInfo(mi) => {
                for (what, a) in [
                    ("memory alignment (log2)", mi.memory_alignment),
                    ("table alignment (log2)", mi.table_alignment),
                ] {
                    if a > MAX_ALIGN_LOG2 {
                        return Err(Error::Limit {
                            what,
                            value: a.into(),
                            limit: MAX_ALIGN_LOG2.into(),
                        });
                    }
                }
                d.mem_info = MemInfo {
                    memory_size: mi.memory_size,
                    memory_align: mi.memory_alignment,
                    table_size: mi.table_size,
                    table_align: mi.table_alignment,
                };
            }
            Dylink0Subsection::Needed(names) => {
                limit("number of needed libraries", names.len(), MAX_NEEDED)?;
                for n in names {
                    // A file name: never empty, never with a NUL (which would
                    // also cut the dlerror text short).
                    if n.is_empty() || n.contains('\0') {
                        return Err(Error::BadNeededName);
                    }
                    d.needed.push(name(n)?);
                }
            }
            Dylink0Subsection::ExportInfo(infos) => {
                limit("number of export infos", infos.len(), MAX_EXPORTS)?;
                for i in infos {
                    d.export_info.push((name(i.name)?, i.flags.bits()));
                }
            }
            Dylink0Subsection::ImportInfo(infos) => {
                limit("number of import infos", infos.len(), MAX_IMPORTS)?;
                for i in infos {
                    d.import_info
                        .push((name(i.module)?, name(i.field)?, i.flags.bits()));
                }
            }
            Dylink0Subsection::RuntimePath(paths) => {
                limit("number of runtime paths", paths.len(), MAX_NEEDED)?;
                for p in paths {
                    d.runtime_path.push(name(p)?);
                }
            }
            Dylink0Subsection::TargetArch(_) => {}
            Dylink0Subsection::Unknown { .. } => {
                d.unknown_subsections = d.unknown_subsections.saturating_add(1);
            }
        }
    }
    Ok(d)
}

const OP_END: u8 = 0x0b;
const OP_GLOBAL_GET: u8 = 0x23;
const OP_I32_CONST: u8 = 0x41;
const OP_I32_ADD: u8 = 0x6a;
const OP_REF_FUNC: u8 = 0xd2;

/// Recognises the offset forms compilers emit; anything else is `None` (and
/// the segment is then not used for canonical function addresses). Read by
/// hand: wasmparser's operator decoder would add tens of kilobytes to
/// libdl.so for these four opcodes.
fn const_offset(mut r: BinaryReader<'_>) -> Option<ConstOffset> {
    let mut global = None;
    let mut value = 0i32;
    let mut stack = 0u32;
    loop {
        match r.read_u8().ok()? {
            OP_I32_CONST => {
                value = value.wrapping_add(r.read_var_i32().ok()?);
                stack += 1;
            }
            OP_GLOBAL_GET if global.is_none() => {
                global = Some(r.read_var_u32().ok()?);
                stack += 1;
            }
            OP_I32_ADD if stack == 2 => stack = 1,
            OP_END => return (stack == 1).then_some(ConstOffset { global, value }),
            _ => return None,
        }
    }
}

#[cfg(any(test, feature = "fuzzing"))]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
pub mod tests {
    use super::*;
    #[cfg(test)]
    use alloc::vec;

    /// A tiny module encoder for tests: sections given as (id, payload).
    pub fn module(sections: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut out = b"\0asm\x01\0\0\0".to_vec();
        for (id, payload) in sections {
            out.push(*id);
            leb(&mut out, payload.len() as u32);
            out.extend_from_slice(payload);
        }
        out
    }

    pub fn leb(out: &mut Vec<u8>, mut v: u32) {
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

    pub fn string(out: &mut Vec<u8>, s: &str) {
        leb(out, s.len() as u32);
        out.extend_from_slice(s.as_bytes());
    }

    /// A `dylink.0` custom section payload from (id, payload) subsections.
    pub fn dylink0(subs: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut p = Vec::new();
        string(&mut p, "dylink.0");
        for (id, body) in subs {
            p.push(*id);
            leb(&mut p, body.len() as u32);
            p.extend_from_slice(body);
        }
        p
    }

    pub fn mem_info(size: u32, align: u32, tsize: u32, talign: u32) -> (u8, Vec<u8>) {
        let mut b = Vec::new();
        for v in [size, align, tsize, talign] {
            leb(&mut b, v);
        }
        (1, b)
    }

    #[test]
    fn rejects_non_wasm() {
        assert_eq!(parse(b"", Expect::SideModule).unwrap_err(), Error::NotWasm);
        assert_eq!(
            parse(b"\x7fELF\x02\x01\x01\0", Expect::SideModule).unwrap_err(),
            Error::NotWasm
        );
        assert_eq!(
            parse(b"\0asm\x01\0", Expect::SideModule).unwrap_err(),
            Error::NotWasm
        );
        assert_eq!(
            parse(b"\0asm\x0d\0\x01\0", Expect::SideModule).unwrap_err(),
            Error::UnsupportedVersion { version: 0x1000d }
        );
    }

    #[test]
    fn requires_dylink_first() {
        let empty = module(&[]);
        assert_eq!(
            parse(&empty, Expect::SideModule).unwrap_err(),
            Error::NoDylink
        );
        assert!(parse(&empty, Expect::Program).unwrap().dylink.is_none());

        let mut ty = Vec::new();
        leb(&mut ty, 0);
        let late = module(&[(1, ty), (0, dylink0(&[mem_info(0, 0, 0, 0)]))]);
        assert_eq!(
            parse(&late, Expect::SideModule).unwrap_err(),
            Error::DylinkNotFirst
        );

        let mut old = Vec::new();
        string(&mut old, "dylink");
        assert_eq!(
            parse(&module(&[(0, old)]), Expect::SideModule).unwrap_err(),
            Error::OldDylink
        );
    }

    #[test]
    fn reads_mem_info_needed_and_skips_unknown() {
        let mut needed = Vec::new();
        leb(&mut needed, 2);
        string(&mut needed, "libc.so");
        string(&mut needed, "libm.so");
        let m = module(&[(
            0,
            dylink0(&[mem_info(1024, 10, 3, 0), (0x42, vec![1, 2, 3]), (2, needed)]),
        )]);
        let d = parse(&m, Expect::SideModule).unwrap().dylink.unwrap();
        assert_eq!(
            d.mem_info,
            MemInfo {
                memory_size: 1024,
                memory_align: 10,
                table_size: 3,
                table_align: 0
            }
        );
        assert_eq!(d.needed, vec!["libc.so".to_string(), "libm.so".to_string()]);
        assert_eq!(d.unknown_subsections, 1);
    }

    #[test]
    fn rejects_duplicates_huge_alignment_and_truncation() {
        let dup = module(&[(0, dylink0(&[mem_info(0, 0, 0, 0), mem_info(8, 0, 0, 0)]))]);
        assert_eq!(
            parse(&dup, Expect::SideModule).unwrap_err(),
            Error::DuplicateSubsection { id: 1 }
        );

        let align = module(&[(0, dylink0(&[mem_info(16, 31, 0, 0)]))]);
        assert!(matches!(
            parse(&align, Expect::SideModule).unwrap_err(),
            Error::Limit {
                what: "memory alignment (log2)",
                value: 31,
                ..
            }
        ));

        let good = module(&[(0, dylink0(&[mem_info(16, 2, 0, 0)]))]);
        for cut in 9..good.len() {
            let e = parse(&good[..cut], Expect::SideModule).unwrap_err();
            assert!(matches!(e, Error::Malformed { .. }), "cut at {cut}: {e:?}");
        }

        // A LEB128 that overflows u32 inside MEM_INFO.
        let overflow = module(&[(
            0,
            dylink0(&[(1, vec![0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0])]),
        )]);
        assert!(matches!(
            parse(&overflow, Expect::SideModule).unwrap_err(),
            Error::Malformed { .. }
        ));
    }

    #[test]
    fn reads_imports_exports_and_signatures() {
        // type 0: (i32, f64) -> i64
        let mut types = Vec::new();
        leb(&mut types, 1);
        types.extend_from_slice(&[0x60, 2, 0x7f, 0x7c, 1, 0x7e]);
        // imports: env.f (func 0), GOT.mem.x (mut i32 global)
        let mut imports = Vec::new();
        leb(&mut imports, 2);
        string(&mut imports, "env");
        string(&mut imports, "f");
        imports.extend_from_slice(&[0x00, 0]);
        string(&mut imports, "GOT.mem");
        string(&mut imports, "x");
        imports.extend_from_slice(&[0x03, 0x7f, 1]);
        // one defined function of type 0
        let funcs = vec![1, 0];
        // exports: "g" -> func 1
        let mut exports = Vec::new();
        leb(&mut exports, 1);
        string(&mut exports, "g");
        exports.extend_from_slice(&[0x00, 1]);
        // code: one body: no locals, unreachable, end
        let code = vec![1, 3, 0, 0x00, 0x0b];
        let bytes = module(&[
            (0, dylink0(&[mem_info(0, 0, 0, 0)])),
            (1, types),
            (2, imports),
            (3, funcs),
            (7, exports),
            (10, code),
        ]);
        let m = parse(&bytes, Expect::SideModule).unwrap();
        assert_eq!(m.imports.len(), 2);
        assert_eq!(m.imports[0].kind, ImportKind::Func { ty: 0 });
        assert_eq!(
            m.imports[1].kind,
            ImportKind::Global {
                ty: 0x7f,
                mutable: true
            }
        );
        assert_eq!(
            m.exports[0],
            Export {
                name: "g".into(),
                kind: ExportKind::Func,
                index: 1
            }
        );
        let sig = m.func_sig(1).unwrap();
        assert_eq!(alloc::format!("{sig}"), "(i32, f64) -> (i64)");
    }

    /// A side module with the given extra sections after `dylink.0`.
    #[cfg(test)]
    fn with_sections(extra: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut all = vec![(0, dylink0(&[mem_info(0, 0, 0, 0)]))];
        all.extend(extra.iter().cloned());
        module(&all)
    }

    #[test]
    fn reads_globals_with_every_constant_expression_form() {
        let mut g = Vec::new();
        leb(&mut g, 7);
        g.extend_from_slice(&[0x7f, 0, 0x41, 0x80, 0x01, 0x0b]); // i32.const 128
        g.extend_from_slice(&[0x7e, 1, 0x42, 0x7f, 0x0b]); // mut i64.const -1
        g.extend_from_slice(&[0x7d, 0, 0x43, 0, 0, 0x80, 0x3f, 0x0b]); // f32.const 1.0
        g.extend_from_slice(&[0x7c, 0, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x0b]); // f64.const 1.0
        g.extend_from_slice(&[0x7f, 0, 0x23, 0, 0x41, 2, 0x6a, 0x0b]); // global.get 0; i32.const 2; i32.add
        g.extend_from_slice(&[0x70, 0, 0xd0, 0x70, 0x0b]); // ref.null func
        g.extend_from_slice(&[0x70, 0, 0xd2, 0, 0x0b]); // ref.func 0
        let m = parse(&with_sections(&[(6, g)]), Expect::SideModule).unwrap();
        assert_eq!(
            m.globals,
            vec![
                (0x7f, false),
                (0x7e, true),
                (0x7d, false),
                (0x7c, false),
                (0x7f, false),
                (0x70, false),
                (0x70, false)
            ]
        );
    }

    #[test]
    fn reads_element_segments_of_table_zero() {
        let mut e = Vec::new();
        leb(&mut e, 6);
        e.extend_from_slice(&[0x00, 0x41, 5, 0x0b, 2, 7, 8]); // active, i32.const 5: funcs 7, 8
        e.extend_from_slice(&[0x00, 0x23, 1, 0x41, 3, 0x6a, 0x0b, 1, 9]); // global.get 1 + 3: func 9
        e.extend_from_slice(&[0x01, 0x00, 1, 4]); // passive: not placed
        e.extend_from_slice(&[0x02, 1, 0x41, 0, 0x0b, 0x00, 1, 4]); // table 1: not ours
        e.extend_from_slice(&[0x03, 0x00, 1, 4]); // declared
                                                  // active, expressions: ref.func 6, ref.null func
        e.extend_from_slice(&[0x04, 0x41, 0, 0x0b, 2, 0xd2, 6, 0x0b, 0xd0, 0x70, 0x0b]);
        let m = parse(&with_sections(&[(9, e)]), Expect::SideModule).unwrap();
        let offsets: Vec<_> = m
            .elems
            .iter()
            .map(|s| (s.offset.global, s.offset.value))
            .collect();
        assert_eq!(offsets, vec![(None, 5), (Some(1), 3), (None, 0)]);
        let funcs: Vec<_> = m.elems.iter().map(|s| s.funcs.clone()).collect();
        assert_eq!(funcs, vec![vec![7, 8], vec![9], vec![6, u32::MAX]]);
    }

    #[test]
    fn refuses_broken_globals_and_elements_as_wasmparser_does() {
        let err = |id: u8, body: &[u8]| match parse(
            &with_sections(&[(id, body.to_vec())]),
            Expect::SideModule,
        ) {
            Err(Error::Malformed { offset, message }) => (offset, message),
            other => panic!("{other:?}"),
        };
        // The payload of the section under test starts at byte 0x1b.
        assert_eq!(err(6, &[1, 0x7f, 0, 0x01, 0x0b]), (0x1e, NOT_CONST.into()));
        assert_eq!(
            err(6, &[1, 0x7f, 0, 0xfd, 12]),
            (0x1e, "unexpected SIMD opcode: 0xfd".into())
        );
        assert_eq!(
            err(6, &[1, 0x7f, 0, 0x41, 0x80]).1,
            "unexpected end-of-file"
        );
        assert_eq!(
            err(6, &[1, 0x7f, 0, 0x41, 0, 0x0b, 0xaa]),
            (
                0x21,
                "section size mismatch: unexpected data at the end of the section".into()
            )
        );
        assert_eq!(
            err(9, &[1, 0x08]),
            (0x1c, "invalid flags byte in element segment".into())
        );
        assert_eq!(
            err(9, &[1, 0x01, 0x03, 0]),
            (
                0x1d,
                "only the function external type is supported in elem segment".into()
            )
        );
        assert_eq!(
            err(9, &[1, 0x00, 0x41, 0, 0x0b, 2, 0]).1,
            "unexpected end-of-file"
        );
    }
}
