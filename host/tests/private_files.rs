//! The host's own state is its user's alone whatever the umask: the
//! journal and the nonce state are 0600, in folders it makes 0700. (Its
//! own test binary: the umask is the whole process's.)

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use connector_host::journal::Journal;
use connector_host::signer::NonceSource;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn the_journal_and_the_nonce_state_are_private_under_any_umask() {
    // SAFETY: `umask` only sets this process's file-creation mask; this
    // binary's one test runs alone.
    unsafe { libc::umask(0) };
    let dir = tempfile::tempdir().expect("temporary folder");
    let state = dir.path().join("state").join("nested");

    let journal_path = state.join("hl.journal");
    let (journal, _) = Journal::open(&journal_path, 0).expect("journal");
    let nonce_path = state.join("hl.nonce");
    let nonces = NonceSource::open(&nonce_path).expect("nonce state");
    nonces.next(1_700_000_000_000).expect("a nonce");

    assert_eq!(mode(&journal_path), 0o600, "journal");
    assert_eq!(mode(&nonce_path), 0o600, "nonce state");
    assert_eq!(mode(&state), 0o700, "the folder made for them");
    assert_eq!(mode(&dir.path().join("state")), 0o700, "its parent");
    drop(journal);
}
