//! Claiming the path of a Unix socket a process is about to serve on (the
//! host's `ipc://` endpoints, the signer's socket): a live socket there
//! belongs to another process and is refused, never taken over; a stale
//! one (nothing accepts on it, as after a SIGKILL) is removed; anything that
//! is not a socket is left alone and refused.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Why a socket path cannot be served on.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Something other than a socket is at the path.
    #[error("{path} exists and is not a socket; refusing to replace it")]
    NotASocket {
        /// The socket path.
        path: PathBuf,
    },
    /// A live process accepts connections on the path.
    #[error("another process is already serving on {path}")]
    InUse {
        /// The socket path.
        path: PathBuf,
    },
    /// The path could not be inspected or the stale socket removed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The socket path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// Makes `path` free for a new socket: nothing there, or a stale socket
/// that is removed. Probes by connecting, as a client would.
pub fn claim(path: &Path) -> Result<(), ClaimError> {
    let io_error = |action, source| ClaimError::Io {
        action,
        path: path.to_owned(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => Err(ClaimError::NotASocket {
            path: path.to_owned(),
        }),
        Ok(_) if UnixStream::connect(path).is_ok() => Err(ClaimError::InUse {
            path: path.to_owned(),
        }),
        Ok(_) => {
            std::fs::remove_file(path).map_err(|source| io_error("remove the stale socket", source))
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(io_error("inspect", source)),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixListener;

    use super::*;

    #[test]
    fn a_free_path_or_a_stale_socket_is_claimed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        claim(&path).unwrap();
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists(), "a closed listener leaves its file");
        claim(&path).unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn a_live_socket_or_another_file_is_refused_and_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let _live = UnixListener::bind(&path).unwrap();
        assert!(matches!(claim(&path), Err(ClaimError::InUse { .. })));
        assert!(path.exists());
        let file = dir.path().join("f");
        std::fs::write(&file, "data").unwrap();
        assert!(matches!(claim(&file), Err(ClaimError::NotASocket { .. })));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");
    }
}
