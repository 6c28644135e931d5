//! A `connector-host` process run from its binary against an emulator:
//! its files in a temporary folder, its command socket, its shutdown.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use hyperliquid_core::keccak256;
use serde_json::{Value, json};

use hl_emulator::{Config as EmulatorConfig, Emulator, EmulatorHandle, binance, bybit};
use rust_decimal::Decimal;

use super::orders::{KillOnDrop, key, quiet};
use super::{cdylib, copy_as};

/// Runs `connector-host <args…> <config>` to its end, failing the test if
/// it has not exited within `within`.
pub fn run_to_exit(
    args: &[&str],
    config: &std::path::Path,
    within: Duration,
) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(args)
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run connector-host");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > within {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "`connector-host {args:?}` did not exit by itself: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// Sends one command to a host; `None` when it does not answer.
fn command(endpoint: &str, request: Value) -> Option<Value> {
    let socket = zmq::Context::new().socket(zmq::REQ).ok()?;
    socket.set_rcvtimeo(2_000).ok()?;
    socket.set_linger(0).ok()?;
    socket.connect(endpoint).ok()?;
    socket.send(request.to_string().as_bytes(), 0).ok()?;
    serde_json::from_slice(&socket.recv_bytes(0).ok()?).ok()
}

/// A quiet emulator with the account of the host made from `seed` funded.
pub async fn funded_emulator(seed: &str) -> EmulatorHandle {
    let mut config = quiet();
    config.fund(key(seed).address(), Decimal::from(1_000_000));
    Emulator::start(config).await.expect("emulator")
}

/// An emulator funding `seed`'s key, with resting liquidity to fill
/// against (the emulators of Bybit and Binance have one by default) and no
/// takers or drift.
pub async fn liquid_emulator(seed: &str) -> EmulatorHandle {
    let mut config = quiet();
    config.liquidity = EmulatorConfig::default().liquidity;
    config.liquidity.taker_rate_per_sec = 0.0;
    config.liquidity.volatility_bps_per_sec = 0.0;
    config.fund(key(seed).address(), Decimal::from(1_000_000));
    Emulator::start(config).await.expect("emulator")
}

/// The files of one host: key (0600, from `seed`), plugin, and a config
/// with one Hyperliquid exchange `hl` trading BTC-USD at `api`. The host
/// spawns its signer itself.
pub struct HostFiles {
    /// Keeps the folder alive.
    pub dir: tempfile::TempDir,
    /// The config file.
    pub config_file: PathBuf,
    /// The event endpoint.
    pub events: String,
    /// The command endpoint.
    pub commands: String,
}

impl HostFiles {
    /// Writes the files; `exchange_keys` adds TOML keys to the exchange.
    pub fn new(seed: &str, api: &str, exchange_keys: &str) -> HostFiles {
        super::binary("connector-signer", "connector-signer");
        let dir = tempfile::tempdir().expect("temp dir");
        let key_file = dir.path().join("host.key");
        std::fs::write(&key_file, format!("{}\n", keccak256(seed.as_bytes()))).expect("key");
        std::fs::set_permissions(
            &key_file,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .expect("chmod");
        std::fs::create_dir_all(dir.path().join("plugins")).expect("plugins dir");
        copy_as(
            &cdylib("hyperliquid-plugin"),
            &dir.path().join("plugins"),
            "hyperliquid.so",
        );
        let events = format!("ipc://{}/events.sock", dir.path().display());
        let commands = format!("ipc://{}/commands.sock", dir.path().display());
        let account = key(seed).address();
        let config_file = dir.path().join("host.toml");
        std::fs::write(
            &config_file,
            format!(
                r#"
[host]
id = "test-host"
plugins_dir = "plugins"
state_dir = "state"
log_level = "warn"

[zmq]
publish = "{events}"
commands = "{commands}"

[signer]
socket = "signer.sock"
spawn_key_file = "host.key"

[[exchanges]]
name = "hl"
plugin = "hyperliquid"
request_timeout_ms = 1000
order_expiry_ms = 2000
stream_timeout_ms = 2000
{exchange_keys}

[exchanges.settings]
network = "local"
api_url = "{api}"
account = "{account}"

[[exchanges.markets]]
symbol = "BTC-USD"
"#
            ),
        )
        .expect("config");
        HostFiles {
            dir,
            config_file,
            events,
            commands,
        }
    }

    /// Waits until the host says order `id` is open.
    pub async fn until_open(&self, id: &Value) {
        super::orders::eventually("the order to be open", Duration::from_secs(10), || {
            self.command(json!({"cmd": "get_order", "client_order_id": id}))
                .is_some_and(|reply| reply["result"]["order_state"] == "OPEN")
        })
        .await;
    }

    /// Has the signer started with a keyring: the Hyperliquid key, and an
    /// HMAC-SHA256 key per `(name, keyring venue, api key, secret)`.
    pub fn use_keyring(&self, api_keys: &[(&str, &str, &str, &str)]) {
        let mut keyring =
            String::from("[[key]]\nname = \"hl\"\nvenue = \"hyperliquid\"\nfile = \"host.key\"\n");
        for (name, venue, api_key, secret) in api_keys {
            let file = self.dir.path().join(format!("{name}.secret"));
            std::fs::write(&file, format!("{secret}\n")).expect("secret");
            std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .expect("chmod");
            keyring.push_str(&format!(
                "\n[[key]]\nname = \"{name}\"\nvenue = \"{venue}\"\nalgorithm = \"hmac-sha256\"\napi_key = \"{api_key}\"\nfile = \"{name}.secret\"\n"
            ));
        }
        std::fs::write(self.dir.path().join("keyring.toml"), keyring).expect("keyring");
        let config = std::fs::read_to_string(&self.config_file).expect("config");
        let config = config.replacen(
            "spawn_key_file = \"host.key\"",
            "spawn_keyring = \"keyring.toml\"",
            1,
        );
        std::fs::write(&self.config_file, config).expect("config");
    }

    /// Copies the plugin of workspace package `package` into the host's
    /// plugins folder as `file`.
    pub fn add_plugin(&self, package: &str, file: &str) {
        copy_as(&cdylib(package), &self.dir.path().join("plugins"), file);
    }

    /// Adds `keys` to the config's `[zmq]` table.
    pub fn add_zmq_keys(&self, keys: &str) {
        let config = std::fs::read_to_string(&self.config_file).expect("config");
        let line = format!("commands = \"{}\"\n", self.commands);
        let config = config.replacen(&line, &format!("{line}{keys}\n"), 1);
        std::fs::write(&self.config_file, config).expect("config");
    }

    /// The journal of exchange `hl`.
    pub fn journal(&self) -> PathBuf {
        self.dir.path().join("state").join("hl.journal")
    }

    /// Replaces `from` with `to` in the config file, which must hold it.
    pub fn replace_in_config(&self, from: &str, to: &str) {
        let config = std::fs::read_to_string(&self.config_file).expect("config");
        assert!(config.contains(from), "the config has no {from:?}");
        std::fs::write(&self.config_file, config.replacen(from, to, 1)).expect("config");
    }

    /// Appends `text` to the config file.
    pub fn append_config(&self, text: &str) {
        let config = std::fs::read_to_string(&self.config_file).expect("config");
        std::fs::write(&self.config_file, config + text).expect("config");
    }

    /// Serves metrics on a free loopback port, which it returns.
    pub fn with_metrics(&self) -> u16 {
        let port = super::http::free_port();
        self.append_config(&format!("\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n"));
        port
    }

    /// Starts the host and waits until it answers commands.
    pub async fn start(&self) -> KillOnDrop {
        let host = self.spawn();
        let started = Instant::now();
        while self
            .command(json!({"cmd": "status"}))
            .is_none_or(|reply| reply["ok"] != true)
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the host did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        host
    }

    /// Starts the host without waiting for it.
    pub fn spawn(&self) -> KillOnDrop {
        KillOnDrop(
            Command::new(env!("CARGO_BIN_EXE_connector-host"))
                .args(["run", "--config"])
                .arg(&self.config_file)
                .env(
                    "RUST_LOG",
                    std::env::var("TEST_HOST_LOG").unwrap_or("error".into()),
                )
                .spawn()
                .expect("host"),
        )
    }

    /// Sends one command to the host.
    pub fn command(&self, request: Value) -> Option<Value> {
        command(&self.commands, request)
    }

    /// The open orders of `exchange` (all when `None`) the host placed as
    /// exits of entry `parent`.
    pub fn exits_of(&self, exchange: Option<&str>, parent: &str) -> Vec<Value> {
        let mut request = json!({"cmd": "open_orders"});
        if let Some(exchange) = exchange {
            request["exchange"] = json!(exchange);
        }
        self.command(request)
            .map(|reply| {
                reply["result"]["orders"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|order| order["parent_client_order_id"] == parent)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Places a limit buy through the command socket; returns its client
    /// order id (the test fails if the host refuses it).
    pub fn limit_buy(&self, pair: &str, price: &str, amount: &str) -> String {
        self.limit_buy_with(pair, price, amount, json!({}))
    }

    /// A limit buy of BTC-USD at `price` for 0.001 with a take-profit and
    /// a stop-loss (at market once fired); its client order id.
    pub fn limit_buy_with_exits(&self, price: &str, take_profit: &str, stop_loss: &str) -> String {
        let exits = json!({"take_profit": {"trigger_price": take_profit},
                           "stop_loss": {"trigger_price": stop_loss}});
        self.limit_buy_with("BTC-USD", price, "0.001", exits)
    }

    /// [`limit_buy`](HostFiles::limit_buy) with more of the command's
    /// fields.
    fn limit_buy_with(&self, pair: &str, price: &str, amount: &str, fields: Value) -> String {
        let mut request = json!({"cmd": "buy", "trading_pair": pair, "order_type": "LIMIT",
                                 "price": price, "amount": amount});
        if let (Value::Object(request), Value::Object(fields)) = (&mut request, fields) {
            request.extend(fields);
        }
        let reply = self.command(request).expect("reply");
        assert_eq!(reply["ok"], true, "{reply}");
        reply["result"]["client_order_id"]
            .as_str()
            .expect("client order id")
            .to_owned()
    }
}

/// An `[[exchanges]]` entry trading BTC-USDT with `plugin`: `keys` are the
/// exchange's own TOML keys, `settings` the plugin's.
pub fn api_exchange(name: &str, plugin: &str, keys: &str, settings: &str) -> String {
    format!(
        "\n[[exchanges]]\nname = \"{name}\"\nplugin = \"{plugin}\"\n{keys}\n\n[exchanges.settings]\n{settings}\n\n[[exchanges.markets]]\nsymbol = \"BTC-USDT\"\n"
    )
}

/// Bybit's and Binance's emulators beside a host process's Hyperliquid:
/// the host's HMAC keys (`by-key`, `bn-key`) funded on each and held by its
/// signer, for exchanges `by` and `bn`.
pub struct ApiVenues {
    /// Bybit's emulator.
    pub bybit: EmulatorHandle,
    /// Binance's emulator.
    pub binance: EmulatorHandle,
}

impl ApiVenues {
    /// Starts both emulators with `funds` USDT on the host's keys, and has
    /// `files`' signer start with the keys.
    pub async fn start(files: &HostFiles, funds: Decimal) -> ApiVenues {
        ApiVenues::start_with(files, funds, |_| {}).await
    }

    /// As [`ApiVenues::start`], with each emulator's default config changed
    /// by `adjust`.
    pub async fn start_with(
        files: &HostFiles,
        funds: Decimal,
        adjust: impl Fn(&mut EmulatorConfig),
    ) -> ApiVenues {
        let mut config = bybit::default_config();
        adjust(&mut config);
        let bybit = bybit::start(
            config,
            bybit::BybitOptions {
                keys: vec![(
                    bybit::ApiKey {
                        key: "by-key".into(),
                        secret: "by-secret".into(),
                    },
                    funds,
                )],
                ..bybit::BybitOptions::default()
            },
        )
        .await
        .expect("bybit emulator");
        let mut config = binance::default_config();
        adjust(&mut config);
        let binance = binance::start(
            config,
            binance::BinanceOptions {
                keys: vec![(
                    binance::ApiKey {
                        key: "bn-key".into(),
                        kind: binance::KeyKind::Hmac("bn-secret".into()),
                    },
                    funds,
                )],
                ..binance::BinanceOptions::default()
            },
        )
        .await
        .expect("binance emulator");
        files.use_keyring(&[
            ("by", "bybit", "by-key", "by-secret"),
            ("bn", "binance-usdm", "bn-key", "bn-secret"),
        ]);
        ApiVenues { bybit, binance }
    }

    /// Adds exchanges `by` and `bn` (their plugins and config entries,
    /// with no keys of their own) to `files`' host before it starts.
    pub fn configure(&self, files: &HostFiles) {
        self.add_plugins(files);
        files.append_config(&self.exchanges("", ""));
    }

    /// Copies both plugins into the host's folder.
    pub fn add_plugins(&self, files: &HostFiles) {
        files.add_plugin("bybit-plugin", "bybit.so");
        files.add_plugin("binance-plugin", "binance-usdm.so");
    }

    /// The config entries of exchanges `by` and `bn`, with their own TOML
    /// keys `by_keys` and `bn_keys`.
    pub fn exchanges(&self, by_keys: &str, bn_keys: &str) -> String {
        let bybit = format!(
            "api_url = \"{}\"\napi_key = \"by-key\"",
            self.bybit.base_url()
        );
        let binance = format!(
            "api_url = \"{}\"\nws_url = \"ws://{}\"\napi_key = \"bn-key\"",
            self.binance.base_url(),
            self.binance.addr()
        );
        api_exchange("by", "bybit", by_keys, &bybit)
            + &api_exchange("bn", "binance-usdm", bn_keys, &binance)
    }

    /// Each emulator with its exchange's name.
    pub fn named(&self) -> [(&'static str, &EmulatorHandle); 2] {
        [("by", &self.bybit), ("bn", &self.binance)]
    }

    /// Stops both.
    pub async fn shutdown(self) {
        self.bybit.shutdown().await;
        self.binance.shutdown().await;
    }
}
