//! libFuzzer target for `connector_fuzz::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| connector_fuzz::config(data));
