//! (b) import/export analysis over what parse accepted.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| libdl_fuzz::analyze(data));
