//! Exits attached to an entry (Hyperliquid's `normalTpsl` grouping): the
//! take-profit and stop-loss wait, unrecorded, until their entry is done.
//! An entry that filled — whole, or in part before it was cancelled —
//! places them as the reduce-only trigger orders they are, at their own
//! size; an entry that ended with nothing filled takes them with it. Once
//! placed, when one fills the others are cancelled (`siblingFilledCanceled`).
//! A waiting exit can be cancelled by its client id.

use std::collections::HashMap;

use hyperliquid_core::keccak256;
use rust_decimal::Decimal;

use crate::account::AccountId;
use crate::book::Oid;
use crate::engine::{ActionContext, Engine};
use crate::entry::{ClientId, EntryKind, OrderEntry, Placement};
use crate::orders::OrderState;

/// What the engine keeps of entries' exits.
#[derive(Debug, Default)]
pub struct AttachedExits {
    /// Exits waiting for their entry, by the entry's id.
    waiting: HashMap<Oid, (AccountId, Vec<OrderEntry>)>,
    /// Placed exits, each with the others of its entry.
    siblings: HashMap<Oid, Vec<Oid>>,
}

/// What became of one exit placed with its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitPlacement {
    /// Waits for its entry to fill.
    WaitingForFill,
    /// Placed (its entry filled at once): waits for its trigger.
    WaitingForTrigger,
    /// Not placed: the entry was refused, or the exit itself.
    Refused(String),
}

/// Why a group cannot be placed at all.
pub fn check_group(entry: &OrderEntry, exits: &[OrderEntry]) -> Result<(), String> {
    if matches!(entry.kind, EntryKind::Trigger(_)) {
        return Err("Invalid TP/SL grouping: the first order must not be a trigger order.".into());
    }
    if exits.is_empty() || exits.len() > 2 {
        return Err(format!(
            "Invalid TP/SL grouping: {} TP/SL orders for one entry.",
            exits.len()
        ));
    }
    for exit in exits {
        if !matches!(exit.kind, EntryKind::Trigger(_)) {
            return Err("Invalid TP/SL grouping: a TP/SL must be a trigger order.".into());
        }
        if !exit.reduce_only {
            return Err("Non reduce-only TP/SL.".into());
        }
        if exit.is_buy == entry.is_buy || exit.market != entry.market {
            return Err("Invalid TP/SL grouping: a TP/SL must close its entry.".into());
        }
    }
    Ok(())
}

impl Engine {
    /// Places an entry with its exits (checked with [`check_group`]): the
    /// entry as any order; the exits wait for it, or are placed at once
    /// when it filled at once.
    pub fn place_with_exits(
        &mut self,
        user: AccountId,
        entry: &OrderEntry,
        exits: Vec<OrderEntry>,
        ctx: &ActionContext,
    ) -> (Placement, Vec<ExitPlacement>) {
        let count = exits.len();
        let oid = match self.record(user, entry, ctx) {
            Ok(oid) => oid,
            Err(refusal) => return (refusal, refused_exits(count)),
        };
        self.exits.waiting.insert(oid, (user, exits));
        let placement = match self.admit(oid, entry.market, Decimal::ZERO) {
            Err(rejection) => {
                self.exits.waiting.remove(&oid);
                self.reject(oid, rejection, ctx.now)
            }
            Ok(()) => self.start(oid, ctx),
        };
        self.pending.flush(&self.feed);
        let fate = match (&placement, self.exits.waiting.contains_key(&oid)) {
            (Placement::Refused { .. }, _) => refused_exits(count),
            (_, true) => vec![ExitPlacement::WaitingForFill; count],
            (_, false) => vec![ExitPlacement::WaitingForTrigger; count],
        };
        (placement, fate)
    }

    /// Drops a waiting exit of `user` by its client id; false when none
    /// waits under it.
    pub(crate) fn cancel_waiting_exit(&mut self, user: AccountId, client_id: ClientId) -> bool {
        for (owner, exits) in self.exits.waiting.values_mut() {
            if *owner != user {
                continue;
            }
            if let Some(at) = exits.iter().position(|e| e.client_id == Some(client_id)) {
                exits.remove(at);
                return true;
            }
        }
        false
    }

    /// What an order's end means for exits: an entry's are placed (it
    /// filled) or dropped (nothing filled); an exit that filled cancels
    /// the others of its entry.
    pub(crate) fn settle_exits(&mut self, oid: Oid, status: OrderState, now: u64) {
        if let Some((user, exits)) = self.exits.waiting.remove(&oid) {
            let filled = self.orders.get(&oid).is_some_and(|o| !o.filled.is_zero());
            if filled {
                self.place_exits(user, oid, exits, now);
            }
        }
        let Some(siblings) = self.exits.siblings.remove(&oid) else {
            return;
        };
        for sibling in &siblings {
            if let Some(others) = self.exits.siblings.get_mut(sibling) {
                others.retain(|other| *other != oid);
            }
        }
        if status == OrderState::Filled {
            for sibling in siblings {
                self.exits.siblings.remove(&sibling);
                self.finish(sibling, OrderState::SiblingFilledCanceled, now);
            }
        }
    }

    /// Places the exits of entry `oid`, each as the trigger order it is.
    fn place_exits(&mut self, user: AccountId, entry: Oid, exits: Vec<OrderEntry>, now: u64) {
        let ctx = ActionContext {
            now,
            hash: keccak256(format!("hl-emulator:exits:{entry}:{now}").as_bytes()),
            post_only_window: false,
        };
        let placed: Vec<Oid> = exits
            .iter()
            .filter_map(|exit| match self.place(user, exit, &ctx, Decimal::ZERO) {
                Placement::Resting { oid } => Some(oid),
                _ => None,
            })
            .collect();
        if placed.len() > 1 {
            for oid in &placed {
                let others = placed.iter().copied().filter(|o| o != oid).collect();
                self.exits.siblings.insert(*oid, others);
            }
        }
    }
}

fn refused_exits(count: usize) -> Vec<ExitPlacement> {
    vec![ExitPlacement::Refused("TP/SL not placed: its entry was refused.".into()); count]
}
