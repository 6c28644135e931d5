//! Order bodies (`/v5/order/create`, `amend`, `cancel`, `cancel-all` and
//! their batch forms) and the venue's words for sides, order types, times
//! in force and order statuses. Field order is the venue's documented
//! order; optional fields are left out when absent.

use serde::{Deserialize, Serialize};

/// The only category this crate speaks: USDT linear perpetuals.
pub const LINEAR: &str = "linear";
/// The most orders one batch request may carry (linear).
pub const MAX_BATCH: usize = 20;

/// `side`: buy.
pub const BUY: &str = "Buy";
/// `side`: sell.
pub const SELL: &str = "Sell";
/// `orderType`: limit.
pub const LIMIT: &str = "Limit";
/// `orderType`: market.
pub const MARKET: &str = "Market";
/// `timeInForce`: good till cancelled.
pub const GTC: &str = "GTC";
/// `timeInForce`: immediate or cancel.
pub const IOC: &str = "IOC";
/// `timeInForce`: fill or kill.
pub const FOK: &str = "FOK";
/// `timeInForce`: post only.
pub const POST_ONLY: &str = "PostOnly";
/// `triggerBy`: the mark price.
pub const MARK_PRICE: &str = "MarkPrice";
/// `triggerBy`: the last traded price.
pub const LAST_PRICE: &str = "LastPrice";

fn is_false(value: &bool) -> bool {
    !*value
}

/// A new order: one `/v5/order/create` body, or one item of
/// `create-batch`'s `request` list (without `category`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrder {
    /// `linear`; absent in a batch item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// [`BUY`] or [`SELL`].
    pub side: String,
    /// [`LIMIT`] or [`MARKET`].
    pub order_type: String,
    /// The size in base units, a decimal string.
    pub qty: String,
    /// The limit price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// [`GTC`], [`IOC`], [`FOK`] or [`POST_ONLY`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_in_force: Option<String>,
    /// The client's id: at most 36 of `[A-Za-z0-9_-]`, unique forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_link_id: Option<String>,
    /// Only reduce the position.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reduce_only: bool,
    /// A conditional order's trigger price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_price: Option<String>,
    /// `1`: triggers when the price rises to it; `2`: when it falls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_direction: Option<u8>,
    /// The price that fires it: [`MARK_PRICE`], `LastPrice` or `IndexPrice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_by: Option<String>,
}

/// An order named by the venue's id or the client's (`orderId` wins when
/// both are given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderName {
    /// `linear`; absent in a batch item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The symbol.
    pub symbol: String,
    /// The venue's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The client's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_link_id: Option<String>,
}

/// A change to a resting order (`/v5/order/amend`): it keeps its `orderId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmendOrder {
    /// The order.
    #[serde(flatten)]
    pub order: OrderName,
    /// The new total size (fills included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty: Option<String>,
    /// The new price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
}

/// A batch body: `{"category": "linear", "request": [items]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch<T> {
    /// `linear`.
    pub category: String,
    /// The items, without their own `category`.
    pub request: Vec<T>,
}

/// `/v5/order/cancel-all` for one symbol, or for every USDT perpetual.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelAll {
    /// `linear`.
    pub category: String,
    /// One symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Every symbol settled in this coin (`USDT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle_coin: Option<String>,
}

/// `orderStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Accepted, not yet on the book (client enums have it; map to open).
    Created,
    /// Resting.
    New,
    /// Partly filled, the rest resting.
    PartiallyFilled,
    /// A conditional order waiting for its trigger.
    Untriggered,
    /// A conditional order whose trigger fired (it becomes `New`).
    Triggered,
    /// Completely filled.
    Filled,
    /// Cancelled (possibly after fills; also an IOC/FOK remainder and a
    /// post-only that would have taken).
    Cancelled,
    /// Partly filled then cancelled (spot).
    PartiallyFilledCanceled,
    /// A conditional order cancelled before its trigger.
    Deactivated,
    /// Refused by the matching engine.
    Rejected,
}

impl OrderStatus {
    /// The status a word names, if Bybit uses it.
    pub fn parse(word: &str) -> Option<OrderStatus> {
        Some(match word {
            "Created" => OrderStatus::Created,
            "New" => OrderStatus::New,
            "PartiallyFilled" => OrderStatus::PartiallyFilled,
            "Untriggered" => OrderStatus::Untriggered,
            "Triggered" => OrderStatus::Triggered,
            "Filled" => OrderStatus::Filled,
            "Cancelled" => OrderStatus::Cancelled,
            "PartiallyFilledCanceled" => OrderStatus::PartiallyFilledCanceled,
            "Deactivated" => OrderStatus::Deactivated,
            "Rejected" => OrderStatus::Rejected,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_leave_out_what_is_absent_and_read_back() {
        let order = CreateOrder {
            category: Some(LINEAR.into()),
            symbol: "BTCUSDT".into(),
            side: BUY.into(),
            order_type: LIMIT.into(),
            qty: "0.01".into(),
            price: Some("60000".into()),
            time_in_force: Some(POST_ONLY.into()),
            order_link_id: Some("0xabc".into()),
            reduce_only: false,
            trigger_price: None,
            trigger_direction: None,
            trigger_by: None,
        };
        let text = serde_json::to_string(&order).unwrap();
        assert_eq!(
            text,
            r#"{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"60000","timeInForce":"PostOnly","orderLinkId":"0xabc"}"#
        );
        assert_eq!(serde_json::from_str::<CreateOrder>(&text).unwrap(), order);
        let amend = AmendOrder {
            order: OrderName {
                category: Some(LINEAR.into()),
                symbol: "BTCUSDT".into(),
                order_id: None,
                order_link_id: Some("0xabc".into()),
            },
            qty: Some("0.02".into()),
            price: None,
        };
        assert_eq!(
            serde_json::to_string(&amend).unwrap(),
            r#"{"category":"linear","symbol":"BTCUSDT","orderLinkId":"0xabc","qty":"0.02"}"#
        );
        assert_eq!(
            OrderStatus::parse("PartiallyFilled"),
            Some(OrderStatus::PartiallyFilled)
        );
        assert_eq!(OrderStatus::parse("Gone"), None);
    }
}
