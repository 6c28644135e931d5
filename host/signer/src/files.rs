//! Reading the files the signer's decisions rest on — key files, policies,
//! keyrings — only when no other user could have changed them: the file
//! and its folder must belong to this user (or root) and not be writable by
//! others (`plugin_api::trust`, the rule the host applies to its plugins
//! and config). A policy another user could loosen is no policy.

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `path` for reading once it is trusted; an untrusted file is a
/// `PermissionDenied` error saying why, a missing one `NotFound`.
pub fn open_trusted(path: &Path) -> io::Result<File> {
    if !path.exists() {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no such file"));
    }
    if let Some(reason) = plugin_api::trust::distrust(path) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("refused, another user could change it: {reason}"),
        ));
    }
    File::open(path)
}

/// Reads a trusted text file whole.
pub fn read_trusted(path: &Path) -> io::Result<String> {
    io::read_to_string(open_trusted(path)?)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_file_others_may_write_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, "max_order_notional = \"100\"").unwrap();
        assert_eq!(read_trusted(&path).unwrap(), "max_order_notional = \"100\"");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o646)).unwrap();
        let error = read_trusted(&path).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert!(
            error.to_string().contains("writable by every user"),
            "{error}"
        );
    }
}
