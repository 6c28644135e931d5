//! Cancels: of orders the host tracks, and of this host's orders the
//! exchange lists as open whatever the host thinks of them (`cancel_all`
//! and the kill switch), so that an order the host lost track of is not
//! left behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use abi_stable::std_types::RVec;
use plugin_api::{Event, Operation};
use tracing::warn;

use super::Inner;
use crate::order::{ClientOrderId, OrderState, OrderUpdate};
use crate::runtime::clock::now_ms;

/// `cancel_all` asks for the exchange's open orders at most this often, ms.
pub const LISTING_INTERVAL_MS: u64 = 10_000;

/// When `cancel_all` last asked for the exchange's open orders.
#[derive(Debug, Default)]
pub(super) struct ListingPace {
    last_ms: AtomicU64,
}

impl ListingPace {
    /// Whether `cancel_all` may ask for the exchange's open orders at
    /// `now_ms` (and, if so, it is counted as asked).
    pub(super) fn due(&self, now_ms: u64) -> bool {
        let last = self.last_ms.load(Ordering::Relaxed);
        now_ms.saturating_sub(last) >= LISTING_INTERVAL_MS
            && self
                .last_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

impl Inner {
    /// Cancels `ids`, as many to a request as the venue takes.
    pub(super) fn spawn_cancels(self: &Arc<Self>, ids: &[ClientOrderId]) {
        let batch = self.manifest.max_batch.max(1) as usize;
        for chunk in ids.chunks(batch) {
            self.spawn_cancel(chunk.to_vec());
        }
    }

    /// Cancels `ids` in one request; each becomes `PENDING_CANCEL` as it
    /// leaves, and the answer (or a status query) decides what became of it.
    pub(super) fn spawn_cancel(self: &Arc<Self>, ids: Vec<ClientOrderId>) {
        let inner = Arc::clone(self);
        self.runtime.spawn(async move {
            // An order still being signed cannot be cancelled by id yet.
            inner
                .wait_while_placing(&ids, |state| state == OrderState::PendingCreate)
                .await;
            let mut targets = Vec::new();
            let mut sent = Vec::new();
            for id in ids {
                let Some(order) = inner.tracker.get(id) else {
                    continue;
                };
                if order.state.is_terminal() || order.state == OrderState::PendingCreate {
                    continue;
                }
                let Some(target) = inner.order_ref(id) else {
                    continue;
                };
                let _ = inner.tracker.process_order_update(&OrderUpdate {
                    client_order_id: id,
                    exchange_order_id: None,
                    new_state: OrderState::PendingCancel,
                    timestamp_ms: now_ms(),
                    reason: None,
                });
                targets.push(target);
                sent.push(id);
            }
            // As the venue's batches of at most its `max_batch`.
            let batch = inner.batch_size();
            for (targets, sent) in targets.chunks(batch).zip(sent.chunks(batch)) {
                let operation =
                    plugin_api::operation(Operation::CancelOrders(RVec::from(targets.to_vec())));
                let (delivery, expires) = inner.deliver(&operation, || {}, || {}).await;
                inner.apply_cancel(sent, delivery, expires);
            }
        });
    }

    /// Asks the exchange for the open orders (of `pair`, if given) and
    /// cancels every one of this host's that was created before
    /// `asked_at_ms` (an order placed after the `cancel_all` is not its
    /// business — nor one of the same millisecond: an order the host had
    /// lost track of is older, and one it tracks is cancelled already): an own
    /// order the host does not track is adopted first, one it holds as
    /// closed is reopened once the exchange confirms it is live (see
    /// `confirm_live`).
    pub(super) async fn cancel_listed(self: &Arc<Self>, pair: Option<&str>, asked_at_ms: u64) {
        let events = match self.querier.events(Operation::FetchOpenOrders).await {
            Ok(events) => events,
            Err(error) => {
                warn!(exchange = %self.exchange, "open orders not listed for the cancel: {error}");
                return;
            }
        };
        let mut ids = Vec::new();
        for event in &events {
            let Event::Order(update) = event else {
                continue;
            };
            let Some(id) = self.own_listed(update) else {
                continue;
            };
            let Some(order) = self.tracker.get(id) else {
                continue;
            };
            if pair.is_some_and(|pair| order.spec.trading_pair != pair)
                || order.spec.creation_timestamp_ms >= asked_at_ms
            {
                continue;
            }
            if order.state.is_terminal() {
                self.confirm_live(id).await;
            }
            if self.tracker.get(id).is_some_and(|order| {
                !order.state.is_terminal() && order.state != OrderState::PendingCancel
            }) {
                ids.push(id);
            }
        }
        if !ids.is_empty() {
            warn!(exchange = %self.exchange, orders = ids.len(), "cancelling own orders the exchange lists as open that the host was not cancelling");
            self.spawn_cancels(&ids);
        }
    }
}
