//! The stable ABI between `connector-host` and its exchange plugins.
//!
//! # Design
//!
//! A plugin is a `cdylib` built against this crate. It is *sans-IO*: it
//! never opens a socket, reads the clock, spawns a thread or blocks. The host
//! does all I/O and drives the plugin with plain data:
//!
//! * **Connections.** The plugin lists the WebSockets to keep open
//!   ([`ConnectionSpec`]: URL, keep-alive, idle timeout) and writes the
//!   frames that subscribe to [`Stream`]s; the host connects, pings,
//!   reconnects and resubscribes.
//! * **Inbound data.** Every received frame goes through
//!   [`ExchangePlugin::parse_frame`] and comes back as normalized
//!   [`Event`]s (books with sequence numbers, trades, order updates, fills…).
//! * **Requests, in two phases.** For each [`Operation`] the host asks
//!   [`ExchangePlugin::prepare`] what must be signed ([`SignRequest`]: a
//!   scheme and its fields, handed to the external signer as is), then
//!   [`ExchangePlugin::finish`] turns the signature into the finished
//!   [`Request`]. [`ExchangePlugin::parse_reply`] classifies the response
//!   into an [`Outcome`] — accepted, rejected with a reason, not processed
//!   (safe to retry) or unknown — and extracts the data it carries.
//! * **Numbers** cross as [`Dec`] (exact fixed point), never `f64`.
//!   [`TradingRule`] and the [`rules`] module validate and quantize them.
//!
//! # Evolution
//!
//! Open-ended enumerations are `u8` newtypes (see [`abi_code!`]); data
//! enums ([`Event`], [`Operation`]) are `NonExhaustive`; the trait and the
//! root module are prefix types that may only grow at the end. The host
//! checks the ABI version before anything else and refuses a mismatched
//! plugin with one line ([`LoadError`]).
//!
//! # Writing a plugin
//!
//! Implement [`Exchange`] and call [`export_plugin!`]. Every entry point is
//! then wrapped in a panic guard: a panic becomes a `PANICKED`
//! [`PluginError`] instead of killing the host.

#![warn(missing_docs)]
// abi_stable's derives emit `impl` blocks inside functions; harmless, and not
// ours to move.
#![allow(non_local_definitions)]

mod code;
mod connection;
mod dec;
mod error;
mod event;
mod export;
mod loader;
mod manifest;
mod market;
mod operation;
mod order;
mod outcome;
mod plugin;
pub mod rules;

#[doc(hidden)]
pub use abi_stable;

pub use connection::{ConnectionKind, ConnectionSpec, Stream, StreamKind};
pub use dec::{Dec, DecError, MAX_SCALE};
pub use error::{PluginError, PluginErrorKind};
pub use event::{
    Balance, Bbo, BookUpdate, Event, Event_NE, Fill, Funding, Level, OrderUpdate, Position,
    Positions, RateLimitState, SocketReply, Trade, VenueOrderStatus,
};
pub use export::{Exchange, guard, root_module};
pub use loader::{LoadError, LoadedPlugin, PluginInstance, operation};
pub use manifest::{BookSync, ClientIdFormat, DeadManSwitch, Manifest, RateLimitBucket};
pub use market::{Market, MarketKind, PriceRule, TradingRule};
pub use operation::{
    Operation, Operation_NE, Prepared, Request, RequestContext, Response, SignRequest, Transport,
};
pub use order::{ModifyRequest, OrderKind, OrderRef, OrderRequest, Side, TimeInForce};
pub use outcome::{Outcome, OutcomeKind, RejectReason, Reply};
pub use plugin::{
    ABI_VERSION, ExchangePlugin, ExchangePlugin_TO, PluginBox, PluginMod, PluginModRef,
};
