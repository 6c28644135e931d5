//! Pure Hyperliquid protocol core.
//!
//! This crate turns trading intents into the exact bytes Hyperliquid signs and
//! sends, and turns exchange answers back into typed outcomes. It is shared by the
//! Hyperliquid plugin, the external signer process and the local exchange emulator.
//!
//! # Contract
//!
//! * **Deterministic**: the same inputs always give the same bytes, hashes and
//!   signatures (RFC 6979 nonces, low-s).
//! * **No I/O, no clock, no threads**: nonces, expiry timestamps, HTTP status codes
//!   and response bodies are passed in by the caller.
//! * **No floating point** for prices or sizes: everything is a
//!   [`rust_decimal::Decimal`] or a validated wire string.
//!
//! # Map
//!
//! | Topic | Items |
//! |---|---|
//! | Wire numbers, tick and lot rules | [`to_wire`], [`WireDecimal`], [`check_price`], [`normalize_price`], [`normalize_size`], [`slippage_price`], [`usd_int`] |
//! | Market table from `/info` | [`MarketTable`], [`Market`], [`parse_meta`], [`parse_spot_meta`] |
//! | Identifiers | [`Address`], [`Cloid`], [`B256`] |
//! | Order wires and builders | [`OrderRequest`], [`OrderWire`], [`OrderAction`] |
//! | Every signed action | [`Action`], [`ActionType`], [`ApproveAgent`] |
//! | Hashing and EIP-712 | [`SigningContext`], [`L1Hashes`], [`signing_digest`], [`keccak256`] |
//! | Signatures | [`Signature`]; with feature `recover`: `recover_address`; with feature `signer`: `PrivateKey`, `sign_digest` |
//! | `/exchange` body | [`ExchangeRequest`] |
//! | `/exchange` answers | [`classify_response`], [`ExchangeOutcome`] |
//!
//! # Features
//!
//! * `recover` — public-key recovery from a signature (the exchange emulator).
//! * `signer` — private keys and signing (the signer process); implies `recover`.
//!
//! With no feature enabled the crate only encodes and hashes; it links no elliptic
//! curve code.
#![warn(missing_docs)]

mod actions;
mod address;
mod approve_agent;
mod cloid;
mod eip712;
mod hashing;
mod hex_text;
mod markets;
mod numbers;
mod order;
mod request;
mod response;
mod signature;
#[cfg(feature = "recover")]
mod signing;

pub use actions::{
    Action, ActionParseError, ActionType, BatchModifyAction, CancelAction, CancelByCloidAction,
    CancelByCloidWire, CancelWire, Modify, OrderRef, ScheduleCancelAction,
    UpdateIsolatedMarginAction, UpdateLeverageAction,
};
pub use address::{Address, AddressError};
pub use approve_agent::{ApproveAgent, ChainId, ChainIdError};
pub use cloid::{Cloid, CloidError};
pub use eip712::{agent_struct_hash, domain_separator, l1_domain_separator, typed_data_digest};
pub use hashing::{
    B256, B256Error, DigestError, L1Hashes, Network, SigningContext, keccak256, l1_hashes,
    signing_digest,
};
pub use markets::{
    Market, MarketError, MarketTable, PERP_CONTEXTS_REQUEST, SPOT_CONTEXTS_REQUEST, parse_meta,
    parse_meta_and_asset_ctxs, parse_spot_meta, perp_mark_prices, spot_mark_prices,
};
pub use numbers::{
    MarketKind, PriceError, Rounding, SizeError, UsdIntError, WireDecimal, WireError, check_price,
    is_valid_price, max_price_decimals, normalize_price, normalize_size, slippage_price, to_wire,
    usd_int,
};
pub use order::{
    BuilderFee, Grouping, LimitWire, OrderAction, OrderBuildError, OrderKind, OrderRequest,
    OrderType, OrderWire, Tif, Tpsl, TriggerWire,
};
pub use request::{ExchangeRequest, SignedBody};
pub use response::{
    Ack, CancelStatus, ExchangeOutcome, ExpectedResponse, OrderStatus, RejectReason, UnknownReason,
    classify_response,
};
pub use signature::{Signature, SignatureError};
#[cfg(feature = "signer")]
pub use signing::{KeyError, PrivateKey, sign_digest};
#[cfg(feature = "recover")]
pub use signing::{RecoverError, recover_address};
