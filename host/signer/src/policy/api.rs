//! What the signer agrees to sign with an API key (Binance, Bybit): the kinds
//! of request, the markets, each order's notional, and how long a signature
//! may stay usable. The venue's scheme module says what a request would do
//! ([`Facts`]); a request it does not recognise (a withdrawal, a transfer, an
//! API-key change, any endpoint it does not know) is refused before this
//! policy is consulted.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::{
    EmptyList, NotionalCap, NotionalRefusal, SizeExceeded, check_notional, check_size,
    mark_valuation, non_empty, positive_decimal, size_caps,
};
use crate::marks::{MarkPricesTable, MarkValuation};

/// What a request does, as the policy names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestKind {
    /// Place one or more orders.
    Order,
    /// Change resting orders.
    Modify,
    /// Cancel named orders.
    Cancel,
    /// Cancel every order (of a market or the account).
    CancelAll,
    /// Arm or disarm the venue's dead man's switch.
    DeadManSwitch,
    /// Change leverage or margin mode.
    Leverage,
    /// Read orders, fills, balances, positions, limits.
    Read,
    /// Authenticate a socket (Binance `session.logon`, Bybit `auth`).
    Login,
}

impl RequestKind {
    /// Every kind; also the default set.
    pub const ALL: [RequestKind; 8] = [
        RequestKind::Order,
        RequestKind::Modify,
        RequestKind::Cancel,
        RequestKind::CancelAll,
        RequestKind::DeadManSwitch,
        RequestKind::Leverage,
        RequestKind::Read,
        RequestKind::Login,
    ];

    /// The name used in policies and refusals.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Order => "order",
            RequestKind::Modify => "modify",
            RequestKind::Cancel => "cancel",
            RequestKind::CancelAll => "cancel_all",
            RequestKind::DeadManSwitch => "dead_man_switch",
            RequestKind::Leverage => "leverage",
            RequestKind::Read => "read",
            RequestKind::Login => "login",
        }
    }

    fn from_name(name: &str) -> Option<RequestKind> {
        RequestKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// One order a request would place or change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    /// Its market.
    pub market: String,
    /// Its limit price; `None` for a market order.
    pub price: Option<Decimal>,
    /// Its size; `None` when the request leaves it unchanged.
    pub size: Option<Decimal>,
}

/// What a request would do, as its scheme read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The kind of request.
    pub kind: RequestKind,
    /// Every market it names.
    pub markets: Vec<String>,
    /// The orders it places or changes.
    pub orders: Vec<OrderFacts>,
    /// The earliest time (ms) the venue would accept it (its timestamp).
    pub valid_from_ms: Option<u64>,
    /// The last time (ms) the venue would accept it (timestamp + receive
    /// window, or an auth's `expires`).
    pub valid_until_ms: Option<u64>,
    /// The leverage a `leverage` request sets (the larger side's, where a
    /// venue sets each side).
    pub leverage: Option<Decimal>,
}

/// Default for `max_validity_ms`: a signature is usable for at most a
/// minute from now (Binance's largest `recvWindow`).
pub const DEFAULT_MAX_VALIDITY_MS: u64 = 60_000;

/// The rules for one API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    allowed: BTreeSet<RequestKind>,
    markets: Option<BTreeSet<String>>,
    pub(super) max_order_notional: Option<NotionalCap>,
    max_validity_ms: u64,
    max_leverage: Option<Decimal>,
    max_order_size: std::collections::BTreeMap<String, Decimal>,
    pub(super) mark_prices: Option<MarkValuation>,
}

/// The policy table as written: every key optional, unknown keys refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyTable {
    allowed_actions: Option<Vec<String>>,
    allowed_markets: Option<Vec<String>>,
    max_order_notional: Option<String>,
    max_validity_ms: Option<u64>,
    max_leverage: Option<u32>,
    max_order_size: Option<std::collections::BTreeMap<String, String>>,
    mark_prices: Option<MarkPricesTable>,
}

/// Why a policy table was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// An unknown key or a value of the wrong type.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// `allowed_actions` names something that is not a request kind.
    #[error(
        "allowed_actions: {name:?} is not one of {}",
        kind_names(RequestKind::ALL)
    )]
    UnknownKind {
        /// The offending name.
        name: String,
    },
    /// A list that would refuse everything.
    #[error(transparent)]
    EmptyList(#[from] EmptyList),
    /// `max_order_notional` is not a positive decimal string.
    #[error("max_order_notional {text:?} is not a positive decimal string")]
    Notional {
        /// The offending text.
        text: String,
    },
    /// `max_validity_ms` or `max_leverage` is zero.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// A `max_order_size` entry that is not a positive size.
    #[error("{0}")]
    Size(String),
    /// A `[mark_prices]` table that cannot be used.
    #[error("{0}")]
    Marks(String),
}

/// Why a well-formed request is refused. Each message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    /// The venue module does not know the request (withdrawals, transfers,
    /// key management and anything else outside trading).
    #[error("{what} is not a request this signer signs for {venue} (rule: known requests)")]
    Unknown {
        /// The method and path, or the socket method.
        what: String,
        /// The venue.
        venue: &'static str,
    },
    /// The kind of request is not allowed.
    #[error("{kind:?} requests are not allowed (rule: allowed_actions; allowed: {allowed})", kind = .kind.as_str())]
    Kind {
        /// The request's kind.
        kind: RequestKind,
        /// The allowed kinds, comma-separated.
        allowed: String,
    },
    /// The request names a market outside `allowed_markets`.
    #[error("market {market:?} is not allowed (rule: allowed_markets)")]
    Market {
        /// The market.
        market: String,
    },
    /// An order's notional is above `max_order_notional`, or cannot be
    /// valued.
    #[error(transparent)]
    Notional(#[from] NotionalRefusal),
    /// An order's size is above its market's `max_order_size`.
    #[error(transparent)]
    Size(#[from] SizeExceeded),
    /// An order that leaves its size unchanged cannot be valued.
    #[error("an order on {market} without a size cannot be valued (rule: max_order_notional)")]
    Unsized {
        /// The market.
        market: String,
    },
    /// A `leverage` request above `max_leverage`, or one whose leverage
    /// cannot be read.
    #[error("{what} (rule: max_leverage = {max})")]
    Leverage {
        /// What is wrong.
        what: String,
        /// The limit.
        max: Decimal,
    },
    /// The request would stay usable too long, or was signed for a time far
    /// from now.
    #[error("{what} (rule: max_validity_ms = {max})")]
    Validity {
        /// What is wrong, with the times.
        what: String,
        /// The limit.
        max: u64,
    },
}

impl Default for Policy {
    /// Every request kind, any market and notional, one minute of validity.
    fn default() -> Self {
        Self {
            allowed: RequestKind::ALL.into_iter().collect(),
            markets: None,
            max_order_notional: None,
            max_validity_ms: DEFAULT_MAX_VALIDITY_MS,
            max_leverage: None,
            max_order_size: std::collections::BTreeMap::new(),
            mark_prices: None,
        }
    }
}

impl Policy {
    /// Reads a policy from a keyring's `[key.policy]` table.
    pub fn from_table(table: toml::Table) -> Result<Self, PolicyError> {
        let table: PolicyTable = table.try_into()?;
        let mut policy = Policy::default();
        if let Some(names) = table.allowed_actions {
            policy.allowed = non_empty("allowed_actions", names)?
                .into_iter()
                .map(|name| RequestKind::from_name(&name).ok_or(PolicyError::UnknownKind { name }))
                .collect::<Result<_, _>>()?;
        }
        if let Some(markets) = table.allowed_markets {
            policy.markets = Some(non_empty("allowed_markets", markets)?.into_iter().collect());
        }
        if let Some(text) = table.max_order_notional {
            let max = positive_decimal(&text).ok_or(PolicyError::Notional { text })?;
            policy.max_order_notional = Some(NotionalCap::own(max));
        }
        if let Some(max) = table.max_validity_ms {
            policy.max_validity_ms = Some(max)
                .filter(|max| *max > 0)
                .ok_or(PolicyError::Zero("max_validity_ms"))?;
        }
        if let Some(caps) = table.max_order_size {
            policy.max_order_size =
                size_caps(caps, |market| Some(market.to_owned())).map_err(PolicyError::Size)?;
        }
        if let Some(max) = table.max_leverage {
            policy.max_leverage = Some(
                Some(Decimal::from(max))
                    .filter(|max| !max.is_zero())
                    .ok_or(PolicyError::Zero("max_leverage"))?,
            );
        }
        policy.mark_prices = mark_valuation(table.mark_prices, policy.max_order_notional)
            .map_err(PolicyError::Marks)?;
        Ok(policy)
    }

    /// Checks what a request would do, at `now_ms` (the signer's clock).
    pub fn check(&self, facts: &Facts, now_ms: u64) -> Result<(), PolicyViolation> {
        if !self.allowed.contains(&facts.kind) {
            return Err(PolicyViolation::Kind {
                kind: facts.kind,
                allowed: kind_names(self.allowed.iter().copied()),
            });
        }
        if let Some(allowed) = &self.markets {
            let named = facts
                .markets
                .iter()
                .chain(facts.orders.iter().map(|order| &order.market));
            if let Some(market) = named.into_iter().find(|market| !allowed.contains(*market)) {
                return Err(PolicyViolation::Market {
                    market: market.clone(),
                });
            }
        }
        if let Some(cap) = self.max_order_notional {
            for order in &facts.orders {
                let Some(size) = order.size else {
                    // A default cap lets pass what it cannot value.
                    if cap.own {
                        return Err(PolicyViolation::Unsized {
                            market: order.market.clone(),
                        });
                    }
                    continue;
                };
                check_notional(
                    &order.market,
                    order.price,
                    size,
                    cap,
                    self.mark_prices.as_ref(),
                    now_ms,
                )?;
            }
        }
        for order in &facts.orders {
            if let (Some(max), Some(size)) = (self.max_order_size.get(&order.market), order.size) {
                check_size(&order.market, size, *max)?;
            }
        }
        if let Some(max) = self.max_leverage
            && facts.kind == RequestKind::Leverage
        {
            // A margin-mode request sets no leverage, and needs no check.
            if let Some(leverage) = facts.leverage
                && leverage > max
            {
                return Err(PolicyViolation::Leverage {
                    what: format!("leverage {leverage} exceeds {max}"),
                    max,
                });
            }
        }
        self.check_validity(facts, now_ms)
    }

    fn check_validity(&self, facts: &Facts, now_ms: u64) -> Result<(), PolicyViolation> {
        let max = self.max_validity_ms;
        let refuse = |what: String| Err(PolicyViolation::Validity { what, max });
        if let Some(from) = facts.valid_from_ms
            && from.abs_diff(now_ms) > max
        {
            return refuse(format!(
                "the request is stamped {from} ms, {} ms from the signer's clock ({now_ms})",
                from.abs_diff(now_ms)
            ));
        }
        if let Some(until) = facts.valid_until_ms
            && until.saturating_sub(now_ms) > max
        {
            return refuse(format!(
                "the request would stay usable until {until} ms, {} ms from now",
                until - now_ms
            ));
        }
        Ok(())
    }

    /// One line describing the rules in force, for the startup log.
    pub fn summary(&self) -> String {
        let mut out = format!("requests: {}", kind_names(self.allowed.iter().copied()));
        if let Some(markets) = &self.markets {
            let _ = write!(out, "; markets: {markets:?}");
        }
        if let Some(cap) = self.max_order_notional {
            let _ = write!(out, "; max order notional: {cap}");
        }
        if let Some(max) = self.max_leverage {
            let _ = write!(out, "; max leverage: {max}");
        }
        if !self.max_order_size.is_empty() {
            let _ = write!(out, "; max order size: {:?}", self.max_order_size);
        }
        let _ = write!(out, "; max validity: {} ms", self.max_validity_ms);
        if let Some(marks) = &self.mark_prices {
            let _ = write!(out, "; {}", marks.source());
        }
        out
    }

    /// The mark source and marks, when orders are valued at the mark.
    pub fn mark_prices(&self) -> Option<&MarkValuation> {
        self.mark_prices.as_ref()
    }
}

fn kind_names(kinds: impl IntoIterator<Item = RequestKind>) -> String {
    kinds
        .into_iter()
        .map(RequestKind::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn policy(text: &str) -> Policy {
        Policy::from_table(toml::from_str(text).unwrap()).unwrap()
    }

    fn order(market: &str, price: Option<&str>, size: Option<&str>) -> Facts {
        Facts {
            kind: RequestKind::Order,
            markets: vec![market.to_owned()],
            orders: vec![OrderFacts {
                market: market.to_owned(),
                price: price.map(|p| p.parse().unwrap()),
                size: size.map(|s| s.parse().unwrap()),
            }],
            valid_from_ms: Some(NOW),
            valid_until_ms: Some(NOW + 5_000),
            leverage: None,
        }
    }

    #[test]
    fn the_default_allows_every_kind_market_and_notional_for_a_minute() {
        let policy = Policy::default();
        assert_eq!(
            policy.check(&order("BTCUSDT", None, Some("1000")), NOW),
            Ok(())
        );
        let mut late = order("BTCUSDT", Some("1"), Some("1"));
        late.valid_until_ms = Some(NOW + 60_001);
        assert_eq!(
            policy.check(&late, NOW).unwrap_err().to_string(),
            "the request would stay usable until 1700000060001 ms, 60001 ms from now \
             (rule: max_validity_ms = 60000)"
        );
    }

    #[test]
    fn every_rule_refuses_and_names_itself() {
        let policy = policy(
            r#"
            allowed_actions = ["order", "cancel", "read"]
            allowed_markets = ["BTCUSDT", "ETHUSDT"]
            max_order_notional = "50000"
            max_validity_ms = 10000
            "#,
        );
        assert_eq!(
            policy.check(&order("ETHUSDT", Some("2500"), Some("20")), NOW),
            Ok(())
        );
        let mut leverage = order("BTCUSDT", None, None);
        leverage.kind = RequestKind::Leverage;
        leverage.orders.clear();
        let mut early = order("BTCUSDT", Some("1"), Some("1"));
        early.valid_from_ms = Some(NOW - 10_001);
        let cases = [
            (
                leverage,
                "\"leverage\" requests are not allowed (rule: allowed_actions; allowed: order, cancel, read)",
            ),
            (
                order("SOLUSDT", Some("1"), Some("1")),
                "market \"SOLUSDT\" is not allowed (rule: allowed_markets)",
            ),
            (
                order("BTCUSDT", Some("65432"), Some("1")),
                "order notional 65432 × 1 = 65432 exceeds 50000 (rule: max_order_notional)",
            ),
            (
                order("BTCUSDT", None, Some("1")),
                "an order on BTCUSDT without a price cannot be valued (rule: max_order_notional)",
            ),
            (
                order("BTCUSDT", Some("1"), None),
                "an order on BTCUSDT without a size cannot be valued (rule: max_order_notional)",
            ),
            (
                early,
                "the request is stamped 1699999989999 ms, 10001 ms from the signer's clock (1700000000000) (rule: max_validity_ms = 10000)",
            ),
        ];
        for (facts, expected) in cases {
            assert_eq!(policy.check(&facts, NOW).unwrap_err().to_string(), expected);
        }
    }

    #[test]
    fn order_sizes_are_capped_per_market() {
        let policy = policy("max_order_size = { BTCUSDT = \"0.5\" }");
        assert_eq!(
            policy.check(&order("BTCUSDT", None, Some("0.5")), NOW),
            Ok(())
        );
        assert_eq!(
            policy
                .check(&order("BTCUSDT", Some("1"), Some("3")), NOW)
                .unwrap_err()
                .to_string(),
            "order size 3 on BTCUSDT exceeds 0.5 (rule: max_order_size)"
        );
        assert_eq!(
            policy.check(&order("ETHUSDT", None, Some("30")), NOW),
            Ok(())
        );
    }

    #[test]
    fn leverage_requests_are_capped() {
        let policy = policy("max_leverage = 5");
        let leverage = |value: Option<&str>| {
            let mut facts = order("BTCUSDT", None, None);
            facts.kind = RequestKind::Leverage;
            facts.orders.clear();
            facts.leverage = value.map(|v| v.parse().unwrap());
            facts
        };
        assert_eq!(policy.check(&leverage(Some("5")), NOW), Ok(()));
        // A margin-mode change sets no leverage.
        assert_eq!(policy.check(&leverage(None), NOW), Ok(()));
        assert_eq!(
            policy
                .check(&leverage(Some("20")), NOW)
                .unwrap_err()
                .to_string(),
            "leverage 20 exceeds 5 (rule: max_leverage = 5)"
        );
        let zero = Policy::from_table(toml::from_str("max_leverage = 0").unwrap());
        assert!(
            zero.unwrap_err()
                .to_string()
                .contains("max_leverage must be at least 1")
        );
    }

    #[test]
    fn tables_can_only_narrow_and_refuse_typos() {
        for (text, expected) in [
            (
                "allowed_actions = [\"withdraw\"]",
                "\"withdraw\" is not one of order, modify",
            ),
            ("allowed_actions = []", "allowed_actions is empty"),
            ("allowed_markets = []", "allowed_markets is empty"),
            ("max_order_notional = \"0\"", "not a positive decimal"),
            ("max_validity_ms = 0", "at least 1"),
            ("max_notional = \"5\"", "unknown field `max_notional`"),
        ] {
            let table = toml::from_str(text).unwrap();
            let message = Policy::from_table(table).unwrap_err().to_string();
            assert!(message.contains(expected), "{text}: {message}");
        }
    }
}
