//! What the signer agrees to sign, per key. A key's policy is of its venue's
//! kind:
//!
//! * [`hyperliquid`] — Hyperliquid L1 action types, assets, order notional,
//!   networks.
//! * [`api`] — the API-key venues (Binance, Bybit): request kinds, markets,
//!   order notional, how long a signature stays valid.
//!
//! Both can only narrow their defaults: nothing outside the trading requests
//! a venue module knows is ever signed. With a `[mark_prices]` table, both
//! value orders at the worse of their limit and the mark
//! ([`check_notional`], [`crate::marks`]).

pub mod api;
pub mod hyperliquid;

use std::fmt;

use rust_decimal::Decimal;

use crate::marks::{MarkPricesTable, MarkSource, MarkValuation, NoMark};

/// A key's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPolicy {
    /// For a Hyperliquid key.
    Hyperliquid(hyperliquid::Policy),
    /// For a Binance or Bybit key.
    Api(api::Policy),
}

impl KeyPolicy {
    /// The mark source and marks, when the key's orders are valued at the
    /// mark.
    pub fn mark_prices(&self) -> Option<&MarkValuation> {
        match self {
            KeyPolicy::Hyperliquid(policy) => policy.mark_prices(),
            KeyPolicy::Api(policy) => policy.mark_prices(),
        }
    }

    /// Caps the notional at `max` unless the policy sets its own cap; a
    /// default cap lets pass the orders it cannot value (see
    /// [`NotionalCap`]).
    pub fn default_max_order_notional(&mut self, max: Decimal) {
        let cap = match self {
            KeyPolicy::Hyperliquid(policy) => &mut policy.max_order_notional,
            KeyPolicy::Api(policy) => &mut policy.max_order_notional,
        };
        cap.get_or_insert(NotionalCap { max, own: false });
    }

    /// Values orders at the mark, fetched from `source`, when the policy
    /// caps the notional and names no mark source of its own.
    pub fn default_mark_prices(&mut self, source: &MarkSource) {
        let (marks, cap) = match self {
            KeyPolicy::Hyperliquid(policy) => (&mut policy.mark_prices, policy.max_order_notional),
            KeyPolicy::Api(policy) => (&mut policy.mark_prices, policy.max_order_notional),
        };
        if cap.is_some() && marks.is_none() {
            *marks = Some(MarkValuation::new(source.clone()));
        }
    }

    /// One line describing the rules in force, for the startup log.
    pub fn summary(&self) -> String {
        match self {
            KeyPolicy::Hyperliquid(policy) => policy.summary(),
            KeyPolicy::Api(policy) => policy.summary(),
        }
    }
}

/// A notional for display: the product, or "overflow".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotionalText(pub Option<Decimal>);

impl fmt::Display for NotionalText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(value) => write!(f, "{value}"),
            None => f.write_str("overflow"),
        }
    }
}

/// A key's `max_order_notional`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotionalCap {
    /// The cap.
    pub max: Decimal,
    /// Set by the key's own policy. A default one (`--default-max-order-
    /// notional`) refuses only what it can value: an order without a price
    /// (a market order, unless marks are kept) or without a size (an amend
    /// that keeps it) passes it, where the key's own cap refuses it.
    pub own: bool,
}

impl NotionalCap {
    /// The key's own cap of `max`.
    pub fn own(max: Decimal) -> NotionalCap {
        NotionalCap { max, own: true }
    }
}

impl fmt::Display for NotionalCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.own {
            write!(f, "{}", self.max)
        } else {
            write!(f, "{} (default; orders it cannot value pass)", self.max)
        }
    }
}

/// What an order's notional was reckoned at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Its limit price (at or above the mark, or no marks are kept).
    Limit,
    /// Its market's mark, above its limit (or it has none).
    Mark {
        /// The order's limit price; `None` for a market order.
        limit: Option<Decimal>,
    },
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Basis::Limit => Ok(()),
            Basis::Mark { limit: Some(limit) } => write!(f, " (the mark; limit {limit})"),
            Basis::Mark { limit: None } => f.write_str(" (the mark; a market order)"),
        }
    }
}

/// One order's notional above `max_order_notional`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "order notional {price}{basis} × {size} = {notional} exceeds {max} (rule: max_order_notional)"
)]
pub struct NotionalExceeded {
    /// The price it was valued at.
    pub price: Decimal,
    /// Whether that is its limit or the mark.
    pub basis: Basis,
    /// The order's size.
    pub size: Decimal,
    /// Their product, or "overflow".
    pub notional: NotionalText,
    /// The limit.
    pub max: Decimal,
}

/// Why an order's notional is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotionalRefusal {
    /// It is above the cap.
    #[error(transparent)]
    Exceeded(#[from] NotionalExceeded),
    /// Its market has no fresh mark.
    #[error(transparent)]
    NoMark(#[from] NoMark),
    /// A market order, and no marks are kept to value it by.
    #[error("an order on {market} without a price cannot be valued (rule: max_order_notional)")]
    Unpriced {
        /// The market.
        market: String,
    },
}

/// Values an order on `market` at the worse (the larger) of its `limit` and
/// the market's mark, when `marks` are kept, else at its limit; refuses a
/// notional above the cap, and an order it cannot value under the key's own
/// cap.
pub fn check_notional(
    market: &str,
    limit: Option<Decimal>,
    size: Decimal,
    cap: NotionalCap,
    marks: Option<&MarkValuation>,
    now_ms: u64,
) -> Result<(), NotionalRefusal> {
    let mark = marks.map(|marks| marks.mark(market, now_ms)).transpose()?;
    let (price, basis) = match (limit, mark) {
        (Some(limit), Some(mark)) if mark > limit => (mark, Basis::Mark { limit: Some(limit) }),
        (Some(limit), _) => (limit, Basis::Limit),
        (None, Some(mark)) => (mark, Basis::Mark { limit: None }),
        (None, None) if !cap.own => return Ok(()),
        (None, None) => {
            return Err(NotionalRefusal::Unpriced {
                market: market.to_owned(),
            });
        }
    };
    let max = cap.max;
    let notional = price.checked_mul(size);
    if notional.is_none_or(|notional| notional > max) {
        Err(NotionalExceeded {
            price,
            basis,
            size,
            notional: NotionalText(notional),
            max,
        }
        .into())
    } else {
        Ok(())
    }
}

/// One order's size above its market's `max_order_size`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order size {size} on {market} exceeds {max} (rule: max_order_size)")]
pub struct SizeExceeded {
    /// The market (a symbol, or a Hyperliquid asset id).
    pub market: String,
    /// The order's size.
    pub size: Decimal,
    /// The market's cap.
    pub max: Decimal,
}

/// Refuses `size` above `max`, the cap of `market`.
pub fn check_size(market: &str, size: Decimal, max: Decimal) -> Result<(), SizeExceeded> {
    if size > max {
        Err(SizeExceeded {
            market: market.to_owned(),
            size,
            max,
        })
    } else {
        Ok(())
    }
}

/// `max_order_size` as written (market → positive decimal string), each
/// market read by `key_of`; the error names the offending entry.
pub(crate) fn size_caps<K: Ord>(
    table: std::collections::BTreeMap<String, String>,
    key_of: impl Fn(&str) -> Option<K>,
) -> Result<std::collections::BTreeMap<K, Decimal>, String> {
    table
        .into_iter()
        .map(|(market, text)| {
            let key = key_of(&market)
                .ok_or_else(|| format!("max_order_size: {market:?} is not a market here"))?;
            let max = positive_decimal(&text).ok_or_else(|| {
                format!("max_order_size.{market}: {text:?} is not a positive decimal string")
            })?;
            Ok((key, max))
        })
        .collect()
}

/// `values`, or an error naming `key` when it is empty.
pub(crate) fn non_empty<T>(key: &'static str, values: Vec<T>) -> Result<Vec<T>, EmptyList> {
    if values.is_empty() {
        Err(EmptyList { key })
    } else {
        Ok(values)
    }
}

/// A policy list that would refuse everything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} is empty; remove the key or list at least one value")]
pub struct EmptyList {
    /// The key.
    pub key: &'static str,
}

/// Parses a positive decimal string (`max_order_notional`).
pub fn positive_decimal(text: &str) -> Option<Decimal> {
    text.trim()
        .parse::<Decimal>()
        .ok()
        .filter(|max| max.is_sign_positive() && !max.is_zero())
}

/// The valuation a `[mark_prices]` table asks for; it is refused without a
/// `max_order_notional` to value orders for.
pub(crate) fn mark_valuation(
    table: Option<MarkPricesTable>,
    max_order_notional: Option<NotionalCap>,
) -> Result<Option<MarkValuation>, String> {
    let Some(table) = table else {
        return Ok(None);
    };
    if max_order_notional.is_none() {
        return Err(
            "mark_prices values orders for max_order_notional; set max_order_notional too"
                .to_owned(),
        );
    }
    Ok(Some(MarkValuation::new(table.source()?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marks::MarkSource;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn an_order_is_valued_at_the_larger_of_its_limit_and_the_mark() {
        let marks = MarkValuation::new(MarkSource {
            url: "http://127.0.0.1:1".to_owned(),
            refresh_ms: 100,
            max_age_ms: 1_000,
        });
        marks.update([("BTC".to_owned(), dec("100"))], 0);
        let cap = NotionalCap::own(dec("1000"));
        let check = |limit: Option<&str>, size: &str, marks: Option<&MarkValuation>| {
            check_notional("BTC", limit.map(dec), dec(size), cap, marks, 10)
        };
        // Below the mark: the mark; above it: the limit.
        assert_eq!(check(Some("1"), "9", Some(&marks)), Ok(()));
        let refused = check(Some("1"), "11", Some(&marks)).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "order notional 100 (the mark; limit 1) × 11 = 1100 exceeds 1000 (rule: max_order_notional)"
        );
        assert!(matches!(
            check(Some("200"), "6", Some(&marks)),
            Err(NotionalRefusal::Exceeded(NotionalExceeded {
                basis: Basis::Limit,
                ..
            }))
        ));
        // Without marks, the limit alone; a market order only with marks.
        assert_eq!(check(Some("1"), "11", None), Ok(()));
        assert_eq!(check(None, "9", Some(&marks)), Ok(()));
        assert_eq!(
            check(None, "9", None).unwrap_err().to_string(),
            "an order on BTC without a price cannot be valued (rule: max_order_notional)"
        );
        // A market without a mark is refused however low its notional.
        let unknown = check_notional("ETH", Some(dec("1")), dec("1"), cap, Some(&marks), 10);
        assert!(matches!(unknown, Err(NotionalRefusal::NoMark(_))));
        let overflow = check(Some("79228162514264337593543950335"), "2", None).unwrap_err();
        assert!(
            overflow.to_string().contains("= overflow exceeds"),
            "{overflow}"
        );
    }
}
