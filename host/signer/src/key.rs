//! Loading key files, readable by their owner only.
//!
//! A key file is a keystore ([`crate::keystore`]: encrypted, unlocked with
//! the passphrase of [`Unlock`]) or, for local emulators only, plain text: a
//! secp256k1 key (`0x` + 64 hex digits on one line), an HMAC secret (the API
//! secret on one line) or an Ed25519 private key (PKCS#8 PEM, as Binance's
//! key generator writes it). A plain file, or a key anyone can read
//! ([`crate::published`]), is refused unless [`Unlock`] allows demo keys.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use hyperliquid_core::PrivateKey;
use zeroize::Zeroizing;

use crate::keystore::{self, KeystoreError, SecretKind};
use crate::passphrase::{PassphraseError, PassphraseSource};
use crate::published::published_as;

/// Largest key file accepted; every kind of key, encrypted or not, fits in
/// far less.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// Why the key file could not be used. Never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be opened or read.
    #[error("cannot read key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Group or others may access the file.
    #[error(
        "key file {path} has mode {mode:04o}: it must not be accessible to group or others; \
         run `chmod 600 {path}`",
        mode = mode & 0o7777
    )]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// Its `st_mode`.
        mode: u32,
    },
    /// Not a regular file.
    #[error("key file {path} is not a regular file")]
    NotAFile {
        /// The key file.
        path: PathBuf,
    },
    /// Much larger than a key.
    #[error("key file {path} is {len} bytes; a key file holds one key")]
    TooLarge {
        /// The key file.
        path: PathBuf,
        /// Its size.
        len: u64,
    },
    /// The content is not a key of the expected kind.
    #[error("key file {path}: {reason} (expected {expected})")]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What is wrong, without the key material.
        reason: String,
        /// What the file should hold.
        expected: &'static str,
    },
    /// A plain key file where only encrypted ones are taken.
    #[error(
        "key file {path} is not encrypted: make a keystore of it with `connector-signer import \
         --kind {kind} --from {path} --out <FILE>` and delete it (plain key files are for local \
         emulators only, with --allow-demo-keys)",
        kind = kind.name()
    )]
    Plain {
        /// The key file.
        path: PathBuf,
        /// What it should hold.
        kind: SecretKind,
    },
    /// A key anyone can read.
    #[error(
        "key file {path} holds a published key ({origin}): anyone can sign with it; it is taken \
         for local emulators only, with --allow-demo-keys"
    )]
    Published {
        /// The key file.
        path: PathBuf,
        /// Where it was published.
        origin: &'static str,
    },
    /// An encrypted key file and no passphrase source.
    #[error(
        "key file {path} is encrypted and there is no terminal to ask its passphrase on: give \
         it with --passphrase-fd, --passphrase-file or --passphrase-credential"
    )]
    Locked {
        /// The key file.
        path: PathBuf,
    },
    /// The passphrase could not be read.
    #[error(transparent)]
    Passphrase(#[from] PassphraseError),
    /// The keystore could not be opened.
    #[error("key file {path}: {error}")]
    Keystore {
        /// The key file.
        path: PathBuf,
        /// Why.
        error: KeystoreError,
    },
}

/// How key files are opened: the passphrase of encrypted ones (read once,
/// when the first is met) and whether demo keys — plain files, published
/// keys — are taken.
#[derive(Debug, Default)]
pub struct Unlock {
    source: Option<PassphraseSource>,
    passphrase: OnceLock<Zeroizing<Vec<u8>>>,
    demo_keys: bool,
}

impl Unlock {
    /// Keys unlocked with the passphrase from `source`; demo keys taken
    /// only if `demo_keys`.
    pub fn new(source: Option<PassphraseSource>, demo_keys: bool) -> Unlock {
        Unlock {
            source,
            passphrase: OnceLock::new(),
            demo_keys,
        }
    }

    /// Plain and published keys taken, no passphrase: for local emulators
    /// and tests.
    pub fn demo() -> Unlock {
        Unlock::new(None, true)
    }

    fn passphrase(&self, path: &Path) -> Result<&[u8], KeyFileError> {
        if let Some(passphrase) = self.passphrase.get() {
            return Ok(passphrase);
        }
        let source = self.source.as_ref().ok_or_else(|| KeyFileError::Locked {
            path: path.to_owned(),
        })?;
        let read = source.read()?;
        Ok(self.passphrase.get_or_init(|| read))
    }

    /// The secret of kind `kind` in `path`, if this unlock takes it.
    fn secret(&self, path: &Path, kind: SecretKind) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
        let text = read_secret(path)?;
        let secret = if keystore::is_keystore(&text) {
            let passphrase = self.passphrase(path)?;
            keystore::open(&text, passphrase, kind).map_err(|error| KeyFileError::Keystore {
                path: path.to_owned(),
                error,
            })?
        } else if self.demo_keys {
            plain_secret(path, kind, &text)?
        } else {
            return Err(KeyFileError::Plain {
                path: path.to_owned(),
                kind,
            });
        };
        if !self.demo_keys {
            refuse_published(path, &secret)?;
        }
        Ok(secret)
    }
}

/// Reads a plain key file of `kind` to encrypt it: a keystore or a
/// published key is refused.
pub fn read_plain(path: &Path, kind: SecretKind) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let text = read_secret(path)?;
    if keystore::is_keystore(&text) {
        return Err(malformed(
            path,
            "it is already a keystore".to_owned(),
            expected_plain(kind),
        ));
    }
    let secret = plain_secret(path, kind, &text)?;
    refuse_published(path, &secret)?;
    Ok(secret)
}

fn refuse_published(path: &Path, secret: &[u8]) -> Result<(), KeyFileError> {
    match published_as(secret) {
        Some(origin) => Err(KeyFileError::Published {
            path: path.to_owned(),
            origin,
        }),
        None => Ok(()),
    }
}

/// Reads the secp256k1 private key in `path`.
pub fn load_key(path: &Path, unlock: &Unlock) -> Result<PrivateKey, KeyFileError> {
    secp256k1_key(path, &unlock.secret(path, SecretKind::Secp256k1)?)
}

/// The secp256k1 key of these 32 bytes.
pub fn secp256k1_key(path: &Path, bytes: &[u8]) -> Result<PrivateKey, KeyFileError> {
    if bytes.len() != 32 {
        return Err(malformed(
            path,
            format!("{} bytes", bytes.len()),
            "a 32-byte secp256k1 key",
        ));
    }
    PrivateKey::from_bytes(bytes)
        .map_err(|error| malformed(path, error.to_string(), "a 32-byte secp256k1 key"))
}

/// Reads an HMAC secret in `path`. The MAC key is the secret's bytes as the
/// venue shows it.
pub fn load_hmac_secret(path: &Path, unlock: &Unlock) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let secret = unlock.secret(path, SecretKind::HmacSha256)?;
    check_hmac_secret(path, &secret)?;
    Ok(secret)
}

fn check_hmac_secret(path: &Path, secret: &[u8]) -> Result<(), KeyFileError> {
    let expected = expected_plain(SecretKind::HmacSha256);
    if secret.is_empty() {
        return Err(malformed(path, "the secret is empty".to_owned(), expected));
    }
    if !secret.iter().all(|byte| byte.is_ascii_graphic()) {
        return Err(malformed(
            path,
            "the secret holds spaces or characters outside printable ASCII".to_owned(),
            expected,
        ));
    }
    Ok(())
}

/// Reads an Ed25519 private key in `path`.
pub fn load_ed25519(path: &Path, unlock: &Unlock) -> Result<SigningKey, KeyFileError> {
    ed25519_key(path, &unlock.secret(path, SecretKind::Ed25519)?)
}

/// The Ed25519 key of this 32-byte seed.
pub fn ed25519_key(path: &Path, seed: &[u8]) -> Result<SigningKey, KeyFileError> {
    let seed: &[u8; 32] = seed.try_into().map_err(|_| {
        malformed(
            path,
            format!("{} bytes", seed.len()),
            "a 32-byte Ed25519 seed",
        )
    })?;
    Ok(SigningKey::from_bytes(seed))
}

/// What a plain key file of `kind` holds, for messages.
fn expected_plain(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::Secp256k1 => "one line: 0x followed by 64 hex digits",
        SecretKind::HmacSha256 => "one line: the API secret",
        SecretKind::Ed25519 => "an Ed25519 private key in PKCS#8 PEM",
    }
}

/// The secret bytes of a plain key file's text.
fn plain_secret(
    path: &Path,
    kind: SecretKind,
    text: &str,
) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let expected = expected_plain(kind);
    let text = text.trim();
    match kind {
        SecretKind::Secp256k1 => {
            let digits = text
                .strip_prefix("0x")
                .ok_or_else(|| malformed(path, "no 0x prefix".to_owned(), expected))?;
            let mut bytes = Zeroizing::new(vec![0u8; 32]);
            hex::decode_to_slice(digits, bytes.as_mut_slice())
                .map_err(|_| malformed(path, "not 64 hex digits".to_owned(), expected))?;
            secp256k1_key(path, &bytes)?;
            Ok(bytes)
        }
        SecretKind::HmacSha256 => {
            check_hmac_secret(path, text.as_bytes())?;
            Ok(Zeroizing::new(text.as_bytes().to_vec()))
        }
        SecretKind::Ed25519 => {
            let key = SigningKey::from_pkcs8_pem(text).map_err(|error| {
                malformed(path, format!("not an Ed25519 key: {error}"), expected)
            })?;
            Ok(Zeroizing::new(key.to_bytes().to_vec()))
        }
    }
}

fn malformed(path: &Path, reason: String, expected: &'static str) -> KeyFileError {
    KeyFileError::Malformed {
        path: path.to_owned(),
        reason,
        expected,
    }
}

/// Reads a key file's text, zeroed on drop.
///
/// Refuses a file another user could change ([`crate::files`]), and one whose
/// mode lets group or others access it (`mode & 0o077 != 0`, checked on the
/// opened file).
fn read_secret(path: &Path) -> Result<Zeroizing<String>, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let file = crate::files::open_trusted(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if !metadata.is_file() {
        return Err(KeyFileError::NotAFile {
            path: path.to_owned(),
        });
    }
    let mode = metadata.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    if metadata.len() > MAX_KEY_FILE_BYTES {
        return Err(KeyFileError::TooLarge {
            path: path.to_owned(),
            len: metadata.len(),
        });
    }
    // Room for the whole file up front, so that no partial copy of the key is
    // left behind by a reallocation.
    let mut text = Zeroizing::new(String::with_capacity(MAX_KEY_FILE_BYTES as usize + 1));
    file.take(MAX_KEY_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(io)?;
    Ok(text)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;

    const KEY: &str = "0x00e5fb7b0f747acef23ab43fcff0c82511dd041b249c8a5efa84c59beee988b2";

    fn key_file(dir: &Path, content: &str, mode: u32) -> PathBuf {
        let path = dir.join("key");
        fs::write(&path, content).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn loads_a_private_key_with_trailing_whitespace() {
        let dir = tempfile::tempdir().unwrap();
        let key = load_key(
            &key_file(dir.path(), &format!("{KEY}\n  \n"), 0o600),
            &Unlock::demo(),
        )
        .unwrap();
        assert_eq!(
            key.address().to_checksum(),
            "0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE"
        );
        assert!(load_key(&key_file(dir.path(), KEY, 0o400), &Unlock::demo()).is_ok());
    }

    /// RFC 8410's example Ed25519 private key (section 10.3).
    pub(crate) const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
        -----END PRIVATE KEY-----\n";

    #[test]
    fn loads_hmac_secrets_and_ed25519_pem() {
        let dir = tempfile::tempdir().unwrap();
        let secret = load_hmac_secret(
            &key_file(dir.path(), "s3cr3t-Value\n", 0o600),
            &Unlock::demo(),
        )
        .unwrap();
        assert_eq!(secret.as_slice(), b"s3cr3t-Value");
        let key = load_ed25519(&key_file(dir.path(), ED25519_PEM, 0o600), &Unlock::demo()).unwrap();
        assert_eq!(
            hex::encode(key.verifying_key().as_bytes()),
            "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
        );
        let error =
            load_ed25519(&key_file(dir.path(), ED25519_PEM, 0o644), &Unlock::demo()).unwrap_err();
        assert!(matches!(error, KeyFileError::Permissions { .. }));
    }

    #[test]
    fn refuses_open_permissions_naming_file_mode_and_fix() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660, 0o601] {
            let path = key_file(dir.path(), KEY, mode);
            let error = load_key(&path, &Unlock::demo()).unwrap_err();
            let message = error.to_string();
            assert!(
                matches!(error, KeyFileError::Permissions { .. }),
                "{message}"
            );
            assert!(message.contains(&format!("mode {mode:04o}")), "{message}");
            assert!(
                message.contains(&format!("chmod 600 {}", path.display())),
                "{message}"
            );
        }
    }

    #[test]
    fn malformed_keys_never_echo_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let unprefixed = &KEY[2..];
        let error =
            load_key(&key_file(dir.path(), unprefixed, 0o600), &Unlock::demo()).unwrap_err();
        assert!(matches!(error, KeyFileError::Malformed { .. }));
        assert!(!error.to_string().contains(unprefixed));
        let error =
            load_hmac_secret(&key_file(dir.path(), " \n", 0o600), &Unlock::demo()).unwrap_err();
        assert!(error.to_string().contains("the secret is empty"), "{error}");
        let error =
            load_hmac_secret(&key_file(dir.path(), "ab cd", 0o600), &Unlock::demo()).unwrap_err();
        assert!(!error.to_string().contains("ab cd"), "{error}");
        let error =
            load_ed25519(&key_file(dir.path(), unprefixed, 0o600), &Unlock::demo()).unwrap_err();
        assert!(error.to_string().contains("PKCS#8 PEM"), "{error}");
        assert!(!error.to_string().contains(unprefixed), "{error}");
        let error = load_key(&dir.path().join("missing"), &Unlock::demo()).unwrap_err();
        assert!(matches!(error, KeyFileError::Io { .. }));
        let folder = dir.path().join("folder");
        fs::create_dir(&folder).unwrap();
        assert!(matches!(
            load_key(&folder, &Unlock::demo()).unwrap_err(),
            KeyFileError::NotAFile { .. }
        ));
    }

    fn sealed_file(dir: &Path, secret: &[u8], kind: SecretKind) -> PathBuf {
        let text = keystore::seal(
            secret,
            kind,
            b"pass phrase",
            keystore::ScryptCost { log_n: 10 },
            None,
        )
        .unwrap();
        key_file(dir, &text, 0o600)
    }

    fn passphrase_file(dir: &Path, text: &str) -> Unlock {
        let path = dir.join("passphrase");
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        Unlock::new(Some(PassphraseSource::File(path)), false)
    }

    #[test]
    fn encrypted_keys_open_with_their_passphrase_only() {
        let dir = tempfile::tempdir().unwrap();
        let secret = hex::decode("11".repeat(32)).unwrap();
        let path = sealed_file(dir.path(), &secret, SecretKind::Secp256k1);
        let key = load_key(&path, &passphrase_file(dir.path(), "pass phrase\n")).unwrap();
        assert_eq!(
            key.address(),
            secp256k1_key(&path, &secret).unwrap().address()
        );
        let wrong = load_key(&path, &passphrase_file(dir.path(), "pass phrasE")).unwrap_err();
        assert!(wrong.to_string().contains("wrong passphrase"), "{wrong}");
        let locked = load_key(&path, &Unlock::default()).unwrap_err();
        assert!(locked.to_string().contains("--passphrase-fd"), "{locked}");
        let as_hmac = load_hmac_secret(&path, &passphrase_file(dir.path(), "pass phrase"));
        assert!(
            as_hmac
                .unwrap_err()
                .to_string()
                .contains("holds a secp256k1 secret, not a hmac-sha256 one")
        );

        let hmac = sealed_file(dir.path(), b"s3cr3t", SecretKind::HmacSha256);
        let unlock = passphrase_file(dir.path(), "pass phrase");
        assert_eq!(
            load_hmac_secret(&hmac, &unlock).unwrap().as_slice(),
            b"s3cr3t"
        );
        let seed = [7u8; 32];
        let ed25519 = sealed_file(dir.path(), &seed, SecretKind::Ed25519);
        assert_eq!(load_ed25519(&ed25519, &unlock).unwrap().to_bytes(), seed);
    }

    #[test]
    fn plain_and_published_keys_need_demo_keys_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let unlock = passphrase_file(dir.path(), "pass phrase");
        let plain = key_file(dir.path(), &format!("0x{}", "22".repeat(32)), 0o600);
        let error = load_key(&plain, &unlock).unwrap_err();
        assert!(
            matches!(error, KeyFileError::Plain { .. })
                && error
                    .to_string()
                    .contains("connector-signer import --kind secp256k1"),
            "{error}"
        );
        assert!(load_key(&plain, &Unlock::demo()).is_ok());
        // A published key is refused even encrypted, and cannot be imported.
        let published = hex::decode(&KEY[2..]).unwrap();
        let other = tempfile::tempdir().unwrap();
        let sealed = sealed_file(other.path(), &published, SecretKind::Secp256k1);
        let error = load_key(&sealed, &unlock).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("published key (a Hyperliquid SDK signing vector"),
            "{error}"
        );
        assert!(load_key(&sealed, &Unlock::new(unlock.source.clone(), true)).is_ok());
        let third = tempfile::tempdir().unwrap();
        let error = read_plain(&key_file(third.path(), KEY, 0o600), SecretKind::Secp256k1);
        assert!(matches!(error, Err(KeyFileError::Published { .. })));
        let bytes = read_plain(&plain, SecretKind::Secp256k1).unwrap();
        assert_eq!(hex::encode(bytes.as_slice()), "22".repeat(32));
        let error = read_plain(&sealed, SecretKind::Secp256k1).unwrap_err();
        assert!(error.to_string().contains("already a keystore"), "{error}");
    }
}
