//! Price-time priority order book with matching and self-trade prevention.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::account::AccountId;
use rust_decimal::Decimal;

/// Exchange order id.
pub type Oid = u64;

/// Who owns a resting order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    /// The emulator's synthetic market maker.
    Synthetic,
    /// A user account (master address).
    User(AccountId),
}

/// An order resting in the book.
#[derive(Debug, Clone)]
pub struct Resting {
    /// Exchange order id (0 for synthetic orders).
    pub oid: Oid,
    /// Owner.
    pub owner: Owner,
    /// Buy side.
    pub is_buy: bool,
    /// Limit price.
    pub px: Decimal,
    /// Remaining size.
    pub sz: Decimal,
}

/// An aggressing order.
#[derive(Debug, Clone, Copy)]
pub struct Taker {
    /// Owner (for self-trade prevention).
    pub owner: Owner,
    /// Buy side.
    pub is_buy: bool,
    /// Worst price accepted.
    pub limit_px: Decimal,
    /// Size to fill at most.
    pub sz: Decimal,
}

/// One execution against a resting order, at the maker's price.
#[derive(Debug, Clone)]
pub struct Execution {
    /// The maker order id.
    pub maker_oid: Oid,
    /// The maker's owner.
    pub maker: Owner,
    /// Execution price.
    pub px: Decimal,
    /// Executed size.
    pub sz: Decimal,
    /// What is left of the maker order.
    pub maker_remaining: Decimal,
}

/// What matching a taker did.
#[derive(Debug, Default)]
pub struct TakeOutcome {
    /// Executions in book order.
    pub executions: Vec<Execution>,
    /// The taker owner's own resting orders removed instead of trading with
    /// them (self-trade prevention: expire maker).
    pub self_trade_cancels: Vec<Resting>,
}

impl TakeOutcome {
    /// Total executed size.
    pub fn filled(&self) -> Decimal {
        self.executions.iter().map(|e| e.sz).sum()
    }
}

/// One aggregated price level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelSummary {
    /// Price.
    pub px: Decimal,
    /// Total size.
    pub sz: Decimal,
    /// Number of orders.
    pub n: usize,
}

/// Both sides of one market.
#[derive(Debug, Default)]
pub struct Book {
    bids: BTreeMap<Decimal, VecDeque<Resting>>,
    asks: BTreeMap<Decimal, VecDeque<Resting>>,
    users: HashMap<Oid, (bool, Decimal)>,
    version: u64,
}

impl Book {
    /// Increases whenever the book changes.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn side_mut(&mut self, is_buy: bool) -> &mut BTreeMap<Decimal, VecDeque<Resting>> {
        if is_buy {
            &mut self.bids
        } else {
            &mut self.asks
        }
    }

    /// Whether a user order rests in this book.
    pub fn contains(&self, oid: Oid) -> bool {
        self.users.contains_key(&oid)
    }

    /// Adds an order at the back of its price level.
    pub fn insert(&mut self, order: Resting) {
        if let Owner::User(_) = order.owner {
            self.users.insert(order.oid, (order.is_buy, order.px));
        }
        self.side_mut(order.is_buy)
            .entry(order.px)
            .or_default()
            .push_back(order);
        self.version += 1;
    }

    /// Removes a user order.
    pub fn remove(&mut self, oid: Oid) -> Option<Resting> {
        let (is_buy, px) = self.users.remove(&oid)?;
        let side = self.side_mut(is_buy);
        let level = side.get_mut(&px)?;
        let position = level.iter().position(|o| o.oid == oid)?;
        let removed = level.remove(position);
        if level.is_empty() {
            side.remove(&px);
        }
        self.version += 1;
        removed
    }

    /// Removes every synthetic order.
    pub fn clear_synthetic(&mut self) {
        for side in [&mut self.bids, &mut self.asks] {
            side.retain(|_, level| {
                level.retain(|o| o.owner != Owner::Synthetic);
                !level.is_empty()
            });
        }
        self.version += 1;
    }

    /// Best bid price.
    pub fn best_bid(&self) -> Option<Decimal> {
        self.bids.keys().next_back().copied()
    }

    /// Best ask price.
    pub fn best_ask(&self) -> Option<Decimal> {
        self.asks.keys().next().copied()
    }

    /// Whether an order at `px` on this side would trade at once.
    pub fn crosses(&self, is_buy: bool, px: Decimal) -> bool {
        if is_buy {
            self.best_ask().is_some_and(|ask| ask <= px)
        } else {
            self.best_bid().is_some_and(|bid| bid >= px)
        }
    }

    /// The best `depth` levels of one side, best first.
    pub fn levels(&self, bids: bool, depth: usize) -> Vec<LevelSummary> {
        let summary = |(px, level): (&Decimal, &VecDeque<Resting>)| LevelSummary {
            px: *px,
            sz: level.iter().map(|o| o.sz).sum(),
            n: level.len(),
        };
        if bids {
            self.bids.iter().rev().take(depth).map(summary).collect()
        } else {
            self.asks.iter().take(depth).map(summary).collect()
        }
    }

    /// Matches a taker by price-time priority, at the makers' prices. A user's
    /// own resting orders met on the way are removed, not traded.
    pub fn take(&mut self, taker: Taker) -> TakeOutcome {
        let mut outcome = TakeOutcome::default();
        let mut left = taker.sz;
        while left > Decimal::ZERO {
            let best = if taker.is_buy {
                self.asks.first_entry()
            } else {
                self.bids.last_entry()
            };
            let Some(mut level) = best else { break };
            let px = *level.key();
            let crosses = if taker.is_buy {
                px <= taker.limit_px
            } else {
                px >= taker.limit_px
            };
            if !crosses {
                break;
            }
            let queue = level.get_mut();
            while left > Decimal::ZERO {
                let Some(maker) = queue.front_mut() else {
                    break;
                };
                if maker.owner == taker.owner && maker.owner != Owner::Synthetic {
                    if let Some(cancelled) = queue.pop_front() {
                        self.users.remove(&cancelled.oid);
                        outcome.self_trade_cancels.push(cancelled);
                    }
                    continue;
                }
                let sz = left.min(maker.sz);
                maker.sz -= sz;
                left -= sz;
                outcome.executions.push(Execution {
                    maker_oid: maker.oid,
                    maker: maker.owner,
                    px,
                    sz,
                    maker_remaining: maker.sz,
                });
                if maker.sz.is_zero()
                    && let Some(done) = queue.pop_front()
                {
                    self.users.remove(&done.oid);
                }
            }
            if queue.is_empty() {
                level.remove();
            }
        }
        self.version += 1;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: u8) -> Owner {
        Owner::User(AccountId([n; 20]))
    }

    fn rest(book: &mut Book, oid: Oid, owner: Owner, is_buy: bool, px: i64, sz: i64) {
        book.insert(Resting {
            oid,
            owner,
            is_buy,
            px: Decimal::from(px),
            sz: Decimal::from(sz),
        });
    }

    #[test]
    fn price_then_time_priority_and_partial_fills() {
        let mut book = Book::default();
        rest(&mut book, 1, user(1), false, 101, 2);
        rest(&mut book, 2, user(2), false, 100, 1);
        rest(&mut book, 3, user(3), false, 100, 1);
        let outcome = book.take(Taker {
            owner: user(9),
            is_buy: true,
            limit_px: Decimal::from(101),
            sz: Decimal::from(3),
        });
        let order: Vec<_> = outcome
            .executions
            .iter()
            .map(|e| (e.maker_oid, e.px))
            .collect();
        assert_eq!(
            order,
            vec![
                (2, Decimal::from(100)),
                (3, Decimal::from(100)),
                (1, Decimal::from(101))
            ]
        );
        assert_eq!(outcome.executions[2].maker_remaining, Decimal::ONE);
        assert_eq!(book.best_ask(), Some(Decimal::from(101)));
        assert!(book.remove(2).is_none());
        assert!(book.remove(1).is_some());
        assert_eq!(book.best_ask(), None);
    }

    #[test]
    fn self_trades_expire_the_maker() {
        let mut book = Book::default();
        rest(&mut book, 1, user(1), true, 100, 1);
        rest(&mut book, 2, user(2), true, 100, 1);
        let outcome = book.take(Taker {
            owner: user(1),
            is_buy: false,
            limit_px: Decimal::from(100),
            sz: Decimal::ONE,
        });
        assert_eq!(outcome.self_trade_cancels.len(), 1);
        assert_eq!(outcome.executions[0].maker_oid, 2);
        assert!(book.levels(true, 20).is_empty());
    }
}
