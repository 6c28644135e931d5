//! Modifies, one at a time per order. On a venue whose modify is
//! cancel-and-replace (the replacement gets a new exchange id), a second
//! modify aimed at the id the first one is replacing races the first one's
//! replacement; so a modify in flight holds the next one, which is sent,
//! aimed at whatever the first one left live, once the first has settled
//! (answered, or queried after its deadline). Of several modifies that
//! arrive meanwhile only the latest is held: it says what the strategy
//! wants now. A cancel drops a held modify.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use plugin_api::{Dec, ModifyRequest, ModifySize};
use rust_decimal::Decimal;
use tracing::{debug, warn};

use super::Inner;
use super::command::{CommandError, OrderCommand};
use super::resolve::Report;
use crate::order::{ClientOrderId, InFlightOrder, OrderState};
use crate::runtime::clock::now_ms;

/// A change of an order's price and/or size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amendment {
    /// The new price, if it changes.
    pub price: Option<Decimal>,
    /// The new size, if it changes.
    pub amount: Option<Decimal>,
}

impl Amendment {
    /// The order as it would be after the change, as a command for
    /// validation and quantization.
    pub fn applied_to(&self, order: &InFlightOrder) -> OrderCommand {
        OrderCommand {
            trading_pair: order.spec.trading_pair.clone(),
            trade_type: order.spec.trade_type,
            order_type: order.spec.order_type,
            time_in_force: order.spec.time_in_force,
            price: Some(self.price.unwrap_or(order.spec.price)),
            amount: self.amount.unwrap_or(order.spec.amount),
            position_action: order.spec.position_action,
            reduce_only: false,
            client_order_id: Some(order.spec.client_order_id),
            max_slippage_percent: None,
            trigger_price: order.spec.trigger_price,
            trigger_reference: order.spec.trigger_reference,
            // Checked against the new price as on entry.
            take_profit: order.spec.exits.and_then(|exits| exits.take_profit),
            stop_loss: order.spec.exits.and_then(|exits| exits.stop_loss),
            parent: order.spec.parent,
        }
    }
}

/// What became of a modify handed to [`Modifies::begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begun {
    /// No modify of the order was under way: send this one now.
    Now,
    /// Held until the one under way settles (replacing an earlier held one).
    Held,
}

/// The orders with a modify under way, and the modify each holds.
#[derive(Debug, Default)]
pub struct Modifies {
    under_way: Mutex<HashMap<ClientOrderId, UnderWayModify>>,
}

/// One order's modify under way.
#[derive(Debug, Default)]
struct UnderWayModify {
    /// The modify being sent.
    sending: Option<Amendment>,
    /// The modify to send once this one settles.
    held: Option<Amendment>,
    /// Once sent: the filled amount the venue's sizes of the order it
    /// places count from.
    venue_size_base: Option<Decimal>,
}

impl Modifies {
    /// Starts `amendment` of `id`, or holds it behind the one under way.
    pub fn begin(&self, id: ClientOrderId, amendment: Amendment) -> Begun {
        match self.lock().entry(id) {
            Entry::Occupied(mut under_way) => {
                under_way.get_mut().held = Some(amendment);
                Begun::Held
            }
            Entry::Vacant(slot) => {
                slot.insert(UnderWayModify {
                    sending: Some(amendment),
                    ..UnderWayModify::default()
                });
                Begun::Now
            }
        }
    }

    /// The size the latest modify of `id` asks for (held, else the one
    /// being sent), while one is under way.
    pub fn latest_amount(&self, id: ClientOrderId) -> Option<Decimal> {
        self.lock()
            .get(&id)
            .and_then(|modify| modify.held.or(modify.sending))
            .and_then(|amendment| amendment.amount)
    }

    /// The modify under way of `id` settled: the held one, to send next
    /// (the order stays under way), or `None` (it no longer is).
    pub fn settle(&self, id: ClientOrderId) -> Option<Amendment> {
        let mut under_way = self.lock();
        let next = under_way.get_mut(&id).and_then(|modify| {
            modify.venue_size_base = None;
            modify.sending = modify.held.take();
            modify.sending
        });
        if next.is_none() {
            under_way.remove(&id);
        }
        next
    }

    /// Drops the modify `id` holds, if any (its cancel was asked for).
    pub fn drop_held(&self, id: ClientOrderId) {
        if let Some(modify) = self.lock().get_mut(&id) {
            modify.held = None;
        }
    }

    /// The modify of `id` under way is sent, and the venue's sizes of the
    /// order it places count from `base`.
    fn sent(&self, id: ClientOrderId, base: Decimal) {
        if let Some(modify) = self.lock().get_mut(&id) {
            modify.venue_size_base = Some(base);
        }
    }

    /// The filled amount the venue's sizes count from in reports of the
    /// order a modify under way of `id` places, once it is sent.
    pub(super) fn venue_size_base(&self, id: ClientOrderId) -> Option<Decimal> {
        self.lock()
            .get(&id)
            .and_then(|modify| modify.venue_size_base)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClientOrderId, UnderWayModify>> {
        self.under_way
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Exchange ids replaced by a modify: on a venue whose modify places the
/// order anew under the same client id, the order gets a new exchange id,
/// and the venue's report that the old one was cancelled is the replace,
/// not the order's end.
#[derive(Debug, Default)]
pub(super) struct Replaced {
    by_order: Mutex<HashMap<ClientOrderId, Vec<String>>>,
}

impl Replaced {
    /// A modify in flight replaces `oid` of order `id`. The entries of
    /// orders no longer `live` are dropped on the way.
    pub(super) fn mark(&self, id: ClientOrderId, oid: &str, live: impl Fn(ClientOrderId) -> bool) {
        let mut by_order = self.lock();
        by_order.retain(|order, _| live(*order));
        by_order.entry(id).or_default().push(oid.to_owned());
    }

    /// Undoes [`mark`](Replaced::mark): the modify did not replace `oid`.
    pub(super) fn forget(&self, id: ClientOrderId, oid: &str) {
        if let Some(oids) = self.lock().get_mut(&id) {
            oids.retain(|old| old != oid);
        }
    }

    /// Whether `oid` is an exchange id of order `id` that a modify replaced.
    pub(super) fn contains(&self, id: ClientOrderId, oid: &str) -> bool {
        self.lock()
            .get(&id)
            .is_some_and(|oids| oids.iter().any(|old| old == oid))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClientOrderId, Vec<String>>> {
        self.by_order.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Ends an order's modifies if their task ends before they settle.
struct UnderWay<'a> {
    modifies: &'a Modifies,
    id: ClientOrderId,
}

impl Drop for UnderWay<'_> {
    fn drop(&mut self) {
        self.modifies.lock().remove(&self.id);
    }
}

/// What the answer to a modify left to do.
pub(super) enum Settling {
    /// Nothing: the answer settled it.
    Done,
    /// Ask the exchange which order is live, at this time (ms): the modify
    /// failed, or its outcome is unknown until its deadline.
    QueryAt(u64),
}

impl Inner {
    /// Sends `first`, then every modify held behind it, one at a time.
    pub(super) async fn run_modifies(self: Arc<Self>, id: ClientOrderId, first: Amendment) {
        // Should the task end early (a panic, the runtime stopping), the
        // order must not stay "under way" with every later modify held.
        let guard = UnderWay {
            modifies: &self.modifies,
            id,
        };
        let mut next = Some(first);
        while let Some(amendment) = next {
            self.send_modify(id, amendment).await;
            next = self.modifies.settle(id);
        }
        // Settled: the entry is gone, and may already be a new modify's.
        std::mem::forget(guard);
    }

    /// Sends one modify, aimed at the order as the host knows it now, and
    /// waits until it has settled.
    async fn send_modify(self: &Arc<Self>, id: ClientOrderId, amendment: Amendment) {
        // A modify needs the order on the exchange: aimed at an order whose
        // placement is still under way it could arrive first.
        self.wait_while_placing(&[id], |state| {
            matches!(state, OrderState::PendingCreate | OrderState::PendingSubmit)
        })
        .await;
        let Some(order) = self.tracker.get(id) else {
            return;
        };
        if order.state.is_terminal() || order.state == OrderState::PendingCancel {
            debug!(exchange = %self.exchange, order = %id, state = %order.state, "held modify dropped: the order is no longer live");
            return;
        }
        let Some(market) = self.market(&order.spec.trading_pair) else {
            return;
        };
        let command = amendment.applied_to(&order);
        let (new_order, mut request) =
            match self.prepare(&market, &command, id, Some(order.spec.price)) {
                Ok(prepared) => prepared,
                Err(error) => {
                    warn!(exchange = %self.exchange, order = %id, "modify not sent: {error}");
                    return;
                }
            };
        if let Err(error) = check_above_filled(&order, new_order.amount) {
            warn!(exchange = %self.exchange, order = %id, "held modify dropped: {error}");
            return;
        }
        let base = match self.manifest.modify_size {
            ModifySize::REMAINING => order.filled_amount,
            _ => order.venue_size_base,
        };
        match Dec::from_decimal(new_order.amount - base) {
            Ok(size) => request.size = size,
            Err(error) => {
                warn!(exchange = %self.exchange, order = %id, "modify not sent: its size: {error}");
                return;
            }
        }
        self.modifies.sent(id, base);
        let Some(target) = self.order_ref(id) else {
            return;
        };
        let replaced = order.exchange_order_id.clone();
        if let Some(oid) = &replaced {
            self.replaced.mark(id, oid, |order| {
                self.tracker
                    .get(order)
                    .is_some_and(|order| !order.state.is_terminal())
            });
        }
        let (delivery, expires) = self
            .deliver_modify(ModifyRequest {
                target,
                order: request,
            })
            .await;
        let settling = self.apply_modify(
            id,
            (new_order.price, new_order.amount, base),
            replaced.as_deref(),
            delivery,
            expires,
        );
        if let Settling::QueryAt(at_ms) = settling {
            tokio::time::sleep(Duration::from_millis(at_ms.saturating_sub(now_ms()))).await;
            self.settle_by_query(id, replaced.as_deref()).await;
        }
    }

    /// Asks the exchange which order of `id` is live after a modify that
    /// failed or whose outcome is unknown. If it is still the order the
    /// modify was to replace, the modify did not happen, and that
    /// exchange id's reports speak for the order again.
    async fn settle_by_query(self: &Arc<Self>, id: ClientOrderId, replaced: Option<&str>) {
        match self.fetch_report(id).await {
            Report::Found(updates) => {
                for update in &updates {
                    if let Some(oid) = replaced
                        && update.exchange_order_id.as_str() == oid
                    {
                        self.replaced.forget(id, oid);
                    }
                    self.apply_venue_order(update);
                }
            }
            Report::NotFound => {
                if let Some(oid) = replaced {
                    self.replaced.forget(id, oid);
                }
                self.not_found(id);
            }
            Report::Untracked => {}
        }
    }
}

/// A modify may not size an order at or below what has filled of it: the
/// new amount is the order's total, fills included.
pub(super) fn check_above_filled(
    order: &InFlightOrder,
    new_amount: Decimal,
) -> Result<(), CommandError> {
    if new_amount > order.filled_amount {
        return Ok(());
    }
    Err(CommandError::InvalidOrder(format!(
        "order {} has filled {} of {}: a modify's `amount` is the order's new total and must be more than that",
        order.spec.client_order_id, order.filled_amount, order.spec.amount
    )))
}

/// Why a modify is refused before anything is sent.
pub(super) fn check_amendment(amendment: &Amendment) -> Result<(), CommandError> {
    if amendment.price.is_none() && amendment.amount.is_none() {
        return Err(CommandError::InvalidOrder(
            "a modify needs a new `price`, a new `amount`, or both".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amendment(price: i64) -> Amendment {
        Amendment {
            price: Some(Decimal::from(price)),
            amount: None,
        }
    }

    #[test]
    fn a_modify_under_way_holds_the_latest_next_one() {
        let modifies = Modifies::default();
        let id = ClientOrderId(1);
        assert_eq!(modifies.begin(id, amendment(1)), Begun::Now);
        assert_eq!(modifies.begin(id, amendment(2)), Begun::Held);
        assert_eq!(modifies.begin(id, amendment(3)), Begun::Held);
        assert_eq!(modifies.settle(id), Some(amendment(3)));
        assert_eq!(
            modifies.begin(id, amendment(4)),
            Begun::Held,
            "the held one is under way now"
        );
        assert_eq!(modifies.settle(id), Some(amendment(4)));
        assert_eq!(modifies.settle(id), None);
        assert_eq!(modifies.begin(id, amendment(5)), Begun::Now);
    }

    #[test]
    fn a_cancel_drops_the_held_modify_not_the_one_under_way() {
        let modifies = Modifies::default();
        let id = ClientOrderId(1);
        modifies.begin(id, amendment(1));
        modifies.begin(id, amendment(2));
        modifies.drop_held(id);
        assert_eq!(modifies.settle(id), None);
        assert_eq!(modifies.begin(id, amendment(3)), Begun::Now);
    }

    #[test]
    fn a_modify_task_that_ends_early_leaves_nothing_under_way() {
        let modifies = Modifies::default();
        let id = ClientOrderId(1);
        modifies.begin(id, amendment(1));
        modifies.begin(id, amendment(2));
        drop(UnderWay {
            modifies: &modifies,
            id,
        });
        assert_eq!(modifies.begin(id, amendment(3)), Begun::Now);
    }

    #[test]
    fn other_orders_are_independent() {
        let modifies = Modifies::default();
        assert_eq!(modifies.begin(ClientOrderId(1), amendment(1)), Begun::Now);
        assert_eq!(modifies.begin(ClientOrderId(2), amendment(1)), Begun::Now);
    }

    #[test]
    fn a_replaced_id_is_known_until_forgotten_and_dead_orders_are_dropped() {
        let replaced = Replaced::default();
        let (a, b) = (ClientOrderId(1), ClientOrderId(2));
        replaced.mark(a, "10", |_| true);
        replaced.mark(a, "11", |_| true);
        assert!(replaced.contains(a, "10") && replaced.contains(a, "11"));
        assert!(!replaced.contains(b, "10"), "per order");
        replaced.forget(a, "11");
        assert!(!replaced.contains(a, "11"));
        // Marking for b drops a, no longer live.
        replaced.mark(b, "20", |order| order == b);
        assert!(!replaced.contains(a, "10"));
        assert!(replaced.contains(b, "20"));
    }

    #[test]
    fn a_modify_without_price_or_amount_is_refused() {
        let error = check_amendment(&Amendment {
            price: None,
            amount: None,
        })
        .unwrap_err();
        assert_eq!(error.code(), "invalid_order");
    }
}
