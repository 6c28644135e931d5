//! 20-byte account addresses with lower-case and EIP-55 text forms.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hashing::keccak256;
use crate::hex_text::{decode_fixed, encode_prefixed};

/// An account (or vault, builder, agent) address.
///
/// Serializes as lower-case `0x…` text, the form Hyperliquid hashes when an
/// address is part of a msgpack action (builder `b`). [`Address::to_checksum`]
/// gives the EIP-55 form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(pub [u8; 20]);

/// Why text is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not `0x` followed by 40 hex digits.
    #[error("{text:?} is not 0x followed by 40 hex digits")]
    Malformed {
        /// The offending text.
        text: String,
    },
    /// Mixed-case text whose letter case is not the EIP-55 checksum.
    #[error("{text:?} has an invalid EIP-55 checksum")]
    BadChecksum {
        /// The offending text.
        text: String,
    },
}

impl Address {
    /// The zero address (`verifyingContract` of Hyperliquid's EIP-712 domains).
    pub const ZERO: Address = Address([0; 20]);

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// EIP-55 mixed-case checksum text.
    pub fn to_checksum(&self) -> String {
        let lower = hex::encode(self.0);
        let hash = keccak256(lower.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, ch) in lower.chars().enumerate() {
            let nibble = (hash.0[i / 2] >> (4 * (1 - i % 2))) & 0x0f;
            out.push(if nibble >= 8 {
                ch.to_ascii_uppercase()
            } else {
                ch
            });
        }
        out
    }
}

impl FromStr for Address {
    type Err = AddressError;

    /// Accepts all-lower-case, all-upper-case or correctly checksummed text.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let address = decode_fixed(text)
            .map(Address)
            .ok_or_else(|| AddressError::Malformed {
                text: text.to_owned(),
            })?;
        let digits = &text[2..];
        let mixed = digits.bytes().any(|b| b.is_ascii_lowercase())
            && digits.bytes().any(|b| b.is_ascii_uppercase());
        if mixed && address.to_checksum() != text {
            return Err(AddressError::BadChecksum {
                text: text.to_owned(),
            });
        }
        Ok(address)
    }
}

impl fmt::Display for Address {
    /// Lower-case `0x…` text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_prefixed(&self.0))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Serde adapter writing an address in EIP-55 form (used where the SDK posts it so).
pub(crate) mod checksummed {
    use super::Address;
    use serde::Serializer;

    pub(crate) fn serialize<S: Serializer>(
        address: &Address,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&address.to_checksum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip55_round_trip() {
        // Checksummed examples from EIP-55.
        for text in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        ] {
            let address: Address = text.parse().unwrap();
            assert_eq!(address.to_checksum(), text);
            assert_eq!(address.to_string(), text.to_lowercase());
        }
    }

    #[test]
    fn rejects_bad_text() {
        assert!(matches!(
            "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed".parse::<Address>(),
            Err(AddressError::BadChecksum { .. })
        ));
        for bad in [
            "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x1234",
            "0xzz",
            "",
        ] {
            assert!(matches!(
                bad.parse::<Address>(),
                Err(AddressError::Malformed { .. })
            ));
        }
        assert!(
            "0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"
                .parse::<Address>()
                .is_err()
        );
        assert!(
            "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"
                .parse::<Address>()
                .is_ok()
        );
    }
}
