//! Classified outcomes: what a response proves about the request.

use abi_stable::StableAbi;
use abi_stable::std_types::{ROption, RString, RVec};

use crate::{Dec, Event_NE, Operation_NE};

crate::abi_code! {
    /// What a response proves.
    ///
    /// A host that meets a kind it does not know must treat it as
    /// `UNKNOWN`: only the exchange can prove a rejection.
    OutcomeKind {
        /// Done: the order rests or filled, the cancel took effect, the data
        /// is in the reply.
        ACCEPTED = 1 => "accepted",
        /// Refused by the exchange; nothing happened.
        REJECTED = 2 => "rejected",
        /// Not processed (rate limit, maintenance): safe to send again.
        NOT_PROCESSED = 3 => "not_processed",
        /// It may or may not have happened: resolve by querying.
        UNKNOWN = 4 => "unknown",
        /// The target order does not exist (or no longer does).
        NOT_FOUND = 5 => "not_found",
    }
}

crate::abi_code! {
    /// Why the exchange refused something, where the plugin can tell.
    RejectReason {
        /// Any other reason (see the message).
        OTHER = 0 => "other",
        /// The price is not a valid tick.
        PRICE_TICK = 1 => "price_tick",
        /// The price is outside the allowed band.
        PRICE_BAND = 2 => "price_band",
        /// The size is not a valid lot or is out of range.
        LOT_SIZE = 3 => "lot_size",
        /// The order's value is below the minimum.
        MIN_NOTIONAL = 4 => "min_notional",
        /// A post-only order would have taken liquidity.
        POST_ONLY_WOULD_CROSS = 5 => "post_only_would_cross",
        /// Not enough margin or balance.
        INSUFFICIENT_MARGIN = 6 => "insufficient_margin",
        /// A reduce-only order would increase the position.
        REDUCE_ONLY = 7 => "reduce_only",
        /// The client order id is already in use.
        DUPLICATE_CLIENT_ID = 8 => "duplicate_client_id",
        /// Too many open orders.
        TOO_MANY_OPEN_ORDERS = 9 => "too_many_open_orders",
        /// The market is closed or unknown.
        MARKET_CLOSED = 10 => "market_closed",
        /// The request was malformed.
        INVALID_REQUEST = 11 => "invalid_request",
        /// The signature or the signer is not accepted.
        AUTHENTICATION = 12 => "authentication",
        /// The nonce or timestamp was refused.
        NONCE = 13 => "nonce",
        /// An IOC order found nothing to match.
        NO_LIQUIDITY = 14 => "no_liquidity",
    }
}

/// What one request, or one item of a batch, came to.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Outcome {
    /// What is proven.
    pub kind: OutcomeKind,
    /// For rejections: why.
    pub reason: RejectReason,
    /// The exchange's words (or the plugin's explanation).
    pub message: RString,
    /// The exchange's order id, when an order was accepted.
    pub exchange_order_id: ROption<RString>,
    /// Size filled immediately, when the answer says.
    pub filled_size: ROption<Dec>,
    /// Average price of that immediate fill.
    pub average_price: ROption<Dec>,
    /// For `NOT_PROCESSED`: wait at least this long (ms) before retrying.
    pub retry_after_ms: ROption<u64>,
}

impl Outcome {
    /// An outcome of the given kind with a message and nothing else.
    pub fn new(kind: OutcomeKind, message: impl Into<RString>) -> Outcome {
        Outcome {
            kind,
            reason: RejectReason::OTHER,
            message: message.into(),
            exchange_order_id: ROption::RNone,
            filled_size: ROption::RNone,
            average_price: ROption::RNone,
            retry_after_ms: ROption::RNone,
        }
    }

    /// A rejection for a reason.
    pub fn rejected(reason: RejectReason, message: impl Into<RString>) -> Outcome {
        Outcome {
            reason,
            ..Outcome::new(OutcomeKind::REJECTED, message)
        }
    }
}

/// What a response means.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Reply {
    /// The outcome of the request as a whole.
    pub outcome: Outcome,
    /// One outcome per order, cancel or modify of a batch, in request order.
    pub items: RVec<Outcome>,
    /// Data the answer carried (markets, a book, open orders, fills, …).
    pub events: RVec<Event_NE>,
    /// The next page to fetch, if the answer was paginated.
    pub next: ROption<Operation_NE>,
}

impl Reply {
    /// A reply that is its outcome alone: no items, no data.
    pub fn only(outcome: Outcome) -> Reply {
        Reply {
            outcome,
            items: RVec::new(),
            events: RVec::new(),
            next: ROption::RNone,
        }
    }
}
