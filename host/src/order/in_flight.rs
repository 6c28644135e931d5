//! `InFlightOrder`: everything the host knows about one order.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Fill, Fills, NewOrder, OrderState, TradeUpdate, UnknownOutcome};

/// One order, from the moment it is tracked to its final state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InFlightOrder {
    /// The order as it was asked for, validated and quantized (price and
    /// amount change with each modify).
    #[serde(flatten)]
    pub spec: NewOrder,
    /// The exchange's id, once known.
    pub exchange_order_id: Option<String>,
    /// Current state.
    pub state: OrderState,
    /// Executed size so far.
    pub filled_amount: Decimal,
    /// What had executed when the exchange's current order of it was
    /// placed: on a venue whose modify places what is left anew
    /// ([`plugin_api::ModifySize::REMAINING`]), the exchange's sizes of the
    /// order count from here. Zero everywhere else.
    #[serde(default)]
    pub venue_size_base: Decimal,
    /// Σ price × size of the executions (exact).
    pub filled_notional: Decimal,
    /// Fees by asset (exact sums).
    pub fees: BTreeMap<String, Decimal>,
    /// The asset of the first fee paid.
    pub fee_asset: Option<String>,
    /// Time of the last change, ms.
    pub last_update_timestamp_ms: u64,
    /// Set while the outcome of its submission is unknown.
    pub outcome_unknown: Option<UnknownOutcome>,
    /// Why it failed or was cancelled, if known.
    pub reason: Option<String>,
    /// Fills received after the order was complete or closed (kept, never
    /// dropped: they are money).
    pub anomalies: u32,
    /// Its executions, each once.
    #[serde(default)]
    pub fills: Fills,
    /// A stop or take-profit order whose trigger fired.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub triggered: bool,
    /// Tracked quietly, and the listeners that wait for an announcement
    /// have not heard of it yet (see `ClientOrderTracker::start_tracking_quietly`).
    #[serde(skip)]
    pub(super) unannounced: bool,
}

impl InFlightOrder {
    /// Whether its placement may or may not have reached the exchange:
    /// sent without an answer yet, or cancelled before the exchange ever
    /// acknowledged it.
    pub fn submission_in_doubt(&self) -> bool {
        match self.state {
            OrderState::PendingSubmit => true,
            OrderState::PendingCancel => {
                self.exchange_order_id.is_none() && self.filled_amount.is_zero()
            }
            _ => false,
        }
    }

    /// A freshly tracked order in `PENDING_CREATE`.
    pub fn new(order: NewOrder) -> InFlightOrder {
        InFlightOrder {
            exchange_order_id: None,
            state: OrderState::PendingCreate,
            filled_amount: Decimal::ZERO,
            venue_size_base: Decimal::ZERO,
            filled_notional: Decimal::ZERO,
            fees: BTreeMap::new(),
            fee_asset: None,
            last_update_timestamp_ms: order.creation_timestamp_ms,
            outcome_unknown: None,
            reason: None,
            anomalies: 0,
            fills: Fills::default(),
            triggered: false,
            unannounced: false,
            spec: order,
        }
    }

    /// Volume-weighted average execution price, if anything filled.
    pub fn average_executed_price(&self) -> Option<Decimal> {
        self.filled_notional.checked_div(self.filled_amount)
    }

    /// The fee paid in the order's main fee asset (zero before any fill).
    pub fn fee_paid(&self) -> Decimal {
        self.fee_asset
            .as_ref()
            .and_then(|asset| self.fees.get(asset))
            .copied()
            .unwrap_or(Decimal::ZERO)
    }

    /// Size still to fill.
    pub fn remaining_amount(&self) -> Decimal {
        self.spec
            .amount
            .saturating_sub(self.filled_amount)
            .max(Decimal::ZERO)
    }

    /// True when this trade id was already counted.
    pub fn has_trade(&self, trade_id: &str) -> bool {
        self.fills.contains(trade_id)
    }

    /// How many distinct fills were counted.
    pub fn fill_count(&self) -> usize {
        self.fills.len()
    }

    /// Adds a fill's amounts unless its trade id was counted before.
    /// Returns whether it was counted, or `None` (and changes nothing) when
    /// the sums would leave the exact decimal range — no real fill does.
    /// Does not change the state.
    pub fn record_fill(&mut self, trade: &TradeUpdate) -> Option<bool> {
        if self.fills.contains(&trade.trade_id) {
            return Some(false);
        }
        let filled_amount = self.filled_amount.checked_add(trade.fill_amount)?;
        let filled_notional = trade
            .fill_price
            .checked_mul(trade.fill_amount)
            .and_then(|notional| self.filled_notional.checked_add(notional))?;
        let fee = self
            .fees
            .get(&trade.fee_asset)
            .copied()
            .unwrap_or(Decimal::ZERO)
            .checked_add(trade.fee)?;
        self.fills.push(Fill::from(trade));
        if let Some(exchange_id) = &trade.exchange_order_id {
            self.exchange_order_id = Some(exchange_id.clone());
        }
        self.filled_amount = filled_amount;
        self.filled_notional = filled_notional;
        self.fees.insert(trade.fee_asset.clone(), fee);
        if self.fee_asset.is_none() {
            self.fee_asset = Some(trade.fee_asset.clone());
        }
        self.last_update_timestamp_ms = self.last_update_timestamp_ms.max(trade.timestamp_ms);
        Some(true)
    }
}
