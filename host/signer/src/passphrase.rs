//! Where the passphrase that unlocks encrypted key files comes from: a file
//! descriptor the caller opened, a file only this user may read, a systemd
//! credential or the terminal — never an argument or an environment
//! variable, which other processes of the machine can read.

use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Longest passphrase read; a longer first line is refused, not cut.
const MAX_PASSPHRASE_BYTES: usize = 1024;

/// A source of the passphrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassphraseSource {
    /// The first line read from this open file descriptor (a pipe from the
    /// caller, as `--passphrase-fd 3 3<file` or a password manager).
    Fd(i32),
    /// The first line of this file: this user's (or root's), mode 0600 or
    /// stricter, in a folder no other user may change.
    File(PathBuf),
    /// The systemd credential of this name
    /// (`$CREDENTIALS_DIRECTORY/<name>`, `LoadCredential=` or
    /// `LoadCredentialEncrypted=` in the unit).
    Credential(String),
    /// Asked on the controlling terminal, without echo.
    Terminal,
}

/// Why the passphrase could not be read. Never contains the passphrase.
#[derive(Debug, thiserror::Error)]
pub enum PassphraseError {
    /// The descriptor, file or credential could not be read.
    #[error("cannot read the passphrase from {source_name}: {error}")]
    Io {
        /// Where it was read from.
        source_name: String,
        /// Why.
        error: std::io::Error,
    },
    /// The source is unusable for another reason.
    #[error("passphrase from {source_name}: {reason}")]
    Refused {
        /// Where it was read from.
        source_name: String,
        /// Why.
        reason: String,
    },
}

impl PassphraseSource {
    /// How the source is named in messages.
    pub fn describe(&self) -> String {
        match self {
            PassphraseSource::Fd(fd) => format!("file descriptor {fd}"),
            PassphraseSource::File(path) => path.display().to_string(),
            PassphraseSource::Credential(name) => format!("systemd credential {name:?}"),
            PassphraseSource::Terminal => "the terminal".to_owned(),
        }
    }

    /// Reads the passphrase: the first line, without its line ending.
    pub fn read(&self) -> Result<Zeroizing<Vec<u8>>, PassphraseError> {
        let refused = |reason: String| PassphraseError::Refused {
            source_name: self.describe(),
            reason,
        };
        let io = |error| PassphraseError::Io {
            source_name: self.describe(),
            error,
        };
        let file = match self {
            PassphraseSource::Fd(fd) => open_fd(*fd).map_err(refused)?,
            PassphraseSource::File(path) => {
                let file = crate::files::open_trusted(path).map_err(io)?;
                let mode = file.metadata().map_err(io)?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(refused(format!(
                        "mode {:04o}: group or others may read it; run `chmod 600 {}`",
                        mode & 0o7777,
                        path.display()
                    )));
                }
                file
            }
            PassphraseSource::Credential(name) => {
                File::open(credential_path(name).map_err(refused)?).map_err(io)?
            }
            PassphraseSource::Terminal => return ask("Passphrase: "),
        };
        let mut text = Zeroizing::new(Vec::with_capacity(MAX_PASSPHRASE_BYTES + 1));
        file.take(MAX_PASSPHRASE_BYTES as u64 + 1)
            .read_to_end(&mut text)
            .map_err(io)?;
        let line_end = text
            .iter()
            .position(|byte| *byte == b'\n')
            .unwrap_or(text.len());
        if line_end > MAX_PASSPHRASE_BYTES {
            return Err(refused(format!("longer than {MAX_PASSPHRASE_BYTES} bytes")));
        }
        let mut passphrase = Zeroizing::new(text[..line_end].to_vec());
        if passphrase.last() == Some(&b'\r') {
            passphrase.pop();
        }
        if passphrase.is_empty() {
            return Err(refused("it is empty".to_owned()));
        }
        Ok(passphrase)
    }
}

/// Asks for a passphrase on the controlling terminal, without echo; an
/// empty answer is refused.
pub fn ask(prompt: &str) -> Result<Zeroizing<Vec<u8>>, PassphraseError> {
    let source_name = PassphraseSource::Terminal.describe();
    let answer = rpassword::prompt_password(prompt)
        .map(|text| Zeroizing::new(text.into_bytes()))
        .map_err(|error| PassphraseError::Io {
            source_name: source_name.clone(),
            error,
        })?;
    if answer.is_empty() {
        return Err(PassphraseError::Refused {
            source_name,
            reason: "it is empty".to_owned(),
        });
    }
    Ok(answer)
}

/// Takes the descriptor `fd`, which must be open and not a standard stream.
fn open_fd(fd: i32) -> Result<File, String> {
    if fd <= 2 {
        return Err("0, 1 and 2 are the standard streams; pass another descriptor".to_owned());
    }
    // SAFETY: `fcntl(F_GETFD)` only asks whether `fd` is open.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
        return Err("it is not open in this process".to_owned());
    }
    // SAFETY: the caller passed this open descriptor for this one use; the
    // signer opens no file under a number it was given, and the descriptor
    // is read once and closed here.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// `$CREDENTIALS_DIRECTORY/<name>`, the folder systemd makes for the unit.
fn credential_path(name: &str) -> Result<PathBuf, String> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err("a credential name is one path component".to_owned());
    }
    let folder = std::env::var_os("CREDENTIALS_DIRECTORY").ok_or_else(|| {
        "CREDENTIALS_DIRECTORY is not set (not started by systemd with LoadCredential=)".to_owned()
    })?;
    Ok(Path::new(&folder).join(name))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::fd::IntoRawFd;

    use super::*;

    #[test]
    fn reads_the_first_line_of_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pass");
        std::fs::write(&path, "correct horse\r\nsecond line").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let source = PassphraseSource::File(path.clone());
        assert_eq!(source.read().unwrap().as_slice(), b"correct horse");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let error = source.read().unwrap_err().to_string();
        assert!(
            error.contains("mode 0640") && !error.contains("horse"),
            "{error}"
        );
        std::fs::write(&path, "\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(source.read().unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn reads_a_descriptor_once_and_refuses_standard_streams() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pass");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(b"from a pipe\n")
            .unwrap();
        let fd = std::fs::File::open(&path).unwrap().into_raw_fd();
        assert_eq!(
            PassphraseSource::Fd(fd).read().unwrap().as_slice(),
            b"from a pipe"
        );
        let closed = PassphraseSource::Fd(999_999)
            .read()
            .unwrap_err()
            .to_string();
        assert!(closed.contains("not open"), "{closed}");
        let stdin = PassphraseSource::Fd(0).read().unwrap_err().to_string();
        assert!(stdin.contains("standard streams"), "{stdin}");
    }

    #[test]
    fn a_credential_name_is_one_component() {
        let error = PassphraseSource::Credential("../etc/shadow".to_owned())
            .read()
            .unwrap_err()
            .to_string();
        assert!(error.contains("one path component"), "{error}");
    }
}
