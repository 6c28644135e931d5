//! The Unix socket: bound owner-only (mode 0600) in a folder no other user
//! may write, newline-delimited JSON on many connections at once with many
//! requests in flight on each, removed on shutdown.
//!
//! Who may connect is checked twice: by the socket's permissions, and by the
//! peer's uid as the kernel reports it (`SO_PEERCRED`) against the allowed
//! uids, so that a socket an administrator opened to a group still serves
//! only the host's user. Connections are capped, and a request line once
//! begun must end within [`LINE_TIMEOUT`]. A connection idle between
//! requests stays open: it is the host's, and closing it would race the
//! host's next request and fail an order.

use std::future::Future;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener as StdUnixListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use plugin_api::socket_path::{ClaimError, claim};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Mutex, Semaphore};

use crate::audit::{AuditLog, Peer};
use crate::handler::Signer;
use crate::protocol::{ErrorCode, MAX_LINE_BYTES, Response};

/// Requests in flight (being signed or written) per connection; reading pauses
/// beyond that.
const MAX_IN_FLIGHT: usize = 256;
/// Pause after a failed `accept` (for instance out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// How long the rest of a request line may take once its first byte came.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections open at once unless configured otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u16 = 64;

/// Who may use the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The uids whose connections are served.
    pub allowed_uids: Vec<u32>,
    /// Connections open at once; more are closed as they come.
    pub max_connections: usize,
}

impl Access {
    /// The socket file's mode: 0600 while only this process's user is
    /// served; 0660 when another uid is allowed (it must reach the socket:
    /// run it in the signer's group — the uid check still decides who is
    /// served).
    pub fn socket_mode(&self) -> u32 {
        // SAFETY: `geteuid` has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if self.allowed_uids.iter().all(|uid| *uid == me) {
            0o600
        } else {
            0o660
        }
    }

    /// This process's own user only, and [`DEFAULT_MAX_CONNECTIONS`].
    pub fn own_user() -> Access {
        Access {
            // SAFETY: `geteuid` has no preconditions and cannot fail.
            allowed_uids: vec![unsafe { libc::geteuid() }],
            max_connections: usize::from(DEFAULT_MAX_CONNECTIONS),
        }
    }
}

/// Why the socket could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The path is taken: a live socket, or a file that is not a socket.
    #[error(transparent)]
    Taken(#[from] ClaimError),
    /// Another user could replace the socket.
    #[error("refusing to serve there: {0}")]
    UntrustedFolder(String),
    /// A file system or socket call failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// The socket file this process created; removed on drop if it is still the
/// same file.
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|meta| meta.dev() == self.dev && meta.ino() == self.ino);
        if ours && let Err(error) = std::fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), %error, "cannot remove the socket file");
        }
    }
}

/// A bound, listening signer socket.
#[derive(Debug)]
pub struct SignerSocket {
    listener: UnixListener,
    file: SocketFile,
}

impl SignerSocket {
    /// Binds `path` with `mode` (0600, or 0660 for a group:
    /// [`Access::socket_mode`]). Must be called inside a Tokio runtime.
    ///
    /// A stale socket at `path` is replaced; a live one (it accepts a connection)
    /// or anything that is not a socket is refused. The socket is bound inside a
    /// fresh mode-0700 directory next to `path`, set to `mode`, then renamed to
    /// `path`, so it is never reachable with wider permissions.
    pub fn bind(path: &Path, mode: u32) -> Result<Self, ServeError> {
        let io_error = |action, source| ServeError::Io {
            action,
            path: path.to_owned(),
            source,
        };
        claim(path)?;
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if let Some(reason) = plugin_api::trust::distrust_folder(parent) {
            return Err(ServeError::UntrustedFolder(format!(
                "{reason}: another user could replace the socket"
            )));
        }
        let staging = tempfile::Builder::new()
            .prefix(".sig")
            .rand_bytes(6)
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(parent)
            .map_err(|source| io_error("create a private directory next to", source))?;
        let staged = staging.path().join("s");
        let listener = StdUnixListener::bind(&staged).map_err(|source| io_error("bind", source))?;
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(mode))
            .map_err(|source| io_error("set the mode of", source))?;
        std::fs::rename(&staged, path).map_err(|source| io_error("move the socket to", source))?;
        let meta = std::fs::symlink_metadata(path).map_err(|source| io_error("inspect", source))?;
        let file = SocketFile {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
        };
        listener
            .set_nonblocking(true)
            .map_err(|source| io_error("configure", source))?;
        let listener =
            UnixListener::from_std(listener).map_err(|source| io_error("serve", source))?;
        Ok(Self { listener, file })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// Serves connections until `shutdown` completes, then removes the socket
    /// file. Connections still open are dropped with the runtime.
    pub async fn serve(
        self,
        signer: Arc<Signer>,
        access: Access,
        audit: Option<Arc<AuditLog>>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let open = Arc::new(Semaphore::new(access.max_connections));
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let Ok(slot) = Arc::clone(&open).try_acquire_owned() else {
                            tracing::warn!(
                                max = access.max_connections,
                                "connection closed: too many open"
                            );
                            continue;
                        };
                        match admit(&stream, &access) {
                            Ok(peer) => {
                                let signer = Arc::clone(&signer);
                                let audit = audit.clone();
                                tokio::spawn(async move {
                                    serve_connection(stream, signer, peer, audit).await;
                                    drop(slot);
                                });
                            }
                            Err(reason) => {
                                tracing::warn!("connection refused: {reason}");
                                tokio::spawn(refuse(stream, reason));
                            }
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
            }
        }
        tracing::info!(path = %self.path().display(), "shutting down; removing the socket");
    }
}

/// Who the peer of `stream` is, if it may use the signer: its uid, as the
/// kernel reports it, must be allowed.
fn admit(stream: &UnixStream, access: &Access) -> Result<Peer, String> {
    let peer = stream
        .peer_cred()
        .map_err(|error| format!("cannot learn who connected: {error}"))?;
    if access.allowed_uids.contains(&peer.uid()) {
        return Ok(Peer {
            uid: peer.uid(),
            pid: peer.pid(),
        });
    }
    Err(format!(
        "uid {} (pid {}) may not use this signer; allowed uids: {:?}",
        peer.uid(),
        peer.pid()
            .map_or_else(|| "?".to_owned(), |pid| pid.to_string()),
        access.allowed_uids
    ))
}

/// Tells a refused peer why, then closes the connection: its side first,
/// and what the peer sent meanwhile is read and dropped (up to 64 KiB, for
/// up to a second), since closing with it unread would reset the connection
/// before the peer reads why.
async fn refuse(mut stream: UnixStream, reason: String) {
    let refusal = Response::failure(None, ErrorCode::NotAllowed, reason).to_json_line();
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(&refusal).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            if stream.read(&mut sink).await? == 0 {
                break;
            }
        }
        Ok::<_, io::Error>(())
    })
    .await;
}

/// Completes when this process's parent ends (it is re-parented).
async fn parent_gone() {
    let parent = std::os::unix::process::parent_id();
    while std::os::unix::process::parent_id() == parent {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Binds `path` and serves until SIGINT or SIGTERM (or, with
/// `exit_with_parent`, until the parent process ends), then removes the
/// socket.
pub async fn run(
    path: &Path,
    signer: Arc<Signer>,
    access: &Access,
    audit: Option<AuditLog>,
    exit_with_parent: bool,
) -> Result<(), ServeError> {
    let signal_error = |source| ServeError::Io {
        action: "install signal handlers for",
        path: path.to_owned(),
        source,
    };
    // Installed before binding, so that a signal sent once the socket exists is
    // always handled.
    let mut terminate = signal(SignalKind::terminate()).map_err(signal_error)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(signal_error)?;
    let socket = SignerSocket::bind(path, access.socket_mode())?;
    for key in signer.keyring().keys() {
        tracing::info!(
            key = %key.name,
            venue = %key.venue,
            signer = %key.identity(),
            policy = %key.policy.summary(),
            "key"
        );
    }
    tracing::info!(
        socket = %socket.path().display(),
        allowed_uids = ?access.allowed_uids,
        max_connections = access.max_connections,
        "serving"
    );
    let shutdown = async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
            _ = parent_gone(), if exit_with_parent => {
                tracing::info!("the process that started the signer ended");
            }
        }
    };
    if let Some(audit) = &audit {
        tracing::info!(file = %audit.path().display(), "audit log");
    }
    socket
        .serve(signer, access.clone(), audit.map(Arc::new), shutdown)
        .await;
    Ok(())
}

/// One line read from a connection.
enum LineRead {
    /// A line, without its newline (the last line may lack one).
    Line,
    /// More than [`MAX_LINE_BYTES`] before a newline.
    TooLong,
    /// The peer closed its side.
    Eof,
}

async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
) -> io::Result<LineRead> {
    line.clear();
    // Waiting for the next request takes as long as it takes; once one has
    // begun, the rest must follow in time.
    if reader.fill_buf().await?.is_empty() {
        return Ok(LineRead::Eof);
    }
    let limit = MAX_LINE_BYTES as u64 + 1;
    let read = tokio::time::timeout(LINE_TIMEOUT, reader.take(limit).read_until(b'\n', line))
        .await
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("a request line unfinished after {LINE_TIMEOUT:?}"),
            )
        })??;
    if line.last() == Some(&b'\n') {
        line.pop();
        Ok(LineRead::Line)
    } else if read == 0 {
        Ok(LineRead::Eof)
    } else if read as u64 == limit {
        Ok(LineRead::TooLong)
    } else {
        Ok(LineRead::Line)
    }
}

/// Reads requests and answers each in its own task, which writes its response
/// as soon as it is ready (so responses come in completion order), once
/// the audit log, if any, has it.
async fn serve_connection(
    stream: UnixStream,
    signer: Arc<Signer>,
    peer: Peer,
    audit: Option<Arc<AuditLog>>,
) {
    tracing::debug!("connection opened");
    let (read, write) = stream.into_split();
    // Shared by the answering tasks; the write side closes once the last of
    // them is done.
    let writer = Arc::new(Mutex::new(write));
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        match read_line(&mut reader, &mut line).await {
            Ok(LineRead::Line) if line.trim_ascii().is_empty() => {}
            Ok(LineRead::Line) => {
                // The semaphore is never closed, so this only waits.
                let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
                    break;
                };
                let request = std::mem::take(&mut line);
                let signer = Arc::clone(&signer);
                let writer = Arc::clone(&writer);
                let audit = audit.clone();
                tokio::spawn(async move {
                    let response = audited(&signer, audit.as_deref(), peer, &request);
                    write_response(&writer, &response.to_json_line()).await;
                    drop(permit);
                });
            }
            Ok(LineRead::TooLong) => {
                tracing::info!("request line too long; closing the connection");
                let refusal = Response::failure(
                    None,
                    ErrorCode::BadRequest,
                    format!(
                        "request line longer than {MAX_LINE_BYTES} bytes; closing the connection"
                    ),
                );
                write_response(&writer, &refusal.to_json_line()).await;
                break;
            }
            Ok(LineRead::Eof) => break,
            Err(error) => {
                tracing::info!(%error, "read failed; closing the connection");
                break;
            }
        }
    }
    tracing::debug!("connection closed for reading");
}

/// Answers `request`; with an audit log, only once its line is written —
/// a request that cannot be recorded is refused (its signature, if any,
/// never leaves).
fn audited(signer: &Signer, audit: Option<&AuditLog>, peer: Peer, request: &[u8]) -> Response {
    let response = signer.handle_line(request);
    let Some(audit) = audit else {
        return response;
    };
    match audit.record(peer, request, &response) {
        Ok(()) => response,
        Err(error) => {
            tracing::error!(%error, file = %audit.path().display(), "audit log not written; request refused");
            Response::failure(
                response.id,
                ErrorCode::Internal,
                format!(
                    "the audit log could not record this request ({error}); nothing is signed unrecorded"
                ),
            )
        }
    }
}

/// Writes one response line; a peer that went away is only logged.
async fn write_response(writer: &Mutex<OwnedWriteHalf>, line: &[u8]) {
    if let Err(error) = writer.lock().await.write_all(line).await {
        tracing::debug!(%error, "write failed; response dropped");
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncWriteExt, BufReader};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_waits_but_a_begun_line_must_end_in_time() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut reader = BufReader::new(server);
        let mut line = Vec::new();
        let idle = tokio::time::timeout(
            Duration::from_secs(3_600),
            read_line(&mut reader, &mut line),
        )
        .await;
        assert!(idle.is_err(), "an hour idle is not an error");

        client.write_all(b"{\"id\":1").await.unwrap();
        let error = read_line(&mut reader, &mut line)
            .await
            .err()
            .expect("an unfinished line times out");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }
}
