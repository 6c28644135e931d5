//! Files only the host's user may read: the journal, the nonce state and
//! the folders that hold them and the signer's socket. Each is made with
//! its final permissions (0600 for a file, 0700 for a folder) set
//! explicitly, so a permissive umask never leaves order state readable or
//! writable by other users.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A private file's permissions: read and write for its owner only.
pub const FILE_MODE: u32 = 0o600;
/// A private folder's permissions: its owner only.
pub const FOLDER_MODE: u32 = 0o700;

/// Creates `folder` and any missing parents as 0700. A folder that is
/// already there is left as it is (it may be shared, such as `/tmp`).
pub fn create_folder(folder: &Path) -> io::Result<()> {
    if folder.as_os_str().is_empty() || folder.is_dir() {
        return Ok(());
    }
    if let Some(parent) = folder.parent() {
        create_folder(parent)?;
    }
    match DirBuilder::new().mode(FOLDER_MODE).create(folder) {
        Ok(()) => fs::set_permissions(folder, Permissions::from_mode(FOLDER_MODE)),
        // Made by someone else meanwhile: theirs, as above.
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists && folder.is_dir() => Ok(()),
        Err(error) => Err(error),
    }
}

/// Creates (or empties) `path` as a 0600 file, open for writing.
pub fn create_file(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(path)?;
    // An existing file keeps its mode through `open`, and a new one has
    // the umask's bits taken away: set it either way.
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

/// Replaces `path` with `write`'s output atomically: a 0600 temporary file
/// beside it (`path` and `.tmp`, so files that differ only in extension,
/// such as an exchange's journal and nonce state, never share one),
/// fsynced, renamed over it, and the folder fsynced.
pub fn replace_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let temporary = temporary_of(path);
    let mut out = io::BufWriter::new(create_file(&temporary)?);
    write(&mut out)?;
    let file = out.into_inner().map_err(|error| error.into_error())?;
    file.sync_all()?;
    rename_synced(&temporary, path)
}

/// Puts `temporary` (written and synced) in `path`'s place, atomically,
/// and syncs the folder, so that the rename survives a machine crash.
pub fn rename_synced(temporary: &Path, path: &Path) -> io::Result<()> {
    fs::rename(temporary, path)?;
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// The temporary file written beside `path` before it replaces it.
pub fn temporary_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_file_made_or_replaced_is_its_owners_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o666)).unwrap();
        replace_atomically(&path, |out| out.write_all(b"new")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(mode(&path), FILE_MODE);
        assert!(!temporary_of(&path).exists());
        assert_ne!(
            temporary_of(&dir.path().join("hl.journal")),
            temporary_of(&dir.path().join("hl.nonce"))
        );
    }

    #[test]
    fn missing_folders_are_made_private_and_existing_ones_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), Permissions::from_mode(0o755)).unwrap();
        let nested = dir.path().join("a").join("b");
        create_folder(&nested).unwrap();
        assert_eq!(mode(&dir.path().join("a")), FOLDER_MODE);
        assert_eq!(mode(&nested), FOLDER_MODE);
        assert_eq!(mode(dir.path()), 0o755);
        create_folder(&nested).unwrap();
    }
}
