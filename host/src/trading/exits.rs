//! Take-profit and stop-loss attached to an entry (one order triggers the
//! others, and each cancels the other), held by the host where the venue
//! does not hold them with the entry: placed as reduce-only trigger orders
//! for what filled of the entry, each linked to it (`parent`). Where the
//! venue can modify a waiting trigger order (`modify_triggers`) they follow
//! the entry's fills — placed at its first fill, resized by a modify to
//! each later one (a fill counted after a cancel included) until one of
//! them fires; elsewhere they are placed once the entry is done (filled
//! with its fills counted, or cancelled or expired after fills). When one
//! fills, the host cancels the other. A restarted host covers what filled
//! while it was down.

use std::collections::BTreeSet;
use std::time::Duration;

use rust_decimal::Decimal;
use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

use super::command::{CommandError, OrderCommand};
use super::{Inner, Trading};
use crate::order::{
    ClientOrderId, Exit, Exits, FailureCause, InFlightOrder, NewOrder, OrderEvent, OrderListener,
    OrderState, OrderType, PositionAction, TimeInForce, TradeType,
};

/// Which of an entry's exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// The take-profit.
    TakeProfit,
    /// The stop-loss.
    StopLoss,
}

impl ExitKind {
    /// The kind of exit an order of `order_type` is.
    fn of(order_type: OrderType) -> ExitKind {
        match order_type {
            OrderType::TakeProfitMarket | OrderType::TakeProfitLimit => ExitKind::TakeProfit,
            _ => ExitKind::StopLoss,
        }
    }

    /// The command's field of this exit.
    pub fn field(self) -> &'static str {
        match self {
            ExitKind::TakeProfit => "take_profit",
            ExitKind::StopLoss => "stop_loss",
        }
    }
}

/// The exits a command attaches; `None` when it attaches none.
pub fn of_command(command: &OrderCommand) -> Option<Exits> {
    let exits = Exits {
        take_profit: command.take_profit,
        stop_loss: command.stop_loss,
        held_by_exchange: false,
    };
    (exits != Exits::default()).then_some(exits)
}

/// The exits there are, each with its kind.
pub fn listed(exits: &Exits) -> Vec<(ExitKind, Exit)> {
    [
        (ExitKind::TakeProfit, exits.take_profit),
        (ExitKind::StopLoss, exits.stop_loss),
    ]
    .into_iter()
    .filter_map(|(kind, exit)| exit.map(|exit| (kind, exit)))
    .collect()
}

/// The entry an exit closes: its market, its side, its id.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The host symbol.
    pub trading_pair: &'a str,
    /// The entry's side.
    pub trade_type: TradeType,
    /// The entry.
    pub id: ClientOrderId,
}

impl<'a> Entry<'a> {
    pub(super) fn of(spec: &'a NewOrder) -> Entry<'a> {
        Entry {
            trading_pair: &spec.trading_pair,
            trade_type: spec.trade_type,
            id: spec.client_order_id,
        }
    }
}

/// The order that closes `amount` of `entry`'s position with `exit`:
/// the other side, reduce-only, a take-profit or stop of the exit's kind,
/// at market or at its limit once triggered.
pub fn exit_command(
    entry: Entry<'_>,
    kind: ExitKind,
    exit: &Exit,
    amount: Decimal,
) -> OrderCommand {
    let order_type = match (kind, exit.price.is_some()) {
        (ExitKind::TakeProfit, true) => OrderType::TakeProfitLimit,
        (ExitKind::TakeProfit, false) => OrderType::TakeProfitMarket,
        (ExitKind::StopLoss, true) => OrderType::StopLimit,
        (ExitKind::StopLoss, false) => OrderType::StopMarket,
    };
    OrderCommand {
        trading_pair: entry.trading_pair.to_owned(),
        trade_type: match entry.trade_type {
            TradeType::Buy => TradeType::Sell,
            TradeType::Sell => TradeType::Buy,
        },
        order_type,
        time_in_force: TimeInForce::Gtc,
        price: exit.price,
        amount,
        position_action: Some(PositionAction::Close),
        reduce_only: true,
        client_order_id: None,
        max_slippage_percent: None,
        trigger_price: Some(exit.trigger_price),
        trigger_reference: exit.trigger_reference,
        take_profit: None,
        stop_loss: None,
        parent: Some(entry.id),
    }
}

/// The orders that close `amount` of `entry` with its exits, each with
/// its kind.
pub(super) fn commands(entry: &NewOrder, amount: Decimal) -> Vec<(ExitKind, OrderCommand)> {
    entry
        .exits
        .as_ref()
        .map(listed)
        .unwrap_or_default()
        .into_iter()
        .map(|(kind, exit)| (kind, exit_command(Entry::of(entry), kind, &exit, amount)))
        .collect()
}

/// Why an entry cannot take `kind`'s `exit`: it must open a position, and
/// the exit's trigger must lie on its side of `reference` (the entry's
/// trigger or price): a buy's take-profit above, its stop below.
pub fn check(
    command: &OrderCommand,
    reference: Decimal,
    kind: ExitKind,
    exit: &Exit,
) -> Result<(), CommandError> {
    let field = kind.field();
    if command.is_reduce_only() {
        return Err(CommandError::InvalidOrder(format!(
            "`{field}`: exits attach to an order that opens a position, not a reduce-only one"
        )));
    }
    let above = (kind == ExitKind::TakeProfit) == (command.trade_type == TradeType::Buy);
    let trigger = exit.trigger_price;
    if (above && trigger <= reference) || (!above && trigger >= reference) {
        return Err(CommandError::InvalidOrder(format!(
            "`{field}.trigger_price` {trigger} must lie {} the order's price {reference} for a {}",
            if above { "above" } else { "below" },
            if command.trade_type == TradeType::Buy {
                "buy"
            } else {
                "sell"
            }
        )));
    }
    Ok(())
}

/// What the exits' task is asked to do.
#[derive(Debug, Clone, Copy)]
enum Job {
    /// This entry filled for the first time: place its exits where they
    /// follow its fills.
    FirstFill(ClientOrderId),
    /// Resize this entry's exits to what filled of it, or place them if it
    /// is done and they wait for that.
    Cover(ClientOrderId),
    /// Cancel the other exits of this one's entry (it filled).
    CancelSiblings(ClientOrderId),
    /// This entry ended with nothing filled: the exits the venue held with
    /// it went with it.
    Drop(ClientOrderId),
    /// This exit was refused.
    Refused(ClientOrderId),
}

/// How many times the host places one exit of an entry that never
/// reached the exchange.
const MAX_PLACINGS: usize = 3;

/// How often the live exits the host holds are checked against what their
/// entries filled.
const RECHECK_EVERY: Duration = Duration::from_secs(5);

/// When [`Trading::cover`] may place an entry's exits where they follow
/// its fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placing {
    /// If it has none: at its first fill, and at start-up.
    IfNone,
    /// Only where exits wait for the entry to be done (a later fill finds
    /// them placed, or gone).
    OnlyWhenDone,
}

/// Hears the tracker's changes and hands the exits' task what concerns it
/// (a listener must not call back into the tracker).
pub struct ExitWatch {
    jobs: mpsc::UnboundedSender<Job>,
}

/// The other end of an [`ExitWatch`]: what its task works through.
pub struct ExitJobs(mpsc::UnboundedReceiver<Job>);

impl ExitWatch {
    /// A watch and the jobs it hands on.
    pub fn new() -> (ExitWatch, ExitJobs) {
        let (jobs, receiver) = mpsc::unbounded_channel();
        (ExitWatch { jobs }, ExitJobs(receiver))
    }
}

impl OrderListener for ExitWatch {
    fn on_event(&self, event: &OrderEvent<'_>) {
        let (OrderEvent::StateChanged { order, .. }
        | OrderEvent::Filled { order, .. }
        | OrderEvent::Amended(order)) = event
        else {
            return;
        };
        let id = order.spec.client_order_id;
        let host_held = order.spec.exits.is_some() && !order.spec.exits_held_by_exchange();
        if host_held && !order.filled_amount.is_zero() {
            let first = matches!(event, OrderEvent::Filled { trade, .. } if trade.fill_amount == order.filled_amount);
            let _ = self.jobs.send(if first {
                Job::FirstFill(id)
            } else {
                Job::Cover(id)
            });
        }
        if order.spec.exits.is_some() && ended_unfilled(order) {
            let _ = self.jobs.send(Job::Drop(id));
        }
        if order.state == OrderState::Filled && order.spec.parent.is_some() {
            let _ = self.jobs.send(Job::CancelSiblings(id));
        }
        // An exit on the book or resized: its entry may have filled more
        // meanwhile.
        if let Some(entry) = order.spec.parent
            && (order.state == OrderState::Open || matches!(event, OrderEvent::Amended(_)))
        {
            let _ = self.jobs.send(Job::Cover(entry));
        }
        if order.state == OrderState::Failed && order.spec.parent.is_some() {
            let _ = self.jobs.send(Job::Refused(id));
        }
    }
}

/// Whether `exit`, refused, is to be placed again for `entry` (whose
/// exits are `exits`): it never reached the exchange, the host holds the
/// entry's exits, none of them fired or was cancelled, none of its kind is
/// live, and no more than [`MAX_PLACINGS`] of its kind were placed.
fn place_again(exit: &InFlightOrder, entry: &InFlightOrder, exits: &[InFlightOrder]) -> bool {
    let kind = ExitKind::of(exit.spec.order_type);
    let of_kind: Vec<&InFlightOrder> = exits
        .iter()
        .filter(|other| ExitKind::of(other.spec.order_type) == kind)
        .collect();
    let settled = exits.iter().any(|other| {
        other.triggered || !other.filled_amount.is_zero() || other.state == OrderState::Cancelled
    });
    exit.state == OrderState::Failed
        && FailureCause::never_reached(exit.reason.as_deref().unwrap_or(""))
        && !entry.filled_amount.is_zero()
        && !entry.spec.exits_held_by_exchange()
        && !settled
        && !of_kind.iter().any(|other| !other.state.is_terminal())
        && of_kind.len() < MAX_PLACINGS
}

/// Whether an entry ended with nothing filled: no position to close.
fn ended_unfilled(entry: &InFlightOrder) -> bool {
    entry.state.is_terminal() && entry.filled_amount.is_zero()
}

/// Whether an entry is done, with what filled of it known: filled and its
/// fills counted (the exchange may say "filled" before its fills arrive),
/// or cancelled or expired after fills.
fn is_done(entry: &InFlightOrder) -> bool {
    match entry.state {
        OrderState::Filled => entry.filled_amount >= entry.spec.amount,
        OrderState::Cancelled | OrderState::Expired => !entry.filled_amount.is_zero(),
        _ => false,
    }
}

impl Trading {
    /// Works through the exits' jobs until shutdown, and checks the live
    /// exits every [`RECHECK_EVERY`]; first covers what filled of each
    /// entry while the host was down (its exits placed if it has none).
    pub async fn keep_exits(self, mut jobs: ExitJobs, mut shutdown: watch::Receiver<bool>) {
        for entry in self.inner.tracker.all_orders() {
            if entry.spec.exits.is_some() && !entry.filled_amount.is_zero() {
                self.cover(entry.spec.client_order_id, Placing::IfNone);
            }
            if entry.spec.exits.is_some() && ended_unfilled(&entry) {
                self.inner.drop_exits(entry.spec.client_order_id);
            }
        }
        let mut recheck = tokio::time::interval(RECHECK_EVERY);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let job = tokio::select! {
                job = jobs.0.recv() => job,
                _ = recheck.tick() => {
                    self.recheck_live_exits();
                    continue;
                }
                _ = shutdown.changed() => None,
            };
            match job {
                Some(Job::FirstFill(id)) => self.cover(id, Placing::IfNone),
                Some(Job::Cover(id)) => self.cover(id, Placing::OnlyWhenDone),
                Some(Job::CancelSiblings(id)) => self.cancel_siblings(id),
                Some(Job::Drop(id)) => self.inner.drop_exits(id),
                Some(Job::Refused(id)) => self.exit_refused(id),
                None => return,
            }
        }
    }

    /// Covers anew the entries of the live exits the host holds: a resize
    /// the venue refused or that was dropped (the exit busy with another
    /// change, the kill switch engaged meanwhile) is tried again.
    fn recheck_live_exits(&self) {
        let mut entries = BTreeSet::new();
        self.inner.tracker.visit(|order| {
            if let Some(parent) = order.spec.parent
                && !order.state.is_terminal()
                && order.spec.exchange == self.inner.exchange
            {
                entries.insert(parent);
            }
        });
        for entry in entries {
            self.cover(entry, Placing::OnlyWhenDone);
        }
    }

    /// Covers what filled of entry `id` with the exits the host holds for
    /// it: places them (at its first fill where they follow its fills, else
    /// once it is done), or resizes them to what filled since.
    fn cover(&self, id: ClientOrderId, placing: Placing) {
        let Some(entry) = self.inner.tracker.get(id) else {
            return;
        };
        if entry.spec.exits.is_none()
            || entry.spec.exits_held_by_exchange()
            || entry.filled_amount.is_zero()
        {
            return;
        }
        let follows = self.inner.manifest.modify_triggers;
        if !follows && !is_done(&entry) {
            return;
        }
        let exits = self.inner.children(id);
        if exits.is_empty() {
            // Where they follow the fills, exits gone by a later fill fired
            // and were forgotten (closed orders leave memory), or were
            // refused: not placed again.
            if !follows || placing == Placing::IfNone {
                self.place_exits(&entry, None);
            }
        } else if follows {
            self.resize_exits(&entry, &exits);
        }
    }

    /// Places the exits of `entry` (those of kind `only`, if given) for
    /// what filled of it.
    fn place_exits(&self, entry: &InFlightOrder, only: Option<ExitKind>) {
        let id = entry.spec.client_order_id;
        let (kinds, commands): (Vec<ExitKind>, Vec<OrderCommand>) =
            commands(&entry.spec, entry.filled_amount)
                .into_iter()
                .filter(|(kind, _)| only.is_none_or(|only| only == *kind))
                .unzip();
        let (results, pending) = self.accept_batch(&commands);
        pending.launch();
        for (kind, result) in kinds.iter().zip(results) {
            match result {
                Ok(child) => {
                    info!(exchange = %self.inner.exchange, entry = %id, exit = %child, "{} placed", kind.field())
                }
                Err(refusal) => {
                    error!(exchange = %self.inner.exchange, entry = %id, "{} not placed: {refusal}", kind.field())
                }
            }
        }
    }

    /// Resizes the live `exits` of `entry` to what filled of it, unless one
    /// of them fired: the position is closing then, and what the entry
    /// fills after that is left uncovered (and said so).
    fn resize_exits(&self, entry: &InFlightOrder, exits: &[InFlightOrder]) {
        let (id, filled) = (entry.spec.client_order_id, entry.filled_amount);
        if exits
            .iter()
            .any(|exit| exit.triggered || !exit.filled_amount.is_zero())
        {
            if exits.iter().all(|exit| exit.spec.amount < filled) {
                warn!(exchange = %self.inner.exchange, entry = %id, %filled, "the entry filled more after one of its exits fired: what filled since has no exits");
            }
            return;
        }
        for exit in exits {
            let exit_id = exit.spec.client_order_id;
            if exit.state.is_terminal()
                || exit.state == OrderState::PendingCancel
                || exit.spec.amount >= filled
                || self.inner.modifies.latest_amount(exit_id) == Some(filled)
            {
                continue;
            }
            match self.modify(exit_id, None, Some(filled)) {
                Ok(_) => {
                    info!(exchange = %self.inner.exchange, entry = %id, exit = %exit_id, %filled, "exit resized to what filled")
                }
                Err(refusal) => {
                    error!(exchange = %self.inner.exchange, entry = %id, exit = %exit_id, %filled, "exit not resized to what filled: {refusal}")
                }
            }
        }
    }

    /// Exit `id` was refused. One that never reached the exchange (lost on
    /// the way) is placed again, [`MAX_PLACINGS`] times at most, while
    /// what its entry filled has no exit of its kind; else an error when
    /// what its entry filled is left without it, news when the entry
    /// filled nothing (the venue refuses the exits it held with a refused
    /// entry).
    fn exit_refused(&self, id: ClientOrderId) {
        let Some(exit) = self.inner.tracker.get(id) else {
            return;
        };
        let Some(entry) = exit
            .spec
            .parent
            .and_then(|entry| self.inner.tracker.get(entry))
        else {
            return;
        };
        let (entry_id, filled) = (entry.spec.client_order_id, entry.filled_amount);
        let reason = exit.reason.as_deref().unwrap_or("");
        if filled.is_zero() {
            info!(exchange = %self.inner.exchange, entry = %entry_id, exit = %id, reason, "exit refused with its entry, which filled nothing");
            return;
        }
        let kind = ExitKind::of(exit.spec.order_type);
        if place_again(&exit, &entry, &self.inner.children(entry_id)) {
            warn!(exchange = %self.inner.exchange, entry = %entry_id, exit = %id, reason, "{} never reached the exchange: placed again", kind.field());
            self.place_exits(&entry, Some(kind));
            return;
        }
        error!(exchange = %self.inner.exchange, entry = %entry_id, exit = %id, %filled, reason, "exit refused: what its entry filled has no such exit");
    }

    /// Cancels the exits beside `id` (of the same entry) still live,
    /// unless the venue does (it holds an entry's exits together).
    fn cancel_siblings(&self, id: ClientOrderId) {
        let Some(parent) = self.inner.tracker.get(id).and_then(|exit| exit.spec.parent) else {
            return;
        };
        if self.inner.held_by_exchange(parent) {
            return;
        }
        let siblings: Vec<ClientOrderId> = self
            .inner
            .children(parent)
            .into_iter()
            .filter(|sibling| {
                sibling.spec.client_order_id != id
                    && !sibling.state.is_terminal()
                    && sibling.state != OrderState::PendingCancel
            })
            .map(|sibling| sibling.spec.client_order_id)
            .collect();
        for (sibling, result) in siblings.iter().zip(self.cancel_batch(&siblings)) {
            if let Err(error) = result {
                warn!(exchange = %self.inner.exchange, exit = %sibling, "the other exit not cancelled: {error}");
            }
        }
    }
}

impl Inner {
    /// Closes the exits of entry `id` that the venue held with it, now
    /// that it ended with nothing filled: they never reached the book, and
    /// the venue drops them with their entry.
    fn drop_exits(&self, id: ClientOrderId) {
        if !self.held_by_exchange(id) {
            return;
        }
        for exit in self.children(id) {
            if exit.state.is_terminal() || exit.exchange_order_id.is_some() {
                continue;
            }
            info!(exchange = %self.exchange, entry = %id, exit = %exit.spec.client_order_id, "exit dropped with its entry");
            self.update(
                exit.spec.client_order_id,
                OrderState::Cancelled,
                None,
                Some("its entry ended with nothing filled".to_owned()),
            );
        }
    }

    /// Whether `order` is an exit the venue holds with its entry until the
    /// entry is done: not on the book yet, so not in the venue's lists.
    pub(super) fn waits_for_entry(&self, order: &InFlightOrder) -> bool {
        order.exchange_order_id.is_none()
            && order
                .spec
                .parent
                .and_then(|parent| self.tracker.get(parent))
                .is_some_and(|entry| {
                    !entry.state.is_terminal() && entry.spec.exits_held_by_exchange()
                })
    }

    /// Whether `order` is an exit the exchange holds with its entry.
    pub(super) fn is_held_exit(&self, order: &InFlightOrder) -> bool {
        order
            .spec
            .parent
            .is_some_and(|entry| self.held_by_exchange(entry))
    }

    /// Whether the exchange holds entry `id`'s exits.
    fn held_by_exchange(&self, id: ClientOrderId) -> bool {
        self.tracker
            .get(id)
            .is_some_and(|entry| entry.spec.exits_held_by_exchange())
    }

    /// Refuses a modify the venue could not keep with an entry's exits: of
    /// an exit it holds until its entry is done, or of such an entry (the
    /// venue groups them as they were placed).
    pub(super) fn check_modifiable_with_exits(
        &self,
        order: &InFlightOrder,
    ) -> Result<(), CommandError> {
        let id = order.spec.client_order_id;
        if self.waits_for_entry(order) {
            return Err(CommandError::InvalidOrder(format!(
                "exit {id} waits on the exchange for its entry to fill and cannot be modified until then"
            )));
        }
        if order.spec.exits_held_by_exchange()
            && self
                .children(id)
                .iter()
                .any(|exit| self.waits_for_entry(exit))
        {
            return Err(CommandError::InvalidOrder(format!(
                "order {id} is held by the exchange with its exits and cannot be modified: cancel it and place it anew"
            )));
        }
        Ok(())
    }

    /// The exits placed for entry `id`.
    fn children(&self, id: ClientOrderId) -> Vec<InFlightOrder> {
        let mut children = Vec::new();
        self.tracker.visit(|order| {
            if order.spec.parent == Some(id) {
                children.push(order.clone());
            }
        });
        children
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{NewOrder, TriggerReference};

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn buy(amount: &str) -> OrderCommand {
        OrderCommand {
            trading_pair: "BTC-USD".into(),
            trade_type: TradeType::Buy,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            price: Some(d("100")),
            amount: d(amount),
            position_action: None,
            reduce_only: false,
            client_order_id: None,
            max_slippage_percent: None,
            trigger_price: None,
            trigger_reference: None,
            take_profit: None,
            stop_loss: None,
            parent: None,
        }
    }

    fn exit(trigger: &str, price: Option<&str>) -> Exit {
        Exit {
            trigger_price: d(trigger),
            price: price.map(d),
            trigger_reference: Some(TriggerReference::Last),
        }
    }

    #[test]
    fn an_exit_closes_the_entry_on_the_other_side_reduce_only() {
        let entry = Entry {
            trading_pair: "BTC-USD",
            trade_type: TradeType::Buy,
            id: ClientOrderId(9),
        };
        let take = exit_command(entry, ExitKind::TakeProfit, &exit("110", None), d("0.5"));
        assert_eq!(
            (take.order_type, take.trade_type, take.amount, take.parent),
            (
                OrderType::TakeProfitMarket,
                TradeType::Sell,
                d("0.5"),
                Some(ClientOrderId(9))
            )
        );
        assert!(take.is_reduce_only());
        assert_eq!(take.trigger_reference, Some(TriggerReference::Last));
        let stop = exit_command(entry, ExitKind::StopLoss, &exit("90", Some("89")), d("1"));
        assert_eq!(
            (stop.order_type, stop.price, stop.trigger_price),
            (OrderType::StopLimit, Some(d("89")), Some(d("90")))
        );
    }

    #[test]
    fn exits_lie_beyond_the_entry_on_their_side_of_an_opening_order() {
        let entry = buy("1");
        let take = exit("110", None);
        let stop = exit("90", None);
        check(&entry, d("100"), ExitKind::TakeProfit, &take).unwrap();
        check(&entry, d("100"), ExitKind::StopLoss, &stop).unwrap();
        let below = check(&entry, d("100"), ExitKind::TakeProfit, &stop).unwrap_err();
        assert!(below.to_string().contains("must lie above"), "{below}");
        let sell = OrderCommand {
            trade_type: TradeType::Sell,
            ..buy("1")
        };
        check(&sell, d("100"), ExitKind::TakeProfit, &stop).unwrap();
        check(&sell, d("100"), ExitKind::StopLoss, &take).unwrap();
        let reducing = OrderCommand {
            reduce_only: true,
            ..buy("1")
        };
        let refused = check(&reducing, d("100"), ExitKind::StopLoss, &stop).unwrap_err();
        assert!(refused.to_string().contains("reduce-only"), "{refused}");
    }

    /// Order `id` of `order_type`, with exits (an entry) or a `parent`.
    fn tracked(id: u128, order_type: OrderType, parent: Option<u128>) -> InFlightOrder {
        InFlightOrder::new(NewOrder {
            client_order_id: ClientOrderId(id),
            exchange: "ex".into(),
            trading_pair: "BTC-USD".into(),
            order_type,
            trade_type: TradeType::Buy,
            position_action: None,
            time_in_force: TimeInForce::Gtc,
            price: d("100"),
            amount: d("1"),
            trigger_price: None,
            trigger_reference: None,
            exits: parent.is_none().then(Exits::default),
            parent: parent.map(ClientOrderId),
            creation_timestamp_ms: 0,
        })
    }

    #[test]
    fn an_exit_lost_on_the_way_is_placed_again_while_its_kind_is_missing() {
        let mut entry = tracked(1, OrderType::Limit, None);
        entry.filled_amount = d("0.4");
        let failed = |id, reason: FailureCause| {
            let mut exit = tracked(id, OrderType::StopMarket, Some(1));
            exit.state = OrderState::Failed;
            exit.reason = Some(reason.reason());
            exit
        };
        let lost = failed(2, FailureCause::NotFoundAfterDeadline);
        let take = tracked(3, OrderType::TakeProfitMarket, Some(1));
        assert!(place_again(&lost, &entry, &[lost.clone(), take.clone()]));
        let undelivered = failed(2, FailureCause::NotDelivered("refused".into()));
        assert!(place_again(
            &undelivered,
            &entry,
            std::slice::from_ref(&undelivered)
        ));

        let refused = failed(2, FailureCause::Rejected("trigger passed".into()));
        assert!(
            !place_again(&refused, &entry, std::slice::from_ref(&refused)),
            "the venue said no"
        );
        let again = tracked(4, OrderType::StopMarket, Some(1));
        assert!(
            !place_again(&lost, &entry, &[lost.clone(), again]),
            "placed again already"
        );
        let mut fired = take.clone();
        fired.triggered = true;
        assert!(
            !place_again(&lost, &entry, &[lost.clone(), fired]),
            "closing"
        );
        let thrice = [
            lost.clone(),
            failed(4, FailureCause::NotFoundAfterDeadline),
            failed(5, FailureCause::NotFoundAfterDeadline),
        ];
        assert!(!place_again(&lost, &entry, &thrice), "placed three times");
        entry.filled_amount = Decimal::ZERO;
        assert!(
            !place_again(&lost, &entry, std::slice::from_ref(&lost)),
            "nothing to close"
        );
    }

    #[test]
    fn an_entry_is_done_once_what_filled_of_it_is_known() {
        let mut entry = tracked(1, OrderType::Limit, None);
        entry.state = OrderState::Filled;
        entry.filled_amount = d("0.4");
        assert!(
            !is_done(&entry),
            "filled by the exchange's word, fills to come"
        );
        entry.filled_amount = d("1");
        assert!(is_done(&entry));
        entry.state = OrderState::Cancelled;
        entry.filled_amount = d("0.4");
        assert!(is_done(&entry));
        entry.filled_amount = Decimal::ZERO;
        assert!(!is_done(&entry), "nothing to close");
        entry.state = OrderState::PartiallyFilled;
        entry.filled_amount = d("0.4");
        assert!(!is_done(&entry), "still working");
    }
}
