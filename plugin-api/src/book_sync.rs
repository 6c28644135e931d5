//! Book-sync rules a plugin composes (plain Rust inside the plugin, not part
//! of the ABI): the plugin owns each book's sequence state and hands the
//! host only updates it may apply as they come, plus a
//! [`Event::BookStale`] when a book can no longer be trusted.
//!
//! Two venue patterns, each fed the venue's messages and the time:
//!
//! * [`ResettingBook`] — a socket snapshot, then deltas whose update id
//!   grows by one per message; any snapshot replaces the book, including
//!   a reset to update id 1 after a venue restart (Bybit `orderbook.N`). A
//!   gap asks for one resubscription.
//! * [`BridgedBook`] — diffs on the socket, buffered until a REST snapshot
//!   with `lastUpdateId = L` is bridged by the first diff with
//!   `U <= L <= u`; every later diff must chain through its previous id
//!   (`pu`) (Binance USDⓈ-M diff depth). A gap asks for one snapshot
//!   fetch; a snapshot that cannot be bridged is fetched again after a
//!   growing delay.
//!
//! Venues whose every message is a full snapshot (Hyperliquid `l2Book`)
//! need neither: each message is a [`BookUpdate`] snapshot.

use std::collections::VecDeque;

use abi_stable::std_types::RString;

use crate::{BookUpdate, Event};

/// What the plugin must do to get a stale book back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// Unsubscribe and subscribe the book stream again (a fresh snapshot
    /// follows).
    Resubscribe,
    /// Fetch a snapshot (by REST) and pass it to
    /// [`BridgedBook::snapshot`], or its failure to
    /// [`BridgedBook::snapshot_failed`].
    FetchSnapshot,
}

/// What one message did to a book: the events for the host, in order, and
/// the repair the plugin must start (asked once per gap).
#[derive(Debug, Default, PartialEq)]
pub struct SyncStep {
    /// Book updates the host applies as they are, and staleness.
    pub events: Vec<Event>,
    /// A repair to start now, if any.
    pub repair: Option<Repair>,
}

impl SyncStep {
    fn stale(market: &RString, reason: String, repair: Option<Repair>) -> SyncStep {
        SyncStep {
            events: vec![Event::BookStale {
                market: market.clone(),
                reason: reason.into(),
            }],
            repair,
        }
    }
}

/// The update ids a venue puts on one diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffIds {
    /// The first update id in the diff (Binance `U`).
    pub first: u64,
    /// The last update id in the diff (Binance `u`).
    pub last: u64,
    /// The previous diff's last update id (Binance `pu`).
    pub prev: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resetting {
    /// Subscribed, no snapshot yet.
    Awaiting,
    /// In sync at this update id, as of this cross sequence.
    Live {
        /// The last update id applied.
        id: u64,
        /// The venue's cross sequence of the last message applied (zero:
        /// the venue gave none).
        cross: u64,
    },
    /// A gap was seen; a resubscription was asked for.
    Stale,
}

/// A book kept from a socket snapshot and deltas numbered one by one, where
/// any snapshot replaces the book (Bybit) — unless the venue's cross
/// sequence (Bybit `seq`: a smaller one was generated earlier, across
/// subscriptions) shows it older than what the book holds: a repeated or
/// late snapshot would put old levels under later deltas, so the book is
/// stale and subscribed anew, and a delta older than the book is ignored.
#[derive(Debug, Clone)]
pub struct ResettingBook {
    market: RString,
    state: Resetting,
}

impl ResettingBook {
    /// A book for `market`, awaiting its snapshot.
    pub fn new(market: impl Into<RString>) -> ResettingBook {
        ResettingBook {
            market: market.into(),
            state: Resetting::Awaiting,
        }
    }

    /// The cross sequence the book is at, while it is live and the venue
    /// gives one.
    fn cross(&self) -> Option<u64> {
        match self.state {
            Resetting::Live { cross, .. } if cross > 0 => Some(cross),
            _ => None,
        }
    }

    /// A snapshot (`update.seq` its update id, `cross` the venue's cross
    /// sequence, zero if none): it replaces the book, also when its update
    /// id is lower (a reset after a venue restart) — but a snapshot older
    /// than the live book (a lower cross sequence) makes it stale instead.
    pub fn snapshot(&mut self, mut update: BookUpdate, cross: u64) -> SyncStep {
        if let Some(book) = self.cross()
            && cross > 0
            && cross < book
        {
            self.state = Resetting::Stale;
            return SyncStep::stale(
                &self.market,
                format!("a snapshot older than the book: cross sequence {cross} < {book}"),
                Some(Repair::Resubscribe),
            );
        }
        update.is_snapshot = true;
        self.state = Resetting::Live {
            id: update.seq,
            cross,
        };
        SyncStep {
            events: vec![Event::Book(update)],
            repair: None,
        }
    }

    /// A delta (`update.seq` its update id, `cross` as for a snapshot):
    /// applied when it follows the book's id by one, ignored when not newer
    /// (or older than the book by its cross sequence), and a gap otherwise
    /// — also when its id is not past the book's but its cross sequence is:
    /// the venue numbered anew from a reset snapshot this book never saw,
    /// and its ids will pass the book's with the levels of the reset missing.
    pub fn delta(&mut self, mut update: BookUpdate, cross: u64) -> SyncStep {
        update.is_snapshot = false;
        if self.cross().is_some_and(|book| cross > 0 && cross < book) {
            return SyncStep::default();
        }
        match self.state {
            Resetting::Live { id, cross: book } if update.seq <= id && book > 0 && cross > book => {
                self.state = Resetting::Stale;
                SyncStep::stale(
                    &self.market,
                    format!(
                        "a delta numbered {} after {id}, yet newer (cross sequence {cross} > {book}): a reset was missed",
                        update.seq
                    ),
                    Some(Repair::Resubscribe),
                )
            }
            Resetting::Live { id, .. } if update.seq <= id => SyncStep::default(),
            Resetting::Live { id, .. } if update.seq == id + 1 => {
                self.state = Resetting::Live {
                    id: update.seq,
                    cross,
                };
                SyncStep {
                    events: vec![Event::Book(update)],
                    repair: None,
                }
            }
            Resetting::Live { id, .. } => {
                self.state = Resetting::Stale;
                SyncStep::stale(
                    &self.market,
                    format!("update id gap: book at {id}, delta {}", update.seq),
                    Some(Repair::Resubscribe),
                )
            }
            Resetting::Awaiting => {
                self.state = Resetting::Stale;
                SyncStep::stale(
                    &self.market,
                    format!("delta {} before any snapshot", update.seq),
                    Some(Repair::Resubscribe),
                )
            }
            // The resubscription is under way; its snapshot restores the
            // book.
            Resetting::Stale => SyncStep::default(),
        }
    }

    /// The stream is gone (its connection dropped, or it was
    /// unsubscribed): the book is stale until the next snapshot.
    pub fn lost(&mut self, reason: &str) -> SyncStep {
        let was_live = matches!(self.state, Resetting::Live { .. });
        self.state = Resetting::Awaiting;
        if was_live {
            SyncStep::stale(&self.market, reason.to_owned(), None)
        } else {
            SyncStep::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bridged {
    /// No usable snapshot: diffs are buffered.
    Awaiting,
    /// A snapshot at this `lastUpdateId` was applied; the next diff must
    /// bridge it.
    Bridging(u64),
    /// In sync at this update id.
    Live(u64),
}

/// The most diffs buffered while a snapshot is fetched; older ones are
/// dropped (the snapshot then cannot bridge, and is fetched again).
pub const MAX_BUFFERED_DIFFS: usize = 2_000;

/// The delay before the second fetch for one outage, ms; it doubles with
/// each further fetch, up to [`MAX_REFETCH_DELAY_MS`].
pub const REFETCH_DELAY_MS: u64 = 500;

/// The longest delay between two snapshot fetches, ms.
pub const MAX_REFETCH_DELAY_MS: u64 = 30_000;

/// A book kept from socket diffs bridged from a REST snapshot and chained
/// by each diff's previous id (Binance USDⓈ-M).
#[derive(Debug, Clone)]
pub struct BridgedBook {
    market: RString,
    state: Bridged,
    buffer: VecDeque<(BookUpdate, DiffIds)>,
    /// A fetch is out: no other is asked for until it ends.
    fetching: bool,
    /// Fetches since the book was last in sync.
    attempts: u32,
    /// When the next fetch is due, if it waits.
    retry_at: Option<u64>,
}

impl BridgedBook {
    /// A book for `market`, awaiting its first diff.
    pub fn new(market: impl Into<RString>) -> BridgedBook {
        BridgedBook {
            market: market.into(),
            state: Bridged::Awaiting,
            buffer: VecDeque::new(),
            fetching: false,
            attempts: 0,
            retry_at: None,
        }
    }

    /// One diff from the socket.
    pub fn diff(&mut self, mut update: BookUpdate, ids: DiffIds, now_ms: u64) -> SyncStep {
        update.is_snapshot = false;
        update.seq = ids.last;
        match self.state {
            Bridged::Live(seq) if ids.last <= seq => SyncStep::default(),
            Bridged::Bridging(snapshot) if ids.last < snapshot => SyncStep::default(),
            Bridged::Live(seq) if ids.prev == seq => {
                self.state = Bridged::Live(ids.last);
                SyncStep {
                    events: vec![Event::Book(update)],
                    repair: None,
                }
            }
            Bridged::Bridging(snapshot) if ids.first <= snapshot => {
                self.synced(ids.last);
                SyncStep {
                    events: vec![Event::Book(update)],
                    repair: None,
                }
            }
            Bridged::Live(seq) => {
                let reason = format!(
                    "update id gap: book at {seq}, diff {}..={} follows {}",
                    ids.first, ids.last, ids.prev
                );
                self.broken(reason, (update, ids), now_ms)
            }
            Bridged::Bridging(snapshot) => {
                let reason = format!(
                    "the snapshot at {snapshot} is older than the stream (diff {}..={})",
                    ids.first, ids.last
                );
                self.broken(reason, (update, ids), now_ms)
            }
            Bridged::Awaiting => {
                self.buffer((update, ids));
                SyncStep {
                    events: Vec::new(),
                    repair: self.fetch_now(now_ms),
                }
            }
        }
    }

    /// The snapshot a [`Repair::FetchSnapshot`] fetched (`update.seq` its
    /// `lastUpdateId`). Ignored unless a fetch is out.
    pub fn snapshot(&mut self, mut update: BookUpdate, now_ms: u64) -> SyncStep {
        if !self.fetching {
            return SyncStep::default();
        }
        self.fetching = false;
        let last = update.seq;
        while self.buffer.front().is_some_and(|(_, ids)| ids.last < last) {
            self.buffer.pop_front();
        }
        if self.buffer.front().is_some_and(|(_, ids)| ids.first > last) {
            // The stream has moved past the snapshot: fetch a newer one.
            return SyncStep {
                events: Vec::new(),
                repair: self.fetch_later(now_ms),
            };
        }
        update.is_snapshot = true;
        self.state = Bridged::Bridging(last);
        let mut step = SyncStep {
            events: vec![Event::Book(update)],
            repair: None,
        };
        while let Some((update, ids)) = self.buffer.pop_front() {
            let next = self.diff(update, ids, now_ms);
            step.events.extend(next.events);
            if next.repair.is_some() || self.state == Bridged::Awaiting {
                step.repair = next.repair;
                break;
            }
        }
        step
    }

    /// The snapshot fetch failed: another is asked for after a delay.
    pub fn snapshot_failed(&mut self, now_ms: u64) -> SyncStep {
        self.fetching = false;
        SyncStep {
            events: Vec::new(),
            repair: self.fetch_later(now_ms),
        }
    }

    /// The stream is gone (its connection dropped, or it was
    /// unsubscribed): the book is stale until bridged again. A fetch still
    /// out belongs to the old stream: the owner forgets it, and the next
    /// diff asks for a new one.
    pub fn lost(&mut self, reason: &str) -> SyncStep {
        let was_synced = self.state != Bridged::Awaiting;
        self.state = Bridged::Awaiting;
        self.buffer.clear();
        self.fetching = false;
        self.retry_at = None;
        // A new outage: its first fetch goes at once.
        self.attempts = 0;
        if was_synced {
            SyncStep::stale(&self.market, reason.to_owned(), None)
        } else {
            SyncStep::default()
        }
    }

    /// When a delayed fetch is due, ms.
    pub fn next_wakeup(&self) -> Option<u64> {
        self.retry_at
    }

    /// Time passed: starts a delayed fetch once it is due.
    pub fn on_timer(&mut self, now_ms: u64) -> SyncStep {
        match self.retry_at {
            Some(at) if at <= now_ms => {
                self.retry_at = None;
                self.fetching = true;
                SyncStep {
                    events: Vec::new(),
                    repair: Some(Repair::FetchSnapshot),
                }
            }
            _ => SyncStep::default(),
        }
    }

    fn synced(&mut self, seq: u64) {
        self.state = Bridged::Live(seq);
        self.attempts = 0;
    }

    /// A diff that does not continue the book: stale, kept at the front of
    /// the buffer (before any diffs still buffered behind it), repaired.
    fn broken(&mut self, reason: String, diff: (BookUpdate, DiffIds), now_ms: u64) -> SyncStep {
        self.state = Bridged::Awaiting;
        self.buffer.push_front(diff);
        let repair = self.fetch_now(now_ms);
        SyncStep::stale(&self.market, reason, repair)
    }

    fn buffer(&mut self, diff: (BookUpdate, DiffIds)) {
        if self.buffer.len() == MAX_BUFFERED_DIFFS {
            self.buffer.pop_front();
        }
        self.buffer.push_back(diff);
    }

    /// The first fetch of an outage goes at once; later ones wait.
    fn fetch_now(&mut self, now_ms: u64) -> Option<Repair> {
        if self.attempts == 0 {
            if self.fetching {
                return None;
            }
            self.attempts = 1;
            self.fetching = true;
            return Some(Repair::FetchSnapshot);
        }
        self.fetch_later(now_ms)
    }

    /// Schedules the next fetch after a delay that doubles with each
    /// attempt, unless one is out or already scheduled.
    fn fetch_later(&mut self, now_ms: u64) -> Option<Repair> {
        if self.fetching || self.retry_at.is_some() {
            return None;
        }
        let doublings = self.attempts.saturating_sub(1).min(16);
        let delay = (REFETCH_DELAY_MS << doublings).min(MAX_REFETCH_DELAY_MS);
        self.attempts = self.attempts.saturating_add(1);
        self.retry_at = Some(now_ms.saturating_add(delay));
        None
    }
}

#[cfg(test)]
mod tests;
