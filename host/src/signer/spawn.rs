//! Starting the signer as a child process, when the configuration asks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::{Child, Command};

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
    /// It exited before its socket appeared.
    #[error("the signer exited before it was ready ({0})")]
    Exited(std::process::ExitStatus),
    /// Its socket did not appear in time.
    #[error("the signer's socket {0} did not appear within {READY_WITHIN:?}")]
    NotReady(PathBuf),
}

/// A signer child process; killed when dropped.
pub struct SignerProcess {
    child: Child,
    pid: u32,
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
    /// and starting is retried for a while.
    pub async fn start(
        binary: &Path,
        keys: SpawnKeys<'_>,
        socket: &Path,
    ) -> Result<SignerProcess, SpawnError> {
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        while tokio::net::UnixStream::connect(socket).await.is_ok()
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        loop {
            match Self::start_once(binary, keys, socket).await {
                Err(SpawnError::Exited(_)) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                result => return result,
            }
        }
    }

    async fn start_once(
        binary: &Path,
        keys: SpawnKeys<'_>,
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
            .kill_on_drop(true);
        keys.add_args(&mut command);
        let mut child = command.spawn().map_err(|source| SpawnError::Start {
            binary: binary.to_owned(),
            source,
        })?;
        let pid = child.id().ok_or_else(|| SpawnError::Start {
            binary: binary.to_owned(),
            source: std::io::Error::other("it has no process id"),
        })?;
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(SpawnError::Exited(status));
            }
            if tokio::net::UnixStream::connect(socket).await.is_ok() {
                return Ok(SignerProcess { child, pid });
            }
            if tokio::time::Instant::now() > deadline {
                return Err(SpawnError::NotReady(socket.to_owned()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
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
                status = self.child.wait() => on_exit(match status {
                    Ok(status) => format!("it exited ({status})"),
                    Err(error) => format!("it cannot be waited for: {error}"),
                }),
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
