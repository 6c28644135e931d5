//! Bybit through the host: the `bybit` plugin against the in-process Bybit
//! emulator, its requests signed by the real signer with an HMAC key from
//! a keyring. The host is the same as for Hyperliquid; only the plugin
//! knows Bybit.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::orders::{KillOnDrop, eventually};
use common::{binary, buy_order, cdylib, copy_as, local_exchange};
use connector_host::app::{ExchangeRuntime, HostServices};
use connector_host::config::MarketConfig;
use connector_host::order::{
    ClientIdGenerator, ClientOrderId, InFlightOrder, OrderState, OrderType,
};
use connector_host::plugins::PluginSet;
use connector_host::publisher::Publisher;
use connector_host::signer::SignerClient;
use connector_host::trading::Trading;
use hl_emulator::bybit::{self, ApiKey, BybitOptions};
use hl_emulator::{EmulatorHandle, FaultSettings};
use rust_decimal::Decimal;
use tokio::sync::watch;

const API_KEY: &str = "host-key";
const SECRET: &str = "host-secret";

fn d(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// The signer with one Bybit HMAC key, from a keyring in `dir`.
fn start_signer(dir: &Path) -> (KillOnDrop, std::path::PathBuf) {
    let secret = dir.join("bybit.secret");
    std::fs::write(&secret, format!("{SECRET}\n")).expect("secret");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let keyring = dir.join("keyring.toml");
    std::fs::write(
        &keyring,
        format!(
            "[[key]]\nname = \"bybit\"\nvenue = \"bybit\"\nalgorithm = \"hmac-sha256\"\napi_key = \"{API_KEY}\"\nfile = \"bybit.secret\"\n"
        ),
    )
    .expect("keyring");
    let socket = dir.join("signer.sock");
    let child = Command::new(binary("connector-signer", "connector-signer"))
        .env("RUST_LOG", "warn")
        .arg("serve")
        .arg("--keyring")
        .arg(&keyring)
        .arg("--socket")
        .arg(&socket)
        .spawn()
        .expect("signer");
    let started = Instant::now();
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the signer did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (KillOnDrop(child), socket)
}

/// A Bybit emulator with the host's key funded, a signer, and a host
/// trading BTC-USDT on it.
struct Env {
    emulator: EmulatorHandle,
    trading: Trading,
    runtime: Option<ExchangeRuntime>,
    shutdown: watch::Sender<bool>,
    _signer: KillOnDrop,
    _dir: tempfile::TempDir,
}

impl Env {
    async fn start() -> Env {
        common::capture_logs();
        let key = ApiKey {
            key: API_KEY.into(),
            secret: SECRET.into(),
        };
        let options = BybitOptions {
            keys: vec![(key, Decimal::from(100_000))],
            ..BybitOptions::default()
        };
        let emulator = bybit::start(bybit::default_config(), options)
            .await
            .expect("bybit emulator");
        let dir = tempfile::tempdir().expect("temp dir");
        let (signer, socket) = start_signer(dir.path());
        let plugins_dir = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins_dir).expect("plugins dir");
        copy_as(&cdylib("bybit-plugin"), &plugins_dir, "bybit.so");
        let plugins = PluginSet::load_dir(&plugins_dir).expect("plugins");
        let endpoint = format!("ipc://{}/events.sock", dir.path().display());
        let (publisher, _thread) = Publisher::start(&endpoint, 1_024).expect("publisher");
        let services = HostServices {
            publisher,
            ids: Arc::new(ClientIdGenerator::new("bybit-venue")),
            signer: SignerClient::new(&socket, Duration::from_secs(2)),
            state_dir: dir.path().join("state"),
        };
        let config = connector_host::config::ExchangeConfig {
            name: "by".into(),
            plugin: "bybit".into(),
            settings: toml::Table::from_iter([
                ("api_url".to_owned(), emulator.base_url().into()),
                ("api_key".to_owned(), API_KEY.into()),
            ]),
            reconcile_interval_ms: 2_000,
            request_timeout_ms: 1_000,
            order_expiry_ms: 2_000,
            markets: vec![MarketConfig {
                symbol: "BTC-USDT".into(),
                limits: Default::default(),
            }],
            ..local_exchange(String::new(), String::new())
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let runtime = ExchangeRuntime::start(&config, &plugins, &services, shutdown_rx)
            .await
            .expect("start")
            .expect("started");
        Env {
            emulator,
            trading: runtime.trading.clone(),
            runtime: Some(runtime),
            shutdown,
            _signer: signer,
            _dir: dir,
        }
    }

    fn order(&self, id: ClientOrderId) -> InFlightOrder {
        self.trading.get(id).expect("the order is tracked")
    }

    async fn until(&self, id: ClientOrderId, what: &str, check: impl Fn(&InFlightOrder) -> bool) {
        eventually(what, Duration::from_secs(10), || {
            self.trading.get(id).is_some_and(|order| check(&order))
        })
        .await;
    }

    /// The host's best bid and ask of BTCUSDT, once its book is synced.
    async fn top(&self) -> (Decimal, Decimal) {
        eventually("the BTCUSDT book", Duration::from_secs(10), || {
            self.trading
                .market_data()
                .book("BTCUSDT")
                .is_some_and(|book| book.best_bid().is_some() && book.best_ask().is_some())
        })
        .await;
        let book = self.trading.market_data().book("BTCUSDT").expect("book");
        let price = |level: Option<connector_host::book::BookLevel>| level.expect("a level").price;
        (price(book.best_bid()), price(book.best_ask()))
    }

    /// The emulator's ground truth of the host's account (the only one).
    fn truth(&self) -> serde_json::Value {
        self.emulator.state()["accounts"][0].clone()
    }

    async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(runtime) = self.runtime.take() {
            runtime.join().await;
        }
        self.emulator.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_order_rests_is_amended_in_place_and_cancelled() {
    let env = Env::start().await;
    let (bid, _) = env.top().await;
    let price = (bid * d("0.97")).round_dp(1);
    let id = env
        .trading
        .submit(&buy_order(
            "BTC-USDT",
            &price.to_string(),
            "0.010",
            OrderType::Limit,
        ))
        .expect("accepted");
    env.until(id, "the order to rest", |o| {
        o.state == OrderState::Open && o.exchange_order_id.is_some()
    })
    .await;
    let exchange_id = env.order(id).exchange_order_id;

    let new_price = price - d("10");
    env.trading
        .modify(id, Some(new_price), Some(d("0.020")))
        .expect("modify accepted");
    env.until(id, "the amended order", |o| {
        o.spec.price == new_price && o.spec.amount == d("0.020")
    })
    .await;
    // Amended in place: the same exchange id, still open on the venue.
    assert_eq!(env.order(id).exchange_order_id, exchange_id);
    env.trading.reconcile().await;
    assert_eq!(env.order(id).state, OrderState::Open);
    let truth = env.truth();
    let open: Vec<_> = truth["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .filter(|order| order["status"] == "open")
        .collect();
    assert_eq!(open.len(), 1, "{truth}");
    assert_eq!(d(open[0]["limitPx"].as_str().expect("price")), new_price);
    assert_eq!(d(open[0]["origSz"].as_str().expect("size")), d("0.020"));

    env.trading.cancel(id).expect("cancel accepted");
    env.until(id, "the order cancelled", |o| {
        o.state == OrderState::Cancelled
    })
    .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_market_order_fills_once_and_the_position_follows() {
    let env = Env::start().await;
    let (_, ask) = env.top().await;
    let id = env
        .trading
        .submit(&buy_order(
            "BTC-USDT",
            &ask.to_string(),
            "0.010",
            OrderType::Market,
        ))
        .expect("accepted");
    env.until(id, "the order filled", |o| o.state == OrderState::Filled)
        .await;
    // Reported on the execution topic and by every refill: counted once.
    env.trading.reconcile().await;
    let order = env.order(id);
    assert_eq!(order.filled_amount, d("0.010"));
    assert!(order.filled_notional > Decimal::ZERO);
    let truth = env.truth();
    let filled: Decimal = truth["fills"]
        .as_array()
        .expect("fills")
        .iter()
        .map(|fill| d(fill["sz"].as_str().expect("fill size")))
        .sum();
    assert_eq!(filled, order.filled_amount, "{truth}");
    eventually("the position", Duration::from_secs(10), || {
        env.trading.account().position("BTCUSDT") == d("0.010")
            || env.trading.account().position("BTC-USDT") == d("0.010")
    })
    .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_answer_is_lost_is_found_by_a_signed_query() {
    let env = Env::start().await;
    let (bid, _) = env.top().await;
    // The venue applies the next order but never answers, and its sockets
    // say nothing for a while: only a read (signed, on Bybit) can find the
    // order — by client id once the request's window has passed, or among
    // the open orders at the next reconciliation.
    env.emulator
        .set_faults(&FaultSettings {
            exchange_hang_next: Some(1),
            ws_silence_secs: Some(3),
            ..FaultSettings::default()
        })
        .expect("faults");
    let price = (bid * d("0.97")).round_dp(1);
    let id = env
        .trading
        .submit(&buy_order(
            "BTC-USDT",
            &price.to_string(),
            "0.010",
            OrderType::Limit,
        ))
        .expect("accepted");
    env.until(id, "the order found open", |o| {
        o.state == OrderState::Open && o.exchange_order_id.is_some()
    })
    .await;
    env.stop().await;
}
