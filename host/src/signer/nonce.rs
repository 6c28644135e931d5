//! Nonces that never repeat: within one millisecond, across threads, and
//! across a restart.
//!
//! A nonce is `max(now_ms, last + 1)`. To survive a restart without a disk
//! write per nonce, the source persists a *lease*: a high-water mark some
//! seconds ahead of the last nonce issued. A restarted source starts above
//! the lease, so it can never reissue a nonce of an earlier run, and it
//! writes (atomically, with fsync) only when nonces reach the lease.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// How far ahead of the last nonce the persisted lease reaches, ms.
const LEASE_MS: u64 = 10_000;

/// Why the nonce state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum NonceError {
    /// The state file exists but does not hold a number.
    #[error("nonce state {path} is corrupt ({content:?}); refusing to guess a safe nonce")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What it holds.
        content: String,
    },
    /// Reading or writing the state file failed.
    #[error("nonce state {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

#[derive(Debug)]
struct State {
    last: u64,
    lease: u64,
}

/// A per-signer nonce source. Share one (in an `Arc`) between every path
/// that signs for the same key.
#[derive(Debug)]
pub struct NonceSource {
    state: Mutex<State>,
    path: Option<PathBuf>,
}

impl NonceSource {
    /// A source persisted at `path` (created if missing).
    pub fn open(path: &Path) -> Result<NonceSource, NonceError> {
        let io = |source| NonceError::Io {
            path: path.to_owned(),
            source,
        };
        let lease = match fs::read_to_string(path) {
            Ok(text) => text
                .trim()
                .parse::<u64>()
                .map_err(|_| NonceError::Corrupt {
                    path: path.to_owned(),
                    content: text.chars().take(40).collect(),
                })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
            Err(error) => return Err(io(error)),
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io)?;
        }
        Ok(NonceSource {
            state: Mutex::new(State { last: lease, lease }),
            path: Some(path.to_owned()),
        })
    }

    /// A source that is not persisted (tests, benchmarks).
    pub fn in_memory() -> NonceSource {
        NonceSource {
            state: Mutex::new(State {
                last: 0,
                lease: u64::MAX,
            }),
            path: None,
        }
    }

    /// The next nonce at time `now_ms`: strictly greater than every nonce
    /// this source (or an earlier run of it) issued.
    pub fn next(&self, now_ms: u64) -> Result<u64, NonceError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let nonce = now_ms.max(state.last + 1);
        if nonce >= state.lease
            && let Some(path) = &self.path
        {
            let lease = nonce + LEASE_MS;
            persist(path, lease)?;
            state.lease = lease;
        }
        state.last = nonce;
        Ok(nonce)
    }
}

/// Writes the lease atomically: a temporary file, fsync, rename, fsync of the
/// folder.
fn persist(path: &Path, lease: u64) -> Result<(), NonceError> {
    let io = |source| NonceError::Io {
        path: path.to_owned(),
        source,
    };
    let temporary = path.with_extension("tmp");
    let mut file = fs::File::create(&temporary).map_err(io)?;
    writeln!(file, "{lease}").map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&temporary, path).map_err(io)?;
    if let Some(parent) = path.parent() {
        fs::File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;

    #[test]
    fn never_repeats_within_a_millisecond() {
        let source = NonceSource::in_memory();
        let a = source.next(1_000).unwrap();
        let b = source.next(1_000).unwrap();
        let c = source.next(999).unwrap();
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(source.next(5_000).unwrap(), 5_000);
    }

    #[test]
    fn never_repeats_across_threads() {
        let source = Arc::new(NonceSource::in_memory());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let source = Arc::clone(&source);
                std::thread::spawn(move || {
                    (0..2_000)
                        .map(|_| source.next(7).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut seen = HashSet::new();
        for handle in handles {
            for nonce in handle.join().unwrap() {
                assert!(seen.insert(nonce));
            }
        }
    }

    #[test]
    fn a_restart_never_reissues_a_nonce_even_if_the_clock_went_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signer.nonce");
        let first = NonceSource::open(&path).unwrap();
        let issued: Vec<u64> = (0..100)
            .map(|_| first.next(1_700_000_000_000).unwrap())
            .collect();
        drop(first);
        // The clock stepped back a minute across the restart.
        let second = NonceSource::open(&path).unwrap();
        let next = second.next(1_699_999_940_000).unwrap();
        assert!(next > *issued.iter().max().unwrap());
    }

    #[test]
    fn the_lease_is_written_rarely() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signer.nonce");
        let source = NonceSource::open(&path).unwrap();
        source.next(1_000).unwrap();
        let lease: u64 = fs::read_to_string(&path).unwrap().trim().parse().unwrap();
        assert_eq!(lease, 1_000 + LEASE_MS);
        for now in 1_001..1_000 + LEASE_MS {
            source.next(now).unwrap();
        }
        let unchanged: u64 = fs::read_to_string(&path).unwrap().trim().parse().unwrap();
        assert_eq!(unchanged, lease);
    }

    #[test]
    fn a_corrupt_state_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signer.nonce");
        fs::write(&path, "banana").unwrap();
        assert!(matches!(
            NonceSource::open(&path),
            Err(NonceError::Corrupt { .. })
        ));
    }
}
