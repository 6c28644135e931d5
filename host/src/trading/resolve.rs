//! Settling what is not known: a status query by client order id, once the
//! action in doubt can no longer take effect; and the refill after every
//! (re)connect of the user stream or restart — the exchange replays
//! nothing.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use abi_stable::std_types::ROption;
use plugin_api::{Event, Operation, OrderRef, OutcomeKind, VenueOrderStatus};
use tracing::{info, warn};

use super::Inner;
use super::outcomes::RESOLVE_MARGIN_MS;
use crate::order::{ClientOrderId, FailureCause, OrderState, UnknownOutcome};
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

impl Inner {
    pub(super) fn order_ref(&self, id: ClientOrderId) -> Option<OrderRef> {
        let order = self.tracker.get(id)?;
        let market = self.market(&order.trading_pair)?;
        Some(OrderRef {
            client_id: id.to_string().into(),
            exchange_order_id: order.exchange_order_id.map(Into::into).into(),
            market,
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
        if !order.submission_in_doubt() {
            warn!(exchange = %self.exchange, order = %id, state = %order.state, "exchange does not know a live order");
            return;
        }
        if let Some(unknown) = &order.outcome_unknown
            && unknown.resolve_after_ms >= now_ms()
        {
            return self.spawn_resolve(id, unknown.resolve_after_ms + 1);
        }
        match self
            .tracker
            .fail(id, FailureCause::NotFoundAfterDeadline, now_ms())
        {
            Ok(()) => {
                info!(exchange = %self.exchange, order = %id, "not found after its deadline: failed")
            }
            Err(error) => warn!(exchange = %self.exchange, "{error}"),
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
                || self.is_replaced(id, &update.exchange_order_id)
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
        if self.reconcile_scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let inner = Arc::clone(self);
        self.runtime.spawn(async move {
            tokio::time::sleep(RECONCILE_COALESCE).await;
            inner.reconcile_scheduled.store(false, Ordering::Release);
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
        let mut listed: HashSet<ClientOrderId> = HashSet::new();
        match self.querier.events(Operation::FetchOpenOrders).await {
            Ok(events) => {
                for event in &events {
                    if let Event::Order(update) = event {
                        self.apply_venue_order(update);
                        let client_id = update.client_id.as_ref().into_option().map(|s| s.as_str());
                        let Some(id) = self.order_of(client_id, &update.exchange_order_id) else {
                            continue;
                        };
                        listed.insert(id);
                        let closed = self.tracker.get(id).is_some_and(|o| o.state.is_terminal());
                        if closed && !self.is_replaced(id, &update.exchange_order_id) {
                            let this = Arc::clone(self);
                            self.runtime
                                .spawn(async move { this.confirm_live(id).await });
                        }
                    }
                }
            }
            Err(error) => warn!(exchange = %self.exchange, "open orders refill failed: {error}"),
        }
        let now = now_ms();
        for order in self.tracker.active_orders() {
            let id = order.client_order_id;
            if listed.contains(&id)
                || order.exchange != self.exchange
                || order.creation_timestamp_ms >= asked_at_ms
            {
                continue;
            }
            let in_flight = order.state == OrderState::PendingCreate || order.submission_in_doubt();
            if !in_flight {
                self.spawn_resolve(id, now);
                continue;
            }
            if gap == Gap::None {
                // This process is sending it: its answer, or the lack of
                // one, settles it.
                continue;
            }
            // Sent, or perhaps sent just before a crash (the journal is
            // written behind), or cancelled while its sending was in doubt:
            // the outcome is unknown until its deadline.
            let deadline = order
                .outcome_unknown
                .as_ref()
                .map(|u| u.resolve_after_ms)
                .unwrap_or(order.last_update_timestamp_ms + self.expiry_ms + RESOLVE_MARGIN_MS);
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
        let last = self.last_fill_ms.load(Ordering::Relaxed);
        let since_ms = if last == 0 {
            now.saturating_sub(FILL_LOOKBACK_MS)
        } else {
            last.saturating_sub(FILL_OVERLAP_MS)
        };
        self.refill_fills(since_ms).await;
        info!(exchange = %self.exchange, "orders and fills reconciled with the exchange");
    }

    /// Counts every fill the exchange has since `since_ms` (duplicates are
    /// ignored by trade id).
    pub(super) async fn refill_fills(self: &Arc<Self>, since_ms: u64) {
        match self
            .querier
            .events(Operation::FetchFills { since_ms })
            .await
        {
            Ok(events) => {
                for event in &events {
                    if let Event::Fill(fill) = event
                        && !self.apply_fill(fill)
                    {
                        self.spawn_adopt_then_fill(fill.clone());
                    }
                }
            }
            Err(error) => warn!(exchange = %self.exchange, "fills refill failed: {error}"),
        }
    }

    /// A fill for an own order the host does not track: learn the order
    /// from the exchange, then count the fill.
    pub(super) fn spawn_adopt_then_fill(self: &Arc<Self>, fill: plugin_api::Fill) {
        let Some(id) = fill
            .client_id
            .as_ref()
            .into_option()
            .and_then(|text| text.parse::<ClientOrderId>().ok())
            .filter(|id| self.ids.is_own(*id))
        else {
            return;
        };
        let Some(market) = self.market_of_venue(&fill.market) else {
            return;
        };
        let this = Arc::clone(self);
        self.runtime.spawn(async move {
            let target = OrderRef {
                client_id: id.to_string().into(),
                exchange_order_id: ROption::RSome(fill.exchange_order_id.clone()),
                market,
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
    }
}
