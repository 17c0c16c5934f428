//! parse.rs (hand-written) against the wasmparser-based reference parser, src/parse_ref.rs.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| libdl_fuzz::parse_diff(data));
