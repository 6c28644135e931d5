//! libFuzzer target for `connector_fuzz::mark_prices`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| connector_fuzz::mark_prices(data));
