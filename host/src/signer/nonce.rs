//! Nonces that never repeat: within one millisecond, across threads, and
//! across a restart.
//!
//! A nonce is `max(now_ms, last + 1)`. To survive a restart without a disk
//! write per nonce, the source persists a *lease*: a high-water mark some
//! seconds ahead of the last nonce issued. A restarted source starts above
//! the lease, so it can never reissue a nonce of an earlier run, and it
//! writes (with fsync) only when nonces reach the lease.
//!
//! The file stays open for the life of the source, so that no new
//! descriptor is ever needed on the order path (a host out of descriptors
//! still signs). It holds two slots, each a lease with a checksum, written
//! in turn in place: a write torn by a crash spoils only the slot being
//! written, and the other still holds the previous lease — which covers
//! every nonce issued, since no nonce passes a lease before the next lease
//! is on disk. Reading takes the higher valid slot.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::private_files;

/// How far ahead of the last nonce the persisted lease reaches, ms.
const LEASE_MS: u64 = 10_000;

/// One slot: 20 digits, a space, 8 hex digits of checksum, a newline.
const SLOT_BYTES: usize = 30;

/// Why the nonce state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum NonceError {
    /// The state file exists but holds no valid lease.
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
    /// The slot the next lease is written to.
    next_slot: u64,
}

/// The open state file.
#[derive(Debug)]
struct Persisted {
    path: PathBuf,
    file: File,
}

/// A per-signer nonce source. Share one (in an `Arc`) between every path
/// that signs for the same key.
#[derive(Debug)]
pub struct NonceSource {
    state: Mutex<State>,
    file: Option<Persisted>,
}

/// FNV-1a over the lease's digits.
fn checksum(digits: &str) -> u32 {
    digits.bytes().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

fn slot(lease: u64) -> String {
    let digits = format!("{lease:020}");
    let check = checksum(&digits);
    format!("{digits} {check:08x}\n")
}

/// The lease a file's text holds: the higher valid slot, or (a file of an
/// earlier version) a plain number.
fn lease_of(text: &str) -> Option<u64> {
    let slots = text
        .as_bytes()
        .chunks(SLOT_BYTES)
        .filter_map(|chunk| std::str::from_utf8(chunk).ok())
        .filter_map(|line| {
            let (digits, check) = line.trim_end().split_once(' ')?;
            (u32::from_str_radix(check, 16).ok()? == checksum(digits)).then_some(digits)
        })
        .filter_map(|digits| digits.parse::<u64>().ok())
        .max();
    slots.or_else(|| text.trim().parse().ok())
}

impl NonceSource {
    /// A source persisted at `path` (created if missing).
    pub fn open(path: &Path) -> Result<NonceSource, NonceError> {
        let io = |source| NonceError::Io {
            path: path.to_owned(),
            source,
        };
        let lease = match fs::read_to_string(path) {
            Ok(text) => lease_of(&text).ok_or_else(|| NonceError::Corrupt {
                path: path.to_owned(),
                content: text.chars().take(40).collect(),
            })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
            Err(error) => return Err(io(error)),
        };
        if let Some(parent) = path.parent() {
            private_files::create_folder(parent).map_err(io)?;
        }
        // Both slots hold the lease, written atomically once (whatever the
        // file held before); from then on the open file is written in place.
        let both = format!("{}{}", slot(lease), slot(lease));
        private_files::replace_atomically(path, |out| out.write_all(both.as_bytes()))
            .map_err(io)?;
        let file = OpenOptions::new().write(true).open(path).map_err(io)?;
        Ok(NonceSource {
            state: Mutex::new(State {
                last: lease,
                lease,
                next_slot: 0,
            }),
            file: Some(Persisted {
                path: path.to_owned(),
                file,
            }),
        })
    }

    /// A source that is not persisted (tests, benchmarks).
    pub fn in_memory() -> NonceSource {
        NonceSource {
            state: Mutex::new(State {
                last: 0,
                lease: u64::MAX,
                next_slot: 0,
            }),
            file: None,
        }
    }

    /// The next nonce at time `now_ms`: strictly greater than every nonce
    /// this source (or an earlier run of it) issued.
    pub fn next(&self, now_ms: u64) -> Result<u64, NonceError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let nonce = now_ms.max(state.last.saturating_add(1));
        if nonce >= state.lease
            && let Some(persisted) = &self.file
        {
            let lease = nonce.saturating_add(LEASE_MS);
            let offset = (state.next_slot % 2) * SLOT_BYTES as u64;
            persisted
                .file
                .write_all_at(slot(lease).as_bytes(), offset)
                .and_then(|()| persisted.file.sync_data())
                .map_err(|source| NonceError::Io {
                    path: persisted.path.clone(),
                    source,
                })?;
            state.lease = lease;
            state.next_slot += 1;
        }
        state.last = nonce;
        Ok(nonce)
    }
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

    fn lease_in(path: &Path) -> u64 {
        lease_of(&fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_lease_is_written_rarely() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signer.nonce");
        let source = NonceSource::open(&path).unwrap();
        source.next(1_000).unwrap();
        let lease = lease_in(&path);
        assert_eq!(lease, 1_000 + LEASE_MS);
        for now in 1_001..1_000 + LEASE_MS {
            source.next(now).unwrap();
        }
        assert_eq!(lease_in(&path), lease);
    }

    #[test]
    fn a_torn_slot_leaves_the_previous_lease() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signer.nonce");
        let source = NonceSource::open(&path).unwrap();
        let first = source.next(1_000).unwrap();
        let second = source.next(1_000 + LEASE_MS).unwrap();
        drop(source);
        assert_eq!(lease_in(&path), second + LEASE_MS);
        // A crash tore the slot written last (the second): the first
        // slot's lease still covers every nonce issued before it.
        let mut bytes = fs::read(&path).unwrap();
        bytes[SLOT_BYTES + 5] = b'0';
        bytes[SLOT_BYTES + 19] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(lease_in(&path), first + LEASE_MS);
        assert!(first + LEASE_MS >= second);
        let restarted = NonceSource::open(&path).unwrap();
        assert!(restarted.next(0).unwrap() > second);
    }

    #[test]
    fn a_lease_file_of_the_earlier_format_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signer.nonce");
        fs::write(&path, "1700000010000\n").unwrap();
        let source = NonceSource::open(&path).unwrap();
        assert!(source.next(0).unwrap() > 1_700_000_010_000);
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
