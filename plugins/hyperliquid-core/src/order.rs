//! Order wires (the signed shape of one order) and the `order` action, plus
//! builders from high-level inputs.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::cloid::Cloid;
use crate::numbers::{WireDecimal, WireError};

/// Time in force of a limit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tif {
    /// Good till cancelled.
    Gtc,
    /// Add liquidity only (post-only).
    Alo,
    /// Immediate or cancel.
    Ioc,
}

/// Whether a trigger order takes profit or stops a loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tpsl {
    /// Take profit.
    Tp,
    /// Stop loss.
    Sl,
}

/// `{"tif": …}` body of a limit order type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitWire {
    /// Time in force.
    pub tif: Tif,
}

/// `{"isMarket", "triggerPx", "tpsl"}` body of a trigger order type, in that key order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerWire {
    /// Execute as a market order once triggered.
    #[serde(rename = "isMarket")]
    pub is_market: bool,
    /// Trigger price.
    #[serde(rename = "triggerPx")]
    pub trigger_px: WireDecimal,
    /// Take profit or stop loss.
    pub tpsl: Tpsl,
}

/// Order type `t`: `{"limit": …}` or `{"trigger": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderType {
    /// Limit order.
    Limit(LimitWire),
    /// Trigger (TP/SL) order.
    Trigger(TriggerWire),
}

/// One order as signed: keys `a, b, p, s, r, t, [c]` in that order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderWire {
    /// Asset id (`a`).
    #[serde(rename = "a")]
    pub asset: u32,
    /// Buy side (`b`).
    #[serde(rename = "b")]
    pub is_buy: bool,
    /// Limit price (`p`).
    #[serde(rename = "p")]
    pub price: WireDecimal,
    /// Size (`s`).
    #[serde(rename = "s")]
    pub size: WireDecimal,
    /// Reduce only (`r`).
    #[serde(rename = "r")]
    pub reduce_only: bool,
    /// Order type (`t`).
    #[serde(rename = "t")]
    pub order_type: OrderType,
    /// Client order id (`c`), omitted when absent.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub cloid: Option<Cloid>,
}

/// How the orders of one `order` action relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Grouping {
    /// Independent orders.
    #[serde(rename = "na")]
    Na,
    /// An entry order with fixed-size TP/SL children.
    #[serde(rename = "normalTpsl")]
    NormalTpsl,
    /// TP/SL orders that track the whole position.
    #[serde(rename = "positionTpsl")]
    PositionTpsl,
}

/// Builder fee attached to an `order` action: keys `b, f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuilderFee {
    /// Builder address (`b`), always serialized in lower case.
    #[serde(rename = "b")]
    pub builder: Address,
    /// Fee in tenths of a basis point (`f`).
    #[serde(rename = "f")]
    pub fee_tenths_bp: u32,
}

/// The `order` action body: keys `orders, grouping, [builder]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderAction {
    /// The orders, in submission order.
    pub orders: Vec<OrderWire>,
    /// Grouping.
    pub grouping: Grouping,
    /// Builder fee, omitted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<BuilderFee>,
}

/// High-level order type of an [`OrderRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// Limit order with a time in force.
    Limit(Tif),
    /// Trigger order.
    Trigger {
        /// Trigger price.
        trigger_price: Decimal,
        /// Execute as market once triggered.
        is_market: bool,
        /// Take profit or stop loss.
        tpsl: Tpsl,
    },
}

/// One order as a trading system describes it; [`OrderRequest::to_wire`] gives the
/// signed shape.
///
/// Prices and sizes are written exactly (at most 8 decimals); tick and lot rules
/// are the caller's business (see [`crate::normalize_price`], [`crate::normalize_size`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderRequest {
    /// Asset id.
    pub asset: u32,
    /// Buy side.
    pub is_buy: bool,
    /// Limit price.
    pub price: Decimal,
    /// Size.
    pub size: Decimal,
    /// Reduce only.
    pub reduce_only: bool,
    /// Order type.
    pub kind: OrderKind,
    /// Client order id.
    pub cloid: Option<Cloid>,
}

/// Why an order cannot be turned into a wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderBuildError {
    /// The limit price is not a wire number.
    #[error("order price: {0}")]
    Price(#[source] WireError),
    /// The size is not a wire number.
    #[error("order size: {0}")]
    Size(#[source] WireError),
    /// The trigger price is not a wire number.
    #[error("order trigger price: {0}")]
    TriggerPrice(#[source] WireError),
    /// An `order` action needs at least one order.
    #[error("an order action needs at least one order")]
    EmptyBatch,
}

impl OrderRequest {
    /// The signed shape of this order.
    pub fn to_wire(&self) -> Result<OrderWire, OrderBuildError> {
        let order_type = match self.kind {
            OrderKind::Limit(tif) => OrderType::Limit(LimitWire { tif }),
            OrderKind::Trigger {
                trigger_price,
                is_market,
                tpsl,
            } => OrderType::Trigger(TriggerWire {
                is_market,
                trigger_px: WireDecimal::from_decimal(trigger_price)
                    .map_err(OrderBuildError::TriggerPrice)?,
                tpsl,
            }),
        };
        Ok(OrderWire {
            asset: self.asset,
            is_buy: self.is_buy,
            price: WireDecimal::from_decimal(self.price).map_err(OrderBuildError::Price)?,
            size: WireDecimal::from_decimal(self.size).map_err(OrderBuildError::Size)?,
            reduce_only: self.reduce_only,
            order_type,
            cloid: self.cloid,
        })
    }
}

impl OrderAction {
    /// An `order` action from high-level orders, in the given order.
    pub fn from_requests(
        orders: &[OrderRequest],
        grouping: Grouping,
        builder: Option<BuilderFee>,
    ) -> Result<Self, OrderBuildError> {
        if orders.is_empty() {
            return Err(OrderBuildError::EmptyBatch);
        }
        let orders = orders
            .iter()
            .map(OrderRequest::to_wire)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            orders,
            grouping,
            builder,
        })
    }
}
