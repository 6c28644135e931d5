//! Bybit's `retCode`s, and what each proves about the request it answers.

/// Success.
pub const OK: i64 = 0;
/// The server timed out: the request may or may not have been applied.
pub const SERVER_TIMEOUT: i64 = 10000;
/// A parameter is wrong (also an off-tick price or lot).
pub const PARAMS: i64 = 10001;
/// The timestamp is outside the receive window.
pub const TIMESTAMP: i64 = 10002;
/// Unknown API key.
pub const API_KEY: i64 = 10003;
/// Wrong signature.
pub const SIGN: i64 = 10004;
/// The key lacks the permission.
pub const PERMISSION: i64 = 10005;
/// Too many requests.
pub const RATE_LIMIT: i64 = 10006;
/// An internal error: the request may or may not have been applied.
pub const INTERNAL: i64 = 10016;
/// The service is restarting.
pub const RESTARTING: i64 = 10019;
/// Order not found (or no longer open).
pub const ORDER_NOT_FOUND: i64 = 110001;
/// Not enough available balance.
pub const INSUFFICIENT_BALANCE: i64 = 110007;
/// A reduce-only order would increase the position.
pub const REDUCE_ONLY: i64 = 110017;
/// The leverage is already what was asked.
pub const LEVERAGE_NOT_MODIFIED: i64 = 110043;
/// The `orderLinkId` was used before.
pub const DUPLICATE_LINK_ID: i64 = 110072;
/// A rising trigger at or below the price.
pub const TRIGGER_RISING: i64 = 110092;
/// A falling trigger at or above the price.
pub const TRIGGER_FALLING: i64 = 110093;
/// The order's value is below the minimum.
pub const MIN_NOTIONAL: i64 = 110094;

/// Why Bybit refused a request; nothing of it was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A parameter (price, size, trigger…) is not valid.
    Parameters,
    /// The timestamp is outside the receive window.
    Timestamp,
    /// The key, its signature or its permissions.
    Authentication,
    /// Not enough balance or margin.
    InsufficientBalance,
    /// A reduce-only order would increase the position.
    ReduceOnly,
    /// Below the minimum order value.
    MinNotional,
}

/// What a `retCode` proves about the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// Accepted (for orders: accepted for processing; the outcome comes on
    /// the `order` topic).
    Done,
    /// Refused; nothing happened.
    Refused(Refusal),
    /// Not processed (rate limit, restart): safe to send again.
    NotProcessed,
    /// The order named does not exist or is no longer open.
    NotFound,
    /// Anything else: it may or may not have been applied.
    Unknown,
}

/// What `code` proves. A code not listed proves nothing: only a refusal the
/// venue documents is taken as one.
pub fn meaning(code: i64) -> Meaning {
    match code {
        OK => Meaning::Done,
        PARAMS | TRIGGER_RISING | TRIGGER_FALLING => Meaning::Refused(Refusal::Parameters),
        TIMESTAMP => Meaning::Refused(Refusal::Timestamp),
        API_KEY | SIGN | PERMISSION => Meaning::Refused(Refusal::Authentication),
        INSUFFICIENT_BALANCE => Meaning::Refused(Refusal::InsufficientBalance),
        REDUCE_ONLY => Meaning::Refused(Refusal::ReduceOnly),
        // An order with this `orderLinkId` exists: an earlier attempt of
        // the same order landed. What became of it is learnt by a query.
        DUPLICATE_LINK_ID => Meaning::Unknown,
        MIN_NOTIONAL => Meaning::Refused(Refusal::MinNotional),
        RATE_LIMIT | RESTARTING => Meaning::NotProcessed,
        ORDER_NOT_FOUND => Meaning::NotFound,
        _ => Meaning::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documented_refusals_prove_nothing_happened() {
        assert_eq!(meaning(OK), Meaning::Done);
        assert_eq!(meaning(SIGN), Meaning::Refused(Refusal::Authentication));
        assert_eq!(meaning(DUPLICATE_LINK_ID), Meaning::Unknown);
        assert_eq!(meaning(RATE_LIMIT), Meaning::NotProcessed);
        assert_eq!(meaning(ORDER_NOT_FOUND), Meaning::NotFound);
        assert_eq!(meaning(SERVER_TIMEOUT), Meaning::Unknown);
        assert_eq!(meaning(INTERNAL), Meaning::Unknown);
        assert_eq!(meaning(170_999), Meaning::Unknown);
    }
}
