//! The audit log: one JSON line per request answered on the socket — who
//! asked (the peer's uid and pid as the kernel reports them), the request
//! as it came, and the response as it went (the signature, or the refusal
//! with its code and reason) — appended to a file only the signer's user
//! may read or write. A request whose line cannot be written is refused:
//! nothing is signed unrecorded.
//!
//! Append-only is the file's open mode (`O_APPEND`); the kernel's
//! append-only attribute (`chattr +a`), which keeps even the signer's user
//! from rewriting it, is the administrator's to set.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::value::RawValue;

use crate::protocol::Response;

/// Who sent a request, as the kernel reports the connection's peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The peer's user id.
    pub uid: u32,
    /// Its process id, when the kernel gives it.
    pub pid: Option<i32>,
}

/// An open audit log.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

/// One line of the log.
#[derive(Serialize)]
struct Entry<'a> {
    time_ms: u64,
    uid: u32,
    pid: Option<i32>,
    request: Payload<'a>,
    response: &'a RawValue,
}

/// A request as it came: its JSON, or its text when it was no JSON.
#[derive(Serialize)]
#[serde(untagged)]
enum Payload<'a> {
    Json(&'a RawValue),
    Text(String),
}

impl AuditLog {
    /// Opens (or creates, 0600) the log at `path` for appending; a file or
    /// folder another user could change is refused, as a key file is.
    pub fn open(path: &Path) -> io::Result<AuditLog> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)?;
        if let Some(reason) = plugin_api::trust::distrust(path) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("refused, another user could change it: {reason}"),
            ));
        }
        Ok(AuditLog {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the line of `request` from `peer` answered with `response`
    /// (one `write`, so that lines of concurrent requests never interleave).
    pub fn record(&self, peer: Peer, request: &[u8], response: &Response) -> io::Result<()> {
        let answer = response.to_json_line();
        let answer = std::str::from_utf8(&answer)
            .ok()
            .and_then(|text| RawValue::from_string(text.trim_end().to_owned()).ok())
            .ok_or_else(|| io::Error::other("the response is not JSON"))?;
        let request = match std::str::from_utf8(request)
            .ok()
            .and_then(|text| serde_json::from_str::<&RawValue>(text).ok())
        {
            Some(json) => Payload::Json(json),
            None => Payload::Text(String::from_utf8_lossy(request).into_owned()),
        };
        let entry = Entry {
            time_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_millis() as u64),
            uid: peer.uid,
            pid: peer.pid,
            request,
            response: &answer,
        };
        let mut line = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write_all(&line)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use serde_json::Value;

    use super::*;
    use crate::protocol::{ErrorCode, RequestId};

    #[test]
    fn each_request_is_one_line_with_who_asked_and_what_came_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path).unwrap();
        let peer = Peer {
            uid: 990,
            pid: Some(4242),
        };
        let refused = Response::failure(
            Some(RequestId::Number(serde_json::Number::from(7))),
            ErrorCode::PolicyDenied,
            "over the notional cap",
        );
        log.record(peer, br#"{"id":7,"scheme":"x"}"#, &refused)
            .unwrap();
        log.record(peer, b"not json", &refused).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (lines[0]["uid"].clone(), lines[0]["pid"].clone()),
            (990.into(), 4242.into())
        );
        assert_eq!(lines[0]["request"]["scheme"], "x");
        assert_eq!(lines[0]["response"]["error"]["code"], "policy_denied");
        assert_eq!(lines[1]["request"], "not json");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );

        // Appended to, never truncated, when opened again.
        drop(log);
        AuditLog::open(&path)
            .unwrap()
            .record(peer, b"{}", &refused)
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }

    #[test]
    fn a_log_others_could_change_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let error = AuditLog::open(&path).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
    }
}
