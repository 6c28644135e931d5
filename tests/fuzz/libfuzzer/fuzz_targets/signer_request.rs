//! libFuzzer target for `connector_fuzz::signer_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| connector_fuzz::signer_request(data));
