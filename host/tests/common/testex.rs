//! The `testex` venue served on loopback, and a host trading on it through
//! the `testex` fixture plugin (see the plugin's `wire` and `books`
//! modules for the protocol): orders over REST, books over a WebSocket at
//! `/ws` whose messages the test writes itself.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use connector_host::app::{ExchangeRuntime, HostServices};
use connector_host::book::OrderBook;
use connector_host::config::{ExchangeConfig, MarketConfig};
use connector_host::order::{ClientIdGenerator, ClientOrderId, OrderState};
use connector_host::plugins::PluginSet;
use connector_host::publisher::Publisher;
use connector_host::signer::SignerClient;
use connector_host::trading::Trading;
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

use super::orders::eventually;
use super::{cdylib, copy_as, local_exchange};

/// The venue's state: its orders by exchange id, its books' REST
/// snapshots, and what its market socket saw.
#[derive(Default)]
pub struct Book {
    next_id: u64,
    /// The orders, by exchange id.
    pub orders: HashMap<String, Value>,
    /// Status queries answered.
    pub queries: usize,
    /// Placements still to refuse with 429 (not processed).
    pub refuse_placements: usize,
    /// Every placement's nonce and signature headers, in order.
    pub placements: Vec<(String, String)>,
    /// Venue symbols listed besides `TEST`.
    pub markets: Vec<String>,
    /// The `GET /depth` answer per market (404 when absent).
    pub depth: HashMap<String, Value>,
    /// `GET /depth` requests answered, per market.
    pub depth_fetches: HashMap<String, usize>,
    /// Every frame the market and account sockets received, in order.
    pub received: Vec<Value>,
    /// How long a user-stream token is valid without a keep-alive, ms.
    pub token_valid_ms: u64,
    /// Tokens made, in order.
    pub tokens: Vec<String>,
    /// Tokens the venue still knows.
    pub live_tokens: HashSet<String>,
    /// The token of every keep-alive, in order.
    pub keepalives: Vec<String>,
    /// The token of every account socket opened, in order.
    pub user_sockets: Vec<String>,
    /// Hold back the answer to `auth` frames.
    pub hold_auth: bool,
    /// Open-order listings answered (the host's refills).
    pub listings: usize,
}

/// The venue: its state, and the frames to send on its sockets (`None`
/// closes them).
#[derive(Clone)]
pub struct Venue {
    state: Arc<Mutex<Book>>,
    market: broadcast::Sender<Option<String>>,
    user: broadcast::Sender<Option<String>>,
}

impl Default for Venue {
    fn default() -> Venue {
        let state = Book {
            token_valid_ms: 60_000,
            ..Book::default()
        };
        Venue {
            state: Arc::new(Mutex::new(state)),
            market: broadcast::channel(1_024).0,
            user: broadcast::channel(1_024).0,
        }
    }
}

impl Venue {
    /// Sends a message on every open market socket.
    pub fn send(&self, message: Value) {
        let _ = self.market.send(Some(message.to_string()));
    }

    /// Sends a message on every open account socket.
    pub fn send_user(&self, message: Value) {
        let _ = self.user.send(Some(message.to_string()));
    }

    /// Closes every open market socket.
    pub fn drop_sockets(&self) {
        let _ = self.market.send(None);
    }
}

/// The venue's state, locked.
pub fn lock(venue: &Venue) -> MutexGuard<'_, Book> {
    venue.state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn found(order: Option<&Value>) -> (StatusCode, Json<Value>) {
    match order {
        Some(order) => (StatusCode::OK, Json(order.clone())),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such order"})),
        ),
    }
}

fn is_open(order: &Value) -> bool {
    order["status"] == "open"
}

/// Serves the `testex` protocol on loopback; returns its base URL.
pub async fn serve(venue: Venue) -> String {
    let app = Router::new()
        .route(
            "/markets",
            get(|State(venue): State<Venue>| async move {
                let markets = lock(&venue).markets.clone();
                let listed = std::iter::once("TEST".to_owned())
                    .chain(markets)
                    .map(|symbol| json!({"symbol": symbol, "tick": "0.1", "step": "0.01"}));
                Json(Value::from_iter(listed))
            }),
        )
        .route(
            "/depth",
            get(
                |State(venue): State<Venue>, Query(query): Query<HashMap<String, String>>| async move {
                    let mut book = lock(&venue);
                    let market = query.get("market").cloned().unwrap_or_default();
                    *book.depth_fetches.entry(market.clone()).or_default() += 1;
                    match book.depth.get(&market) {
                        Some(depth) => (StatusCode::OK, Json(depth.clone())),
                        None => (StatusCode::NOT_FOUND, Json(json!({"error": "no book"}))),
                    }
                },
            ),
        )
        .route("/ws", get(socket))
        .route(
            "/token",
            post(|State(venue): State<Venue>| async move {
                let mut state = lock(&venue);
                let token = format!("t{}", state.tokens.len() + 1);
                state.tokens.push(token.clone());
                state.live_tokens.insert(token.clone());
                Json(json!({"token": token, "valid_ms": state.token_valid_ms}))
            })
            .put(
                |State(venue): State<Venue>, Query(query): Query<HashMap<String, String>>| async move {
                    let mut state = lock(&venue);
                    let token = query.get("token").cloned().unwrap_or_default();
                    state.keepalives.push(token.clone());
                    if state.live_tokens.contains(&token) {
                        (StatusCode::OK, Json(json!({})))
                    } else {
                        (StatusCode::NOT_FOUND, Json(json!({"error": "unknown token"})))
                    }
                },
            ),
        )
        .route(
            "/order",
            post(|State(venue): State<Venue>, headers: HeaderMap, Json(order): Json<Value>| async move {
                let mut book = lock(&venue);
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                book.placements
                    .push((header("x-testex-nonce"), header("x-testex-signature")));
                if book.refuse_placements > 0 {
                    book.refuse_placements -= 1;
                    return (
                        StatusCode::TOO_MANY_REQUESTS,
                        Json(json!({"error": "too many requests"})),
                    );
                }
                book.next_id += 1;
                let id = book.next_id.to_string();
                let mut order = order;
                order["id"] = json!(id);
                order["status"] = json!("open");
                book.orders.insert(id, order.clone());
                (StatusCode::OK, Json(order))
            }),
        )
        .route(
            "/amend",
            post(|State(venue): State<Venue>, Json(change): Json<Value>| async move {
                if change["size"].as_str().and_then(|s| s.parse::<f64>().ok()) > Some(100.0) {
                    return (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"error": "size above 100"})),
                    );
                }
                let mut book = lock(&venue);
                let order = change["id"]
                    .as_str()
                    .and_then(|id| book.orders.get_mut(id))
                    .filter(|order| is_open(order));
                found(order.map(|order| {
                    order["price"] = change["price"].clone();
                    order["size"] = change["size"].clone();
                    &*order
                }))
            }),
        )
        .route(
            "/cancel",
            post(|State(venue): State<Venue>, Json(target): Json<Value>| async move {
                let mut book = lock(&venue);
                let order = book
                    .orders
                    .values_mut()
                    .find(|order| order["cid"] == target["cid"] && is_open(order));
                found(order.map(|order| {
                    order["status"] = json!("cancelled");
                    &*order
                }))
            }),
        )
        .route(
            "/orders",
            get(|State(venue): State<Venue>| async move {
                let mut book = lock(&venue);
                book.listings += 1;
                Json(Value::from_iter(
                    book.orders.values().filter(|o| is_open(o)).cloned(),
                ))
            }),
        )
        .route(
            "/order",
            get(
                |State(venue): State<Venue>, Query(query): Query<HashMap<String, String>>| async move {
                    let mut book = lock(&venue);
                    book.queries += 1;
                    let cid = query.get("cid").map(String::as_str);
                    found(book.orders.values().find(|o| o["cid"].as_str() == cid))
                },
            ),
        )
        .route("/fills", get(|| async { Json(json!([])) }))
        .route("/account", get(|| async { Json(json!({})) }))
        .with_state(venue);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

/// `/ws`: the market socket, or with `?token=` the account socket (a
/// token the venue does not know is refused).
async fn socket(
    State(venue): State<Venue>,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let token = query.get("token").cloned();
    if let Some(token) = &token {
        let mut state = lock(&venue);
        if !state.live_tokens.contains(token) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        state.user_sockets.push(token.clone());
    }
    upgrade.on_upgrade(move |socket| serve_socket(venue, socket, token.is_some()))
}

/// Records what the socket receives and sends what the test writes, until
/// either side closes it; an account socket answers `auth` unless told to
/// hold back.
async fn serve_socket(venue: Venue, mut socket: WebSocket, account: bool) {
    let mut frames = if account {
        venue.user.subscribe()
    } else {
        venue.market.subscribe()
    };
    loop {
        tokio::select! {
            received = socket.recv() => match received {
                Some(Ok(Message::Text(text))) => {
                    let Ok(message) = serde_json::from_str::<Value>(text.as_str()) else {
                        continue;
                    };
                    let answer = {
                        let mut state = lock(&venue);
                        state.received.push(message.clone());
                        (message["op"] == "auth" && !state.hold_auth)
                            .then(|| json!({"op": "auth", "success": true}).to_string())
                    };
                    if let Some(answer) = answer
                        && socket.send(Message::Text(answer.into())).await.is_err()
                    {
                        break;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            frame = frames.recv() => match frame {
                Ok(Some(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Ok(None) | Err(_) => break,
            },
        }
    }
}

/// A host trading on the venue at `api`, refilling every second.
pub struct Host {
    /// The order path.
    pub trading: Trading,
    /// The running exchange.
    pub runtime: Option<ExchangeRuntime>,
    shutdown: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Host {
    /// With `signer`, the plugin signs its orders (account `signed`)
    /// through the signer at that socket. It trades `TEST-USD` and keeps
    /// the books of `markets` (venue symbols) besides.
    pub async fn start(api: String, signer: Option<std::path::PathBuf>, markets: &[&str]) -> Host {
        let dir = tempfile::tempdir().expect("temp dir");
        let plugins_dir = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins_dir).expect("plugins dir");
        copy_as(&cdylib("test-plugin"), &plugins_dir, "testex.so");
        let plugins = PluginSet::load_dir(&plugins_dir, Default::default()).expect("plugins");
        let endpoint = format!("ipc://{}/events.sock", dir.path().display());
        let (publisher, _thread) = Publisher::start(&endpoint, 1_024).expect("publisher");
        let services = HostServices {
            publisher,
            ids: Arc::new(ClientIdGenerator::new("amend-in-place")),
            // Unsigned testex needs no signer: none runs at this path.
            signer: SignerClient::new(
                &signer
                    .clone()
                    .unwrap_or_else(|| dir.path().join("no-signer.sock")),
                Duration::from_secs(1),
            ),
            state_dir: dir.path().join("state"),
            journal: Default::default(),
            curve: None,
        };
        let config = ExchangeConfig {
            name: "tx".into(),
            plugin: "testex".into(),
            reconcile_interval_ms: 1_000,
            markets: std::iter::once("TEST")
                .chain(markets.iter().copied())
                .map(|venue| MarketConfig {
                    symbol: format!("{venue}-USD"),
                    limits: Default::default(),
                })
                .collect(),
            ..local_exchange(
                api,
                if signer.is_some() {
                    "signed"
                } else {
                    "test-account"
                }
                .into(),
            )
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let runtime = ExchangeRuntime::start(&config, &plugins, &services, shutdown_rx)
            .await
            .expect("start")
            .expect("started");
        Host {
            trading: runtime.trading.clone(),
            runtime: Some(runtime),
            shutdown,
            _dir: dir,
        }
    }

    /// Waits until the order's state passes `check`.
    pub async fn until(&self, id: ClientOrderId, what: &str, check: impl Fn(&OrderState) -> bool) {
        eventually(what, Duration::from_secs(10), || {
            self.trading.get(id).is_some_and(|o| check(&o.state))
        })
        .await;
    }

    /// A copy of a market's book (by venue symbol) as the host keeps it.
    pub fn book(&self, venue: &str) -> Option<OrderBook> {
        self.runtime.as_ref()?.market_data.book(venue)
    }

    /// Stops the exchange and waits for its tasks.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(runtime) = self.runtime.take() {
            runtime.join().await;
        }
    }
}

/// A signer that signs anything: the signature is the request's nonce as
/// eight big-endian bytes. Returns every request it answered.
pub async fn scripted_signer(socket: std::path::PathBuf) -> Arc<Mutex<Vec<Value>>> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::UnixListener::bind(&socket).expect("signer socket");
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let (reader, mut writer) = stream.into_split();
                let mut lines = BufReader::new(reader).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let request: Value = serde_json::from_str(&line).expect("a JSON request");
                    let nonce = request["nonce"].as_u64().expect("a nonce");
                    let signature: String = nonce
                        .to_be_bytes()
                        .iter()
                        .map(|byte| format!("{byte:02x}"))
                        .collect();
                    let answer = json!({"id": request["id"], "ok": true,
                                        "signature": format!("0x{signature}"), "signer": "testex"});
                    log.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(request);
                    let line = format!("{answer}\n");
                    if writer.write_all(line.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    seen
}
