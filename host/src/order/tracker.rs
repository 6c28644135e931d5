//! `ClientOrderTracker`: the single place where orders change state.
//!
//! Thread-safe (orders are sharded over mutexes); every change is validated
//! ([`state::check`](super::state::check)), fills are deduplicated by trade
//! id and summed exactly, and every listener sees every change, in order,
//! for each order.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use rust_decimal::Decimal;
use tracing::warn;

use super::state::{self, TransitionError};
use super::{
    ClientOrderId, FailureCause, InFlightOrder, NewOrder, OrderState, OrderUpdate, TradeUpdate,
    UnknownOutcome,
};

const SHARDS: usize = 16;

/// A change the tracker made, as listeners see it.
#[derive(Debug, Clone, Copy)]
pub enum OrderEvent<'a> {
    /// A new order is tracked.
    Created(&'a InFlightOrder),
    /// The order changed state.
    StateChanged {
        /// The order after the change.
        order: &'a InFlightOrder,
        /// Its state before.
        previous: OrderState,
    },
    /// A new (not duplicate) fill was counted. Comes after the state change
    /// the fill caused, if any.
    Filled {
        /// The order after the fill.
        order: &'a InFlightOrder,
        /// The fill.
        trade: &'a TradeUpdate,
    },
    /// The outcome of the order's submission became unknown.
    OutcomeUnknown(&'a InFlightOrder),
    /// The order's price or size was changed (a modify the exchange
    /// accepted).
    Amended(&'a InFlightOrder),
    /// A stop or take-profit order's trigger fired: it now works as the
    /// order it sends.
    Triggered(&'a InFlightOrder),
}

/// Receives every change. Called with the order's shard locked, so it must
/// be quick (queue the event, append a line to a file) and must not call
/// back into the tracker.
pub trait OrderListener: Send + Sync {
    /// One change.
    fn on_event(&self, event: &OrderEvent<'_>);

    /// True for a listener that hears of an order tracked quietly at once
    /// (the journal: an accepted order is on file before it can be sent);
    /// the others hear of it when it is announced.
    fn hears_quiet_orders(&self) -> bool {
        false
    }
}

/// Why the tracker refused something.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrackerError {
    /// No such order.
    #[error("unknown order {0}")]
    UnknownOrder(ClientOrderId),
    /// The id is already tracked.
    #[error("order {0} is already tracked")]
    DuplicateOrder(ClientOrderId),
    /// The state change is not allowed.
    #[error("order {id}: {error}")]
    Transition {
        /// The order.
        id: ClientOrderId,
        /// Why.
        error: TransitionError,
    },
    /// A failure without proof: the order may be on the exchange.
    #[error("order {id} is {state}{unknown}; `{cause}` does not prove it failed", unknown = if *.outcome_unknown { " with an unknown outcome" } else { "" })]
    FailureWithoutProof {
        /// The order.
        id: ClientOrderId,
        /// Its state.
        state: OrderState,
        /// Whether its outcome was unknown.
        outcome_unknown: bool,
        /// The refused cause.
        cause: String,
    },
    /// A fill with a non-positive size or price, or one so large that the
    /// order's sums leave the exact decimal range.
    #[error(
        "order {id}: fill {trade_id} has size {amount} at price {price}; both must be positive and in range"
    )]
    InvalidFill {
        /// The order.
        id: ClientOrderId,
        /// The fill.
        trade_id: String,
        /// Its size.
        amount: Decimal,
        /// Its price.
        price: Decimal,
    },
}

/// What a fill did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillResult {
    /// Counted.
    Counted,
    /// Already counted before (same trade id); ignored.
    Duplicate,
}

/// Tracks every order of one host.
pub struct ClientOrderTracker {
    shards: Vec<Mutex<HashMap<ClientOrderId, InFlightOrder>>>,
    by_exchange_id: Mutex<HashMap<String, ClientOrderId>>,
    listeners: RwLock<Vec<Arc<dyn OrderListener>>>,
}

impl Default for ClientOrderTracker {
    fn default() -> Self {
        ClientOrderTracker::new()
    }
}

impl ClientOrderTracker {
    /// An empty tracker.
    pub fn new() -> ClientOrderTracker {
        ClientOrderTracker {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            by_exchange_id: Mutex::new(HashMap::new()),
            listeners: RwLock::new(Vec::new()),
        }
    }

    /// Adds a listener for every later change.
    pub fn add_listener(&self, listener: Arc<dyn OrderListener>) {
        self.listeners
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(listener);
    }

    fn shard(&self, id: ClientOrderId) -> MutexGuard<'_, HashMap<ClientOrderId, InFlightOrder>> {
        let mixed = (id.0 ^ (id.0 >> 32) ^ (id.0 >> 64)) as usize;
        self.shards[mixed % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn emit(&self, event: OrderEvent<'_>) {
        self.emit_to(&event, |_| true);
    }

    /// Tells the listeners `told` picks.
    fn emit_to(&self, event: &OrderEvent<'_>, told: impl Fn(&dyn OrderListener) -> bool) {
        for listener in self
            .listeners
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|listener| told(listener.as_ref()))
        {
            listener.on_event(event);
        }
    }

    /// Starts tracking a new order in `PENDING_CREATE` and tells the
    /// listeners.
    pub fn start_tracking(&self, order: NewOrder) -> Result<ClientOrderId, TrackerError> {
        let id = self.start_tracking_quietly(order)?;
        self.announce_created(id);
        Ok(id)
    }

    /// Starts tracking a new order and tells only the listeners that
    /// [hear of quiet orders](OrderListener::hears_quiet_orders) (the
    /// journal), so that the others' work (events) can wait until the order
    /// is under way. They hear of it at
    /// [`announce_created`](Self::announce_created) or just before its
    /// first change, whichever comes first: never a change before the
    /// creation.
    pub fn start_tracking_quietly(&self, order: NewOrder) -> Result<ClientOrderId, TrackerError> {
        let id = order.client_order_id;
        let mut shard = self.shard(id);
        if shard.contains_key(&id) {
            return Err(TrackerError::DuplicateOrder(id));
        }
        let order = shard.entry(id).or_insert_with(|| InFlightOrder::new(order));
        self.emit_to(&OrderEvent::Created(order), |listener| {
            listener.hears_quiet_orders()
        });
        order.unannounced = true;
        Ok(id)
    }

    /// Tells the other listeners about an order tracked quietly (once:
    /// nothing if they have heard of it).
    pub fn announce_created(&self, id: ClientOrderId) {
        let mut shard = self.shard(id);
        if let Some(order) = shard.get_mut(&id) {
            self.announce_if_quiet(order);
        }
    }

    /// Emits the creation of an order tracked quietly, with its shard
    /// locked, if it has not been emitted yet.
    fn announce_if_quiet(&self, order: &mut InFlightOrder) {
        if order.unannounced {
            order.unannounced = false;
            self.emit_to(&OrderEvent::Created(order), |listener| {
                !listener.hears_quiet_orders()
            });
        }
    }

    /// Tracks an order found on the exchange (or in the journal) as is.
    /// Used by recovery; the order keeps the state it has.
    pub fn adopt(&self, order: InFlightOrder) -> Result<ClientOrderId, TrackerError> {
        let id = order.spec.client_order_id;
        let mut shard = self.shard(id);
        if shard.contains_key(&id) {
            return Err(TrackerError::DuplicateOrder(id));
        }
        let order = shard.entry(id).or_insert(order);
        if let Some(exchange_id) = &order.exchange_order_id {
            self.index(id, exchange_id);
        }
        self.emit(OrderEvent::Created(order));
        Ok(id)
    }

    /// A copy of one order.
    pub fn get(&self, id: ClientOrderId) -> Option<InFlightOrder> {
        self.shard(id).get(&id).cloned()
    }

    /// Copies of every order that is not in a final state.
    pub fn active_orders(&self) -> Vec<InFlightOrder> {
        self.collect(|order| !order.state.is_terminal())
    }

    /// Copies of every tracked order.
    pub fn all_orders(&self) -> Vec<InFlightOrder> {
        self.collect(|_| true)
    }

    fn collect(&self, keep: impl Fn(&InFlightOrder) -> bool) -> Vec<InFlightOrder> {
        let mut kept = Vec::new();
        self.visit(|order| {
            if keep(order) {
                kept.push(order.clone());
            }
        });
        kept
    }

    /// Shows every tracked order to `visit`, one shard locked at a time,
    /// without copying any.
    pub fn visit(&self, mut visit: impl FnMut(&InFlightOrder)) {
        for shard in &self.shards {
            shard
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .for_each(&mut visit);
        }
    }

    /// How many orders are tracked.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// True when no order is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops tracking the orders that reached a final state before
    /// `closed_before_ms` (the journal keeps them), so that a host running
    /// for weeks holds only recent orders — but not the closed orders of a
    /// live one (an entry's exits, closed while it still works: they say
    /// its exits were placed); returns how many were dropped.
    pub fn forget_closed(&self, closed_before_ms: u64) -> usize {
        let mut live = HashSet::new();
        self.visit(|order| {
            if !order.state.is_terminal() {
                live.insert(order.spec.client_order_id);
            }
        });
        let mut forgotten = HashSet::new();
        for shard in &self.shards {
            shard
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|id, order| {
                    let old = order.state.is_terminal()
                        && order.last_update_timestamp_ms < closed_before_ms
                        && !order
                            .spec
                            .parent
                            .is_some_and(|parent| live.contains(&parent));
                    if old {
                        forgotten.insert(*id);
                    }
                    !old
                });
        }
        if !forgotten.is_empty() {
            self.by_exchange_id
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, id| !forgotten.contains(id));
        }
        forgotten.len()
    }

    /// The order the exchange knows by `exchange_order_id`, if tracked.
    pub fn find_by_exchange_id(&self, exchange_order_id: &str) -> Option<ClientOrderId> {
        self.by_exchange_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(exchange_order_id)
            .copied()
    }

    fn index(&self, id: ClientOrderId, exchange_order_id: &str) {
        self.by_exchange_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(exchange_order_id.to_owned(), id);
    }

    /// Runs `change` on one order with its shard locked.
    fn with_order<T>(
        &self,
        id: ClientOrderId,
        change: impl FnOnce(&mut InFlightOrder, &dyn Fn(OrderEvent<'_>)) -> Result<T, TrackerError>,
    ) -> Result<T, TrackerError> {
        let mut shard = self.shard(id);
        let order = shard.get_mut(&id).ok_or(TrackerError::UnknownOrder(id))?;
        self.announce_if_quiet(order);
        change(order, &|event| self.emit(event))
    }

    /// A report about order `id` names it `exchange_order_id`: the order's
    /// fills, which may carry no client id (a venue's trade list), are
    /// found by that id from now on. The order's own exchange id — the
    /// venue's acknowledgement, which a rejection's id is not — and its
    /// state do not change.
    pub fn index_exchange_id(&self, id: ClientOrderId, exchange_order_id: &str) {
        if !exchange_order_id.is_empty() {
            self.index(id, exchange_order_id);
        }
    }

    /// The order is about to be sent: `PENDING_CREATE → PENDING_SUBMIT`.
    pub fn mark_submitted(&self, id: ClientOrderId, now_ms: u64) -> Result<(), TrackerError> {
        self.with_order(id, |order, emit| {
            set_state(order, OrderState::PendingSubmit, now_ms, emit)
        })
    }

    /// The submission's outcome is unknown. The order keeps its state; it
    /// can only be failed by the exchange's word or after `resolve_after_ms`.
    /// Ignored unless the order is still awaiting that outcome
    /// (`PENDING_SUBMIT`): the exchange may already have reported it.
    pub fn mark_outcome_unknown(
        &self,
        id: ClientOrderId,
        unknown: UnknownOutcome,
    ) -> Result<(), TrackerError> {
        self.with_order(id, |order, emit| {
            if !order.submission_in_doubt() {
                return Ok(());
            }
            order.last_update_timestamp_ms = unknown.since_ms;
            order.outcome_unknown = Some(unknown);
            emit(OrderEvent::OutcomeUnknown(order));
            Ok(())
        })
    }

    /// Applies a state update from the exchange (or a refill). A duplicate
    /// of the current state is accepted silently; an update that would move
    /// the order backwards is refused.
    pub fn process_order_update(&self, update: &OrderUpdate) -> Result<(), TrackerError> {
        if update.new_state == OrderState::Failed {
            let reason = update
                .reason
                .clone()
                .unwrap_or_else(|| "rejected by the exchange".to_owned());
            return self.fail(
                update.client_order_id,
                FailureCause::Rejected(reason),
                update.timestamp_ms,
            );
        }
        if let Some(exchange_id) = &update.exchange_order_id {
            self.index(update.client_order_id, exchange_id);
        }
        self.with_order(update.client_order_id, |order, emit| {
            if let Some(exchange_id) = &update.exchange_order_id {
                order.exchange_order_id = Some(exchange_id.clone());
            }
            // The exchange answered: the outcome is no longer unknown. (A
            // cancel request is the host's own word, not an answer.)
            if update.new_state != OrderState::PendingCancel
                && (update.new_state.is_live() || update.new_state.is_terminal())
            {
                order.outcome_unknown = None;
            }
            if update.reason.is_some() {
                order.reason = update.reason.clone();
            }
            set_state(order, update.new_state, update.timestamp_ms, emit)
        })
    }

    /// Counts a fill once. Fills of closed orders are still counted (they
    /// are money: a fill can cross a cancel or arrive after the exchange
    /// said "filled") without reopening the order; a fill beyond the
    /// order's size or on a failed order is flagged as an anomaly.
    pub fn process_trade_update(&self, trade: &TradeUpdate) -> Result<FillResult, TrackerError> {
        if let Some(exchange_id) = &trade.exchange_order_id {
            self.index(trade.client_order_id, exchange_id);
        }
        self.with_order(trade.client_order_id, |order, emit| {
            if trade.fill_amount <= Decimal::ZERO || trade.fill_price <= Decimal::ZERO {
                return Err(TrackerError::InvalidFill {
                    id: order.spec.client_order_id,
                    trade_id: trade.trade_id.clone(),
                    amount: trade.fill_amount,
                    price: trade.fill_price,
                });
            }
            match order.record_fill(trade) {
                Some(true) => {}
                Some(false) => return Ok(FillResult::Duplicate),
                None => {
                    return Err(TrackerError::InvalidFill {
                        id: order.spec.client_order_id,
                        trade_id: trade.trade_id.clone(),
                        amount: trade.fill_amount,
                        price: trade.fill_price,
                    });
                }
            }
            order.outcome_unknown = None;
            if order.state == OrderState::Failed || order.filled_amount > order.spec.amount {
                order.anomalies += 1;
                warn!(
                    order = %order.spec.client_order_id,
                    state = %order.state,
                    filled = %order.filled_amount,
                    amount = %order.spec.amount,
                    trade_id = %trade.trade_id,
                    "fill beyond the order's size or on a failed order; counted"
                );
            }
            if !order.state.is_terminal() {
                let next = if order.filled_amount >= order.spec.amount {
                    OrderState::Filled
                } else if order.state == OrderState::PendingCancel {
                    OrderState::PendingCancel
                } else {
                    OrderState::PartiallyFilled
                };
                set_state(order, next, trade.timestamp_ms, emit)?;
            }
            // After the state change, so that listeners see the fill with
            // the state it led to.
            emit(OrderEvent::Filled { order, trade });
            Ok(FillResult::Counted)
        })
    }

    /// Applies a modify the exchange accepted: new price and size (the
    /// total, fills included), the filled amount the exchange's sizes now
    /// count from (see [`InFlightOrder::venue_size_base`]), and the
    /// exchange's id of the replacement (a modify may change it). Ignored
    /// for an order already in a final state (the modify lost a race).
    pub fn amend(
        &self,
        id: ClientOrderId,
        price: rust_decimal::Decimal,
        amount: rust_decimal::Decimal,
        venue_size_base: rust_decimal::Decimal,
        exchange_order_id: Option<String>,
        now_ms: u64,
    ) -> Result<(), TrackerError> {
        if let Some(exchange_id) = &exchange_order_id {
            self.index(id, exchange_id);
        }
        self.with_order(id, |order, emit| {
            if order.state.is_terminal() {
                return Ok(());
            }
            order.spec.price = price;
            order.spec.amount = amount.max(order.filled_amount);
            order.venue_size_base = venue_size_base;
            if exchange_order_id.is_some() {
                order.exchange_order_id = exchange_order_id;
            }
            order.last_update_timestamp_ms = order.last_update_timestamp_ms.max(now_ms);
            emit(OrderEvent::Amended(order));
            Ok(())
        })
    }

    /// Notes that a trigger order's trigger fired (the exchange said so, or
    /// it filled); once. Does nothing to another order, or a closed one.
    pub fn mark_triggered(&self, id: ClientOrderId, now_ms: u64) -> Result<(), TrackerError> {
        self.with_order(id, |order, emit| {
            if order.triggered || order.state.is_terminal() || !order.spec.order_type.is_trigger() {
                return Ok(());
            }
            order.triggered = true;
            order.last_update_timestamp_ms = order.last_update_timestamp_ms.max(now_ms);
            emit(OrderEvent::Triggered(order));
            Ok(())
        })
    }

    /// Corrects an order the host closed while the exchange, asked
    /// afresh, still has it live: the one way out of a final state, taken
    /// only on the exchange's word (see the reconciliation). The order
    /// becomes `OPEN` (`PARTIALLY_FILLED` with fills) with `reason` saying
    /// why; subscribers see that state change like any other. Does nothing
    /// to an order that is live.
    pub fn reopen(
        &self,
        id: ClientOrderId,
        exchange_order_id: String,
        reason: String,
        now_ms: u64,
    ) -> Result<(), TrackerError> {
        self.index(id, &exchange_order_id);
        self.with_order(id, |order, emit| {
            if !order.state.is_terminal() {
                return Ok(());
            }
            let previous = order.state;
            order.state = if order.filled_amount.is_zero() {
                OrderState::Open
            } else {
                OrderState::PartiallyFilled
            };
            order.exchange_order_id = Some(exchange_order_id);
            order.outcome_unknown = None;
            order.reason = Some(reason);
            order.last_update_timestamp_ms = order.last_update_timestamp_ms.max(now_ms);
            emit(OrderEvent::StateChanged { order, previous });
            Ok(())
        })
    }

    /// Fails an order, if `cause` proves it: anything proves it before the
    /// order was sent; after that, only the exchange's rejection or its
    /// absence once the submission's deadline has passed.
    pub fn fail(
        &self,
        id: ClientOrderId,
        cause: FailureCause,
        now_ms: u64,
    ) -> Result<(), TrackerError> {
        self.with_order(id, |order, emit| {
            // A cancel requested while the submission was in doubt does
            // not make the order any more real: the same proofs hold.
            let in_doubt = order.submission_in_doubt();
            let proven = match (&cause, order.state) {
                (_, OrderState::PendingCreate) => true,
                (FailureCause::NotSent(_), _) => false,
                (FailureCause::Rejected(_) | FailureCause::NotProcessed(_), _) => in_doubt,
                (FailureCause::NotDelivered(_), _) => in_doubt && order.outcome_unknown.is_none(),
                (FailureCause::NotFoundAfterDeadline, _) => {
                    in_doubt
                        && order
                            .outcome_unknown
                            .as_ref()
                            .is_some_and(|unknown| now_ms > unknown.resolve_after_ms)
                }
            };
            if !proven || !order.filled_amount.is_zero() {
                return Err(TrackerError::FailureWithoutProof {
                    id,
                    state: order.state,
                    outcome_unknown: order.outcome_unknown.is_some(),
                    cause: cause.reason(),
                });
            }
            order.outcome_unknown = None;
            order.reason = Some(cause.reason());
            set_state(order, OrderState::Failed, now_ms, emit)
        })
    }
}

fn set_state(
    order: &mut InFlightOrder,
    next: OrderState,
    now_ms: u64,
    emit: &dyn Fn(OrderEvent<'_>),
) -> Result<(), TrackerError> {
    if order.state == next {
        return Ok(());
    }
    state::check(order.state, next, !order.filled_amount.is_zero()).map_err(|error| {
        TrackerError::Transition {
            id: order.spec.client_order_id,
            error,
        }
    })?;
    let previous = order.state;
    order.state = next;
    order.last_update_timestamp_ms = order.last_update_timestamp_ms.max(now_ms);
    emit(OrderEvent::StateChanged { order, previous });
    Ok(())
}
