//! Connections: which WebSockets a session has the host open, and the
//! streams the host asks for.

use abi_stable::StableAbi;
use abi_stable::std_types::{ROption, RString};

crate::abi_code! {
    /// What a connection carries.
    ConnectionKind {
        /// Public market data.
        MARKET = 1 => "market",
        /// The account's private stream (orders, fills, balances).
        USER = 2 => "user",
        /// Order entry over a socket.
        TRADING = 3 => "trading",
    }
}

/// A WebSocket the host should keep open.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct ConnectionSpec {
    /// A name unique within the plugin instance, e.g. `market` or `user`.
    pub id: RString,
    /// What it carries.
    pub kind: ConnectionKind,
    /// The URL.
    pub url: RString,
    /// A text frame to send as an application-level ping, if the venue wants
    /// one.
    pub ping_frame: ROption<RString>,
    /// How often to ping, ms (when `ping_frame` is set).
    pub ping_interval_ms: u64,
    /// A connection silent for longer than this (ms) is dead and replaced.
    pub idle_timeout_ms: u64,
    /// Replace the connection before it reaches this age (ms), if the venue
    /// cuts connections after a fixed time (Binance: 24 h).
    pub max_lifetime_ms: ROption<u64>,
}

crate::abi_code! {
    /// A kind of data stream.
    StreamKind {
        /// The L2 order book.
        BOOK = 1 => "book",
        /// Public trades.
        TRADES = 2 => "trades",
        /// Best bid and offer.
        BBO = 3 => "bbo",
        /// Funding, mark and oracle prices.
        FUNDING = 4 => "funding",
        /// The account's order updates.
        ORDERS = 5 => "orders",
        /// The account's fills.
        FILLS = 6 => "fills",
        /// The account's other events (funding payments, liquidations,
        /// balance changes).
        ACCOUNT = 7 => "account",
    }
}

/// One stream to subscribe to.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Stream {
    /// What kind of data.
    pub kind: StreamKind,
    /// The venue symbol; empty for account streams.
    pub market: RString,
}
