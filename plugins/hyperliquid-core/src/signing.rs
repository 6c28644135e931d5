//! secp256k1 signing (feature `signer`) and signer recovery (feature `recover`).

use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, VerifyingKey};

use crate::address::Address;
use crate::hashing::{B256, keccak256};
use crate::signature::Signature;

/// Offset between a recovery id and Ethereum's `v`.
const V_OFFSET: u8 = 27;

/// Why no address could be recovered from a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoverError {
    /// `r` or `s` is zero or not below the curve order.
    #[error("signature scalars are out of range")]
    InvalidScalars,
    /// `v` is neither 27 nor 28.
    #[error("signature v = {0} is neither 27 nor 28")]
    InvalidV(u8),
    /// No public key matches the digest and signature.
    #[error("no public key recovers from this signature")]
    NoKey,
}

/// Address of the key that produced `signature` over `digest`.
pub fn recover_address(digest: &B256, signature: &Signature) -> Result<Address, RecoverError> {
    let ecdsa = EcdsaSignature::from_scalars(signature.r, signature.s)
        .map_err(|_| RecoverError::InvalidScalars)?;
    let recovery_id = signature
        .v
        .checked_sub(V_OFFSET)
        .and_then(RecoveryId::from_byte)
        .filter(|id| !id.is_x_reduced())
        .ok_or(RecoverError::InvalidV(signature.v))?;
    let key = VerifyingKey::recover_from_prehash(&digest.0, &ecdsa, recovery_id)
        .map_err(|_| RecoverError::NoKey)?;
    Ok(address_of(&key))
}

/// Ethereum address of a public key: last 20 bytes of keccak(uncompressed x ‖ y).
fn address_of(key: &VerifyingKey) -> Address {
    let point = key.to_sec1_point(false);
    let hash = keccak256(&point.as_bytes()[1..]);
    let mut address = [0u8; 20];
    address.copy_from_slice(&hash.0[12..]);
    Address(address)
}

#[cfg(feature = "signer")]
pub use self::private_key::{KeyError, PrivateKey, sign_digest};

#[cfg(feature = "signer")]
mod private_key {
    use std::fmt;

    use k256::ecdsa::SigningKey;
    use zeroize::Zeroizing;

    use super::{V_OFFSET, address_of};
    use crate::address::Address;
    use crate::hashing::B256;
    use crate::signature::Signature;

    /// A secp256k1 private key. Zeroized on drop; `Debug` shows only its address.
    pub struct PrivateKey {
        key: SigningKey,
        address: Address,
    }

    /// Why text is not a private key. Never contains the key material.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    pub enum KeyError {
        /// Not `0x` followed by 64 hex digits.
        #[error("private key is not 0x followed by 64 hex digits")]
        Malformed,
        /// Zero or not below the curve order.
        #[error("private key is out of range for secp256k1")]
        OutOfRange,
    }

    impl PrivateKey {
        /// Reads `0x` + 64 hex digits.
        pub fn from_hex(text: &str) -> Result<Self, KeyError> {
            let digits = text.strip_prefix("0x").ok_or(KeyError::Malformed)?;
            let mut bytes = Zeroizing::new([0u8; 32]);
            hex::decode_to_slice(digits, bytes.as_mut_slice()).map_err(|_| KeyError::Malformed)?;
            Self::from_bytes(bytes.as_slice())
        }

        /// Reads the 32 bytes of a key (big-endian scalar).
        pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
            if bytes.len() != 32 {
                return Err(KeyError::Malformed);
            }
            let key = SigningKey::from_slice(bytes).map_err(|_| KeyError::OutOfRange)?;
            let address = address_of(key.verifying_key());
            Ok(Self { key, address })
        }

        /// The key's Ethereum address.
        pub fn address(&self) -> Address {
            self.address
        }
    }

    impl fmt::Debug for PrivateKey {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("PrivateKey")
                .field("address", &self.address)
                .finish_non_exhaustive()
        }
    }

    /// Signs a 32-byte digest: RFC 6979 nonce, low-s, `v` = 27 + recovery id.
    pub fn sign_digest(key: &PrivateKey, digest: &B256) -> Signature {
        let (signature, recovery_id) = key.key.sign_prehash_recoverable(&digest.0);
        let (r, s) = signature.split_bytes();
        Signature {
            r: r.into(),
            s: s.into(),
            v: V_OFFSET + recovery_id.to_byte(),
        }
    }
}

#[cfg(all(test, feature = "signer"))]
mod tests {
    use super::*;

    const KEY: &str = "0x00e5fb7b0f747acef23ab43fcff0c82511dd041b249c8a5efa84c59beee988b2";

    #[test]
    fn debug_never_shows_the_key() {
        let key = PrivateKey::from_hex(KEY).unwrap();
        let debug = format!("{key:?}");
        assert!(
            !debug.contains(&KEY[2..]) && !debug.contains("e5fb7b0f"),
            "{debug}"
        );
        assert!(debug.contains(&key.address().to_string()));
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert_eq!(
            PrivateKey::from_hex(&KEY[2..]).unwrap_err(),
            KeyError::Malformed
        );
        assert_eq!(
            PrivateKey::from_hex("0x1234").unwrap_err(),
            KeyError::Malformed
        );
        let zero = format!("0x{}", "0".repeat(64));
        assert_eq!(
            PrivateKey::from_hex(&zero).unwrap_err(),
            KeyError::OutOfRange
        );
        let order = "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
        assert_eq!(
            PrivateKey::from_hex(order).unwrap_err(),
            KeyError::OutOfRange
        );
    }

    #[test]
    fn sign_then_recover_and_reject_tampering() {
        let key = PrivateKey::from_hex(KEY).unwrap();
        let digest = keccak256(b"digest");
        let signature = sign_digest(&key, &digest);
        assert_eq!(recover_address(&digest, &signature).unwrap(), key.address());
        let flipped = Signature {
            v: if signature.v == 27 { 28 } else { 27 },
            ..signature
        };
        assert_ne!(recover_address(&digest, &flipped).ok(), Some(key.address()));
        let bad_v = Signature { v: 29, ..signature };
        assert_eq!(
            recover_address(&digest, &bad_v),
            Err(RecoverError::InvalidV(29))
        );
        let zero_r = Signature {
            r: [0; 32],
            ..signature
        };
        assert_eq!(
            recover_address(&digest, &zero_r),
            Err(RecoverError::InvalidScalars)
        );
    }
}
