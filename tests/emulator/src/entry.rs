//! The core's venue-neutral order entry: what every front end turns its
//! order requests into ([`OrderEntry`], [`OrderTarget`]) and what the core
//! answers ([`Placement`]). Front ends translate both ways; the core knows no
//! venue's wire format.

use rust_decimal::Decimal;

use crate::book::Oid;
use crate::orders::OrderState;

/// How long a limit order may rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeInForce {
    /// Rests until cancelled.
    GoodTillCancel,
    /// Takes what it can at once; the rest is cancelled.
    ImmediateOrCancel,
    /// Only rests: refused when it would take.
    PostOnly,
}

/// Which exit a trigger order is; with the side it fixes whether the order
/// fires when the mark rises or falls to its price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerKind {
    /// Take profit: a sell fires on a rise, a buy on a fall.
    TakeProfit,
    /// Stop loss: a sell fires on a fall, a buy on a rise.
    StopLoss,
}

/// The trigger of a conditional order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriggerSpec {
    /// Price the mark (or the last trade) must reach.
    pub price: Decimal,
    /// Execute at market once fired (else as a limit order at the entry's price).
    pub is_market: bool,
    /// Take profit or stop loss.
    pub kind: TriggerKind,
    /// Watch the last trade's price instead of the mark.
    pub on_last_trade: bool,
}

impl TriggerKind {
    /// The kind of an order on side `is_buy` that fires when the mark rises
    /// to its price (`rises`) or falls to it.
    pub fn firing(rises: bool, is_buy: bool) -> Self {
        if rises != is_buy {
            TriggerKind::TakeProfit
        } else {
            TriggerKind::StopLoss
        }
    }
}

/// Limit order or conditional order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A limit order with its time in force.
    Limit(TimeInForce),
    /// A conditional order waiting for its trigger.
    Trigger(TriggerSpec),
}

/// A client's 16-byte order id, kept by the core for lookups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientId(pub [u8; 16]);

/// One new order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEntry {
    /// Market index.
    pub market: usize,
    /// Buy side.
    pub is_buy: bool,
    /// Limit price (for a market trigger, the price checks use).
    pub price: Decimal,
    /// Size in the market's base unit.
    pub size: Decimal,
    /// Only reduces a position.
    pub reduce_only: bool,
    /// Limit or conditional.
    pub kind: EntryKind,
    /// The client's id, if any.
    pub client_id: Option<ClientId>,
    /// When a resting order expires (ms; state `Expired` at the first block
    /// after it), if ever.
    pub good_till: Option<u64>,
}

/// The order a cancel or replacement names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderTarget {
    /// By the core's order id.
    Oid(Oid),
    /// By the client's id.
    Client(ClientId),
}

/// What became of one new order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Resting in the book, or a conditional order waiting.
    Resting {
        /// Its id.
        oid: Oid,
    },
    /// Filled at once, or an immediate-or-cancel order that partly filled.
    Filled {
        /// Its id.
        oid: Oid,
        /// Size filled.
        total: Decimal,
        /// Average price.
        avg_px: Decimal,
    },
    /// Refused; `oid` and `state` are set when the core recorded the order.
    Refused {
        /// The recorded order, if any.
        oid: Option<Oid>,
        /// Its final state, if recorded.
        state: Option<OrderState>,
        /// The core's text.
        message: String,
    },
}

impl Placement {
    /// A refusal that left no record.
    pub fn unrecorded(message: impl Into<String>) -> Self {
        Placement::Refused {
            oid: None,
            state: None,
            message: message.into(),
        }
    }

    /// The recorded order's id, if any.
    pub fn oid(&self) -> Option<Oid> {
        match self {
            Placement::Resting { oid } | Placement::Filled { oid, .. } => Some(*oid),
            Placement::Refused { oid, .. } => *oid,
        }
    }
}

impl serde::Serialize for ClientId {
    /// `0x` and 32 lower-case hex digits.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("0x{}", hex::encode(self.0)))
    }
}
