//! Shared test support: an emulator per test, a keep-alive HTTP client,
//! throwaway signing keys, order builders and a WebSocket client.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hl_emulator::{Config, Emulator, EmulatorHandle};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use hyperliquid_core::{
    Action, Address, Cloid, ExchangeRequest, Grouping, LimitWire, Network, OrderAction, OrderType,
    OrderWire, PrivateKey, SigningContext, Tif, Tpsl, TriggerWire, keccak256, sign_digest,
    signing_digest,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

/// Asset ids of the default markets.
pub const BTC: u32 = 0;
pub const ETH: u32 = 1;
pub const PURR: u32 = 10_000;

/// A config with frozen prices, no synthetic liquidity and no synthetic
/// takers: books hold only the test's orders.
pub fn quiet_config() -> Config {
    quiet(Config::default())
}

/// `config` with frozen prices, no synthetic liquidity and no synthetic
/// takers.
pub fn quiet(mut config: Config) -> Config {
    config.liquidity.levels = 0;
    config.liquidity.taker_rate_per_sec = 0.0;
    config.liquidity.volatility_bps_per_sec = 0.0;
    config.block_ms = 20;
    config
}

pub fn d(text: &str) -> Decimal {
    text.parse().expect("decimal literal")
}

/// A running emulator and an HTTP client for it.
pub struct Env {
    pub emulator: EmulatorHandle,
    pub http: Http,
}

impl Env {
    pub async fn start(config: Config) -> Env {
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let http = Http::new(emulator.base_url());
        Env { emulator, http }
    }

    /// Starts a quiet emulator with `traders` funded with 1 000 000 USDC.
    pub async fn quiet(traders: &[&Trader]) -> Env {
        let mut config = quiet_config();
        for trader in traders {
            config.fund(trader.address(), Decimal::from(1_000_000));
        }
        Env::start(config).await
    }

    /// Signs and posts an action; returns the JSON answer.
    pub async fn act(&self, trader: &Trader, action: Action) -> Value {
        let body = trader.sign(action, trader.next_nonce(), None);
        self.http.exchange(&body).await
    }

    pub async fn info(&self, body: Value) -> Value {
        self.http.info(body).await
    }

    pub async fn ws(&self) -> Ws {
        Ws::connect(&self.emulator.ws_url()).await
    }
}

/// A keep-alive HTTP/1.1 client.
#[derive(Clone)]
pub struct Http {
    client: HyperClient<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Http {
    pub fn new(base: String) -> Http {
        Http {
            client: HyperClient::builder(TokioExecutor::new()).build_http(),
            base,
        }
    }

    /// Sends `body` (JSON content type) with extra `headers` to `path` (with
    /// any query); answers the status, the response headers and the body text.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: String,
    ) -> (u16, hyper::HeaderMap, String) {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request.body(Full::new(Bytes::from(body))).expect("request");
        let response = self.client.request(request).await.expect("HTTP response");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    pub async fn request(&self, method: &str, path: &str, body: String) -> (u16, String) {
        let (status, _, text) = self.send(method, path, &[], body).await;
        (status, text)
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, String) {
        self.request("POST", path, body.to_string()).await
    }

    pub async fn info(&self, body: Value) -> Value {
        let (status, text) = self.post("/info", &body).await;
        assert_eq!(status, 200, "info {body}: {text}");
        serde_json::from_str(&text).expect("info JSON")
    }

    pub async fn exchange(&self, request: &ExchangeRequest) -> Value {
        let (status, text) = self
            .request("POST", "/exchange", request.to_json().expect("body"))
            .await;
        assert_eq!(status, 200, "exchange: {text}");
        serde_json::from_str(&text).expect("exchange JSON")
    }

    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let (status, text) = self.post(path, &body).await;
        assert_eq!(status, 200, "{path}: {text}");
        serde_json::from_str(&text).expect("admin JSON")
    }
}

/// A throwaway key (keccak of a label) and its nonce counter.
pub struct Trader {
    pub key: PrivateKey,
    pub network: Network,
    nonce: AtomicU64,
}

impl Trader {
    pub fn new(label: &str) -> Trader {
        Trader::on(label, Network::Mainnet)
    }

    pub fn on(label: &str, network: Network) -> Trader {
        let key = PrivateKey::from_hex(&keccak256(label.as_bytes()).to_string()).expect("key");
        Trader {
            key,
            network,
            nonce: AtomicU64::new(hl_emulator::clock::now_ms()),
        }
    }

    pub fn address(&self) -> Address {
        self.key.address()
    }

    pub fn user(&self) -> String {
        self.address().to_string()
    }

    /// `max(now, last + 1)`.
    pub fn next_nonce(&self) -> u64 {
        let now = hl_emulator::clock::now_ms();
        let previous = self
            .nonce
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now.max(last + 1))
            })
            .expect("nonce update");
        now.max(previous + 1)
    }

    pub fn sign(&self, action: Action, nonce: u64, expires_after: Option<u64>) -> ExchangeRequest {
        let context = SigningContext {
            network: self.network,
            nonce,
            vault_address: None,
            expires_after,
        };
        let digest = signing_digest(&action, &context).expect("digest");
        ExchangeRequest::new(action, &context, sign_digest(&self.key, &digest))
    }
}

pub fn limit(asset: u32, is_buy: bool, px: &str, sz: &str, tif: Tif) -> OrderWire {
    OrderWire {
        asset,
        is_buy,
        price: px.parse().expect("px"),
        size: sz.parse().expect("sz"),
        reduce_only: false,
        order_type: OrderType::Limit(LimitWire { tif }),
        cloid: None,
    }
}

pub fn with_cloid(mut wire: OrderWire, n: u128) -> OrderWire {
    wire.cloid = Some(Cloid::from_u128(n));
    wire
}

pub fn trigger(
    asset: u32,
    is_buy: bool,
    trigger_px: &str,
    px: &str,
    sz: &str,
    tpsl: Tpsl,
) -> OrderWire {
    OrderWire {
        asset,
        is_buy,
        price: px.parse().expect("px"),
        size: sz.parse().expect("sz"),
        reduce_only: true,
        order_type: OrderType::Trigger(TriggerWire {
            is_market: true,
            trigger_px: trigger_px.parse().expect("trigger px"),
            tpsl,
        }),
        cloid: None,
    }
}

pub fn orders(wires: Vec<OrderWire>) -> Action {
    Action::Order(OrderAction {
        orders: wires,
        grouping: Grouping::Na,
        builder: None,
    })
}

/// The statuses of an ok order/cancel answer.
pub fn statuses(answer: &Value) -> Vec<Value> {
    assert_eq!(answer["status"], "ok", "{answer}");
    answer["response"]["data"]["statuses"]
        .as_array()
        .unwrap_or_else(|| panic!("no statuses in {answer}"))
        .clone()
}

pub fn resting_oid(status: &Value) -> u64 {
    status["resting"]["oid"]
        .as_u64()
        .unwrap_or_else(|| panic!("not resting: {status}"))
}

/// A WebSocket client that has read the greeting.
pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    /// A connection to any front end's WebSocket path.
    pub async fn open(url: &str) -> Ws {
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("ws connect");
        Ws { stream }
    }

    /// A Hyperliquid connection, its greeting read.
    pub async fn connect(url: &str) -> Ws {
        let mut ws = Ws::open(url).await;
        assert_eq!(
            ws.next_text(Duration::from_secs(5)).await.as_deref(),
            Some("Websocket connection established.")
        );
        ws
    }

    pub async fn send(&mut self, value: Value) {
        self.stream
            .send(Message::Text(value.to_string().into()))
            .await
            .expect("ws send");
    }

    pub async fn subscribe(&mut self, subscription: Value) {
        self.send(json!({ "method": "subscribe", "subscription": subscription }))
            .await;
        let ack = self
            .until(Duration::from_secs(5), |m| {
                m["channel"] == "subscriptionResponse"
            })
            .await
            .expect("subscription ack");
        assert_eq!(ack["data"]["subscription"], subscription);
    }

    /// The next text frame, `None` on timeout or close.
    pub async fn next_text(&mut self, wait: Duration) -> Option<String> {
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => return Some(text.to_string()),
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) | Err(_) => return None,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next text frame as JSON, `None` on timeout or close.
    pub async fn next_json(&mut self, wait: Duration) -> Option<Value> {
        let text = self.next_text(wait).await?;
        Some(serde_json::from_str(&text).expect("JSON frame"))
    }

    /// Whether the server closed the connection within `wait` (frames are discarded).
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The first JSON frame matching `accept`, skipping others.
    pub async fn until(
        &mut self,
        wait: Duration,
        accept: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let text = self.next_text(left).await?;
            if let Ok(value) = serde_json::from_str::<Value>(&text)
                && accept(&value)
            {
                return Some(value);
            }
        }
    }
}

impl Http {
    /// [`Http::exchange`] taking the request by value (handy in closures).
    pub async fn exchange_owned(&self, request: ExchangeRequest) -> Value {
        self.exchange(&request).await
    }
}

impl Ws {
    /// The first frame of each of `channels`, in the order given, reading
    /// whatever arrives in between.
    pub async fn collect(&mut self, wait: Duration, channels: &[&str]) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut found: Vec<Option<Value>> = vec![None; channels.len()];
        while found.iter().any(Option::is_none) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(text) = self.next_text(left).await else {
                panic!("missing channels {channels:?}, got {found:?}");
            };
            let Ok(value) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if let Some(slot) = channels.iter().position(|c| value["channel"] == *c)
                && found[slot].is_none()
            {
                found[slot] = Some(value);
            }
        }
        found.into_iter().flatten().collect()
    }
}
