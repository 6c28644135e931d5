//! Order records, their statuses, fills, and the JSON shapes `/info` and the
//! WebSocket use for them.

use hyperliquid_core::B256;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use crate::account::AccountId;
use crate::book::Oid;
use crate::entry::{ClientId, TimeInForce, TriggerKind};

/// Order status strings of `orderStatus` and `orderUpdates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderState {
    /// Resting, or a trigger order waiting for its price.
    Open,
    /// Completely filled.
    Filled,
    /// Cancelled by the user, or an Ioc remainder.
    Canceled,
    /// A trigger order whose price was reached.
    Triggered,
    /// Refused for another reason (zero or off-lot size, bad price).
    Rejected,
    /// Cancelled because the account lacked margin.
    MarginCanceled,
    /// Cancelled because the owner's own order traded into it.
    SelfTradeCanceled,
    /// Reduce-only order cancelled because the position changed side or closed.
    ReduceOnlyCanceled,
    /// An exit cancelled because the other exit of its entry filled.
    SiblingFilledCanceled,
    /// Cancelled by the dead man's switch.
    ScheduledCancel,
    /// Price off the tick grid.
    TickRejected,
    /// Below the minimum order value.
    MinTradeNtlRejected,
    /// Not enough margin.
    PerpMarginRejected,
    /// Reduce-only order that would increase the position.
    ReduceOnlyRejected,
    /// Post-only order that would have crossed.
    BadAloPxRejected,
    /// Ioc order that matched nothing.
    IocCancelRejected,
    /// Trigger price already reached.
    BadTriggerPxRejected,
    /// Not enough spot balance.
    InsufficientSpotBalanceRejected,
    /// Rested until its expiry time (good till date).
    Expired,
}

impl OrderState {
    /// Whether the order can still trade or trigger.
    pub fn is_open(self) -> bool {
        matches!(self, OrderState::Open | OrderState::Triggered)
    }
}

/// Trigger part of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger {
    /// Trigger price.
    pub px: Decimal,
    /// Execute as market once triggered.
    pub is_market: bool,
    /// Take profit or stop loss.
    pub kind: TriggerKind,
    /// Watches the last trade's price instead of the mark.
    pub on_last_trade: bool,
    /// Whether it has fired.
    pub fired: bool,
}

impl Trigger {
    /// Whether the trigger fires when the mark rises to its price (else when it falls).
    pub fn fires_above(&self, is_buy: bool) -> bool {
        (self.kind == TriggerKind::TakeProfit) != is_buy
    }

    /// Whether `price` (the mark, or the last trade's price when the
    /// trigger watches it) reaches the trigger price of an order on side
    /// `is_buy`.
    pub fn reached(&self, is_buy: bool, price: Decimal) -> bool {
        if self.fires_above(is_buy) {
            price >= self.px
        } else {
            price <= self.px
        }
    }
}

/// One user order, from acceptance (or rejection) to its final status.
#[derive(Debug, Clone)]
pub struct OrderRecord {
    /// Exchange order id.
    pub oid: Oid,
    /// Owner (master address).
    pub user: AccountId,
    /// Asset id.
    pub asset: u32,
    /// Coin.
    pub coin: String,
    /// Buy side.
    pub is_buy: bool,
    /// Limit price.
    pub limit_px: Decimal,
    /// Size at placement.
    pub orig_sz: Decimal,
    /// Size not yet filled (0 once final).
    pub sz: Decimal,
    /// Size filled.
    pub filled: Decimal,
    /// Sum of price × size over fills (for the average price).
    pub filled_notional: Decimal,
    /// Fees paid, in the fee tokens of the fills.
    pub fees: Decimal,
    /// Client order id.
    pub cloid: Option<ClientId>,
    /// Reduce only.
    pub reduce_only: bool,
    /// Time in force of a limit order (trigger orders execute as Gtc or market).
    pub tif: Option<TimeInForce>,
    /// Trigger, for TP/SL orders.
    pub trigger: Option<Trigger>,
    /// Placement time (ms).
    pub timestamp: u64,
    /// Status.
    pub status: OrderState,
    /// Time of the last status change (ms).
    pub status_timestamp: u64,
    /// The rejection or error text, when refused.
    pub error: Option<String>,
    /// Margin held for the unfilled part (perps).
    pub margin_reserved: Decimal,
    /// Spot balance held for the unfilled part: token index and amount.
    pub spot_hold: Option<(u32, Decimal)>,
    /// Trade ids of its fills.
    pub tids: Vec<u64>,
    /// Expiry time of a resting order (ms).
    pub good_till: Option<u64>,
}

fn text(value: Decimal) -> String {
    value.normalize().to_string()
}

/// Hyperliquid's name of a time in force.
pub fn tif_name(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::GoodTillCancel => "Gtc",
        TimeInForce::ImmediateOrCancel => "Ioc",
        TimeInForce::PostOnly => "Alo",
    }
}

fn side(is_buy: bool) -> &'static str {
    if is_buy { "B" } else { "A" }
}

impl OrderRecord {
    /// Average fill price, if anything filled.
    pub fn avg_px(&self) -> Option<Decimal> {
        (!self.filled.is_zero()).then(|| self.filled_notional / self.filled)
    }

    /// The `openOrders` shape (also the `order` of `orderUpdates`).
    pub fn basic_json(&self) -> Value {
        let mut order = json!({
            "coin": self.coin,
            "side": side(self.is_buy),
            "limitPx": text(self.limit_px),
            "sz": text(self.sz),
            "oid": self.oid,
            "timestamp": self.timestamp,
            "origSz": text(self.orig_sz),
            "reduceOnly": self.reduce_only,
        });
        if let (Some(cloid), Some(object)) = (self.cloid, order.as_object_mut()) {
            object.insert("cloid".to_owned(), json!(cloid));
        }
        order
    }

    /// The `frontendOpenOrders` shape (also the `order` of `orderStatus`).
    pub fn frontend_json(&self) -> Value {
        let (is_trigger, trigger_px, condition, order_type) = match &self.trigger {
            None => (false, Decimal::ZERO, "N/A".to_owned(), "Limit"),
            Some(trigger) => {
                let direction = if trigger.fires_above(self.is_buy) {
                    "above"
                } else {
                    "below"
                };
                let order_type = match (trigger.kind, trigger.is_market) {
                    (TriggerKind::TakeProfit, true) => "Take Profit Market",
                    (TriggerKind::TakeProfit, false) => "Take Profit Limit",
                    (TriggerKind::StopLoss, true) => "Stop Market",
                    (TriggerKind::StopLoss, false) => "Stop Limit",
                };
                (
                    !trigger.fired,
                    trigger.px,
                    format!("Price {direction} {}", text(trigger.px)),
                    order_type,
                )
            }
        };
        json!({
            "coin": self.coin,
            "side": side(self.is_buy),
            "limitPx": text(self.limit_px),
            "sz": text(self.sz),
            "oid": self.oid,
            "timestamp": self.timestamp,
            "origSz": text(self.orig_sz),
            "triggerCondition": condition,
            "isTrigger": is_trigger,
            "triggerPx": text(trigger_px),
            "children": [],
            "isPositionTpsl": false,
            "reduceOnly": self.reduce_only,
            "orderType": order_type,
            "tif": self.tif.map(tif_name),
            "cloid": self.cloid,
        })
    }

    /// One `orderUpdates` element.
    pub fn update_json(&self) -> Value {
        json!({
            "order": self.basic_json(),
            "status": self.status,
            "statusTimestamp": self.status_timestamp,
        })
    }

    /// Ground truth for `/admin/state`.
    pub fn admin_json(&self) -> Value {
        json!({
            "oid": self.oid,
            "cloid": self.cloid,
            "coin": self.coin,
            "asset": self.asset,
            "side": side(self.is_buy),
            "limitPx": text(self.limit_px),
            "origSz": text(self.orig_sz),
            "remainingSz": text(self.sz),
            "filledSz": text(self.filled),
            "avgPx": self.avg_px().map(text),
            "fees": text(self.fees),
            "reduceOnly": self.reduce_only,
            "tif": self.tif.map(tif_name),
            "triggerPx": self.trigger.map(|t| text(t.px)),
            "status": self.status,
            "error": self.error,
            "timestamp": self.timestamp,
            "statusTimestamp": self.status_timestamp,
            "tids": self.tids,
        })
    }
}

/// One fill of a user, as `userFills` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Fill {
    /// Coin.
    pub coin: String,
    /// Price.
    #[serde(serialize_with = "decimal_text")]
    pub px: Decimal,
    /// Size.
    #[serde(serialize_with = "decimal_text")]
    pub sz: Decimal,
    /// `B` (bought) or `A` (sold).
    pub side: &'static str,
    /// Time (ms).
    pub time: u64,
    /// Position (perps) or base balance (spot) before the fill.
    #[serde(rename = "startPosition", serialize_with = "decimal_text")]
    pub start_position: Decimal,
    /// `Open Long`, `Close Short`, `Long > Short`, `Buy`, …
    pub dir: &'static str,
    /// Realized PnL of the closed part.
    #[serde(rename = "closedPnl", serialize_with = "decimal_text")]
    pub closed_pnl: Decimal,
    /// Hash of the transaction that caused it.
    #[serde(serialize_with = "display_text")]
    pub hash: B256,
    /// The user's order id.
    pub oid: Oid,
    /// True when the user was the taker.
    pub crossed: bool,
    /// Fee (negative is a rebate).
    #[serde(serialize_with = "decimal_text")]
    pub fee: Decimal,
    /// Trade id, shared by both sides of the trade.
    pub tid: u64,
    /// The order's client order id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloid: Option<ClientId>,
    /// Token the fee is paid in.
    #[serde(rename = "feeToken")]
    pub fee_token: String,
    /// TWAP id (always null here).
    #[serde(rename = "twapId")]
    pub twap_id: Option<u64>,
}

fn display_text<S: serde::Serializer>(value: &B256, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn decimal_text<S: serde::Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&value.normalize())
}

impl Fill {
    /// The fill as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
