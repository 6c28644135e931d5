//! CURVE keys on disk. `connector-host keygen` writes a pair: `NAME.key`,
//! the secret file (mode 0600, both keys), and `NAME.pub`, the public key
//! to hand to the other side. Both are TOML with Z85 text, the encoding
//! every ZeroMQ binding takes (`zmq.curve_keypair()` in pyzmq):
//!
//! ```toml
//! public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
//! secret_key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
//! ```

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::Zeroizing;

/// The length of a CURVE key, in bytes.
pub const KEY_BYTES: usize = 32;

/// Largest key file read.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// A CURVE public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(pub [u8; KEY_BYTES]);

impl PublicKey {
    /// The key in Z85, as key files and logs show it.
    pub fn z85(&self) -> String {
        zmq::z85_encode(&self.0).unwrap_or_default()
    }
}

/// A CURVE key pair: a host's, or a client's.
pub struct KeyPair {
    /// The public key, which the other side lists.
    pub public: PublicKey,
    secret: Zeroizing<[u8; KEY_BYTES]>,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public.z85())
            .finish_non_exhaustive()
    }
}

/// Why a key file could not be used. Never holds a secret key.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not a key file of the kind expected.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    public_key: String,
    #[serde(default)]
    secret_key: Option<String>,
}

impl KeyPair {
    /// A new random key pair, from libzmq.
    pub fn generate() -> Result<KeyPair, zmq::Error> {
        let pair = zmq::CurveKeyPair::new()?;
        Ok(KeyPair {
            public: PublicKey(pair.public_key),
            secret: Zeroizing::new(pair.secret_key),
        })
    }

    /// The secret key, for `ZMQ_CURVE_SECRETKEY`.
    pub fn secret(&self) -> &[u8] {
        self.secret.as_slice()
    }

    /// Reads a secret key file: this user's (or root's), mode 0600 or
    /// stricter, in a folder no other user may change.
    pub fn read(path: &Path) -> Result<KeyPair, KeyFileError> {
        let (file, mode) = read_key_file(path)?;
        let invalid = |reason: String| KeyFileError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let secret = Zeroizing::new(
            file.secret_key
                .ok_or_else(|| invalid("no `secret_key`: this is a public key file".to_owned()))?,
        );
        if mode & 0o077 != 0 {
            return Err(invalid(format!(
                "mode {:04o}: a secret key file must be readable by its owner only; run \
                 `chmod 600 {}`",
                mode & 0o7777,
                path.display()
            )));
        }
        let secret =
            decode(&secret).ok_or_else(|| invalid("`secret_key` is not a Z85 key".to_owned()))?;
        let public = decode(&file.public_key)
            .ok_or_else(|| invalid("`public_key` is not a Z85 key".to_owned()))?;
        Ok(KeyPair {
            public: PublicKey(public),
            secret: Zeroizing::new(secret),
        })
    }

    /// Writes `STEM.key` (mode 0600) and `STEM.pub`; neither may exist.
    /// Returns both paths.
    pub fn write(&self, stem: &Path) -> Result<(PathBuf, PathBuf), KeyFileError> {
        let secret_path = stem.with_extension("key");
        let public_path = stem.with_extension("pub");
        let public = format!("public_key = \"{}\"\n", self.public.z85());
        let secret = Zeroizing::new(format!(
            "# connector-host CURVE key pair: keep this file secret (mode 0600).\n{public}\
             secret_key = \"{}\"\n",
            zmq::z85_encode(self.secret()).unwrap_or_default()
        ));
        write_new(&secret_path, secret.as_bytes(), 0o600)?;
        write_new(&public_path, public.as_bytes(), 0o644)?;
        Ok((secret_path, public_path))
    }
}

/// Reads the public key in `path`: a `.pub` file, or a secret key file
/// (whose public key is read, and whose secret is not kept).
pub fn read_public(path: &Path) -> Result<PublicKey, KeyFileError> {
    let (file, _) = read_key_file(path)?;
    decode(&file.public_key)
        .map(PublicKey)
        .ok_or_else(|| KeyFileError::Invalid {
            path: path.to_owned(),
            reason: "`public_key` is not a Z85 key".to_owned(),
        })
}

/// Decodes a 40-character Z85 key.
pub fn decode(text: &str) -> Option<[u8; KEY_BYTES]> {
    if text.len() != 40 {
        return None;
    }
    zmq::z85_decode(text).ok()?.try_into().ok()
}

/// The key file in `path`, which must be trusted, and its mode.
fn read_key_file(path: &Path) -> Result<(KeyFile, u32), KeyFileError> {
    let io = |error| KeyFileError::Io {
        path: path.to_owned(),
        error,
    };
    let invalid = |reason: String| KeyFileError::Invalid {
        path: path.to_owned(),
        reason,
    };
    if let Some(reason) = plugin_api::trust::distrust(path) {
        return Err(invalid(reason));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mode = file.metadata().map_err(io)?.permissions().mode();
    let mut text = Zeroizing::new(String::new());
    std::io::Read::read_to_string(
        &mut std::io::Read::take(file, MAX_KEY_FILE_BYTES),
        &mut text,
    )
    .map_err(io)?;
    // The parse error names a line and a key, never the secret's text.
    let parsed = toml::from_str(&text).map_err(|error: toml::de::Error| {
        invalid(format!("not a key file: {}", error.message()))
    })?;
    Ok((parsed, mode))
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyFileError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|error| KeyFileError::Io {
            path: path.to_owned(),
            error,
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|error| KeyFileError::Io {
            path: path.to_owned(),
            error,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_pair_reads_back_and_the_secret_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let pair = KeyPair::generate().unwrap();
        let (secret, public) = pair.write(&dir.path().join("ops")).unwrap();
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let read = KeyPair::read(&secret).unwrap();
        assert_eq!(read.public, pair.public);
        assert_eq!(read.secret(), pair.secret());
        assert_eq!(read_public(&public).unwrap(), pair.public);
        assert_eq!(read_public(&secret).unwrap(), pair.public);
        assert!(!format!("{read:?}").contains(&zmq::z85_encode(pair.secret()).unwrap()));

        let again = pair.write(&dir.path().join("ops")).unwrap_err();
        assert!(again.to_string().contains("exists"), "{again}");
        let error = KeyPair::read(&public).unwrap_err().to_string();
        assert!(error.contains("this is a public key file"), "{error}");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o640)).unwrap();
        let error = KeyPair::read(&secret).unwrap_err().to_string();
        assert!(error.contains("chmod 600"), "{error}");
    }

    #[test]
    fn malformed_key_files_are_refused_without_echoing_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.key");
        for (text, expected) in [
            (
                "public_key = \"short\"\nsecret_key = \"x\"\n",
                "not a Z85 key",
            ),
            ("publik_key = \"x\"\n", "not a key file"),
            ("not toml at all", "not a key file"),
        ] {
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            let error = KeyPair::read(&path).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
            assert!(!error.contains("short"), "{error}");
        }
    }
}
