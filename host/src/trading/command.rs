//! What strategies ask for, and why a request is refused before anything
//! is tracked or sent.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::order::{
    ClientOrderId, Exit, OrderType, PositionAction, TimeInForce, TradeType, TriggerReference,
};

/// A new order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCommand {
    /// The host symbol, e.g. `BTC-USD`.
    pub trading_pair: String,
    /// Buy or sell.
    pub trade_type: TradeType,
    /// Limit, market or limit-maker (post-only).
    pub order_type: OrderType,
    /// Time in force (limit orders).
    #[serde(default)]
    pub time_in_force: TimeInForce,
    /// Limit price; required for limit orders, ignored for market orders
    /// (they are priced from the mid).
    #[serde(default)]
    pub price: Option<Decimal>,
    /// Size in base units.
    pub amount: Decimal,
    /// `CLOSE` makes the order reduce-only.
    #[serde(default)]
    pub position_action: Option<PositionAction>,
    /// Reduce-only.
    #[serde(default)]
    pub reduce_only: bool,
    /// Use this client order id instead of a new one.
    #[serde(default)]
    pub client_order_id: Option<ClientOrderId>,
    /// Market orders: the worst fill price accepted, in percent away from
    /// the mid (a trigger order executing at market: from the trigger
    /// price). Default: the exchange's `market_slippage_percent`, else the
    /// plugin's.
    #[serde(default)]
    pub max_slippage_percent: Option<Decimal>,
    /// Stop and take-profit orders: the price that triggers them.
    #[serde(default)]
    pub trigger_price: Option<Decimal>,
    /// Stop and take-profit orders: the price their trigger watches
    /// (default: the mark).
    #[serde(default)]
    pub trigger_reference: Option<TriggerReference>,
    /// A take-profit placed, reduce-only, once the order is done.
    #[serde(default)]
    pub take_profit: Option<Exit>,
    /// A stop-loss placed, reduce-only, once the order is done.
    #[serde(default)]
    pub stop_loss: Option<Exit>,
    /// An exit the host places: the entry it belongs to (never from a
    /// client).
    #[serde(skip)]
    pub parent: Option<ClientOrderId>,
}

impl OrderCommand {
    /// True when the order may only reduce a position.
    pub fn is_reduce_only(&self) -> bool {
        self.reduce_only || self.position_action == Some(PositionAction::Close)
    }
}

/// How a market's positions are margined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginMode {
    /// One margin for every position of the account.
    Cross,
    /// Each position its own margin.
    Isolated,
}

/// Why a command was refused. The `code` is part of the command protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The exchange has no such market (or it is not configured).
    #[error("unknown trading pair `{0}`")]
    UnknownMarket(String),
    /// A price, size or other field is not acceptable.
    #[error("{0}")]
    InvalidOrder(String),
    /// A market order needs a price reference and the book is not in sync.
    #[error("no reliable mid price for {0}: the book is not in sync")]
    NoMarketPrice(String),
    /// No such order.
    #[error(
        "unknown order {0} (an order closed longer ago than `closed_order_retention_ms` is only in the journal)"
    )]
    UnknownOrder(ClientOrderId),
    /// The order is already in a final state.
    #[error("order {id} is already {state}")]
    OrderClosed {
        /// The order.
        id: ClientOrderId,
        /// Its final state.
        state: String,
    },
    /// The order has a cancel under way: it cannot be modified.
    #[error("order {0} has a cancel under way")]
    CancelPending(ClientOrderId),
    /// The client order id is in use.
    #[error("client order id {0} is already in use")]
    DuplicateId(ClientOrderId),
    /// The host is shutting down (or halted) and takes no new orders.
    #[error("not accepting orders: {0}")]
    NotAccepting(String),
    /// A setting (leverage) the market does not allow.
    #[error("{0}")]
    InvalidSetting(String),
    /// The exchange refused the request (its words).
    #[error("the exchange refused: {0}")]
    Rejected(String),
    /// The venue cannot do it.
    #[error("{0}")]
    Unsupported(String),
    /// No answer came: whether the exchange took it is not known.
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(String),
    /// A risk limit refused the order or modify: nothing is tracked,
    /// journaled or sent.
    #[error("order {id} refused: {refusal}")]
    RiskLimit {
        /// The order's client order id.
        id: ClientOrderId,
        /// The limit and the numbers.
        refusal: super::risk::Refusal,
    },
}

impl CommandError {
    /// The error code in replies.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::UnknownMarket(_) => "unknown_market",
            CommandError::InvalidOrder(_) => "invalid_order",
            CommandError::NoMarketPrice(_) => "no_market_price",
            CommandError::UnknownOrder(_) => "unknown_order",
            CommandError::OrderClosed { .. } => "order_closed",
            CommandError::CancelPending(_) => "cancel_pending",
            CommandError::DuplicateId(_) => "duplicate_client_order_id",
            CommandError::NotAccepting(_) => "not_accepting",
            CommandError::RiskLimit { .. } => "risk_limit",
            CommandError::InvalidSetting(_) => "invalid_setting",
            CommandError::Rejected(_) => "rejected",
            CommandError::Unsupported(_) => "unsupported",
            CommandError::OutcomeUnknown(_) => "outcome_unknown",
        }
    }
}
