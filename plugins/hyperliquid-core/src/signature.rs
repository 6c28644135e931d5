//! Recoverable secp256k1 signatures and their JSON and 65-byte hex forms.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hex_text::{decode_fixed, encode_prefixed};

/// A recoverable ECDSA signature: `r`, `s` and `v` = 27 + recovery id.
///
/// JSON form `{"r":"0x<64 hex>","s":"0x<64 hex>","v":27|28}`; zero-padded on
/// output, unpadded `r`/`s` (as the Python SDK posts them) accepted on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature {
    /// `r`, big-endian.
    pub r: [u8; 32],
    /// `s`, big-endian.
    pub s: [u8; 32],
    /// 27 or 28.
    pub v: u8,
}

/// Why a signature could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// `r` or `s` is not `0x` followed by 1 to 64 hex digits.
    #[error("signature `{field}` is not 0x followed by 1 to 64 hex digits")]
    Scalar {
        /// `"r"` or `"s"`.
        field: &'static str,
    },
    /// `v` is neither 27 nor 28.
    #[error("signature v = {0} is neither 27 nor 28")]
    V(u64),
    /// 65-byte hex form of the wrong shape.
    #[error("not 0x followed by 130 hex digits")]
    Hex65,
}

impl Signature {
    /// `0x` ‖ r ‖ s ‖ v as 130 hex digits.
    pub fn to_hex65(&self) -> String {
        let mut bytes = [0u8; 65];
        bytes[..32].copy_from_slice(&self.r);
        bytes[32..64].copy_from_slice(&self.s);
        bytes[64] = self.v;
        encode_prefixed(&bytes)
    }

    /// Reads the 65-byte hex form.
    pub fn from_hex65(text: &str) -> Result<Self, SignatureError> {
        let bytes: [u8; 65] = decode_fixed(text).ok_or(SignatureError::Hex65)?;
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        r.copy_from_slice(&bytes[..32]);
        s.copy_from_slice(&bytes[32..64]);
        Ok(Self {
            r,
            s,
            v: check_v(u64::from(bytes[64]))?,
        })
    }

    /// Reads the JSON field values, accepting unpadded `r`/`s`.
    pub fn from_parts(r: &str, s: &str, v: u64) -> Result<Self, SignatureError> {
        Ok(Self {
            r: parse_scalar(r, "r")?,
            s: parse_scalar(s, "s")?,
            v: check_v(v)?,
        })
    }
}

fn check_v(v: u64) -> Result<u8, SignatureError> {
    match v {
        27 => Ok(27),
        28 => Ok(28),
        other => Err(SignatureError::V(other)),
    }
}

fn parse_scalar(text: &str, field: &'static str) -> Result<[u8; 32], SignatureError> {
    let error = SignatureError::Scalar { field };
    let digits = text.strip_prefix("0x").ok_or(error.clone())?;
    if digits.is_empty() || digits.len() > 64 {
        return Err(error);
    }
    let padded = format!("{digits:0>64}");
    let mut out = [0u8; 32];
    hex::decode_to_slice(padded, &mut out).map_err(|_| error)?;
    Ok(out)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureJson {
    r: String,
    s: String,
    v: u64,
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SignatureJson {
            r: encode_prefixed(&self.r),
            s: encode_prefixed(&self.s),
            v: u64::from(self.v),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = SignatureJson::deserialize(deserializer)?;
        Signature::from_parts(&json.r, &json.s, json.v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_pads_on_output_and_accepts_unpadded_input() {
        let parsed: Signature = serde_json::from_str(r#"{"r":"0x1","s":"0xabc","v":27}"#).unwrap();
        assert_eq!(parsed.r[31], 1);
        assert_eq!(parsed.s[30..], [0x0a, 0xbc]);
        let json = serde_json::to_string(&parsed).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"r":"0x{}01","s":"0x{}0abc","v":27}}"#,
                "0".repeat(62),
                "0".repeat(60)
            )
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            r#"{"r":"1","s":"0x1","v":27}"#,
            r#"{"r":"0x","s":"0x1","v":27}"#,
            r#"{"r":"0xg","s":"0x1","v":27}"#,
            r#"{"r":"0x1","s":"0x1","v":1}"#,
            r#"{"r":"0x1","s":"0x1"}"#,
        ] {
            assert!(
                serde_json::from_str::<Signature>(bad).is_err(),
                "{bad} accepted"
            );
        }
        let too_long = format!(r#"{{"r":"0x{}","s":"0x1","v":27}}"#, "1".repeat(65));
        assert!(serde_json::from_str::<Signature>(&too_long).is_err());
        assert_eq!(Signature::from_hex65("0x00"), Err(SignatureError::Hex65));
    }
}
