//! Whether a file that decides what the process does may be used at all: a
//! plugin (loading runs its code inside the host), the host's config file,
//! the signer's key and policy files. The file and the folder it is in must
//! belong to the user running the process (or root) and be writable by no
//! other user. Checked before the file is opened.
//!
//! "No other user" is the permission bits' *others* class: a group-writable
//! file is accepted, as a umask of 002 with a user-private group makes every
//! file (that group is the user alone); a shared group is the
//! administrator's to avoid.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Write permission for the *others* class.
const OTHERS_WRITE: u32 = 0o002;

/// Why `path` (the file, or the folder it is in) is not trusted; `None`
/// when it is.
pub fn distrust(path: &Path) -> Option<String> {
    let folder = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    distrust_one("the file", path)
        .or_else(|| distrust_one(&format!("its folder {}", folder.display()), folder))
}

/// Why `folder` itself (not the folders above it) is not trusted; `None`
/// when it is.
pub fn distrust_folder(folder: &Path) -> Option<String> {
    distrust_one(&format!("the folder {}", folder.display()), folder)
}

/// Why `path` is not trusted; `what` names it in the reason.
fn distrust_one(what: &str, path: &Path) -> Option<String> {
    let me = effective_uid();
    let metadata = match path.metadata() {
        Ok(metadata) => metadata,
        Err(error) => return Some(format!("cannot inspect {what}: {error}")),
    };
    let owner = metadata.uid();
    if owner != me && owner != 0 {
        return Some(format!(
            "{what} belongs to uid {owner}, neither this user (uid {me}) nor root"
        ));
    }
    let mode = metadata.mode();
    // A sticky folder (`/tmp`) is refused too: anyone may add a file
    // there that a folder scan would load.
    if mode & OTHERS_WRITE != 0 {
        return Some(format!(
            "{what} is writable by every user (mode {:o}); `chmod o-w` it",
            mode & 0o7777
        ));
    }
    None
}

/// The user the process acts as: the owner of the files it creates.
fn effective_uid() -> u32 {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use std::fs::{self, Permissions};
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn plugin_in(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("plugin.so");
        fs::write(&path, b"not loaded here").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        path
    }

    #[test]
    fn a_file_of_this_user_in_a_folder_of_this_user_is_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = plugin_in(dir.path());
        assert_eq!(distrust(&path), None);
        // Group-writable (umask 002) is accepted.
        fs::set_permissions(&path, Permissions::from_mode(0o664)).unwrap();
        assert_eq!(distrust(&path), None);
    }

    #[test]
    fn a_file_or_folder_anyone_may_write_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = plugin_in(dir.path());
        fs::set_permissions(&path, Permissions::from_mode(0o666)).unwrap();
        let why = distrust(&path).unwrap();
        assert!(
            why.contains("the file") && why.contains("writable by every user"),
            "{why}"
        );

        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(dir.path(), Permissions::from_mode(0o777)).unwrap();
        let why = distrust(&path).unwrap();
        assert!(
            why.contains("its folder") && why.contains("mode 777"),
            "{why}"
        );
    }

    #[test]
    fn a_file_of_another_user_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = plugin_in(dir.path());
        // Only root may give a file away; as anyone else there is nothing
        // to test.
        if effective_uid() != 0 {
            return;
        }
        std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
        let why = distrust(&path).unwrap();
        assert!(why.contains("belongs to uid 65534"), "{why}");
    }
}
