//! Where the host's ZeroMQ sockets may be bound, and binding them so that
//! only the host's user reaches them.
//!
//! Without CURVE (`zmq.curve`) neither socket authenticates its peers, so
//! each is only as private as its endpoint: TCP on a loopback address
//! only, and `ipc://` in a folder of the host's user that no other user may
//! write, with the socket file 0600 whatever the umask (connecting needs
//! write permission on it). With CURVE, TCP may be bound on any interface:
//! only allow-listed keys get through the handshake (`crate::auth`). A live socket at the path (a second host configured
//! on it) is refused rather than taken over, a stale one left by a killed
//! host is replaced, and any other file there is left alone and refused.
//! Abstract `ipc://@` sockets have no permissions at all and are refused.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use plugin_api::socket_path::{ClaimError, claim};

use crate::private_files;

/// Why a socket could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// ZeroMQ refused.
    #[error(transparent)]
    Zmq(#[from] zmq::Error),
    /// The `ipc://` path is taken.
    #[error(transparent)]
    Taken(#[from] ClaimError),
    /// The `ipc://` folder is not the host user's alone, or cannot be made.
    #[error("{0}")]
    Folder(String),
}

/// Why `endpoint` may not be bound, as a sentence; `None` when it may.
/// `authenticated`: the socket takes CURVE clients only.
pub fn refusal(endpoint: &str, authenticated: bool) -> Option<String> {
    if let Some(address) = endpoint.strip_prefix("tcp://") {
        return tcp_refusal(address, authenticated);
    }
    if let Some(path) = endpoint.strip_prefix("ipc://") {
        return (path.starts_with('@') && !authenticated).then(|| {
            "an abstract socket (`ipc://@…`) has no permissions, so any local user could \
             connect; use a path"
                .to_owned()
        });
    }
    if endpoint.starts_with("inproc://") {
        return None;
    }
    Some(format!(
        "`{endpoint}` is not a ZeroMQ endpoint (tcp://, ipc:// or inproc://)"
    ))
}

fn tcp_refusal(address: &str, authenticated: bool) -> Option<String> {
    let Some((interface, port)) = address.rsplit_once(':') else {
        return Some(format!("`tcp://{address}` has no port"));
    };
    if port != "*" && port.parse::<u16>().is_err() {
        return Some(format!(
            "port `{port}` is not a number from 0 to 65535, or `*`"
        ));
    }
    let host = interface.trim_start_matches('[').trim_end_matches(']');
    let loopback = matches!(host, "localhost" | "lo")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    (!loopback && !authenticated).then(|| {
        format!(
            "`{interface}` is beyond loopback, and without zmq.curve the host does not \
             authenticate who connects: anyone who reaches it could trade or read the \
             account; configure [zmq.curve] (connector-host keygen), or bind 127.0.0.1 or \
             an ipc:// path"
        )
    })
}

/// Binds `socket` to `endpoint`, which [`refusal`] accepted. An `ipc://`
/// path's folder is made 0700 if missing and must otherwise be the host
/// user's and not writable by others; the path must be free or hold a
/// stale socket; the socket is made 0600.
pub fn bind(socket: &zmq::Socket, endpoint: &str) -> Result<(), BindError> {
    let Some(path) = endpoint.strip_prefix("ipc://").map(Path::new) else {
        return Ok(socket.bind(endpoint)?);
    };
    let folder = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    private_files::create_folder(folder).map_err(|error| {
        BindError::Folder(format!("cannot create {}: {error}", folder.display()))
    })?;
    if let Some(reason) = plugin_api::trust::distrust_folder(folder) {
        return Err(BindError::Folder(format!(
            "{reason}: another user could replace the socket"
        )));
    }
    claim(path)?;
    // The socket file is made with the umask's permissions; narrow them
    // for the bind, so that it is never open to others even for a moment.
    // SAFETY: `umask` has no preconditions and cannot fail.
    let previous = unsafe { libc::umask(0o077) };
    let bound = socket.bind(endpoint);
    // SAFETY: as above.
    unsafe { libc::umask(previous) };
    bound?;
    std::fs::set_permissions(
        path,
        std::fs::Permissions::from_mode(private_files::FILE_MODE),
    )
    .map_err(|error| {
        BindError::Folder(format!(
            "cannot set the mode of {}: {error}",
            path.display()
        ))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn loopback_tcp_ipc_paths_and_inproc_may_be_bound() {
        for endpoint in [
            "tcp://127.0.0.1:5556",
            "tcp://127.0.0.2:*",
            "tcp://[::1]:0",
            "tcp://localhost:5555",
            "tcp://lo:5555",
            "ipc:///run/connector-host/commands.sock",
            "inproc://events",
        ] {
            assert_eq!(refusal(endpoint, false), None, "{endpoint}");
        }
    }

    #[test]
    fn with_curve_any_interface_and_abstract_sockets_may_be_bound() {
        for endpoint in ["tcp://0.0.0.0:5556", "tcp://*:5556", "ipc://@host"] {
            assert_eq!(refusal(endpoint, true), None, "{endpoint}");
        }
        for endpoint in ["tcp://0.0.0.0:99999", "udp://127.0.0.1:5"] {
            assert!(refusal(endpoint, true).is_some(), "{endpoint}");
        }
    }

    #[test]
    fn other_interfaces_bad_ports_abstract_sockets_and_other_schemes_are_refused() {
        for (endpoint, reason) in [
            ("tcp://0.0.0.0:5556", "beyond loopback"),
            ("tcp://*:5556", "beyond loopback"),
            ("tcp://eth0:5556", "beyond loopback"),
            ("tcp://10.0.0.5:5556", "beyond loopback"),
            ("tcp://127.0.0.1:99999", "port `99999`"),
            ("tcp://127.0.0.1", "no port"),
            ("ipc://@host", "abstract socket"),
            ("udp://127.0.0.1:5", "not a ZeroMQ endpoint"),
        ] {
            let why = refusal(endpoint, false).unwrap_or_default();
            assert!(why.contains(reason), "{endpoint}: {why}");
        }
    }

    #[test]
    fn an_ipc_socket_is_private_and_a_second_one_on_its_path_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let endpoint = format!("ipc://{}/sockets/events.sock", dir.path().display());
        let context = zmq::Context::new();
        let first = context.socket(zmq::PUB).unwrap();
        // SAFETY: no preconditions; a permissive umask for this test.
        let previous = unsafe { libc::umask(0) };
        bind(&first, &endpoint).unwrap();
        // SAFETY: as above.
        unsafe { libc::umask(previous) };
        let path = dir.path().join("sockets/events.sock");
        assert_eq!(path.metadata().unwrap().mode() & 0o777, 0o600);
        assert_eq!(
            path.parent().unwrap().metadata().unwrap().mode() & 0o777,
            0o700
        );

        let second = context.socket(zmq::PUB).unwrap();
        let refused = bind(&second, &endpoint).unwrap_err();
        assert!(
            matches!(refused, BindError::Taken(ClaimError::InUse { .. })),
            "{refused}"
        );
        assert!(path.exists(), "the live socket is left in place");
    }

    #[test]
    fn an_ipc_folder_others_may_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let endpoint = format!("ipc://{}/events.sock", dir.path().display());
        let socket = zmq::Context::new().socket(zmq::PUB).unwrap();
        let refused = bind(&socket, &endpoint).unwrap_err().to_string();
        assert!(refused.contains("writable by every user"), "{refused}");
    }
}
