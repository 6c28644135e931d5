//! The Binance USDⓈ-M futures plugin for `connector-host` (exchange
//! `binance-usdm`).
//!
//! A sans-IO protocol state machine: it never opens a socket, reads the
//! clock or blocks. The host gives it frames, signatures and answers and
//! takes back what to open, send and sign, and normalized events (see
//! `plugin-api`). What Binance signs and how its parameters, errors and
//! filters read lives in `binance-core`, shared with the signer and the
//! emulator.
//!
//! * [`config`] — the settings the host configures it with.
//! * `manifest` — what it supports: order kinds, rate-limit buckets,
//!   the dead man's switch, the signing schemes.
//! * `session` — routes the host's calls, knows the traded markets.
//! * `clock` — Binance's clock: the offset signed requests are stamped
//!   with.
//! * `jobs` — operations to signed REST calls and their replies.
//! * `rest` — calls, their costs and signatures, what an answer proves,
//!   rate-limit headers.
//! * `market` — `/public` and `/market` streams and the bridged books.
//! * `user` — the listen key and the account stream.
//! * `wsapi` — the WebSocket API (`order_transport = "websocket"`):
//!   orders, modifies and cancels by request id, after a `session.logon`
//!   or signed one by one.
//! * `wire` and `events` — Binance's JSON and the host's events.

#![warn(missing_docs)]

mod clock;
pub mod config;
mod events;
mod jobs;
mod manifest;
mod market;
mod rest;
mod session;
mod user;
mod wire;
mod wsapi;

pub use session::Binance;

#[cfg(feature = "export")]
plugin_api::export_plugin!(Binance);
