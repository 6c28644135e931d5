//! Client order ids: 16 bytes written as `0x` + 32 hex digits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hex_text::{decode_fixed, encode_prefixed};

/// A client order id. Serializes in lower case, the form the SDKs hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cloid(pub [u8; 16]);

/// Why text is not a client order id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a cloid (0x followed by 32 hex digits)")]
pub struct CloidError {
    /// The offending text.
    pub text: String,
}

impl Cloid {
    /// The id whose 16 bytes are `value` big-endian (the SDK's `Cloid.from_int`).
    pub fn from_u128(value: u128) -> Self {
        Cloid(value.to_be_bytes())
    }
}

impl FromStr for Cloid {
    type Err = CloidError;

    /// Accepts either letter case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        decode_fixed(text).map(Cloid).ok_or_else(|| CloidError {
            text: text.to_owned(),
        })
    }
}

impl fmt::Display for Cloid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_prefixed(&self.0))
    }
}

impl fmt::Debug for Cloid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cloid({self})")
    }
}

impl Serialize for Cloid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cloid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_int_pads_and_lowercases() {
        assert_eq!(
            Cloid::from_u128(42).to_string(),
            "0x0000000000000000000000000000002a"
        );
        let upper: Cloid = "0x0000000000000000000000000000ABCD".parse().unwrap();
        assert_eq!(upper.to_string(), "0x0000000000000000000000000000abcd");
        assert!("0x1234".parse::<Cloid>().is_err());
        assert!(
            "0000000000000000000000000000abcd00"
                .parse::<Cloid>()
                .is_err()
        );
    }
}
