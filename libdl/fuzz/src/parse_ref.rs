//! The reference for the `parse_diff` target: a parser built on wasmparser's
//! `Parser` and its section readers throughout (type, import, function,
//! export, global, element, `dylink.0`), constant expressions included,
//! which libdl's parse.rs reads on wasmparser's `BinaryReader` instead.
#![allow(dead_code, clippy::all)]

use core::fmt;
use std::string::{String, ToString};
use std::vec::Vec;

use wasmparser::{
    ConstExpr, Dylink0Subsection, ElementItems, ElementKind, ExternalKind, KnownCustom, Parser,
    Payload, TypeRef,
};

use libdl::error::{Error, Result};

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
    Error::Malformed {
        offset: e.offset() as usize,
        message: e.message().to_string(),
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
                    if let KnownCustom::Dylink0(reader) = c.as_known() {
                        m.dylink = Some(parse_dylink0(reader)?);
                    }
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
                for g in r {
                    let g = g.map_err(malformed)?;
                    m.globals.push((val_code(g.ty.content_type), g.ty.mutable));
                }
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
                for el in r {
                    let el = el.map_err(malformed)?;
                    let ElementKind::Active {
                        table_index,
                        offset_expr,
                    } = el.kind
                    else {
                        continue;
                    };
                    if table_index.unwrap_or(0) != 0 {
                        continue;
                    }
                    let Some(offset) = const_offset(&offset_expr) else {
                        continue;
                    };
                    let mut funcs = Vec::new();
                    match el.items {
                        ElementItems::Functions(fs) => {
                            for f in fs {
                                funcs.push(f.map_err(malformed)?);
                            }
                        }
                        ElementItems::Expressions(_, exprs) => {
                            for e in exprs {
                                let e = e.map_err(malformed)?;
                                let mut r = e.get_binary_reader();
                                // `ref.func F`; a null or other entry keeps
                                // positions aligned.
                                let f = match r.read_u8() {
                                    Ok(OP_REF_FUNC) => r.read_var_u32().unwrap_or(u32::MAX),
                                    _ => u32::MAX,
                                };
                                funcs.push(f);
                            }
                        }
                    }
                    limit("number of element entries", funcs.len(), MAX_FUNCTIONS)?;
                    m.elems.push(ElemSegment { offset, funcs });
                }
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
                    // The same rule as libdl's parser (added after this copy
                    // was taken): NEEDED names are never empty and never contain NUL.
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
fn const_offset(e: &ConstExpr<'_>) -> Option<ConstOffset> {
    let mut r = e.get_binary_reader();
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
