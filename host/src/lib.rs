//! `connector-host`: keeps order books, tracks every order through its life
//! and drives exchange plugins, which are sans-IO protocol state machines
//! loaded from `cdylib` files (see `plugin-api`).
//!
//! The modules are the host's parts:
//! * [`order`] — the order model, its state machine and the thread-safe
//!   tracker.
//! * [`app`] — the composition root: start-up, the running host, hot
//!   reload.
//! * [`book`] — L2 order books as their plugin keeps them in sync, and
//!   their publishing.
//! * [`account`] — balances and positions.
//! * [`journal`] — every order change, durably, for crash recovery.
//! * [`private_files`] — state files and folders only the host's user may
//!   read (0600 and 0700 whatever the umask).
//! * [`commands`] — the command socket strategies send orders to.
//! * [`endpoint`] — where the ZeroMQ sockets may be bound, and binding
//!   them for the host's user alone.
//! * [`auth`] — CURVE on those sockets: the host's key, the clients
//!   allowed and their roles.
//! * [`connection_cap`] — at most so many connections to each of them.
//! * [`config`] — the TOML configuration and its validation.
//! * [`plugins`] — loading the plugins folder.
//! * [`publisher`] — events out on ZeroMQ.
//! * [`runtime`] — the I/O drivers: each plugin's session, WebSocket
//!   connections, HTTP, rate limits.
//! * [`trading`] — the order path: commands, signing, sending, outcomes,
//!   the user stream, reconciliation.
//! * [`signer`] — the signer client and the nonce source.
//! * [`cli`] — the `connector-host` commands.

#![warn(missing_docs)]

pub mod account;
pub mod app;
pub mod auth;
pub mod book;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connection_cap;
pub mod core_thread;
pub mod endpoint;
pub mod journal;
pub mod metrics;
pub mod order;
pub mod plugins;
pub mod private_files;
pub mod publisher;
pub mod runtime;
pub mod signer;
pub mod trading;

pub use plugin_api::rules;
