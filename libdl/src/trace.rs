//! `LD_DEBUG`-style tracing to stderr, read once at start-up. When unset,
//! every trace point is one bit test.

pub const DEBUG_LIBS: u32 = 1;
pub const DEBUG_BINDINGS: u32 = 2;
pub const DEBUG_SYMBOLS: u32 = 4;
pub const DEBUG_STATISTICS: u32 = 8;
pub const DEBUG_HELP: u32 = 16;

pub const HELP: &str = "\
Valid options for the LD_DEBUG environment variable are:

  libs        display library search paths, placement and loading
  bindings    display information about symbol binding
  symbols     display symbol lookups
  statistics  display loader statistics
  all         all of the above
  help        display this help message
";

#[derive(Debug, Clone, Copy, Default)]
pub struct Trace(u32);

/// What one `dlopen` cost, for `LD_DEBUG=statistics`: nanoseconds per phase
/// and counts. The phases are libdl's own work; compile and instantiate are
/// the engine's (time spent in those host calls).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub read_ns: u64,
    pub parse_ns: u64,
    pub compile_ns: u64,
    /// The engine instantiating (the host's `instance_new`) and the
    /// module's own `__wasm_apply_data_relocs`: not libdl's work.
    pub instantiate_ns: u64,
    pub place_ns: u64,
    pub resolve_ns: u64,
    pub relocate_ns: u64,
    pub modules: u32,
    pub imports: u32,
    pub got_cells: u32,
}

impl Stats {
    pub fn libdl_ns(&self) -> u64 {
        self.read_ns + self.parse_ns + self.place_ns + self.resolve_ns + self.relocate_ns
    }
}

impl Trace {
    pub fn from_env(v: Option<&str>) -> Trace {
        let mut bits = 0;
        for word in v.unwrap_or("").split([',', ' ', ':']) {
            bits |= match word {
                "libs" | "files" => DEBUG_LIBS,
                "bindings" => DEBUG_BINDINGS,
                "symbols" => DEBUG_SYMBOLS,
                "statistics" => DEBUG_STATISTICS,
                "all" => DEBUG_LIBS | DEBUG_BINDINGS | DEBUG_SYMBOLS | DEBUG_STATISTICS,
                "help" => DEBUG_HELP,
                _ => 0,
            };
        }
        Trace(bits)
    }

    #[inline]
    pub fn enabled(&self, bit: u32) -> bool {
        self.0 & bit != 0
    }
}
