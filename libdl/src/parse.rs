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
//! The binary is read by hand, with `Reader`: wasmparser, which libdl used
//! before, cost libdl.so about 30 KB for encodings it never needs, and its
//! per-item abstractions cost time on every export. The reader accepts what
//! wasmparser's `Parser` and section readers accepted (the `parse_diff` fuzz
//! target checks it against that older parser), the GC, typed-reference and
//! compact-import encodings included, which it records as "other" (value
//! code 0x00, type `None`).
//!
//! This phase does not validate code: the engine does that when the host
//! compiles the module, so the code section is skipped by its size (only its
//! count is read, to check it against the function section). Table, memory,
//! tag and data sections are skipped the same way after their count. It
//! assumes nothing about its input: every read is bounds-checked, counts are
//! held to named limits (for types and imports, whose entries may hold
//! several or none, their running total), and no allocation reserves more
//! entries than the bytes left could hold.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::error::{Error, Result};

/// Named limits. A module above any of them is refused with `Error::Limit`.
pub const MAX_IMPORTS: usize = 100_000;
pub const MAX_EXPORTS: usize = 1_000_000;
pub const MAX_FUNCTIONS: usize = 1_000_000;
pub const MAX_NEEDED: usize = 1_024;
pub const MAX_NAME_BYTES: usize = 64 * 1024;
/// log2 of the largest alignment a module may ask for (64 KiB, one page).
pub const MAX_ALIGN_LOG2: u32 = 16;

// Implementation limits of the binary format, as wasmparser (wasmtime's
// parser) sets them: a module over one is refused by the engine anyway, and
// holding to the same ones keeps this parser accepting what the older one did.

/// Any string (a custom section's name; names libdl keeps are then held to
/// `MAX_NAME_BYTES`). `dylink.0` strings are not held to it, as in wasmparser.
const MAX_STRING_BYTES: usize = 100_000;
/// Parameters of one function type, and results.
const MAX_PARAMS: usize = 1_000;
/// Types in one recursion group (`rec`).
const MAX_REC_GROUP: usize = 1_000_000;
/// Declared supertypes of one subtype.
const MAX_SUPERTYPES: usize = 5;
/// Fields of one struct type.
const MAX_STRUCT_FIELDS: usize = 10_000;
/// The largest type index a reference type may name (2^20 - 1).
const MAX_TYPE_INDEX: u64 = (1 << 20) - 1;

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
//
// Errors are sticky: a read that fails records why in its `Reader` (the
// first failure only) and returns a zero value, and the reader then stands
// at its end, so that every later read fails too. Code reads straight ahead
// without a check after every read, loops over counts stop as soon as the
// reader has failed (`ok()`), and the error is taken once, where a section
// ends (`merge`) and at the end of the module. A value read after a failure
// is never used for anything but to reach that point: no allocation is
// sized by it (see `room`), no loop runs on it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fail {
    /// Malformed at byte `at` (absolute): `what`, or, with `byte`, "invalid
    /// leading byte (0x..) for `what`" (wasmparser's wording).
    Bad {
        at: usize,
        what: &'static str,
        byte: Option<u8>,
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

fn bad(at: usize, what: &'static str) -> Fail {
    Fail::Bad {
        at,
        what,
        byte: None,
    }
}

impl From<Fail> for Error {
    #[cold]
    fn from(f: Fail) -> Error {
        match f {
            Fail::Bad { at, what, byte } => Error::Malformed {
                offset: at,
                message: match byte {
                    None => what.to_string(),
                    Some(b) => format!("invalid leading byte ({b:#x}) for {what}"),
                },
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

// ---- the reader -------------------------------------------------------------

const EOF: &str = "unexpected end-of-file";
const TRAILING: &str = "section size mismatch: unexpected data at the end of the section";

/// A bounds-checked cursor. `data` is the file up to the end of what is
/// being read (a section, a subsection), so `pos` is an absolute file offset
/// that errors carry as is, and reading past `data` is reading past the end
/// of that section. `err` is the first failure (see "errors" above).
#[derive(Clone)]
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    err: Option<Fail>,
}

impl<'a> Reader<'a> {
    fn ok(&self) -> bool {
        self.err.is_none()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Bytes left before the end.
    fn left(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Records `f` unless a failure came first, and stops the reader.
    #[cold]
    #[inline(never)]
    fn fail(&mut self, f: Fail) {
        if self.err.is_none() {
            self.err = Some(f);
        }
        self.pos = self.data.len();
    }

    fn bad(&mut self, at: usize, what: &'static str) {
        self.fail(bad(at, what));
    }

    /// `byte` (at `at`) does not start any `what`.
    fn bad_byte(&mut self, at: usize, byte: u8, what: &'static str) {
        self.fail(Fail::Bad {
            at,
            what,
            byte: Some(byte),
        });
    }

    /// Takes the failure of a reader made from this one.
    fn merge(&mut self, sub: &Reader<'_>) {
        if let Some(f) = sub.err {
            self.fail(f);
        }
    }

    /// Fails with `Fail::Limit` if `value` is over `max`; returns whether it is not.
    fn limit(&mut self, what: &'static str, value: usize, max: usize) -> bool {
        if value > max {
            self.fail(Fail::Limit { what, value, max });
            return false;
        }
        true
    }

    /// A name libdl keeps, held to `MAX_NAME_BYTES`.
    fn name(&mut self, s: &str) -> String {
        if !self.limit("symbol name length", s.len(), MAX_NAME_BYTES) {
            return String::new();
        }
        s.to_string()
    }

    #[inline]
    fn peek(&mut self) -> u8 {
        match self.data.get(self.pos) {
            Some(b) => *b,
            None => {
                self.bad(self.pos, EOF);
                0
            }
        }
    }

    #[inline]
    fn byte(&mut self) -> u8 {
        match self.data.get(self.pos) {
            Some(b) => {
                // `pos` indexes a byte of `data`, so `pos + 1 <= data.len()`.
                self.pos += 1;
                *b
            }
            None => {
                self.bad(self.pos, EOF);
                0
            }
        }
    }

    /// The next `n` bytes (none after a failure).
    fn take(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos;
        match start
            .checked_add(n)
            .and_then(|end| self.data.get(start..end))
        {
            Some(s) => {
                // `s` lies within `data`: `pos + s.len() <= data.len()`.
                self.pos += s.len();
                s
            }
            None => {
                self.bad(start, EOF);
                &[]
            }
        }
    }

    /// A reader over the next `n` bytes (a section or subsection of size
    /// `n`), which this one skips; `what` says why it cannot be read whole.
    fn sub(&mut self, n: usize, what: &'static str) -> Reader<'a> {
        let start = self.pos;
        match start.checked_add(n).and_then(|end| self.data.get(..end)) {
            Some(data) => {
                self.pos = data.len();
                Reader {
                    data,
                    pos: start,
                    err: None,
                }
            }
            None => {
                self.bad(start, what);
                Reader {
                    data: &[],
                    pos: 0,
                    err: self.err,
                }
            }
        }
    }

    /// What a section reader checks after its last item.
    fn done(&mut self) {
        if !self.at_end() {
            self.bad(self.pos, TRAILING);
        }
    }

    /// An unsigned LEB128 `u32`: at most 5 bytes, and in the 5th the
    /// continuation bit and the 3 bits above bit 31 clear.
    #[inline]
    fn u32(&mut self) -> u32 {
        let b = self.byte();
        if b < 0x80 {
            return b.into();
        }
        self.u32_rest(b)
    }

    fn u32_rest(&mut self, first: u8) -> u32 {
        let mut v = u32::from(first & 0x7f);
        let mut shift = 7;
        loop {
            let b = self.byte();
            if shift == 28 && b >> 4 != 0 {
                self.bad(self.pos - 1, leb_error(b, LEB_U32));
                return 0;
            }
            v |= u32::from(b & 0x7f) << shift;
            // At shift 28 the check above left `b < 0x10`: this returns.
            if b & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    }

    /// An unsigned LEB128 `u64` (limits, which wasmparser reads as 64-bit
    /// for every memory and table): at most 10 bytes.
    fn u64(&mut self) {
        let mut shift = 0;
        loop {
            let b = self.byte();
            if shift == 63 && b >> 1 != 0 {
                return self.bad(self.pos - 1, leb_error(b, LEB_U64));
            }
            if b & 0x80 == 0 {
                return;
            }
            shift += 7;
        }
    }

    /// A signed LEB128 of `bits` bits (32, 33 or 64), sign-extended: at most
    /// `ceil(bits / 7)` bytes, and in the last one the continuation bit clear
    /// and the bits above the sign bit equal to it. `ty`: its `LEB_` kind.
    fn signed(&mut self, bits: u32, ty: usize) -> i64 {
        let mut v = 0i64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            v |= i64::from(b & 0x7f) << shift;
            let last = shift + 7 >= bits;
            // The last byte's bits from the sign bit up, as 0 or -1 when
            // they are all equal (`b << 1` drops the continuation bit).
            if last && (b & 0x80 != 0 || !matches!(((b << 1) as i8) >> (bits - shift), 0 | -1)) {
                self.bad(self.pos - 1, leb_error(b, ty));
                return 0;
            }
            if last || b & 0x80 == 0 {
                let used = shift + 7;
                if used < 64 {
                    v = (v << (64 - used)) >> (64 - used);
                }
                return v;
            }
            shift += 7;
        }
    }

    /// A string of at most `max` bytes, valid UTF-8 ("" after a failure).
    fn str(&mut self, max: usize) -> &'a str {
        let at = self.pos;
        let n = self.u32() as usize;
        if n > max {
            self.bad(at, "string size out of bounds");
            return "";
        }
        let start = self.pos;
        match core::str::from_utf8(self.take(n)) {
            Ok(s) => s,
            Err(e) => {
                self.bad(
                    start.saturating_add(e.valid_up_to()),
                    "malformed UTF-8 encoding",
                );
                ""
            }
        }
    }

    /// A count of at most `max` items (`what`: the message when over).
    fn small_count(&mut self, max: usize, what: &'static str) -> usize {
        let at = self.pos;
        let n = self.u32() as usize;
        if n > max {
            self.bad(at, what);
            return 0;
        }
        n
    }

    /// How many of `count` items, each at least `min_bytes` long, to reserve
    /// room for: never more than the bytes left could hold, so that a small
    /// file cannot make libdl allocate for a count it does not contain.
    fn room(&self, count: usize, min_bytes: usize) -> usize {
        count.min(self.left() / min_bytes)
    }
}

// The LEB128 kinds, for their messages (wasmparser's).
const LEB_U32: usize = 0;
const LEB_U64: usize = 1;
const LEB_I32: usize = 2;
const LEB_I64: usize = 3;
const LEB_S33: usize = 4;
const LEB_ERRORS: [[&str; 2]; 5] = [
    [
        "invalid var_u32: integer too large",
        "invalid var_u32: integer representation too long",
    ],
    [
        "invalid var_u64: integer too large",
        "invalid var_u64: integer representation too long",
    ],
    [
        "invalid var_i32: integer too large",
        "invalid var_i32: integer representation too long",
    ],
    [
        "invalid var_i64: integer too large",
        "invalid var_i64: integer representation too long",
    ],
    [
        "invalid var_s33: integer representation too long",
        "invalid var_s33: integer representation too long",
    ],
];

/// Why the last byte `b` of a LEB128 of kind `ty` is refused: a set
/// continuation bit makes it too long, other bits too large.
fn leb_error(b: u8, ty: usize) -> &'static str {
    LEB_ERRORS
        .get(ty)
        .and_then(|m| m.get(usize::from(b >> 7)))
        .copied()
        .unwrap_or(EOF)
}

// ---- sections ------------------------------------------------------------------

const SEC_CUSTOM: u8 = 0;
const SEC_TYPE: u8 = 1;
const SEC_IMPORT: u8 = 2;
const SEC_FUNCTION: u8 = 3;
const SEC_TABLE: u8 = 4;
const SEC_MEMORY: u8 = 5;
const SEC_GLOBAL: u8 = 6;
const SEC_EXPORT: u8 = 7;
const SEC_START: u8 = 8;
const SEC_ELEMENT: u8 = 9;
const SEC_CODE: u8 = 10;
const SEC_DATA: u8 = 11;
const SEC_DATA_COUNT: u8 = 12;
const SEC_TAG: u8 = 13;

/// Where a known section must come, by id: the binary format's order, with
/// the tag section (exception handling) after memory and data count before
/// code. 0: not a known section (skipped, and not ordered).
fn section_rank(id: u8) -> u8 {
    match id {
        SEC_TYPE => 1,
        SEC_IMPORT => 2,
        SEC_FUNCTION => 3,
        SEC_TABLE => 4,
        SEC_MEMORY => 5,
        SEC_TAG => 6,
        SEC_GLOBAL => 7,
        SEC_EXPORT => 8,
        SEC_START => 9,
        SEC_ELEMENT => 10,
        SEC_DATA_COUNT => 11,
        SEC_CODE => 12,
        SEC_DATA => 13,
        _ => 0,
    }
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
    let m = read_sections(bytes)?;
    if expect == Expect::SideModule && m.dylink.is_none() {
        return Err(Error::NoDylink);
    }
    Ok(m)
}

/// Every section after the header, in order.
fn read_sections(bytes: &[u8]) -> core::result::Result<Module, Fail> {
    let mut m = Module::default();
    let mut r = Reader {
        data: bytes,
        pos: 8,
        err: None,
    };
    let mut rank = 0;
    // The counts of the function, code, data count and data sections.
    let mut func_count: Option<u32> = None;
    let mut code_count: Option<u32> = None;
    let mut data_count: Option<u32> = None;
    let mut data_entries: Option<u32> = None;
    while !r.at_end() {
        let is_first = r.pos == 8;
        let id_at = r.pos;
        let id = r.byte();
        if id & 0x80 != 0 {
            r.bad(id_at, "malformed section id");
        }
        let size = r.u32() as usize;
        let mut s = r.sub(size, "section extends past the end of the file");

        let this = section_rank(id);
        if this != 0 {
            if this == rank {
                s.bad(s.pos, "duplicate section");
            } else if this < rank {
                s.bad(s.pos, "section out of order");
            }
            rank = this;
        }
        match id {
            SEC_CUSTOM => match s.str(MAX_STRING_BYTES) {
                "dylink" => s.fail(Fail::OldDylink),
                "dylink.0" => {
                    if !is_first || m.dylink.is_some() {
                        s.fail(Fail::DylinkNotFirst);
                    }
                    m.dylink = Some(read_dylink0(&mut s));
                }
                _ => {}
            },
            SEC_TYPE => read_types(&mut s, &mut m),
            SEC_IMPORT => read_imports(&mut s, &mut m),
            SEC_FUNCTION => {
                let count = s.u32();
                s.limit("number of functions", count as usize, MAX_FUNCTIONS);
                m.funcs.reserve(s.room(count as usize, 1));
                for _ in 0..count {
                    if !s.ok() {
                        break;
                    }
                    m.funcs.push(s.u32());
                }
                s.done();
                func_count = Some(count);
            }
            SEC_GLOBAL => {
                let count = s.u32() as usize;
                s.limit("number of globals", count, MAX_FUNCTIONS);
                // A global takes at least 3 bytes: type, flags, `end`.
                m.globals.reserve(s.room(count, 3));
                for _ in 0..count {
                    if !s.ok() {
                        break;
                    }
                    m.globals.push(global_type(&mut s));
                    let start = s.pos;
                    skip_const_expr(&mut s);
                    if let Some(v) = s.data.get(start..s.pos).and_then(plain_i32_const) {
                        m.i32_inits.push((m.globals.len() as u32 - 1, v));
                    }
                }
                s.done();
            }
            SEC_EXPORT => read_exports(&mut s, &mut m),
            SEC_ELEMENT => {
                let count = s.u32();
                for _ in 0..count {
                    if !s.ok() {
                        break;
                    }
                    read_element(&mut s, &mut m);
                }
                s.done();
            }
            SEC_START | SEC_DATA_COUNT => {
                let n = s.u32();
                if !s.at_end() {
                    s.bad(
                        s.pos,
                        if id == SEC_START {
                            "unexpected content in the start section"
                        } else {
                            "unexpected content in the data count section"
                        },
                    );
                }
                if id == SEC_DATA_COUNT {
                    data_count = Some(n);
                }
            }
            SEC_CODE => {
                // Function bodies are the engine's to validate: only the
                // count is read, and the rest skipped by the section size.
                let at = s.pos;
                code_count = Some(s.u32());
                check_code_count(&mut s, func_count, code_count, at);
            }
            SEC_DATA => {
                data_entries = Some(s.u32());
                check_data_count(&mut s, data_count, data_entries, r.pos);
            }
            // Table, memory and tag sections: only their count is read (what
            // libdl needs of tables and memories, it reads from imports).
            SEC_TABLE | SEC_MEMORY | SEC_TAG => {
                s.u32();
            }
            // An unknown section id: the engine refuses it if it must.
            _ => {}
        }
        r.merge(&s);
    }
    let end = r.pos;
    check_code_count(&mut r, func_count, code_count, end);
    check_data_count(&mut r, data_count, data_entries, end);
    match r.err {
        Some(f) => Err(f),
        None => Ok(m),
    }
}

/// The function section's count against the code section's, where they
/// can be compared: at the code section, and at the end of the module.
fn check_code_count(r: &mut Reader<'_>, funcs: Option<u32>, code: Option<u32>, at: usize) {
    match (funcs, code) {
        (Some(n), Some(m)) if n != m => {
            r.bad(at, "function and code section have inconsistent lengths")
        }
        (Some(n), None) if n > 0 => r.bad(
            at,
            "function section has non-zero count but code section is absent",
        ),
        (None, Some(m)) if m > 0 => r.bad(
            at,
            "function section is absent but code section has non-zero count",
        ),
        _ => {}
    }
}

/// The data count section's count against the data section's.
fn check_data_count(r: &mut Reader<'_>, count: Option<u32>, data: Option<u32>, at: usize) {
    match (count, data) {
        (Some(n), Some(m)) if n != m => {
            r.bad(at, "data count and data section have inconsistent lengths")
        }
        (Some(n), None) if n > 0 => r.bad(at, "data count is non-zero but data section is absent"),
        _ => {}
    }
}

// ---- types -------------------------------------------------------------------------
//
// Value and type encodings, by their first byte (the binary format's table;
// the GC, typed-reference, shared-everything, custom-descriptor and
// stack-switching encodings included, as wasmparser reads them):
//   0x7f..0x7b  i32 i64 f32 f64 v128
//   0x68..0x75  abstract heap types, the short form `(ref null ht)`
//   0x63/0x64   `(ref null ht)` / `(ref ht)`, then a heap type
//   0x65        shared;  0x62 exact;  0x4c/0x4d describes/descriptor
//   0x60 func, 0x5f struct, 0x5e array, 0x5d cont;  0x50/0x4f sub;  0x4e rec

const TY_FUNC: u8 = 0x60;
const TY_STRUCT: u8 = 0x5f;
const TY_ARRAY: u8 = 0x5e;
const TY_CONT: u8 = 0x5d;
const TY_SUB: u8 = 0x50;
const TY_SUB_FINAL: u8 = 0x4f;
const TY_REC: u8 = 0x4e;
const TY_DESCRIBES: u8 = 0x4c;
const TY_DESCRIPTOR: u8 = 0x4d;
const TY_SHARED: u8 = 0x65;
const TY_EXACT: u8 = 0x62;
const TY_REF_NULL: u8 = 0x63;
const TY_REF: u8 = 0x64;
const FUNCREF: u8 = 0x70;
const EXTERNREF: u8 = 0x6f;

/// An abstract heap type's byte (read at `at`), as a value code: funcref
/// and externref keep theirs, every other reference is "other" (0x00).
fn abstract_heap(r: &mut Reader<'_>, at: usize, what: &'static str) -> ValCode {
    match r.byte() {
        b @ (FUNCREF | EXTERNREF) => b,
        0x68..=0x75 => 0,
        _ => {
            r.bad(at, what);
            0
        }
    }
}

/// A heap type (after 0x63/0x64, or in `ref.null`): a type index as a
/// non-negative s33, or an abstract type (maybe shared, or exact with an
/// index). Returns its value code and, for an exact type, its index.
fn heap_type(r: &mut Reader<'_>) -> (ValCode, u32) {
    let mut ahead = r.clone();
    let v = ahead.signed(33, LEB_S33);
    if v >= 0 || !ahead.ok() {
        *r = ahead;
        if v as u64 > MAX_TYPE_INDEX {
            r.bad(r.pos, "type index greater than implementation limits");
        }
        return (0, 0);
    }
    match r.peek() {
        TY_SHARED => {
            r.byte();
            let at = r.pos;
            (abstract_heap(r, at, "invalid abstract heap type"), 0)
        }
        TY_EXACT => {
            r.byte();
            (0, r.u32())
        }
        _ => {
            let at = r.pos;
            (abstract_heap(r, at, "invalid heap type"), 0)
        }
    }
}

/// A reference type; `what` is the message for a byte that starts none.
fn ref_type(r: &mut Reader<'_>, what: &'static str) -> ValCode {
    let at = r.pos;
    match r.peek() {
        TY_REF_NULL | TY_REF => {
            r.byte();
            let (code, exact) = heap_type(r);
            if u64::from(exact) > MAX_TYPE_INDEX {
                r.bad(at, "type index too large");
            }
            code
        }
        TY_EXACT => {
            r.bad(at, "unexpected exact type");
            0
        }
        TY_SHARED => {
            r.byte();
            let at = r.pos;
            abstract_heap(r, at, what)
        }
        _ => abstract_heap(r, at, what),
    }
}

fn val_type(r: &mut Reader<'_>) -> ValCode {
    match r.peek() {
        b @ 0x7b..=0x7f => {
            r.byte();
            b
        }
        _ => ref_type(r, "invalid value type"),
    }
}

/// A struct or array field: a value type or a packed i8/i16, and mutability.
fn field_type(r: &mut Reader<'_>) {
    if matches!(r.peek(), 0x77 | 0x78) {
        r.byte();
    } else {
        val_type(r);
    }
    if r.byte() > 1 {
        r.bad(r.pos, "malformed mutability byte for field type");
    }
}

fn type_index(r: &mut Reader<'_>) {
    if u64::from(r.u32()) > MAX_TYPE_INDEX {
        r.bad(r.pos, "type index greater than implementation limits");
    }
}

fn val_types(r: &mut Reader<'_>, what: &'static str) -> Vec<ValCode> {
    let n = r.small_count(MAX_PARAMS, what);
    let mut v = Vec::with_capacity(r.room(n, 1));
    for _ in 0..n {
        if !r.ok() {
            break;
        }
        v.push(val_type(r));
    }
    v
}

/// A composite type whose first byte `b` was read: the signature of a
/// function type, `None` for the others.
fn composite_type(r: &mut Reader<'_>, mut b: u8) -> Option<Sig> {
    if b == TY_SHARED {
        b = r.byte();
    }
    if b == TY_DESCRIBES {
        type_index(r);
        b = r.byte();
    }
    if b == TY_DESCRIPTOR {
        type_index(r);
        b = r.byte();
    }
    match b {
        TY_FUNC => {
            let params = val_types(r, "function params size is out of bounds");
            let results = val_types(r, "function returns size is out of bounds");
            return Some(Sig { params, results });
        }
        TY_ARRAY => field_type(r),
        TY_STRUCT => {
            let n = r.small_count(MAX_STRUCT_FIELDS, "struct fields size is out of bounds");
            for _ in 0..n {
                if !r.ok() {
                    break;
                }
                field_type(r);
            }
        }
        TY_CONT => {
            let v = r.signed(33, LEB_S33);
            if v < 0 {
                r.bad(r.pos, "invalid continuation type");
            } else if v as u64 > MAX_TYPE_INDEX {
                r.bad(r.pos, "type index greater than implementation limits");
            }
        }
        _ => r.bad_byte(r.pos - 1, b, "type"),
    }
    None
}

/// One subtype (`sub`, `sub final` or a bare composite type), recorded.
fn sub_type(r: &mut Reader<'_>, m: &mut Module) {
    let mut b = r.byte();
    if b == TY_SUB || b == TY_SUB_FINAL {
        let n = r.small_count(MAX_SUPERTYPES, "supertype idxs size is out of bounds");
        for _ in 0..n {
            type_index(r);
        }
        b = r.byte();
    }
    m.types.push(composite_type(r, b));
    r.limit("number of types", m.types.len(), MAX_FUNCTIONS);
}

/// The type section: recursion groups of subtypes, every type recorded.
fn read_types(s: &mut Reader<'_>, m: &mut Module) {
    let count = s.u32() as usize;
    // A group may hold no type or many: the limit is on the types. A
    // function type takes at least 3 bytes.
    m.types.reserve(s.room(count, 3).min(MAX_FUNCTIONS));
    for _ in 0..count {
        if !s.ok() {
            break;
        }
        if s.peek() == TY_REC {
            s.byte();
            let n = s.small_count(MAX_REC_GROUP, "rec group types size is out of bounds");
            for _ in 0..n {
                if !s.ok() {
                    break;
                }
                sub_type(s, m);
            }
        } else {
            sub_type(s, m);
        }
    }
    s.done();
}

// ---- imports and exports --------------------------------------------------------------

const KIND_FUNC: u8 = 0x00;
const KIND_TABLE: u8 = 0x01;
const KIND_MEMORY: u8 = 0x02;
const KIND_GLOBAL: u8 = 0x03;
const KIND_TAG: u8 = 0x04;
/// A function of an exact type (custom-descriptors proposal): a function.
const KIND_FUNC_EXACT: u8 = 0x20;
/// Compact import encodings (compact-imports proposal), after an empty
/// item name: many (name, type) items of one module, or many names of one
/// module and type.
const COMPACT_ITEMS: u8 = 0x7f;
const COMPACT_NAMES: u8 = 0x7e;

fn global_type(r: &mut Reader<'_>) -> (ValCode, bool) {
    let ty = val_type(r);
    // Bit 0: mutable; bit 1: shared (shared-everything threads).
    let flags = r.byte();
    if flags > 0b11 {
        r.bad(r.pos - 1, "malformed global flags");
    }
    (ty, flags & 1 != 0)
}

/// The limits of a table or memory whose flags byte (at `at`) was read:
/// read as u64, as wasmparser reads them (memory64 and table64 included);
/// the engine checks them.
fn limits(r: &mut Reader<'_>, flags: u8, valid: u8, what: &'static str, at: usize) {
    if flags & !valid != 0 {
        r.bad(at, what);
    }
    r.u64();
    // Bit 0: has a maximum.
    if flags & 1 != 0 {
        r.u64();
    }
}

/// What an import imports.
fn import_kind(r: &mut Reader<'_>) -> ImportKind {
    let at = r.pos;
    match r.byte() {
        KIND_FUNC | KIND_FUNC_EXACT => ImportKind::Func { ty: r.u32() },
        KIND_TABLE => {
            ref_type(r, "malformed reference type");
            let at = r.pos;
            // Bit 1: shared; 2: table64.
            let flags = r.byte();
            limits(r, flags, 0b111, "invalid table resizable limits flags", at);
            ImportKind::Table
        }
        KIND_MEMORY => {
            let at = r.pos;
            // Bit 1: shared; 2: memory64; 3: a custom page size follows.
            let flags = r.byte();
            limits(r, flags, 0b1111, "invalid memory limits flags", at);
            if flags & 0b1000 != 0 && r.u32() >= 64 {
                r.bad(at, "invalid custom page size");
            }
            ImportKind::Memory
        }
        KIND_GLOBAL => {
            let (ty, mutable) = global_type(r);
            ImportKind::Global { ty, mutable }
        }
        KIND_TAG => {
            if r.byte() != 0 {
                r.bad(r.pos - 1, "invalid tag attributes");
            }
            r.u32();
            ImportKind::Tag
        }
        b => {
            r.bad_byte(at, b, "external kind");
            ImportKind::Tag
        }
    }
}

fn push_import(r: &mut Reader<'_>, m: &mut Module, module: &str, field: &str, kind: ImportKind) {
    match kind {
        ImportKind::Func { ty } => m.funcs.push(ty),
        ImportKind::Global { ty, mutable } => m.globals.push((ty, mutable)),
        _ => {}
    }
    let module = r.name(module);
    let name = r.name(field);
    m.imports.push(Import { module, name, kind });
    r.limit("number of imports", m.imports.len(), MAX_IMPORTS);
}

/// The import section: its count is of entries, each one import or (in
/// the compact encodings) a group of them; the limit is on imports.
fn read_imports(s: &mut Reader<'_>, m: &mut Module) {
    let count = s.u32() as usize;
    // An entry takes at least 4 bytes (two names, a kind, an index).
    m.imports.reserve(s.room(count, 4).min(MAX_IMPORTS));
    for _ in 0..count {
        if !s.ok() {
            break;
        }
        let module = s.str(MAX_STRING_BYTES);
        let field = s.str(MAX_STRING_BYTES);
        let compact = if field.is_empty() { s.peek() } else { 0 };
        if compact == COMPACT_ITEMS || compact == COMPACT_NAMES {
            s.byte();
            let mut kind = ImportKind::Tag;
            if compact == COMPACT_NAMES {
                kind = import_kind(s);
            }
            for _ in 0..s.u32() {
                if !s.ok() {
                    break;
                }
                let field = s.str(MAX_STRING_BYTES);
                if compact == COMPACT_ITEMS {
                    kind = import_kind(s);
                }
                push_import(s, m, module, field, kind);
            }
        } else {
            let kind = import_kind(s);
            push_import(s, m, module, field, kind);
        }
    }
    s.done();
}

fn read_exports(s: &mut Reader<'_>, m: &mut Module) {
    let count = s.u32() as usize;
    s.limit("number of exports", count, MAX_EXPORTS);
    // An export takes at least 3 bytes (a name, a kind, an index); its
    // name, fewer than the section's bytes: one reservation each.
    m.exports.reserve(s.room(count, 3));
    m.names.reserve(s.room(usize::MAX, 1));
    for _ in 0..count {
        if !s.ok() {
            break;
        }
        let field = s.str(MAX_STRING_BYTES);
        let at = s.pos;
        let kind = match s.byte() {
            KIND_FUNC => ExportKind::Func,
            KIND_TABLE => ExportKind::Table,
            KIND_MEMORY => ExportKind::Memory,
            KIND_GLOBAL => ExportKind::Global,
            KIND_TAG => ExportKind::Tag,
            KIND_FUNC_EXACT => {
                s.bad(s.pos, "exact type is not allowed in exports");
                ExportKind::Func
            }
            b => {
                s.bad_byte(at, b, "external kind");
                ExportKind::Func
            }
        };
        let index = s.u32();
        let name = if s.limit("symbol name length", field.len(), MAX_NAME_BYTES) {
            field
        } else {
            ""
        };
        m.push_export(name, kind, index);
    }
    // Give back what the section's other bytes reserved (in place).
    m.names.shrink_to_fit();
    s.done();
}

// ---- constant expressions and element segments --------------------------------------
//
// A constant expression is skipped by its instructions, as wasmparser's
// operator decoder skips it, except that an instruction that is not a
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
/// extended-const arithmetic and the GC constant instructions.
/// The value of a constant expression that is `i32.const N; end` alone.
fn plain_i32_const(expr: &[u8]) -> Option<i32> {
    let (&OP_I32_CONST, rest) = expr.split_first()? else {
        return None;
    };
    let mut r = Reader {
        data: rest,
        pos: 0,
        err: None,
    };
    let v = r.signed(32, LEB_I32) as i32;
    (r.ok() && rest.get(r.pos..) == Some(&[OP_END][..])).then_some(v)
}

fn skip_const_expr(r: &mut Reader<'_>) {
    // Every instruction takes a byte: after a failure, 0x00 ends the loop.
    loop {
        let at = r.pos;
        match r.byte() {
            OP_END => return,
            OP_I32_CONST => {
                r.signed(32, LEB_I32);
            }
            OP_I64_CONST => {
                r.signed(64, LEB_I64);
            }
            OP_F32_CONST => {
                r.take(4);
            }
            OP_F64_CONST => {
                r.take(8);
            }
            OP_GLOBAL_GET | OP_REF_FUNC => {
                r.u32();
            }
            OP_REF_NULL => {
                heap_type(r);
            }
            // i32.add/sub/mul, i64.add/sub/mul
            0x6a..=0x6c | 0x7c..=0x7e => {}
            // struct.new(_default), array.new(_default), array.new_fixed,
            // any.convert_extern, extern.convert_any, ref.i31
            OP_GC_PREFIX => match r.u32() {
                0 | 1 | 6 | 7 => {
                    r.u32();
                }
                8 => {
                    r.u32();
                    r.u32();
                }
                0x1a..=0x1c => {}
                _ => return r.bad(at, NOT_CONST),
            },
            // As wasmparser without its `simd` feature.
            OP_SIMD_PREFIX => return r.bad(at, "unexpected SIMD opcode: 0xfd"),
            _ => return r.bad(at, NOT_CONST),
        }
    }
}

/// Recognises the offset forms compilers emit; anything else is `None` (and
/// the segment is then not used for canonical function addresses).
fn const_offset(mut r: Reader<'_>) -> Option<ConstOffset> {
    let mut global = None;
    let mut value = 0i32;
    let mut stack = 0u32;
    loop {
        match r.byte() {
            OP_I32_CONST => {
                // `signed(32)` sign-extends from bit 31 or from a copy of it.
                value = value.wrapping_add(r.signed(32, LEB_I32) as i32);
                stack += 1;
            }
            OP_GLOBAL_GET if global.is_none() => {
                global = Some(r.u32());
                stack += 1;
            }
            OP_I32_ADD if stack == 2 => stack = 1,
            OP_END if r.ok() => return (stack == 1).then_some(ConstOffset { global, value }),
            _ => return None,
        }
    }
}

/// One element segment (flags: bit 0 passive or declared, bit 1 explicit
/// table index, bit 2 expressions); an active segment of table 0 with a
/// recognised offset is recorded.
fn read_element(r: &mut Reader<'_>, m: &mut Module) {
    let flags = r.u32();
    if flags & !0b111 != 0 {
        return r.bad(r.pos - 1, "invalid flags byte in element segment");
    }
    let mut offset = None;
    if flags & 0b001 == 0 {
        let table = if flags & 0b010 == 0 { 0 } else { r.u32() };
        let expr = r.clone();
        skip_const_expr(r);
        if table == 0 {
            offset = const_offset(expr);
        }
    }
    let exprs = flags & 0b100 != 0;
    if flags & 0b011 != 0 {
        if exprs {
            ref_type(r, "malformed reference type");
        } else {
            let at = r.pos;
            match r.byte() {
                KIND_FUNC => {}
                KIND_TABLE | KIND_MEMORY | KIND_GLOBAL | KIND_TAG | KIND_FUNC_EXACT => r.bad(
                    at,
                    "only the function external type is supported in elem segment",
                ),
                b => r.bad_byte(at, b, "external kind"),
            }
        }
    }
    let count = r.u32() as usize;
    let mut funcs = Vec::new();
    if offset.is_some() && r.limit("number of element entries", count, MAX_FUNCTIONS) {
        funcs.reserve(r.room(count, 1));
    }
    for _ in 0..count {
        if !r.ok() {
            break;
        }
        let f = if exprs {
            // `ref.func F`; a null or other entry keeps positions aligned.
            let mut e = r.clone();
            skip_const_expr(r);
            match e.byte() {
                OP_REF_FUNC => e.u32(),
                _ => u32::MAX,
            }
        } else {
            r.u32()
        };
        if offset.is_some() {
            funcs.push(f);
        }
    }
    if let Some(offset) = offset {
        m.elems.push(ElemSegment { offset, funcs });
    }
}

// ---- dylink.0 -------------------------------------------------------------------------

const WASM_DYLINK_MEM_INFO: u8 = 1;
const WASM_DYLINK_NEEDED: u8 = 2;
const WASM_DYLINK_EXPORT_INFO: u8 = 3;
const WASM_DYLINK_IMPORT_INFO: u8 = 4;
const WASM_DYLINK_RUNTIME_PATH: u8 = 5;
const WASM_DYLINK_TARGET_ARCH: u8 = 6;

/// A count of `dylink.0` entries, held to its limit before any is read.
fn dylink_count(r: &mut Reader<'_>, what: &'static str, max: usize) -> usize {
    let n = r.u32() as usize;
    if r.limit(what, n, max) {
        n
    } else {
        0
    }
}

/// A `dylink.0` list of names (NEEDED, RUNTIME_PATH). Its strings are not
/// held to `MAX_STRING_BYTES`, as in wasmparser; names are to `MAX_NAME_BYTES`.
fn dylink_names(r: &mut Reader<'_>, what: &'static str) -> Vec<String> {
    let n = dylink_count(r, what, MAX_NEEDED);
    let mut v = Vec::with_capacity(r.room(n, 1));
    for _ in 0..n {
        if !r.ok() {
            break;
        }
        let s = r.str(usize::MAX);
        v.push(r.name(s));
    }
    v
}

/// The payload of `dylink.0` after its name: subsections (id, size, body)
/// up to the end of the section. A subsection's body is read from its
/// start; bytes after what it holds are ignored, as the framing allows.
fn read_dylink0(r: &mut Reader<'_>) -> Dylink {
    let mut d = Dylink::default();
    let mut seen: u32 = 0;
    while !r.at_end() {
        let at = r.pos;
        let id = r.byte();
        if id & 0x80 != 0 {
            r.bad(at, "malformed dylink.0 subsection id");
        }
        let size = r.u32() as usize;
        let mut s = r.sub(size, "subsection extends past the end of dylink.0");
        if (WASM_DYLINK_MEM_INFO..=WASM_DYLINK_TARGET_ARCH).contains(&id) {
            let bit = 1u32 << id;
            if seen & bit != 0 {
                s.fail(Fail::DuplicateSubsection(id));
            }
            seen |= bit;
        }
        match id {
            WASM_DYLINK_MEM_INFO => {
                let memory_size = s.u32();
                let memory_align = s.u32();
                let table_size = s.u32();
                let table_align = s.u32();
                s.limit(
                    "memory alignment (log2)",
                    memory_align as usize,
                    MAX_ALIGN_LOG2 as usize,
                );
                s.limit(
                    "table alignment (log2)",
                    table_align as usize,
                    MAX_ALIGN_LOG2 as usize,
                );
                d.mem_info = MemInfo {
                    memory_size,
                    memory_align,
                    table_size,
                    table_align,
                };
            }
            WASM_DYLINK_NEEDED => {
                d.needed = dylink_names(&mut s, "number of needed libraries");
                // File names: never empty, never with a NUL (which would
                // also cut the dlerror text short).
                if d.needed
                    .iter()
                    .any(|n| n.is_empty() || n.as_bytes().contains(&0))
                {
                    s.fail(Fail::BadNeededName);
                }
            }
            WASM_DYLINK_RUNTIME_PATH => {
                d.runtime_path = dylink_names(&mut s, "number of runtime paths");
            }
            WASM_DYLINK_EXPORT_INFO => {
                let n = dylink_count(&mut s, "number of export infos", MAX_EXPORTS);
                d.export_info.reserve(s.room(n, 2));
                for _ in 0..n {
                    if !s.ok() {
                        break;
                    }
                    let field = s.str(usize::MAX);
                    let field = s.name(field);
                    d.export_info.push((field, s.u32()));
                }
            }
            WASM_DYLINK_IMPORT_INFO => {
                let n = dylink_count(&mut s, "number of import infos", MAX_IMPORTS);
                d.import_info.reserve(s.room(n, 3));
                for _ in 0..n {
                    if !s.ok() {
                        break;
                    }
                    let module = s.str(usize::MAX);
                    let module = s.name(module);
                    let field = s.str(usize::MAX);
                    let field = s.name(field);
                    d.import_info.push((module, field, s.u32()));
                }
            }
            WASM_DYLINK_TARGET_ARCH => {
                s.str(usize::MAX);
            }
            _ => d.unknown_subsections = d.unknown_subsections.saturating_add(1),
        }
        r.merge(&s);
    }
    d
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
            (PAYLOAD, "section extends past the end of the file".into())
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
        assert_eq!(
            malformed(&with_sections(&[ty(), ty()])),
            (PAYLOAD + 3, "duplicate section".into())
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
    fn limits_counts_before_reading_items() {
        let mut needed = Vec::new();
        leb(&mut needed, MAX_NEEDED as u32 + 1);
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
