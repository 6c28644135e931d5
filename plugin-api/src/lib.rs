//! The stable ABI between `connector-host` and its exchange plugins.
//!
//! # Design
//!
//! A plugin is a `cdylib` built against this crate. Each configured exchange
//! account is one **session**: its venue's protocol state machine, as
//! quinn-proto is to quinn. It never opens a socket, reads the clock, spawns
//! a thread or blocks; the host is the only I/O driver and feeds it plain
//! data and the current time ([`ExchangeSession`]):
//!
//! * **Streams.** The host says which [`Stream`]s it wants
//!   ([`subscribe`](ExchangeSession::subscribe)); the session routes each to
//!   a connection, has the host open it ([`Output::Open`]: URL, keep-alive,
//!   idle timeout), and subscribes when the host reports it up
//!   ([`on_connection`](ExchangeSession::on_connection)) — authenticating
//!   first where the venue wants it.
//! * **Inbound data.** Every received frame goes to
//!   [`on_frame`](ExchangeSession::on_frame) and comes back as normalized
//!   [`Event`]s (books, trades, order updates, fills…) and whatever the
//!   session must send in turn (a pong, a resubscription, a snapshot
//!   fetch).
//! * **Jobs.** For each [`Operation`] the host
//!   [`begin`](ExchangeSession::begin)s a job; the session answers with
//!   what to sign ([`Output::Sign`]: a scheme and its fields, handed to the
//!   external signer as is) and what to send ([`Output::Http`], or a frame
//!   with [`Output::Send`]), and finishes it with [`Output::Done`]: an
//!   [`Outcome`] — accepted, rejected with a reason, not processed (safe to
//!   retry as a new job) or unknown — and the data it carried. One job may
//!   need several requests.
//! * **Time.** The session says when it next needs waking
//!   ([`next_wakeup`](ExchangeSession::next_wakeup)) for its own timers:
//!   keep-alives, token renewals, a socket request's deadline.
//! * **Numbers** cross as [`Dec`] (exact fixed point), never `f64`.
//!   [`TradingRule`] and the [`rules`] module validate and quantize them.
//!
//! # Evolution
//!
//! Open-ended enumerations are `u8` newtypes (see [`abi_code!`]); data
//! enums ([`Event`], [`Operation`], [`Output`]) are `NonExhaustive`; the trait and the
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

pub mod book_sync;
mod code;
mod connection;
mod dec;
mod error;
mod event;
mod export;
mod levels;
mod loader;
mod manifest;
mod market;
mod operation;
mod order;
mod outcome;
mod output;
mod plugin;
pub mod query;
pub mod rules;
pub mod socket_path;
pub mod trust;
pub mod venue_clock;

#[doc(hidden)]
pub use abi_stable;

pub use connection::{ConnectionKind, ConnectionSpec, Stream, StreamKind};
pub use dec::{Dec, DecError, MAX_SCALE};
pub use error::{PluginError, PluginErrorKind};
pub use event::{
    Balance, Bbo, BookUpdate, Event, Event_NE, Fill, Funding, Level, OrderUpdate, Position,
    Positions, RateLimitState, Trade, VenueOrderStatus,
};
pub use export::{Exchange, guard, root_module};
pub use levels::PriceSizeLevels;
pub use loader::{LoadError, LoadedPlugin, PluginInstance, operation};
pub use manifest::{DeadManSwitch, Manifest, ModifySize, RateLimitBucket};
pub use market::{Market, MarketKind, PriceRule, TradingRule};
pub use operation::{Operation, Operation_NE, Request, RequestContext, Response, SignRequest};
pub use order::{
    ModifyRequest, OrderKind, OrderRef, OrderRequest, Side, TimeInForce, TriggerReference,
};
pub use outcome::{Outcome, OutcomeKind, RejectReason, Reply};
pub use output::{Answer, AnswerKind, Output, Output_NE, SESSION_JOB};
pub use plugin::{
    ABI_VERSION, ExchangeSession, ExchangeSession_TO, PluginBox, PluginMod, PluginModRef,
};
