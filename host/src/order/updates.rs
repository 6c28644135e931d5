//! What changes an order: state updates and trades, from whatever source.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    ClientOrderId, Exits, OrderState, OrderType, PositionAction, TimeInForce, TradeType,
    TriggerReference,
};

/// A new order to track. Everything the host knows before sending it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOrder {
    /// The client order id.
    pub client_order_id: ClientOrderId,
    /// The configured exchange connection it goes to.
    pub exchange: String,
    /// The host's market symbol, e.g. `BTC-USD`.
    pub trading_pair: String,
    /// How it is priced.
    pub order_type: OrderType,
    /// Buy or sell.
    pub trade_type: TradeType,
    /// Open or close (reduce-only), if said.
    pub position_action: Option<PositionAction>,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Limit price (for market orders: the reference price).
    pub price: Decimal,
    /// Size in base units.
    pub amount: Decimal,
    /// Stop and take-profit orders: the price that triggers them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_price: Option<Decimal>,
    /// Stop and take-profit orders: the price their trigger watches
    /// (records from before it was kept: the mark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_reference: Option<TriggerReference>,
    /// An entry's take-profit and stop-loss, placed once it is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exits: Option<Exits>,
    /// An exit: the entry it was attached to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ClientOrderId>,
    /// Creation time, ms since the epoch.
    pub creation_timestamp_ms: u64,
}

impl NewOrder {
    /// Whether this entry's exits went with it for the exchange to hold.
    pub fn exits_held_by_exchange(&self) -> bool {
        self.exits.is_some_and(|exits| exits.held_by_exchange)
    }
}

/// A change of state reported for an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderUpdate {
    /// The order.
    pub client_order_id: ClientOrderId,
    /// The exchange's id, if this update carries it.
    pub exchange_order_id: Option<String>,
    /// The new state. `FAILED` here means the exchange rejected the order.
    pub new_state: OrderState,
    /// When it happened, ms since the epoch.
    pub timestamp_ms: u64,
    /// Why (rejection or cancellation reason), if known.
    pub reason: Option<String>,
}

/// One execution of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeUpdate {
    /// The exchange's unique id of the fill; fills are deduplicated by it.
    pub trade_id: String,
    /// The order.
    pub client_order_id: ClientOrderId,
    /// The exchange's order id, if known.
    pub exchange_order_id: Option<String>,
    /// Execution price.
    pub fill_price: Decimal,
    /// Executed size.
    pub fill_amount: Decimal,
    /// Fee paid (negative for a rebate).
    pub fee: Decimal,
    /// The asset of the fee.
    pub fee_asset: String,
    /// When it happened, ms since the epoch.
    pub timestamp_ms: u64,
}

/// Why an order is failed. The tracker accepts each cause only where it is
/// proof: once an order may have reached the exchange, only the exchange
/// can say it did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureCause {
    /// It never left the host (invalid, refused by a risk limit, signing
    /// failed).
    NotSent(String),
    /// The exchange rejected it.
    Rejected(String),
    /// The exchange answered that it did not process it (a rate limit, an
    /// overload): it never took effect.
    NotProcessed(String),
    /// It was handed to a transport that proved it never reached the
    /// exchange (the connection was refused before anything was sent).
    NotDelivered(String),
    /// The exchange has no trace of it after its submission's expiry
    /// deadline passed.
    NotFoundAfterDeadline,
}

impl FailureCause {
    /// Whether an order's failure `reason` (as [`reason`](Self::reason)
    /// wrote it) proves it never took effect on the exchange: lost on the
    /// way, refused by the transport before anything was sent, or not
    /// processed by the exchange.
    pub fn never_reached(reason: &str) -> bool {
        reason == FailureCause::NotFoundAfterDeadline.reason()
            || reason.starts_with(NOT_DELIVERED)
            || reason.starts_with(NOT_PROCESSED)
    }

    /// The text published as the failure reason.
    pub fn reason(&self) -> String {
        match self {
            FailureCause::NotSent(reason) => format!("not sent: {reason}"),
            FailureCause::Rejected(reason) => format!("rejected: {reason}"),
            FailureCause::NotDelivered(reason) => format!("{NOT_DELIVERED}{reason}"),
            FailureCause::NotProcessed(reason) => format!("{NOT_PROCESSED}{reason}"),
            FailureCause::NotFoundAfterDeadline => {
                "not found on the exchange after its expiry deadline".to_owned()
            }
        }
    }
}

/// How the reason of a failure not delivered starts.
const NOT_DELIVERED: &str = "not delivered: ";
/// How the reason of a failure not processed starts.
const NOT_PROCESSED: &str = "not processed: ";

/// A submission whose outcome is not known (timeout, connection reset, an
/// unfamiliar answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownOutcome {
    /// What made it unknown.
    pub reason: String,
    /// When it became unknown, ms.
    pub since_ms: u64,
    /// After this time (ms) the submission can no longer take effect
    /// (its validity deadline), so a query settles it.
    pub resolve_after_ms: u64,
}
