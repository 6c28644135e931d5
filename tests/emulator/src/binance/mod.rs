//! The Binance USDⓈ-M futures front end on the exchange core: REST under
//! `/fapi/v1|v2|v3/…` with Binance's signing (HMAC hex or Ed25519 base64),
//! market streams (`/ws/…`, `/stream`, `/public/…`, `/market/…`), user data
//! streams by listen key (`/private/ws?listenKey=…`, `/ws/<listenKey>`) and
//! the WebSocket API at `/ws-fapi/v1`, all on one port.
//!
//! | Module | What |
//! |---|---|
//! | [`errors`] | `{code, msg}` errors and their HTTP statuses |
//! | [`params`] | query and form parameters |
//! | [`auth`] | keys, signatures, recv window |
//! | [`limits`] | order counts per account, `rateLimits` |
//! | [`faults`] | Binance's own faults: `-1007`, 503 "Unknown error", `pu` breaks, listen-key expiry, bans |
//! | [`shapes`] | JSON of orders, trades, positions, balances |
//! | [`trade`] | order entry, queries, settings |
//! | [`market`] | public market data and the diff-depth journal |
//! | [`rest`] | the HTTP dispatcher |
//! | [`streams`] | market and user data streams |
//! | [`wsapi`] | the WebSocket API |

pub mod auth;
pub mod errors;
pub mod faults;
pub mod limits;
pub mod market;
pub mod params;
pub mod rest;
pub mod shapes;
pub mod streams;
pub mod trade;
pub mod wsapi;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::routing::{get, post};
use rust_decimal::Decimal;

use crate::account::AccountId;
use crate::config::{Config, PerpConfig};
use crate::engine::Engine;
use crate::server::{EmulatorHandle, Shared, StartError, start_venue};
use crate::signing::KeyAccounts;
use crate::venue::VenueIds;
use crate::venue::{linear_perp, perps_only};
pub use auth::{ApiKey, KeyKind};
pub use faults::BinanceFaults;

pub use crate::venue::QUOTE;
pub(crate) use crate::venue::symbol_of;

/// Binance-only settings.
#[derive(Debug, Clone, Default)]
pub struct BinanceOptions {
    /// Funded keys with their USDT.
    pub keys: Vec<(ApiKey, Decimal)>,
    /// Binance's own faults at start.
    pub faults: BinanceFaults,
}

/// Binance's USDⓈ-M perpetuals with the venue's tick, step and minimum
/// notional: BTCUSDT (0.1, 0.001, 100), ETHUSDT (0.01, 0.001, 20),
/// SOLUSDT (0.01, 0.01, 5).
pub fn default_perps() -> Vec<PerpConfig> {
    vec![
        linear_perp("BTC", 3, 125, 100_000, Decimal::new(1, 1), 100),
        linear_perp("ETH", 3, 125, 3_500, Decimal::new(1, 2), 20),
        linear_perp("SOL", 2, 125, 150, Decimal::new(1, 2), 5),
    ]
}

/// The default Binance configuration: [`default_perps`], no spot.
pub fn default_config() -> Config {
    perps_only(default_perps())
}

/// A user data stream key.
#[derive(Debug, Clone, Copy)]
pub struct ListenKey {
    /// The account.
    pub user: AccountId,
    /// Expiry (ms).
    pub expires: u64,
}

/// State of the Binance front end, shared by its connections.
#[derive(Debug)]
pub struct Binance {
    pub(crate) shared: Arc<Shared>,
    keys: KeyAccounts<ApiKey>,
    pub(crate) listen_keys: Mutex<HashMap<String, ListenKey>>,
    pub(crate) journal: Mutex<market::Journal>,
    pub(crate) faults: faults::FaultState,
    /// Orders per account over 10 s and 1 min.
    pub(crate) orders: limits::OrderCounters,
    /// Per account and symbol: the countdown-cancel deadline (ms).
    pub(crate) countdowns: Mutex<HashMap<(AccountId, usize), u64>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Binance {
    /// The key record of `key`, if funded.
    pub(crate) fn key(&self, key: &str) -> Option<&ApiKey> {
        self.keys.get(key)
    }

    /// The core account of a funded API key (an account no one funded
    /// for any other key).
    pub(crate) fn account(&self, key: &str) -> AccountId {
        self.keys.account(key).unwrap_or_default()
    }

    /// The engine and the id tables, locked in that order.
    pub(crate) fn lock(&self) -> (MutexGuard<'_, Engine>, MutexGuard<'_, VenueIds>) {
        self.shared.venue()
    }

    /// The listen keys.
    pub(crate) fn listen_keys(&self) -> MutexGuard<'_, HashMap<String, ListenKey>> {
        lock(&self.listen_keys)
    }

    /// The diff-depth journal.
    pub(crate) fn journal(&self) -> MutexGuard<'_, market::Journal> {
        lock(&self.journal)
    }

    /// The countdown-cancel deadlines.
    pub(crate) fn countdowns(&self) -> MutexGuard<'_, HashMap<(AccountId, usize), u64>> {
        lock(&self.countdowns)
    }
}

/// The market index of a symbol (`BTCUSDT`, any case).
pub(crate) fn market_of_symbol(engine: &Engine, symbol: &str) -> Option<usize> {
    crate::venue::market_of_symbol(engine, &symbol.to_ascii_uppercase())
}

/// Starts a Binance emulator: the core from `config`, the keys of `options`
/// funded, Binance's routes and the admin API on `config.listen`.
pub async fn start(
    mut config: Config,
    options: BinanceOptions,
) -> Result<EmulatorHandle, StartError> {
    let keys = KeyAccounts::fund(&mut config, &options.keys, |k| &k.key);
    let seed = config.seed;
    start_venue(config, "binance-emulator", move |shared| {
        let binance = Arc::new(Binance {
            shared,
            keys,
            listen_keys: Mutex::new(HashMap::new()),
            journal: Mutex::new(market::Journal::default()),
            faults: faults::FaultState::new(seed, options.faults),
            orders: limits::OrderCounters::default(),
            countdowns: Mutex::new(HashMap::new()),
        });
        tokio::spawn(trade::countdown_loop(binance.clone()));
        Router::new()
            .route("/ws-fapi/v1", get(wsapi::handler))
            .route("/ws", get(streams::handler))
            .route("/ws/{*rest}", get(streams::handler))
            .route("/stream", get(streams::handler))
            .route("/public/{*rest}", get(streams::handler))
            .route("/market/{*rest}", get(streams::handler))
            .route("/private/{*rest}", get(streams::handler))
            .route(
                "/admin/binance/faults",
                get(faults::get_faults).post(faults::set_faults),
            )
            .route("/admin/binance/bans", get(faults::get_bans))
            .route(
                "/admin/binance/expire-listen-keys",
                post(faults::expire_listen_keys),
            )
            .fallback(rest::handler)
            .with_state(binance)
    })
    .await
}
