//! (a) `parse::parse` with both `Expect` values, and every error's message.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| libdl_fuzz::parse_both(data));
