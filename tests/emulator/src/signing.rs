//! What the centralised venues share about keys: HMAC-SHA256 over a
//! venue-specific text, compared in constant time, and the table of funded
//! API keys, each its own numbered core account.

use std::collections::HashMap;

use hmac::{Hmac, KeyInit, Mac};
use rust_decimal::Decimal;
use sha2::Sha256;

use crate::account::AccountId;
use crate::config::Config;

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

/// The funded API keys of a venue; each key is one core account, numbered
/// in the order the keys were given.
#[derive(Debug)]
pub struct KeyAccounts<K> {
    keys: HashMap<String, (K, AccountId)>,
}

impl<K> KeyAccounts<K> {
    /// Numbers each `(record, amount)`, funds its account in `config` with
    /// `amount` and keeps the record under its key (`key_of`).
    pub fn fund(config: &mut Config, keys: &[(K, Decimal)], key_of: fn(&K) -> &str) -> Self
    where
        K: Clone,
    {
        let mut table = HashMap::new();
        for (n, (record, amount)) in (1u64..).zip(keys) {
            let account = AccountId::numbered(n);
            config.fund(account, *amount);
            table.insert(key_of(record).to_owned(), (record.clone(), account));
        }
        Self { keys: table }
    }

    /// The record of a funded key.
    pub fn get(&self, key: &str) -> Option<&K> {
        self.keys.get(key).map(|(record, _)| record)
    }

    /// The account of a funded key.
    pub fn account(&self, key: &str) -> Option<AccountId> {
        self.keys.get(key).map(|(_, account)| *account)
    }
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
