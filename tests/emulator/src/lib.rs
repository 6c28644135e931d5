//! Local exchange emulators for tests, demos and benchmarks: one
//! venue-neutral exchange core (markets, price process, synthetic liquidity,
//! matching, accounts, margin, fees, triggers, faults, admin API) with a
//! front end per venue — Hyperliquid (`hl-emulator`), Bybit v5 linear
//! (`bybit-emulator`, module [`bybit`]) and Binance USDⓈ-M
//! (`binance-emulator`, module [`binance`]).
//!
//! The Hyperliquid front end:
//!
//! It serves `POST /info`, `POST /exchange` and the WebSocket at `/ws` on one
//! loopback port, like the real API, with real signature recovery (through
//! `hyperliquid-core`), nonce rules, price-time matching against synthetic and
//! user liquidity, cross margin, fees, triggers, scheduled cancels, agents, and
//! faults on demand (see [`FaultSettings`] and the admin API in [`admin`]).
//!
//! # Starting it in-process
//!
//! ```no_run
//! # async fn demo() -> Result<(), hl_emulator::StartError> {
//! use hl_emulator::{AccountId, Config, Emulator};
//! let mut config = Config::default();
//! let account: AccountId = "0x278dbc9d13eff5342acb01ba06a95f3d08e4d1fe".parse().unwrap();
//! config.fund(account, 100_000.into());
//! let emulator = Emulator::start(config).await?;
//! let base_url = emulator.base_url(); // http://127.0.0.1:PORT
//! # let _ = base_url;
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Map
//!
//! | Module | What |
//! |---|---|
//! | [`config`] | TOML configuration and defaults |
//! | [`market`] | market specs, price process, tick sizes, synthetic liquidity draws |
//! | [`book`] | price-time priority book, matching, self-trade prevention |
//! | [`account`] | the core's account id |
//! | [`entry`] | the core's order entry: entries, targets, placements |
//! | [`accounts`] | balances, positions, leverage, margin, fills bookkeeping |
//! | [`orders`] | order records, statuses, fills and their JSON shapes |
//! | [`validation`] | order checks and the exchange's error texts |
//! | [`nonces`] | per-signer nonce rules |
//! | [`engine`] | the exchange state and the block loop |
//! | [`trading`] | order, cancel, modify, trigger, schedule, leverage, agents |
//! | [`exchange`] | `/exchange`: parsing, recovery, auth, expiry, nonces, dispatch |
//! | [`info`] | `/info` answers and market-data payloads |
//! | [`feed`] | the core's events and their fan-out to sessions |
//! | [`session`] | the WebSocket session loop every front end shares |
//! | [`ws`] | Hyperliquid WebSocket sessions, subscriptions, post; the faulty writer |
//! | [`faults`] | fault settings and deterministic fault draws |
//! | [`admin`] | the admin API |
//! | [`server`] | HTTP server, start and shutdown |
//! | [`venue`] | venue orders over core orders, shared by the centralised venues |
//! | [`signing`] | HMAC signatures and key accounts of the centralised venues |
//! | [`bybit`] | the Bybit v5 front end |
//! | [`binance`] | the Binance USDⓈ-M front end |
#![warn(missing_docs)]
#![recursion_limit = "256"]

pub mod account;
pub mod accounts;
pub mod admin;
pub mod binance;
pub mod book;
pub mod bybit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod engine;
pub mod entry;
pub mod exchange;
pub mod faults;
pub mod feed;
pub mod grouping;
pub mod info;
pub mod market;
pub mod nonces;
pub mod orders;
pub mod server;
pub mod session;
pub mod signing;
pub mod trading;
pub mod validation;
pub mod venue;
pub mod ws;

pub use account::AccountId;
pub use config::{Config, ConfigError};
pub use faults::FaultSettings;
pub use server::{Emulator, EmulatorHandle, StartError, StopSignals};
