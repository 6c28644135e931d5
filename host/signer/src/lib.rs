//! `connector-signer`: the process that holds the trading keys. The host never
//! sees a key; it sends structured requests over a Unix socket and this
//! process signs the ones the key's policy allows, after reading them and
//! building the signed bytes itself.
//!
//! * [`protocol`] — request and response types of the socket protocol, shared
//!   with clients (the host's signer client). The only module without feature
//!   `signer` (on by default), so a client can depend on this crate with
//!   `default-features = false` and get the wire types alone.
//! * [`files`] — reading the files its decisions rest on (keys, policies,
//!   keyrings) only when no other user could have changed them.
//! * [`hardening`] — no core dumps, no memory reads by other processes,
//!   key pages locked in memory.
//! * [`key`] — loading key files and checking their permissions.
//! * [`keystore`] — keys at rest: encrypted keystore v3 files.
//! * [`passphrase`] — where the passphrase of encrypted keys comes from.
//! * [`published`] — keys anyone can read, taken only for local emulators.
//! * [`keyring`] — the named keys, each of one venue with its policy.
//! * [`schemes`] — what each scheme's fields mean and which bytes are signed
//!   (Hyperliquid EIP-712, Binance and Bybit HMAC-SHA256 and Ed25519).
//! * [`policy`] — what each key may sign: per venue, only narrowing the
//!   trading defaults.
//! * [`marks`] — mark prices fetched from the venue, to value orders at the
//!   worse of their limit and the mark.
//! * [`handler`] — one request line in, one response out.
//! * [`server`] — the owner-only Unix socket and its connections.
//! * [`cli`] — the `connector-signer` commands.
//!
//! The protocol is specified in `docs/signer-protocol.md`.

#![warn(missing_docs)]

#[cfg(feature = "signer")]
pub mod audit;
#[cfg(feature = "signer")]
pub mod cli;
#[cfg(feature = "signer")]
pub mod files;
#[cfg(feature = "signer")]
pub mod handler;
#[cfg(feature = "signer")]
pub mod hardening;
#[cfg(feature = "signer")]
pub mod key;
#[cfg(feature = "signer")]
pub mod keyring;
#[cfg(feature = "signer")]
pub mod keystore;
#[cfg(feature = "signer")]
pub mod marks;
#[cfg(feature = "signer")]
pub mod passphrase;
#[cfg(feature = "signer")]
pub mod policy;
pub mod protocol;
#[cfg(feature = "signer")]
pub mod published;
#[cfg(feature = "signer")]
pub mod schemes;
#[cfg(feature = "signer")]
pub mod server;
