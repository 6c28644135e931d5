//! The Hyperliquid exchange plugin for `connector-host`.
//!
//! A sans-IO protocol state machine: it never opens a socket, reads the
//! clock or blocks. The host gives it frames, signatures and answers and
//! takes back what to open, send and sign, and normalized events (see
//! `plugin-api`). Protocol details (wire numbers, action key order, hashing)
//! live in `hyperliquid-core`, shared with the signer and the emulator.
//!
//! * [`config`] — the JSON the host configures it with.
//! * `manifest` — what it supports.
//! * `session` — the state machine: streams per connection, jobs between
//!   their phases, `post`s awaiting answers.
//! * `streams` — connections, routing and subscription frames.
//! * `parse` — socket frames and `/info` shapes to events.
//! * `requests` — operations to `/info` queries and signed `/exchange`
//!   actions (or socket `post` frames).
//! * `replies` — answers to outcomes and events.

#![warn(missing_docs)]

pub mod config;
mod manifest;
mod parse;
mod replies;
mod requests;
mod session;
mod streams;

pub use session::Hyperliquid;

plugin_api::export_plugin!(Hyperliquid);
