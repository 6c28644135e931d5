//! libFuzzer target for `connector_fuzz::binance_frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| connector_fuzz::binance_frame(data));
