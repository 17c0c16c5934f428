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
