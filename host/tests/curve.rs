//! CURVE on the command and event sockets: only allow-listed keys get
//! through the handshake, each command is judged against its sender's role,
//! and a key removed by a reload stops at once.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::host_process::{HostFiles, funded_emulator};
use common::orders::eventually;
use connector_host::auth::keys::read_public;
use connector_host::auth::{ClientKeys, KeyPair};
use serde_json::{Value, json};

/// Makes `NAME.key` and `NAME.pub` in `dir` with `connector-host keygen`.
fn keygen(dir: &Path, name: &str) -> PathBuf {
    let stem = dir.join(name);
    let output = Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(["keygen", "--out"])
        .arg(&stem)
        .output()
        .expect("keygen");
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8_lossy(&output.stdout);
    let public = read_public(&stem.with_extension("pub")).expect("public key");
    assert!(printed.contains(&public.z85()), "{printed}");
    stem.with_extension("key")
}

/// A client of the host whose secret key file is `host_key`.
fn client(key_file: &Path, host_key: &Path) -> ClientKeys {
    ClientKeys {
        keys: std::sync::Arc::new(KeyPair::read(key_file).expect("client key")),
        server: read_public(host_key).expect("host key"),
    }
}

/// A command connection, with CURVE keys or without.
struct Connection(zmq::Socket);

impl Connection {
    fn open(endpoint: &str, keys: Option<&ClientKeys>) -> Connection {
        let socket = zmq::Context::new().socket(zmq::DEALER).expect("dealer");
        socket.set_linger(0).expect("linger");
        if let Some(keys) = keys {
            keys.secure(&socket).expect("curve");
        }
        socket.connect(endpoint).expect("connect");
        Connection(socket)
    }

    /// The reply to `request`, or `None` if none comes within `wait`.
    fn ask(&self, request: Value, wait: Duration) -> Option<Value> {
        self.0
            .set_rcvtimeo(wait.as_millis().try_into().expect("ms"))
            .expect("timeout");
        self.0
            .send_multipart([&b""[..], request.to_string().as_bytes()], 0)
            .expect("send");
        let frames = self.0.recv_multipart(0).ok()?;
        serde_json::from_slice(frames.last()?).ok()
    }
}

fn buy() -> Value {
    json!({"cmd": "buy", "trading_pair": "BTC-USD", "order_type": "LIMIT",
           "price": "90000", "amount": "0.001"})
}

fn error_code(reply: &Value) -> &str {
    reply["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_listed_keys_reach_the_host_and_each_only_as_far_as_its_role() {
    let seed = "curve clients";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let keys = files.config_file.parent().expect("dir").join("keys");
    std::fs::create_dir(&keys).expect("keys dir");
    let host_key = keygen(&keys, "host");
    let [reader, trader, admin] = ["reader", "trader", "admin"].map(|name| keygen(&keys, name));
    let clients = |names: &[&str]| {
        names
            .iter()
            .map(|name| {
                let role = match *name {
                    "reader" => "read",
                    "trader" => "trade",
                    _ => "admin",
                };
                format!(
                    "\n[[zmq.curve.clients]]\nname = \"{name}\"\nrole = \"{role}\"\n\
                     public_key_file = \"keys/{name}.pub\"\n"
                )
            })
            .collect::<String>()
    };
    let curve = "\n[zmq.curve]\nsecret_key_file = \"keys/host.key\"\n";
    files.append_config(&(curve.to_owned() + &clients(&["reader", "trader", "admin"])));

    let _host = files.spawn();
    let admin_connection = Connection::open(&files.commands, Some(&client(&admin, &host_key)));
    let started = Instant::now();
    while admin_connection
        .ask(json!({"cmd": "status"}), Duration::from_millis(500))
        .is_none_or(|reply| reply["ok"] != true)
    {
        assert!(started.elapsed() < Duration::from_secs(20), "no start");
    }

    // Without a key, or with one not listed: no answer, not even an error.
    let quiet = Duration::from_millis(1_500);
    assert_eq!(
        Connection::open(&files.commands, None).ask(json!({"cmd": "status"}), quiet),
        None
    );
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let stranger_keys = client(&keygen(elsewhere.path(), "stranger"), &host_key);
    assert_eq!(
        Connection::open(&files.commands, Some(&stranger_keys))
            .ask(json!({"cmd": "status"}), quiet),
        None
    );

    // Each role, as far as it goes.
    let wait = Duration::from_secs(10);
    let reading = Connection::open(&files.commands, Some(&client(&reader, &host_key)));
    let reply = reading.ask(json!({"cmd": "status"}), wait).expect("reply");
    assert_eq!(reply["ok"], true, "{reply}");
    let reply = reading.ask(buy(), wait).expect("reply");
    assert_eq!(error_code(&reply), "forbidden", "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("needs the `trade` role; client `reader` has `read`"),
        "{reply}"
    );
    let trading = Connection::open(&files.commands, Some(&client(&trader, &host_key)));
    let reply = trading.ask(buy(), wait).expect("reply");
    assert_eq!(reply["ok"], true, "{reply}");
    let reply = trading
        .ask(json!({"cmd": "kill_switch", "reason": "test"}), wait)
        .expect("reply");
    assert_eq!(error_code(&reply), "forbidden", "{reply}");
    let reply = admin_connection
        .ask(json!({"cmd": "kill_switch", "reason": "test"}), wait)
        .expect("reply");
    assert_eq!(reply["ok"], true, "{reply}");
    let reply = admin_connection
        .ask(json!({"cmd": "release_kill_switch"}), wait)
        .expect("reply");
    assert_eq!(reply["ok"], true, "{reply}");

    // Events: a listed key of any role subscribes; no key gets nothing.
    let subscribe = |keys: Option<&ClientKeys>| {
        let socket = zmq::Context::new().socket(zmq::SUB).expect("sub");
        if let Some(keys) = keys {
            keys.secure(&socket).expect("curve");
        }
        socket.connect(&files.events).expect("connect");
        socket.set_subscribe(b"").expect("subscribe");
        socket.set_rcvtimeo(200).expect("timeout");
        socket
    };
    let listed = subscribe(Some(&client(&reader, &host_key)));
    let unlisted = subscribe(None);
    let mut heard = (0, 0);
    let until = Instant::now() + Duration::from_secs(10);
    while heard.0 == 0 && Instant::now() < until {
        // Status events come every few seconds; an order brings more.
        let _ = trading.ask(buy(), wait);
        heard.0 += usize::from(listed.recv_multipart(0).is_ok());
        heard.1 += usize::from(unlisted.recv_multipart(0).is_ok());
    }
    assert!(heard.0 > 0, "the reader heard nothing");
    assert_eq!(heard.1, 0, "a subscriber without a key heard events");

    // The CLI connects with --client-key; the host's key comes from the config.
    let cli = |extra: &[&Path]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_connector-host"));
        command.arg("--config").arg(&files.config_file);
        if let Some(key) = extra.first() {
            command.arg("--client-key").arg(key);
        }
        command.args(["order", "status"]).output().expect("cli")
    };
    let output = cli(&[&trader]);
    assert!(output.status.success(), "{output:?}");
    let output = cli(&[]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--client-key"),
        "{output:?}"
    );

    // The Python client connects with the same key files.
    let script = r#"
import sys
from connector_host_client import Client, CurveKeys, NoReply, Subscriber, commands
endpoint, events, client_key, host_key = sys.argv[1:]
keys = CurveKeys.from_files(client_key, host_key)
with Client(endpoint, curve=keys, timeout=10) as host:
    host.call(commands.status())
    subscriber = Subscriber(events, host, topics=["host."], curve=keys)
    print("event", next(iter(subscriber)).topic)
try:
    with Client(endpoint, timeout=1.5) as host:
        host.call(commands.status())
    print("answered without a key")
except NoReply:
    print("no answer without a key")
"#;
    let output = Command::new(common::test_python())
        .arg("-c")
        .arg(script)
        .arg(&files.commands)
        .arg(&files.events)
        .arg(&reader)
        .arg(keys.join("host.pub"))
        .env(
            "PYTHONPATH",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("python"),
        )
        .output()
        .expect("python");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success()
            && said.contains("event host.")
            && said.contains("no answer without a key"),
        "{said}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // A reload that drops the trader stops it at once, on the connection it
    // already has, and a new one is not let in; its subscription ends (every
    // subscriber is disconnected, and only listed keys get back in).
    let trader_events = subscribe(Some(&client(&trader, &host_key)));
    let reader_events = subscribe(Some(&client(&reader, &host_key)));
    let hears = |socket: &zmq::Socket| {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            let _ = admin_connection.ask(buy(), wait);
            if socket.recv_multipart(0).is_ok() {
                return true;
            }
        }
        false
    };
    assert!(
        hears(&trader_events),
        "the trader heard nothing while listed"
    );
    files.replace_in_config(&clients(&["trader"]), "");
    let reply = admin_connection
        .ask(json!({"cmd": "reload"}), wait)
        .expect("reply");
    assert_eq!(reply["ok"], true, "{reply}");
    eventually("the trader to be refused", Duration::from_secs(10), || {
        trading
            .ask(json!({"cmd": "status"}), wait)
            .is_some_and(|reply| {
                error_code(&reply) == "forbidden"
                    && reply.to_string().contains("no longer in zmq.curve.clients")
            })
    })
    .await;
    assert_eq!(
        Connection::open(&files.commands, Some(&client(&trader, &host_key)))
            .ask(json!({"cmd": "status"}), quiet),
        None
    );
    // Once the reader hears events again (it reconnected), whatever the
    // trader had queued is drained; after that it hears nothing.
    assert!(hears(&reader_events), "the reader was not let back in");
    while trader_events.recv_multipart(0).is_ok() {}
    let _ = admin_connection.ask(buy(), wait);
    assert!(hears(&reader_events), "the reader hears events");
    assert!(
        trader_events.recv_multipart(0).is_err(),
        "a removed key still hears events"
    );
    emulator.shutdown().await;
}
