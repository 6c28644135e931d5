//! The host's client of the external signer.
//!
//! One Unix-socket connection carries many requests at once (pipelined):
//! each gets an id, callers wait for the response with that id. If the
//! signer goes away, every waiting request fails at once and the next
//! request reconnects. A request that fails for any reason was never
//! signed, so the order it belonged to was never sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use connector_signer::protocol::{RequestId, Response};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::oneshot;
use tracing::{error, warn};

/// Why a signature was not obtained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The signer could not be reached or the connection broke.
    #[error("signer unavailable at {socket}: {reason}")]
    Unavailable {
        /// The socket.
        socket: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// No answer within the timeout.
    #[error("signer did not answer within {0:?}")]
    Timeout(Duration),
    /// The signer refused (policy, malformed request).
    #[error("signer refused ({code}): {message}")]
    Refused {
        /// The signer's error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The plugin's payload is not a JSON object.
    #[error("signing payload is not a JSON object")]
    BadPayload,
}

/// A signature as raw bytes, as the scheme makes it (the plugin that asked
/// knows how to write it into its request).
pub type SignatureBytes = Vec<u8>;

type Waiter = oneshot::Sender<Result<SignatureBytes, SignError>>;

struct Connection {
    writer: OwnedWriteHalf,
    generation: u64,
}

struct Inner {
    socket: PathBuf,
    /// The only process it may sign through, when the host started it.
    pinned_pid: Option<u32>,
    timeout: Duration,
    next_id: AtomicU64,
    generation: AtomicU64,
    connection: tokio::sync::Mutex<Option<Connection>>,
    waiting: Mutex<HashMap<u64, Waiter>>,
}

/// A cheap-to-clone handle to the signer, asking for one key's signatures.
#[derive(Clone)]
pub struct SignerClient {
    inner: Arc<Inner>,
    /// The key requests name (JSON text, quotes included); none: the
    /// signer's only key for the scheme.
    key: Option<Arc<str>>,
}

impl SignerClient {
    /// A client for the signer at `socket`. Connects lazily, on the first
    /// request, so the host can start before the signer.
    pub fn new(socket: &Path, timeout: Duration) -> SignerClient {
        SignerClient::pinned(socket, timeout, None)
    }

    /// A client that talks only to process `pid` (a signer the host
    /// started): a connection served by any other process — one that took
    /// the socket path once the signer was gone — is refused before a
    /// request is written, as the kernel reports its peer (`SO_PEERCRED`).
    pub fn pinned(socket: &Path, timeout: Duration, pid: Option<u32>) -> SignerClient {
        SignerClient {
            inner: Arc::new(Inner {
                socket: socket.to_owned(),
                pinned_pid: pid,
                timeout,
                next_id: AtomicU64::new(1),
                generation: AtomicU64::new(0),
                connection: tokio::sync::Mutex::new(None),
                waiting: Mutex::new(HashMap::new()),
            }),
            key: None,
        }
    }

    /// The same connection, asking for the key named `key` (or, with
    /// `None`, the signer's only key for each request's scheme).
    pub fn with_key(&self, key: Option<&str>) -> SignerClient {
        SignerClient {
            inner: Arc::clone(&self.inner),
            key: key.map(|name| Arc::from(serde_json::Value::from(name).to_string())),
        }
    }

    /// Asks for a signature under `scheme` of the plugin's `payload` (a JSON
    /// object of the scheme's fields, sent as is).
    pub async fn sign(&self, scheme: &str, payload: &str) -> Result<SignatureBytes, SignError> {
        let fields = payload
            .trim()
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
            .ok_or(SignError::BadPayload)?
            .trim();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let scheme = serde_json::to_string(scheme).map_err(|_| SignError::BadPayload)?;
        let separator = if fields.is_empty() { "" } else { "," };
        let key = match &self.key {
            Some(key) => format!(",\"key\":{key}"),
            None => String::new(),
        };
        let line = format!("{{\"id\":{id}{key},\"scheme\":{scheme}{separator}{fields}}}\n");

        let asked = std::time::Instant::now();
        let (sender, receiver) = oneshot::channel();
        self.waiting().insert(id, sender);
        if let Err(error) = self.send(line.as_bytes()).await {
            self.waiting().remove(&id);
            return Err(error);
        }
        match tokio::time::timeout(self.inner.timeout, receiver).await {
            Ok(Ok(result)) => {
                crate::metrics::registry()
                    .signer_latency
                    .observe(asked.elapsed());
                result
            }
            Ok(Err(_)) => Err(self.unavailable("the connection closed")),
            Err(_) => {
                self.waiting().remove(&id);
                Err(SignError::Timeout(self.inner.timeout))
            }
        }
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Waiter>> {
        self.inner
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn unavailable(&self, reason: impl Into<String>) -> SignError {
        SignError::Unavailable {
            socket: self.inner.socket.clone(),
            reason: reason.into(),
        }
    }

    async fn send(&self, line: &[u8]) -> Result<(), SignError> {
        let mut slot = self.inner.connection.lock().await;
        if slot.is_none() {
            let stream = UnixStream::connect(&self.inner.socket)
                .await
                .map_err(|error| self.unavailable(error.to_string()))?;
            self.check_peer(&stream)?;
            let (reader, writer) = stream.into_split();
            let generation = self.inner.generation.fetch_add(1, Ordering::Relaxed) + 1;
            tokio::spawn(self.clone().read_responses(reader, generation));
            *slot = Some(Connection { writer, generation });
        }
        let Some(connection) = slot.as_mut() else {
            return Err(self.unavailable("no connection"));
        };
        if let Err(error) = connection.writer.write_all(line).await {
            *slot = None;
            return Err(self.unavailable(error.to_string()));
        }
        Ok(())
    }

    /// Refuses a connection served by another process than the pinned one.
    fn check_peer(&self, stream: &UnixStream) -> Result<(), SignError> {
        let Some(expected) = self.inner.pinned_pid else {
            return Ok(());
        };
        let peer = stream
            .peer_cred()
            .map_err(|error| self.unavailable(format!("cannot learn who serves it: {error}")))?;
        if peer.pid() == i32::try_from(expected).ok() {
            return Ok(());
        }
        let reason = format!(
            "it is served by pid {} (uid {}), not by the signer this host started (pid {expected}); \
             nothing is sent to it",
            peer.pid()
                .map_or_else(|| "?".to_owned(), |pid| pid.to_string()),
            peer.uid()
        );
        error!("signer socket {}: {reason}", self.inner.socket.display());
        Err(self.unavailable(reason))
    }

    /// Routes each response line to its waiter until the connection ends,
    /// then fails everything still waiting on it.
    async fn read_responses(self, reader: OwnedReadHalf, generation: u64) {
        let mut lines = BufReader::new(reader).lines();
        let reason = loop {
            match lines.next_line().await {
                Ok(Some(line)) => self.deliver(&line),
                Ok(None) => break "the signer closed the connection".to_owned(),
                Err(error) => break error.to_string(),
            }
        };
        let mut slot = self.inner.connection.lock().await;
        if slot.as_ref().is_some_and(|c| c.generation == generation) {
            *slot = None;
        }
        drop(slot);
        let stranded: Vec<Waiter> = self.waiting().drain().map(|(_, waiter)| waiter).collect();
        for waiter in stranded {
            let _ = waiter.send(Err(self.unavailable(reason.clone())));
        }
    }

    fn deliver(&self, line: &str) {
        let response: Response = match serde_json::from_str(line) {
            Ok(response) => response,
            Err(error) => {
                warn!("unreadable signer response ({error}): {line}");
                return;
            }
        };
        let Some(id) = response.id.as_ref().and_then(request_number) else {
            warn!("signer response without a request id: {line}");
            return;
        };
        let Some(waiter) = self.waiting().remove(&id) else {
            // Its caller already gave up (timeout).
            return;
        };
        let result = match response.result {
            Ok(signed) => Ok(signed.signature),
            Err(error) => Err(SignError::Refused {
                code: error.code.as_str().to_owned(),
                message: error.message,
            }),
        };
        let _ = waiter.send(result);
    }
}

fn request_number(id: &RequestId) -> Option<u64> {
    match id {
        RequestId::Number(number) => number.as_u64(),
        RequestId::Text(_) => None,
    }
}
