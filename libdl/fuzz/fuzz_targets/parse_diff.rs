//! parse.rs against the reference parser, src/parse_ref.rs (wasmparser's section readers throughout).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| libdl_fuzz::parse_diff(data));
