//! parse.rs's hand-read global and element sections against wasmparser's readers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| libdl_fuzz::parse_diff(data));
