//! Secrets at rest: Web3 Secret Storage files (the "Ethereum keystore v3"
//! JSON that geth, eth-account, ethers and every wallet read and write).
//!
//! The secret is encrypted with AES-128-CTR under the first half of a key
//! derived from the passphrase (scrypt, or PBKDF2-HMAC-SHA256 for files made
//! elsewhere); the second half, hashed with the ciphertext by Keccak-256, is
//! the MAC that tells a wrong passphrase from a damaged file.
//!
//! A secp256k1 key's file is a plain keystore. The same layout holds an
//! HMAC or Ed25519 secret, marked by a `connector_kind` member that other
//! tools ignore, so that a file is never unlocked as the wrong kind of key.

use aes::Aes128;
use ctr::Ctr128BE;
use ctr::cipher::{KeyIvInit, StreamCipher};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha3::{Digest, Keccak256};
use zeroize::Zeroizing;

/// What a keystore holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecretKind {
    /// A secp256k1 private key (32 bytes); no `connector_kind` member.
    #[serde(rename = "secp256k1")]
    Secp256k1,
    /// An HMAC-SHA256 API secret, as the venue shows it.
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
    /// An Ed25519 private key's 32-byte seed.
    #[serde(rename = "ed25519")]
    Ed25519,
}

impl SecretKind {
    /// The name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            SecretKind::Secp256k1 => "secp256k1",
            SecretKind::HmacSha256 => "hmac-sha256",
            SecretKind::Ed25519 => "ed25519",
        }
    }
}

/// scrypt's memory and time cost, `N = 2^log_n` (r = 8, p = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScryptCost {
    /// log₂ of N.
    pub log_n: u8,
}

impl ScryptCost {
    /// geth's "standard" cost: N = 2^18 (256 MiB, about a second).
    pub const STANDARD: ScryptCost = ScryptCost { log_n: 18 };
}

/// The most a file may ask of scrypt or PBKDF2: a file is trusted, but a
/// damaged one must not take the machine's memory.
const MAX_SCRYPT_LOG_N: u8 = 20;
const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
const MAX_PBKDF2_ROUNDS: u32 = 10_000_000;

/// Why a keystore could not be opened or made. Never contains the secret
/// or the passphrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeystoreError {
    /// Not keystore JSON.
    #[error("not a keystore v3 file: {0}")]
    Format(String),
    /// A cipher, KDF or parameter this signer does not use.
    #[error("unsupported keystore: {0}")]
    Unsupported(String),
    /// The MAC does not match: the passphrase is wrong (or the file damaged).
    #[error("wrong passphrase (the keystore's MAC does not match)")]
    WrongPassphrase,
    /// The file holds another kind of secret.
    #[error("it holds a {found} secret, not a {expected} one")]
    Kind {
        /// What the file says it holds.
        found: &'static str,
        /// What was asked for.
        expected: &'static str,
    },
    /// The system gave no random bytes.
    #[error("no randomness from the system: {0}")]
    Random(String),
}

/// The file as written.
#[derive(Debug, Serialize, Deserialize)]
struct KeystoreFile {
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(alias = "Crypto")]
    crypto: Crypto,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    connector_kind: Option<SecretKind>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Crypto {
    cipher: String,
    cipherparams: CipherParams,
    ciphertext: String,
    kdf: String,
    kdfparams: Value,
    mac: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct CipherParams {
    iv: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct ScryptParams {
    dklen: u32,
    n: u64,
    r: u32,
    p: u32,
    salt: String,
}

#[derive(Debug, Deserialize)]
struct Pbkdf2Params {
    dklen: u32,
    c: u32,
    prf: String,
    salt: String,
}

/// Whether `text` is a keystore rather than a plain key file (which never
/// starts with `{`).
pub fn is_keystore(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Decrypts the keystore `text` with `passphrase`; the secret must be of
/// kind `expected`.
pub fn open(
    text: &str,
    passphrase: &[u8],
    expected: SecretKind,
) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
    let file: KeystoreFile =
        serde_json::from_str(text).map_err(|error| KeystoreError::Format(error.to_string()))?;
    if file.version != 3 {
        return Err(KeystoreError::Unsupported(format!(
            "version {} (only 3)",
            file.version
        )));
    }
    let found = file.connector_kind.unwrap_or(SecretKind::Secp256k1);
    if found != expected {
        return Err(KeystoreError::Kind {
            found: found.name(),
            expected: expected.name(),
        });
    }
    let crypto = &file.crypto;
    if crypto.cipher != "aes-128-ctr" {
        return Err(KeystoreError::Unsupported(format!(
            "cipher {:?} (only aes-128-ctr)",
            crypto.cipher
        )));
    }
    let iv = hex_field("cipherparams.iv", &crypto.cipherparams.iv)?;
    let ciphertext = hex_field("ciphertext", &crypto.ciphertext)?;
    let mac = hex_field("mac", &crypto.mac)?;
    let derived = derive(&crypto.kdf, &crypto.kdfparams, passphrase)?;
    if !constant_time_eq(&keystore_mac(&derived, &ciphertext), &mac) {
        return Err(KeystoreError::WrongPassphrase);
    }
    let mut secret = Zeroizing::new(ciphertext);
    apply_cipher(&derived, &iv, &mut secret)?;
    Ok(secret)
}

/// Encrypts `secret` under `passphrase` with scrypt at `cost`, fresh salt
/// and IV; `address` (lower-case hex, no `0x`) is written for a
/// secp256k1 key, as wallets expect.
pub fn seal(
    secret: &[u8],
    kind: SecretKind,
    passphrase: &[u8],
    cost: ScryptCost,
    address: Option<String>,
) -> Result<String, KeystoreError> {
    let salt = random::<32>()?;
    let iv = random::<16>()?;
    let kdfparams = ScryptParams {
        dklen: 32,
        n: 1 << cost.log_n,
        r: 8,
        p: 1,
        salt: hex::encode(salt),
    };
    let kdfparams = serde_json::to_value(kdfparams)
        .map_err(|error| KeystoreError::Format(error.to_string()))?;
    let derived = derive("scrypt", &kdfparams, passphrase)?;
    let mut ciphertext = secret.to_vec();
    apply_cipher(&derived, &iv, &mut ciphertext)?;
    let file = KeystoreFile {
        version: 3,
        id: Some(uuid_v4(random::<16>()?)),
        address,
        crypto: Crypto {
            cipher: "aes-128-ctr".to_owned(),
            cipherparams: CipherParams {
                iv: hex::encode(iv),
            },
            mac: hex::encode(keystore_mac(&derived, &ciphertext)),
            ciphertext: hex::encode(&ciphertext),
            kdf: "scrypt".to_owned(),
            kdfparams,
        },
        connector_kind: (kind != SecretKind::Secp256k1).then_some(kind),
    };
    serde_json::to_string_pretty(&file).map_err(|error| KeystoreError::Format(error.to_string()))
}

/// The 32-byte key derived from `passphrase` by the file's KDF.
fn derive(
    kdf: &str,
    params: &Value,
    passphrase: &[u8],
) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    let unsupported = |what: String| KeystoreError::Unsupported(what);
    let mut derived = Zeroizing::new([0u8; 32]);
    match kdf {
        "scrypt" => {
            let params: ScryptParams = serde_json::from_value(params.clone())
                .map_err(|error| KeystoreError::Format(format!("kdfparams: {error}")))?;
            check_dklen(params.dklen)?;
            let salt = hex_field("kdfparams.salt", &params.salt)?;
            if !params.n.is_power_of_two() || params.n < 2 {
                return Err(unsupported(format!(
                    "scrypt n = {} is not a power of two",
                    params.n
                )));
            }
            let log_n = u8::try_from(params.n.trailing_zeros()).unwrap_or(u8::MAX);
            let memory = 128u64
                .saturating_mul(u64::from(params.r))
                .saturating_mul(params.n.saturating_add(u64::from(params.p)));
            if log_n > MAX_SCRYPT_LOG_N || memory > MAX_SCRYPT_MEMORY {
                return Err(unsupported(format!(
                    "scrypt n = {}, r = {}, p = {} needs more than {} MiB",
                    params.n,
                    params.r,
                    params.p,
                    MAX_SCRYPT_MEMORY >> 20
                )));
            }
            let scrypt_params = scrypt::Params::new(log_n, params.r, params.p)
                .map_err(|_| unsupported(format!("scrypt r = {}, p = {}", params.r, params.p)))?;
            scrypt::scrypt(passphrase, &salt, &scrypt_params, derived.as_mut_slice())
                .map_err(|_| unsupported("scrypt output length".to_owned()))?;
        }
        "pbkdf2" => {
            let params: Pbkdf2Params = serde_json::from_value(params.clone())
                .map_err(|error| KeystoreError::Format(format!("kdfparams: {error}")))?;
            check_dklen(params.dklen)?;
            if params.prf != "hmac-sha256" {
                return Err(unsupported(format!(
                    "pbkdf2 prf {:?} (only hmac-sha256)",
                    params.prf
                )));
            }
            if params.c == 0 || params.c > MAX_PBKDF2_ROUNDS {
                return Err(unsupported(format!("pbkdf2 c = {}", params.c)));
            }
            let salt = hex_field("kdfparams.salt", &params.salt)?;
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                passphrase,
                &salt,
                params.c,
                derived.as_mut_slice(),
            );
        }
        other => {
            return Err(unsupported(format!(
                "kdf {other:?} (only scrypt and pbkdf2)"
            )));
        }
    }
    Ok(derived)
}

fn check_dklen(dklen: u32) -> Result<(), KeystoreError> {
    if dklen == 32 {
        Ok(())
    } else {
        Err(KeystoreError::Unsupported(format!(
            "dklen {dklen} (only 32)"
        )))
    }
}

/// Keccak-256 of the derived key's second half and the ciphertext.
fn keystore_mac(derived: &[u8; 32], ciphertext: &[u8]) -> [u8; 32] {
    let mut hasher = Keccak256::new();
    hasher.update(&derived[16..]);
    hasher.update(ciphertext);
    hasher.finalize().into()
}

/// AES-128-CTR under the derived key's first half, in place.
fn apply_cipher(derived: &[u8; 32], iv: &[u8], data: &mut [u8]) -> Result<(), KeystoreError> {
    let mut cipher = Ctr128BE::<Aes128>::new_from_slices(&derived[..16], iv).map_err(|_| {
        KeystoreError::Format(format!("cipherparams.iv is {} bytes, not 16", iv.len()))
    })?;
    cipher.apply_keystream(data);
    Ok(())
}

fn hex_field(name: &str, text: &str) -> Result<Vec<u8>, KeystoreError> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|_| KeystoreError::Format(format!("{name} is not hex")))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random<const N: usize>() -> Result<[u8; N], KeystoreError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| KeystoreError::Random(error.to_string()))?;
    Ok(bytes)
}

/// Fresh random secret bytes for a new key.
pub fn random_secret() -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    Ok(Zeroizing::new(random::<32>()?))
}

/// A random (version 4) UUID in its usual text form.
fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two test vectors of the Web3 Secret Storage definition
    /// (ethereum.org): password "testpassword", private key
    /// 7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d.
    const VECTOR_KEY: &str = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";
    const PBKDF2_VECTOR: &str = r#"{
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": "6087dab2f9fdbbfaddc31a909735c1e6"},
            "ciphertext": "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
            "kdf": "pbkdf2",
            "kdfparams": {"c": 262144, "dklen": 32, "prf": "hmac-sha256",
                "salt": "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},
            "mac": "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3
    }"#;
    const SCRYPT_VECTOR: &str = r#"{
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": "83dbcc02d8ccb40e466191a123791e0e"},
            "ciphertext": "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
            "kdf": "scrypt",
            "kdfparams": {"dklen": 32, "n": 262144, "p": 8, "r": 1,
                "salt": "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"},
            "mac": "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3
    }"#;

    #[test]
    fn opens_the_specification_vectors() {
        for vector in [PBKDF2_VECTOR, SCRYPT_VECTOR] {
            let secret = open(vector, b"testpassword", SecretKind::Secp256k1).unwrap();
            assert_eq!(hex::encode(secret.as_slice()), VECTOR_KEY);
            assert_eq!(
                open(vector, b"testpassworD", SecretKind::Secp256k1),
                Err(KeystoreError::WrongPassphrase)
            );
        }
    }

    #[test]
    fn seals_and_opens_each_kind_only_as_itself() {
        let cost = ScryptCost { log_n: 10 };
        let text = seal(b"api-secret", SecretKind::HmacSha256, b"pass", cost, None).unwrap();
        assert!(is_keystore(&text));
        assert!(!text.contains("api-secret"));
        let secret = open(&text, b"pass", SecretKind::HmacSha256).unwrap();
        assert_eq!(secret.as_slice(), b"api-secret");
        assert_eq!(
            open(&text, b"pass", SecretKind::Secp256k1),
            Err(KeystoreError::Kind {
                found: "hmac-sha256",
                expected: "secp256k1"
            })
        );
        assert_eq!(
            open(&text, b"Pass", SecretKind::HmacSha256),
            Err(KeystoreError::WrongPassphrase)
        );
        let again = seal(b"api-secret", SecretKind::HmacSha256, b"pass", cost, None).unwrap();
        assert_ne!(text, again, "salt and IV are fresh each time");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["connector_kind"], "hmac-sha256");
        assert_eq!(value["crypto"]["kdfparams"]["n"], 1024);
        assert_eq!(value["id"].as_str().unwrap().len(), 36);
    }

    #[test]
    fn damaged_or_foreign_files_are_refused_by_name() {
        let cases = [
            ("{", "not a keystore v3 file"),
            (
                r#"{"version":1,"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"00"},"ciphertext":"00","kdf":"scrypt","kdfparams":{},"mac":"00"}}"#,
                "version 1",
            ),
            (
                &SCRYPT_VECTOR.replace("aes-128-ctr", "aes-128-cbc"),
                "cipher \"aes-128-cbc\"",
            ),
            (
                &SCRYPT_VECTOR.replace("\"scrypt\"", "\"argon2\""),
                "kdf \"argon2\"",
            ),
            (
                &SCRYPT_VECTOR.replace("262144", "268435456"),
                "needs more than",
            ),
            (
                &SCRYPT_VECTOR.replace("262144", "1000"),
                "not a power of two",
            ),
            (
                &PBKDF2_VECTOR.replace("hmac-sha256", "hmac-sha512"),
                "prf \"hmac-sha512\"",
            ),
            (
                &PBKDF2_VECTOR.replace("\"dklen\": 32", "\"dklen\": 16"),
                "dklen 16",
            ),
            (
                &SCRYPT_VECTOR.replace("83dbcc", "zzdbcc"),
                "cipherparams.iv is not hex",
            ),
        ];
        for (text, expected) in cases {
            let error = open(text, b"testpassword", SecretKind::Secp256k1).unwrap_err();
            assert!(error.to_string().contains(expected), "{expected}: {error}");
        }
    }
}
