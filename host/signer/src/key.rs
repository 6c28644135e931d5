//! Loading the private key file: `0x` + 64 hex digits on one line, readable by
//! its owner only.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use hyperliquid_core::{KeyError, PrivateKey};
use zeroize::Zeroizing;

/// Largest key file accepted; a key is 66 characters plus a line ending.
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
    #[error("key file {path} is {len} bytes; a key file holds one 0x-prefixed hex key")]
    TooLarge {
        /// The key file.
        path: PathBuf,
        /// Its size.
        len: u64,
    },
    /// The content is not a private key.
    #[error("key file {path}: {source} (expected one line: 0x followed by 64 hex digits)")]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What is wrong, without the key material.
        #[source]
        source: KeyError,
    },
}

/// Reads the private key in `path`.
///
/// Refuses a file whose mode lets group or others access it (`mode & 0o077 != 0`);
/// the check is made on the opened file. Surrounding whitespace is ignored. The
/// text read is zeroed once parsed, and the key itself on drop.
pub fn load_key(path: &Path) -> Result<PrivateKey, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
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
    PrivateKey::from_hex(text.trim()).map_err(|source| KeyFileError::Malformed {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
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
        let error = load_key(&dir.path().join("missing")).unwrap_err();
        assert!(matches!(error, KeyFileError::Io { .. }));
        assert!(matches!(
            load_key(dir.path()).unwrap_err(),
            KeyFileError::NotAFile { .. }
        ));
    }
}
