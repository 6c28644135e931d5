//! Operations: what the host asks a session to do, and the requests it
//! has the host sign and send for them.

use abi_stable::StableAbi;
use abi_stable::std_types::{ROption, RString, RVec, Tuple2};

use crate::{Market, ModifyRequest, OrderRef, OrderRequest};

/// Something the host wants done or fetched: a job's operation
/// ([`begin`](crate::ExchangeSession::begin)), finished with a
/// [`Reply`](crate::Reply).
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
#[sabi(kind(WithNonExhaustive(size = [u64; 48], traits(Debug, Clone, PartialEq))))]
#[non_exhaustive]
pub enum Operation {
    /// Place one or more orders in one request.
    PlaceOrders(RVec<OrderRequest>),
    /// Cancel one or more orders.
    CancelOrders(RVec<OrderRef>),
    /// Modify one or more orders.
    ModifyOrders(RVec<ModifyRequest>),
    /// Arm the venue's dead man's switch: every open order is cancelled at
    /// the given time (ms) unless it is armed again before; `None` disarms
    /// it. The plugin maps it to its venue's switch (see
    /// [`DeadManSwitch`](crate::DeadManSwitch)), with as many requests as
    /// that takes.
    ArmDeadManSwitch(ROption<u64>),
    /// Set a market's leverage and margin mode, with as many requests as
    /// the venue takes (a venue that keeps one margin mode for the whole
    /// account — Bybit's unified account — sets the account's).
    SetLeverage {
        /// The market.
        market: Market,
        /// The leverage.
        leverage: u32,
        /// Cross margin (true) or isolated (false).
        cross: bool,
    },
    /// List the venue's markets. `cursor` is empty for the first page; a
    /// reply names the next page in [`Reply::next`].
    FetchMarkets {
        /// Which page.
        cursor: RString,
    },
    /// Every open order of the account.
    FetchOpenOrders,
    /// One order's state, by client order id.
    FetchOrder(OrderRef),
    /// The account's fills since a time (ms).
    FetchFills {
        /// Start time, ms, inclusive.
        since_ms: u64,
    },
    /// Balances and positions.
    FetchAccount,
    /// What is left of the account's rate limits as the venue counts them
    /// (Hyperliquid `userRateLimit`), answered with
    /// [`Event::RateLimit`](crate::Event::RateLimit) events.
    FetchRateLimits,
    /// Place an entry and its exits in one request, as the venue groups
    /// them (only where the manifest says
    /// [`attached_exits`](crate::Manifest::attached_exits)): the first order
    /// is the entry, the others its take-profit and stop-loss — reduce-only
    /// trigger orders on the other side, each with its own client id. The
    /// reply has one item per order, in order; an exit the venue holds
    /// until the entry fills is accepted without an exchange id, and its
    /// later life is reported under its client id.
    PlaceWithExits(RVec<OrderRequest>),
}

/// What the host knows when it begins a job.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct RequestContext {
    /// The host's clock, ms since the Unix epoch.
    pub now_ms: u64,
    /// A nonce from the host's per-signer source: never repeated, also across
    /// restarts. Venues that sign with a timestamp use `now_ms` instead.
    pub nonce: u64,
    /// The latest time (ms) the venue may act on the request, for actions
    /// (none for reads). The plugin writes it as its venue bounds an
    /// action's validity (Hyperliquid `expiresAfter`; a receive window on
    /// Binance and Bybit); the host settles an unknown outcome only after
    /// it has passed.
    pub valid_until_ms: ROption<u64>,
    /// Send it over the session's order-entry socket while that is up,
    /// rather than HTTP (the host's `order_transport = "websocket"`).
    pub prefer_socket: bool,
}

/// A request for a signature, handed to the signer as is.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct SignRequest {
    /// The signing scheme, e.g. `hyperliquid-l1` or `hmac-sha256`.
    pub scheme: RString,
    /// The scheme's fields as one JSON object, for example
    /// `{"action": …, "nonce": …, "vault_address": null, "expires_after": …,
    /// "network": "mainnet"}`. The signer recomputes what it signs from these.
    pub payload: RString,
}

/// An HTTP request, ready to send.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Request {
    /// HTTP method (`POST`, `GET`, …).
    pub method: RString,
    /// The absolute URL.
    pub url: RString,
    /// HTTP headers.
    pub headers: RVec<Tuple2<RString, RString>>,
    /// The body.
    pub body: RString,
    /// Costs against the manifest's rate-limit buckets: (bucket id, weight),
    /// unless a [`Sign`](crate::Output::Sign) of its job paid them.
    pub costs: RVec<Tuple2<RString, u32>>,
}

/// A response to a request.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The response body.
    pub body: RString,
    /// Response headers that may matter (rate-limit usage, retry-after).
    pub headers: RVec<Tuple2<RString, RString>>,
}
