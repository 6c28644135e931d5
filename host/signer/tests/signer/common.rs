//! Shared helpers: key files, the public vectors, a signer process on a socket
//! in a temporary directory, and a line-oriented client.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use connector_signer::protocol::{Response, Signed};
use hyperliquid_core::Signature;
use serde_json::{Map, Value};
use tempfile::TempDir;

/// The vectors' throwaway key (never funded).
pub const KEY: &str = "0x00e5fb7b0f747acef23ab43fcff0c82511dd041b249c8a5efa84c59beee988b2";
/// Its EIP-55 address.
pub const ADDRESS: &str = "0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE";

/// Milliseconds since the epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// The one answer of `connector-signer sign --allow-demo-keys --keyring
/// KEYRING`, with `arguments` after, to `request`.
pub fn sign_with_keyring(keyring: &Path, arguments: &[&str], request: &Value) -> Response {
    let mut child = binary()
        .args(["sign", "--allow-demo-keys", "--keyring"])
        .arg(keyring)
        .args(arguments)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{request}").unwrap();
    let output = child.wait_with_output().unwrap();
    serde_json::from_slice::<Response>(&output.stdout).unwrap()
}

/// The built `connector-signer` binary.
pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_connector-signer"))
}

/// The public vector file kept in hyperliquid-core.
pub fn vectors() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/hyperliquid-core/tests/fixtures/hyperliquid_signing_public.json");
    let text = fs::read_to_string(&path).expect("vector file");
    let file: Value = serde_json::from_str(&text).expect("vector JSON");
    file["vectors"].as_array().expect("vectors array").clone()
}

/// The vector with this name.
pub fn vector(name: &str) -> Value {
    vectors()
        .into_iter()
        .find(|vector| vector["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
}

/// The same JSON with the keys of every object in reverse order.
pub fn reversed_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .rev()
                .map(|(key, value)| (key.clone(), reversed_keys(value)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(reversed_keys).collect()),
        other => other.clone(),
    }
}

/// A signing request line (no newline) for an L1 vector, action keys reversed.
pub fn vector_request(vector: &Value, id: Value) -> String {
    let request = serde_json::json!({
        "id": id,
        "scheme": "hyperliquid-l1",
        "action": reversed_keys(&vector["action"]),
        "nonce": vector["nonce"],
        "vault_address": vector["vault_address"],
        "expires_after": vector["expires_after"],
        "network": if vector["is_mainnet"] == true { "mainnet" } else { "testnet" },
    });
    request.to_string()
}

/// A secp256k1 signature's `r ‖ s ‖ v` bytes as a typed signature.
pub fn signature(signed: &Signed) -> Signature {
    assert_eq!(signed.signature.len(), 65, "r ‖ s ‖ v");
    Signature {
        r: signed.signature[..32].try_into().unwrap(),
        s: signed.signature[32..64].try_into().unwrap(),
        v: signed.signature[64],
    }
}

/// The signature as the vectors write it: `{"r", "s", "v"}`.
pub fn signature_json(signed: &Signed) -> Value {
    serde_json::to_value(signature(signed)).unwrap()
}

/// Writes `content` to `dir/name` with `mode`.
pub fn write_file(dir: &Path, name: &str, content: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, content).expect("write file");
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

/// A `connector-signer serve` process on a socket in its own temporary directory.
pub struct Server {
    pub dir: TempDir,
    pub socket: PathBuf,
    child: Child,
}

impl Server {
    /// Starts the signer with the vectors' key and an optional policy, and waits
    /// until the socket accepts connections.
    pub fn start(policy: Option<&str>) -> Server {
        Server::start_in(tempfile::tempdir().expect("temp dir"), policy)
    }

    /// Like [`Server::start`], in a directory the caller prepared; the socket is
    /// `dir/signer.sock`.
    pub fn start_in(dir: TempDir, policy: Option<&str>) -> Server {
        Server::start_with(dir, policy, &[])
    }

    /// Like [`Server::start_in`], with more `serve` arguments.
    pub fn start_with(dir: TempDir, policy: Option<&str>, arguments: &[&str]) -> Server {
        let key = write_file(dir.path(), "key", &format!("{KEY}\n"), 0o600);
        let mut keys = vec!["--key-file".into(), key.into_os_string()];
        if let Some(policy) = policy {
            keys.push("--policy".into());
            keys.push(write_file(dir.path(), "policy.toml", policy, 0o600).into_os_string());
        }
        keys.extend(arguments.iter().map(Into::into));
        Server::serve(dir, &keys)
    }

    /// `connector-signer serve --allow-demo-keys` with `arguments` (which
    /// name the keys), on `dir/signer.sock`, once it listens.
    pub fn serve(dir: TempDir, arguments: &[std::ffi::OsString]) -> Server {
        let socket = dir.path().join("signer.sock");
        let mut command = binary();
        command
            .args(["serve", "--allow-demo-keys", "--socket"])
            .arg(&socket)
            .args(arguments);
        let log = fs::File::create(dir.path().join("stderr.log")).expect("log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn signer");
        let mut server = Server { dir, socket, child };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(&self.socket).is_err() {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("signer exited with {status}: {}", self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "signer never listened: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the signer logged so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// A new client connection.
    pub fn connect(&self) -> Client {
        Client::connect(&self.socket)
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "signer ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A line-oriented client connection.
pub struct Client {
    pub writer: UnixStream,
    pub reader: BufReader<UnixStream>,
}

impl Client {
    pub fn connect(path: &Path) -> Client {
        let stream = UnixStream::connect(path).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone stream"));
        Client {
            writer: stream,
            reader,
        }
    }

    /// Writes `line` and a newline.
    pub fn send(&mut self, line: &str) {
        self.writer.write_all(line.as_bytes()).expect("write");
        self.writer.write_all(b"\n").expect("write");
    }

    /// Reads one response line as JSON; `None` at end of stream.
    pub fn receive_value(&mut self) -> Option<Value> {
        let mut line = String::new();
        let read = self.reader.read_line(&mut line).expect("read response");
        (read > 0).then(|| serde_json::from_str(&line).expect("response is JSON"))
    }

    /// Reads one response line as a typed response.
    pub fn receive(&mut self) -> Response {
        serde_json::from_value(self.receive_value().expect("a response")).expect("response shape")
    }

    /// Sends one line and reads its response.
    pub fn call(&mut self, line: &str) -> Response {
        self.send(line);
        self.receive()
    }
}
