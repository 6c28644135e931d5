//! Starting the signer as a child process, when the configuration asks.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use connector_signer::protocol::{EXIT_SOCKET_IN_USE, FATAL_LINE_PREFIX};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};
use tokio::task::JoinHandle;

/// How long the signer may take to create its socket.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// Why the signer could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The binary could not be run.
    #[error("cannot start {binary}: {source}")]
    Start {
        /// The binary.
        binary: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It exited before its socket appeared; its last words say why.
    #[error("the signer exited before it was ready ({status}): {said}")]
    Exited {
        /// How it exited.
        status: std::process::ExitStatus,
        /// The last line it wrote on standard error.
        said: String,
    },
    /// Another process kept serving on the socket (a signer left by a
    /// host that was killed) for as long as the host waited.
    #[error("another process still serves on the signer's socket {0}")]
    SocketInUse(PathBuf),
    /// Its socket did not appear in time.
    #[error("the signer's socket {0} did not appear within {READY_WITHIN:?}")]
    NotReady(PathBuf),
}

/// A signer child process; killed when dropped.
pub struct SignerProcess {
    child: Child,
    pid: u32,
    last_words: Option<StderrRelay>,
}

/// A started signer watched for its exit: the host signs through it alone
/// (its client is pinned to this pid), so its exit stops order placement
/// until the host is restarted — it is never silently replaced.
pub struct SupervisedSigner {
    pid: u32,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    watcher: tokio::task::JoinHandle<()>,
}

impl SupervisedSigner {
    /// The signer's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Stops the signer and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.watcher.await;
    }
}

/// `connector-signer` next to this executable, or on the `PATH`.
pub fn signer_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("connector-signer")))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("connector-signer"))
}

/// The signer's standard error, copied line by line to the host's — except
/// the line saying why it stopped, which is kept for the host's own error,
/// so that it is written once, with the host's context.
struct StderrRelay {
    fatal: Arc<Mutex<String>>,
    task: JoinHandle<()>,
}

impl StderrRelay {
    /// Why the signer stopped, once its standard error is closed (or after
    /// a moment, should something else hold it open).
    async fn fatal_line(self) -> String {
        let _ = tokio::time::timeout(Duration::from_millis(500), self.task).await;
        let fatal = self.fatal.lock().unwrap_or_else(PoisonError::into_inner);
        if fatal.is_empty() {
            "it said nothing".to_owned()
        } else {
            fatal.clone()
        }
    }
}

fn relay_stderr(stderr: ChildStderr) -> StderrRelay {
    let fatal = Arc::new(Mutex::new(String::new()));
    let kept = Arc::clone(&fatal);
    let task = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            match line.strip_prefix(FATAL_LINE_PREFIX) {
                Some(why) => *kept.lock().unwrap_or_else(PoisonError::into_inner) = why.to_owned(),
                None => eprintln!("{line}"),
            }
        }
    });
    StderrRelay { fatal, task }
}

/// Where a spawned signer's keys come from.
#[derive(Debug, Clone, Copy)]
pub enum SpawnKeys<'a> {
    /// One key file (the signer's single-key mode), with an optional
    /// policy file.
    KeyFile {
        /// The key file.
        key_file: &'a Path,
        /// The policy file.
        policy: Option<&'a Path>,
    },
    /// A keyring of named keys, each with its policy.
    Keyring(&'a Path),
}

/// How the host starts its signer.
#[derive(Debug, Clone, Copy)]
pub struct SpawnSpec<'a> {
    /// Its keys.
    pub keys: SpawnKeys<'a>,
    /// Its audit log (`--audit-log`).
    pub audit_log: Option<&'a Path>,
    /// The file holding the passphrase of encrypted key files
    /// (`--passphrase-file`); the host never reads it.
    pub passphrase_file: Option<&'a Path>,
    /// Plain key files and published keys are taken (`--allow-demo-keys`):
    /// every exchange is on this machine.
    pub demo_keys: bool,
    /// The notional cap of every key whose policy sets none
    /// (`--default-max-order-notional`).
    pub default_max_order_notional: Option<rust_decimal::Decimal>,
    /// Where each exchange's key is valued at the mark when its policy
    /// names no source (`--default-mark-prices`).
    pub default_mark_prices: &'a [DefaultMarks],
}

/// Where the signer fetches the marks of the key an exchange signs with:
/// its venue's public REST API, as the exchange's plugin names it for its
/// settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultMarks {
    /// A signing scheme of the exchange (from its plugin's manifest).
    pub scheme: String,
    /// The key the exchange names (`signer_key`), if it names one.
    pub key: Option<String>,
    /// The venue's public REST base URL.
    pub url: String,
}

impl DefaultMarks {
    /// The argument of `--default-mark-prices`.
    fn arg(&self) -> String {
        match &self.key {
            Some(key) => format!("{}:{key}={}", self.scheme, self.url),
            None => format!("{}={}", self.scheme, self.url),
        }
    }
}

impl SpawnSpec<'_> {
    fn add_args(self, command: &mut Command) {
        self.keys.add_args(command);
        if let Some(audit_log) = self.audit_log {
            command.arg("--audit-log").arg(audit_log);
        }
        if let Some(passphrase_file) = self.passphrase_file {
            command.arg("--passphrase-file").arg(passphrase_file);
        }
        if self.demo_keys {
            command.arg("--allow-demo-keys");
        }
        if let Some(max) = self.default_max_order_notional {
            command
                .arg("--default-max-order-notional")
                .arg(max.to_string());
        }
        for marks in self.default_mark_prices {
            command.arg("--default-mark-prices").arg(marks.arg());
        }
    }
}

impl SpawnKeys<'_> {
    fn add_args(self, command: &mut Command) {
        match self {
            SpawnKeys::KeyFile { key_file, policy } => {
                command.arg("--key-file").arg(key_file);
                if let Some(policy) = policy {
                    command.arg("--policy").arg(policy);
                }
            }
            SpawnKeys::Keyring(keyring) => {
                command.arg("--keyring").arg(keyring);
            }
        }
    }
}

impl SignerProcess {
    /// Starts `connector-signer serve` and waits until it serves. A signer
    /// left by a host that was killed exits within a moment (it watches its
    /// parent); until then the new one cannot take the socket — and the
    /// old one would answer for it — so the socket is first waited for,
    /// and a start refused for that reason alone is retried for a while.
    /// Any other failure (a key file it cannot read, a policy it refuses)
    /// is returned at once with the signer's own message.
    pub async fn start(
        binary: &Path,
        spec: SpawnSpec<'_>,
        socket: &Path,
    ) -> Result<SignerProcess, SpawnError> {
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        while tokio::net::UnixStream::connect(socket).await.is_ok()
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        loop {
            match Self::start_once(binary, spec, socket).await {
                Err(SpawnError::SocketInUse(_)) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                result => return result,
            }
        }
    }

    async fn start_once(
        binary: &Path,
        spec: SpawnSpec<'_>,
        socket: &Path,
    ) -> Result<SignerProcess, SpawnError> {
        if let Some(folder) = socket.parent() {
            crate::private_files::create_folder(folder).map_err(|source| SpawnError::Start {
                binary: binary.to_owned(),
                source,
            })?;
        }
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .arg("--exit-with-parent")
            .arg("--socket")
            .arg(socket)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        spec.add_args(&mut command);
        let mut child = command.spawn().map_err(|source| SpawnError::Start {
            binary: binary.to_owned(),
            source,
        })?;
        let pid = child.id().ok_or_else(|| SpawnError::Start {
            binary: binary.to_owned(),
            source: std::io::Error::other("it has no process id"),
        })?;
        let mut last_words = child.stderr.take().map(relay_stderr);
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                if status.code() == Some(i32::from(EXIT_SOCKET_IN_USE)) {
                    return Err(SpawnError::SocketInUse(socket.to_owned()));
                }
                let said = match last_words.take() {
                    Some(relay) => relay.fatal_line().await,
                    None => String::new(),
                };
                return Err(SpawnError::Exited { status, said });
            }
            if tokio::net::UnixStream::connect(socket).await.is_ok() {
                return Ok(SignerProcess {
                    child,
                    pid,
                    last_words,
                });
            }
            if tokio::time::Instant::now() > deadline {
                return Err(SpawnError::NotReady(socket.to_owned()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The signer's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Stops the signer.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// Watches the signer from now on: `on_exit` is called with the reason
    /// if it ends before [`SupervisedSigner::stop`].
    pub fn supervise(mut self, on_exit: impl FnOnce(String) + Send + 'static) -> SupervisedSigner {
        let pid = self.pid;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let watcher = tokio::spawn(async move {
            tokio::select! {
                status = self.child.wait() => {
                    let said = match self.last_words.take() {
                        Some(relay) => relay.fatal_line().await,
                        None => String::new(),
                    };
                    on_exit(match status {
                        Ok(status) => format!("it exited ({status}): {said}"),
                        Err(error) => format!("it cannot be waited for: {error}"),
                    });
                }
                _ = stopped => {
                    let _ = self.child.kill().await;
                }
            }
        });
        SupervisedSigner {
            pid,
            stop: Some(stop),
            watcher,
        }
    }
}
