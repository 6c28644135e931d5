//! Ed25519 API keys as Binance registers them: the public key as PEM, and
//! whether a signature (its 64 raw bytes) signs a text. The emulator checks
//! requests with it; the plugin checks that the signer answered with the
//! configured key.

use ed25519_dalek::{Signature, Verifier};

/// An Ed25519 public key.
pub type PublicKey = ed25519_dalek::VerifyingKey;

/// Reads an Ed25519 public key from PEM (`-----BEGIN PUBLIC KEY-----`), as
/// Binance takes it and `connector-signer new --kind ed25519` prints it.
pub fn public_key_from_pem(pem: &str) -> Result<PublicKey, String> {
    use ed25519_dalek::pkcs8::DecodePublicKey;
    PublicKey::from_public_key_pem(pem.trim())
        .map_err(|error| format!("not an Ed25519 public key in PEM: {error}"))
}

/// Whether `signature` is `key`'s over `text`.
pub fn verifies(key: &PublicKey, text: &[u8], signature: &[u8]) -> bool {
    Signature::from_slice(signature).is_ok_and(|signature| key.verify(text, &signature).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::pkcs8::EncodePublicKey;
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn a_signature_verifies_under_its_key_only() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let pem = key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let public = public_key_from_pem(&format!("\n{pem}\n")).unwrap();
        let signature = key.sign(b"symbol=BTCUSDT").to_bytes();
        assert!(verifies(&public, b"symbol=BTCUSDT", &signature));
        assert!(!verifies(&public, b"symbol=ETHUSDT", &signature));
        assert!(!verifies(&public, b"symbol=BTCUSDT", &signature[..32]));
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(!verifies(&other, b"symbol=BTCUSDT", &signature));
        assert!(
            public_key_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .is_err()
        );
    }
}
