//! The vocabulary of orders, as the seed design names it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How an order is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    /// A limit order.
    Limit,
    /// A market order.
    Market,
    /// A post-only limit order: rejected rather than taking liquidity.
    LimitMaker,
    /// A stop: a market order once the trigger price is reached.
    StopMarket,
    /// A stop: a limit order once the trigger price is reached.
    StopLimit,
    /// A take-profit: a market order once the trigger price is reached.
    TakeProfitMarket,
    /// A take-profit: a limit order once the trigger price is reached.
    TakeProfitLimit,
}

impl OrderType {
    /// Every order type.
    pub const ALL: [OrderType; 7] = [
        OrderType::Limit,
        OrderType::Market,
        OrderType::LimitMaker,
        OrderType::StopMarket,
        OrderType::StopLimit,
        OrderType::TakeProfitMarket,
        OrderType::TakeProfitLimit,
    ];

    /// Whether it waits for a trigger price (stops and take-profits).
    pub fn is_trigger(self) -> bool {
        matches!(
            self,
            OrderType::StopMarket
                | OrderType::StopLimit
                | OrderType::TakeProfitMarket
                | OrderType::TakeProfitLimit
        )
    }

    /// Whether it executes at market (a trigger order: once triggered).
    pub fn is_market(self) -> bool {
        matches!(
            self,
            OrderType::Market | OrderType::StopMarket | OrderType::TakeProfitMarket
        )
    }
}

/// The price a trigger order's trigger watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TriggerReference {
    /// The mark price (the host's default on every venue).
    #[default]
    Mark,
    /// The last traded price.
    Last,
}

impl TriggerReference {
    /// Both references.
    pub const ALL: [TriggerReference; 2] = [TriggerReference::Mark, TriggerReference::Last];
}

/// A take-profit or stop-loss attached to an entry: held by the exchange
/// with the entry where it can (see [`Exits::held_by_exchange`]), else
/// placed by the host, reduce-only, for what filled once the entry is done
/// (filled, or cancelled or expired after fills).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// The price that fires it.
    pub trigger_price: rust_decimal::Decimal,
    /// The limit it places once fired; none: at market.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<rust_decimal::Decimal>,
    /// The price its trigger watches (default: the mark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_reference: Option<TriggerReference>,
}

/// The exits attached to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Exits {
    /// Takes the profit: fires when the price moves the position's way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub take_profit: Option<Exit>,
    /// Stops the loss: fires when the price moves against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_loss: Option<Exit>,
    /// Sent with the entry for the exchange to hold: it places them when
    /// the entry fills and cancels one when the other fills. Otherwise the
    /// host places them once the entry is done.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held_by_exchange: bool,
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeType {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

/// Whether an order opens or closes a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PositionAction {
    /// Opens or adds to a position.
    Open,
    /// Only reduces a position (reduce-only).
    Close,
}

/// How long an order stays on the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimeInForce {
    /// Good till cancelled.
    #[default]
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
}

/// Where an order is in its life.
///
/// `Filled`, `Cancelled`, `Failed` and `Expired` are terminal: nothing moves
/// an order out of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderState {
    /// Tracked by the host; nothing has been sent yet.
    PendingCreate,
    /// Sent (or being sent) to the exchange; no answer yet, or the answer
    /// was lost.
    PendingSubmit,
    /// Resting on the book, nothing filled.
    Open,
    /// Resting on the book, partly filled.
    PartiallyFilled,
    /// A cancel was sent; not yet confirmed.
    PendingCancel,
    /// Completely filled.
    Filled,
    /// Cancelled (possibly after partial fills).
    Cancelled,
    /// Proven never to have reached the book.
    Failed,
    /// Expired (an IOC remainder, a time limit).
    Expired,
}

impl OrderState {
    /// True for the four final states.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Cancelled | OrderState::Failed | OrderState::Expired
        )
    }

    /// True once the order may be on the exchange's book.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            OrderState::PendingSubmit
                | OrderState::Open
                | OrderState::PartiallyFilled
                | OrderState::PendingCancel
        )
    }

    /// The seed's upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::PendingCreate => "PENDING_CREATE",
            OrderState::PendingSubmit => "PENDING_SUBMIT",
            OrderState::Open => "OPEN",
            OrderState::PartiallyFilled => "PARTIALLY_FILLED",
            OrderState::PendingCancel => "PENDING_CANCEL",
            OrderState::Filled => "FILLED",
            OrderState::Cancelled => "CANCELLED",
            OrderState::Failed => "FAILED",
            OrderState::Expired => "EXPIRED",
        }
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
