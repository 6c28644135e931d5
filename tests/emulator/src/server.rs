//! The HTTP server: `POST /info`, `POST /exchange`, the WebSocket at `/ws` and
//! the admin API on one loopback port; the block loop; start and shutdown.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyperliquid_core::{ExchangeRequest, Network};
use serde_json::Value;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::config::{Config, ConfigError};
use crate::engine::Engine;
use crate::exchange;
use crate::faults::{Delivery, FaultSettings, Faults, HttpFault};
use crate::feed::Feed;
use crate::venue::VenueIds;
use crate::{admin, clock, info, ws};

/// State shared by every connection and the block loop.
#[derive(Debug)]
pub(crate) struct Shared {
    engine: Mutex<Engine>,
    pub(crate) faults: Faults,
    pub(crate) feed: Feed,
    pub(crate) network: Network,
    pub(crate) ws_idle_timeout: Duration,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// When each order-entry request arrived, for whoever measures it.
    pub(crate) arrivals: broadcast::Sender<Instant>,
    /// The orders of an API-key front end (Bybit, Binance) over the core's.
    venue_ids: Mutex<VenueIds>,
}

impl Shared {
    /// The engine, locked (a panic elsewhere does not make it unusable).
    pub(crate) fn engine(&self) -> MutexGuard<'_, Engine> {
        self.engine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The engine and the front end's order table, locked in that order.
    pub(crate) fn venue(&self) -> (MutexGuard<'_, Engine>, MutexGuard<'_, VenueIds>) {
        let engine = self.engine();
        let ids = self
            .venue_ids
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (engine, ids)
    }

    /// Authenticates and applies one action; the signature is recovered
    /// before the engine is locked.
    pub(crate) fn run_action(&self, request: ExchangeRequest) -> Value {
        let prepared = exchange::prepare(request, self.network);
        let post_only = self.faults.post_only_window();
        let now = clock::now_ms();
        exchange::apply(&mut self.engine(), prepared, now, post_only)
    }

    /// Answers one `/info` body.
    pub(crate) fn run_info(&self, request: &Value) -> Result<Value, info::InfoError> {
        let now = clock::now_ms();
        info::answer(&self.engine(), request, now)
    }

    /// Runs one HTTP request of any front end under the core's HTTP faults:
    /// order entry (`entry`) is announced to whoever measures arrivals and
    /// draws the order-entry faults, other requests the plain HTTP ones. A
    /// fault answers instead of `apply`, before it runs or (5xx after apply)
    /// after; order entry then waits as the delivery fault says. `apply`'s
    /// own `Err` answers at once.
    pub(crate) async fn serve_http<T>(
        &self,
        entry: bool,
        apply: impl FnOnce() -> Result<T, Box<Response>>,
        render: impl Fn(HttpFault) -> Response,
    ) -> Result<T, Box<Response>> {
        if entry && self.arrivals.receiver_count() > 0 {
            let _ = self.arrivals.send(Instant::now());
        }
        let fault = if entry {
            self.faults.exchange_request()
        } else {
            self.faults.http_request()
        };
        match fault {
            Some(HttpFault::ServerError {
                after_apply: true, ..
            })
            | None => {}
            Some(early) => return Err(Box::new(render(early))),
        }
        let outcome = apply()?;
        if let Some(late) = fault {
            return Err(Box::new(render(late)));
        }
        if entry && !self.wait_for_delivery(self.faults.action_delivery()).await {
            return Err(Box::new(text_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting down",
            )));
        }
        Ok(outcome)
    }

    /// Waits as a delivery fault says; false when the answer must never be sent.
    pub(crate) async fn wait_for_delivery(&self, delivery: Delivery) -> bool {
        match delivery {
            Delivery::Now => true,
            Delivery::Late(delay) => {
                tokio::time::sleep(delay).await;
                true
            }
            Delivery::Never => {
                wait_for_shutdown(self.shutdown.clone()).await;
                false
            }
        }
    }
}

/// Resolves once shutdown was requested.
pub(crate) async fn wait_for_shutdown(mut shutdown: watch::Receiver<bool>) {
    // An error means the sender is gone, which is a shutdown too.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// The emulator.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds `config.listen`, starts serving and the block loop, and returns
    /// at once. Must be called inside a Tokio runtime.
    pub async fn start(config: Config) -> Result<EmulatorHandle, StartError> {
        start_venue(config, "hl-emulator", |shared| {
            Router::new()
                .route("/info", post(info_handler))
                .route("/exchange", post(exchange_handler))
                .route("/ws", get(ws_handler))
                .with_state(shared)
        })
        .await
    }
}

/// Starts the exchange core with one venue's front end: `routes` builds the
/// venue's routes on the shared state; the admin API is added to them.
pub(crate) async fn start_venue(
    config: Config,
    name: &str,
    routes: impl FnOnce(Arc<Shared>) -> Router,
) -> Result<EmulatorHandle, StartError> {
    config.validate()?;
    let feed = Feed::default();
    let engine = Engine::new(&config, feed.clone())
        .map_err(|error| ConfigError::Invalid(error.to_string()))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let (stop, shutdown) = watch::channel(false);
    let shared = Arc::new(Shared {
        engine: Mutex::new(engine),
        faults: Faults::new(config.seed, &config.faults),
        feed,
        network: config.network,
        ws_idle_timeout: Duration::from_secs(config.limits.ws_idle_timeout_secs),
        shutdown: shutdown.clone(),
        arrivals: broadcast::channel(1024).0,
        venue_ids: Mutex::new(VenueIds::default()),
    });
    let app = routes(shared.clone()).merge(admin::routes().with_state(shared.clone()));
    let server = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(wait_for_shutdown(shutdown))
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "server stopped");
        }
    });
    let blocks = tokio::spawn(block_loop(
        shared.clone(),
        Duration::from_millis(config.block_ms),
    ));
    tracing::info!(%addr, seed = config.seed, network = ?config.network, "{name} listening");
    Ok(EmulatorHandle {
        addr,
        shared,
        stop,
        tasks: vec![server, blocks],
    })
}

/// A running emulator. Dropping it stops it (without waiting).
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// REST base URL (`http://127.0.0.1:PORT`), as an SDK's `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// WebSocket URL (`ws://127.0.0.1:PORT/ws`).
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Credits perp USDC and spot balances (token name → amount); same as `POST /admin/fund`.
    pub fn fund(
        &self,
        user: hyperliquid_core::Address,
        usdc: rust_decimal::Decimal,
        spot: &std::collections::BTreeMap<String, rust_decimal::Decimal>,
    ) -> Result<(), crate::engine::AdminError> {
        self.shared.engine().fund(user.into(), usdc, spot)
    }

    /// The moment each later `/exchange` request has fully arrived (before
    /// it is read), for benchmarks that time the way to the exchange.
    pub fn exchange_arrivals(&self) -> broadcast::Receiver<Instant> {
        self.shared.arrivals.subscribe()
    }

    /// Changes faults; same as `POST /admin/faults`.
    pub fn set_faults(&self, update: &FaultSettings) -> Result<(), String> {
        update.validate()?;
        self.shared.faults.apply(update);
        Ok(())
    }

    /// Moves a market's reference (mark) price; same as `POST /admin/price`.
    pub fn set_price(
        &self,
        coin: &str,
        price: rust_decimal::Decimal,
    ) -> Result<(), crate::engine::AdminError> {
        self.shared.engine().set_price(coin, price, clock::now_ms())
    }

    /// Ground truth of an API-key front end's orders (Bybit, Binance): each
    /// venue order with its client id and its core records summed up; same
    /// as `GET /admin/venue-orders`. Empty on Hyperliquid.
    pub fn venue_orders(&self) -> Value {
        let (engine, ids) = self.shared.venue();
        ids.truth(&engine)
    }

    /// Ground truth of one account (orders with status, fills, balances); same
    /// as `GET /admin/state?user=…`.
    pub fn account_state(&self, user: hyperliquid_core::Address) -> Option<Value> {
        self.shared.engine().account_state(user.into())
    }

    /// Ground truth of every account and book; same as `GET /admin/state`.
    pub fn state(&self) -> Value {
        self.shared.engine().state(clock::now_ms())
    }

    /// The top 20 levels of the `market`-th market's book, as in
    /// [`state`](Self::state)'s `books`, with the engine locked only to read
    /// them (`None` past the last market).
    pub fn book(&self, market: usize) -> Option<Value> {
        let engine = self.shared.engine();
        (market < engine.markets.len())
            .then(|| crate::info::l2_book(&engine, market, clock::now_ms()))
    }

    /// Stops serving, closes every connection and waits for the tasks to end.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        for task in self.tasks.drain(..) {
            // A task that panicked is already gone; nothing more to stop.
            let _ = task.await;
        }
    }

    /// Runs until `signals` sees SIGINT or SIGTERM, then shuts down.
    pub async fn run_until_signal(self, mut signals: StopSignals) {
        signals.recv().await;
        tracing::info!("stopping");
        self.shutdown().await;
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// SIGINT and SIGTERM, caught from the moment this is made (make it before
/// telling anyone the emulator runs, or an early signal kills it).
pub struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Starts catching both signals.
    pub fn install() -> std::io::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Waits for either.
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Runs a block every `period` until shutdown.
async fn block_loop(shared: Arc<Shared>, period: Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            _ = interval.tick() => shared.engine().tick(clock::now_ms()),
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

pub(crate) fn text_response(status: StatusCode, text: &str) -> Response {
    (status, text.to_owned()).into_response()
}

pub(crate) fn fault_response(fault: HttpFault) -> Response {
    let status = match fault {
        HttpFault::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        HttpFault::ServerError { status, .. } => {
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
    };
    text_response(status, status.canonical_reason().unwrap_or("error"))
}

pub(crate) fn json_response(value: &Value) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

async fn info_handler(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    if let Some(fault) = shared.faults.http_request() {
        return fault_response(fault);
    }
    let answer = serde_json::from_slice::<Value>(&body)
        .map_err(|_| info::InfoError)
        .and_then(|request| shared.run_info(&request));
    match answer {
        Ok(value) => json_response(&value),
        Err(error) => text_response(StatusCode::UNPROCESSABLE_ENTITY, &error.to_string()),
    }
}

async fn exchange_handler(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let answer = shared
        .serve_http(
            true,
            || {
                exchange::parse(&body)
                    .map(|request| shared.run_action(request))
                    .map_err(|text| Box::new(text_response(StatusCode::UNPROCESSABLE_ENTITY, text)))
            },
            fault_response,
        )
        .await;
    match answer {
        Ok(answer) => json_response(&answer),
        Err(response) => *response,
    }
}

async fn ws_handler(upgrade: WebSocketUpgrade, State(shared): State<Arc<Shared>>) -> Response {
    upgrade.on_upgrade(move |socket| ws::session(socket, shared))
}
