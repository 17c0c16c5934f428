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
//! The binary is read with wasmparser (no_std, without validation): its
//! `Parser` frames the sections and checks their order and the counts that
//! must agree across sections; its readers read types (the GC, typed-reference
//! and compact-import encodings included, recorded as "other": value code
//! 0x00, type `None`), imports, functions, exports and `dylink.0`. Global and
//! element sections are read item by item on its `BinaryReader`, with
//! constant expressions skipped here: wasmparser decodes them with its
//! whole operator reader, which would cost libdl.so about 23 KB for the dozen
//! instructions a constant expression may hold.
//!
//! This phase does not validate code: the engine does that when the host
//! compiles the module, so the code section is skipped by its size (the
//! parser checks its count against the function section's). Table, memory,
//! tag and data sections are not read. Counts libdl allocates by are held to
//! named limits, and no allocation reserves more entries than the bytes of
//! the section could hold.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use wasmparser::{
    BinaryReader, BinaryReaderError, Chunk, CompositeInnerType, Dylink0SectionReader,
    Dylink0Subsection, ExportSectionReader, ExternalKind, GlobalType, HeapType, Parser, Payload,
    RefType, SectionLimited, TypeRef, ValType,
};

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
    /// Where its name lies in [`Module::names`] ([`Module::name_of`]).
    pub name: NameSpan,
    pub kind: ExportKind,
    /// Index in the function (or global, ...) index space.
    pub index: u32,
}

/// A byte range of [`Module::names`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameSpan {
    pub start: u32,
    pub len: u32,
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

#[derive(Clone, Default)]
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
    /// Defined globals whose initialiser is a plain `i32.const`: (global
    /// index, value), in global order. A side module's data exports are such globals, offsets
    /// from its `__memory_base`, so their addresses are known once the
    /// module is placed, before it is instantiated.
    pub i32_inits: Vec<(u32, i32)>,
    pub exports: Vec<Export>,
    /// Every export's name, end to end: one allocation for a library's
    /// names, not one per export (a library may export tens of thousands).
    pub names: String,
    pub elems: Vec<ElemSegment>,
}

/// As if each export held its name (the form `parse_diff` compares with the
/// reference parser's).
impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[derive(Debug)]
        #[allow(dead_code)] // read by Debug only
        struct Export<'a> {
            name: &'a str,
            kind: ExportKind,
            index: u32,
        }
        struct Exports<'a>(&'a Module);
        impl fmt::Debug for Exports<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.exports.iter().map(|e| Export {
                        name: self.0.name_of(e),
                        kind: e.kind,
                        index: e.index,
                    }))
                    .finish()
            }
        }
        f.debug_struct("Module")
            .field("dylink", &self.dylink)
            .field("types", &self.types)
            .field("imports", &self.imports)
            .field("funcs", &self.funcs)
            .field("globals", &self.globals)
            .field("exports", &Exports(self))
            .field("elems", &self.elems)
            .finish()
    }
}

impl Module {
    /// The name of export `e` (one of this module's).
    pub fn name_of(&self, e: &Export) -> &str {
        let start = e.name.start as usize;
        self.names
            .get(start..start.saturating_add(e.name.len as usize))
            .unwrap_or("")
    }

    /// Adds an export named `name`.
    pub fn push_export(&mut self, name: &str, kind: ExportKind, index: u32) {
        let span = NameSpan {
            start: self.names.len() as u32,
            len: name.len() as u32,
        };
        self.names.push_str(name);
        self.exports.push(Export {
            name: span,
            kind,
            index,
        });
    }

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

// ---- errors -----------------------------------------------------------------

/// Why this phase refuses a module: wasmparser's error, whose message and
/// offset are kept as they are, or one of libdl's own checks.
enum Fail {
    Wasm(BinaryReaderError),
    /// Malformed at byte `at`: `what`.
    Bad {
        at: u64,
        what: &'static str,
    },
    /// A count or size over one of the named limits.
    Limit {
        what: &'static str,
        value: usize,
        max: usize,
    },
    OldDylink,
    DylinkNotFirst,
    DuplicateSubsection(u8),
    BadNeededName,
}

type R<T> = core::result::Result<T, Fail>;

impl From<BinaryReaderError> for Fail {
    fn from(e: BinaryReaderError) -> Fail {
        Fail::Wasm(e)
    }
}

impl From<Fail> for Error {
    #[cold]
    fn from(f: Fail) -> Error {
        match f {
            Fail::Wasm(e) => Error::Malformed {
                offset: e.offset() as usize,
                message: e.message().to_string(),
            },
            Fail::Bad { at, what } => Error::Malformed {
                offset: at as usize,
                message: what.to_string(),
            },
            Fail::Limit { what, value, max } => Error::Limit {
                what,
                value: value as u64,
                limit: max as u64,
            },
            Fail::OldDylink => Error::OldDylink,
            Fail::DylinkNotFirst => Error::DylinkNotFirst,
            Fail::DuplicateSubsection(id) => Error::DuplicateSubsection { id },
            Fail::BadNeededName => Error::BadNeededName,
        }
    }
}

fn limit(what: &'static str, value: usize, max: usize) -> R<()> {
    if value > max {
        return Err(Fail::Limit { what, value, max });
    }
    Ok(())
}

/// A name libdl keeps, held to `MAX_NAME_BYTES`.
fn name(s: &str) -> R<String> {
    limit("symbol name length", s.len(), MAX_NAME_BYTES)?;
    Ok(s.to_string())
}

fn val_code(v: ValType) -> ValCode {
    match v {
        ValType::I32 => 0x7f,
        ValType::I64 => 0x7e,
        ValType::F32 => 0x7d,
        ValType::F64 => 0x7c,
        ValType::V128 => 0x7b,
        ValType::Ref(r) if r.is_func_ref() => 0x70,
        ValType::Ref(r) if r.is_extern_ref() => 0x6f,
        ValType::Ref(_) => 0x00,
    }
}

// ---- sections ------------------------------------------------------------------

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
    let m = read_sections(bytes)?;
    if expect == Expect::SideModule && m.dylink.is_none() {
        return Err(Error::NoDylink);
    }
    Ok(m)
}

/// Every section, through wasmparser's `Parser`, which frames them and
/// checks their order and the function/code and data count/data counts.
fn read_sections(bytes: &[u8]) -> R<Module> {
    let mut m = Module::default();
    let mut parser = Parser::new(0);
    let mut pos = 0usize;
    let mut first = true;
    loop {
        let rest = bytes.get(pos..).unwrap_or_default();
        let (consumed, payload) = match parser.parse(rest, true)? {
            Chunk::Parsed { consumed, payload } => (consumed, payload),
            // With `eof` set the parser reports truncation as an error and
            // never asks for more; a truncated module either way.
            Chunk::NeedMoreData(_) => {
                return Err(Fail::Bad {
                    at: bytes.len() as u64,
                    what: EOF,
                })
            }
        };
        pos = pos.saturating_add(consumed);
        let is_first = first;
        if !matches!(payload, Payload::Version { .. }) {
            first = false;
        }
        match payload {
            Payload::CustomSection(c) => match c.name() {
                "dylink" => return Err(Fail::OldDylink),
                "dylink.0" => {
                    if !is_first || m.dylink.is_some() {
                        return Err(Fail::DylinkNotFirst);
                    }
                    // Not `as_known()`, which would link in wasmparser's
                    // readers of every custom section it knows.
                    let data = BinaryReader::new(c.data(), c.data_offset());
                    m.dylink = Some(read_dylink0(Dylink0SectionReader::new(data))?);
                }
                _ => {}
            },
            Payload::TypeSection(r) => {
                for group in r {
                    for sub in group?.into_types() {
                        let sig = match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(Sig {
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
                    let imp = imp?;
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
                let count = r.count() as usize;
                limit("number of functions", count, MAX_FUNCTIONS)?;
                // A type index takes at least a byte.
                m.funcs.reserve(count.min(section_len(&r)));
                for ty in r {
                    m.funcs.push(ty?);
                }
            }
            Payload::GlobalSection(r) => read_globals(items(bytes, &r)?, &mut m)?,
            Payload::ExportSection(r) => read_exports(r, &mut m)?,
            Payload::ElementSection(r) => {
                let (mut r, count) = items(bytes, &r)?;
                for _ in 0..count {
                    read_element(&mut r, &mut m)?;
                }
                section_end(&r)?;
            }
            // Function bodies are the engine's to validate: skipped unread.
            // (The parser hands the section over before all of it is there.)
            Payload::CodeSectionStart { size, .. } => {
                parser.skip_section();
                pos = pos.saturating_add(size as usize);
                if pos > bytes.len() {
                    return Err(Fail::Bad {
                        at: bytes.len() as u64,
                        what: EOF,
                    });
                }
            }
            Payload::End(_) => return Ok(m),
            _ => {}
        }
    }
}

/// The number of bytes a section reader covers.
fn section_len<T>(r: &SectionLimited<'_, T>) -> usize {
    let range = r.range();
    range.end.saturating_sub(range.start) as usize
}

/// A section libdl reads item by item itself (globals and elements, whose
/// constant expressions wasmparser would decode with its whole operator
/// reader, which costs libdl.so about 23 KB): a reader past its count.
fn items<'a, T>(bytes: &'a [u8], r: &SectionLimited<'a, T>) -> R<(BinaryReader<'a>, u32)> {
    let range = r.range();
    let data = bytes
        .get(range.start as usize..range.end as usize)
        .unwrap_or_default();
    let mut r = BinaryReader::new(data, range.start);
    let count = r.read_var_u32()?;
    Ok((r, count))
}

/// wasmparser's wording, for what libdl finds itself.
const EOF: &str = "unexpected end-of-file";
const TRAILING: &str = "section size mismatch: unexpected data at the end of the section";

/// After a section's last item: nothing may follow.
fn section_end(r: &BinaryReader<'_>) -> R<()> {
    if !r.eof() {
        return Err(Fail::Bad {
            at: r.original_position(),
            what: TRAILING,
        });
    }
    Ok(())
}

fn read_globals((mut r, count): (BinaryReader<'_>, u32), m: &mut Module) -> R<()> {
    let count = count as usize;
    limit("number of globals", count, MAX_FUNCTIONS)?;
    // A global takes at least 3 bytes: type, flags, `end`.
    m.globals.reserve(count.min(r.bytes_remaining() / 3));
    for _ in 0..count {
        let ty: GlobalType = r.read()?;
        m.globals.push((val_code(ty.content_type), ty.mutable));
        if let Some(v) = skip_const_expr(&mut r)? {
            m.i32_inits.push((m.globals.len() as u32 - 1, v));
        }
    }
    section_end(&r)
}

fn read_exports(r: ExportSectionReader<'_>, m: &mut Module) -> R<()> {
    let count = r.count() as usize;
    limit("number of exports", count, MAX_EXPORTS)?;
    // An export takes at least 3 bytes (a name, a kind, an index); its
    // name, fewer than the section's bytes: one reservation each.
    let len = section_len(&r);
    m.exports.reserve(count.min(len / 3));
    m.names.reserve(len);
    for e in r {
        let e = e?;
        let kind = match e.kind {
            ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
            ExternalKind::Global => ExportKind::Global,
            ExternalKind::Memory => ExportKind::Memory,
            ExternalKind::Table => ExportKind::Table,
            ExternalKind::Tag => ExportKind::Tag,
        };
        limit("symbol name length", e.name.len(), MAX_NAME_BYTES)?;
        m.push_export(e.name, kind, e.index);
    }
    // Give back what the section's other bytes reserved (in place).
    m.names.shrink_to_fit();
    Ok(())
}

// ---- constant expressions and element segments --------------------------------------
//
// A constant expression is skipped by its instructions, as wasmparser's
// operator reader skips it, except that an instruction that is not a
// constant instruction (which no valid module has: the engine refuses it
// anyway) is refused here, with `NOT_CONST`.

/// The message for an instruction a constant expression cannot hold.
pub const NOT_CONST: &str = "non-constant instruction in a constant expression";

const OP_END: u8 = 0x0b;
const OP_GLOBAL_GET: u8 = 0x23;
const OP_I32_CONST: u8 = 0x41;
const OP_I64_CONST: u8 = 0x42;
const OP_F32_CONST: u8 = 0x43;
const OP_F64_CONST: u8 = 0x44;
const OP_I32_ADD: u8 = 0x6a;
const OP_REF_NULL: u8 = 0xd0;
const OP_REF_FUNC: u8 = 0xd2;
const OP_GC_PREFIX: u8 = 0xfb;
const OP_SIMD_PREFIX: u8 = 0xfd;

/// Skips a constant expression, up to and including its final `end`:
/// `i32/i64/f32/f64.const`, `global.get`, `ref.null`, `ref.func`, the
/// extended-const arithmetic and the GC constant instructions. Returns N if
/// the expression is `i32.const N` alone.
fn skip_const_expr(r: &mut BinaryReader<'_>) -> R<Option<i32>> {
    let mut plain = None;
    let mut ops = 0u32;
    loop {
        let at = r.original_position();
        let op = r.read_u8()?;
        ops += 1;
        match op {
            OP_END => return Ok(plain.filter(|_| ops == 2)),
            OP_I32_CONST => plain = Some(r.read_var_i32()?),
            OP_I64_CONST => {
                r.read_var_i64()?;
            }
            OP_F32_CONST => {
                r.read_f32()?;
            }
            OP_F64_CONST => {
                r.read_f64()?;
            }
            OP_GLOBAL_GET | OP_REF_FUNC => {
                r.read_var_u32()?;
            }
            OP_REF_NULL => {
                r.read::<HeapType>()?;
            }
            // i32.add/sub/mul, i64.add/sub/mul
            0x6a..=0x6c | 0x7c..=0x7e => {}
            // struct.new(_default), array.new(_default), array.new_fixed,
            // any.convert_extern, extern.convert_any, ref.i31
            OP_GC_PREFIX => match r.read_var_u32()? {
                0 | 1 | 6 | 7 => {
                    r.read_var_u32()?;
                }
                8 => {
                    r.read_var_u32()?;
                    r.read_var_u32()?;
                }
                0x1a..=0x1c => {}
                _ => {
                    return Err(Fail::Bad {
                        at,
                        what: NOT_CONST,
                    })
                }
            },
            // As wasmparser without its `simd` feature.
            OP_SIMD_PREFIX => {
                return Err(Fail::Bad {
                    at,
                    what: "unexpected SIMD opcode: 0xfd",
                })
            }
            _ => {
                return Err(Fail::Bad {
                    at,
                    what: NOT_CONST,
                })
            }
        }
    }
}

/// Recognises the offset forms compilers emit; anything else is `None` (and
/// the segment is then not used for canonical function addresses).
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

/// One element segment (flags: bit 0 passive or declared, bit 1 explicit
/// table index, bit 2 expressions); an active segment of table 0 with a
/// recognised offset is recorded.
fn read_element(r: &mut BinaryReader<'_>, m: &mut Module) -> R<()> {
    let at = r.original_position();
    let flags = r.read_var_u32()?;
    if flags & !0b111 != 0 {
        return Err(Fail::Bad {
            at,
            what: "invalid flags byte in element segment",
        });
    }
    let mut offset = None;
    if flags & 0b001 == 0 {
        let table = if flags & 0b010 == 0 {
            0
        } else {
            r.read_var_u32()?
        };
        let expr = r.clone();
        skip_const_expr(r)?;
        if table == 0 {
            offset = const_offset(expr);
        }
    }
    let exprs = flags & 0b100 != 0;
    if flags & 0b011 != 0 {
        if exprs {
            r.read::<RefType>()?;
        } else {
            let at = r.original_position();
            if r.read::<ExternalKind>()? != ExternalKind::Func {
                return Err(Fail::Bad {
                    at,
                    what: "only the function external type is supported in elem segment",
                });
            }
        }
    }
    let count = r.read_var_u32()? as usize;
    let mut funcs = Vec::new();
    if offset.is_some() {
        limit("number of element entries", count, MAX_FUNCTIONS)?;
        funcs.reserve(count.min(r.bytes_remaining()));
    }
    for _ in 0..count {
        let f = if exprs {
            // `ref.func F`; a null or other entry keeps positions aligned.
            let mut e = r.clone();
            skip_const_expr(r)?;
            match e.read_u8()? {
                OP_REF_FUNC => e.read_var_u32()?,
                _ => u32::MAX,
            }
        } else {
            r.read_var_u32()?
        };
        if offset.is_some() {
            funcs.push(f);
        }
    }
    if let Some(offset) = offset {
        m.elems.push(ElemSegment { offset, funcs });
    }
    Ok(())
}

// ---- dylink.0 -------------------------------------------------------------------------

/// `dylink.0`, through wasmparser's reader of its subsections. A known
/// subsection may appear once; an unknown one is counted and skipped.
fn read_dylink0(reader: Dylink0SectionReader<'_>) -> R<Dylink> {
    let mut d = Dylink::default();
    let mut seen: u32 = 0;
    for sub in reader {
        let sub = sub?;
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
                return Err(Fail::DuplicateSubsection(id));
            }
            seen |= bit;
        }
        match sub {
            Dylink0Subsection::MemInfo(mi) => {
                let align = |what, a: u32| limit(what, a as usize, MAX_ALIGN_LOG2 as usize);
                align("memory alignment (log2)", mi.memory_alignment)?;
                align("table alignment (log2)", mi.table_alignment)?;
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
                    // File names: never empty, never with a NUL (which would
                    // also cut the dlerror text short).
                    if n.is_empty() || n.contains('\0') {
                        return Err(Fail::BadNeededName);
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
        assert_eq!(m.name_of(&m.exports[0]), "g");
        assert_eq!(
            (m.exports[0].kind, m.exports[0].index),
            (ExportKind::Func, 1)
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

    /// The `Error::Malformed` (offset, message) for a module.
    #[cfg(test)]
    fn malformed(bytes: &[u8]) -> (usize, String) {
        match parse(bytes, Expect::Program) {
            Err(Error::Malformed { offset, message }) => (offset, message),
            other => panic!("{other:?}"),
        }
    }

    /// A section's payload after `with_sections`'s `dylink.0` starts here.
    #[cfg(test)]
    const PAYLOAD: usize = 0x1b;

    #[test]
    fn refuses_overlong_and_too_large_leb128() {
        // Export "e", func, index as given (5 bytes, or 6).
        let export = |index: &[u8]| {
            let mut e = vec![1];
            string(&mut e, "e");
            e.push(0);
            e.extend_from_slice(index);
            malformed(&with_sections(&[(7, e)]))
        };
        // The 5th byte of a u32 may carry only bits 28..31.
        assert_eq!(
            export(&[0xff, 0xff, 0xff, 0xff, 0x10]),
            (PAYLOAD + 8, "invalid var_u32: integer too large".into())
        );
        assert_eq!(
            export(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
            (
                PAYLOAD + 8,
                "invalid var_u32: integer representation too long".into()
            )
        );
        // u32::MAX itself, in 5 bytes, is fine (the engine checks the index).
        let mut e = vec![1];
        string(&mut e, "e");
        e.extend_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        let m = parse(&with_sections(&[(7, e)]), Expect::Program).unwrap();
        assert_eq!(m.exports[0].index, u32::MAX);

        // Signed: i32.const and i64.const in a global's initialiser; the
        // bits above the sign bit of the last byte must copy it.
        let global = |init: &[u8]| {
            let mut g = vec![1, 0x7f, 0];
            g.extend_from_slice(init);
            g.push(0x0b);
            malformed(&with_sections(&[(6, g)]))
        };
        assert_eq!(
            global(&[0x41, 0x80, 0x80, 0x80, 0x80, 0x10]),
            (PAYLOAD + 8, "invalid var_i32: integer too large".into())
        );
        assert_eq!(
            global(&[0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
            (
                PAYLOAD + 8,
                "invalid var_i32: integer representation too long".into()
            )
        );
        assert_eq!(
            global(&[0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).1,
            "invalid var_i64: integer too large"
        );
        // i32::MIN and -1 in 5 bytes, i64::MIN in 10: valid.
        let mut g = vec![3, 0x7f, 0, 0x41, 0x80, 0x80, 0x80, 0x80, 0x78, 0x0b];
        g.extend_from_slice(&[0x7f, 0, 0x41, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x0b]);
        g.extend_from_slice(&[0x7e, 0, 0x42, 0x80, 0x80, 0x80, 0x80, 0x80]);
        g.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x7f, 0x0b]);
        assert_eq!(
            parse(&with_sections(&[(6, g)]), Expect::Program)
                .unwrap()
                .globals
                .len(),
            3
        );

        // The section size itself.
        let mut bytes = with_sections(&[]);
        bytes.extend_from_slice(&[1, 0x80, 0x80, 0x80, 0x80, 0x80]);
        assert_eq!(
            malformed(&bytes),
            (
                PAYLOAD - 1 + 4,
                "invalid var_u32: integer representation too long".into()
            )
        );
    }

    #[test]
    fn refuses_truncation_inside_and_past_sections() {
        // Two types declared, one present: the second is read past the end.
        let types = vec![2, 0x60, 0, 0];
        assert_eq!(
            malformed(&with_sections(&[(1, types)])),
            (PAYLOAD + 4, "unexpected end-of-file".into())
        );
        // A name longer than its section.
        let mut exports = vec![1];
        string(&mut exports, "abc");
        exports.truncate(3);
        assert_eq!(
            malformed(&with_sections(&[(7, exports)])),
            (PAYLOAD + 2, "unexpected end-of-file".into())
        );
        // A section whose size runs past the end of the file.
        let mut bytes = with_sections(&[]);
        bytes.extend_from_slice(&[1, 9, 0]);
        assert_eq!(
            malformed(&bytes),
            (PAYLOAD, "unexpected end-of-file".into())
        );
        // Every prefix of a valid module that cuts a section is refused.
        let sections = [
            (1, vec![1, 0x60, 1, 0x7f, 0]),
            (3, vec![1, 0]),
            (7, vec![1, 1, b'f', 0, 0]),
            (10, vec![1, 2, 0, 0x0b]),
        ];
        let good = with_sections(&sections);
        parse(&good, Expect::SideModule).unwrap();
        let ends: Vec<usize> = (0..=sections.len())
            .map(|k| with_sections(&sections[..k]).len())
            .collect();
        for cut in (9..good.len()).filter(|c| !ends.contains(c)) {
            assert!(
                parse(&good[..cut], Expect::SideModule).is_err(),
                "cut at {cut}"
            );
        }
        // Bytes after the last item of a section.
        assert_eq!(
            malformed(&with_sections(&[(3, vec![0, 0])])),
            (PAYLOAD + 1, TRAILING.into())
        );
    }

    #[test]
    fn refuses_sections_out_of_order_or_twice() {
        let ty = || (1, vec![0]);
        // wasmparser calls a section that comes twice out of order.
        assert_eq!(
            malformed(&with_sections(&[ty(), ty()])),
            (PAYLOAD + 3, "section out of order".into())
        );
        assert_eq!(
            malformed(&with_sections(&[(3, vec![0]), ty()])),
            (PAYLOAD + 3, "section out of order".into())
        );
        // Tag (13) between memory (5) and global (6); data count (12)
        // before code (10); custom and unknown sections anywhere.
        let ok = with_sections(&[
            ty(),
            (5, vec![0]),
            (0, vec![1, b'x']),
            (13, vec![0]),
            (6, vec![0]),
            (12, vec![0]),
            (0x42, vec![]),
            (10, vec![0]),
            (11, vec![0]),
        ]);
        parse(&ok, Expect::SideModule).unwrap();
        assert_eq!(
            malformed(&with_sections(&[(6, vec![0]), (13, vec![0])])),
            (PAYLOAD + 3, "section out of order".into())
        );
        // A section id with its high bit set.
        let mut bytes = with_sections(&[]);
        bytes.extend_from_slice(&[0x81, 0]);
        assert_eq!(
            malformed(&bytes),
            (PAYLOAD - 2, "malformed section id".into())
        );
        // The start section holds one function index and nothing more.
        assert_eq!(
            malformed(&with_sections(&[(8, vec![0, 0])])),
            (
                PAYLOAD + 1,
                "unexpected content in the start section".into()
            )
        );
    }

    #[test]
    fn checks_counts_across_sections() {
        // Found by parse_diff: a data count with a matching data section.
        let data = with_sections(&[(12, vec![1]), (11, vec![1, 1, 0, 0])]);
        parse(&data, Expect::SideModule).unwrap();
        let count = with_sections(&[(12, vec![1])]);
        assert_eq!(
            malformed(&count),
            (
                count.len(),
                "data count is non-zero but data section is absent".into()
            )
        );
        assert_eq!(
            malformed(&with_sections(&[(12, vec![2]), (11, vec![1, 1, 0, 0])])).1,
            "data count and data section have inconsistent lengths"
        );
        assert_eq!(
            malformed(&with_sections(&[(3, vec![1, 0]), (10, vec![0])])),
            (
                PAYLOAD + 4,
                "function and code section have inconsistent lengths".into()
            )
        );
        assert_eq!(
            malformed(&with_sections(&[(3, vec![1, 0])])).1,
            "function section has non-zero count but code section is absent"
        );
        assert_eq!(
            malformed(&with_sections(&[(10, vec![1, 2, 0, 0x0b])])).1,
            "function section is absent but code section has non-zero count"
        );
        // Bodies are not read: the engine validates code.
        let bodies = with_sections(&[(3, vec![1, 0]), (10, vec![1, 0xff, 0xff])]);
        assert_eq!(parse(&bodies, Expect::SideModule).unwrap().funcs, vec![0]);
    }

    #[test]
    fn limits_counts() {
        let mut needed = Vec::new();
        leb(&mut needed, MAX_NEEDED as u32 + 1);
        for _ in 0..=MAX_NEEDED {
            string(&mut needed, "l.so");
        }
        assert_eq!(
            parse(&module(&[(0, dylink0(&[(2, needed)]))]), Expect::SideModule).unwrap_err(),
            Error::Limit {
                what: "number of needed libraries",
                value: MAX_NEEDED as u64 + 1,
                limit: MAX_NEEDED as u64
            }
        );
        let mut exports = Vec::new();
        leb(&mut exports, u32::MAX);
        assert!(matches!(
            parse(&with_sections(&[(7, exports)]), Expect::SideModule).unwrap_err(),
            Error::Limit {
                what: "number of exports",
                ..
            }
        ));
        // Names libdl keeps are held to MAX_NAME_BYTES.
        let mut exports = vec![1];
        string(&mut exports, &"x".repeat(MAX_NAME_BYTES + 1));
        exports.extend_from_slice(&[0, 0]);
        assert!(matches!(
            parse(&with_sections(&[(7, exports)]), Expect::SideModule).unwrap_err(),
            Error::Limit {
                what: "symbol name length",
                ..
            }
        ));
        // Invalid UTF-8: the offset is the first byte that is not.
        let mut exports = vec![1];
        string(&mut exports, "ab");
        exports[3] = 0xc0;
        exports.extend_from_slice(&[0, 0]);
        assert_eq!(
            malformed(&with_sections(&[(7, exports)])),
            (PAYLOAD + 3, "malformed UTF-8 encoding".into())
        );
    }

    #[test]
    fn reads_gc_typed_reference_and_compact_import_encodings() {
        let mut types = vec![4];
        // rec { sub final (struct (field (mut i8))), func (param (ref null 0)) }
        types.extend_from_slice(&[0x4e, 2, 0x4f, 0, 0x5f, 1, 0x78, 1]);
        types.extend_from_slice(&[0x60, 1, 0x63, 0, 0]);
        // array (ref func); func (param (ref null func) (ref extern) exnref) (result v128)
        types.extend_from_slice(&[0x5e, 0x64, 0x70, 0]);
        types.extend_from_slice(&[0x60, 3, 0x63, 0x70, 0x64, 0x6f, 0x69, 1, 0x7b]);
        // sub (no supertype) shared func
        types.extend_from_slice(&[0x50, 0, 0x65, 0x60, 0, 0]);
        let mut imports = vec![2];
        // compact: module "m", items ("a" func 3), ("b" global i32)
        string(&mut imports, "m");
        string(&mut imports, "");
        imports.extend_from_slice(&[0x7f, 2]);
        string(&mut imports, "a");
        imports.extend_from_slice(&[0x00, 3]);
        string(&mut imports, "b");
        imports.extend_from_slice(&[0x03, 0x7f, 0]);
        // compact: module "n", type func 1, names "c", "d"
        string(&mut imports, "n");
        string(&mut imports, "");
        imports.extend_from_slice(&[0x7e, 0x00, 1, 2]);
        string(&mut imports, "c");
        string(&mut imports, "d");
        let m = parse(
            &with_sections(&[(1, types), (2, imports)]),
            Expect::SideModule,
        )
        .unwrap();
        assert_eq!(m.types.len(), 5);
        assert_eq!(m.types[0], None);
        assert_eq!(m.types[1].as_ref().unwrap().params, vec![0]);
        assert_eq!(m.types[2], None);
        let sig = m.types[3].as_ref().unwrap();
        assert_eq!(
            (sig.params.clone(), sig.results.clone()),
            (vec![0x70, 0x6f, 0], vec![0x7b])
        );
        assert!(m.types[4].is_some());
        let names: Vec<_> = m
            .imports
            .iter()
            .map(|i| (i.module.as_str(), i.name.as_str()))
            .collect();
        assert_eq!(names, [("m", "a"), ("m", "b"), ("n", "c"), ("n", "d")]);
        assert_eq!(m.funcs, vec![3, 1, 1]);
        assert_eq!(m.globals, vec![(0x7f, false)]);

        // A type form no proposal defines, and an exact type as a value.
        assert_eq!(
            malformed(&with_sections(&[(1, vec![1, 0x5c])])),
            (PAYLOAD + 1, "invalid leading byte (0x5c) for type".into())
        );
        assert_eq!(
            malformed(&with_sections(&[(1, vec![1, 0x60, 1, 0x62, 0, 0])])),
            (PAYLOAD + 3, "unexpected exact type".into())
        );
    }
}
