//! Settling what is not known: a status query by client order id, once the
//! action in doubt can no longer take effect; and the refill after every
//! (re)connect of the user stream or restart — the exchange replays
//! nothing.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use abi_stable::std_types::ROption;
use plugin_api::{Event, Operation, OrderRef, OutcomeKind, VenueOrderStatus};
use tracing::{debug, info, warn};

use super::Inner;
use super::outcomes::{FillApplied, RESOLVE_MARGIN_MS};
use crate::order::{ClientOrderId, FailureCause, InFlightOrder, OrderState, UnknownOutcome};
use crate::runtime::clock::now_ms;

/// Between failed status queries.
const QUERY_RETRY: Duration = Duration::from_secs(2);
/// Fills are refetched from a little before the last one seen.
const FILL_OVERLAP_MS: u64 = 60_000;
/// With no fill seen, refill this far back.
const FILL_LOOKBACK_MS: u64 = 24 * 3_600_000;
/// What a refill follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// Nothing: the streams have been up, and every action this process
    /// sent is still followed by its sender.
    None,
    /// A (re)connect of the user stream or a restart: updates may have been
    /// missed, and after a restart nothing follows the actions that were
    /// under way.
    Reconnected,
}

/// What one reconciliation found that the streams had not said.
#[derive(Debug, Default)]
struct Tally {
    /// Listed orders whose state or filled amount the list changed (or
    /// that the host learnt from it).
    orders_corrected: usize,
    /// Orders whose status is being asked for (unlisted, or listed open
    /// after the host had closed them).
    orders_in_question: usize,
    /// Fills counted from the refill.
    fills_recovered: usize,
    /// A query failed: the pass is incomplete.
    failed: bool,
}

impl Tally {
    fn found_something(&self) -> bool {
        self.orders_corrected + self.orders_in_question + self.fills_recovered > 0 || self.failed
    }
}

/// What a status query found.
pub(super) enum Report {
    /// The exchange's reports of the order.
    Found(Vec<plugin_api::OrderUpdate>),
    /// The exchange has never heard of it.
    NotFound,
    /// The host no longer tracks it (or its market): nothing to ask.
    Untracked,
}

/// A requested refill waits this long, so that a burst of requests makes one.
const RECONCILE_COALESCE: Duration = Duration::from_millis(250);

/// What the exchange's "never heard of it" means for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotFound {
    /// Nothing: the order was acknowledged, so the exchange is wrong or
    /// late (logged, never failed on that word alone).
    Live,
    /// Its submission may still take effect: ask again at this time.
    AskAgainAt(u64),
    /// Its submission can no longer take effect: it failed (at this time).
    Failed(u64),
}

fn not_found_verdict(order: &InFlightOrder, now: u64) -> NotFound {
    if !order.submission_in_doubt() {
        return NotFound::Live;
    }
    match &order.outcome_unknown {
        Some(unknown) if unknown.resolve_after_ms >= now => {
            NotFound::AskAgainAt(unknown.resolve_after_ms + 1)
        }
        _ => NotFound::Failed(now),
    }
}

/// What a refill does with a live order that the exchange's list of open
/// orders did not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unlisted {
    /// Leave it: created after the list was asked for, or still being sent
    /// by this process, whose answer settles it.
    Leave,
    /// Acknowledged, yet not listed: ask for its status now.
    QueryNow,
    /// Its sending was under way across a gap: its outcome is unknown
    /// until this deadline, then asked for.
    InDoubtUntil(u64),
}

fn unlisted(order: &InFlightOrder, gap: Gap, asked_at_ms: u64, expiry_ms: u64) -> Unlisted {
    if order.spec.creation_timestamp_ms >= asked_at_ms {
        return Unlisted::Leave;
    }
    let in_flight = order.state == OrderState::PendingCreate || order.submission_in_doubt();
    if !in_flight {
        return Unlisted::QueryNow;
    }
    if gap == Gap::None {
        return Unlisted::Leave;
    }
    // Sent, or perhaps sent just before a crash (the journal is written
    // behind), or cancelled while its sending was in doubt.
    Unlisted::InDoubtUntil(
        order
            .outcome_unknown
            .as_ref()
            .map(|u| u.resolve_after_ms)
            .unwrap_or(order.last_update_timestamp_ms + expiry_ms + RESOLVE_MARGIN_MS),
    )
}

/// When refills run, and from when they ask for fills.
#[derive(Debug)]
pub(super) struct Refills {
    /// A refill is scheduled (see `request_reconcile`).
    scheduled: AtomicBool,
    /// The time of the last fill counted, ms (0: none).
    last_fill_ms: AtomicU64,
}

impl Refills {
    /// Refills after the fills of the journal, the last at `last_fill_ms`.
    pub(super) fn new(last_fill_ms: u64) -> Refills {
        Refills {
            scheduled: AtomicBool::new(false),
            last_fill_ms: AtomicU64::new(last_fill_ms),
        }
    }

    /// Schedules one: false if one is scheduled already.
    fn schedule(&self) -> bool {
        !self.scheduled.swap(true, Ordering::AcqRel)
    }

    /// The scheduled one starts: the next request schedules another.
    fn started(&self) {
        self.scheduled.store(false, Ordering::Release);
    }

    /// A fill at `time_ms` was counted.
    pub(super) fn saw_fill(&self, time_ms: u64) {
        self.last_fill_ms.fetch_max(time_ms, Ordering::Relaxed);
    }

    /// From when a refill at `now` asks for fills.
    fn fills_since(&self, now: u64) -> u64 {
        fills_since(self.last_fill_ms.load(Ordering::Relaxed), now)
    }
}

/// From when a refill asks for fills: a little before the last one seen,
/// or a day back when none was.
fn fills_since(last_fill_ms: u64, now: u64) -> u64 {
    if last_fill_ms == 0 {
        now.saturating_sub(FILL_LOOKBACK_MS)
    } else {
        last_fill_ms.saturating_sub(FILL_OVERLAP_MS)
    }
}

impl Inner {
    pub(super) fn order_ref(&self, id: ClientOrderId) -> Option<OrderRef> {
        let order = self.tracker.get(id)?;
        let market = self.market(&order.spec.trading_pair)?;
        Some(OrderRef {
            client_id: id.to_string().into(),
            exchange_order_id: order.exchange_order_id.map(Into::into).into(),
            market,
            kind: super::prepare::order_kind(order.spec.order_type),
            triggered: order.triggered,
        })
    }

    /// Queries the order at `not_before_ms` (or now) and applies what the
    /// exchange says, retrying until it answers.
    pub(super) fn spawn_resolve(self: &Arc<Self>, id: ClientOrderId, not_before_ms: u64) {
        self.spawn_query(id, not_before_ms, false);
    }

    /// Like [`spawn_resolve`](Self::spawn_resolve), after a cancel that did
    /// not succeed: an order still live is live again.
    pub(super) fn spawn_resolve_cancel(self: &Arc<Self>, id: ClientOrderId, not_before_ms: u64) {
        self.spawn_query(id, not_before_ms, true);
    }

    fn spawn_query(
        self: &Arc<Self>,
        id: ClientOrderId,
        not_before_ms: u64,
        after_failed_cancel: bool,
    ) {
        let this = Arc::clone(self);
        self.runtime.spawn(async move {
            let wait = not_before_ms.saturating_sub(now_ms());
            tokio::time::sleep(Duration::from_millis(wait)).await;
            match this.fetch_report(id).await {
                Report::Found(updates) => {
                    for update in &updates {
                        if after_failed_cancel {
                            this.apply_after_failed_cancel(update);
                        } else {
                            this.apply_venue_order(update);
                        }
                    }
                }
                Report::NotFound => this.not_found(id),
                Report::Untracked => {}
            }
        });
    }

    /// What the exchange says of order `id` now, asking again until it
    /// answers.
    pub(super) async fn fetch_report(&self, id: ClientOrderId) -> Report {
        loop {
            let Some(target) = self.order_ref(id) else {
                return Report::Untracked;
            };
            match self
                .querier
                .reply(&plugin_api::operation(Operation::FetchOrder(target)))
                .await
            {
                Ok(reply) if reply.outcome.kind == OutcomeKind::ACCEPTED => {
                    let updates = reply
                        .events
                        .iter()
                        .filter_map(|event| match event.as_enum() {
                            Ok(Event::Order(update)) => Some(update.clone()),
                            _ => None,
                        })
                        .collect();
                    return Report::Found(updates);
                }
                Ok(reply) if reply.outcome.kind == OutcomeKind::NOT_FOUND => {
                    return Report::NotFound;
                }
                Ok(reply) => {
                    warn!(exchange = %self.exchange, order = %id, "status query: {}", reply.outcome.message)
                }
                Err(error) => {
                    warn!(exchange = %self.exchange, order = %id, "status query failed: {error}")
                }
            }
            tokio::time::sleep(QUERY_RETRY).await;
        }
    }

    /// The exchange has never heard of the order. Proof that it failed only
    /// if its submission can no longer take effect; asked again once it
    /// cannot, if that is still to come.
    pub(super) fn not_found(self: &Arc<Self>, id: ClientOrderId) {
        let Some(order) = self.tracker.get(id) else {
            return;
        };
        if self.waits_for_entry(&order) {
            // Its entry decides: the venue places it when the entry fills,
            // and it is dropped with an entry that ends unfilled.
            debug!(exchange = %self.exchange, order = %id, "an exit waiting for its entry is not on the book yet");
            return;
        }
        match not_found_verdict(&order, now_ms()) {
            NotFound::Live => {
                warn!(exchange = %self.exchange, order = %id, state = %order.state, "exchange does not know a live order");
            }
            NotFound::AskAgainAt(at_ms) => self.spawn_resolve(id, at_ms),
            NotFound::Failed(now) => {
                match self
                    .tracker
                    .fail(id, FailureCause::NotFoundAfterDeadline, now)
                {
                    Ok(()) => {
                        info!(exchange = %self.exchange, order = %id, "not found after its deadline: failed")
                    }
                    Err(error) => warn!(exchange = %self.exchange, "{error}"),
                }
            }
        }
    }

    /// The own order an exchange listing is about: tracked, or adopted
    /// now if it carries this host's client-id prefix. `None` for other
    /// accounts' and other hosts' orders.
    pub(super) fn own_listed(
        self: &Arc<Self>,
        update: &plugin_api::OrderUpdate,
    ) -> Option<ClientOrderId> {
        let client_id = update.client_id.as_ref().into_option().map(|s| s.as_str());
        if let Some(id) = self.order_of(client_id, &update.exchange_order_id) {
            return Some(id);
        }
        // Adopted if it is ours (the same path as a refill's).
        self.apply_venue_order(update);
        self.order_of(client_id, &update.exchange_order_id)
    }

    /// An order the host holds as closed was listed open by the exchange.
    /// A listing may predate the host's last word on the order, so the
    /// exchange is asked afresh; if it still has the order live (under an
    /// exchange id no modify replaced), the host was wrong: the order is
    /// reopened, and the exchange's price and size taken.
    pub(super) async fn confirm_live(self: &Arc<Self>, id: ClientOrderId) {
        let Report::Found(updates) = self.fetch_report(id).await else {
            return;
        };
        for update in &updates {
            let live = matches!(
                update.status,
                VenueOrderStatus::OPEN
                    | VenueOrderStatus::PARTIALLY_FILLED
                    | VenueOrderStatus::TRIGGERED
                    | VenueOrderStatus::UNTRIGGERED
            );
            let Some(order) = self.tracker.get(id) else {
                return;
            };
            if !live
                || !order.state.is_terminal()
                || self.replaced.contains(id, &update.exchange_order_id)
            {
                continue;
            }
            warn!(exchange = %self.exchange, order = %id, state = %order.state, oid = %update.exchange_order_id, "the exchange has an order open that the host had closed: reopened");
            let reason = format!(
                "reopened: the exchange has it open after the host had it {}",
                order.state
            );
            if let Err(error) =
                self.tracker
                    .reopen(id, update.exchange_order_id.to_string(), reason, now_ms())
            {
                warn!(exchange = %self.exchange, "{error}");
            }
            self.apply_venue_order(update);
        }
    }

    /// Refills soon, once for any burst of requests: a user-stream frame
    /// that could not be read may have carried an order update or a fill,
    /// and the exchange will not send it again.
    pub(super) fn request_reconcile(self: &Arc<Self>) {
        if !self.refills.schedule() {
            return;
        }
        let inner = Arc::clone(self);
        self.runtime.spawn(async move {
            tokio::time::sleep(RECONCILE_COALESCE).await;
            inner.refills.started();
            inner.reconcile(Gap::None).await;
        });
    }

    /// The refill: open orders, then every live order the exchange did not
    /// list, then fills since the last one seen. After a `gap`, orders
    /// whose sending was under way are in doubt too. Orders created after
    /// the list was asked for are left alone: the list cannot hold them,
    /// and this process is sending them.
    pub(super) async fn reconcile(self: &Arc<Self>, gap: Gap) {
        let asked_at_ms = now_ms();
        let mut tally = Tally::default();
        let mut listed: HashSet<ClientOrderId> = HashSet::new();
        match self.querier.events(Operation::FetchOpenOrders).await {
            Ok(events) => {
                for event in &events {
                    if let Event::Order(update) = event {
                        let client_id = update.client_id.as_ref().into_option().map(|s| s.as_str());
                        let before = self
                            .order_of(client_id, &update.exchange_order_id)
                            .and_then(|id| self.tracker.get(id))
                            .map(|order| (order.state, order.filled_amount));
                        self.apply_venue_order(update);
                        let Some(id) = self.order_of(client_id, &update.exchange_order_id) else {
                            continue;
                        };
                        listed.insert(id);
                        let after = self.tracker.get(id);
                        if before != after.as_ref().map(|o| (o.state, o.filled_amount)) {
                            tally.orders_corrected += 1;
                        }
                        let closed = after.is_some_and(|o| o.state.is_terminal());
                        if closed && !self.replaced.contains(id, &update.exchange_order_id) {
                            tally.orders_in_question += 1;
                            let this = Arc::clone(self);
                            self.runtime
                                .spawn(async move { this.confirm_live(id).await });
                        }
                    }
                }
            }
            Err(error) => {
                tally.failed = true;
                warn!(exchange = %self.exchange, "open orders refill failed: {error}");
            }
        }
        let now = now_ms();
        for order in self.tracker.active_orders() {
            let id = order.spec.client_order_id;
            if listed.contains(&id)
                || order.spec.exchange != self.exchange
                || self.waits_for_entry(&order)
            {
                continue;
            }
            // An exit the exchange held, its entry done: the exchange placed
            // it or refused it, and only it can say which.
            let verdict = match self.is_held_exit(&order) {
                true => Unlisted::QueryNow,
                false => unlisted(&order, gap, asked_at_ms, self.expiry_ms),
            };
            match verdict {
                Unlisted::Leave => {}
                Unlisted::QueryNow => {
                    tally.orders_in_question += 1;
                    self.spawn_resolve(id, now);
                }
                Unlisted::InDoubtUntil(deadline) => {
                    tally.orders_in_question += 1;
                    if order.state == OrderState::PendingCreate {
                        let _ = self.tracker.mark_submitted(id, now);
                    }
                    if order.outcome_unknown.is_none() {
                        let _ = self.tracker.mark_outcome_unknown(
                            id,
                            UnknownOutcome {
                                reason: "in flight when the host stopped or lost its stream".into(),
                                since_ms: now,
                                resolve_after_ms: deadline,
                            },
                        );
                    }
                    self.spawn_resolve(id, deadline);
                }
            }
        }
        let since_ms = self.refills.fills_since(now);
        match self.refill_fills(since_ms).await {
            Some(fills) => tally.fills_recovered = fills,
            None => tally.failed = true,
        }
        // The periodic pass is logged when it found something; a pass after
        // a reconnect or a restart always.
        if tally.found_something() || gap == Gap::Reconnected {
            info!(
                exchange = %self.exchange,
                orders_corrected = tally.orders_corrected,
                orders_in_question = tally.orders_in_question,
                fills_recovered = tally.fills_recovered,
                complete = !tally.failed,
                "orders and fills reconciled with the exchange"
            );
        } else {
            debug!(exchange = %self.exchange, "orders and fills reconciled: nothing to correct");
        }
    }

    /// Counts every fill the exchange has since `since_ms` (duplicates are
    /// ignored by trade id); how many were new, or `None` if the exchange
    /// did not answer.
    pub(super) async fn refill_fills(self: &Arc<Self>, since_ms: u64) -> Option<usize> {
        match self
            .querier
            .events(Operation::FetchFills { since_ms })
            .await
        {
            Ok(events) => {
                let mut recovered = 0;
                for event in &events {
                    let Event::Fill(fill) = event else { continue };
                    match self.apply_fill(fill) {
                        FillApplied::Counted => recovered += 1,
                        FillApplied::AlreadyCounted => {}
                        FillApplied::OrderUnknown => {
                            if self.spawn_adopt_then_fill(fill.clone()) {
                                recovered += 1;
                            }
                        }
                    }
                }
                Some(recovered)
            }
            Err(error) => {
                warn!(exchange = %self.exchange, "fills refill failed: {error}");
                None
            }
        }
    }

    /// A fill for an own order the host does not track: learn the order
    /// from the exchange, then count the fill. False when the fill is not
    /// of an own order (another client's on the same account).
    pub(super) fn spawn_adopt_then_fill(self: &Arc<Self>, fill: plugin_api::Fill) -> bool {
        let Some(id) = fill
            .client_id
            .as_ref()
            .into_option()
            .and_then(|text| text.parse::<ClientOrderId>().ok())
            .filter(|id| self.ids.is_own(*id))
        else {
            return false;
        };
        let Some(market) = self.market_of_venue(&fill.market) else {
            return false;
        };
        let this = Arc::clone(self);
        self.runtime.spawn(async move {
            let target = OrderRef {
                client_id: id.to_string().into(),
                exchange_order_id: ROption::RSome(fill.exchange_order_id.clone()),
                market,
                // A fill is of an order on the book: asked for as one.
                kind: plugin_api::OrderKind::LIMIT,
                triggered: false,
            };
            match this.querier.events(Operation::FetchOrder(target)).await {
                Ok(events) => {
                    for event in &events {
                        if let Event::Order(update) = event {
                            this.apply_venue_order(update);
                        }
                    }
                    this.apply_fill(&fill);
                }
                Err(error) => warn!(exchange = %this.exchange, order = %id, "cannot adopt the order of a fill: {error}"),
            }
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::order::{NewOrder, OrderType, TimeInForce, TradeType};

    const EXPIRY: u64 = 5_000;

    fn order(state: OrderState, created_ms: u64) -> InFlightOrder {
        let mut order = InFlightOrder::new(NewOrder {
            exits: None,
            parent: None,
            trigger_reference: None,
            client_order_id: ClientOrderId(7),
            exchange: "ex".into(),
            trading_pair: "BTC-USD".into(),
            order_type: OrderType::Limit,
            trade_type: TradeType::Buy,
            position_action: None,
            time_in_force: TimeInForce::Gtc,
            price: Decimal::from(100),
            amount: Decimal::ONE,
            creation_timestamp_ms: created_ms,
            trigger_price: None,
        });
        order.state = state;
        order
    }

    fn unknown_until(mut order: InFlightOrder, resolve_after_ms: u64) -> InFlightOrder {
        order.outcome_unknown = Some(UnknownOutcome {
            reason: "test".into(),
            since_ms: 0,
            resolve_after_ms,
        });
        order
    }

    #[test]
    fn an_acknowledged_order_the_exchange_does_not_know_is_not_failed() {
        assert_eq!(
            not_found_verdict(&order(OrderState::Open, 0), 10),
            NotFound::Live
        );
    }

    #[test]
    fn not_found_fails_a_submission_in_doubt_only_after_its_deadline() {
        let sent = unknown_until(order(OrderState::PendingSubmit, 0), 5_000);
        assert_eq!(not_found_verdict(&sent, 4_000), NotFound::AskAgainAt(5_001));
        assert_eq!(not_found_verdict(&sent, 5_000), NotFound::AskAgainAt(5_001));
        assert_eq!(not_found_verdict(&sent, 5_001), NotFound::Failed(5_001));
        let never_marked = order(OrderState::PendingSubmit, 0);
        assert_eq!(not_found_verdict(&never_marked, 3), NotFound::Failed(3));
    }

    #[test]
    fn a_refill_leaves_orders_created_after_it_asked() {
        let open = order(OrderState::Open, 1_000);
        assert_eq!(
            unlisted(&open, Gap::Reconnected, 1_000, EXPIRY),
            Unlisted::Leave
        );
        assert_eq!(
            unlisted(&open, Gap::Reconnected, 1_001, EXPIRY),
            Unlisted::QueryNow
        );
    }

    #[test]
    fn an_order_being_sent_is_left_to_its_sender_unless_there_was_a_gap() {
        let mut sending = order(OrderState::PendingSubmit, 0);
        sending.last_update_timestamp_ms = 100;
        assert_eq!(
            unlisted(&sending, Gap::None, 1_000, EXPIRY),
            Unlisted::Leave
        );
        assert_eq!(
            unlisted(&sending, Gap::Reconnected, 1_000, EXPIRY),
            Unlisted::InDoubtUntil(100 + EXPIRY + RESOLVE_MARGIN_MS)
        );
        let known_deadline = unknown_until(sending, 42_000);
        assert_eq!(
            unlisted(&known_deadline, Gap::Reconnected, 1_000, EXPIRY),
            Unlisted::InDoubtUntil(42_000),
            "a deadline already set is kept"
        );
    }

    #[test]
    fn a_burst_of_refill_requests_schedules_one() {
        let refills = Refills::new(0);
        assert!(refills.schedule());
        assert!(!refills.schedule());
        refills.started();
        assert!(
            refills.schedule(),
            "requests after the start schedule the next"
        );
    }

    #[test]
    fn the_fills_window_follows_the_latest_fill_counted() {
        let refills = Refills::new(500_000);
        refills.saw_fill(400_000);
        refills.saw_fill(900_000);
        assert_eq!(refills.fills_since(1_000_000), 900_000 - FILL_OVERLAP_MS);
    }

    #[test]
    fn fills_are_refetched_with_an_overlap_or_a_day_back() {
        let now = 10 * FILL_LOOKBACK_MS;
        assert_eq!(fills_since(0, now), now - FILL_LOOKBACK_MS);
        assert_eq!(fills_since(now - 5, now), now - 5 - FILL_OVERLAP_MS);
        assert_eq!(fills_since(0, 1_000), 0);
    }
}
