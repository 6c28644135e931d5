//! An API-key venue (Bybit, Binance) through the host: its emulator with
//! the host's key funded, the real signer holding that key's secret in a
//! keyring, and a host trading one market through the venue's plugin. The
//! host is the same as for Hyperliquid; only the plugin knows the venue.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_host::app::{ExchangeRuntime, HostServices};
use connector_host::book::BookLevel;
use connector_host::config::{
    DeadManSwitchConfig, ExchangeConfig, MarketConfig, OrderTransport, RateLimitConfig,
};
use connector_host::order::{
    ClientIdGenerator, ClientOrderId, InFlightOrder, OrderState, OrderType,
};
use connector_host::plugins::PluginSet;
use connector_host::publisher::Publisher;
use connector_host::signer::SignerClient;
use connector_host::trading::Trading;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use hl_emulator::{EmulatorHandle, FaultSettings, binance, bybit};
use rust_decimal::Decimal;
use tokio::sync::watch;

use super::orders::{EventLog, KillOnDrop, eventually};
use super::{binary, buy_order, capture_logs, cdylib, copy_as, local_exchange};

/// The host's API key on the venue (public).
pub const API_KEY: &str = "host-key";
/// Its HMAC secret (where the key is HMAC), known to the emulator and the
/// signer only.
pub const SECRET: &str = "host-secret";

/// Which venue, and how the host reaches it.
pub struct Venue {
    /// The plugin's package (`bybit-plugin`).
    pub package: &'static str,
    /// The plugin's name in the host's config (`bybit`).
    pub plugin: &'static str,
    /// The venue's name in the signer's keyring (`bybit`, `binance-usdm`).
    pub keyring_venue: &'static str,
    /// The plugin's settings besides `api_key`: the emulator's URLs.
    pub settings: toml::Table,
    /// The market traded, in the host's symbols (`BTC-USDT`).
    pub market: &'static str,
    /// Its book's name in the host (the venue's symbol, `BTCUSDT`).
    pub book: &'static str,
    /// The key's secret as the signer's keyring holds it.
    pub secret: Secret,
}

/// A key's secret in the signer's keyring: its algorithm and its file.
pub struct Secret {
    /// The keyring's `algorithm` (`hmac-sha256`, `ed25519`).
    pub algorithm: &'static str,
    /// The key file's text.
    pub file: String,
}

impl Secret {
    /// The HMAC-SHA256 secret [`SECRET`].
    pub fn hmac() -> Secret {
        Secret {
            algorithm: "hmac-sha256",
            file: format!("{SECRET}\n"),
        }
    }
}

/// The signer with the one key, [`API_KEY`], from a keyring in `dir`.
fn start_signer(dir: &Path, venue: &str, secret: &Secret) -> (KillOnDrop, PathBuf) {
    let file = dir.join("venue.secret");
    std::fs::write(&file, &secret.file).expect("secret");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let keyring = dir.join("keyring.toml");
    std::fs::write(
        &keyring,
        format!(
            "[[key]]\nname = \"venue\"\nvenue = \"{venue}\"\nalgorithm = \"{}\"\napi_key = \"{API_KEY}\"\nfile = \"venue.secret\"\n",
            secret.algorithm
        ),
    )
    .expect("keyring");
    let socket = dir.join("signer.sock");
    let child = Command::new(binary("connector-signer", "connector-signer"))
        .env("RUST_LOG", "warn")
        .arg("serve")
        .args(["--allow-demo-keys", "--keyring"])
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

/// A host trading one market of a venue's emulator, with its signer.
pub struct VenueEnv {
    /// The venue's emulator.
    pub emulator: EmulatorHandle,
    /// The host's order path.
    pub trading: Trading,
    /// The signer's socket.
    pub signer_socket: PathBuf,
    /// The host's event endpoint.
    pub events: String,
    market: &'static str,
    book: &'static str,
    runtime: Option<ExchangeRuntime>,
    shutdown: watch::Sender<bool>,
    _signer: KillOnDrop,
    _dir: tempfile::TempDir,
}

impl VenueEnv {
    /// Starts the signer and a host (exchange `venue`) on `emulator`, whose
    /// account for [`API_KEY`] is funded; `adjust` changes the exchange's
    /// config (a scenario's needs).
    pub async fn start(
        emulator: EmulatorHandle,
        venue: Venue,
        adjust: impl FnOnce(&mut ExchangeConfig),
    ) -> VenueEnv {
        capture_logs();
        let dir = tempfile::tempdir().expect("temp dir");
        let (signer, socket) = start_signer(dir.path(), venue.keyring_venue, &venue.secret);
        let plugins_dir = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins_dir).expect("plugins dir");
        copy_as(
            &cdylib(venue.package),
            &plugins_dir,
            &format!("{}.so", venue.plugin),
        );
        let plugins = PluginSet::load_dir(&plugins_dir, Default::default()).expect("plugins");
        let endpoint = format!("ipc://{}/events.sock", dir.path().display());
        let (publisher, _thread) = Publisher::start(&endpoint, 1_024).expect("publisher");
        let services = HostServices {
            publisher,
            ids: Arc::new(ClientIdGenerator::new("venue-test")),
            signer: SignerClient::new(&socket, Duration::from_secs(2)),
            state_dir: dir.path().join("state"),
            journal: Default::default(),
            curve: None,
        };
        let mut settings = venue.settings;
        settings.insert("api_key".to_owned(), API_KEY.into());
        let mut config = ExchangeConfig {
            name: "venue".into(),
            plugin: venue.plugin.into(),
            settings,
            reconcile_interval_ms: 2_000,
            request_timeout_ms: 1_000,
            order_expiry_ms: 2_000,
            markets: vec![MarketConfig {
                symbol: venue.market.into(),
                limits: Default::default(),
            }],
            ..local_exchange(String::new(), String::new())
        };
        adjust(&mut config);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let runtime = ExchangeRuntime::start(&config, &plugins, &services, shutdown_rx)
            .await
            .expect("start")
            .expect("started");
        VenueEnv {
            emulator,
            trading: runtime.trading.clone(),
            signer_socket: socket,
            events: endpoint,
            market: venue.market,
            book: venue.book,
            runtime: Some(runtime),
            shutdown,
            _signer: signer,
            _dir: dir,
        }
    }

    /// The order `id` as the host tracks it.
    pub fn order(&self, id: ClientOrderId) -> InFlightOrder {
        self.trading.get(id).expect("the order is tracked")
    }

    /// Waits (10 s at most) until the order `id` passes `check`.
    pub async fn until(
        &self,
        id: ClientOrderId,
        what: &str,
        check: impl Fn(&InFlightOrder) -> bool,
    ) {
        eventually(what, Duration::from_secs(10), || {
            self.trading.get(id).is_some_and(|order| check(&order))
        })
        .await;
    }

    /// The host's best bid and ask of the market, once its book is synced.
    pub async fn top(&self) -> (Decimal, Decimal) {
        eventually("the book", Duration::from_secs(10), || {
            self.trading
                .market_data()
                .book(self.book)
                .is_some_and(|book| book.best_bid().is_some() && book.best_ask().is_some())
        })
        .await;
        let book = self.trading.market_data().book(self.book).expect("book");
        let price = |level: Option<BookLevel>| level.expect("a level").price;
        (price(book.best_bid()), price(book.best_ask()))
    }

    /// Whether the host's book of the market is synced and its top 20
    /// levels a side are the venue's (`/admin/state`'s) at this moment.
    pub fn book_is_the_venues(&self) -> bool {
        let Some(book) = self.trading.market_data().book(self.book) else {
            return false;
        };
        if book.status() != &connector_host::book::BookStatus::Synced {
            return false;
        }
        let truth = self.emulator.state()["books"][0]["book"]["levels"].clone();
        let (bids, asks) = book.depth(20);
        [bids, asks].iter().zip(0..).all(|(side, index)| {
            let theirs: Vec<(Decimal, Decimal)> = truth[index]
                .as_array()
                .into_iter()
                .flatten()
                .take(20)
                .map(|level| (super::decimal(&level["px"]), super::decimal(&level["sz"])))
                .collect();
            let ours: Vec<(Decimal, Decimal)> =
                side.iter().map(|level| (level.price, level.size)).collect();
            !ours.is_empty() && ours == theirs
        })
    }

    /// A limit buy of `amount` 3 % below the bid, submitted (or refused):
    /// its result and price.
    pub async fn buy_below(&self, amount: &str) -> (Result<ClientOrderId, String>, Decimal) {
        let (bid, _) = self.top().await;
        let price = (bid * d("0.97")).round_dp(1);
        let order = buy_order(self.market, &price.to_string(), amount, OrderType::Limit);
        let submitted = self.trading.submit(&order).map_err(|e| e.to_string());
        (submitted, price)
    }

    /// Waits until the host has order `id` cancelled.
    pub async fn until_cancelled(&self, id: ClientOrderId) {
        self.until(id, "the order cancelled", |o| {
            o.state == OrderState::Cancelled
        })
        .await;
    }

    /// Cancels order `id` and waits until it is.
    pub async fn cancel(&self, id: ClientOrderId) {
        self.trading.cancel(id).expect("cancel accepted");
        self.until_cancelled(id).await;
    }

    /// The emulator's ground truth of the host's account (the only one).
    pub fn truth(&self) -> serde_json::Value {
        self.emulator.state()["accounts"][0].clone()
    }

    /// Shuts the host down, then the emulator.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(runtime) = self.runtime.take() {
            runtime.join().await;
        }
        self.emulator.shutdown().await;
    }
}

/// Bybit's emulator with the host's HMAC key funded, and a host on it.
pub async fn bybit(adjust: impl FnOnce(&mut ExchangeConfig)) -> VenueEnv {
    bybit_with(&FaultSettings::default(), adjust).await
}

/// Bybit's emulator with the host's HMAC key funded and `faults` set, and
/// a host on it.
pub async fn bybit_with(
    faults: &FaultSettings,
    adjust: impl FnOnce(&mut ExchangeConfig),
) -> VenueEnv {
    bybit_venue(faults, bybit::BybitOptions::default(), adjust).await
}

/// Bybit's emulator with the host's HMAC key funded and taking
/// `per_second` requests a second per endpoint, and a host on it.
pub async fn bybit_limited(per_second: u32, adjust: impl FnOnce(&mut ExchangeConfig)) -> VenueEnv {
    let options = bybit::BybitOptions {
        rate_limit_per_sec: per_second,
        ..bybit::BybitOptions::default()
    };
    bybit_venue(&FaultSettings::default(), options, adjust).await
}

async fn bybit_venue(
    faults: &FaultSettings,
    options: bybit::BybitOptions,
    adjust: impl FnOnce(&mut ExchangeConfig),
) -> VenueEnv {
    let key = bybit::ApiKey {
        key: API_KEY.into(),
        secret: SECRET.into(),
    };
    let options = bybit::BybitOptions {
        keys: vec![(key, Decimal::from(100_000))],
        ..options
    };
    let emulator = bybit::start(bybit::default_config(), options)
        .await
        .expect("bybit emulator");
    emulator.set_faults(faults).expect("faults");
    let venue = bybit_plugin(&emulator);
    VenueEnv::start(emulator, venue, adjust).await
}

/// The Bybit plugin on `emulator`, trading BTC-USDT with the host's HMAC
/// key.
fn bybit_plugin(emulator: &EmulatorHandle) -> Venue {
    let settings = toml::Table::from_iter([("api_url".to_owned(), emulator.base_url().into())]);
    Venue {
        package: "bybit-plugin",
        plugin: "bybit",
        keyring_venue: "bybit",
        settings,
        market: "BTC-USDT",
        book: "BTCUSDT",
        secret: Secret::hmac(),
    }
}

/// A second Bybit account, trading with its own key: the other side of
/// the host's orders.
pub struct BybitAccount {
    http: reqwest::Client,
    url: String,
    key: &'static str,
    secret: &'static str,
}

/// The counterparty's key and HMAC secret on the Bybit emulator.
const COUNTERPARTY: (&str, &str) = ("counterparty-key", "counterparty-secret");

impl BybitAccount {
    /// `(key, secret)`'s account on `emulator`.
    pub fn new(emulator: &EmulatorHandle, (key, secret): (&'static str, &'static str)) -> Self {
        // reqwest is built without a default TLS provider (see the host).
        let _ = rustls::crypto::ring::default_provider().install_default();
        BybitAccount {
            http: reqwest::Client::new(),
            url: emulator.base_url(),
            key,
            secret,
        }
    }

    /// A signed `POST` of `body` to `path`; the answer's `result`.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let body = body.to_string();
        self.send(self.http.post(format!("{}{path}", self.url)), &body)
            .body(body)
            .send()
            .await
            .expect("bybit request")
            .json::<serde_json::Value>()
            .await
            .map(|answer| {
                assert_eq!(answer["retCode"], 0, "{path}: {answer}");
                answer["result"].clone()
            })
            .expect("bybit answer")
    }

    /// A signed `GET` of `path?query`; the answer's `result`.
    pub async fn get(&self, path: &str, query: &str) -> serde_json::Value {
        let request = self.http.get(format!("{}{path}?{query}", self.url));
        let answer: serde_json::Value = self
            .send(request, query)
            .send()
            .await
            .expect("bybit request")
            .json()
            .await
            .expect("bybit answer");
        assert_eq!(answer["retCode"], 0, "{path}: {answer}");
        answer["result"].clone()
    }

    fn send(&self, request: reqwest::RequestBuilder, payload: &str) -> reqwest::RequestBuilder {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis();
        let text = format!("{timestamp}{}5000{payload}", self.key);
        request
            .header("X-BAPI-API-KEY", self.key)
            .header("X-BAPI-TIMESTAMP", timestamp.to_string())
            .header("X-BAPI-RECV-WINDOW", "5000")
            .header(
                "X-BAPI-SIGN",
                hl_emulator::signing::hmac_sha256_hex(self.secret, text.as_bytes()),
            )
            .header("Content-Type", "application/json")
    }
}

/// Bybit's emulator, quiet (no synthetic takers, no drift), with the host's
/// key and a counterparty's funded, a host on it, and the counterparty's
/// and the host's own accounts to trade and read with.
pub async fn bybit_with_counterparty() -> (VenueEnv, BybitAccount, BybitAccount) {
    let funded = |(key, secret): (&str, &str)| {
        (
            bybit::ApiKey {
                key: key.into(),
                secret: secret.into(),
            },
            Decimal::from(100_000),
        )
    };
    let options = bybit::BybitOptions {
        keys: vec![funded((API_KEY, SECRET)), funded(COUNTERPARTY)],
        ..bybit::BybitOptions::default()
    };
    let mut config = bybit::default_config();
    config.liquidity.taker_rate_per_sec = 0.0;
    config.liquidity.volatility_bps_per_sec = 0.0;
    let emulator = bybit::start(config, options).await.expect("bybit emulator");
    let counterparty = BybitAccount::new(&emulator, COUNTERPARTY);
    let own = BybitAccount::new(&emulator, (API_KEY, SECRET));
    let venue = bybit_plugin(&emulator);
    let env = VenueEnv::start(emulator, venue, |_| {}).await;
    (env, counterparty, own)
}

/// The kinds of API key Binance takes.
pub enum BinanceKey {
    /// HMAC-SHA256 with [`SECRET`].
    Hmac,
    /// Ed25519 (a fixed test key).
    Ed25519,
}

/// Binance's emulator with the host's key funded and `faults` set, and a
/// host on it.
pub async fn binance(
    key: BinanceKey,
    faults: &FaultSettings,
    adjust: impl FnOnce(&mut ExchangeConfig),
) -> VenueEnv {
    // With an Ed25519 key the plugin checks every signature against the
    // key's public half (`signer_public_key`).
    let (kind, secret, public_pem) = match key {
        BinanceKey::Hmac => (binance::KeyKind::Hmac(SECRET.into()), Secret::hmac(), None),
        BinanceKey::Ed25519 => {
            let private = SigningKey::from_bytes(&[7; 32]);
            let pem = private.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8 PEM");
            let public = private
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .expect("public key PEM");
            let secret = Secret {
                algorithm: "ed25519",
                file: pem.to_string(),
            };
            let kind = binance::KeyKind::Ed25519(private.verifying_key());
            (kind, secret, Some(public))
        }
    };
    let key = binance::ApiKey {
        key: API_KEY.into(),
        kind,
    };
    let options = binance::BinanceOptions {
        keys: vec![(key, Decimal::from(100_000))],
        ..binance::BinanceOptions::default()
    };
    let emulator = binance::start(binance::default_config(), options)
        .await
        .expect("binance emulator");
    emulator.set_faults(faults).expect("faults");
    let mut settings = toml::Table::from_iter([
        ("api_url".to_owned(), emulator.base_url().into()),
        (
            "ws_url".to_owned(),
            format!("ws://{}", emulator.addr()).into(),
        ),
    ]);
    if let Some(public) = public_pem {
        settings.insert("signer_public_key".to_owned(), public.into());
    }
    let venue = Venue {
        package: "binance-plugin",
        plugin: "binance-usdm",
        keyring_venue: "binance-usdm",
        settings,
        market: "BTC-USDT",
        book: "BTCUSDT",
        secret,
    };
    VenueEnv::start(emulator, venue, adjust).await
}

/// A venue whose clock runs `ms` ahead of this machine's (negative: behind).
pub fn clock_offset(ms: i64) -> FaultSettings {
    FaultSettings {
        clock_offset_ms: Some(ms),
        ..FaultSettings::default()
    }
}

fn d(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// A limit order rests, is amended in place (price and size, the same
/// exchange id, as the venue's truth shows) and is cancelled.
pub async fn a_limit_order_rests_is_amended_in_place_and_cancelled(env: VenueEnv) {
    let (submitted, price) = env.buy_below("0.010").await;
    let id = submitted.expect("accepted");
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

    env.cancel(id).await;
    env.stop().await;
}

/// A market order fills; the fill, reported on the user stream and by every
/// refill, is counted once, as the venue's truth shows; the position
/// follows.
pub async fn a_market_order_fills_once_and_the_position_follows(env: VenueEnv) {
    let (_, ask) = env.top().await;
    let order = buy_order(env.market, &ask.to_string(), "0.010", OrderType::Market);
    let id = env.trading.submit(&order).expect("accepted");
    env.until(id, "the order filled", |o| o.state == OrderState::Filled)
        .await;
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
        let account = env.trading.account();
        account.position(env.book) == d("0.010") || account.position(env.market) == d("0.010")
    })
    .await;
    env.stop().await;
}

/// The venue applies an order but never answers, and its sockets say
/// nothing for a while: only a read (signed, on an API-key venue) can find
/// the order — by client id once the request's window has passed, or among
/// the open orders at the next reconciliation.
pub async fn an_order_whose_answer_is_lost_is_found_by_a_signed_read(env: VenueEnv) {
    env.top().await;
    env.emulator
        .set_faults(&FaultSettings {
            exchange_hang_next: Some(1),
            ws_silence_secs: Some(3),
            ..FaultSettings::default()
        })
        .expect("faults");
    let id = env.buy_below("0.010").await.0.expect("accepted");
    env.until(id, "the order found open", |o| {
        o.state == OrderState::Open && o.exchange_order_id.is_some()
    })
    .await;
    env.stop().await;
}

/// Places a limit buy 3 % below the bid and waits until it rests.
async fn rest_one(env: &VenueEnv) -> ClientOrderId {
    let id = env.buy_below("0.010").await.0.expect("accepted");
    env.until(id, "the order to rest", |o| o.state == OrderState::Open)
        .await;
    id
}

/// The venue's open orders, as its truth shows.
fn open_on_venue(env: &VenueEnv) -> usize {
    env.truth()["orders"].as_array().map_or(0, |orders| {
        orders.iter().filter(|o| o["status"] == "open").count()
    })
}

/// The kill switch cancels every order on the venue and refuses new ones
/// until released.
pub async fn the_kill_switch_cancels_on_the_venue_and_refuses_new_orders(env: VenueEnv) {
    let first = rest_one(&env).await;
    let second = rest_one(&env).await;
    let cancelled = env.trading.engage_kill_switch("drill");
    assert_eq!(cancelled.len(), 2, "{cancelled:?}");
    for id in [first, second] {
        env.until_cancelled(id).await;
    }
    assert_eq!(open_on_venue(&env), 0, "{}", env.truth());
    let refused = env.buy_below("0.010").await.0;
    assert!(refused.is_err(), "{refused:?}");
    env.trading.release_kill_switch();
    let again = rest_one(&env).await;
    assert_eq!(open_on_venue(&env), 1);
    env.cancel(again).await;
    env.stop().await;
}

/// A dead man's switch the venue fires 10 s after the host last refreshed
/// it (Bybit's DCP takes no less than 9 s); strategies must beat every
/// second.
pub fn lapsing_switch(config: &mut ExchangeConfig) {
    config.dead_man_switch = Some(DeadManSwitchConfig {
        cancel_after_ms: 10_000,
        heartbeat_timeout_ms: Some(1_000),
    });
}

/// With [`lapsing_switch`]: while strategies beat, the switch is refreshed
/// and the order rests; when they stop, the host stops refreshing and the
/// venue itself cancels the order, which the host learns from the venue.
pub async fn a_lapsed_dead_mans_switch_has_the_venue_cancel(env: VenueEnv) {
    env.trading.heartbeat();
    let id = rest_one(&env).await;
    for _ in 0..8 {
        env.trading.heartbeat();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(env.order(id).state, OrderState::Open);
    assert_eq!(open_on_venue(&env), 1);
    eventually(
        "the venue to cancel the order",
        Duration::from_secs(20),
        || open_on_venue(&env) == 0,
    )
    .await;
    env.until_cancelled(id).await;
    env.stop().await;
}

/// Limits of 0.015 a order and 0.02 of position on the market.
pub fn tight_limits(config: &mut ExchangeConfig) {
    for market in &mut config.markets {
        market.limits.max_order_size = Some(d("0.015"));
        market.limits.max_position = Some(d("0.02"));
    }
}

/// With [`tight_limits`]: an order over them is refused before the venue
/// sees it, one within them rests, and open buys count toward the
/// position limit.
pub async fn risk_limits_refuse_before_the_venue_sees_the_order(env: VenueEnv) {
    let too_big = env.buy_below("0.020").await.0;
    assert!(too_big.is_err(), "{too_big:?}");
    assert!(
        env.truth()["orders"]
            .as_array()
            .is_none_or(|orders| orders.is_empty()),
        "{}",
        env.truth()
    );
    let first = rest_one(&env).await;
    let over_position = env.buy_below("0.015").await.0;
    assert!(over_position.is_err(), "{over_position:?}");
    assert_eq!(open_on_venue(&env), 1);
    env.cancel(first).await;
    env.stop().await;
}

/// Orders, amends and cancels go over the venue's trading socket.
pub fn over_the_socket(config: &mut ExchangeConfig) {
    config.order_transport = OrderTransport::Websocket;
}

/// With REST order entry broken (every order-entry request answered 5xx
/// unapplied), places limit buys until one rests: the first opens the
/// trading socket and fails over REST; once the socket is authenticated,
/// orders take it.
async fn rest_over_the_socket(env: &VenueEnv) -> ClientOrderId {
    env.top().await;
    env.emulator
        .set_faults(&FaultSettings {
            exchange_5xx_next: Some(1_000_000),
            ..FaultSettings::default()
        })
        .expect("faults");
    for _ in 0..10 {
        let id = env.buy_below("0.010").await.0.expect("accepted");
        env.until(id, "the order to rest or fail", |o| {
            matches!(o.state, OrderState::Open | OrderState::Failed)
        })
        .await;
        if env.order(id).state == OrderState::Open {
            return id;
        }
    }
    panic!("no order rested over the trading socket");
}

/// With order entry over REST broken, an order rests, is amended in place
/// and is cancelled: every step went over the trading socket.
pub async fn order_entry_goes_over_the_trading_socket(env: VenueEnv) {
    let id = rest_over_the_socket(&env).await;
    let order = env.order(id);
    let new_price = order.spec.price - d("10");
    env.trading
        .modify(id, Some(new_price), Some(d("0.020")))
        .expect("modify accepted");
    env.until(id, "the amended order", |o| {
        o.spec.price == new_price && o.spec.amount == d("0.020") && o.state == OrderState::Open
    })
    .await;
    assert_eq!(env.order(id).exchange_order_id, order.exchange_order_id);
    env.cancel(id).await;
    assert_eq!(open_on_venue(&env), 0, "{}", env.truth());
    env.stop().await;
}

/// Order entry over the trading socket, at most `per_second` orders a
/// second (the venue's limit too), in the bucket `bucket`.
pub fn socket_orders_per_second(
    bucket: &'static str,
    per_second: u32,
) -> impl FnOnce(&mut ExchangeConfig) {
    move |config| {
        over_the_socket(config);
        config.rate_limits.insert(
            bucket.to_owned(),
            RateLimitConfig {
                capacity: per_second,
                window_ms: 1_000,
            },
        );
    }
}

/// Orders over the trading socket wait for rate-limit capacity as over
/// REST (two a second): six sent at once all rest — none refused by the
/// venue — the later ones after a wait the host published.
pub async fn orders_over_the_trading_socket_wait_for_capacity(env: VenueEnv, bucket: &str) {
    rest_over_the_socket(&env).await;
    let log = EventLog::start(&env.events);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ids: Vec<ClientOrderId> =
        futures_util::future::join_all((0..6).map(|_| env.buy_below("0.010")))
            .await
            .into_iter()
            .map(|(submitted, _)| submitted.expect("accepted"))
            .collect();
    for id in ids {
        env.until(id, "the order to rest", |o| o.state == OrderState::Open)
            .await;
    }
    let waited = log.all().iter().any(|(topic, body)| {
        topic == "host.status.throttle"
            && body["data"]["bucket"] == bucket
            && body["data"]["waited_ms"].as_u64() > Some(0)
    });
    assert!(waited, "no wait for `{bucket}`: {:?}", log.all());
    env.stop().await;
}

/// A request written on the trading socket, applied by the venue but not
/// answered before the socket dropped, is in doubt — and a status query
/// finds it.
pub async fn a_request_lost_with_the_trading_socket_is_settled_by_a_query(env: VenueEnv) {
    let first = rest_over_the_socket(&env).await;
    env.emulator
        .set_faults(&FaultSettings {
            exchange_hang_next: Some(1),
            ..FaultSettings::default()
        })
        .expect("faults");
    let id = env.buy_below("0.010").await.0.expect("accepted");
    eventually(
        "the venue to have the order",
        Duration::from_secs(10),
        || open_on_venue(&env) == 2,
    )
    .await;
    env.emulator
        .set_faults(&FaultSettings {
            ws_drop_now: true,
            ..FaultSettings::default()
        })
        .expect("faults");
    env.until(id, "the order found open", |o| {
        o.state == OrderState::Open && o.exchange_order_id.is_some()
    })
    .await;
    assert_eq!(env.order(first).state, OrderState::Open);
    env.stop().await;
}

/// Frames repeated and reordered on the venue's sockets for a while (book
/// snapshots among them, some arriving after later ones): once they stop,
/// the host's book is the venue's again — a late snapshot never leaves old
/// levels under the deltas that follow.
pub async fn books_converge_after_repeated_and_reordered_frames(env: VenueEnv) {
    eventually("the book in sync", Duration::from_secs(10), || {
        env.book_is_the_venues()
    })
    .await;
    env.emulator
        .set_faults(&FaultSettings {
            ws_duplicate_probability: Some(0.5),
            ws_reorder_probability: Some(0.5),
            ..FaultSettings::default()
        })
        .expect("faults");
    tokio::time::sleep(Duration::from_secs(4)).await;
    env.emulator
        .set_faults(&FaultSettings {
            reset: true,
            ..FaultSettings::default()
        })
        .expect("faults");
    eventually(
        "the book the venue's again",
        Duration::from_secs(20),
        || env.book_is_the_venues(),
    )
    .await;
    env.stop().await;
}
