//! `connector-signer`: the process that holds the trading key. The host never
//! sees the key; it sends actions over a Unix socket and this process signs the
//! ones its policy allows, after parsing and hashing them itself.
//!
//! * [`protocol`] — request and response types of the socket protocol, shared
//!   with clients (the host's signer client). The only module without feature
//!   `signer` (on by default), so a client can depend on this crate with
//!   `default-features = false` and get the wire types alone.
//! * [`key`] — loading the key file and checking its permissions.
//! * [`policy`] — what may be signed: the default trading actions, narrowed by
//!   an optional TOML file.
//! * [`handler`] — one request line in, one response out.
//! * [`server`] — the owner-only Unix socket and its connections.
//! * [`cli`] — the `connector-signer` commands.
//!
//! The protocol is specified in `docs/signer-protocol.md`.

#![warn(missing_docs)]

#[cfg(feature = "signer")]
pub mod cli;
#[cfg(feature = "signer")]
pub mod handler;
#[cfg(feature = "signer")]
pub mod key;
#[cfg(feature = "signer")]
pub mod policy;
pub mod protocol;
#[cfg(feature = "signer")]
pub mod server;
