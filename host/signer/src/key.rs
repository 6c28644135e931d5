//! Loading key files, readable by their owner only: a secp256k1 key (`0x` +
//! 64 hex digits on one line), an HMAC secret (the API secret on one line) or
//! an Ed25519 private key (PKCS#8 PEM, as Binance's key generator writes it).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use hyperliquid_core::PrivateKey;
use zeroize::Zeroizing;

/// Largest key file accepted; every kind of key fits in far less.
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
}

/// Reads the secp256k1 private key in `path`: `0x` + 64 hex digits.
pub fn load_key(path: &Path) -> Result<PrivateKey, KeyFileError> {
    let text = read_secret(path)?;
    PrivateKey::from_hex(text.trim()).map_err(|error| {
        malformed(
            path,
            error.to_string(),
            "one line: 0x followed by 64 hex digits",
        )
    })
}

/// Reads an HMAC secret in `path`: the API secret as the venue shows it, on
/// one line of printable ASCII. The MAC key is its bytes.
pub fn load_hmac_secret(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let text = read_secret(path)?;
    let secret = text.trim();
    let expected = "one line: the API secret";
    if secret.is_empty() {
        return Err(malformed(path, "the file is empty".to_owned(), expected));
    }
    if !secret.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(malformed(
            path,
            "the secret holds spaces or characters outside printable ASCII".to_owned(),
            expected,
        ));
    }
    Ok(Zeroizing::new(secret.as_bytes().to_vec()))
}

/// Reads an Ed25519 private key in `path`, PKCS#8 PEM
/// (`-----BEGIN PRIVATE KEY-----`).
pub fn load_ed25519(path: &Path) -> Result<SigningKey, KeyFileError> {
    let text = read_secret(path)?;
    SigningKey::from_pkcs8_pem(text.trim()).map_err(|error| {
        malformed(
            path,
            format!("not an Ed25519 key: {error}"),
            "an Ed25519 private key in PKCS#8 PEM",
        )
    })
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
        let key = load_key(&key_file(dir.path(), &format!("{KEY}\n  \n"), 0o600)).unwrap();
        assert_eq!(
            key.address().to_checksum(),
            "0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE"
        );
        assert!(load_key(&key_file(dir.path(), KEY, 0o400)).is_ok());
    }

    /// RFC 8410's example Ed25519 private key (section 10.3).
    pub(crate) const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
        -----END PRIVATE KEY-----\n";

    #[test]
    fn loads_hmac_secrets_and_ed25519_pem() {
        let dir = tempfile::tempdir().unwrap();
        let secret = load_hmac_secret(&key_file(dir.path(), "s3cr3t-Value\n", 0o600)).unwrap();
        assert_eq!(secret.as_slice(), b"s3cr3t-Value");
        let key = load_ed25519(&key_file(dir.path(), ED25519_PEM, 0o600)).unwrap();
        assert_eq!(
            hex::encode(key.verifying_key().as_bytes()),
            "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
        );
        let error = load_ed25519(&key_file(dir.path(), ED25519_PEM, 0o644)).unwrap_err();
        assert!(matches!(error, KeyFileError::Permissions { .. }));
    }

    #[test]
    fn refuses_open_permissions_naming_file_mode_and_fix() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660, 0o601] {
            let path = key_file(dir.path(), KEY, mode);
            let error = load_key(&path).unwrap_err();
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
        let error = load_key(&key_file(dir.path(), unprefixed, 0o600)).unwrap_err();
        assert!(matches!(error, KeyFileError::Malformed { .. }));
        assert!(!error.to_string().contains(unprefixed));
        let error = load_hmac_secret(&key_file(dir.path(), " \n", 0o600)).unwrap_err();
        assert!(error.to_string().contains("the file is empty"), "{error}");
        let error = load_hmac_secret(&key_file(dir.path(), "ab cd", 0o600)).unwrap_err();
        assert!(!error.to_string().contains("ab cd"), "{error}");
        let error = load_ed25519(&key_file(dir.path(), unprefixed, 0o600)).unwrap_err();
        assert!(error.to_string().contains("PKCS#8 PEM"), "{error}");
        assert!(!error.to_string().contains(unprefixed), "{error}");
        let error = load_key(&dir.path().join("missing")).unwrap_err();
        assert!(matches!(error, KeyFileError::Io { .. }));
        let folder = dir.path().join("folder");
        fs::create_dir(&folder).unwrap();
        assert!(matches!(
            load_key(&folder).unwrap_err(),
            KeyFileError::NotAFile { .. }
        ));
    }
}
