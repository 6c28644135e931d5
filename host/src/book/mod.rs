//! L2 order books.
//!
//! One [`OrderBook`] per market, fed by [`plugin_api::BookUpdate`]s. Levels
//! live in two sorted `Vec`s (bids descending, asks ascending) that keep
//! their capacity: in the steady state an update allocates nothing.
//! Sequence numbers are checked on every delta; a gap marks the book stale
//! and is returned as an error, never swallowed.

use plugin_api::{BookUpdate, Level};
use rust_decimal::Decimal;

/// One price level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookLevel {
    /// Price.
    pub price: Decimal,
    /// Total size.
    pub size: Decimal,
    /// Number of orders (zero when the venue does not say).
    pub orders: u32,
}

impl From<&Level> for BookLevel {
    fn from(level: &Level) -> BookLevel {
        BookLevel {
            price: level.price.to_decimal(),
            size: level.size.to_decimal(),
            orders: level.orders,
        }
    }
}

/// Whether the book can be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookStatus {
    /// No snapshot yet.
    AwaitingSnapshot,
    /// In sync with the exchange.
    Synced,
    /// Not in sync (a sequence gap, a lost connection); waiting for a
    /// snapshot.
    Stale(String),
}

/// A sequence gap or an update that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// A delta arrived before any snapshot.
    #[error("delta {first}..={last} before any snapshot")]
    NoSnapshot {
        /// Its first sequence number.
        first: u64,
        /// Its last sequence number.
        last: u64,
    },
    /// A delta does not continue the book's sequence.
    #[error("sequence gap: book at {book_seq}, delta covers {first}..={last} (previous {prev:?})")]
    Gap {
        /// The book's sequence.
        book_seq: u64,
        /// The delta's first sequence number.
        first: u64,
        /// Its last sequence number.
        last: u64,
        /// Its previous-sequence field, if any.
        prev: Option<u64>,
    },
}

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The book changed.
    Updated,
    /// The update was older than the book (a duplicate or a reordered
    /// message) and was ignored.
    Outdated,
}

/// An L2 order book.
#[derive(Debug, Clone)]
pub struct OrderBook {
    bids: Vec<BookLevel>,
    asks: Vec<BookLevel>,
    seq: u64,
    time_ms: u64,
    bridged: bool,
    status: BookStatus,
}

impl Default for OrderBook {
    fn default() -> Self {
        OrderBook::new()
    }
}

#[derive(Clone, Copy)]
enum BookSide {
    Bids,
    Asks,
}

impl BookSide {
    /// True when `a` ranks before `b` on this side.
    fn ranks_before(self, a: Decimal, b: Decimal) -> bool {
        match self {
            BookSide::Bids => a > b,
            BookSide::Asks => a < b,
        }
    }

    fn search(self, levels: &[BookLevel], price: Decimal) -> Result<usize, usize> {
        match self {
            BookSide::Bids => levels.binary_search_by(|level| price.cmp(&level.price)),
            BookSide::Asks => levels.binary_search_by(|level| level.price.cmp(&price)),
        }
    }
}

impl OrderBook {
    /// An empty book awaiting its snapshot.
    pub fn new() -> OrderBook {
        OrderBook {
            bids: Vec::with_capacity(64),
            asks: Vec::with_capacity(64),
            seq: 0,
            time_ms: 0,
            bridged: false,
            status: BookStatus::AwaitingSnapshot,
        }
    }

    /// Applies a plugin's snapshot or delta.
    pub fn apply(&mut self, update: &BookUpdate) -> Result<Applied, BookError> {
        let bids = update.bids.iter().map(BookLevel::from);
        let asks = update.asks.iter().map(BookLevel::from);
        if update.is_snapshot {
            Ok(self.apply_snapshot(bids, asks, update.last_seq, update.time_ms))
        } else {
            self.apply_delta(
                bids,
                asks,
                update.first_seq,
                update.last_seq,
                update.prev_seq.into_option(),
                update.time_ms,
            )
        }
    }

    /// Replaces the book. A snapshot older than the book (by sequence, or
    /// by time for venues without sequences) is ignored.
    pub fn apply_snapshot(
        &mut self,
        bids: impl IntoIterator<Item = BookLevel>,
        asks: impl IntoIterator<Item = BookLevel>,
        seq: u64,
        time_ms: u64,
    ) -> Applied {
        if self.status == BookStatus::Synced {
            let older = if seq != 0 || self.seq != 0 {
                seq < self.seq
            } else {
                time_ms < self.time_ms
            };
            if older {
                return Applied::Outdated;
            }
        }
        fill_side(&mut self.bids, bids, BookSide::Bids);
        fill_side(&mut self.asks, asks, BookSide::Asks);
        self.seq = seq;
        self.time_ms = time_ms;
        self.bridged = false;
        self.status = BookStatus::Synced;
        Applied::Updated
    }

    /// Applies a delta after checking that it continues the sequence.
    pub fn apply_delta(
        &mut self,
        bids: impl IntoIterator<Item = BookLevel>,
        asks: impl IntoIterator<Item = BookLevel>,
        first_seq: u64,
        last_seq: u64,
        prev_seq: Option<u64>,
        time_ms: u64,
    ) -> Result<Applied, BookError> {
        if self.status != BookStatus::Synced {
            return Err(BookError::NoSnapshot {
                first: first_seq,
                last: last_seq,
            });
        }
        if last_seq <= self.seq {
            return Ok(Applied::Outdated);
        }
        let continues = if !self.bridged {
            first_seq <= self.seq + 1
        } else {
            match prev_seq {
                Some(prev) => prev == self.seq,
                None => first_seq == self.seq + 1,
            }
        };
        if !continues {
            let error = BookError::Gap {
                book_seq: self.seq,
                first: first_seq,
                last: last_seq,
                prev: prev_seq,
            };
            self.status = BookStatus::Stale(error.to_string());
            return Err(error);
        }
        for level in bids {
            upsert(&mut self.bids, level, BookSide::Bids);
        }
        for level in asks {
            upsert(&mut self.asks, level, BookSide::Asks);
        }
        self.seq = last_seq;
        self.time_ms = self.time_ms.max(time_ms);
        self.bridged = true;
        Ok(Applied::Updated)
    }

    /// Marks the book stale (for example while its connection is down).
    pub fn mark_stale(&mut self, reason: impl Into<String>) {
        self.status = BookStatus::Stale(reason.into());
    }

    /// Whether the book can be trusted.
    pub fn status(&self) -> &BookStatus {
        &self.status
    }

    /// The sequence number of the last update applied.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Exchange time of the last update, ms.
    pub fn time_ms(&self) -> u64 {
        self.time_ms
    }

    /// The best bid.
    pub fn best_bid(&self) -> Option<BookLevel> {
        self.bids.first().copied()
    }

    /// The best ask.
    pub fn best_ask(&self) -> Option<BookLevel> {
        self.asks.first().copied()
    }

    /// The mid price, when both sides have a level (and their sum is
    /// within the decimal range: the prices come from outside).
    pub fn mid(&self) -> Option<Decimal> {
        let sum = self.best_bid()?.price.checked_add(self.best_ask()?.price)?;
        Some(sum / Decimal::TWO)
    }

    /// Best ask minus best bid.
    pub fn spread(&self) -> Option<Decimal> {
        Some(self.best_ask()?.price - self.best_bid()?.price)
    }

    /// Up to `levels` levels per side, best first.
    pub fn depth(&self, levels: usize) -> (&[BookLevel], &[BookLevel]) {
        (
            &self.bids[..levels.min(self.bids.len())],
            &self.asks[..levels.min(self.asks.len())],
        )
    }

    /// True when the best bid is at or above the best ask (a transient state
    /// some venues show between messages).
    pub fn is_crossed(&self) -> bool {
        matches!((self.best_bid(), self.best_ask()), (Some(bid), Some(ask)) if bid.price >= ask.price)
    }
}

/// Refills one side from a snapshot: drops empty levels, sorts best first,
/// keeps the last of duplicate prices. Reuses the side's capacity.
fn fill_side(
    side: &mut Vec<BookLevel>,
    levels: impl IntoIterator<Item = BookLevel>,
    which: BookSide,
) {
    side.clear();
    side.extend(
        levels
            .into_iter()
            .filter(|level| level.size > Decimal::ZERO),
    );
    let sorted = side
        .windows(2)
        .all(|pair| which.ranks_before(pair[0].price, pair[1].price));
    if !sorted {
        // Stable, so that of two equal prices the later one ends up last.
        side.sort_by(|a, b| match which {
            BookSide::Bids => b.price.cmp(&a.price),
            BookSide::Asks => a.price.cmp(&b.price),
        });
        let mut write = 0;
        for read in 0..side.len() {
            if write > 0 && side[write - 1].price == side[read].price {
                side[write - 1] = side[read];
            } else {
                side[write] = side[read];
                write += 1;
            }
        }
        side.truncate(write);
    }
}

/// Sets, adds or (size zero) removes one level.
fn upsert(side: &mut Vec<BookLevel>, level: BookLevel, which: BookSide) {
    match which.search(side, level.price) {
        Ok(index) if level.size <= Decimal::ZERO => {
            side.remove(index);
        }
        Ok(index) => side[index] = level,
        Err(_) if level.size <= Decimal::ZERO => {}
        Err(index) => side.insert(index, level),
    }
}

#[cfg(test)]
mod tests;
