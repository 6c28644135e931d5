//! What the signer agrees to sign, per key. A key's policy is of its venue's
//! kind:
//!
//! * [`hyperliquid`] — Hyperliquid L1 action types, assets, order notional,
//!   networks.
//! * [`api`] — the API-key venues (Binance, Bybit): request kinds, markets,
//!   order notional, how long a signature stays valid.
//!
//! Both can only narrow their defaults: nothing outside the trading requests
//! a venue module knows is ever signed.

pub mod api;
pub mod hyperliquid;

use std::fmt;

use rust_decimal::Decimal;

/// A key's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPolicy {
    /// For a Hyperliquid key.
    Hyperliquid(hyperliquid::Policy),
    /// For a Binance or Bybit key.
    Api(api::Policy),
}

impl KeyPolicy {
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

/// One order's price × size above `max_order_notional`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order notional {price} × {size} = {notional} exceeds {max} (rule: max_order_notional)")]
pub struct NotionalExceeded {
    /// The order's limit price.
    pub price: Decimal,
    /// The order's size.
    pub size: Decimal,
    /// Their product, or "overflow".
    pub notional: NotionalText,
    /// The limit.
    pub max: Decimal,
}

/// The refusal for `price × size` above `max`, if it is.
pub fn check_notional(price: Decimal, size: Decimal, max: Decimal) -> Result<(), NotionalExceeded> {
    let notional = price.checked_mul(size);
    if notional.is_none_or(|notional| notional > max) {
        Err(NotionalExceeded {
            price,
            size,
            notional: NotionalText(notional),
            max,
        })
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
pub(crate) fn positive_decimal(text: &str) -> Option<Decimal> {
    text.trim()
        .parse::<Decimal>()
        .ok()
        .filter(|max| max.is_sign_positive() && !max.is_zero())
}
