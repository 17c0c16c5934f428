//! (c) the whole load plan, natively, over the checking host double.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| libdl_fuzz::load(data));
