//! Normalized events: what a plugin makes of exchange frames and replies.

use abi_stable::StableAbi;
use abi_stable::std_types::{ROption, RString, RVec};

use crate::{Dec, Market, Side};

/// One price level of an order book.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq)]
pub struct Level {
    /// The price.
    pub price: Dec,
    /// The total size at this price; zero deletes the level in a delta.
    pub size: Dec,
    /// How many orders make up the level; zero when the venue does not say.
    pub orders: u32,
}

/// A full book or a change to one, for the host to apply as it is.
///
/// The plugin keeps the venue's sequence rules (see
/// [`book_sync`](crate::book_sync)): it sends a delta only when it
/// continues the book, and a [`Event::BookStale`] when the book can no
/// longer be trusted; the next snapshot makes it trusted again.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct BookUpdate {
    /// The venue symbol.
    pub market: RString,
    /// True for a full snapshot, false for a delta.
    pub is_snapshot: bool,
    /// Bids, best first; in a delta, a size of zero deletes the level.
    pub bids: RVec<Level>,
    /// Asks, best first.
    pub asks: RVec<Level>,
    /// The venue's update id after this update; zero when it has none.
    pub seq: u64,
    /// Exchange time, ms.
    pub time_ms: u64,
}

/// A public trade.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Trade {
    /// The venue symbol.
    pub market: RString,
    /// The trade price.
    pub price: Dec,
    /// The trade size.
    pub size: Dec,
    /// The aggressor's side.
    pub taker_side: Side,
    /// The venue's trade id.
    pub trade_id: RString,
    /// Exchange time, ms.
    pub time_ms: u64,
}

/// Best bid and offer.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Bbo {
    /// The venue symbol.
    pub market: RString,
    /// The best bid, if any.
    pub bid: ROption<Level>,
    /// The best ask, if any.
    pub ask: ROption<Level>,
    /// Exchange time, ms.
    pub time_ms: u64,
}

/// Funding and reference prices of a derivative.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Funding {
    /// The venue symbol.
    pub market: RString,
    /// The current funding rate per interval.
    pub rate: Dec,
    /// The mark price.
    pub mark_price: Dec,
    /// The oracle or index price.
    pub oracle_price: Dec,
    /// When the next funding happens, ms; zero when unknown.
    pub next_funding_ms: u64,
    /// Open interest in base units; zero when unknown.
    pub open_interest: Dec,
    /// Time of this information, ms (host time when the venue gives none).
    pub time_ms: u64,
}

crate::abi_code! {
    /// An order's state as the exchange reports it.
    VenueOrderStatus {
        /// Resting on the book.
        OPEN = 1 => "open",
        /// Partly filled and still resting.
        PARTIALLY_FILLED = 2 => "partially_filled",
        /// Completely filled.
        FILLED = 3 => "filled",
        /// Cancelled (by the user, the venue, a reduce-only rule, a schedule…).
        CANCELLED = 4 => "cancelled",
        /// Rejected: it never rested.
        REJECTED = 5 => "rejected",
        /// Expired (IOC/FOK remainder, GTD).
        EXPIRED = 6 => "expired",
        /// A trigger order whose trigger fired.
        TRIGGERED = 7 => "triggered",
        /// A trigger order waiting for its trigger.
        UNTRIGGERED = 8 => "untriggered",
    }
}

/// A change of an order's state on the exchange.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct OrderUpdate {
    /// The client order id as the venue echoes it, if any.
    pub client_id: ROption<RString>,
    /// The exchange's order id.
    pub exchange_order_id: RString,
    /// The venue symbol.
    pub market: RString,
    /// The normalized status.
    pub status: VenueOrderStatus,
    /// The venue's own status word (for diagnostics).
    pub raw_status: RString,
    /// Side.
    pub side: Side,
    /// Limit price.
    pub price: Dec,
    /// Original size.
    pub size: Dec,
    /// Size still open.
    pub remaining: Dec,
    /// Why it was rejected or cancelled, if the venue says.
    pub reason: RString,
    /// True when this comes from a snapshot (REST refill), not a live change.
    pub snapshot: bool,
    /// Exchange time, ms.
    pub time_ms: u64,
}

/// One execution of one of the account's orders.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Fill {
    /// The venue's unique id of this fill (deduplication key).
    pub trade_id: RString,
    /// The client order id, if the venue echoes it.
    pub client_id: ROption<RString>,
    /// The exchange's order id.
    pub exchange_order_id: RString,
    /// The venue symbol.
    pub market: RString,
    /// The order's side.
    pub side: Side,
    /// Execution price.
    pub price: Dec,
    /// Executed size.
    pub size: Dec,
    /// Fee paid (negative for a rebate).
    pub fee: Dec,
    /// The asset the fee is paid in.
    pub fee_asset: RString,
    /// True when the order provided liquidity.
    pub is_maker: bool,
    /// True when this comes from a snapshot (REST refill or replay).
    pub snapshot: bool,
    /// Exchange time, ms.
    pub time_ms: u64,
}

/// An asset balance.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Balance {
    /// The asset.
    pub asset: RString,
    /// Total balance (equity for margin accounts).
    pub total: Dec,
    /// What can be used for new orders or withdrawn.
    pub available: Dec,
    /// Exchange time, ms.
    pub time_ms: u64,
}

/// A derivative position.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Position {
    /// The venue symbol.
    pub market: RString,
    /// Signed size: positive long, negative short.
    pub size: Dec,
    /// Average entry price.
    pub entry_price: Dec,
    /// Unrealized profit and loss.
    pub unrealized_pnl: Dec,
    /// Leverage in use; zero when unknown.
    pub leverage: u32,
    /// Liquidation price, if any.
    pub liquidation_price: ROption<Dec>,
}

/// A set of positions.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Positions {
    /// The positions.
    pub positions: RVec<Position>,
    /// True when this is every open position of the account: a position the
    /// host holds that is absent here is closed (Hyperliquid omits closed
    /// positions instead of sending zero).
    pub complete: bool,
    /// Exchange time, ms.
    pub time_ms: u64,
}

/// Everything a plugin can report. New variants are added at the end in
/// minor ABI versions; a host that meets one it does not know ignores it.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
#[sabi(kind(WithNonExhaustive(size = [u64; 32], traits(Debug, Clone, PartialEq))))]
#[non_exhaustive]
pub enum Event {
    /// A book snapshot or delta.
    Book(BookUpdate),
    /// A public trade.
    Trade(Trade),
    /// Best bid and offer.
    Bbo(Bbo),
    /// Funding, mark and oracle prices.
    Funding(Funding),
    /// An order changed state.
    Order(OrderUpdate),
    /// An execution of one of our orders.
    Fill(Fill),
    /// A balance.
    Balance(Balance),
    /// Positions.
    Positions(Positions),
    /// The markets the venue lists.
    Markets(RVec<Market>),
    /// A subscription was confirmed; the text names it.
    Subscribed(RString),
    /// The venue answered a keep-alive ping.
    Pong,
    /// Something the venue said that the host should log (error frames,
    /// notifications). `fatal` asks the host to reconnect.
    Notice {
        /// The text.
        text: RString,
        /// The connection should be dropped and re-established.
        fatal: bool,
    },
    /// What is left of one of the manifest's rate-limit buckets as the
    /// venue counts it (Hyperliquid `userRateLimit`; Binance's and Bybit's
    /// order-count and limit-status headers). The host sets its bucket to
    /// it.
    RateLimit(RateLimitState),
    /// A book can no longer be trusted (a sequence gap, its stream lost);
    /// the plugin repairs it, and its next snapshot makes it trusted again.
    BookStale {
        /// The venue symbol.
        market: RString,
        /// Why, in words.
        reason: RString,
    },
}

/// One rate-limit bucket as the venue counts it.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct RateLimitState {
    /// The manifest bucket's id.
    pub bucket: RString,
    /// Units that may still be spent now.
    pub remaining: u64,
    /// Units the venue allows in all (spent and unspent).
    pub capacity: u64,
}
