//! libFuzzer target for `connector_fuzz::bybit_response`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| connector_fuzz::bybit_response(data));
