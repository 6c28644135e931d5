//! What answers and exchange reports do to orders. One mapping from the
//! venue's order status to the host's state serves every source: the reply
//! to a request, the user stream, a status query, a refill.

use plugin_api::{Fill, Outcome, OutcomeKind, VenueOrderStatus};
use tracing::{debug, info, warn};

use super::Inner;
use super::modify::Settling;
use crate::order::{
    ClientOrderId, FailureCause, InFlightOrder, NewOrder, OrderState, OrderType, OrderUpdate,
    TimeInForce, TradeType, TradeUpdate, UnknownOutcome,
};
use crate::runtime::Delivery;
use crate::runtime::clock::now_ms;

/// After an action's validity deadline, wait this much longer (clock skew)
/// before concluding from a status query.
pub const RESOLVE_MARGIN_MS: u64 = 2_000;

/// An order the exchange says filled whose fills have not all arrived by
/// then gets its fills refilled from the exchange.
const FILLS_EXPECTED_WITHIN_MS: u64 = 3_000;

/// The host state an exchange report means for `order`. Two words depend
/// on the order: a cancelled immediate order (IOC, market) is `EXPIRED`,
/// as its placement answer says (its remainder was never meant to rest);
/// and a rejection of an order that was already live — acknowledged under
/// an exchange id — is `CANCELLED`: where a modify cancels the original
/// before placing the replacement, a rejected replacement leaves the order
/// gone, not failed. An exit the exchange held with its entry and refused
/// when the entry filled (its trigger already passed) was never on the
/// book: `FAILED`.
pub fn venue_state(status: VenueOrderStatus, order: &InFlightOrder) -> Option<OrderState> {
    let has_fills = !order.filled_amount.is_zero();
    let live = if has_fills {
        OrderState::PartiallyFilled
    } else {
        OrderState::Open
    };
    let was_live = has_fills
        || (order.exchange_order_id.is_some()
            && matches!(
                order.state,
                OrderState::Open | OrderState::PartiallyFilled | OrderState::PendingCancel
            ));
    match status {
        VenueOrderStatus::OPEN
        | VenueOrderStatus::PARTIALLY_FILLED
        | VenueOrderStatus::TRIGGERED
        | VenueOrderStatus::UNTRIGGERED => Some(live),
        VenueOrderStatus::FILLED => Some(OrderState::Filled),
        VenueOrderStatus::CANCELLED if is_immediate(order) => Some(OrderState::Expired),
        VenueOrderStatus::CANCELLED => Some(OrderState::Cancelled),
        VenueOrderStatus::EXPIRED => Some(OrderState::Expired),
        VenueOrderStatus::REJECTED if was_live => Some(OrderState::Cancelled),
        VenueOrderStatus::REJECTED => Some(OrderState::Failed),
        _ => None,
    }
}

impl Inner {
    pub(super) fn update(
        &self,
        id: ClientOrderId,
        state: OrderState,
        exchange_order_id: Option<String>,
        reason: Option<String>,
    ) {
        let result = self.tracker.process_order_update(&OrderUpdate {
            client_order_id: id,
            exchange_order_id,
            new_state: state,
            timestamp_ms: now_ms(),
            reason,
        });
        if let Err(error) = result {
            // Reports arrive from several sources in any order; a stale one
            // is refused by the tracker and changes nothing.
            debug!(exchange = %self.exchange, "report not applied: {error}");
        }
    }

    fn fail(&self, id: ClientOrderId, cause: FailureCause) {
        if let Err(error) = self.tracker.fail(id, cause, now_ms()) {
            warn!(exchange = %self.exchange, "{error}");
        }
    }

    /// The outcome of a placement is unknown: resolve it by a status query
    /// once the action can no longer take effect.
    pub(super) fn unknown(
        self: &std::sync::Arc<Self>,
        id: ClientOrderId,
        reason: String,
        valid_until_ms: u64,
    ) {
        let resolve_after_ms = valid_until_ms + RESOLVE_MARGIN_MS;
        info!(exchange = %self.exchange, order = %id, %reason, "outcome unknown; resolving by query after the deadline");
        let marked = self.tracker.mark_outcome_unknown(
            id,
            UnknownOutcome {
                reason,
                since_ms: now_ms(),
                resolve_after_ms,
            },
        );
        if marked.is_ok() {
            self.spawn_resolve(id, resolve_after_ms);
        }
    }

    /// Applies the answer to a placement of `ids` (in request order): an
    /// answer with one item per order is read item by item (whatever the
    /// whole's outcome: a venue may name the first refusal there); else the
    /// whole's outcome, or its loss, is each order's fate.
    pub(super) fn apply_place(
        self: &std::sync::Arc<Self>,
        ids: &[ClientOrderId],
        delivery: Delivery,
        valid_until_ms: u64,
    ) {
        /// What becomes of every order of a placement answered as a whole.
        enum Fate {
            Failed(FailureCause),
            Unknown(String),
        }
        let fate = match delivery {
            Delivery::Refused(error) => {
                Fate::Failed(FailureCause::NotSent(format!("plugin: {error}")))
            }
            Delivery::NotSent(reason) => Fate::Failed(FailureCause::NotSent(reason)),
            Delivery::NotDelivered(reason) => Fate::Failed(FailureCause::NotDelivered(reason)),
            Delivery::Unknown(reason) => Fate::Unknown(reason),
            Delivery::Answered(reply) if reply.items.len() == ids.len() => {
                for (id, item) in ids.iter().zip(reply.items.iter()) {
                    self.apply_placed_item(*id, item, valid_until_ms);
                }
                return;
            }
            Delivery::Answered(reply) => match reply.outcome.kind {
                OutcomeKind::ACCEPTED => {
                    Fate::Unknown("accepted without an order status".to_owned())
                }
                OutcomeKind::REJECTED => {
                    Fate::Failed(FailureCause::Rejected(reply.outcome.message.to_string()))
                }
                OutcomeKind::NOT_PROCESSED => Fate::Failed(FailureCause::NotProcessed(
                    reply.outcome.message.to_string(),
                )),
                _ => Fate::Unknown(reply.outcome.message.to_string()),
            },
        };
        for id in ids {
            match &fate {
                Fate::Failed(cause) => self.fail(*id, cause.clone()),
                Fate::Unknown(reason) => self.unknown(*id, reason.clone(), valid_until_ms),
            }
        }
    }

    fn apply_placed_item(
        self: &std::sync::Arc<Self>,
        id: ClientOrderId,
        item: &Outcome,
        valid_until_ms: u64,
    ) {
        let exchange_id = item
            .exchange_order_id
            .as_ref()
            .into_option()
            .map(|s| s.to_string());
        match item.kind {
            OutcomeKind::ACCEPTED => {
                let Some(order) = self.tracker.get(id) else {
                    return;
                };
                let state = match item.filled_size.into_option() {
                    // An exit the exchange holds with its entry: sent, not
                    // on the book until the entry fills; the exchange names
                    // its id when it places it (or refuses it then).
                    None if exchange_id.is_none() && self.is_held_exit(&order) => return,
                    // Filled whole: acknowledged; its fills complete it.
                    Some(filled) if filled.to_decimal() >= order.spec.amount => {
                        self.update(id, OrderState::Open, exchange_id, None);
                        return self.exchange_says_filled(id);
                    }
                    // Nothing rests: the rest was cancelled (an IOC remainder).
                    Some(_) if is_immediate(&order) => OrderState::Expired,
                    Some(_) => OrderState::Cancelled,
                    None => OrderState::Open,
                };
                self.update(id, state, exchange_id, None);
            }
            OutcomeKind::REJECTED => {
                self.fail(id, FailureCause::Rejected(item.message.to_string()))
            }
            OutcomeKind::NOT_PROCESSED => {
                self.fail(id, FailureCause::NotProcessed(item.message.to_string()))
            }
            _ => self.unknown(id, item.message.to_string(), valid_until_ms),
        }
    }

    /// Applies the answer to a cancel of `ids` (in request order): only the
    /// exchange's word, or a status query, decides what became of each.
    pub(super) fn apply_cancel(
        self: &std::sync::Arc<Self>,
        ids: &[ClientOrderId],
        delivery: Delivery,
        valid_until_ms: u64,
    ) {
        match delivery {
            Delivery::Answered(reply) if reply.outcome.kind == OutcomeKind::ACCEPTED => {
                for (index, id) in ids.iter().enumerate() {
                    match reply.items.get(index).map(|item| item.kind) {
                        Some(OutcomeKind::ACCEPTED) => {
                            self.update(*id, OrderState::Cancelled, None, None)
                        }
                        // Not found (filled first?), refused, unfamiliar:
                        // ask the exchange.
                        _ => self.spawn_resolve_cancel(*id, now_ms()),
                    }
                }
            }
            Delivery::Unknown(_) => {
                for id in ids {
                    self.spawn_resolve_cancel(*id, valid_until_ms + RESOLVE_MARGIN_MS);
                }
            }
            _ => {
                for id in ids {
                    self.spawn_resolve_cancel(*id, now_ms());
                }
            }
        }
    }

    /// Applies the answer to a modify of `id` to `(price, amount)` that
    /// replaces the exchange id `replaced`; says what is left to settle it.
    pub(super) fn apply_modify(
        &self,
        id: ClientOrderId,
        (price, amount, base): (
            rust_decimal::Decimal,
            rust_decimal::Decimal,
            rust_decimal::Decimal,
        ),
        replaced: Option<&str>,
        delivery: Delivery,
        valid_until_ms: u64,
    ) -> Settling {
        let reply = match delivery {
            Delivery::Answered(reply) if reply.outcome.kind == OutcomeKind::ACCEPTED => reply,
            Delivery::Answered(reply) => {
                warn!(exchange = %self.exchange, order = %id, "modify refused: {}", reply.outcome.message);
                return Settling::QueryAt(now_ms());
            }
            // The venue's status query settles which order is live.
            Delivery::Unknown(_) => return Settling::QueryAt(valid_until_ms + RESOLVE_MARGIN_MS),
            Delivery::Refused(error) => {
                warn!(exchange = %self.exchange, order = %id, "modify not built: {error}");
                if let Some(oid) = replaced {
                    self.replaced.forget(id, oid);
                }
                return Settling::Done;
            }
            Delivery::NotSent(reason) | Delivery::NotDelivered(reason) => {
                warn!(exchange = %self.exchange, order = %id, "modify not sent: {reason}");
                if let Some(oid) = replaced {
                    self.replaced.forget(id, oid);
                }
                return Settling::Done;
            }
        };
        match reply.items.first() {
            Some(item) if item.kind == OutcomeKind::ACCEPTED => {
                let exchange_id = item
                    .exchange_order_id
                    .as_ref()
                    .into_option()
                    .map(|s| s.to_string());
                if let Some(oid) = replaced
                    && exchange_id.as_deref() == Some(oid)
                {
                    // Amended in place: the id still
                    // names the live order.
                    self.replaced.forget(id, oid);
                }
                if let Err(error) =
                    self.tracker
                        .amend(id, price, amount, base, exchange_id, now_ms())
                {
                    warn!(exchange = %self.exchange, "{error}");
                }
                Settling::Done
            }
            other => {
                warn!(exchange = %self.exchange, order = %id, "modify not applied: {:?}", other.map(|i| &i.message));
                Settling::QueryAt(now_ms())
            }
        }
    }

    /// The tracked order an exchange report is about.
    pub(super) fn order_of(
        &self,
        client_id: Option<&str>,
        exchange_order_id: &str,
    ) -> Option<ClientOrderId> {
        client_id
            .and_then(|text| text.parse::<ClientOrderId>().ok())
            .filter(|id| self.tracker.get(*id).is_some())
            .or_else(|| self.tracker.find_by_exchange_id(exchange_order_id))
    }

    /// Applies an exchange report about an order: its state, and a changed
    /// price or size (a modify seen from the exchange's side). Own orders
    /// the host does not track (recognised by the client-id prefix) are
    /// adopted; other accounts' orders are left alone.
    pub(super) fn apply_venue_order(self: &std::sync::Arc<Self>, update: &plugin_api::OrderUpdate) {
        let client_id = update.client_id.as_ref().into_option().map(|s| s.as_str());
        let id = match self.order_of(client_id, &update.exchange_order_id) {
            Some(id) => id,
            None => match client_id.and_then(|text| text.parse::<ClientOrderId>().ok()) {
                Some(id) if self.ids.is_own(id) => match self.adopt(id, update) {
                    Some(id) => id,
                    None => return,
                },
                _ => {
                    debug!(exchange = %self.exchange, oid = %update.exchange_order_id, "report about an order not ours");
                    return;
                }
            },
        };
        self.tracker
            .index_exchange_id(id, update.exchange_order_id.as_str());
        let Some(order) = self.tracker.get(id) else {
            return;
        };
        if update.status != VenueOrderStatus::FILLED
            && self.replaced.contains(id, &update.exchange_order_id)
        {
            // The replaced order's cancel (or a stale "open") says nothing
            // about the order. Its fill does: the modify then fails.
            debug!(exchange = %self.exchange, order = %id, oid = %update.exchange_order_id, "report about a replaced exchange id");
            return;
        }
        if order.spec.order_type.is_trigger()
            && matches!(
                update.status,
                VenueOrderStatus::TRIGGERED
                    | VenueOrderStatus::PARTIALLY_FILLED
                    | VenueOrderStatus::FILLED
            )
        {
            let _ = self.tracker.mark_triggered(id, update.time_ms);
        }
        // The venue's size counts from the fills before the exchange's order
        // was placed (a modify under way may just have placed a new one).
        let base = match order.exchange_order_id.as_deref() {
            Some(current) if current == update.exchange_order_id.as_str() => order.venue_size_base,
            _ => self
                .modifies
                .venue_size_base(id)
                .unwrap_or(order.venue_size_base),
        };
        let (price, venue_size) = (update.price.to_decimal(), update.size.to_decimal());
        let size = venue_size.checked_add(base).unwrap_or(venue_size);
        // A changed price or size is a modify seen from the exchange's side
        // (a market order's limit is the plugin's protective price, not a
        // change).
        if !order.state.is_terminal()
            && !order.spec.order_type.is_market()
            && !price.is_zero()
            && !venue_size.is_zero()
            && (price != order.spec.price || size != order.spec.amount)
        {
            let _ = self.tracker.amend(
                id,
                price,
                size,
                base,
                Some(update.exchange_order_id.to_string()),
                now_ms(),
            );
        }
        if update.status == VenueOrderStatus::FILLED {
            return self.exchange_says_filled(id);
        }
        if let Some(state) = venue_state(update.status, &order) {
            // A report that the order is live may predate our cancel: it
            // does not undo a cancel in flight (only the cancel's own
            // failure does, see `apply_after_failed_cancel`).
            if order.state == OrderState::PendingCancel && !state.is_terminal() {
                return;
            }
            let reason = (!update.reason.is_empty()).then(|| update.reason.to_string());
            self.update(
                id,
                state,
                Some(update.exchange_order_id.to_string()),
                reason,
            );
        }
    }

    /// Applies a status query made because a cancel did not succeed: if the
    /// order is still live, the cancel failed and the order is live again.
    pub(super) fn apply_after_failed_cancel(
        self: &std::sync::Arc<Self>,
        update: &plugin_api::OrderUpdate,
    ) {
        let client_id = update.client_id.as_ref().into_option().map(|s| s.as_str());
        let live = self
            .order_of(client_id, &update.exchange_order_id)
            .and_then(|id| Some((id, self.tracker.get(id)?)))
            .and_then(|(id, order)| {
                let state = venue_state(update.status, &order)?;
                (order.state == OrderState::PendingCancel && !state.is_terminal())
                    .then_some((id, state))
            });
        match live {
            Some((id, state)) => self.update(id, state, None, Some("cancel refused".into())),
            None => self.apply_venue_order(update),
        }
    }

    /// Starts tracking an own order found on the exchange (after a crash
    /// before the journal recorded it).
    fn adopt(&self, id: ClientOrderId, update: &plugin_api::OrderUpdate) -> Option<ClientOrderId> {
        let trading_pair = self
            .symbol_of_venue(update.market.as_str())
            .unwrap_or_else(|| update.market.to_string());
        // Its type is a guess either way; one the venue reports waiting for
        // (or past) its trigger is a trigger order, which a venue may route
        // apart (a separate service for conditional orders).
        let order_type = match update.status {
            VenueOrderStatus::UNTRIGGERED | VenueOrderStatus::TRIGGERED => OrderType::StopLimit,
            _ => OrderType::Limit,
        };
        let mut order = InFlightOrder::new(NewOrder {
            client_order_id: id,
            exchange: self.exchange.clone(),
            trading_pair,
            order_type,
            trade_type: if update.side == plugin_api::Side::SELL {
                TradeType::Sell
            } else {
                TradeType::Buy
            },
            position_action: None,
            time_in_force: TimeInForce::Gtc,
            price: update.price.to_decimal(),
            amount: update.size.to_decimal(),
            trigger_price: None,
            trigger_reference: None,
            exits: None,
            parent: None,
            creation_timestamp_ms: update.time_ms,
        });
        order.state = OrderState::PendingSubmit;
        order.exchange_order_id = Some(update.exchange_order_id.to_string());
        info!(exchange = %self.exchange, order = %id, "adopting an own order found on the exchange");
        self.tracker.adopt(order).ok()
    }

    /// The exchange says the order filled. Its fills complete it (so that
    /// subscribers see the fills before `FILLED`); if they have not all
    /// arrived soon, they are refilled from the exchange, and the order is
    /// closed on the exchange's word whatever the refill found.
    pub(super) fn exchange_says_filled(self: &std::sync::Arc<Self>, id: ClientOrderId) {
        let Some(order) = self.tracker.get(id) else {
            return;
        };
        if order.state.is_terminal() {
            return;
        }
        if order.filled_amount >= order.spec.amount {
            return self.update(id, OrderState::Filled, None, None);
        }
        let this = std::sync::Arc::clone(self);
        self.runtime.spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(FILLS_EXPECTED_WITHIN_MS)).await;
            let waiting = this.tracker.get(id).is_some_and(|o| !o.state.is_terminal());
            if waiting {
                this.refill_fills(order.spec.creation_timestamp_ms).await;
                this.update(id, OrderState::Filled, None, None);
            }
        });
    }

    /// Counts a fill of one of our orders.
    pub(super) fn apply_fill(&self, fill: &Fill) -> FillApplied {
        let client_id = fill.client_id.as_ref().into_option().map(|s| s.as_str());
        let Some(id) = self.order_of(client_id, &fill.exchange_order_id) else {
            return FillApplied::OrderUnknown;
        };
        let trade = TradeUpdate {
            trade_id: fill.trade_id.to_string(),
            client_order_id: id,
            exchange_order_id: Some(fill.exchange_order_id.to_string()),
            fill_price: fill.price.to_decimal(),
            fill_amount: fill.size.to_decimal(),
            fee: fill.fee.to_decimal(),
            fee_asset: fill.fee_asset.to_string(),
            timestamp_ms: fill.time_ms,
        };
        // A trigger order that fills has been triggered.
        let _ = self.tracker.mark_triggered(id, fill.time_ms);
        match self.tracker.process_trade_update(&trade) {
            Ok(crate::order::FillResult::Counted) => {
                self.refills.saw_fill(fill.time_ms);
                self.account.refresh_soon();
                FillApplied::Counted
            }
            Ok(crate::order::FillResult::Duplicate) => FillApplied::AlreadyCounted,
            Err(error) => {
                warn!(exchange = %self.exchange, "fill not applied: {error}");
                FillApplied::AlreadyCounted
            }
        }
    }
}

/// What became of a fill the exchange reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FillApplied {
    /// Counted now.
    Counted,
    /// Counted before (or refused by the tracker, which says why).
    AlreadyCounted,
    /// Its order is not tracked (yet).
    OrderUnknown,
}

/// IOC and market orders never rest: what does not fill at once expires.
fn is_immediate(order: &InFlightOrder) -> bool {
    order.spec.order_type == OrderType::Market || order.spec.time_in_force != TimeInForce::Gtc
}
