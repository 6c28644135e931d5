//! The Bybit v5 exchange plugin for `connector-host` (USDT linear
//! perpetuals).
//!
//! A sans-IO protocol state machine: it never opens a socket, reads the
//! clock or blocks. The host hands it frames, signatures and answers and
//! takes back what to open, send and sign, and normalized events (see
//! `plugin-api`). What Bybit signs, its codes and its order bodies live in
//! `bybit-core`, shared with the signer and the emulator.
//!
//! * [`config`] — the settings the host configures it with.
//! * `manifest` — what it supports.
//! * `session` — the state machine: jobs between their phases, the
//!   sockets.
//! * `rest` — operations to REST calls, signed through the host's signer.
//! * `replies` — answers to outcomes and events.
//! * `public` — the public socket: books (snapshot and deltas, reset on
//!   any snapshot), trades, best bid and offer, funding.
//! * `private` — the private socket: `auth`, then orders, executions,
//!   positions and the wallet.
//! * `trade` — the trade socket (`order_transport = "websocket"`): single
//!   orders, amends and cancels answered by request id.
//! * `socket_auth` — the `auth` op the private and trade sockets share.
//! * `dcp` — disconnection protection as the host's dead man's switch.
//! * `clock` — Bybit's clock: the offset requests are stamped with.
//! * `records` — Bybit's order, execution, position and wallet records as
//!   events (the same shape over REST and the socket).

#![warn(missing_docs)]

mod clock;
pub mod config;
mod dcp;
mod manifest;
mod private;
mod public;
mod records;
mod replies;
mod rest;
mod session;
mod socket_auth;
mod trade;

pub use session::Bybit;

#[cfg(feature = "export")]
plugin_api::export_plugin!(Bybit);
