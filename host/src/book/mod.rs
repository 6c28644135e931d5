//! L2 order books.
//!
//! One [`OrderBook`] per market, fed by [`plugin_api::BookUpdate`]s. Levels
//! live in two sorted `Vec`s (bids descending, asks ascending) that keep
//! their capacity: in the steady state an update allocates nothing.
//! The book applies what its plugin sends as it comes: the plugin keeps the
//! venue's sequence rules, sends a delta only when it continues the book,
//! and says when the book is stale ([`plugin_api::book_sync`]).

mod market_data;

pub use market_data::{BOOK_DEPTH, MarketData, MarketSink, Top, levels_from_json};

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
    /// Not in sync (its plugin saw a sequence gap or lost the stream);
    /// waiting for a snapshot.
    Stale(String),
}

/// A delta that cannot be applied: its book has no snapshot to apply it to
/// (a plugin that broke its contract, or one a stale book still receives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("delta {seq} for a book that is not in sync")]
pub struct NotInSync {
    /// The delta's update id.
    pub seq: u64,
}

/// An L2 order book.
#[derive(Debug, Clone)]
pub struct OrderBook {
    bids: Vec<BookLevel>,
    asks: Vec<BookLevel>,
    seq: u64,
    time_ms: u64,
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
            status: BookStatus::AwaitingSnapshot,
        }
    }

    /// Applies a plugin's snapshot or delta.
    pub fn apply(&mut self, update: &BookUpdate) -> Result<(), NotInSync> {
        let bids = update.bids.iter().map(BookLevel::from);
        let asks = update.asks.iter().map(BookLevel::from);
        if update.is_snapshot {
            self.apply_snapshot(bids, asks, update.seq, update.time_ms);
            Ok(())
        } else {
            self.apply_delta(bids, asks, update.seq, update.time_ms)
        }
    }

    /// Replaces the book and makes it trusted.
    pub fn apply_snapshot(
        &mut self,
        bids: impl IntoIterator<Item = BookLevel>,
        asks: impl IntoIterator<Item = BookLevel>,
        seq: u64,
        time_ms: u64,
    ) {
        fill_side(&mut self.bids, bids, BookSide::Bids);
        fill_side(&mut self.asks, asks, BookSide::Asks);
        self.seq = seq;
        self.time_ms = time_ms;
        self.status = BookStatus::Synced;
    }

    /// Sets, adds or (size zero) removes levels of a book in sync.
    pub fn apply_delta(
        &mut self,
        bids: impl IntoIterator<Item = BookLevel>,
        asks: impl IntoIterator<Item = BookLevel>,
        seq: u64,
        time_ms: u64,
    ) -> Result<(), NotInSync> {
        if self.status != BookStatus::Synced {
            return Err(NotInSync { seq });
        }
        for level in bids {
            upsert(&mut self.bids, level, BookSide::Bids);
        }
        for level in asks {
            upsert(&mut self.asks, level, BookSide::Asks);
        }
        self.seq = seq;
        self.time_ms = self.time_ms.max(time_ms);
        Ok(())
    }

    /// Marks the book stale (for example while its connection is down).
    pub fn mark_stale(&mut self, reason: impl Into<String>) {
        self.status = BookStatus::Stale(reason.into());
    }

    /// Whether the book can be trusted.
    pub fn status(&self) -> &BookStatus {
        &self.status
    }

    /// The venue's update id after the last update applied (zero when it
    /// has none).
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
