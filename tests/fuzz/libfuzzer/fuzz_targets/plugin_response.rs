//! libFuzzer target for `connector_fuzz::plugin_response`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| connector_fuzz::plugin_response(data));
