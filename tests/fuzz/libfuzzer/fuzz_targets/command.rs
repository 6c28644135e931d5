//! libFuzzer target for `connector_fuzz::command`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| connector_fuzz::command(data));
