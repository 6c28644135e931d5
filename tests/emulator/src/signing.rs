//! Request signatures the centralised venues share: HMAC-SHA256 over a
//! venue-specific text, compared in constant time, and account ids derived
//! from API keys.

use hmac::{Hmac, KeyInit, Mac};
use hyperliquid_core::{Address, keccak256};
use sha2::Sha256;

/// Lowercase hex HMAC-SHA256 of `message` under `secret`.
pub fn hmac_sha256_hex(secret: &str, message: &[u8]) -> String {
    hex::encode(hmac_sha256(secret, message))
}

/// Raw HMAC-SHA256 of `message` under `secret`.
pub fn hmac_sha256(secret: &str, message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Whether `signature` (hex, either case) is the HMAC-SHA256 of `message`
/// under `secret`; the comparison takes the same time wherever it differs.
pub fn verify_hmac_hex(secret: &str, message: &[u8], signature: &str) -> bool {
    let Ok(given) = hex::decode(signature) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(message);
    mac.verify_slice(&given).is_ok()
}

/// The core's account id of an API key on a venue: keys are accounts there,
/// and the core keys accounts by a 20-byte id.
pub fn account_of_key(venue: &str, api_key: &str) -> Address {
    let digest = keccak256(format!("{venue} api key {api_key}").as_bytes());
    let mut id = [0u8; 20];
    id.copy_from_slice(&digest.0[12..]);
    Address(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bybit_documented_vector() {
        // Bybit v5 GET vector (docs/research/emulator-clients.md §2.3).
        let text = "1700000000000test_api_key5000category=linear&symbol=BTCUSDT";
        let expected = "fd4f31228a46109dc6673062328693696df9a96c7ff04e6491a45e7f63a0fdd7";
        assert_eq!(hmac_sha256_hex("test_secret", text.as_bytes()), expected);
        assert!(verify_hmac_hex("test_secret", text.as_bytes(), expected));
        assert!(!verify_hmac_hex("other", text.as_bytes(), expected));
        assert!(!verify_hmac_hex("test_secret", text.as_bytes(), "zz"));
    }
}
