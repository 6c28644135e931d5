//! Pure Binance USDⓈ-M futures protocol core.
//!
//! What the Binance plugin, the external signer and the local emulator
//! share, written once: the parameter text Binance signs, the order
//! parameters as typed values that encode (the plugin) and decode (the
//! emulator, the signer), the error codes and what each proves, the
//! `exchangeInfo` filters, the endpoints and the stream names.
//!
//! # Contract
//!
//! * **No I/O, no clock, no threads**: times and answers are passed in.
//! * **No floating point**: prices and sizes are [`rust_decimal::Decimal`]s,
//!   written without exponent or trailing zeros.
//! * **One encoder**: the text a request carries is the text that is
//!   signed ([`Params::encode`]), so the two can never drift apart.
//!
//! # Map
//!
//! | Topic | Items |
//! |---|---|
//! | Parameters and their text | [`Params`], [`Lookup`], [`form`] |
//! | What is signed | [`signing`]: REST `totalParams`, WebSocket API sorted text, the receive window |
//! | Ed25519 keys | [`ed25519`]: the public key's PEM, checking a signature |
//! | Endpoints and what each does | [`endpoints`] |
//! | Orders | [`Side`], [`OrderType`], [`TimeInForce`], [`NewOrder`], [`ModifyOrder`], [`OrderTarget`], [`ClientOrderId`] |
//! | Errors | [`VenueError`], [`codes`], [`Meaning`], [`Reject`], [`classify`] |
//! | `exchangeInfo` filters | [`Filter`], [`SymbolRules`] |
//! | Stream names and routes | [`MarketStream`], [`Route`] |
//! | Mark prices (`premiumIndex`) | [`marks`] |
#![warn(missing_docs)]

pub mod ed25519;
pub mod endpoints;
pub mod errors;
mod filters;
pub mod form;
pub mod marks;
mod order;
pub mod signing;
mod streams;

pub use errors::{Answer, Meaning, Reject, VenueError, classify, codes};
pub use filters::{Filter, SymbolRules};
pub use form::{Lookup, Params};
pub use order::{
    AlgoOrder, AlgoOrderType, ClientOrderId, ModifyOrder, NewOrder, OrderTarget, OrderType,
    ResponseType, Side, TimeInForce, WorkingType,
};
pub use streams::{DepthSpeed, MarketStream, Route};

/// A decimal as Binance writes it: no exponent, no trailing zeros.
pub fn decimal_text(value: rust_decimal::Decimal) -> String {
    value.normalize().to_string()
}
