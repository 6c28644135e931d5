//! The Bybit v5 (linear) front end on the exchange core: REST under `/v5/…`
//! with Bybit's HMAC authentication and envelopes, and the WebSocket paths
//! `/v5/public/linear`, `/v5/private` and `/v5/trade`, all on one port.
//!
//! Symbols are the core's perp coins with `USDT` appended (`BTC` → `BTCUSDT`);
//! each funded API key is one account of the core.
//!
//! | Module | What |
//! |---|---|
//! | [`params`] | request parameters and Bybit's error replies |
//! | [`auth`] | `X-BAPI-*` headers, recv window, signatures |
//! | [`faults`] | Bybit's own faults: skipped update ids, `u=1` resets |
//! | [`shapes`] | JSON of orders, executions, positions and wallets |
//! | [`trade`] | create, amend, cancel, batches, cancel-all, settings |
//! | [`queries`] | open and closed orders, executions, positions, wallet |
//! | [`market`] | public market data |
//! | [`rest`] | the HTTP dispatcher, rate-limit headers, faults |
//! | [`ws`] | public, private and trade WebSocket sessions |

pub mod auth;
pub mod faults;
pub mod market;
pub mod params;
pub mod queries;
pub mod rest;
pub mod shapes;
pub mod trade;
pub mod ws;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::routing::get;
use rust_decimal::Decimal;

use crate::account::AccountId;
use crate::config::{Config, PerpConfig};
use crate::engine::Engine;
use crate::server::{EmulatorHandle, Shared, StartError, start_venue};
use crate::signing::KeyAccounts;
use crate::venue::VenueIds;
use crate::venue::{linear_perp, perps_only};
pub use faults::BybitFaults;

pub use crate::venue::QUOTE;
pub(crate) use crate::venue::{market_of_symbol, symbol_of};

/// An HMAC API key and the account it trades for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key (`X-BAPI-API-KEY`).
    pub key: String,
    /// The HMAC secret.
    pub secret: String,
}

/// Bybit-only settings.
#[derive(Debug, Clone)]
pub struct BybitOptions {
    /// Funded keys with their USDT.
    pub keys: Vec<(ApiKey, Decimal)>,
    /// Requests per second per key and endpoint before `10006` (the venue's
    /// default is 10 for order entry; the emulator's default is far higher so
    /// that benchmarks measure the client, not the limit).
    pub rate_limit_per_sec: u32,
    /// Bybit's own faults at start.
    pub faults: BybitFaults,
}

impl Default for BybitOptions {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            rate_limit_per_sec: 100_000,
            faults: BybitFaults::default(),
        }
    }
}

/// Bybit's linear perpetuals with the venue's tick, lot and minimum value:
/// BTCUSDT (0.1, 0.001, 5), ETHUSDT (0.01, 0.01, 5), SOLUSDT (0.01, 0.1, 5).
pub fn default_perps() -> Vec<PerpConfig> {
    vec![
        linear_perp("BTC", 3, 100, 100_000, Decimal::new(1, 1), 5),
        linear_perp("ETH", 2, 100, 3_500, Decimal::new(1, 2), 5),
        linear_perp("SOL", 1, 100, 150, Decimal::new(1, 2), 5),
    ]
}

/// The default Bybit configuration: [`default_perps`], no spot.
pub fn default_config() -> Config {
    perps_only(default_perps())
}

/// State of the Bybit front end, shared by its connections.
#[derive(Debug)]
pub struct Bybit {
    pub(crate) shared: Arc<Shared>,
    keys: KeyAccounts<ApiKey>,
    pub(crate) limits: rest::RateLimits,
    pub(crate) faults: faults::FaultState,
    dcp: Mutex<HashMap<AccountId, Dcp>>,
    connections: std::sync::atomic::AtomicU64,
}

/// Disconnection protection of one account.
#[derive(Debug, Clone, Copy, Default)]
struct Dcp {
    /// Seconds without a `dcp` subscriber before every order is cancelled.
    window: u64,
    /// Private sessions subscribed to `dcp`.
    sessions: u32,
}

impl Bybit {
    /// The key record of `key`, if funded.
    pub(crate) fn key(&self, key: &str) -> Option<&ApiKey> {
        self.keys.get(key)
    }

    /// The core account of a funded API key (an account no one funded
    /// for any other key).
    pub(crate) fn account(&self, key: &str) -> AccountId {
        self.keys.account(key).unwrap_or_default()
    }

    /// A fresh connection number.
    pub(crate) fn next_conn_id(&self) -> u64 {
        self.connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }

    fn dcp_table(&self) -> MutexGuard<'_, HashMap<AccountId, Dcp>> {
        self.dcp
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Arms DCP for `user` with a window of `secs`.
    pub(crate) fn set_dcp_window(&self, user: AccountId, secs: u64) {
        self.dcp_table().entry(user).or_default().window = secs;
    }

    /// The DCP window of `user`, when armed.
    pub(crate) fn dcp_window(&self, user: AccountId) -> Option<u64> {
        self.dcp_table()
            .get(&user)
            .map(|d| d.window)
            .filter(|w| *w > 0)
    }

    /// A private session of `user` subscribed to `dcp`: the countdown stops.
    pub(crate) fn dcp_connected(&self, user: AccountId) {
        let armed = {
            let mut table = self.dcp_table();
            let dcp = table.entry(user).or_default();
            dcp.sessions += 1;
            dcp.window > 0
        };
        if armed && let Some(account) = self.shared.engine().accounts.get_mut(&user) {
            account.scheduled_cancel.deadline = None;
        }
    }

    /// A `dcp` subscriber of `user` went away: when it was the last one, the
    /// core's scheduled cancel fires after the window.
    pub(crate) fn dcp_disconnected(&self, user: AccountId, now: u64) {
        let window = {
            let mut table = self.dcp_table();
            let dcp = table.entry(user).or_default();
            dcp.sessions = dcp.sessions.saturating_sub(1);
            (dcp.sessions == 0 && dcp.window > 0).then_some(dcp.window)
        };
        if let Some(window) = window
            && let Some(account) = self.shared.engine().accounts.get_mut(&user)
        {
            account.scheduled_cancel.deadline = Some(now + window * 1000);
        }
    }

    /// The engine and the id tables, locked in that order.
    pub(crate) fn lock(&self) -> (MutexGuard<'_, Engine>, MutexGuard<'_, VenueIds>) {
        self.shared.venue()
    }
}

/// Starts a Bybit emulator: the core from `config`, the keys of `options`
/// funded, Bybit's routes and the admin API on `config.listen`.
pub async fn start(
    mut config: Config,
    options: BybitOptions,
) -> Result<EmulatorHandle, StartError> {
    let keys = KeyAccounts::fund(&mut config, &options.keys, |k| &k.key);
    let rate = options.rate_limit_per_sec;
    let seed = config.seed;
    let venue_faults = options.faults;
    start_venue(config, "bybit-emulator", move |shared| {
        let bybit = Arc::new(Bybit {
            shared,
            keys,
            limits: rest::RateLimits::new(rate),
            faults: faults::FaultState::new(seed, venue_faults),
            dcp: Mutex::new(HashMap::new()),
            connections: std::sync::atomic::AtomicU64::new(0),
        });
        Router::new()
            .route("/v5/public/linear", get(ws::public_handler))
            .route("/v5/private", get(ws::private_handler))
            .route("/v5/trade", get(ws::trade_handler))
            .route(
                "/admin/bybit/faults",
                get(faults::get_faults).post(faults::set_faults),
            )
            .fallback(rest::handler)
            .with_state(bybit)
    })
    .await
}
