//! A host's order path against the emulator, for end-to-end tests: the
//! in-process emulator, the real signer binary, the host's exchange runtime
//! with short timeouts, a log of every published order event, and a
//! counterparty that trades against the host.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connector_host::app::{ExchangeRuntime, HostServices};
use connector_host::config::ExchangeConfig;
use connector_host::order::{ClientIdGenerator, ClientOrderId, InFlightOrder, OrderState};
use connector_host::plugins::PluginSet;
use connector_host::publisher::{Publisher, PublisherThread};
use connector_host::signer::SignerClient;
use connector_host::trading::Trading;
use hl_emulator::{Config as EmulatorConfig, Emulator, EmulatorHandle};
use hyperliquid_core::{
    Action, Address, ExchangeRequest, Grouping, LimitWire, Network as HlNetwork, OrderAction,
    OrderType, OrderWire, PrivateKey, SigningContext, Tif, keccak256, sign_digest, signing_digest,
};
use rust_decimal::Decimal;
use serde_json::Value;
use tokio::sync::watch;

use super::{binary, cdylib, copy_as};

/// A key made from a label (throwaway, for tests only).
pub fn key(label: &str) -> PrivateKey {
    PrivateKey::from_hex(&keccak256(label.as_bytes()).to_string()).expect("key")
}

/// Every `orders.*` event the host publishes, in order.
pub struct EventLog {
    events: Arc<Mutex<Vec<(String, Value)>>>,
    stop: Arc<AtomicBool>,
}

impl EventLog {
    pub fn start(endpoint: &str) -> EventLog {
        let events = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let socket = zmq::Context::new().socket(zmq::SUB).expect("sub");
        socket.connect(endpoint).expect("connect");
        socket.set_subscribe(b"orders.").expect("subscribe");
        socket.set_subscribe(b"host.status.").expect("subscribe");
        socket.set_rcvtimeo(50).expect("timeout");
        let (sink, stopped) = (Arc::clone(&events), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                if let Ok(parts) = socket.recv_multipart(0) {
                    let topic = String::from_utf8_lossy(&parts[0]).into_owned();
                    let body: Value = serde_json::from_slice(&parts[1]).expect("json body");
                    sink.lock().expect("log").push((topic, body));
                }
            }
        });
        EventLog { events, stop }
    }

    /// Every order and host-status event's (topic, body), in order.
    pub fn all(&self) -> Vec<(String, Value)> {
        self.events.lock().expect("log").clone()
    }

    /// The `data` of every `host.status.config` event.
    pub fn config_events(&self) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|(topic, _)| topic == "host.status.config")
            .map(|(_, body)| body["data"].clone())
            .collect()
    }

    /// Waits until a reload is refused with an error containing `needle`.
    pub async fn until_refused(&self, needle: &str) {
        eventually(
            &format!("a reload refused: {needle}"),
            Duration::from_secs(10),
            || {
                self.config_events().iter().any(|data| {
                    data["state"] == "refused"
                        && data["errors"].as_array().is_some_and(|errors| {
                            errors
                                .iter()
                                .any(|e| e.as_str().is_some_and(|e| e.contains(needle)))
                        })
                })
            },
        )
        .await;
    }

    /// `(last topic segment, order_state)` of every event about one order.
    pub fn of(&self, id: ClientOrderId) -> Vec<(String, String)> {
        self.events
            .lock()
            .expect("log")
            .iter()
            .filter(|(_, body)| body["data"]["client_order_id"] == id.to_string())
            .map(|(topic, body)| {
                (
                    topic.rsplit('.').next().unwrap_or_default().to_owned(),
                    body["data"]["order_state"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    }

    /// True once the host said the connection is up.
    pub fn connection_up(&self, connection: &str) -> bool {
        self.events
            .lock()
            .expect("log")
            .iter()
            .any(|(topic, body)| {
                topic == "host.status.connection"
                    && body["data"]["connection"] == connection
                    && body["data"]["state"] == "up"
            })
    }

    /// The bodies of every event about one order.
    pub fn bodies(&self, id: ClientOrderId) -> Vec<Value> {
        self.events
            .lock()
            .expect("log")
            .iter()
            .filter(|(_, body)| body["data"]["client_order_id"] == id.to_string())
            .map(|(_, body)| body.clone())
            .collect()
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Another account, trading against the host through the emulator.
pub struct Counterparty {
    key: PrivateKey,
    nonce: AtomicU64,
    base_url: String,
    /// One client for every order (a new one reads the system's root
    /// certificates, milliseconds of work).
    client: reqwest::Client,
}

impl Counterparty {
    /// A counterparty trading on the emulator at `base_url`.
    pub fn new(label: &str, base_url: String) -> Counterparty {
        // reqwest is built without a default TLS provider (see the host).
        let _ = rustls::crypto::ring::default_provider().install_default();
        Counterparty {
            key: key(label),
            nonce: AtomicU64::new(hl_emulator::clock::now_ms()),
            base_url,
            client: reqwest::Client::new(),
        }
    }

    /// The counterparty's address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// Sends one limit order; returns the emulator's answer.
    pub async fn order(&self, asset: u32, is_buy: bool, px: &str, sz: &str, tif: Tif) -> Value {
        self.try_order(asset, is_buy, px, sz, tif)
            .await
            .expect("an answer from the exchange")
    }

    /// Sends one limit order; `Err` when the exchange does not answer with
    /// JSON (a fault, under a soak).
    pub async fn try_order(
        &self,
        asset: u32,
        is_buy: bool,
        px: &str,
        sz: &str,
        tif: Tif,
    ) -> Result<Value, reqwest::Error> {
        let action = Action::Order(OrderAction {
            orders: vec![OrderWire {
                asset,
                is_buy,
                price: px.parse().expect("px"),
                size: sz.parse().expect("sz"),
                reduce_only: false,
                order_type: OrderType::Limit(LimitWire { tif }),
                cloid: None,
            }],
            grouping: Grouping::Na,
            builder: None,
        });
        let nonce = self.nonce.fetch_add(1, Ordering::SeqCst);
        let context = SigningContext::new(HlNetwork::Mainnet, nonce);
        let digest = signing_digest(&action, &context).expect("digest");
        let body = ExchangeRequest::new(action, &context, sign_digest(&self.key, &digest))
            .to_json()
            .expect("body");
        self.client
            .post(format!("{}/exchange", self.base_url))
            .header("content-type", "application/json")
            .body(body)
            .timeout(Duration::from_secs(5))
            .send()
            .await?
            .json()
            .await
    }
}

/// Everything a host needs, around one emulator.
pub struct OrderEnv {
    pub emulator: EmulatorHandle,
    pub trading: Trading,
    pub events: EventLog,
    pub counterparty: Counterparty,
    pub account: Address,
    /// The signer's socket.
    pub signer_socket: PathBuf,
    runtime: Option<ExchangeRuntime>,
    shutdown: watch::Sender<bool>,
    publisher: Option<(Publisher, PublisherThread)>,
    _signer: KillOnDrop,
    _dir: tempfile::TempDir,
}

/// A child process killed when the test ends, passed or not.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A quiet exchange: no synthetic liquidity or price moves, so only the
/// test's own orders trade.
pub fn quiet() -> EmulatorConfig {
    let mut config = EmulatorConfig::default();
    config.liquidity.levels = 0;
    config.liquidity.taker_rate_per_sec = 0.0;
    config.liquidity.volatility_bps_per_sec = 0.0;
    config.block_ms = 20;
    config
}

/// A [`quiet`] exchange where the accounts of `trader` (the host's key
/// label) and `counterparty` each hold 1,000,000 USDC, and the
/// counterparty that trades there.
pub async fn quiet_with_counterparty(
    trader: &str,
    counterparty: &str,
) -> (EmulatorHandle, Counterparty) {
    let mut config = quiet();
    for label in [trader, counterparty] {
        config.fund(key(label).address(), Decimal::from(1_000_000));
    }
    let emulator = Emulator::start(config).await.expect("emulator");
    let counterparty = Counterparty::new(counterparty, emulator.base_url());
    (emulator, counterparty)
}

fn start_signer(key_file: &Path, socket: &Path) -> Child {
    let child = Command::new(binary("connector-signer", "connector-signer"))
        .env("RUST_LOG", "warn")
        .arg("serve")
        .args(["--allow-demo-keys", "--key-file"])
        .arg(key_file)
        .arg("--socket")
        .arg(socket)
        .spawn()
        .expect("signer");
    let started = Instant::now();
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the signer did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

impl OrderEnv {
    /// An emulator (`emulator` adjusts its config), a signer for the host's
    /// key, and the host's exchange runtime with its user stream up.
    pub async fn start(emulator: EmulatorConfig) -> OrderEnv {
        OrderEnv::start_with(emulator, |exchange| exchange).await
    }

    /// [`OrderEnv::start`] with the exchange's config adjusted by `adjust`.
    pub async fn start_with(
        emulator: EmulatorConfig,
        adjust: impl FnOnce(ExchangeConfig) -> ExchangeConfig,
    ) -> OrderEnv {
        super::capture_logs();
        let host_key = key("host under test");
        let account = host_key.address();
        let mut emulator = emulator;
        emulator.fund(account, Decimal::from(1_000_000));
        emulator.fund(key("counterparty").address(), Decimal::from(1_000_000));
        let emulator = Emulator::start(emulator).await.expect("emulator");

        let dir = tempfile::tempdir().expect("temp dir");
        let key_file = dir.path().join("host.key");
        std::fs::write(&key_file, format!("{}\n", keccak256(b"host under test")))
            .expect("key file");
        std::fs::set_permissions(
            &key_file,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .expect("chmod");
        let socket = dir.path().join("signer.sock");
        let signer = start_signer(&key_file, &socket);

        let plugins_dir = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins_dir).expect("plugins dir");
        copy_as(
            &cdylib("hyperliquid-plugin"),
            &plugins_dir,
            "hyperliquid.so",
        );
        let plugins = PluginSet::load_dir(&plugins_dir, Default::default()).expect("plugins");
        let endpoint = format!("ipc://{}/events.sock", dir.path().display());
        let (publisher, thread) = Publisher::start(&endpoint, 65_536).expect("publisher");
        let events = EventLog::start(&endpoint);
        std::thread::sleep(Duration::from_millis(200));

        let services = HostServices {
            publisher: publisher.clone(),
            ids: Arc::new(ClientIdGenerator::new("orders-e2e")),
            signer: SignerClient::new(&socket, Duration::from_secs(2)),
            state_dir: dir.path().join("state"),
            journal: Default::default(),
            curve: None,
        };
        let config = adjust(ExchangeConfig {
            stream_timeout_ms: Some(2_000),
            request_timeout_ms: 1_000,
            order_expiry_ms: 2_000,
            market_slippage_percent: Some(Decimal::from(2)),
            ..super::local_exchange(emulator.base_url(), account.to_string())
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let runtime = ExchangeRuntime::start(&config, &plugins, &services, shutdown_rx)
            .await
            .expect("start")
            .expect("started");
        let trading = runtime.trading.clone();
        let env = OrderEnv {
            counterparty: Counterparty::new("counterparty", emulator.base_url()),
            emulator,
            trading,
            events,
            account,
            signer_socket: socket,
            runtime: Some(runtime),
            shutdown,
            publisher: Some((publisher, thread)),
            _signer: KillOnDrop(signer),
            _dir: dir,
        };
        eventually("the user stream", Duration::from_secs(10), || {
            env.events.connection_up("user")
        })
        .await;
        env
    }

    /// Stops the signer (the host's signatures then fail).
    pub fn kill_signer(&mut self) {
        let _ = self._signer.0.kill();
        let _ = self._signer.0.wait();
    }

    /// The order as the host tracks it.
    pub fn order(&self, id: ClientOrderId) -> InFlightOrder {
        self.trading.get(id).expect("tracked")
    }

    /// Waits until the order reaches `state`.
    pub async fn until_state(
        &self,
        id: ClientOrderId,
        state: OrderState,
        within: Duration,
    ) -> InFlightOrder {
        eventually(&format!("order {id} to become {state}"), within, || {
            self.trading.get(id).is_some_and(|o| o.state == state)
        })
        .await;
        self.order(id)
    }

    /// A limit buy of BTC-USD, once the exchange has it open.
    pub async fn resting_buy(&self, price: &str, amount: &str) -> ClientOrderId {
        let id = self
            .trading
            .submit(&super::buy_order(
                "BTC-USD",
                price,
                amount,
                connector_host::order::OrderType::Limit,
            ))
            .expect("a valid buy");
        self.until_state(id, OrderState::Open, Duration::from_secs(5))
            .await;
        id
    }

    /// The emulator's record of one of the host's orders.
    pub fn exchange_order(&self, id: ClientOrderId) -> Option<Value> {
        let state = self.emulator.account_state(self.account)?;
        state["orders"]
            .as_array()?
            .iter()
            .filter(|order| order["cloid"] == id.to_string())
            // A modify replaces the order under the same client id.
            .max_by_key(|order| order["oid"].as_u64())
            .cloned()
    }

    /// Stops everything.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(runtime) = self.runtime.take() {
            runtime.join().await;
        }
        if let Some((publisher, thread)) = self.publisher.take() {
            drop(publisher);
            thread.join();
        }
    }
}

/// Polls `check` until it holds, or fails the test after `within`.
pub async fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
